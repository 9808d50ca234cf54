"""``mindspore.experimental.optim.lr_scheduler``'s mirror (MindSpore 2.10), bit for bit.

Each class takes MindSpore's arguments (without the optimizer) and replays its
``scheduler.step()`` per parameter group in MindSpore's float32 arithmetic, op by op.
Attach one as MindSpore does, to every group of the optimizer::

  opt = mindspore_adamax(lr=0.02, param_groups=[...], lr_scheduler=StepLR(step_size=41))

Besides ``last_epoch`` (-1 only) every class takes two keyword-only arguments:
``initial_lr``, the group's rate when used alone as an optax schedule, and ``horizon``
(default 1,000,000), the updates tabulated. Counting, float32 recursion, horizons and
the plateau metric: the :doc:`MindSpore porting guide </porting/mindspore>` and
:doc:`/schedules`.
"""

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from adamax_optax import _double_float as df
from adamax_optax._float32 import F32
from adamax_optax._preset import learning_rates
from adamax_optax.mindspore._checks import check_float, check_int
from adamax_optax.schedules import (
  DEFAULT_HORIZON,
  FLOAT32,
  PlateauScheduler,
  Scheduler,
  Sequential,
  float32_metric,
)
from adamax_optax.schedules import _pytorch_family as family
from adamax_optax.validation import check_horizon


class LRScheduler(Scheduler):
  """Base class: a MindSpore scheduler, replayed per group in float32 and tabulated.

  The algorithms are PyTorch's (:mod:`adamax_optax.schedules._pytorch_family`) in
  MindSpore's float32 numbers (:data:`adamax_optax.schedules.FLOAT32`); a class here
  declares MindSpore's signature and checks, and overrides only what MindSpore's port
  computes otherwise.
  """

  numbers = FLOAT32

  def __init__(
    self, last_epoch: int = -1, *, initial_lr: float | None = None, horizon: int = DEFAULT_HORIZON
  ):
    name = type(self).__name__
    if isinstance(last_epoch, bool) or not isinstance(last_epoch, int):
      raise TypeError(f"For '{name}', the 'last_epoch' must be int, but got {last_epoch!r}.")
    if last_epoch != -1:
      raise ValueError(
        f"{name}: only last_epoch=-1 is supported (resuming a scheduler: restore the "
        f"optimizer state, whose count continues the schedule), got {last_epoch}."
      )
    if initial_lr is not None:
      check_float(name, "initial_lr", initial_lr, 0.0, ints=True)
    self.last_epoch, self.initial_lr = last_epoch, initial_lr
    self.horizon = check_horizon(horizon, name)

  def standalone_lr(self) -> float:
    if self.initial_lr is None:
      raise ValueError(
        f"{type(self).__name__}: pass initial_lr=... to use it as an optax schedule on its "
        "own, or attach it with mindspore_adamax(..., lr_scheduler=...)."
      )
    return self.initial_lr


class StepLR(LRScheduler, family.StepLR):
  """MindSpore's ``StepLR``: every ``step_size`` epochs, ``lr = f32(lr * f32(gamma))``.

  Args:
    step_size: int >= 1, epochs between decays.
    gamma: float, the factor, default 0.1.

  Example:
    >>> from adamax_optax.mindspore.experimental.optim.lr_scheduler import StepLR
    >>> sched = StepLR(step_size=2, gamma=0.5, initial_lr=0.1, horizon=8)
    >>> [round(float(sched(n)), 4) for n in range(6)]
    [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]

  References:
    MindSpore 2.10 ``mindspore.experimental.optim.lr_scheduler.StepLR``.
  """

  def __init__(
    self,
    step_size: int,
    gamma: float = 0.1,
    last_epoch: int = -1,
    *,
    initial_lr: float | None = None,
    horizon: int = DEFAULT_HORIZON,
  ):
    check_int("StepLR", "step_size", step_size, 1)
    check_float("StepLR", "gamma", gamma)
    self.step_size, self.gamma = int(step_size), float(gamma)
    super().__init__(last_epoch, initial_lr=initial_lr, horizon=horizon)


