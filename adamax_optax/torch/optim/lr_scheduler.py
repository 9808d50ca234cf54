"""``torch.optim.lr_scheduler``'s schedulers, value for value.

Each class takes PyTorch's keywords (without the optimizer) and replays PyTorch's
``scheduler.step()`` in Python doubles for every parameter group, so that under
``jax.jit`` each update uses the very double PyTorch would have used. Attach one as
PyTorch does::

    opt = torch_adamax(lr=0.01, lr_scheduler=StepLR(step_size=30, gamma=0.1))

Counting, horizons, plateau metrics, cycled ``betas[0]`` and resuming: the
:doc:`PyTorch porting guide </porting/pytorch>` and :doc:`/schedules`.
"""

import dataclasses
from collections.abc import Callable, Sequence

from adamax_optax._preset import learning_rates
from adamax_optax.schedules import (
  DEFAULT_HORIZON,
  Chained,
  PlateauScheduler,
  Scheduler,
  Sequential,
)
from adamax_optax.schedules import _pytorch_family as family
from adamax_optax.validation import check_horizon, check_int

# --- The public classes ---------------------------------------------------------------


@dataclasses.dataclass(kw_only=True, eq=False)
class LRScheduler(Scheduler):
  """Base of the schedulers: the keywords every one takes besides PyTorch's own.

  Attributes:
    last_epoch: PyTorch's, default -1. ``last_epoch=k`` is a scheduler rebuilt on an
      optimizer loaded from a run saved after its scheduler's step to epoch ``k + 1``
      (the resume ``Scheduler(opt, ..., last_epoch=start_epoch - 1)`` without the
      scheduler's state): the table holds the uncut run up to epoch ``k``, then what
      PyTorch's rebuilt scheduler gives from its constructor's step on (``StepLR``
      decays again at a boundary; ``CosineAnnealingLR`` keeps the loaded lr). Resume
      with ``load_state(..., step=(k + 1) * lr_scheduler_every)``.
    lr: the starting rate when used alone as an optax schedule (the preset passes each
      group's own).
    horizon: updates tabulated, default 1,000,000; past it a rate that still changes is
      NaN (:doc:`/schedules`, "Past the end of a table").
  """

  last_epoch: int = -1
  lr: float | None = None
  horizon: int = DEFAULT_HORIZON
  standalone_checks_groups = True  # (as PyTorch checks a list against its one group)

  def rebuilt_after(self) -> int | None:
    return self.last_epoch if self.last_epoch >= 0 else None

  def standalone_lr(self) -> float:
    if self.lr is None:
      raise ValueError(
        f"{type(self).__name__} scales a learning rate: pass it to torch_adamax(lr=..., "
        f"lr_scheduler=...), or give lr= to use it as a standalone optax schedule."
      )
    return self.lr

  def __post_init__(self):
    if self.lr is not None and (not isinstance(self.lr, (int, float)) or self.lr < 0):
      raise ValueError(f"lr must be a number >= 0, got {self.lr!r}.")
    check_int("last_epoch", self.last_epoch, -1, type(self).__name__)
    check_horizon(self.horizon)


# LambdaLR ------------------------------------------------------------------------------


@dataclasses.dataclass(kw_only=True, eq=False)
class LambdaLR(LRScheduler, family.LambdaLR):
  """``lr = initial_lr * lr_lambda(epoch)`` (``torch.optim.lr_scheduler.LambdaLR``).

  ``lr_lambda`` is a function of the epoch, or a list with one per group.

  Example:
    >>> from adamax_optax.torch.optim.lr_scheduler import LambdaLR
    >>> schedule = LambdaLR(lr_lambda=lambda epoch: 0.5**epoch, lr=0.1, horizon=8)
    >>> print(schedule(0), schedule(2))
    0.1 0.025
  """

  lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]]


