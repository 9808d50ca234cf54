"""Multiplying gradients by a constant, rounded where it stands, and flipping their sign."""

import jax
import jax.numpy as jnp
import optax

from adamax_optax._leaves import SparseRows, is_sparse, is_trained
from adamax_optax._rounding import rounded
from adamax_optax.validation import check_range


def _on_values(fn):
  """``fn`` for dense leaves, and for the values of :class:`SparseRows` leaves."""
  return lambda g: SparseRows(g.indices, fn(g.values)) if is_sparse(g) else fn(g)


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
    scale = lambda g: rounded(g * factor).astype(g.dtype) if is_trained(g) else g
    return jax.tree.map(_on_values(scale), updates, is_leaf=is_sparse), state

  return optax.GradientTransformation(lambda params: optax.EmptyState(), update_fn)


def negate_gradients(enabled: jax.typing.ArrayLike = True) -> optax.GradientTransformation:
  r"""Negates every update when ``enabled``: :math:`g \leftarrow -g`.

  This is PyTorch's and MindSpore's ``maximize=True``: placed first in a chain, it turns
  the descent on the objective into an ascent, before weight decay sees the gradient.
  ``enabled`` may be a traced boolean (e.g. under :func:`optax.inject_hyperparams`).

  Args:
    enabled: whether to negate; a bool, or a 0-d array whose truth is read at run time.

  Returns:
    A stateless :class:`optax.GradientTransformation`.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax import negate_gradients
    >>> print(negate_gradients().update(jnp.array([2.0, -4.0]), None)[0])
    [-2.  4.]
  """
  if isinstance(enabled, str) or (
    not isinstance(enabled, jax.core.Tracer) and jnp.ndim(enabled) != 0
  ):
    raise TypeError(f"enabled (maximize) must be a bool or a 0-d array, got {enabled!r}.")

  def update_fn(updates, state, params=None):
    del params
    if isinstance(enabled, (jax.core.Tracer, jax.Array)):
      flip = lambda g: jnp.where(jnp.asarray(enabled, bool), -g, g)
    elif enabled:
      flip = jnp.negative
    else:
      return updates, state
    negate = lambda g: flip(g) if is_trained(g) else g
    return jax.tree.map(_on_values(negate), updates, is_leaf=is_sparse), state

  return optax.GradientTransformation(lambda params: optax.EmptyState(), update_fn)


__all__ = ["negate_gradients", "rescale"]