class ExponentialLR(LRScheduler, family.ExponentialLR):
  """MindSpore's ``ExponentialLR``: ``lr = f32(lr * f32(gamma))`` at every epoch > 0.

  The float32 recursion decays through subnormal values to 0 (kept in the table).

  Args:
    gamma: float, the factor per epoch.

  Example:
    >>> from adamax_optax.mindspore.experimental.optim.lr_scheduler import ExponentialLR
    >>> sched = ExponentialLR(gamma=0.5, initial_lr=1.0, horizon=4)
    >>> [float(sched(n)) for n in range(4)]
    [1.0, 0.5, 0.25, 0.125]

  References:
    MindSpore 2.10 ``mindspore.experimental.optim.lr_scheduler.ExponentialLR``.
  """

  def __init__(
    self,
    gamma: float,
    last_epoch: int = -1,
    *,
    initial_lr: float | None = None,
    horizon: int = DEFAULT_HORIZON,
  ):
    check_float("ExponentialLR", "gamma", gamma)
    self.gamma = float(gamma)
    super().__init__(last_epoch, initial_lr=initial_lr, horizon=horizon)


class MultiStepLR(LRScheduler, family.MultiStepLR):
  """MindSpore's ``MultiStepLR``: at a milestone listed ``c`` times, ``lr * f32(gamma**c)``.

  ``gamma ** c`` is a Python double (a duplicated milestone applies ``gamma**2`` at once).

  Args:
    milestones: list of int epochs.
    gamma: float or int, default 0.1.

  Example:
    >>> from adamax_optax.mindspore.experimental.optim.lr_scheduler import MultiStepLR
    >>> sched = MultiStepLR(milestones=[2, 4, 4], gamma=0.5, initial_lr=1.0, horizon=6)
    >>> [float(sched(n)) for n in range(6)]
    [1.0, 1.0, 0.5, 0.5, 0.125, 0.125]

  References:
    MindSpore 2.10 ``mindspore.experimental.optim.lr_scheduler.MultiStepLR``.
  """

  def __init__(
    self,
    milestones: list[int],
    gamma: float = 0.1,
    last_epoch: int = -1,
    *,
    initial_lr: float | None = None,
    horizon: int = DEFAULT_HORIZON,
  ):
    if not isinstance(milestones, list):
      raise TypeError(
        f"For 'MultiStepLR', the 'milestones' must be list, but got {type(milestones).__name__}."
      )
    for m in milestones:
      if isinstance(m, bool) or not isinstance(m, int):
        raise TypeError(
          "For 'MultiStepLR', elements of the 'milestones' must be type of int, but got one "
          f"element of 'milestones' type: {type(m).__name__}."
        )
    check_float("MultiStepLR", "gamma", gamma, ints=True)
    self.milestones, self.gamma = list(milestones), gamma
    super().__init__(last_epoch, initial_lr=initial_lr, horizon=horizon)

  def closed_form(self, run):
    # MindSpore 2.10's closed form reads a missing attribute; at epoch 0 it is the base.
    return run.base


class LinearLR(LRScheduler, family.LinearLR):
  """MindSpore's ``LinearLR``: the factor goes linearly from ``start_factor`` to ``end_factor``.

  Recursive float32, with ``d = f32(end_factor - start_factor)``: epoch 0,
  ``lr * start_factor``; epoch ``1 <= e <= total_iters``,
  ``lr * f32(1 + d * f32(1 / f32(f32(total_iters * start_factor) + f32(e - 1) * d)))``;
  later epochs keep the lr.

  Args:
    start_factor: float in (0, 1], default 1/3.
    end_factor: float in [0, 1], default 1.
    total_iters: int, default 5.

  Example:
    >>> from adamax_optax.mindspore.experimental.optim.lr_scheduler import LinearLR
    >>> sched = LinearLR(start_factor=0.5, total_iters=2, initial_lr=1.0, horizon=4)
    >>> [float(sched(n)) for n in range(4)]
    [0.5, 0.75, 1.0, 1.0]

  References:
    MindSpore 2.10 ``mindspore.experimental.optim.lr_scheduler.LinearLR``.
  """

  def __init__(
    self,
    start_factor: float = 1.0 / 3,
    end_factor: float = 1.0,
    total_iters: int = 5,
    last_epoch: int = -1,
    *,
    initial_lr: float | None = None,
    horizon: int = DEFAULT_HORIZON,
  ):
    check_float("LinearLR", "start_factor", start_factor, ints=True)
    check_float("LinearLR", "end_factor", end_factor, 0.0, 1.0, ints=True)
    if not 0 < start_factor <= 1:
      raise ValueError(
        "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."
      )
    check_int("LinearLR", "total_iters", total_iters, 0)
    self.start_factor, self.end_factor = float(start_factor), float(end_factor)
    self.total_iters = int(total_iters)
    super().__init__(last_epoch, initial_lr=initial_lr, horizon=horizon)

  def closed_form(self, run):  # (used at epoch 0 only, where it takes no division)
    return run.base * self.start_factor


