"""Which leaves the optimizers train, and the sparse-row gradient they also take.

Floating and complex leaves are trained. Integer and bool leaves (step counters, masks
kept among the params) and float0 gradients are not: every stage passes them through
unchanged and Adamax gives them a zero update in their own dtype, so
``optax.apply_updates`` leaves them exactly as they were. :class:`SparseRows` (see
:mod:`adamax_optax.lazy`) carries a gradient that is zero outside some rows.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax


class SparseRows(NamedTuple):
  """A gradient (or update) that is zero outside some rows along axis 0.

  Attributes:
    indices: int array of shape ``(k,)``, the rows, each at most once (as in MXNet's
      ``row_sparse``).
    values: array of shape ``(k, *row_shape)``, those rows' values.
  """

  indices: jax.Array
  values: jax.Array

  @classmethod
  def from_dense(cls, dense: jax.Array, indices: jax.Array) -> SparseRows:
    """The rows ``indices`` of ``dense``."""
    return cls(jnp.asarray(indices), jnp.asarray(dense)[indices])

  def to_dense(self, num_rows: int) -> jax.Array:
    rows = jnp.zeros((num_rows, *self.values.shape[1:]), self.values.dtype)
    return rows.at[self.indices].set(self.values)


def is_sparse(x) -> bool:
  return isinstance(x, SparseRows)


def reject_sparse(updates, where: str) -> None:
  """A clear error where a stage cannot take :class:`SparseRows` gradients."""
  if any(is_sparse(x) for x in jax.tree.leaves(updates, is_leaf=is_sparse)):
    raise ValueError(
      f"{where} does not take SparseRows gradients; pass dense gradients (and use lazy_rows)."
    )


def is_trained(x) -> bool:
  return jnp.issubdtype(x.dtype, jnp.inexact)


def trained_only(inner: optax.GradientTransformation) -> optax.GradientTransformation:
  """``inner`` (an optax stage such as ``optax.clip``) with untrained leaves passed through."""

  def update_fn(updates, state, params=None):
    new_updates, state = inner.update(updates, state, params)
    keep = lambda new, old: new if is_trained(old) else old
    return jax.tree.map(keep, new_updates, updates), state

  return optax.GradientTransformation(inner.init, update_fn)


__all__ = ["SparseRows", "is_sparse", "is_trained", "reject_sparse", "trained_only"]
