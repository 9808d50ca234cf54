"""MXNet's learning-rate schedulers (``mx.lr_scheduler``), value for value.

Each class takes MXNet's arguments and replays MXNet's stateful scheduler on the host, in
Python doubles and in MXNet's order, into an :class:`~adamax_optax.schedules.ExactSchedule`
looked up inside the compiled step. ``sched.exact_schedule(begin_num_update,
learning_rate)`` is the optax schedule of the rates an MXNet optimizer uses (what
``mxnet_adamax(lr_scheduler=sched)`` runs); ``sched(num_update)`` is the float32 rate
(jittable). How MXNet counts, the optimizer's ``base_lr`` override and the tables:
:doc:`/porting/mxnet` (Schedulers).

Every scheduler warms up first: for ``num_update < warmup_steps`` the rate is
``warmup_begin_lr + (base_lr - warmup_begin_lr) * num_update / warmup_steps``
(``warmup_mode="linear"``) or ``warmup_begin_lr`` (``"constant"``).

References:
  MXNet 1.9.1 and 2.0 ``mxnet/lr_scheduler.py`` (the two versions are identical).
"""

import inspect
import math
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp

from adamax_optax.schedules import DEFAULT_HORIZON, ExactSchedule, Group, Run, Scheduler, replay
from adamax_optax.validation import check_horizon, check_int, check_range

_MAX_COUNT = 2**31 - 2  # the last int32 update count a table can index


