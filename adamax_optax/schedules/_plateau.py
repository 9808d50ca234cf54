"""Metric-driven learning rates (reduce on plateau), taken the optax way.

Whether the rate falls depends on the metric, so it cannot be tabulated by count; the
rate after ``k`` reductions can.
:func:`on_plateau` keeps the bookkeeping (best metric, bad epochs, cooldown, ``k``) in
the state, reads the metric from ``update(..., value=metric)`` as
:func:`optax.contrib.reduce_on_plateau` does, and rebuilds the wrapped optimizer in
``update`` with each group's rate after ``k`` reductions, as
:func:`optax.inject_hyperparams` does with traced values. :class:`PlateauScheduler` is
PyTorch's ``ReduceLROnPlateau`` rule written once; a wing overrides only what its
framework does otherwise (:doc:`/schedules`, "Metric-driven").
"""

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from adamax_optax import _double_float as df
from adamax_optax._rounding import computed_once
from adamax_optax.schedules._exact import DoubleConstant, ExactSchedule
from adamax_optax.schedules._replay import DOUBLE, Numbers
from adamax_optax.validation import check_every


class PlateauState(NamedTuple):
  """State of :func:`on_plateau`.

  Attributes:
    count: int32, saturating; the scheduler is due at its positive multiples of
      ``every``. The updates since :meth:`init`, or after
      :func:`~adamax_optax.load_state` with ``plateau=`` the updates into the current
      epoch (``step % every``). (The Adamax step count is in ``inner``.)
    best: the best metric seen, a double in two float32 (+-inf before the first).
    counters: int32 ``[num_bad_epochs, cooldown_counter, reductions]``, read by those
      names (below). One array, because XLA's CPU backend compiles a kernel for each
      scalar a step writes, about 10 ms apiece: with three fields the start-up of a
      preset with a plateau scheduler was 1.65x to 1.85x that of a constant rate, with
      the array it is 1.47x to 1.60x (16 leaves of 4,096; :doc:`/schedules`).
    inner: the wrapped optimizer's state.
  """

  count: jax.Array
  best: df.DoubleFloat
  counters: jax.Array
  inner: Any

  @property
  def num_bad_epochs(self) -> jax.Array:
    """Scheduler steps since the last improvement, int32."""
    return self.counters[..., 0]

  @property
  def cooldown_counter(self) -> jax.Array:
    """Scheduler steps of cooldown left, int32."""
    return self.counters[..., 1]

  @property
  def reductions(self) -> jax.Array:
    """``k``, the reductions made so far, int32 (indexes the rate tables)."""
    return self.counters[..., 2]


def plateau_counters(num_bad_epochs, cooldown_counter, reductions) -> jax.Array:
  """:attr:`PlateauState.counters` from its three counts."""
  return jnp.stack(
    [jnp.asarray(x, jnp.int32) for x in (num_bad_epochs, cooldown_counter, reductions)]
  )


Advance = Callable[[PlateauState, df.DoubleFloat], PlateauState]


def on_plateau(
  build: Callable[[Sequence[DoubleConstant]], optax.GradientTransformation],
  tables: Sequence[ExactSchedule],
  advance: Advance,
  *,
  initial_best: float,
  every: int = 1,
) -> optax.GradientTransformationExtraArgs:
  """``build(rates)`` with each rate read from ``tables[g]`` at the reductions made.

  Args:
    build: makes the optimizer from one :class:`DoubleConstant` rate per table.
    tables: per group, the rate after ``k`` reductions at index ``k``.
    advance: one ``scheduler.step(metric)``: the new bookkeeping (``inner`` untouched)
      from the state and the metric (a :class:`DoubleFloat`).
    initial_best: ``best`` before any metric (``inf`` to minimize, ``-inf`` to maximize).
    every: updates per scheduler step; ``update`` needs ``value=metric`` every time,
      read at the positive multiples of ``every`` (:doc:`/schedules`, "Metric-driven").

  Returns:
    An optax transformation whose ``update`` takes ``value=``.
  """

  every = check_every(every)

  def rates(reductions):
    return [
      DoubleConstant(table.double_float(reductions), table=table, index=reductions)
      for table in tables
    ]

  def init_fn(params):
    zero = jnp.zeros([], jnp.int32)
    return PlateauState(
      count=zero,
      best=df.from_number(initial_best),
      counters=plateau_counters(zero, zero, zero),
      inner=build(rates(zero)).init(params),
    )

  def update_fn(updates, state, params=None, *, value=None, **extra_args):
    if value is None:
      raise ValueError(
        "This optimizer's learning rate follows a metric: pass it to every update, "
        "opt.update(grads, state, params, value=metric) (it is read once per "
        "lr_scheduler_every updates)."
      )
    if not isinstance(value, df.DoubleFloat):
      value = df.from_number(jnp.asarray(value, jnp.float32))
    metric = df.DoubleFloat(*(jnp.asarray(x, jnp.float32) for x in value))
    if metric.hi.ndim:
      raise ValueError(f"value (the metric) must be a scalar, got shape {metric.hi.shape}.")
    stepped = advance(state, metric)
    due = state.count > 0
    if every > 1:
      due = due & (state.count % every == 0)
    keep = lambda new, old: jax.tree.map(lambda x, y: jnp.where(due, x, y), new, old)
    fields = ("best", "counters")
    state = state._replace(**{f: keep(getattr(stepped, f), getattr(state, f)) for f in fields})
    inner = build(rates(state.reductions))
    new_updates, inner_state = inner.update(updates, state.inner, params, **extra_args)
    return new_updates, state._replace(count=optax.safe_increment(state.count), inner=inner_state)

  # Compiled as every preset's update is, so eager equals jitted.
  return optax.GradientTransformationExtraArgs(init_fn, jax.jit(update_fn))