class ConstantLR(LRScheduler, family.ConstantLR):
  """MindSpore's ``ConstantLR``: ``lr * factor`` until ``total_iters``, then ``/ factor``.

  Args:
    factor: float in [0, 1], default 1/3.
    total_iters: int, default 5.

  Example:
    >>> from adamax_optax.mindspore.experimental.optim.lr_scheduler import ConstantLR
    >>> sched = ConstantLR(factor=0.5, total_iters=2, initial_lr=1.0, horizon=4)
    >>> [float(sched(n)) for n in range(4)]
    [0.5, 0.5, 1.0, 1.0]

  References:
    MindSpore 2.10 ``mindspore.experimental.optim.lr_scheduler.ConstantLR``.
  """

  def __init__(
    self,
    factor: float = 1.0 / 3,
    total_iters: int = 5,
    last_epoch: int = -1,
    *,
    initial_lr: float | None = None,
    horizon: int = DEFAULT_HORIZON,
  ):
    check_float("ConstantLR", "factor", factor, ints=True)
    if not 0 <= factor <= 1:
      raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
    check_int("ConstantLR", "total_iters", total_iters, 0)
    self.factor, self.total_iters = float(factor), int(total_iters)
    super().__init__(last_epoch, initial_lr=initial_lr, horizon=horizon)

  def undo_factor(self, lr):
    return lr / self.factor

  def closed_form(self, run):  # (used at epoch 0 only)
    if self.total_iters > 0:
      return run.base * self.factor
    return run.base * (F32(self.factor) + F32(1.0 - self.factor))


class PolynomialLR(LRScheduler, family.PolynomialLR):
  """MindSpore's ``PolynomialLR``: recursive ``lr * powf((1 - e/T) / (1 - (e-1)/T), power)``.

  For ``0 < e <= total_iters`` (each quotient and difference in float32, glibc ``powf``);
  frozen after ``total_iters``.

  Args:
    total_iters: int, default 5.
    power: float >= 0, default 1.0.

  Example:
    >>> from adamax_optax.mindspore.experimental.optim.lr_scheduler import PolynomialLR
    >>> sched = PolynomialLR(total_iters=4, power=1.0, initial_lr=1.0, horizon=6)
    >>> [float(sched(n)) for n in range(6)]
    [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]

  References:
    MindSpore 2.10 ``mindspore.experimental.optim.lr_scheduler.PolynomialLR``.
  """

  def __init__(
    self,
    total_iters: int = 5,
    power: float = 1.0,
    last_epoch: int = -1,
    *,
    initial_lr: float | None = None,
    horizon: int = DEFAULT_HORIZON,
  ):
    check_float("PolynomialLR", "power", power, 0.0)
    check_int("PolynomialLR", "total_iters", total_iters, 1)
    self.total_iters, self.power = int(total_iters), float(power)
    super().__init__(last_epoch, initial_lr=initial_lr, horizon=horizon)


