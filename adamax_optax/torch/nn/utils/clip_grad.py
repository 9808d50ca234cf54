r"""PyTorch's gradient clipping (``torch.nn.utils.clip_grad_norm_`` and friends), 2.x.

PyTorch clips ``p.grad`` in place before ``optimizer.step()``; here each is a stateless
:class:`optax.GradientTransformation` to chain before the optimizer::

  opt = optax.chain(clip_grad_norm_(1.0), torch_adamax(lr=1e-3))

The ``parameters`` argument is gone (the transformation clips the gradients it is
given), the others keep PyTorch's names and defaults. What differs by design:
``error_if_nonfinite=True`` cannot raise inside a compiled update (check
:func:`get_total_norm` yourself, or skip such steps with the presets'
``skip_nonfinite=True``), and ``foreach`` is accepted and changes nothing (on the CPU
both paths compute each tensor's norm alike).

PyTorch adds the per-tensor norms in the order of the parameters it is given,
``model.parameters()``; a JAX tree sorts a dict's keys (``fc1.bias`` before
``fc1.weight``), which changes the total's last bit. Pass that order as
``param_order``: ``[name for name, _ in model.named_parameters()]`` (as the tree's
names), the parameters in that order (a dict in insertion order, ``(name, array)``
pairs), or ``opt.param_order`` of an optimizer given the same parameters::

  order = [name for name, _ in named_params]  # model.named_parameters() order
  opt = optax.chain(clip_grad_norm_(1.0, param_order=order), Adamax(named_params, lr=1e-3))
"""

import math

import jax
import optax

from adamax_optax import clipping
from adamax_optax.validation import check_range

# PyTorch's own CPU summation order of a tensor's squares (adamax_optax.clipping).
_ORDER = "pytorch"


def _norm_type(norm_type) -> float:
  try:
    p = float(norm_type)
  except (TypeError, ValueError):
    raise TypeError(f"norm_type must be a float or 'inf', got {norm_type!r}.") from None
  if not (p > 0 or p == math.inf):
    raise ValueError(f"norm_type must be > 0 or inf, got {norm_type!r}.")
  return p


def _check_flags(error_if_nonfinite, foreach) -> None:
  if error_if_nonfinite is not False:
    raise ValueError(
      "error_if_nonfinite=True cannot raise inside a compiled optax update; pass False and "
      "check get_total_norm(grads) outside jax.jit, or build the optimizer with "
      "skip_nonfinite=True to skip steps whose gradients are not finite."
    )
  if foreach not in (None, True, False):
    raise TypeError(f"foreach must be None, True or False, got {foreach!r}.")


def get_total_norm(
  tensors,
  norm_type: float | str = 2.0,
  error_if_nonfinite: bool = False,
  foreach=None,
  *,
  order: clipping.Order = _ORDER,
  param_order: clipping.ParamOrder = None,
) -> jax.Array:
  r"""``torch.nn.utils.get_total_norm``: the norm of the norms of ``tensors`` (a pytree).

  Each leaf's ``norm_type``-norm, then the same norm of the vector of those norms (for
  2: :math:`\sqrt{\sum_i \lVert g_i \rVert^2}` with each :math:`\lVert g_i \rVert` rounded
  first; for ``inf``: the largest :math:`|g|`, exactly as PyTorch). ``order`` (default
  PyTorch's CPU order, a loop over the tensor: pass ``"xla"`` on accelerators, where
  a loop is slow) is how each tensor's squares are summed (see
  :mod:`adamax_optax.clipping`); ``param_order`` the order the norms are added in (see
  the module; default ``tree_leaves`` order).
  """
  p = _norm_type(norm_type)
  _check_flags(error_if_nonfinite, foreach)
  leaves = clipping.leaves_in_order(tensors, clipping.check_param_order(param_order))
  return clipping.global_norm(leaves, p, order, "norm_of_norms")


def clip_grad_norm_(
  max_norm: float,
  norm_type: float | str = 2.0,
  error_if_nonfinite: bool = False,
  foreach: bool | None = None,
  *,
  norm_fn=None,
  order: clipping.Order = _ORDER,
  param_order: clipping.ParamOrder = None,
) -> optax.GradientTransformation:
  r"""``torch.nn.utils.clip_grad_norm_(parameters, max_norm, ...)`` as a transformation.

  With :math:`n` = :func:`get_total_norm` of all the gradients, every gradient becomes

  .. math:: g \cdot \min\bigl(c \cdot \tfrac{1}{n + 10^{-6}},\ 1\bigr)

  in float32, :math:`c` = ``max_norm``; PyTorch multiplies even when the factor is 1,
  and computes ``max_norm / t`` as ``t.reciprocal() * max_norm``. A non-finite norm
  gives zeros (``inf``) or NaN, as in PyTorch.

  Args:
    max_norm: :math:`c` > 0.
    norm_type: 2.0 (default), ``inf`` / ``"inf"``, or any p > 0.
    error_if_nonfinite: must be False (see the module).
    foreach: None, True or False; no effect.
    norm_fn: optional ``norm_fn(leaves) -> scalar`` used as :math:`n` instead (a norm
      computed elsewhere, e.g. across devices).
    order: how each tensor's squares are summed: ``"pytorch"`` (default, PyTorch's CPU
      kernel, bit for bit; a loop over the tensor) or ``"xla"`` (fast on accelerators;
      the norm may then differ from PyTorch's in its last bits).
    param_order: the parameter names in the order PyTorch was given them
      (``model.parameters()``), or the parameters in that order; the norms are added in
      it (default ``tree_leaves`` order, a dict's sorted keys). See the module.

  Example:
    >>> import jax.numpy as jnp, optax
    >>> from adamax_optax.torch.nn.utils import clip_grad_norm_
    >>> clip = clip_grad_norm_(1.0)
    >>> print(clip.update({"w": jnp.array([3.0, 4.0])}, clip.init(None))[0]["w"])
    [0.5999999  0.79999983]
  """
  check_range("max_norm", max_norm, 0.0, low_open=True)
  p = _norm_type(norm_type)
  _check_flags(error_if_nonfinite, foreach)
  return clipping.clip_by_global_norm(
    max_norm,
    scaling="torch",
    norm_type=p,
    order=order,
    combine="norm_of_norms",
    norm_fn=norm_fn,
    param_order=param_order,
  )


def clip_grad_value_(
  clip_value: float, foreach: bool | None = None
) -> optax.GradientTransformation:
  r"""``torch.nn.utils.clip_grad_value_(parameters, clip_value)``: every gradient element
  clamped to :math:`[-v, v]` (NaN stays NaN, subnormals pass through).

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.torch.nn.utils import clip_grad_value_
    >>> clip = clip_grad_value_(0.5)
    >>> print(clip.update(jnp.array([-2.0, 0.25, 3.0]), clip.init(None))[0])
    [-0.5   0.25  0.5 ]
  """
  check_range("clip_value", clip_value)
  _check_flags(False, foreach)
  v = float(clip_value)
  return clipping.clip_by_value(-v, v)


__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm"]