def metric_value(value: float) -> df.DoubleFloat:
  """A Python float metric as a double pair, to pass as ``value=`` through ``jax.jit``."""
  return df.from_number(float(value))


def float32_metric(value: df.DoubleFloat) -> df.DoubleFloat:
  """A metric or ``best`` as a framework holding it in float32 compares it: the pair's
  high part (its float32 rounding), the low part 0."""
  high = jnp.asarray(value.hi, jnp.float32)
  return df.DoubleFloat(high, jnp.zeros_like(high))


def less_than_double(a: df.DoubleFloat, b: df.DoubleFloat) -> jax.Array:
  """``a < b`` for doubles held as ``hi + lo`` (``hi`` the float32 rounding)."""
  return (a.hi < b.hi) | ((a.hi == b.hi) & (a.lo < b.lo))


def greater_than_double(a: df.DoubleFloat, b: df.DoubleFloat) -> jax.Array:
  """``a > b`` for doubles held as ``hi + lo``."""
  return less_than_double(b, a)


def reduction_levels(
  lr: float,
  *,
  factor: float,
  min_lr: float,
  lowers_enough: Callable[[object, object], bool],
  max_levels: int,
  numbers: Numbers = DOUBLE,
) -> list[float]:
  """The rate after ``k`` reductions at index ``k``, in the framework's numbers.

  Each reduction computes ``new = max(lr * factor, min_lr)`` and keeps it while
  ``lowers_enough(lr, new)`` (PyTorch and Paddle: ``lr - new > eps`` in doubles;
  MindSpore: ``lr > new + eps`` in float32); once a reduction is not kept, no later one
  is, so the table ends there. At most ``max_levels`` entries.

  Example:
    >>> from adamax_optax.schedules import reduction_levels
    >>> reduction_levels(1.0, factor=0.5, min_lr=0.2, max_levels=10,
    ...                  lowers_enough=lambda old, new: old - new > 1e-8)
    [1.0, 0.5, 0.25, 0.2]
  """
  old, floor = numbers.value(lr), numbers.value(min_lr)
  levels = [old]
  while len(levels) < max_levels:
    new = max(old * factor, floor)
    if not lowers_enough(old, new):
      break
    levels.append(new)
    old = new
  return [float(level) for level in levels]


def _double_times(x: df.DoubleFloat, factor: float) -> df.DoubleFloat:
  return df.multiply(x, df.from_number(factor))


def _double_plus(x: df.DoubleFloat, offset: float) -> df.DoubleFloat:
  return df.add(x, df.from_number(offset))


