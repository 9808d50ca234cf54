"""Which leaves the optimizers train, and the sparse-row gradient they also take.

Floating and complex leaves are trained. Integer and bool leaves (step counters, masks
kept among the params) and float0 gradients are not: every stage passes them through
unchanged and Adamax gives them a zero update in their own dtype, so
``optax.apply_updates`` leaves them exactly as they were. :class:`SparseRows` (see
:mod:`adamax_optax.lazy`) carries a gradient that is zero outside some rows;
:class:`NewValue` carries an update as the parameter's new value, for an exact apply.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from adamax_optax._rounding import rounded
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


class NewValue(NamedTuple):
  """An update that carries the parameter's new value (a preset's ``exact_apply=True``).

  :func:`adamax_optax.apply_updates` sets the parameter to ``value`` where ``applies``
  is true and keeps it otherwise, so the new weight is the framework's exactly, however
  far it moves; :func:`optax.apply_updates`, which adds an update, refuses it. A wrapper
  that zeroes updates (a skipped step, ``optax.MultiSteps`` between its updates,
  ``optax.apply_if_finite``) zeroes ``applies`` too, which keeps the parameter.

  Attributes:
    value: the new value, in the parameter's dtype and shape.
    applies: a bool 0-d array: whether the parameter takes ``value``.
  """

  value: jax.Array
  applies: jax.Array

  # NumPy and JAX arrays defer ``params + update`` to the update, which explains itself.
  __array_ufunc__ = None

  def __add__(self, other):
    raise TypeError(
      "This update is a NewValue (the optimizer was built with exact_apply=True): it "
      "carries the parameter's new value and cannot be added. Apply it with "
      "adamax_optax.apply_updates(params, updates), not optax.apply_updates."
    )

  __radd__ = __add__


def is_new_value(x) -> bool:
  return isinstance(x, NewValue)


def is_update_leaf(x) -> bool:
  """A leaf of an update tree: :class:`SparseRows` and :class:`NewValue` are one each."""
  return isinstance(x, (SparseRows, NewValue))


def new_value(param: jax.Array, update: jax.Array) -> NewValue:
  """The :class:`NewValue` of adding the (delta) ``update`` to ``param``: ``param +
  update`` rounded once to the parameter's dtype, what :func:`optax.apply_updates`
  computes, with the update rounded where it stands (never contracted into the sum)."""
  value = (param + rounded(update)).astype(jnp.asarray(param).dtype)
  return NewValue(value, jnp.asarray(True))


def applied(param: jax.Array, update):
  """``param`` after ``update``: a delta (added as :func:`optax.apply_updates` adds it),
  a :class:`NewValue`, or :class:`SparseRows` of either (only its rows change)."""
  if is_sparse(update):
    return param.at[update.indices].set(applied(param[update.indices], update.values))
  if is_new_value(update):
    return jnp.where(update.applies, update.value, param).astype(jnp.asarray(param).dtype)
  return optax.apply_updates(param, update)


def unchanged_update(update):
  """An update of ``update``'s kind (an array, or its shape and dtype) that leaves the
  parameter as it is: a :class:`NewValue` that does not apply, or ``-0.0`` (which keeps
  every value and sign, -0.0 included)."""
  if is_new_value(update):
    return NewValue(jnp.zeros(update.value.shape, update.value.dtype), jnp.asarray(False))
  return jnp.full(update.shape, -0.0, update.dtype)


def keep_rows_of_update(touched_rows: jax.Array, update, param):
  """``update`` changing only the rows (axis 0) where ``touched_rows`` is true: a delta
  is zeroed in the other rows, a :class:`NewValue` carries the param's own rows there."""
  if is_new_value(update):
    return NewValue(keep_rows(touched_rows, update.value, param), update.applies)
  return keep_rows(touched_rows, update, jnp.zeros_like(update))


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
  "NewValue",
  "SparseRows",
  "applied",
  "check_shapes_match",
  "is_new_value",
  "is_sparse",
  "is_trained",
  "is_update_leaf",
  "keep_rows",
  "keep_rows_of_update",
  "new_value",
  "reject_sparse",
  "trained_only",
  "unchanged_update",
]
