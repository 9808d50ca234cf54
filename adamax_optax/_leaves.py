"""Which leaves the optimizers train.

Floating and complex leaves are trained. Integer and bool leaves (step counters, masks
kept among the params) and float0 gradients are not: every stage passes them through
unchanged and Adamax gives them a zero update in their own dtype, so
``optax.apply_updates`` leaves them exactly as they were.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax


def is_trained(x) -> bool:
  return jnp.issubdtype(x.dtype, jnp.inexact)


def trained_only(inner: optax.GradientTransformation) -> optax.GradientTransformation:
  """``inner`` (an optax stage such as ``optax.clip``) with untrained leaves passed through."""

  def update_fn(updates, state, params=None):
    new_updates, state = inner.update(updates, state, params)
    keep = lambda new, old: new if is_trained(old) else old
    return jax.tree.map(keep, new_updates, updates), state

  return optax.GradientTransformation(inner.init, update_fn)


__all__ = ["is_trained", "trained_only"]