class CosineAnnealingLR(LRScheduler, family.CosineAnnealingLR):
  r"""MindSpore's ``CosineAnnealingLR``: the recursive float32 cosine, past ``T_max`` too.

  Epoch 0 keeps the lr. At ``(e - 1 - T_max) % (2 T_max) == 0``:
  ``lr + (base - eta_min) (1 - cos(pi / T_max)) / 2``; otherwise
  ``(1 + cos(pi e / T_max)) / (1 + cos(pi (e - 1) / T_max)) (lr - eta_min) + eta_min``
  (float32 op by op; after ``T_max`` the lr rises and falls again).

  Args:
    T_max: int >= 1, half period in epochs.
    eta_min: float or int, the floor, default 0.0.

  Example:
    >>> from adamax_optax.mindspore.experimental.optim.lr_scheduler import CosineAnnealingLR
    >>> sched = CosineAnnealingLR(T_max=2, initial_lr=1.0, horizon=5)
    >>> [round(float(sched(n)), 4) for n in range(5)]
    [1.0, 0.5, 0.0, 0.5, 1.0]

  References:
    MindSpore 2.10 ``mindspore.experimental.optim.lr_scheduler.CosineAnnealingLR``.
  """

  def __init__(
    self,
    T_max: int,
    eta_min: float = 0.0,
    last_epoch: int = -1,
    *,
    initial_lr: float | None = None,
    horizon: int = DEFAULT_HORIZON,
  ):
    check_float("CosineAnnealingLR", "eta_min", eta_min, ints=True)
    check_int("CosineAnnealingLR", "T_max", T_max, 1)
    self.T_max, self.eta_min = int(T_max), eta_min
    super().__init__(last_epoch, initial_lr=initial_lr, horizon=horizon)


class CosineAnnealingWarmRestarts(LRScheduler, family.CosineAnnealingWarmRestarts):
  r"""MindSpore's ``CosineAnnealingWarmRestarts``: closed form on float32 ``T_cur``, ``T_i``.

  ``T_cur += 1`` each epoch; when ``T_cur >= T_i``: ``T_cur -= T_i`` and
  ``T_i *= T_mult``; ``lr = eta_min + (base - eta_min) (1 + cos(pi T_cur / T_i)) / 2``.

  Args:
    T_0: int >= 1, the first period.
    T_mult: int >= 1, default 1.
    eta_min: float or int, default 0.

  Example:
    >>> from adamax_optax.mindspore.experimental.optim.lr_scheduler import (
    ...   CosineAnnealingWarmRestarts)
    >>> sched = CosineAnnealingWarmRestarts(T_0=2, initial_lr=1.0, horizon=5)
    >>> [round(float(sched(n)), 4) for n in range(5)]
    [1.0, 0.5, 1.0, 0.5, 1.0]

  References:
    MindSpore 2.10 ``mindspore.experimental.optim.lr_scheduler.CosineAnnealingWarmRestarts``.
  """

  def __init__(
    self,
    T_0: int,
    T_mult: int = 1,
    eta_min: float = 0,
    last_epoch: int = -1,
    *,
    initial_lr: float | None = None,
    horizon: int = DEFAULT_HORIZON,
  ):
    name = "CosineAnnealingWarmRestarts"
    if isinstance(T_0, bool) or not isinstance(T_0, int) or T_0 <= 0:
      raise ValueError(f"T_0 should be an integer and equal or greater than 0, but got {T_0}")
    if isinstance(T_mult, bool) or not isinstance(T_mult, int) or T_mult < 1:
      raise ValueError(f"T_mult should be an integer and equal or greater than 1, but got {T_mult}")
    check_float(name, "eta_min", eta_min, ints=True)
    self.T_0, self.T_mult, self.eta_min = T_0, T_mult, eta_min
    super().__init__(last_epoch, initial_lr=initial_lr, horizon=horizon)


