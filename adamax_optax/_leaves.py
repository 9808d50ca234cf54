"""Which leaves the optimizers train, and the sparse-row gradient they also take.

Floating and complex leaves are trained. Integer and bool leaves (step counters, masks
kept among the params) and float0 gradients are not: every stage passes them through
unchanged and Adamax gives them a zero update in their own dtype, so
``optax.apply_updates`` leaves them exactly as they were. :class:`SparseRows` (see
:mod:`adamax_optax.lazy`) carries a gradient that is zero outside some rows.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from adamax_optax.param_groups import leaf_names


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
  def from_dense(cls, dense: jax.Array, indices: jax.Array) -> "SparseRows":
    """The rows ``indices`` of ``dense``."""
    return cls(jnp.asarray(indices), jnp.asarray(dense)[indices])

  def to_dense(self, num_rows: int) -> jax.Array:
    rows = jnp.zeros((num_rows, *self.values.shape[1:]), self.values.dtype)
    return rows.at[self.indices].set(self.values)


def is_sparse(x) -> bool:
  return isinstance(x, SparseRows)


def python_numbers_as_arrays(tree):
  """``tree`` with its Python number leaves (``{"scale": 1.0}``) as 0-d arrays, as JAX
  makes them when they enter a jitted function (float32, int32, weakly typed), so that
  ``init`` takes the params ``update`` takes, as :func:`optax.adamax` does."""
  as_array = lambda x: jnp.asarray(x) if isinstance(x, (int, float, complex)) else x
  return jax.tree.map(as_array, tree)


def reject_sparse(updates, where: str) -> None:
  """A clear error where a stage cannot take :class:`SparseRows` gradients."""
  if any(is_sparse(x) for x in jax.tree.leaves(updates, is_leaf=is_sparse)):
    raise ValueError(
      f"{where} does not take SparseRows gradients; pass dense gradients (and use lazy_rows)."
    )


def check_shapes_match(grads, reference, what: str, leaf_what: str) -> tuple[list, list, list]:
  """The gradients must have ``reference``'s pytree structure and leaf shapes.

  ``reference`` is the params or a state tree like them; ``what`` names it in the
  structure error ("params", "state") and ``leaf_what`` in the shape error ("the
  parameter", "its state"). A :class:`SparseRows` gradient must carry whole rows.
  Raises a ValueError naming the first offending parameter; returns the names, the
  gradient leaves (sparse ones whole) and the reference leaves.
  """
  treedef = jax.tree.structure(grads, is_leaf=is_sparse)
  if treedef != jax.tree.structure(reference):
    got = leaf_names(treedef.unflatten([0] * treedef.num_leaves))
    want = leaf_names(reference)
    raise ValueError(
      f"The gradients' pytree structure differs from that of the {what}: leaves only in the "
      f"gradients {sorted(set(got) - set(want))}, only in the {what} "
      f"{sorted(set(want) - set(got))}; gradients {treedef}, {what} "
      f"{jax.tree.structure(reference)}."
    )
  names, leaves, refs = (
    leaf_names(reference),
    treedef.flatten_up_to(grads),
    jax.tree.leaves(reference),
  )
  for name, g, r in zip(names, leaves, refs, strict=True):
    if is_sparse(g):
      whole_rows = g.indices.shape == g.values.shape[:1] and g.values.shape[1:] == jnp.shape(r)[1:]
      shape = f"{g.values.shape} (SparseRows values, indices {g.indices.shape})"
    else:
      whole_rows, shape = jnp.shape(g) == jnp.shape(r), jnp.shape(g)
    if not whole_rows:
      raise ValueError(
        f"The gradient of parameter {name!r} has shape {shape}, but {leaf_what} has shape "
        f"{jnp.shape(r)}."
      )
  return names, leaves, refs


def is_trained(x) -> bool:
  return jnp.issubdtype(x.dtype, jnp.inexact)


def trained_only(inner: optax.GradientTransformation) -> optax.GradientTransformation:
  """``inner`` (an optax stage such as ``optax.clip``) with untrained leaves passed through."""

  def update_fn(updates, state, params=None):
    # Untrained leaves (integer params, float0 gradients) are hidden from ``inner``, which
    # could not compute on float0, and put back unchanged.
    leaves, treedef = jax.tree.flatten(updates)
    hidden = treedef.unflatten([g if is_trained(g) else None for g in leaves])
    new_updates, state = inner.update(hidden, state, params)
    new_leaves = treedef.flatten_up_to(new_updates)
    kept = [new if is_trained(g) else g for new, g in zip(new_leaves, leaves, strict=True)]
    return treedef.unflatten(kept), state

  return optax.GradientTransformation(inner.init, update_fn)


def keep_rows(touched_rows: jax.Array, new: jax.Array, old) -> jax.Array:
  """``new`` in the rows (along axis 0) where ``touched_rows`` is true, else ``old``."""
  mask = jnp.reshape(touched_rows, jnp.shape(touched_rows) + (1,) * (jnp.ndim(new) - 1))
  return jnp.where(mask, new, old)


__all__ = [
  "SparseRows",
  "check_shapes_match",
  "is_sparse",
  "is_trained",
  "keep_rows",
  "reject_sparse",
  "trained_only",
]
