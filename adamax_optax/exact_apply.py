"""Updates that carry the new weights, applied exactly: a preset's ``exact_apply=True``.

optax adds an update to the params (:func:`optax.apply_updates`), so an optimizer whose
framework assigns a new weight returns ``new - old``. That difference lands exactly on
the new weight when the two are within a factor of two of each other (Sterbenz's lemma),
and may be an ulp off past that: an element that shrinks by half or more or crosses
zero in one step. A preset built with ``exact_apply=True`` returns instead, for each
trained parameter, a :class:`~adamax_optax.NewValue` holding the new weight in the
parameter's dtype; :func:`adamax_optax.apply_updates` sets it, bit for bit.

Where a framework rounds ``w + step`` once from float32 (PyTorch, MindSpore's
``nn.AdaMax``), the presets return float32 updates for 16-bit params, which wrappers
that pair the updates with the gradients or the params under a ``lax.cond`` refuse
(``optax.apply_if_finite``, ``optax.transforms.conditionally_transform``, optax's
dtype tests). Two forms keep the params' dtype: the new values (``exact_apply=True``,
exact, for wrappers that zero updates such as ``optax.MultiSteps``), or
:func:`param_dtype_updates` (``updates_in_param_dtype=True``: plain arrays for every
wrapper and :func:`optax.apply_updates`, exact within the factor of two).
"""

import jax
import jax.numpy as jnp
import optax

from adamax_optax._leaves import (
  SparseRows,
  is_new_value,
  is_sparse,
  is_trained,
  is_update_leaf,
  new_value,
)
from adamax_optax.validation import require_params


def as_new_values(updates, params):
  """``updates`` with every trained leaf as the :class:`~adamax_optax.NewValue` of
  adding it to its parameter (one that already is a NewValue is kept); a
  :class:`~adamax_optax.SparseRows` update carries the new values of its rows."""

  def leaf(u, p):
    if is_new_value(u):
      return u
    if is_sparse(u):
      values = u.values if is_new_value(u.values) else new_value(p[u.indices], u.values)
      return SparseRows(u.indices, values)
    if not (is_trained(u) and is_trained(p)):
      return u
    return new_value(p, u)

  return jax.tree.map(leaf, updates, params, is_leaf=is_update_leaf)


def new_value_updates(inner: optax.GradientTransformation) -> optax.GradientTransformationExtraArgs:
  """``inner`` with its updates as :class:`~adamax_optax.NewValue` leaves, for
  :func:`adamax_optax.apply_updates`; the state is ``inner``'s.

  Its ``update`` needs ``params``. Each trained leaf's new value is ``param + update``
  rounded once to the parameter's dtype (what :func:`optax.apply_updates` computes);
  a stage of ``inner`` that knows the new value itself (Keras's decoupled weight decay
  with ``exact_apply=True``) hands over a NewValue, kept as it is.

  Example:
    >>> import jax.numpy as jnp, optax
    >>> import adamax_optax
    >>> from adamax_optax.exact_apply import new_value_updates
    >>> opt = new_value_updates(optax.sgd(0.5))
    >>> w = jnp.array([1.0, -2.0])
    >>> updates, _ = opt.update(jnp.ones(2), opt.init(w), w)
    >>> print(updates.value, adamax_optax.apply_updates(w, updates))
    [ 0.5 -2.5] [ 0.5 -2.5]
  """
  inner = optax.with_extra_args_support(inner)

  def update_fn(updates, state, params=None, **extra_args):
    require_params(params)
    new_updates, state = inner.update(updates, state, params, **extra_args)
    return as_new_values(new_updates, params), state

  return optax.GradientTransformationExtraArgs(inner.init, update_fn)


def param_dtype_updates(
  inner: optax.GradientTransformation,
) -> optax.GradientTransformationExtraArgs:
  """``inner`` with each trained update in its parameter's dtype: the difference
  ``new - w`` of the new value ``new = w + update`` (rounded once to the parameter's
  dtype, as :func:`optax.apply_updates` rounds it), computed in float32 and rounded to
  the parameter's dtype; the state is ``inner``'s.

  :func:`optax.apply_updates` adds it back to ``new`` exactly whenever ``new`` and
  ``w`` are within a factor of two of each other (the difference is then exact), and
  within the rounding of the difference past that. Updates already in the parameter's
  dtype (float32 params) pass unchanged. Its ``update`` needs ``params``.

  Example:
    >>> import jax.numpy as jnp, optax
    >>> from adamax_optax import torch_adamax
    >>> from adamax_optax.exact_apply import param_dtype_updates
    >>> opt = param_dtype_updates(torch_adamax(lr=0.01))
    >>> w = jnp.ones(2, jnp.float16)
    >>> updates, _ = opt.update(w, opt.init(w), w)
    >>> print(updates.dtype, optax.apply_updates(w, updates))
    float16 [0.99 0.99]
  """
  inner = optax.with_extra_args_support(inner)

  def leaf(u, p):
    if is_update_leaf(u) or not (is_trained(u) and is_trained(p)) or u.dtype == p.dtype:
      return u
    wide = jnp.promote_types(p.dtype, jnp.float32)
    new = new_value(p, u).value
    return (new.astype(wide) - p.astype(wide)).astype(p.dtype)

  def update_fn(updates, state, params=None, **extra_args):
    require_params(params)
    new_updates, state = inner.update(updates, state, params, **extra_args)
    return jax.tree.map(leaf, new_updates, params, is_leaf=is_update_leaf), state

  return optax.GradientTransformationExtraArgs(inner.init, update_fn)


__all__ = ["as_new_values", "new_value_updates", "param_dtype_updates"]