class _Scheduler(Scheduler):
  """What the four schedulers share: the warmup, the replay of MXNet's calls into tables,
  equality, immutability and the jittable call.

  A scheduler declares MXNet's constructor (its checks, then :meth:`_set` of the fields,
  which are the constructor's parameters) and what MXNet's ``__call__`` does after the
  warmup, on the scheduler engine (:mod:`adamax_optax.schedules._replay`): a run's epoch
  is MXNet's ``num_update``, its group's ``lr`` the value returned, and

  * ``setup(run)``: the object's mutable attributes, on the run: ``run.base_lr`` (the
    group's ``lr`` before the first call: an optimizer's ``learning_rate`` when it
    overrides the scheduler's) and any other;
  * ``_decay(run)``: what the object returns when called with ``run.epoch`` (not in the
    warmup), updating its attributes as MXNet does;
  * ``_next_change(run)``: the smallest later ``num_update`` whose value may differ, or
    ``None`` when every later call returns the same value. Calls skipped in between
    leave MXNet's state as it is.
  """

  _fields: tuple[str, ...] = ()

  def __init_subclass__(cls, **kwargs):
    super().__init_subclass__(**kwargs)
    # The fields (repr, == and hash) are the constructor's parameters, in order.
    cls._fields = tuple(inspect.signature(cls.__init__).parameters)[1:]

  def __init__(self, base_lr: float, warmup_steps: int, warmup_begin_lr: float, warmup_mode: str):
    check_range("base_lr", base_lr)
    check_range("warmup_begin_lr", warmup_begin_lr)
    check_int("warmup_steps", warmup_steps, 0)
    if warmup_begin_lr > base_lr:
      raise ValueError(f"warmup_begin_lr ({warmup_begin_lr}) must not exceed base_lr ({base_lr}).")
    if warmup_mode not in ("linear", "constant"):
      raise ValueError(f"warmup_mode must be 'linear' or 'constant', got {warmup_mode!r}.")
    self._set(base_lr=base_lr, warmup_steps=int(warmup_steps))
    self._set(warmup_begin_lr=warmup_begin_lr, warmup_mode=warmup_mode)

  def _set(self, **values) -> None:
    for name, value in values.items():
      object.__setattr__(self, name, value)

  def __setattr__(self, name, value):
    raise AttributeError(
      f"{type(self).__name__} is immutable; build a new one (MXNet's optimizer override "
      "of base_lr is exact_schedule's learning_rate)."
    )

  def _key(self) -> tuple:
    return tuple(getattr(self, name) for name in self._fields)

  def __eq__(self, other):
    return type(other) is type(self) and other._key() == self._key()

  def __hash__(self):
    return hash((type(self).__name__, self._key()))

  def __repr__(self) -> str:
    args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
    return f"{type(self).__name__}({args})"

  def setup(self, run: Run) -> None:
    run.base_lr = run.group.lr

  def _decay(self, run: Run) -> float:
    raise NotImplementedError

  def _next_change(self, run: Run) -> int | None:
    raise NotImplementedError

  def get_lr(self, run: Run) -> float:
    if run.epoch < self.warmup_steps:
      return self._warmup(run.epoch)
    return self._decay(run)

  def quiet_steps(self, run: Run) -> int | None:
    if run.epoch < self.warmup_steps:
      following = self._next_warmup_change(run.epoch)
    else:
      following = self._next_change(run)
    return None if following is None else following - run.epoch - 1

  def _warmup(self, n: int) -> float:
    """MXNet's warmup rate at ``n``, ending at the constructor's ``base_lr``."""
    begin = float(self.warmup_begin_lr)
    if self.warmup_mode == "linear":
      increase = (float(self.base_lr) - begin) * float(n) / float(self.warmup_steps)
      return begin + increase
    return begin

  def _next_warmup_change(self, n: int) -> int:
    if self.warmup_mode == "linear" and float(self.base_lr) != float(self.warmup_begin_lr):
      return n + 1
    return self.warmup_steps

  def _last_num_update(self, first: int) -> int:
    """The last ``num_update`` tabulated when the replay starts at ``first``."""
    return _MAX_COUNT

  def _table(self, first: int, offset: int, learning_rate: float | None) -> ExactSchedule:
    """``values[n - offset]`` = the replay's value at ``n``, called in order from
    ``first``; entries before ``first - offset`` repeat the first value."""
    # MXNet's optimizer assigns sched.base_lr = learning_rate; the warmup (warmup_final_lr)
    # and the poly and cosine formulas (base_lr_orig) keep the constructor's base_lr.
    group = Group(0, float(self.base_lr if learning_rate is None else learning_rate), 0.0)
    run = Run(self, group, last_epoch=first - 1)
    run.construct()
    last = min(self._last_num_update(first), _MAX_COUNT + offset)
    starts, values, _ = replay(run, group, last - first + 1)
    starts = [0] + [start + first - offset for start in starts[1:]]
    return ExactSchedule.from_runs(starts, values, starts[-1] + 1, type(self).__name__)

  def exact_schedule(
    self, begin_num_update: int = 0, learning_rate: float | None = None
  ) -> ExactSchedule:
    """The optax schedule of the rates an MXNet optimizer uses with this scheduler.

    Args:
      begin_num_update: the optimizer's ``begin_num_update`` (updates done before).
      learning_rate: the optimizer's ``learning_rate``; when given, MXNet sets the
        scheduler's ``base_lr`` to it (the warmup still ends at the constructor's
        ``base_lr``). ``None`` keeps the scheduler's own.

    Returns:
      An :class:`~adamax_optax.schedules.ExactSchedule` whose value at optax count ``c``
      (``c >= begin_num_update``) is the double MXNet's scheduler returns for
      ``num_update = c + 1`` when called at every update from ``begin_num_update + 1``.
    """
    check_int("begin_num_update", begin_num_update, 0)
    if learning_rate is not None:
      check_range("learning_rate", learning_rate)
      learning_rate = float(learning_rate)
    return self._cached_table(int(begin_num_update) + 1, 1, learning_rate)

  @property
  def _direct(self) -> ExactSchedule:
    """The replay from 0 with the scheduler's own ``base_lr``, indexed by ``num_update``."""
    return self._cached_table(0, 0, None)

  def _cached_table(self, first, offset, learning_rate) -> ExactSchedule:
    key = ("calls", first, offset, learning_rate)
    return self.cached(key, lambda: self._table(first, offset, learning_rate))

  def __call__(self, num_update: jax.typing.ArrayLike) -> jax.Array:
    """The float32 rate at MXNet's ``num_update`` (called in order from 0; jittable)."""
    return self._direct(jnp.maximum(jnp.asarray(num_update, jnp.int32), 0))

  def value_at(self, num_update: int) -> float:
    """The double rate at ``num_update`` (as :meth:`__call__`, on the host)."""
    return self._direct.value_at(max(int(num_update), 0))