@dataclasses.dataclass(kw_only=True, eq=False)
class MultiplicativeLR(LRScheduler, family.MultiplicativeLR):
  """``lr = lr * lr_lambda(epoch)`` from epoch 1 on (``MultiplicativeLR``), recursively.

  Example:
    >>> from adamax_optax.torch.optim.lr_scheduler import MultiplicativeLR
    >>> schedule = MultiplicativeLR(lr_lambda=lambda epoch: 0.5, lr=0.1, horizon=8)
    >>> print(schedule(0), schedule(2))
    0.1 0.025
  """

  keeps_lr_when_rebuilt = True  # (PyTorch's initial mode)

  lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]]


# Step decays ---------------------------------------------------------------------------


@dataclasses.dataclass(kw_only=True, eq=False)
class StepLR(LRScheduler, family.StepLR):
  """``lr *= gamma`` every ``step_size`` epochs (``torch.optim.lr_scheduler.StepLR``).

  Defaults: ``gamma=0.1``. Recursive in doubles, as PyTorch steps it.

  Example:
    >>> from adamax_optax.torch.optim.lr_scheduler import StepLR
    >>> schedule = StepLR(step_size=2, gamma=0.5, lr=1.0, horizon=8)
    >>> print([float(schedule(n)) for n in range(5)])
    [1.0, 1.0, 0.5, 0.5, 0.25]
  """

  step_size: int
  gamma: float = 0.1

  def __post_init__(self):
    super().__post_init__()
    check_int("step_size", self.step_size, 1, "StepLR")


@dataclasses.dataclass(kw_only=True, eq=False)
class MultiStepLR(LRScheduler, family.MultiStepLR):
  """``lr *= gamma ** k`` at an epoch listed ``k`` times in ``milestones`` (``MultiStepLR``).

  Example:
    >>> from adamax_optax.torch.optim.lr_scheduler import MultiStepLR
    >>> schedule = MultiStepLR(milestones=[1, 3], gamma=0.5, lr=1.0, horizon=8)
    >>> print([float(schedule(n)) for n in range(5)])
    [1.0, 0.5, 0.5, 0.25, 0.25]
  """

  milestones: Sequence[int]
  gamma: float = 0.1

  def __post_init__(self):
    super().__post_init__()
    object.__setattr__(self, "milestones", tuple(self.milestones))
    for milestone in self.milestones:
      check_int("milestones[i]", milestone, 0, "MultiStepLR")


@dataclasses.dataclass(kw_only=True, eq=False)
class ConstantLR(LRScheduler, family.ConstantLR):
  """``lr * factor`` until epoch ``total_iters``, then back (``ConstantLR``).

  Defaults: ``factor=1/3``, ``total_iters=5``. The way back is ``lr * (1 / factor)``,
  which does not always give the initial value to the last bit.

  Example:
    >>> from adamax_optax.torch.optim.lr_scheduler import ConstantLR
    >>> schedule = ConstantLR(factor=0.5, total_iters=2, lr=1.0, horizon=8)
    >>> print([float(schedule(n)) for n in range(4)])
    [0.5, 0.5, 1.0, 1.0]
  """

  factor: float = 1.0 / 3
  total_iters: int = 5

  def __post_init__(self):
    super().__post_init__()
    if not 0 <= self.factor <= 1:
      raise ValueError(
        f"Constant multiplicative factor expected to be between 0 and 1, got {self.factor!r}."
      )
    check_int("total_iters", self.total_iters, 0, "ConstantLR")


