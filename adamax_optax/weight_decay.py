"""Weight decay, coupled (L2 added to the gradient) and decoupled (applied to weights)."""

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from adamax_optax._leaves import (
  NewValue,
  SparseRows,
  is_sparse,
  is_trained,
  new_value,
  reject_sparse,
)
from adamax_optax._rounding import rounded
from adamax_optax._typing import Params
from adamax_optax.validation import check_bool, check_range, require_params, scheduled_value

WeightDecay = jax.typing.ArrayLike | Any


def _rate_tree(weight_decay, params):
  """Broadcasts a scalar rate to the params' structure; a pytree is used as given."""
  if jax.tree.structure(weight_decay).num_leaves == 1 and jnp.ndim(weight_decay) == 0:
    return jax.tree.map(lambda _: weight_decay, params)
  if jax.tree.structure(weight_decay) != jax.tree.structure(params):
    raise ValueError(
      "weight_decay, a pytree of per-parameter rates, must have the params' structure "
      f"{jax.tree.structure(params)}, got {jax.tree.structure(weight_decay)}."
    )
  return weight_decay


def _mask_tree(mask, params):
  """One bool per leaf: the mask as given, from the callable, or all True."""
  if mask is None:
    return jax.tree.map(lambda _: True, params)
  return mask(params) if callable(mask) else mask


class WeightDecayScheduleState(NamedTuple):
  """State of :func:`add_decayed_weights` with a scheduled rate.

  Attributes:
    count: updates so far (int32, saturating), the schedule's argument.
  """

  count: jax.Array


def add_decayed_weights(
  weight_decay: WeightDecay = 0.0,
  mask: Any | Callable[[Params], Any] | None = None,
  *,
  fused: bool = False,
  vector_chunk: int | None = None,
) -> optax.GradientTransformation:
  r"""Adds coupled (L2) weight decay to the gradient: :math:`g \leftarrow g + \lambda w`.

  Unlike :func:`optax.add_decayed_weights`, ``weight_decay`` may be a pytree with one
  rate per parameter (MXNet's ``wd * wd_mult``), and the rounding is under control:
  by default the product :math:`\lambda w` is rounded before the addition (MXNet,
  MindSpore, Paddle); ``fused=True`` computes it as one fused multiply-add (PyTorch's
  ``grad.add(param, alpha=wd)`` on the CPU), which XLA emits from the unrounded form.

  Args:
    weight_decay: a rate (number or 0-d array) for every leaf, a pytree of rates
      with the params' structure, or a schedule ``count -> rate`` (called with 0 on the
      first update, as :func:`optax.add_decayed_weights` calls it).
    mask: optional pytree or callable of params giving the leaves to decay.
    fused: round once (fused multiply-add) instead of twice.
    vector_chunk: with ``fused``, how a CPU kernel that works in vector chunks treats
      float16 and bfloat16 leaves (PyTorch's add kernel: 32 elements on AVX2 and AVX-512).
      The rate is rounded to the leaf's dtype; the first ``n - n % vector_chunk``
      elements of the flattened leaf get ``f16(fma(w, rate, g))`` in float32, and the
      remaining tail, done by scalar code, rounds the product to 16 bits first:
      ``f16(g + f16(rate * w))``. ``None`` (default) treats every element alike.

  Returns:
    An :class:`optax.GradientTransformation`; its ``update`` needs ``params``. It is
    stateless (:class:`optax.EmptyState`) for a rate or a tree of rates; a schedule keeps
    its count in a :class:`WeightDecayScheduleState`.

  Example:
    >>> import jax.numpy as jnp, optax
    >>> from adamax_optax import add_decayed_weights
    >>> w = jnp.array([1.0, -2.0])
    >>> print(add_decayed_weights(0.1).update(jnp.zeros(2), None, w)[0])
    [ 0.1 -0.2]
    >>> decay = add_decayed_weights(optax.linear_schedule(0.1, 0.0, transition_steps=10))
    >>> print(decay.update(jnp.zeros(2), decay.init(w), w)[0])
    [ 0.1 -0.2]
  """
  scheduled = callable(weight_decay)
  if not scheduled:
    for rate in jax.tree.leaves(weight_decay):
      check_range("weight_decay", rate, 0.0)
  if vector_chunk is not None and (
    not isinstance(vector_chunk, int) or isinstance(vector_chunk, bool) or vector_chunk < 1
  ):
    raise ValueError(f"vector_chunk must be a positive int or None, got {vector_chunk!r}.")

  def init_fn(params):
    del params
    if scheduled:
      return WeightDecayScheduleState(count=jnp.zeros([], jnp.int32))
    return optax.EmptyState()

  def update_fn(updates, state, params=None):
    require_params(params)
    if scheduled:
      rate = scheduled_value("weight_decay", weight_decay, state.count)
      rates = _rate_tree(rate, params)
      state = WeightDecayScheduleState(count=optax.safe_increment(state.count))
    else:
      rates = _rate_tree(weight_decay, params)

    def leaf(g, w, rate, decays):
      if is_sparse(g):  # only the touched rows decay
        return SparseRows(g.indices, leaf(g.values, w[g.indices], rate, decays))
      if not (decays and is_trained(g) and is_trained(w)):
        return g
      if fused and vector_chunk and jnp.finfo(g.dtype).bits == 16:
        return _chunked_fused_decay(g, w, rate, vector_chunk)
      decay = w * rate if fused else rounded(w * rate)
      return (g + decay).astype(g.dtype)

    mask_tree = _mask_tree(mask, params)
    return jax.tree.map(leaf, updates, params, rates, mask_tree, is_leaf=is_sparse), state

  return optax.GradientTransformation(init_fn, update_fn)