class FactorScheduler(_Scheduler):
  r"""MXNet's ``FactorScheduler``: ``base_lr`` times ``factor`` every ``step`` updates.

  After the warmup, each call with ``num_update > count + step`` repeats
  ``count += step; base_lr *= factor; base_lr = max(base_lr, stop_factor_lr)``
  (in doubles) and returns ``base_lr``; ``count`` starts at 0.

  Args:
    step: updates between decays, an int >= 1 (required, as in MXNet).
    factor: multiplier per decay, in [0, 1]; default 1.
    stop_factor_lr: lower bound of the decayed rate, >= 0; default 1e-8.
    base_lr: rate before the first decay; default 0.01.
    warmup_steps: updates of warmup, an int >= 0; default 0.
    warmup_begin_lr: first warmup rate, <= ``base_lr``; default 0.
    warmup_mode: ``"linear"`` (default) or ``"constant"``.
    horizon: keyword-only: updates tabulated (default one million); past it the rate is
      NaN, unless it could no longer change.

  Example:
    >>> from adamax_optax.mxnet.lr_scheduler import FactorScheduler
    >>> sched = FactorScheduler(step=2, factor=0.5, base_lr=1.0)
    >>> print(sched(2), sched(3), sched(5))
    1.0 0.5 0.25
    >>> print(sched.exact_schedule(learning_rate=0.1)(2))  # optax count 2: num_update 3
    0.05

  References:
    MXNet ``mx.lr_scheduler.FactorScheduler`` (1.9.1 and 2.0).
  """

  def __init__(
    self,
    step: int,
    factor: float = 1,
    stop_factor_lr: float = 1e-8,
    base_lr: float = 0.01,
    warmup_steps: int = 0,
    warmup_begin_lr: float = 0,
    warmup_mode: str = "linear",
    *,
    horizon: int = DEFAULT_HORIZON,
  ):
    super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
    check_int("step", step, 1)
    check_range("factor", factor, 0.0, 1.0)
    check_range("stop_factor_lr", stop_factor_lr, 0.0)
    check_horizon(horizon)
    self._set(step=int(step), factor=factor, stop_factor_lr=stop_factor_lr, horizon=int(horizon))

  def _last_num_update(self, first):
    return max(first, 1) + self.horizon - 1

  def setup(self, run):
    super().setup(run)
    # MXNet's count: the updates its decays cover. fixed: base_lr can no longer change.
    run.count, run.fixed = 0, False

  def _decay(self, run):
    while run.epoch > run.count + self.step and not run.fixed:
      run.count += self.step
      decayed = run.base_lr * float(self.factor)
      if decayed < float(self.stop_factor_lr):
        decayed = float(self.stop_factor_lr)
      run.fixed = decayed == run.base_lr
      run.base_lr = decayed
    return run.base_lr

  def _next_change(self, run):
    return None if run.fixed else run.count + self.step + 1


class MultiFactorScheduler(_Scheduler):
  r"""MXNet's ``MultiFactorScheduler``: ``base_lr`` times ``factor`` past each milestone.

  After the warmup, each call applies ``base_lr *= factor`` (in doubles) once for every
  milestone of ``step`` not yet applied with ``num_update > milestone``, then returns
  ``base_lr``. There is no lower bound.

  Args:
    step: the milestones, a non-empty strictly increasing list of ints >= 1 (required).
    factor: multiplier per milestone, in [0, 1]; default 1.
    base_lr: rate before the first milestone; default 0.01.
    warmup_steps: updates of warmup, an int >= 0; default 0.
    warmup_begin_lr: first warmup rate, <= ``base_lr``; default 0.
    warmup_mode: ``"linear"`` (default) or ``"constant"``.

  Example:
    >>> from adamax_optax.mxnet.lr_scheduler import MultiFactorScheduler
    >>> sched = MultiFactorScheduler(step=[3, 6], factor=0.1, base_lr=1.0)
    >>> print(sched(3), sched(4), sched.value_at(7))
    1.0 0.1 0.010000000000000002

  References:
    MXNet ``mx.lr_scheduler.MultiFactorScheduler`` (1.9.1 and 2.0).
  """

  def __init__(
    self,
    step: Sequence[int],
    factor: float = 1,
    base_lr: float = 0.01,
    warmup_steps: int = 0,
    warmup_begin_lr: float = 0,
    warmup_mode: str = "linear",
  ):
    super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
    if isinstance(step, (str, bytes)) or not isinstance(step, Sequence) or not step:
      raise ValueError(f"step must be a non-empty list of milestones, got {step!r}.")
    for i, milestone in enumerate(step):
      check_int(f"step[{i}]", milestone, 1)
      if i and milestone <= step[i - 1]:
        raise ValueError(f"step must be strictly increasing, got {list(step)}.")
    check_range("factor", factor, 0.0, 1.0)
    self._set(step=tuple(int(m) for m in step), factor=factor)

  def setup(self, run):
    super().setup(run)
    run.applied = 0  # MXNet's cur_step_ind

  def _decay(self, run):
    while run.applied < len(self.step) and run.epoch > self.step[run.applied]:
      run.applied += 1
      run.base_lr *= float(self.factor)
    return run.base_lr

  def _next_change(self, run):
    return self.step[run.applied] + 1 if run.applied < len(self.step) else None


class _DecayToFinal(_Scheduler):
  """Poly and cosine: ``_formula(n)`` up to ``max_update``, stored as MXNet stores it."""

  def __init__(self, max_update, base_lr, final_lr, warmup_steps, warmup_begin_lr, warmup_mode):
    super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
    check_int("max_update", max_update, 1)
    check_range("final_lr", final_lr)
    if warmup_steps >= max_update:
      raise ValueError(
        f"warmup_steps ({warmup_steps}) must be below max_update ({max_update}): MXNet "
        "divides by max_update - warmup_steps."
      )
    self._set(max_update=int(max_update), final_lr=final_lr)

  def _formula(self) -> Callable[[int], float]:
    """MXNet's rate at ``num_update`` (its constants read once per replay)."""
    raise NotImplementedError

  def setup(self, run):
    super().setup(run)
    run.formula = self._formula()

  def _decay(self, run):
    if run.epoch <= self.max_update:
      run.base_lr = run.formula(run.epoch)
    return run.base_lr

  def _next_change(self, run):
    return run.epoch + 1 if run.epoch < self.max_update else None