@dataclasses.dataclass(kw_only=True, eq=False)
class LinearLR(LRScheduler, family.LinearLR):
  """From ``start_factor * lr`` to ``end_factor * lr`` over ``total_iters`` (``LinearLR``).

  Defaults: ``start_factor=1/3``, ``end_factor=1.0``, ``total_iters=5``; recursive.

  Example:
    >>> from adamax_optax.torch.optim.lr_scheduler import LinearLR
    >>> schedule = LinearLR(start_factor=0.5, total_iters=2, lr=1.0, horizon=8)
    >>> print([float(schedule(n)) for n in range(4)])
    [0.5, 0.75, 1.0, 1.0]
  """

  keeps_lr_when_rebuilt = True  # (PyTorch's initial mode)

  start_factor: float = 1.0 / 3
  end_factor: float = 1.0
  total_iters: int = 5

  def __post_init__(self):
    super().__post_init__()
    if not 0 < self.start_factor <= 1:
      raise ValueError(
        "Starting multiplicative factor expected to be greater than 0 and less or equal "
        f"to 1, got {self.start_factor!r}."
      )
    if not 0 <= self.end_factor <= 1:
      raise ValueError(
        f"Ending multiplicative factor expected to be between 0 and 1, got {self.end_factor!r}."
      )
    check_int("total_iters", self.total_iters, 0, "LinearLR")


@dataclasses.dataclass(kw_only=True, eq=False)
class ExponentialLR(LRScheduler, family.ExponentialLR):
  """``lr *= gamma`` every epoch (``torch.optim.lr_scheduler.ExponentialLR``), recursively.

  Example:
    >>> from adamax_optax.torch.optim.lr_scheduler import ExponentialLR
    >>> schedule = ExponentialLR(gamma=0.5, lr=1.0, horizon=8)
    >>> print([float(schedule(n)) for n in range(3)])
    [1.0, 0.5, 0.25]
  """

  keeps_lr_when_rebuilt = True  # (PyTorch's initial mode)

  gamma: float


@dataclasses.dataclass(kw_only=True, eq=False)
class PolynomialLR(LRScheduler, family.PolynomialLR):
  """``lr * (1 - epoch / total_iters) ** power``, reached recursively (``PolynomialLR``).

  Defaults: ``total_iters=5``, ``power=1.0``; 0 from ``total_iters`` on.

  Example:
    >>> from adamax_optax.torch.optim.lr_scheduler import PolynomialLR
    >>> schedule = PolynomialLR(total_iters=4, power=1.0, lr=1.0, horizon=8)
    >>> print([float(schedule(n)) for n in range(5)])
    [1.0, 0.75, 0.5, 0.25, 0.0]
  """

  keeps_lr_when_rebuilt = True  # (PyTorch's initial mode)

  total_iters: int = 5
  power: float = 1.0

  def __post_init__(self):
    super().__post_init__()
    check_int("total_iters", self.total_iters, 1, "PolynomialLR")


# Cosine --------------------------------------------------------------------------------


@dataclasses.dataclass(kw_only=True, eq=False)
class CosineAnnealingLR(LRScheduler, family.CosineAnnealingLR):
  """Cosine from ``lr`` to ``eta_min`` over ``T_max`` epochs (``CosineAnnealingLR``).

  PyTorch's recursive form: ``lr_e = (1 + cos(pi e / T)) / (1 + cos(pi (e-1) / T)) *
  (lr_{e-1} - eta_min) + eta_min``, with a restart step at ``e = T + 1 (mod 2T)``; past
  ``T_max`` it rises again (period ``2 T_max``). Default ``eta_min=0``.

  Example:
    >>> from adamax_optax.torch.optim.lr_scheduler import CosineAnnealingLR
    >>> schedule = CosineAnnealingLR(T_max=2, lr=1.0, horizon=8)
    >>> print([round(float(schedule(n)), 6) for n in range(4)])
    [1.0, 0.5, 0.0, 0.5]
  """

  keeps_lr_when_rebuilt = True  # (PyTorch's initial mode)

  T_max: int
  eta_min: float = 0.0

  def __post_init__(self):
    super().__post_init__()
    check_int("T_max", self.T_max, 1, "CosineAnnealingLR")


