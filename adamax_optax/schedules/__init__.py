"""Learning-rate schedules whose every value is the framework's own, and their engine.

* :class:`ExactSchedule`: host-computed values looked up by the update count inside the
  compiled step (:mod:`adamax_optax.schedules._exact`).
* The scheduler engine (:mod:`adamax_optax.schedules._replay`): a framework scheduler's
  ``step()`` replayed per parameter group in the framework's :class:`Numbers`
  (:data:`DOUBLE` or :data:`FLOAT32`) and tabulated; the PyTorch family of algorithms
  (:mod:`adamax_optax.schedules._pytorch_family`) is written once on it.
* Metric-driven schedulers (:mod:`adamax_optax.schedules._plateau`): :func:`on_plateau`,
  :class:`PlateauState` (:func:`plateau_counters`), :class:`PlateauScheduler` and
  :func:`reduction_levels`.

How the wings use them, and what they cost: :doc:`/schedules`.
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
  float32_metric,
  greater_than_double,
  less_than_double,
  metric_value,
  on_plateau,
  plateau_counters,
  reduction_levels,
)
from adamax_optax.schedules._replay import (
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
  "float32_metric",
  "greater_than_double",
  "is_exact",
  "less_than_double",
  "metric_value",
  "on_plateau",
  "plateau_counters",
  "reduction_levels",
  "replay",
  "tabulate",
]
