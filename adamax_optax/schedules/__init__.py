"""Learning-rate schedules whose every value is the framework's own, and their engine.

* :class:`ExactSchedule`: host-computed values looked up by the update count inside the
  compiled step (:mod:`adamax_optax.schedules._exact`).
* The scheduler engine (:mod:`adamax_optax.schedules._replay`): a framework scheduler's
  ``step()`` protocol replayed per parameter group in the framework's :class:`Numbers`
  (:data:`DOUBLE` or :data:`FLOAT32`) and tabulated.
* The PyTorch family of algorithms, written once
  (:mod:`adamax_optax.schedules._pytorch_family`), which the PyTorch and MindSpore wings
  declare with their frameworks' signatures.
* Metric-driven schedulers (:mod:`adamax_optax.schedules._plateau`): :func:`on_plateau`
  with its :class:`PlateauState`, :class:`PlateauScheduler` (PyTorch's
  ``ReduceLROnPlateau`` rule, which the wings declare), and :func:`reduction_levels`, a
  plateau scheduler's table of rates.
"""

from adamax_optax.schedules._exact import (
  DEFAULT_HORIZON,
  DoubleConstant,
  ExactSchedule,
  exact_table,
  is_exact,
  tabulate,
)
from adamax_optax.schedules._plateau import (
  PlateauScheduler,
  PlateauState,
  greater_than_double,
  less_than_double,
  metric_value,
  on_plateau,
  reduction_levels,
)
from adamax_optax.schedules._replay import (
  COMPILED_STEPS,
  DOUBLE,
  FLOAT32,
  Chained,
  Group,
  Numbers,
  PastTheEnd,
  Run,
  Scheduler,
  Sequential,
  Together,
  replay,
)

__all__ = [
  "COMPILED_STEPS",
  "DEFAULT_HORIZON",
  "DOUBLE",
  "FLOAT32",
  "Chained",
  "DoubleConstant",
  "ExactSchedule",
  "Group",
  "Numbers",
  "PastTheEnd",
  "PlateauScheduler",
  "PlateauState",
  "Run",
  "Scheduler",
  "Sequential",
  "Together",
  "exact_table",
  "greater_than_double",
  "is_exact",
  "less_than_double",
  "metric_value",
  "on_plateau",
  "reduction_levels",
  "replay",
  "tabulate",
]