@dataclasses.dataclass(kw_only=True, eq=False)
class CosineAnnealingWarmRestarts(LRScheduler, family.CosineAnnealingWarmRestarts):
  """Cosine over ``T_0`` epochs, restarting with periods times ``T_mult``.

  ``lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2``
  (``CosineAnnealingWarmRestarts``). Defaults: ``T_mult=1``, ``eta_min=0``.

  Example:
    >>> from adamax_optax.torch.optim.lr_scheduler import CosineAnnealingWarmRestarts
    >>> schedule = CosineAnnealingWarmRestarts(T_0=2, lr=1.0, horizon=8)
    >>> print([round(float(schedule(n)), 6) for n in range(4)])
    [1.0, 0.5, 1.0, 0.5]
  """

  restarts_by_remainder = True

  T_0: int
  T_mult: int = 1
  eta_min: float = 0.0

  def __post_init__(self):
    super().__post_init__()
    check_int("T_0", self.T_0, 1, "CosineAnnealingWarmRestarts")
    check_int("T_mult", self.T_mult, 1, "CosineAnnealingWarmRestarts")


# Cycles ------------------------------------------------------------------------------


@dataclasses.dataclass(kw_only=True, eq=False)
class CyclicLR(LRScheduler, family.CyclicLR):
  """Cyclical learning rate between ``base_lr`` and ``max_lr`` (``CyclicLR``).

  Defaults: ``step_size_up=2000``, ``step_size_down=None`` (= up), ``mode="triangular"``
  (or ``"triangular2"``, ``"exp_range"`` with ``gamma``), ``scale_mode`` per mode,
  ``cycle_momentum=True`` (``betas[0]`` from ``max_momentum`` down to ``base_momentum``
  as the rate rises). ``base_lr`` replaces the groups' learning rates, as in PyTorch.

  Example:
    >>> from adamax_optax.torch.optim.lr_scheduler import CyclicLR
    >>> schedule = CyclicLR(base_lr=0.1, max_lr=0.3, step_size_up=2, cycle_momentum=False,
    ...                     horizon=8)
    >>> print([round(float(schedule(n)), 6) for n in range(5)])
    [0.1, 0.2, 0.3, 0.2, 0.1]
  """

  base_lr: float | Sequence[float]
  max_lr: float | Sequence[float]
  step_size_up: int = 2000
  step_size_down: int | None = None
  mode: str = "triangular"
  gamma: float = 1.0
  scale_fn: Callable[[float], float] | None = None
  scale_mode: str = "cycle"
  cycle_momentum: bool = True
  base_momentum: float = 0.8
  max_momentum: float = 0.9

  def __post_init__(self):
    super().__post_init__()
    check_int("step_size_up", self.step_size_up, 1, "CyclicLR")
    if self.step_size_down is not None:
      check_int("step_size_down", self.step_size_down, 1, "CyclicLR")
    if self.mode not in ("triangular", "triangular2", "exp_range") and self.scale_fn is None:
      raise ValueError("mode is invalid and scale_fn is None")

  def standalone_lr(self) -> float:
    return 0.0 if self.lr is None else self.lr  # base_lr sets the rate