@dataclasses.dataclass(kw_only=True, eq=False)
class PlateauScheduler:
  """PyTorch's ``ReduceLROnPlateau`` rule, which the wings' plateau schedulers declare.

  At each ``scheduler.step(metric)`` a metric past :meth:`threshold_bound` (below it for
  ``mode="min"``, above for ``"max"``) becomes ``best``; :meth:`advance` counts the bad
  steps. The rate after ``k`` reductions is tabulated on the host in :attr:`numbers`
  (:meth:`reduction_tables`); the metric is compared as PyTorch compares Python doubles,
  here double pairs (:class:`~adamax_optax._double_float.DoubleFloat`). A subclass that
  keeps every reduction however small, say::

    class EveryReduction(PlateauScheduler):
      def lowers_enough(self, old, new):
        return new < old

  Attributes:
    mode: ``"min"`` (a lower metric is better) or ``"max"``.
    factor: the rate's multiplier at each reduction.
    patience: bad steps tolerated before a reduction.
    threshold: how much better a metric must be (see :meth:`threshold_bound`).
    threshold_mode: ``"rel"`` or ``"abs"``.
    cooldown: steps after a reduction during which bad steps do not count.
    min_lr: the floor of every rate (a number, or one per group).
    eps: a reduction moving the rate by no more than this is not made.
    max_reductions: the reductions tabulated (the rate stops moving long before).
  """

  mode: str = "min"
  factor: float = 0.1
  patience: int = 10
  threshold: float = 1e-4
  threshold_mode: str = "rel"
  cooldown: int = 0
  min_lr: float | Sequence[float] = 0.0
  eps: float = 1e-8
  max_reductions: int = 10_000

  #: The framework's class name, for the tables' messages.
  name: ClassVar[str] = "ReduceLROnPlateau"
  #: The numbers the framework computes its rates in.
  numbers: ClassVar[Numbers] = DOUBLE
  #: Paddle's order: during cooldown the metric is not compared (``best`` stays).
  metric_ignored_in_cooldown: ClassVar[bool] = False

  def lowers_enough(self, old, new) -> bool:
    """Whether a reduction from ``old`` to ``new`` is made: PyTorch's ``old - new > eps``."""
    return old - new > self.eps

  def reduction_tables(
    self, lrs: Sequence[float], min_lrs: Sequence[float] | None = None
  ) -> list[ExactSchedule]:
    """Per group, :func:`reduction_levels` from its ``lr`` and its floor (``min_lr``: one
    number for every group, or a list with one per group; ``min_lrs`` overrides it) as an
    :class:`ExactSchedule` indexed by the reductions made."""
    min_lr = self.min_lr if min_lrs is None else min_lrs
    if isinstance(min_lr, (list, tuple)):
      if len(min_lr) != len(lrs):
        raise ValueError(f"Expected {len(lrs)} min_lrs, got {len(min_lr)}")
      floors = list(min_lr)
    else:
      floors = [min_lr] * len(lrs)
    return [
      ExactSchedule(np.asarray(self.levels_from(lr, floor)), self.name)
      for lr, floor in zip(lrs, floors, strict=True)
    ]

  def levels_from(self, lr: float, min_lr: float) -> list[float]:
    """The rate after ``k`` reductions at index ``k``, from ``lr`` (:func:`reduction_levels`)."""
    return reduction_levels(
      lr,
      factor=self.factor,
      min_lr=min_lr,
      lowers_enough=self.lowers_enough,
      max_levels=self.max_reductions + 1,
      numbers=self.numbers,
    )

  def initial_best(self) -> float:
    """``best`` before the first metric."""
    return math.inf if self.mode == "min" else -math.inf

  def reduction_limit(self) -> int:
    """The most reductions counted (the last index of the tables)."""
    return self.max_reductions

  def threshold_bound(self, best, times: Callable, plus: Callable):
    """The bound a better metric passes, PyTorch's ``_is_better``: ``best * (1 -
    threshold)`` (``mode="min"``, ``threshold_mode="rel"``), ``best * (threshold + 1)``
    (``"max"``), ``best - threshold`` or ``best + threshold`` (``"abs"``). ``times`` and
    ``plus`` (a number and a Python float) are the arithmetic of the comparison's numbers."""
    if self.threshold_mode == "rel":
      return times(best, 1.0 - self.threshold if self.mode == "min" else self.threshold + 1.0)
    return plus(best, -self.threshold if self.mode == "min" else self.threshold)

  def compared(self, value: df.DoubleFloat) -> df.DoubleFloat:
    """The metric or ``best`` as the framework compares it (PyTorch: the double)."""
    return value

  def improved(self, metric: df.DoubleFloat, best: df.DoubleFloat) -> jax.Array:
    """Whether ``metric`` is better than ``best``, in doubles."""
    bound = self.threshold_bound(best, _double_times, _double_plus)
    compare = less_than_double if self.mode == "min" else greater_than_double
    # Against an infinite best the bound is not a number; the plain compare holds.
    unbounded = metric.hi < best.hi if self.mode == "min" else metric.hi > best.hi
    return jnp.where(jnp.isinf(best.hi), unbounded, compare(metric, bound))

  def advance(self, state: PlateauState, metric: df.DoubleFloat) -> PlateauState:
    """One ``scheduler.step(metric)`` (see :func:`on_plateau`): an improvement resets the
    bad steps, a cooldown step does not count as bad, more than ``patience`` bad steps
    make a reduction (at most :meth:`reduction_limit`) and start ``cooldown`` steps of
    cooldown."""
    metric, best = self.compared(metric), self.compared(state.best)
    cooling = state.cooldown_counter > 0
    better = self.improved(metric, best)
    if self.metric_ignored_in_cooldown:
      better = better & jnp.logical_not(cooling)  # the bad steps are 0 then anyway
    # Read by every field of the state: XLA would copy its few dozen scalar operations
    # (the double-pair compare) into each field's computation.
    better = computed_once(better)
    best = jax.tree.map(lambda new, old: jnp.where(better, new, old), metric, best)
    bad = jnp.where(better | cooling, 0, state.num_bad_epochs + 1)
    reduce = bad > self.patience
    cooldown_left = jnp.where(cooling, state.cooldown_counter - 1, state.cooldown_counter)
    return state._replace(
      best=best,
      counters=plateau_counters(
        jnp.where(reduce, 0, bad),
        jnp.where(reduce, self.cooldown, cooldown_left),
        jnp.minimum(state.reductions + reduce, self.reduction_limit()),
      ),
    )


__all__ = [
  "PlateauScheduler",
  "PlateauState",
  "float32_metric",
  "greater_than_double",
  "less_than_double",
  "metric_value",
  "on_plateau",
  "plateau_counters",
  "reduction_levels",
]