class PolyScheduler(_DecayToFinal):
  r"""MXNet's ``PolyScheduler``: a polynomial decay from ``base_lr`` to ``final_lr``.

  After the warmup and up to ``max_update``, the rate (in doubles, C ``pow``) is

  .. math::

    \mathrm{final\_lr} + (\mathrm{base\_lr} - \mathrm{final\_lr})
      \left(1 - \frac{n - \mathrm{warmup\_steps}}{\mathrm{max\_update}
      - \mathrm{warmup\_steps}}\right)^{\mathrm{pwr}}

  and MXNet stores it; after ``max_update`` the stored rate is returned.

  Args:
    max_update: the update at which ``final_lr`` is reached, an int > ``warmup_steps``.
    base_lr: the rate the decay starts from; default 0.01.
    pwr: the power, >= 0; default 2.
    final_lr: the rate at the end; default 0.
    warmup_steps: updates of warmup, an int >= 0; default 0.
    warmup_begin_lr: first warmup rate, <= ``base_lr``; default 0.
    warmup_mode: ``"linear"`` (default) or ``"constant"``.

  Example:
    >>> from adamax_optax.mxnet.lr_scheduler import PolyScheduler
    >>> sched = PolyScheduler(max_update=10, base_lr=1.0, pwr=2)
    >>> print(sched(5), sched(20))
    0.25 0.0
    >>> print(sched.exact_schedule(begin_num_update=30)(30))  # first call past the end
    1.0

  References:
    MXNet ``mx.lr_scheduler.PolyScheduler`` (1.9.1 and 2.0).
  """

  def __init__(
    self,
    max_update: int,
    base_lr: float = 0.01,
    pwr: float = 2,
    final_lr: float = 0,
    warmup_steps: int = 0,
    warmup_begin_lr: float = 0,
    warmup_mode: str = "linear",
  ):
    super().__init__(max_update, base_lr, final_lr, warmup_steps, warmup_begin_lr, warmup_mode)
    check_range("pwr", pwr, 0.0)
    self._set(pwr=pwr)

  def _formula(self):
    base, final, pwr = float(self.base_lr), float(self.final_lr), float(self.pwr)
    warmup, span = self.warmup_steps, float(self.max_update - self.warmup_steps)
    return lambda n: final + (base - final) * math.pow(1 - float(n - warmup) / span, pwr)


class CosineScheduler(_DecayToFinal):
  r"""MXNet's ``CosineScheduler``: a half cosine from ``base_lr`` to ``final_lr``.

  After the warmup and up to ``max_update``, the rate (in doubles) is

  .. math::

    \mathrm{final\_lr} + (\mathrm{base\_lr} - \mathrm{final\_lr})
      \frac{1 + \cos(\pi (n - \mathrm{warmup\_steps}) / (\mathrm{max\_update}
      - \mathrm{warmup\_steps}))}{2}

  and MXNet stores it; after ``max_update`` the stored rate is returned.

  Args:
    max_update: the update at which ``final_lr`` is reached, an int > ``warmup_steps``.
    base_lr: the rate the decay starts from; default 0.01.
    final_lr: the rate at the end; default 0.
    warmup_steps: updates of warmup, an int >= 0; default 0.
    warmup_begin_lr: first warmup rate, <= ``base_lr``; default 0.
    warmup_mode: ``"linear"`` (default) or ``"constant"``.

  Example:
    >>> from adamax_optax.mxnet.lr_scheduler import CosineScheduler
    >>> sched = CosineScheduler(max_update=10, base_lr=1.0)
    >>> print(sched(0), sched(5), sched(10))
    1.0 0.5 0.0

  References:
    MXNet ``mx.lr_scheduler.CosineScheduler`` (1.9.1 and 2.0).
  """

  def __init__(
    self,
    max_update: int,
    base_lr: float = 0.01,
    final_lr: float = 0,
    warmup_steps: int = 0,
    warmup_begin_lr: float = 0,
    warmup_mode: str = "linear",
  ):
    super().__init__(max_update, base_lr, final_lr, warmup_steps, warmup_begin_lr, warmup_mode)

  def _formula(self):
    base, final = float(self.base_lr), float(self.final_lr)
    warmup, span = self.warmup_steps, float(self.max_update - self.warmup_steps)
    return lambda n: final + (base - final) * (1 + math.cos(math.pi * (n - warmup) / span)) / 2


__all__ = ["CosineScheduler", "FactorScheduler", "MultiFactorScheduler", "PolyScheduler"]
