r"""MXNet's ``gluon.utils.clip_global_norm`` as an optax transformation: 2.0's
(:func:`clip_global_norm`) and 1.x's (:func:`clip_global_norm1`).

MXNet rescales the arrays in place before ``trainer.step``; here it is a stateless
:class:`optax.GradientTransformation` to chain before the optimizer::

  opt = optax.chain(clip_global_norm(2.0), mxnet_adamax(learning_rate=0.01))

For the optimizer's own element-wise ``clip_gradient`` see
:func:`adamax_optax.mxnet.optimizer.Adamax`.
"""

import optax

from adamax_optax import clipping


def clip_global_norm(
  max_norm: float, check_isfinite: bool = True, *, norm_fn=None, param_order=None
) -> optax.GradientTransformation:
  r"""``mx.gluon.utils.clip_global_norm(arrays, max_norm)``: all gradients scaled by

  .. math:: \min\bigl(c / (n + 10^{-8}),\ 1\bigr), \qquad
     n = \sqrt{\textstyle\sum_i \sum_j g_{ij}^2}

  in float32 (:math:`c` = ``max_norm``; MXNet multiplies even by 1). A non-finite
  :math:`n` makes the gradients ``0 * g`` (MXNet warns and scales anyway). MXNet 2.0
  runs its CPU kernels with subnormals flushed to zero, and so do the clipped gradients
  here (1.x keeps them: :func:`clip_global_norm1`).

  MXNet sums each array's squares with its own kernel (``dot(x, x)`` in 1.x,
  ``square(x).sum()`` in 2.0); this sums them in XLA's order, which differs in the last
  bits of :math:`n` on some steps (measured in the README). ``norm_fn(leaves) -> scalar``
  replaces :math:`n` where a norm from elsewhere must be used.

  Args:
    max_norm: :math:`c` > 0.
    check_isfinite: accepted for MXNet's signature; a compiled update cannot warn, so
      it changes nothing.
    norm_fn: optional function of the list of gradient leaves giving :math:`n`.
    param_order: the parameter names in the order of the ``arrays`` MXNet is given
      (``[p.grad() for p in net.collect_params().values()]``), or the parameters in
      that order: the per-array sums are added in it (default ``tree_leaves`` order,
      a dict's keys sorted). See :mod:`adamax_optax.clipping`.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.mxnet.gluon.utils import clip_global_norm
    >>> clip = clip_global_norm(1.0)
    >>> print(clip.update([jnp.array([3.0]), jnp.array([4.0])], clip.init(None))[0])
    [Array([0.6], dtype=float32), Array([0.8], dtype=float32)]
  """
  return _clip_global_norm(max_norm, check_isfinite, norm_fn, "mxnet2", param_order)


def clip_global_norm1(
  max_norm: float, check_isfinite: bool = True, *, norm_fn=None, param_order=None
) -> optax.GradientTransformation:
  """MXNet 1.x's ``gluon.utils.clip_global_norm``: as :func:`clip_global_norm`, with
  subnormal gradients kept (1.x does not flush them)."""
  return _clip_global_norm(max_norm, check_isfinite, norm_fn, "mxnet", param_order)


def _clip_global_norm(max_norm, check_isfinite, norm_fn, scaling, param_order):
  if not isinstance(check_isfinite, bool):
    raise TypeError(f"check_isfinite must be a bool, got {check_isfinite!r}.")
  return clipping.clip_by_global_norm(
    max_norm, scaling=scaling, norm_fn=norm_fn, param_order=param_order
  )


__all__ = ["clip_global_norm", "clip_global_norm1"]
