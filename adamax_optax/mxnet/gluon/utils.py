r"""MXNet's ``gluon.utils.clip_global_norm`` (1.x and 2.0) as an optax transformation.

MXNet rescales the arrays in place before ``trainer.step``; here it is a stateless
:class:`optax.GradientTransformation` to chain before the optimizer::

  opt = optax.chain(clip_global_norm(2.0), mxnet_adamax(learning_rate=0.01))

For the optimizer's own element-wise ``clip_gradient`` see
:func:`adamax_optax.mxnet.optimizer.Adamax`.
"""

import optax

from adamax_optax import clipping


def clip_global_norm(
  max_norm: float, check_isfinite: bool = True, *, norm_fn=None
) -> optax.GradientTransformation:
  r"""``mx.gluon.utils.clip_global_norm(arrays, max_norm)``: all gradients scaled by

  .. math:: \min\bigl(c / (n + 10^{-8}),\ 1\bigr), \qquad
     n = \sqrt{\textstyle\sum_i \sum_j g_{ij}^2}

  in float32 (:math:`c` = ``max_norm``; MXNet multiplies even by 1). A non-finite
  :math:`n` makes the gradients ``0 * g`` (MXNet warns and scales anyway).

  MXNet sums each array's squares with its own kernel (``dot(x, x)`` in 1.x,
  ``square(x).sum()`` in 2.0); this sums them in XLA's order, which differs in the last
  bit of :math:`n` on some steps (measured in the README). ``norm_fn(leaves) -> scalar``
  replaces :math:`n` where a norm from elsewhere must be used.

  Args:
    max_norm: :math:`c` > 0.
    check_isfinite: accepted for MXNet's signature; a compiled update cannot warn, so
      it changes nothing.
    norm_fn: optional function of the list of gradient leaves giving :math:`n`.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.mxnet.gluon.utils import clip_global_norm
    >>> clip = clip_global_norm(1.0)
    >>> print(clip.update([jnp.array([3.0]), jnp.array([4.0])], clip.init(None))[0])
    [Array([0.6], dtype=float32), Array([0.8], dtype=float32)]
  """
  if not isinstance(check_isfinite, bool):
    raise TypeError(f"check_isfinite must be a bool, got {check_isfinite!r}.")
  return clipping.clip_by_global_norm(max_norm, scaling="mxnet", norm_fn=norm_fn)


__all__ = ["clip_global_norm"]
