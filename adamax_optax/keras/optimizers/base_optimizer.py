r"""What Keras 3's ``BaseOptimizer`` does around every optimizer's step, as optax stages.

:func:`adamax_optax.keras.optimizers.Adamax` assembles these from its constructor
arguments, in Keras's order (``apply`` and the JAX backend's
``_backend_apply_gradients``)::

  moving_average(                       # use_ema, ema_momentum, ema_overwrite_frequency
    chain(unscale,                      # loss_scale_factor
          accumulate_gradients(         # gradient_accumulation_steps
            chain(clip, adamax step, decoupled weight decay))))

Keras's ``iterations`` counts calls to ``apply``; with gradient accumulation the step's
bias correction sees ``iterations // steps`` while learning-rate schedules see the raw
count (see :func:`accumulation_schedule`).
"""

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from adamax_optax._leaves import (
  NewValue,
  applied,
  is_new_value,
  is_trained,
  is_update_leaf,
  keep_rows_of_update,
  reject_sparse,
  unchanged_update,
)
from adamax_optax._rounding import rounded
from adamax_optax._typing import OptState, Params, Updates
from adamax_optax.param_groups import leaf_names
from adamax_optax.validation import require_params


def unscale(loss_scale_factor: float) -> optax.GradientTransformation:
  r"""Keras's ``loss_scale_factor``: :math:`g \leftarrow g / s` (float32 division) before
  anything else, for gradients of a loss multiplied by :math:`s`."""

  def update_fn(updates, state, params=None):
    del params
    reject_sparse(updates, "loss_scale_factor")
    scale = loss_scale_factor
    return jax.tree.map(lambda g: g / scale if is_trained(g) else g, updates), state

  return optax.GradientTransformation(lambda params: optax.EmptyState(), update_fn)


def accumulation_schedule(learning_rate, steps: int):
  """The rate the inner stages of :func:`accumulate_gradients` see at real update ``k``
  (0 first): Keras reads its schedule at the raw call count, ``k * steps + steps - 1``."""
  if not callable(learning_rate):
    return learning_rate
  return lambda count: learning_rate(count * steps + (steps - 1))


class AccumulationState(NamedTuple):
  """State of :func:`accumulate_gradients`.

  Attributes:
    calls: int32, calls so far (Keras's raw ``_iterations``).
    accumulated: the sum of the gradients since the last real update.
    inner: the wrapped optimizer's state (it advances on real updates only).
  """

  calls: jax.Array
  accumulated: Updates
  inner: OptState


def accumulate_gradients(
  inner: optax.GradientTransformation, steps: int
) -> optax.GradientTransformationExtraArgs:
  r"""Keras's ``gradient_accumulation_steps``: ``inner`` runs on every ``steps``-th call.

  The other calls add the gradient to an accumulator :math:`a \leftarrow g + a` and
  leave the params unchanged (an update of ``-0.0``, which keeps every value and sign,
  or a :class:`~adamax_optax.NewValue` that does not apply);
  call :math:`n` with :math:`(n + 1) \bmod \mathrm{steps} = 0` gives ``inner`` the mean
  :math:`(g + a) \cdot \mathrm{fl}(1 / \mathrm{steps})` (Keras's division by ``steps``,
  as XLA compiles it) and resets :math:`a` to 0.
  ``inner``'s schedules count its own updates; give it
  :func:`accumulation_schedule` to read them at Keras's raw count instead.
  """

  def init_fn(params):
    zeros = jax.tree.map(lambda p: jnp.zeros(jnp.shape(p), jnp.asarray(p).dtype), params)
    return AccumulationState(jnp.zeros([], jnp.int32), zeros, inner.init(params))

  inner_update = optax.with_extra_args_support(inner).update

  def update_fn(updates, state, params=None, **extra_args):
    reject_sparse(updates, "gradient_accumulation_steps")
    is_update = (state.calls + 1) % steps == 0
    summed = jax.tree.map(lambda g, a: g + a, updates, state.accumulated)

    def real_update(_):
      # Keras divides by the constant ``steps`` inside a compiled cond, where XLA turns
      # the division into a multiply by the float32 reciprocal.
      reciprocal = np.float32(1) / np.float32(steps)
      mean = jax.tree.map(lambda s: rounded(s * reciprocal), summed)
      new_updates, new_inner = inner_update(mean, state.inner, params, **extra_args)
      reset = jax.tree.map(jnp.zeros_like, state.accumulated)
      return new_updates, new_inner, reset

    def accumulate(_):
      # An update of the real one's form (a NewValue with exact_apply) keeping the params.
      real = jax.eval_shape(real_update, None)[0]
      unchanged = jax.tree.map(unchanged_update, real, is_leaf=is_update_leaf)
      return unchanged, state.inner, summed

    new_updates, new_inner, accumulated = jax.lax.cond(is_update, real_update, accumulate, None)
    calls = optax.safe_increment(state.calls)
    return new_updates, AccumulationState(calls, accumulated, new_inner)

  return optax.GradientTransformationExtraArgs(init_fn, update_fn)


