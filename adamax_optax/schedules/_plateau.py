"""Metric-driven learning rates (reduce on plateau), taken the optax way.

A plateau scheduler lowers the learning rate when a metric stops improving. Whether it
does depends on the metric, so it cannot be tabulated by count; but the rate after
``k`` reductions can (PyTorch: ``max(lr * factor, min_lr)`` in doubles, kept only when
the change exceeds ``eps``). :func:`on_plateau` keeps the framework's bookkeeping (best
metric, bad epochs, cooldown, ``k``) in the state, reads the metric from
``update(..., value=metric)`` as :func:`optax.contrib.reduce_on_plateau` does, and
rebuilds the wrapped optimizer inside ``update`` with each group's rate after ``k``
reductions, as a double (:class:`~adamax_optax.schedules.DoubleConstant`), the way
:func:`optax.inject_hyperparams` rebuilds its optimizer with traced values.

The wings supply the decision rule (PyTorch, Paddle and MindSpore order the cooldown
and the comparison differently) and the per-group tables.
"""

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from adamax_optax import _double_float as df
from adamax_optax.schedules._exact import DoubleConstant, ExactSchedule
from adamax_optax.schedules._replay import DOUBLE, Numbers
from adamax_optax.validation import check_every


class PlateauState(NamedTuple):
  """State of :func:`on_plateau`.

  Attributes:
    count: updates applied so far, int32, saturating.
    best: the best metric seen, a double in two float32 (+-inf before the first).
    num_bad_epochs: scheduler steps since the last improvement, int32.
    cooldown_counter: scheduler steps of cooldown left, int32.
    reductions: ``k``, the reductions made so far, int32 (indexes the rate tables).
    inner: the wrapped optimizer's state.
  """

  count: jax.Array
  best: df.DoubleFloat
  num_bad_epochs: jax.Array
  cooldown_counter: jax.Array
  reductions: jax.Array
  inner: Any


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
    every: updates per scheduler step. ``update`` needs ``value=metric`` every time; the
      value passed at update ``n`` (``n`` a positive multiple of ``every``) is the metric
      measured after the ``every`` updates before it, as ``scheduler.step(metric)``
      between epochs; at other updates it is not read. A float32 metric (a JAX loss) is
      compared exactly as PyTorch compares its ``.item()``; a Python float's double
      survives ``jax.jit`` only as a pair, :func:`metric_value`.

  Returns:
    An optax transformation whose ``update`` takes ``value=``.
  """

  every = check_every(every)

  def rates(reductions):
    return [DoubleConstant(table.double_float(reductions)) for table in tables]

  def init_fn(params):
    zero = jnp.zeros([], jnp.int32)
    return PlateauState(
      count=zero,
      best=df.from_number(initial_best),
      num_bad_epochs=zero,
      cooldown_counter=zero,
      reductions=zero,
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
    due = (state.count > 0) & (state.count % every == 0)
    keep = lambda new, old: jax.tree.map(lambda x, y: jnp.where(due, x, y), new, old)
    fields = ("best", "num_bad_epochs", "cooldown_counter", "reductions")
    state = state._replace(**{f: keep(getattr(stepped, f), getattr(state, f)) for f in fields})
    inner = build(rates(state.reductions))
    new_updates, inner_state = inner.update(updates, state.inner, params, **extra_args)
    return new_updates, state._replace(count=optax.safe_increment(state.count), inner=inner_state)

  # Compiled as every preset's update is, so eager equals jitted.
  return optax.GradientTransformationExtraArgs(init_fn, jax.jit(update_fn))


def count_bad_steps(
  state: PlateauState, better: jax.Array, best, *, patience: int, cooldown: int, limit: int
) -> PlateauState:
  """The bookkeeping after the comparison that PyTorch's ``ReduceLROnPlateau`` and
  MindSpore's copy of it share: an improvement resets the bad steps, a cooldown step
  does not count as bad, more than ``patience`` bad steps make a reduction (at most
  ``limit``) and start ``cooldown`` steps of cooldown."""
  bad = jnp.where(better, 0, state.num_bad_epochs + 1)
  cooling = state.cooldown_counter > 0
  cooldown_left = jnp.where(cooling, state.cooldown_counter - 1, state.cooldown_counter)
  bad = jnp.where(cooling, 0, bad)
  reduce = bad > patience
  return state._replace(
    best=best,
    num_bad_epochs=jnp.where(reduce, 0, bad),
    cooldown_counter=jnp.where(reduce, cooldown, cooldown_left),
    reductions=jnp.minimum(state.reductions + reduce, limit),
  )


def metric_value(value: float) -> df.DoubleFloat:
  """A Python float metric as a double pair, to pass as ``value=`` through ``jax.jit``."""
  return df.from_number(float(value))


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


def reduction_tables(
  lrs: Sequence[float],
  min_lr: float | Sequence[float],
  name: str,
  **rule,
) -> list[ExactSchedule]:
  """Per group, :func:`reduction_levels` from its ``lr`` and its ``min_lr`` (one number for
  every group, or a list with one per group) as an :class:`ExactSchedule` indexed by the
  reductions made. ``rule``: the keywords of :func:`reduction_levels` but ``min_lr``."""
  if isinstance(min_lr, (list, tuple)):
    if len(min_lr) != len(lrs):
      raise ValueError(f"Expected {len(lrs)} min_lrs, got {len(min_lr)}")
    min_lrs = list(min_lr)
  else:
    min_lrs = [min_lr] * len(lrs)
  return [
    ExactSchedule(np.asarray(reduction_levels(lr, min_lr=floor, **rule)), name)
    for lr, floor in zip(lrs, min_lrs, strict=True)
  ]


__all__ = [
  "PlateauState",
  "count_bad_steps",
  "greater_than_double",
  "less_than_double",
  "metric_value",
  "on_plateau",
  "reduction_levels",
  "reduction_tables",
]