class CyclicLR(LRScheduler, family.CyclicLR):
  r"""MindSpore's ``CyclicLR`` (closed form, float32): triangular, triangular2, exp_range.

  With ``total = step_size_up + step_size_down`` and ``r = step_size_up / total`` (doubles),
  at epoch ``e`` (float32): ``cycle = floor(1 + e / total)``, ``x = 1 + e / total - cycle``,
  ``sf = x / r`` if ``x <= r`` else ``(x - 1) / (r - 1)``, and
  ``lr = base_lr + (max_lr - base_lr) * sf * scale``, ``scale`` 1,
  ``1 / powf(2, cycle - 1)`` or ``powf(gamma, e)`` (or ``scale_fn`` of a float32 value,
  the cycle or the epoch by ``scale_mode``). The group lrs are replaced by ``base_lr``.

  Args:
    base_lr: float or list (one per group).
    max_lr: float or list (one per group).
    step_size_up: default 2000.
    step_size_down: default ``step_size_up``.
    mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
    gamma: exp_range's base, default 1.0.
    scale_fn: optional callable of a float32 value (see
      :class:`adamax_optax._float32.Tensor32`), replacing the mode's.
    scale_mode: ``"cycle"`` or ``"iterations"`` (with ``scale_fn``).

  Example:
    >>> from adamax_optax.mindspore.experimental.optim.lr_scheduler import CyclicLR
    >>> sched = CyclicLR(base_lr=0.1, max_lr=1.0, step_size_up=2, horizon=6)
    >>> [round(float(sched(n)), 4) for n in range(6)]
    [0.1, 0.55, 1.0, 0.55, 0.1, 0.55]

  References:
    MindSpore 2.10 ``mindspore.experimental.optim.lr_scheduler.CyclicLR``.
  """

  per_group = ("base_lr", "max_lr")

  def __init__(
    self,
    base_lr: float | list[float],
    max_lr: float | list[float],
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
    scale_fn: Callable | None = None,
    scale_mode: str = "cycle",
    last_epoch: int = -1,
    *,
    initial_lr: float | None = None,
    horizon: int = DEFAULT_HORIZON,
  ):
    for name, v in (("base_lr", base_lr), ("max_lr", max_lr)):
      for item in v if isinstance(v, (list, tuple)) else [v]:
        check_float("CyclicLR", name, item, 0.0, ints=True)
    self.base_lr = list(base_lr) if isinstance(base_lr, (list, tuple)) else base_lr
    self.max_lr = list(max_lr) if isinstance(max_lr, (list, tuple)) else max_lr
    check_float("CyclicLR", "step_size_up", step_size_up, 0.0, ints=True)
    if step_size_down is not None:
      check_float("CyclicLR", "step_size_down", step_size_down, 0.0, ints=True)
    up = float(step_size_up)
    down = up if step_size_down is None else float(step_size_down)
    if up + down <= 0:
      raise ValueError("CyclicLR: step_size_up + step_size_down must be > 0.")
    self.step_size_up, self.step_size_down = up, down
    if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
      raise ValueError("mode is invalid and scale_fn is None")
    if scale_fn is not None and not callable(scale_fn):
      raise TypeError(f"CyclicLR: scale_fn must be callable, got {scale_fn!r}.")
    if scale_mode not in ("cycle", "iterations"):
      raise ValueError(f"CyclicLR: scale_mode must be 'cycle' or 'iterations', got {scale_mode!r}.")
    check_float("CyclicLR", "gamma", gamma, ints=True)
    self.mode, self.gamma, self.scale_fn = mode, gamma, scale_fn
    if scale_fn is None:
      scale_mode = "iterations" if mode == "exp_range" else "cycle"
    self.scale_mode = scale_mode
    super().__init__(last_epoch, initial_lr=initial_lr, horizon=horizon)

  def standalone_lr(self) -> float:
    return 1.0 if self.initial_lr is None else self.initial_lr  # base_lr sets the rate


class LambdaLR(LRScheduler, family.LambdaLR):
  """MindSpore's ``LambdaLR``: ``lr = f32(base * lr_lambda(e))``, closed form.

  The lambda receives the epoch as a float32 value with MindSpore's arithmetic
  (:class:`adamax_optax._float32.Tensor32`); a Python-number result is rounded to
  float32.

  Args:
    lr_lambda: a callable of the epoch, or a list of them (one per group).

  Example:
    >>> from adamax_optax.mindspore.experimental.optim.lr_scheduler import LambdaLR
    >>> sched = LambdaLR(lambda e: 0.5 ** e, initial_lr=1.0, horizon=4)
    >>> [float(sched(n)) for n in range(4)]
    [1.0, 0.5, 0.25, 0.125]

  References:
    MindSpore 2.10 ``mindspore.experimental.optim.lr_scheduler.LambdaLR``.
  """

  def __init__(
    self,
    lr_lambda: Callable | list[Callable],
    last_epoch: int = -1,
    *,
    initial_lr: float | None = None,
    horizon: int = DEFAULT_HORIZON,
  ):
    fns = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda]
    for fn in fns:
      if not callable(fn):
        raise TypeError(f"{type(self).__name__}: lr_lambda must be callable, got {fn!r}.")
    self.lr_lambda = fns if isinstance(lr_lambda, (list, tuple)) else lr_lambda
    # (shared with MultiplicativeLR)
    LRScheduler.__init__(self, last_epoch, initial_lr=initial_lr, horizon=horizon)


