"""Multiplying gradients by a constant, rounded where it stands."""

from __future__ import annotations

import jax
import optax

from adamax_optax._rounding import rounded
from adamax_optax.validation import check_range


def rescale(factor: jax.typing.ArrayLike) -> optax.GradientTransformation:
  r"""Multiplies every update by ``factor``: :math:`g \leftarrow g \cdot s`.

  This is MXNet's ``rescale_grad`` and MindSpore ``nn.AdaMax``'s ``1 / loss_scale``.
  It computes what :func:`optax.scale` computes, but rounds the product before any
  later stage adds to it: under ``jax.jit`` XLA would otherwise fuse it with the
  weight-decay addition into one fused multiply-add, which MXNet does not do.

  Args:
    factor: the multiplier, a finite number or 0-d array.

  Returns:
    A stateless :class:`optax.GradientTransformation`.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax import rescale
    >>> print(rescale(0.5).update(jnp.array([2.0, -4.0]), None)[0])
    [ 1. -2.]
  """
  check_range("factor", factor)

  def update_fn(updates, state, params=None):
    del params
    return jax.tree.map(lambda g: rounded(g * factor).astype(g.dtype), updates), state

  return optax.GradientTransformation(lambda params: optax.EmptyState(), update_fn)


__all__ = ["rescale"]
