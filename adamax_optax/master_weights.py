"""Low-precision weights updated in float32: master copies (MXNet's ``multi_precision``)
or a float32 computation stored back once (a kernel like MindSpore's ``ApplyAdaMax``)."""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from adamax_optax._leaves import reject_sparse
from adamax_optax._typing import OptState
from adamax_optax.validation import require_params


class MultiPrecisionState(NamedTuple):
  """State of :func:`multi_precision`.

  Attributes:
    master: a master copy per low-precision leaf, ``None`` for the other leaves.
    inner: the wrapped transformation's state, built on the master copies.
  """

  master: Any
  inner: OptState


def _is_low_precision(x, master_dtype) -> bool:
  dtype = jnp.asarray(x).dtype if not hasattr(x, "dtype") else x.dtype
  return (
    jnp.issubdtype(dtype, jnp.floating) and jnp.finfo(dtype).bits < jnp.finfo(master_dtype).bits
  )


def multi_precision(
  inner: optax.GradientTransformation,
  master_dtype: jax.typing.DTypeLike = jnp.float32,
) -> optax.GradientTransformation:
  r"""Runs ``inner`` on float32 master copies of float16 and bfloat16 weights.

  For each leaf whose float type is narrower than ``master_dtype``, the state keeps a
  master copy :math:`\bar w`; ``inner`` sees the gradient cast to ``master_dtype`` and
  the master copy as params (so its moments are float32 too), and the master copy is
  advanced by its update: :math:`\bar w \leftarrow \bar w + \Delta`. The returned
  update, in ``master_dtype``, is the difference that makes :func:`optax.apply_updates`
  produce exactly ``cast(new master, param dtype)``, whenever the old and new weights
  are within a factor of :math:`2^{13}` in magnitude. Other leaves pass through.

  This is MXNet's ``multi_precision=True``.

  Args:
    inner: the transformation to run in high precision.
    master_dtype: dtype of the master copies. Default float32.

  Returns:
    An :class:`optax.GradientTransformation`; its ``update`` needs ``params``.

  Example:
    >>> import jax.numpy as jnp, optax
    >>> from adamax_optax import multi_precision, scale_by_adamax
    >>> opt = multi_precision(optax.chain(scale_by_adamax(), optax.scale(-0.1)))
    >>> w = jnp.array([1.0, 2.0], jnp.float16)
    >>> updates, _ = opt.update(w, opt.init(w), w)
    >>> print(optax.apply_updates(w, updates))
    [0.9 1.9]
  """
  master_dtype = jnp.dtype(master_dtype)

  def with_masters(params, master):
    return jax.tree.map(
      lambda m, p: p if m is None else m, master, params, is_leaf=lambda x: x is None
    )

  def init_fn(params):
    master = jax.tree.map(
      lambda p: p.astype(master_dtype) if _is_low_precision(p, master_dtype) else None,
      params,
    )
    return MultiPrecisionState(master=master, inner=inner.init(with_masters(params, master)))

  inner = optax.with_extra_args_support(inner)

  def update_fn(updates, state, params=None, **extra_args):
    require_params(params)
    reject_sparse(updates, "multi_precision")
    is_none = lambda x: x is None
    grads = jax.tree.map(
      lambda m, g: g if m is None else g.astype(master_dtype),
      state.master,
      updates,
      is_leaf=is_none,
    )
    steps, inner_state = inner.update(
      grads, state.inner, with_masters(params, state.master), **extra_args
    )
    master = jax.tree.map(
      lambda m, s: None if m is None else (m + s).astype(master_dtype),
      state.master,
      steps,
      is_leaf=is_none,
    )

    new_updates = jax.tree.map(_stored_once, master, steps, params, is_leaf=is_none)
    return new_updates, MultiPrecisionState(master=master, inner=inner_state)

  return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def _stored_once(new_weight, step, param):
  """The update taking ``param`` to ``cast(new_weight, param.dtype)`` under apply_updates.

  In the wide dtype, the difference of two values of ``param``'s narrow type is exact
  while they are within a factor of 2**13 of each other (11 vs 24 significant bits), so
  ``param + update`` lands on the rounded new weight. ``new_weight`` None: ``step`` is
  already the update of a leaf that is not low precision.
  """
  if new_weight is None:
    return step.astype(param.dtype)
  wide = new_weight.dtype
  return new_weight.astype(param.dtype).astype(wide) - param.astype(wide)


def in_higher_precision(
  inner: optax.GradientTransformation,
  compute_dtype: jax.typing.DTypeLike = jnp.float32,
) -> optax.GradientTransformation:
  r"""Runs ``inner`` in float32 on float16 and bfloat16 leaves, rounding the weight once.

  For each leaf narrower than ``compute_dtype``, ``inner`` sees the gradient and the
  weight upcast and computes in ``compute_dtype``; its update is returned in
  ``compute_dtype``, so :func:`optax.apply_updates` computes ``w + update`` there and
  rounds the new weight to the leaf's dtype once: :math:`w \leftarrow
  \mathrm{cast}(w + \Delta)`, exactly. Unlike :func:`multi_precision` no master copy is
  kept, and ``inner``'s state is built on the params as given, so its moments keep the
  params' dtype. Other leaves pass through.

  This is the rule of a framework kernel that reads 16-bit tensors, computes in float32
  and writes them back (MindSpore's ``ApplyAdaMax``). The presets express such rules
  per stage instead (:class:`adamax_optax.Arithmetic`'s ``half``), because the stages
  before the kernel may compute in 16 bits: :func:`mindspore_nn_adamax` adds the decay
  and divides the loss scale in float16, as MindSpore does, and only its Adamax stage
  computes in float32.

  Args:
    inner: the transformation to run in high precision.
    compute_dtype: dtype to compute in. Default float32.

  Returns:
    An :class:`optax.GradientTransformation`; its ``update`` needs ``params``.

  Example:
    >>> import jax.numpy as jnp, optax
    >>> from adamax_optax import in_higher_precision
    >>> opt = in_higher_precision(optax.scale(-0.0004))
    >>> w = jnp.array([1.0], jnp.float16)
    >>> updates, _ = opt.update(w, opt.init(w), w)
    >>> print(updates.dtype, optax.apply_updates(w, updates))
    float32 [0.9995]
  """
  compute_dtype = jnp.dtype(compute_dtype)
  inner = optax.with_extra_args_support(inner)

  def update_fn(updates, state, params=None, **extra_args):
    require_params(params)
    reject_sparse(updates, "in_higher_precision")
    low = jax.tree.map(lambda p: _is_low_precision(p, compute_dtype), params)
    upcast = lambda x, is_low: x.astype(compute_dtype) if is_low else x
    steps, state = inner.update(
      jax.tree.map(upcast, updates, low), state, jax.tree.map(upcast, params, low), **extra_args
    )
    new_updates = jax.tree.map(
      lambda s, p, is_low: s.astype(compute_dtype if is_low else p.dtype), steps, params, low
    )
    return new_updates, state

  return optax.GradientTransformationExtraArgs(inner.init, update_fn)


__all__ = ["MultiPrecisionState", "in_higher_precision", "multi_precision"]