class MovingAverageState(NamedTuple):
  """State of :func:`moving_average`.

  Attributes:
    calls: int32, calls so far (Keras's raw ``_iterations``).
    average: the exponential moving average of the params (Keras's ``average``
      variables), read it with :func:`ema_params`.
    inner: the wrapped optimizer's state.
  """

  calls: jax.Array
  average: Params
  inner: OptState


def moving_average(
  inner: optax.GradientTransformation,
  momentum: float,
  overwrite_frequency: int | None,
  accumulation_steps: int | None = None,
  *,
  compiled: bool = False,
) -> optax.GradientTransformationExtraArgs:
  r"""Keras's ``use_ema``: a moving average of the params, updated after every step.

  With :math:`w` the params after ``inner``'s update and :math:`i` Keras's
  ``iterations`` before this call (the call count, divided by ``accumulation_steps``
  when accumulating):

  .. math::

    \mu = \beta\,[i \ne 0], \qquad a \leftarrow \mu a + (1 - \mu) w

  (the first call copies :math:`w`), both products rounded (Keras run eagerly), or with
  ``compiled`` the first one fused into the sum (the step ``model.fit`` compiles, where
  XLA contracts it). With ``overwrite_frequency`` :math:`F`, whenever
  :math:`(i + 1) \bmod F = 0` the params are replaced by :math:`a \cdot 1 + w \cdot 0`
  as Keras computes it (NaN if :math:`w` is not finite); the update then is
  :math:`a - w_{old}`, which lands exactly on :math:`a` when the two are within a factor
  of two of each other (always, in practice), or, where ``inner`` returns
  :class:`~adamax_optax.NewValue` updates (``exact_apply``), :math:`a` itself. Read
  :math:`a` with :func:`ema_params`.
  """

  def init_fn(params):
    zeros = jax.tree.map(lambda p: jnp.zeros(jnp.shape(p), jnp.asarray(p).dtype), params)
    return MovingAverageState(jnp.zeros([], jnp.int32), zeros, inner.init(params))

  inner_update = optax.with_extra_args_support(inner).update

  def update_fn(updates, state, params=None, **extra_args):
    require_params(params)
    reject_sparse(updates, "use_ema")
    new_updates, new_inner = inner_update(updates, state.inner, params, **extra_args)
    applied_updates = new_updates
    if extra_args.get("touched_rows") is not None:  # lazy_rows: the rows it will update
      applied_updates = jax.tree.map(
        keep_rows_of_update,
        extra_args["touched_rows"],
        new_updates,
        params,
        is_leaf=is_update_leaf,
      )
    new_params = jax.tree.map(applied, params, applied_updates, is_leaf=is_update_leaf)
    iterations = state.calls // accumulation_steps if accumulation_steps else state.calls
    mu = (iterations != 0).astype(jnp.float32) * momentum

    def average(a, w):
      if not is_trained(w):
        return a
      m = mu.astype(w.dtype)
      first = m * a if compiled else rounded(m * a)
      return first + rounded((1 - m) * w)

    averages = jax.tree.map(average, state.average, new_params)
    if overwrite_frequency:
      overwrite = ((iterations + 1) % overwrite_frequency == 0).astype(jnp.int32)

      def overwritten(u, p, a, w):
        if not is_trained(w):
          return u
        w_new = rounded(a * overwrite) + rounded(w * (1 - overwrite))
        if is_new_value(u):  # the average itself, set exactly
          value = jnp.where(overwrite == 1, w_new.astype(u.value.dtype), u.value)
          return NewValue(value, u.applies | (overwrite == 1))
        return jnp.where(overwrite == 1, (w_new - p).astype(u.dtype), u)

      new_updates = jax.tree.map(
        overwritten, new_updates, params, averages, new_params, is_leaf=is_update_leaf
      )
    calls = optax.safe_increment(state.calls)
    return new_updates, MovingAverageState(calls, averages, new_inner)

  return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def ema_params(state: OptState) -> Params:
  """The moving averages of the params (Keras's ``finalize_variable_values`` writes
  these into the model) from the state of an optimizer built with ``use_ema=True``.

  Raises a ValueError when the state holds no moving average.
  """
  found = [
    s.average
    for s in jax.tree.leaves(state, is_leaf=lambda x: isinstance(x, MovingAverageState))
    if isinstance(s, MovingAverageState)
  ]
  if len(found) != 1:
    raise ValueError(
      "This optimizer state holds no moving average of the params; build the optimizer "
      "with use_ema=True (keras_adamax(..., use_ema=True))."
    )
  return found[0]


def weight_decay_mask(patterns: Sequence[str]) -> Callable[[Params], list]:
  """The decoupled decay's mask for Keras's ``exclude_from_weight_decay(var_names=...)``:
  a leaf is excluded when any pattern is found (``re.search``) in its name (its pytree
  path joined with "/", e.g. ``"Dense_0/bias"``)."""
  pattern = re.compile("|".join(sorted(set(patterns))))

  def mask(params):
    decays = [pattern.search(name) is None for name in leaf_names(params)]
    return jax.tree.unflatten(jax.tree.structure(params), decays)

  return mask


__all__ = [
  "AccumulationState",
  "MovingAverageState",
  "accumulate_gradients",
  "accumulation_schedule",
  "ema_params",
  "moving_average",
  "unscale",
  "weight_decay_mask",
]