def _chunked_fused_decay(g, w, rate, chunk: int):
  """``g + rate * w`` for a 16-bit leaf as a vector-chunked CPU kernel computes it."""
  dtype, wide = g.dtype, jnp.float32
  rate = jnp.asarray(rate).astype(dtype).astype(wide)
  flat_g, flat_w = g.reshape(-1).astype(wide), w.reshape(-1).astype(wide)
  cut = flat_g.size - flat_g.size % chunk
  # Vector body: one fused multiply-add in float32 (XLA contracts it), rounded once.
  body = (flat_g[:cut] + rate * flat_w[:cut]).astype(dtype)
  # Scalar tail: the 16-bit product rounds before the add.
  product = rounded((rate * flat_w[cut:]).astype(dtype)).astype(wide)
  tail = (flat_g[cut:] + product).astype(dtype)
  return jnp.concatenate([body, tail]).reshape(g.shape)


def add_decoupled_weight_decay(
  weight_decay: jax.typing.ArrayLike,
  learning_rate: optax.ScalarOrSchedule,
  mask: Any | Callable[[Params], Any] | None = None,
  *,
  fused: bool = False,
  exact_apply: bool = False,
) -> optax.GradientTransformation:
  r"""Keras-style decoupled decay, applied to the weights before the incoming step.

  Placed after the step in a chain, it turns the step :math:`\Delta` into the update
  that takes :math:`w` to :math:`(w - (w \lambda)\, \eta) + \Delta`, rounded in that
  order, which is what Keras 3 does (decay first, then the Adamax step, with the
  learning rate :math:`\eta` not bias-corrected). By default the update is returned as
  the difference from :math:`w`, which :func:`optax.apply_updates` adds back exactly
  whenever the old and new weights are within a factor of two of each other; past that
  (a weight that halves or crosses zero in one step) the new weight may be an ulp off
  Keras's. With ``exact_apply=True`` the update carries the new weight itself (a
  :class:`~adamax_optax.NewValue`), which :func:`adamax_optax.apply_updates` sets, exact
  at every step; use that where every bit matters (``optax.apply_updates`` refuses it).

  Args:
    weight_decay: the decay rate :math:`\lambda`.
    learning_rate: the learning rate :math:`\eta` it is scaled by: a number or an optax
      schedule (called with the count before this update, 0 first, as Keras reads its
      learning rate before incrementing ``iterations``).
    mask: optional pytree or callable of params giving the leaves to decay.
    fused: keyword-only. False (default): :math:`(w \lambda)\, \eta` is rounded before
      it is subtracted (Keras run eagerly); True: :math:`w - w\, (\lambda \eta)` with
      :math:`\lambda \eta` rounded and the multiply-subtract rounded once (the step
      ``model.fit`` compiles, where XLA reassociates the scalars and contracts the rest).
    exact_apply: keyword-only. False (default): updates are differences, for
      :func:`optax.apply_updates`, exact within the factor of two above. True: each
      trained leaf's update is a :class:`~adamax_optax.NewValue` holding the new weight
      (decayed or not), for :func:`adamax_optax.apply_updates`, exact at every step.

  Returns:
    An :class:`optax.GradientTransformation`; its ``update`` needs ``params``. Its state
    is :class:`optax.ScaleByScheduleState` (the count) with a schedule, else empty.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax import add_decoupled_weight_decay
    >>> opt = add_decoupled_weight_decay(0.25, learning_rate=0.5)
    >>> w = jnp.array([1.0, -2.0])
    >>> print(opt.update(jnp.zeros(2), opt.init(w), w)[0])
    [-0.125  0.25 ]

    A step that takes the weight across zero: the difference lands an ulp off, the new
    value (``f32(f32(0.3 - 0.0375) - 1.1)``) exactly:

    >>> import adamax_optax, optax
    >>> w, step = jnp.array([0.3]), jnp.array([-1.1])
    >>> print(optax.apply_updates(w, opt.update(step, opt.init(w), w)[0]))
    [-0.83750004]
    >>> exact = add_decoupled_weight_decay(0.25, learning_rate=0.5, exact_apply=True)
    >>> print(adamax_optax.apply_updates(w, exact.update(step, exact.init(w), w)[0]))
    [-0.8375]
  """
  check_range("weight_decay", weight_decay, 0.0)
  check_bool("exact_apply", exact_apply)
  check_range("learning_rate", learning_rate, 0.0, allow_schedule=True)
  scheduled = callable(learning_rate)

  def init_fn(params):
    del params
    if scheduled:
      return optax.ScaleByScheduleState(count=jnp.zeros([], jnp.int32))
    return optax.EmptyState()

  def update_fn(updates, state, params=None):
    require_params(params)
    reject_sparse(updates, "add_decoupled_weight_decay (keras_adamax)")
    lr = learning_rate(state.count) if scheduled else learning_rate
    rates = {}

    def fused_rate(dtype):
      """``wd * lr`` rounded in ``dtype``: one scalar for all the leaves of a dtype, traced
      once rather than once per leaf (a model's many leaves cost tracing and compile time)."""
      if dtype not in rates:
        rates[dtype] = rounded(jnp.asarray(weight_decay, dtype) * jnp.asarray(lr, dtype))
      return rates[dtype]

    def leaf(step, w, decays):
      if not (is_trained(step) and is_trained(w)):
        return step
      if not decays:
        return new_value(w, step) if exact_apply else step
      if fused:
        # XLA reassociates (w * wd) * lr into w * (wd * lr), a scalar product, then
        # contracts the multiply into the subtraction.
        decayed = w - w * fused_rate(w.dtype)
      else:
        decayed = w - rounded(rounded(w * weight_decay) * lr)
      if exact_apply:
        return NewValue((decayed + step).astype(w.dtype), jnp.asarray(True))
      return ((decayed + step) - w).astype(step.dtype)

    new_updates = jax.tree.map(leaf, updates, params, _mask_tree(mask, params))
    if scheduled:
      state = optax.ScaleByScheduleState(count=optax.safe_increment(state.count))
    return new_updates, state

  return optax.GradientTransformation(init_fn, update_fn)


__all__ = ["WeightDecayScheduleState", "add_decayed_weights", "add_decoupled_weight_decay"]