class MultiplicativeLR(LRScheduler, family.MultiplicativeLR):
  """MindSpore's ``MultiplicativeLR``: ``lr = f32(lr * lr_lambda(e))`` for epochs > 0.

  Args:
    lr_lambda: a callable of the epoch (float32, see :class:`LambdaLR`), or a list.

  Example:
    >>> from adamax_optax.mindspore.experimental.optim.lr_scheduler import MultiplicativeLR
    >>> sched = MultiplicativeLR(lambda e: 0.5, initial_lr=1.0, horizon=4)
    >>> [float(sched(n)) for n in range(4)]
    [1.0, 0.5, 0.25, 0.125]

  References:
    MindSpore 2.10 ``mindspore.experimental.optim.lr_scheduler.MultiplicativeLR``.
  """

  __init__ = LambdaLR.__init__


class SequentialLR(LRScheduler, Sequential):
  """MindSpore's ``SequentialLR``: ``schedulers[i]`` from ``milestones[i-1]`` on.

  The first scheduler starts from each group's ``initial_lr``; at a milestone the next
  scheduler takes over with ``step(0)`` (its closed form at epoch 0: a cosine restarts at
  the base lr) and recurses from there.

  Args:
    schedulers: list of schedulers of this module (their own ``horizon`` is ignored).
    milestones: list of ``len(schedulers) - 1`` increasing epochs.

  Example:
    >>> from adamax_optax.mindspore.experimental.optim.lr_scheduler import (
    ...   ConstantLR, ExponentialLR, SequentialLR)
    >>> sched = SequentialLR(
    ...   [ConstantLR(factor=0.1, total_iters=2), ExponentialLR(gamma=0.5)],
    ...   milestones=[2], initial_lr=1.0, horizon=5)
    >>> [round(float(sched(n)), 4) for n in range(5)]
    [0.1, 0.1, 1.0, 0.5, 0.25]

  References:
    MindSpore 2.10 ``mindspore.experimental.optim.lr_scheduler.SequentialLR``.
  """

  def __init__(
    self,
    schedulers: list[LRScheduler],
    milestones: list[int],
    last_epoch: int = -1,
    *,
    initial_lr: float | None = None,
    horizon: int = DEFAULT_HORIZON,
  ):
    if not isinstance(schedulers, (list, tuple)) or not schedulers:
      raise TypeError("SequentialLR: schedulers must be a non-empty list of schedulers.")
    for i, s in enumerate(schedulers):
      if not isinstance(s, LRScheduler) or isinstance(s, SequentialLR):
        raise TypeError(f"SequentialLR: schedulers[{i}] must be a scheduler, got {s!r}.")
    if not isinstance(milestones, (list, tuple)) or len(milestones) != len(schedulers) - 1:
      raise ValueError(
        "Sequential Schedulers expects number of schedulers provided to be one more than the "
        f"number of milestone points, but got number of schedulers {len(schedulers)} and the "
        f"number of milestones {len(milestones) if isinstance(milestones, (list, tuple)) else 0}"
      )
    for m in milestones:
      check_int("SequentialLR", "milestones", m, 1)
    self.schedulers, self.milestones = list(schedulers), list(milestones)
    super().__init__(last_epoch, initial_lr=initial_lr, horizon=horizon)


