"""Float32 master copies of low-precision weights (MXNet's ``multi_precision``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from adamax_optax.validation import require_params


class MultiPrecisionState(NamedTuple):
  """State of :func:`multi_precision`.

  Attributes:
    master: a master copy per low-precision leaf, ``None`` for the other leaves.
    inner: the wrapped transformation's state, built on the master copies.
  """

  master: Any
  inner: optax.OptState


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

  def update_fn(updates, state, params=None):
    require_params(params)
    is_none = lambda x: x is None
    grads = jax.tree.map(
      lambda m, g: g if m is None else g.astype(master_dtype),
      state.master,
      updates,
      is_leaf=is_none,
    )
    steps, inner_state = inner.update(grads, state.inner, with_masters(params, state.master))
    master = jax.tree.map(
      lambda m, s: None if m is None else (m + s).astype(master_dtype),
      state.master,
      steps,
      is_leaf=is_none,
    )

    def out(m, s, p):
      if m is None:
        return s.astype(p.dtype)
      return m.astype(p.dtype).astype(master_dtype) - p.astype(master_dtype)

    new_updates = jax.tree.map(out, master, steps, params, is_leaf=is_none)
    return new_updates, MultiPrecisionState(master=master, inner=inner_state)

  return optax.GradientTransformation(init_fn, update_fn)


__all__ = ["MultiPrecisionState", "multi_precision"]