@dataclasses.dataclass(kw_only=True, eq=False)
class OneCycleLR(LRScheduler, family.OneCycleLR):
  """The 1cycle policy (``torch.optim.lr_scheduler.OneCycleLR``).

  From ``max_lr / div_factor`` up to ``max_lr`` over ``pct_start`` of ``total_steps``,
  then down to ``max_lr / (div_factor * final_div_factor)`` (``three_phase`` comes back
  to the start first), annealed by ``"cos"`` or ``"linear"``. Give ``total_steps`` or
  ``epochs`` and ``steps_per_epoch``. ``max_lr`` replaces the groups' learning rates.

  Example:
    >>> from adamax_optax.torch.optim.lr_scheduler import OneCycleLR
    >>> schedule = OneCycleLR(max_lr=1.0, total_steps=5, anneal_strategy="linear",
    ...                       div_factor=10.0, final_div_factor=1.0, pct_start=0.4,
    ...                       cycle_momentum=False, horizon=8)
    >>> print([round(float(schedule(n)), 6) for n in range(5)])
    [0.1, 1.0, 0.7, 0.4, 0.1]
  """

  max_lr: float | Sequence[float]
  total_steps: int | None = None
  epochs: int | None = None
  steps_per_epoch: int | None = None
  pct_start: float = 0.3
  anneal_strategy: str = "cos"
  cycle_momentum: bool = True
  base_momentum: float = 0.85
  max_momentum: float = 0.95
  div_factor: float = 25.0
  final_div_factor: float = 1e4
  three_phase: bool = False

  def __post_init__(self):
    super().__post_init__()
    if self.total_steps is None:
      if self.epochs is None or self.steps_per_epoch is None:
        raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
      check_int("epochs", self.epochs, 1, "OneCycleLR")
      check_int("steps_per_epoch", self.steps_per_epoch, 1, "OneCycleLR")
    else:
      check_int("total_steps", self.total_steps, 1, "OneCycleLR")
    if not 0 <= self.pct_start <= 1:
      raise ValueError(f"Expected float between 0 and 1 pct_start, but got {self.pct_start}")
    if self.anneal_strategy not in ("cos", "linear"):
      raise ValueError(
        f"anneal_strategy must be one of 'cos' or 'linear', instead got {self.anneal_strategy}"
      )

  def standalone_lr(self) -> float:
    return 0.0 if self.lr is None else self.lr  # max_lr sets the rate


# Composition ---------------------------------------------------------------------------


@dataclasses.dataclass(kw_only=True, eq=False)
class SequentialLR(LRScheduler, Sequential):
  """``schedulers[i]`` from ``milestones[i - 1]`` on (``SequentialLR``).

  At a milestone the next scheduler restarts at epoch 0 (its closed form, where it has
  one), as PyTorch's does.

  Example:
    >>> from adamax_optax.torch.optim.lr_scheduler import ConstantLR, ExponentialLR, SequentialLR
    >>> schedule = SequentialLR(
    ...   schedulers=[ConstantLR(factor=0.5, total_iters=2), ExponentialLR(gamma=0.5)],
    ...   milestones=[2], lr=1.0, horizon=8)
    >>> print([float(schedule(n)) for n in range(5)])
    [0.5, 0.5, 1.0, 0.5, 0.25]
  """

  schedulers: Sequence[LRScheduler]
  milestones: Sequence[int]

  def __post_init__(self):
    super().__post_init__()
    object.__setattr__(self, "schedulers", tuple(self.schedulers))
    object.__setattr__(self, "milestones", tuple(self.milestones))
    _refuse_rebuild(self)
    if len(self.schedulers) < 1 or len(self.milestones) != len(self.schedulers) - 1:
      raise ValueError(
        "Sequential Schedulers expects number of schedulers provided to be one more than "
        f"the number of milestone points, but got number of schedulers "
        f"{len(self.schedulers)} and the number of milestones to be equal to "
        f"{len(self.milestones)}"
      )


@dataclasses.dataclass(kw_only=True, eq=False)
class ChainedScheduler(LRScheduler, Chained):
  """Every scheduler of ``schedulers`` stepped in turn (``ChainedScheduler``).

  Example:
    >>> from adamax_optax.torch.optim.lr_scheduler import (
    ...   ChainedScheduler, ExponentialLR, StepLR)
    >>> schedule = ChainedScheduler(
    ...   schedulers=[ExponentialLR(gamma=0.5), StepLR(step_size=2, gamma=0.1)], lr=1.0, horizon=8)
    >>> print([round(float(schedule(n)), 6) for n in range(4)])
    [1.0, 0.5, 0.025, 0.0125]
  """

  schedulers: Sequence[LRScheduler]

  def __post_init__(self):
    super().__post_init__()
    object.__setattr__(self, "schedulers", tuple(self.schedulers))
    if not self.schedulers:
      raise ValueError("ChainedScheduler expects at least one scheduler")
    _refuse_rebuild(self)