@dataclasses.dataclass(eq=False)
class ReduceLROnPlateau(PlateauScheduler):
  """MindSpore's ``ReduceLROnPlateau``: lower every group's lr when a metric stops improving.

  All in float32, as MindSpore keeps it: after each ``scheduler.step(metric)`` the metric
  ``cur = f32(metric)`` improves when ``cur < best * f32(1 - threshold)`` (``mode="min"``,
  ``threshold_mode="rel"``; ``"abs"``: ``cur < best - f32(threshold)``; ``"max"``:
  ``cur > best * f32(threshold + 1)`` or ``cur > best + f32(threshold)``). A step without
  improvement counts as bad; during cooldown the count is held at 0; after more than
  ``patience`` bad steps each group's lr becomes ``new = max(f32(lr * factor), min_lr)``,
  kept only when ``lr > f32(new + eps)``, and ``cooldown`` steps follow.

  Args:
    mode: ``"min"`` (default) or ``"max"``.
    factor: float < 1, default 0.1.
    patience: int >= 0, default 10.
    threshold: default 1e-4.
    threshold_mode: ``"rel"`` (default) or ``"abs"``.
    cooldown: int >= 0, default 0.
    min_lr: float or list (one per group), default 0.
    eps: default 1e-8.
    max_reductions: reductions tabulated (the lr stops moving long before).

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax import mindspore_adamax
    >>> from adamax_optax.mindspore.experimental.optim.lr_scheduler import ReduceLROnPlateau
    >>> opt = mindspore_adamax(lr=0.1, lr_scheduler=ReduceLROnPlateau(factor=0.5, patience=0))
    >>> w = jnp.ones(1)
    >>> state = opt.init(w)
    >>> for loss in [1.0, 1.0, 1.0]:  # no improvement after the first
    ...   updates, state = opt.update(jnp.ones(1), state, w, value=loss)
    >>> print(state.reductions)
    1

  References:
    MindSpore 2.10 ``mindspore.experimental.optim.lr_scheduler.ReduceLROnPlateau``.
  """

  mode: str = "min"
  factor: float = 0.1
  patience: int = 10
  threshold: float = 1e-4
  threshold_mode: str = "rel"
  cooldown: int = 0
  min_lr: float | list[float] = 0
  eps: float = 1e-8
  _: dataclasses.KW_ONLY
  max_reductions: int = 10_000

  numbers = FLOAT32

  def __post_init__(self):
    name = "ReduceLROnPlateau"
    check_float(name, "factor", self.factor, ints=True)
    if self.factor >= 1.0:
      raise ValueError("The lr factor should be less than 1.0.")
    if self.mode not in ("min", "max"):
      raise ValueError(f"`mode` should be 'min' or 'max', but got {self.mode}.")
    if self.threshold_mode not in ("rel", "abs"):
      raise ValueError(f"`threshold mode` should be 'rel' or 'abs', but got {self.threshold_mode}.")
    check_float(name, "threshold", self.threshold, ints=True)
    check_float(name, "eps", self.eps, ints=True)
    check_int(name, "patience", self.patience, 0)
    check_int(name, "cooldown", self.cooldown, 0)
    check_int(name, "max_reductions", self.max_reductions, 1)
    if isinstance(self.min_lr, (list, tuple)):
      self.min_lr = list(self.min_lr)
    for v in self.min_lr if isinstance(self.min_lr, list) else [self.min_lr]:
      check_float(name, "min_lr", v, 0.0, ints=True)

  def lowers_enough(self, old, new) -> bool:
    """MindSpore keeps a reduction when ``lr > f32(new + eps)``."""
    return old > new + self.eps

  def compared(self, value: df.DoubleFloat) -> df.DoubleFloat:
    """MindSpore casts the metric to float32: the pair's high part (its low part 0)."""
    return float32_metric(value)

  def improved(self, metric: df.DoubleFloat, best: df.DoubleFloat) -> jax.Array:
    """MindSpore's ``_is_improvement`` in float32."""
    bound = self.threshold_bound(
      best.hi, lambda x, scale: x * jnp.float32(scale), lambda x, shift: x + jnp.float32(shift)
    )
    return metric.hi < bound if self.mode == "min" else metric.hi > bound


def get_last_lr(optimizer, opt_state) -> list[np.float32]:
  """Each group's ``group["lr"]`` after the last step, as ``scheduler.get_last_lr()``.

  float32 values, as MindSpore's ``lr`` Parameters hold them, in ``param_groups`` order,
  read on the host from the concrete ``opt_state`` of ``optimizer``. With several
  schedulers or a plateau scheduler: :doc:`/schedules`, "The current rate".

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.mindspore.experimental.optim import Adamax
    >>> from adamax_optax.mindspore.experimental.optim.lr_scheduler import StepLR, get_last_lr
    >>> opt = Adamax({"w": jnp.ones(2)}, lr=0.1, lr_scheduler=StepLR(step_size=2, gamma=0.5))
    >>> params = {"w": jnp.ones(2)}
    >>> state = opt.init(params)
    >>> for _ in range(2):
    ...   updates, state = opt.update(params, state, params)
    >>> get_last_lr(opt, state)
    [np.float32(0.05)]
  """
  return [np.float32(rate) for rate in learning_rates(optimizer, opt_state)]


__all__ = [
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
  "PolynomialLR",
  "ReduceLROnPlateau",
  "SequentialLR",
  "StepLR",
  "get_last_lr",
]
