"""Lazy row updates for embeddings: untouched rows keep their weights and moments.

MXNet's ``lazy_update`` idea, for Adamax. An embedding lookup's gradient is zero in
every row that the batch did not use. A dense Adamax step still decays those rows' m
and u and moves their weights; a lazy step leaves them exactly as they were. Two forms:

* :func:`lazy_rows` wraps any optimizer of this package and takes dense gradients: rows
  (along axis 0) whose gradient is entirely zero are restored after the step. The cost is
  that of a dense step.
* :class:`SparseRows` gradients (row indices and row values) are understood by the
  building blocks (:func:`scale_by_adamax`, :func:`add_decayed_weights`,
  :func:`rescale`, :func:`negate_gradients`, elementwise clipping) and so by the presets
  built from them; the step gathers and scatters only the touched rows, so a step over a
  1M x 64 table costs in proportion to the rows used. Apply the result with
  :func:`apply_updates`.
"""

import jax
import jax.numpy as jnp
import optax

from adamax_optax._leaves import (
  NewValue,
  SparseRows,
  applied,
  is_update_leaf,
  keep_rows,
  keep_rows_of_update,
)
from adamax_optax._preset import Preset
from adamax_optax._typing import Params, Updates
from adamax_optax.master_weights import MultiPrecisionState
from adamax_optax.scale_by_adamax import ScaleByAdamaxState


def apply_updates(params: Params, updates: Updates) -> Params:
  """:func:`optax.apply_updates` that also scatters :class:`SparseRows` updates and sets
  :class:`NewValue` updates.

  A sparse leaf adds its values to its rows only (``w[i] + update``, rounded to the
  param's dtype); every other row keeps its exact bits. A :class:`NewValue` leaf (a
  preset's ``exact_apply=True``) is the parameter's new value: it is set as it is
  (where its ``applies`` is true), bit for bit however far the weight moved. Any other
  leaf is added as :func:`optax.apply_updates` adds it.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax import NewValue, apply_updates
    >>> w = jnp.array([1.0, 2.0])
    >>> print(apply_updates(w, NewValue(jnp.array([-3.0, 0.5]), jnp.asarray(True))))
    [-3.   0.5]
  """
  return jax.tree.map(applied, params, updates, is_leaf=is_update_leaf)


def _touched_rows(g) -> jax.Array:
  """True for each row (axis 0) of ``g`` holding a nonzero value."""
  if jnp.ndim(g) == 0:
    return jnp.asarray(True)
  return jnp.any(g != 0, axis=tuple(range(1, jnp.ndim(g))))


def lazy_rows(inner: optax.GradientTransformation) -> optax.GradientTransformationExtraArgs:
  r"""``inner`` with rows whose gradient is entirely zero left untouched.

  For every leaf, a row (index along axis 0) whose incoming gradient is all zeros gets
  a zero update, and its m, u (and master weight, with ``multi_precision``) keep their
  values from before the step; the step count advances as usual, so the bias correction
  of a row used again later is the optimizer's global one (MXNet's per-parameter count).
  Weight decay is skipped for such rows as well. 0-d leaves are always updated. With
  :class:`NewValue` updates (``exact_apply=True``) such rows carry their weights as
  they are, which needs ``params``.

  A preset of this package (what its factories return) takes the touched rows as the
  extra argument ``touched_rows`` down to :func:`scale_by_adamax`, which keeps the old
  m and u of the other rows and computes the step from the kept moments: each table is
  written once, in place, and the step costs about what a dense step costs. Any other
  ``inner`` (a preset wrapped in :func:`optax.inject_hyperparams`, say) is restored
  after its step instead, which makes XLA copy the m and u tables.

  Args:
    inner: any optimizer of this package.

  Returns:
    An :class:`optax.GradientTransformationExtraArgs` with ``inner``'s state.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax import lazy_rows, torch_adamax
    >>> opt = lazy_rows(torch_adamax(lr=0.1, weight_decay=0.1))
    >>> table = jnp.ones((3, 2))
    >>> grads = jnp.zeros((3, 2)).at[1].set(1.0)
    >>> print(opt.update(grads, opt.init(table), table)[0])
    [[ 0.  0. ]
     [-0.1 -0.1]
     [ 0.  0. ]]
  """
  keeps_moments = isinstance(inner, Preset)
  inner = optax.with_extra_args_support(inner)
  masked = lambda x: isinstance(x, optax.MaskedNode)

  def update_fn(updates, state, params=None, **extra_args):
    touched = jax.tree.map(_touched_rows, updates)
    if keeps_moments:
      extra_args = {**extra_args, "touched_rows": touched}
    new_updates, new_state = inner.update(updates, state, params, **extra_args)
    # A NewValue update carries the params' own rows where a row is kept.
    param_rows = params if params is not None else touched  # a delta never reads them
    new_updates = jax.tree.map(
      keep_rows_of_update, touched, new_updates, param_rows, is_leaf=is_update_leaf
    )

    def keep(new_tree, old_tree):
      return jax.tree.map(
        lambda t, new, old: old if masked(new) or new is None else keep_rows(t, new, old),
        touched,
        new_tree,
        old_tree,
        is_leaf=lambda x: masked(x) or x is None,
      )

    def restore(new, old):
      if isinstance(new, ScaleByAdamaxState) and not keeps_moments:
        return new._replace(mu=keep(new.mu, old.mu), nu=keep(new.nu, old.nu))
      if isinstance(new, MultiPrecisionState):
        return MultiPrecisionState(
          master=keep(new.master, old.master), inner=walk(new.inner, old.inner)
        )
      return new

    def walk(new, old):
      is_node = lambda x: isinstance(x, (ScaleByAdamaxState, MultiPrecisionState))
      return jax.tree.map(restore, new, old, is_leaf=is_node)

    return new_updates, walk(new_state, state)

  return optax.GradientTransformationExtraArgs(inner.init, update_fn)


__all__ = ["NewValue", "SparseRows", "apply_updates", "lazy_rows"]