def _refuse_rebuild(composite: LRScheduler) -> None:
  """A composite's ``last_epoch``: only -1 (rebuilding one is not modelled)."""
  if composite.last_epoch != -1:
    raise ValueError(
      f"{type(composite).__name__}: last_epoch={composite.last_epoch} (rebuilding it on a "
      "loaded optimizer) is not supported; resume it from its saved state instead "
      "(from_torch_checkpoint_file reads the file's scheduler entry)."
    )


@dataclasses.dataclass(kw_only=True, eq=False)
class ReduceLROnPlateau(PlateauScheduler):
  """Lower every group's rate by ``factor`` when a metric stops improving (``ReduceLROnPlateau``).

  At each ``scheduler.step(metric)``, in doubles: the metric is better when
  ``metric < best * (1 - threshold)`` (``mode="min"``, ``threshold_mode="rel"``; ``"abs"``:
  ``best - threshold``; ``"max"`` mirrors both); after more than ``patience`` bad steps
  each rate becomes ``max(lr * factor, min_lr)`` (kept when it moves by more than ``eps``)
  and ``cooldown`` steps follow, in which bad steps do not count. Defaults:
  ``mode="min"``, ``factor=0.1``, ``patience=10``, ``threshold=1e-4``,
  ``threshold_mode="rel"``, ``cooldown=0``, ``min_lr=0``, ``eps=1e-8``,
  ``max_reductions=10_000`` (reductions tabulated). The metric goes to every update:
  ``opt.update(grads, state, params, value=metric)``.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax import torch_adamax
    >>> from adamax_optax.torch.optim.lr_scheduler import ReduceLROnPlateau
    >>> opt = torch_adamax(lr=0.1, lr_scheduler=ReduceLROnPlateau(factor=0.5, patience=0))
    >>> w = jnp.ones(1)
    >>> state = opt.init(w)
    >>> for loss in [1.0, 1.0, 1.0]:  # no improvement after the first
    ...   updates, state = opt.update(jnp.ones(1), state, w, value=loss)
    >>> print(state.reductions)
    1
  """

  def __post_init__(self):
    if self.factor >= 1.0:
      raise ValueError("Factor should be < 1.0.")
    if self.mode not in ("min", "max"):
      raise ValueError(f"mode {self.mode} is unknown!")
    if self.threshold_mode not in ("rel", "abs"):
      raise ValueError(f"threshold mode {self.threshold_mode} is unknown!")
    check_int("patience", self.patience, 0, "ReduceLROnPlateau")
    check_int("cooldown", self.cooldown, 0, "ReduceLROnPlateau")
    check_int("max_reductions", self.max_reductions, 1, "ReduceLROnPlateau")


def get_last_lr(optimizer, opt_state) -> list[float]:
  """Each group's ``group["lr"]`` after the last step, as ``scheduler.get_last_lr()``.

  The exact doubles (Python floats), in ``param_groups`` order, read on the host from the
  concrete ``opt_state`` of ``optimizer``. With several schedulers or a plateau
  scheduler: :doc:`/schedules`, "The current rate".

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.torch.optim import Adamax
    >>> from adamax_optax.torch.optim.lr_scheduler import StepLR, get_last_lr
    >>> opt = Adamax({"w": jnp.ones(2)}, lr=0.1, lr_scheduler=StepLR(step_size=2, gamma=0.5))
    >>> params = {"w": jnp.ones(2)}
    >>> state = opt.init(params)
    >>> for _ in range(2):
    ...   updates, state = opt.update(params, state, params)
    >>> get_last_lr(opt, state)
    [0.05]
  """
  return learning_rates(optimizer, opt_state)


__all__ = [
  "ChainedScheduler",
  "ConstantLR",
  "CosineAnnealingLR",
  "CosineAnnealingWarmRestarts",
  "CyclicLR",
  "ExponentialLR",
  "LRScheduler",
  "LambdaLR",
  "LinearLR",
  "MultiStepLR",
  "MultiplicativeLR",
  "OneCycleLR",
  "PolynomialLR",
  "ReduceLROnPlateau",
  "SequentialLR",
  "StepLR",
  "get_last_lr",
]
