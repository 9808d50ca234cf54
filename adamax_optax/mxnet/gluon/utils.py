r"""MXNet's ``gluon.utils.clip_global_norm`` as an optax transformation: 2.0's
(:func:`clip_global_norm`) and 1.x's (:func:`clip_global_norm1`).

MXNet rescales the arrays in place before ``trainer.step``; here it is a stateless
:class:`optax.GradientTransformation` to chain before the optimizer::

  opt = optax.chain(clip_global_norm(2.0), mxnet_adamax(learning_rate=0.01))

For the optimizer's own element-wise ``clip_gradient`` see
:func:`adamax_optax.mxnet.optimizer.Adamax`.
"""

import jax
import jax.numpy as jnp
import optax

from adamax_optax import clipping


def _mxnet2_order(leaf) -> str:
  """MXNet 2.0's kernel for ``square(x).sum()``: its own for float16, oneDNN's otherwise."""
  return "kahan" if leaf.dtype == jnp.float16 else "onednn"


def total_norm(arrays) -> jax.Array:
  """The total norm MXNet 2.0's ``clip_global_norm(arrays, ...)`` returns (float32), from
  the list of arrays in MXNet's order; see :func:`clip_global_norm` for how it is summed.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.mxnet.gluon.utils import total_norm
    >>> print(total_norm([jnp.array([3.0]), jnp.array([4.0])]))
    5.0
  """
  return clipping.global_norm(list(arrays), order=_mxnet2_order)


def total_norm1(arrays) -> jax.Array:
  """The total norm MXNet 1.x's ``clip_global_norm(arrays, ...)`` returns (float32): each
  array's ``dot(x, x)`` (``order="openblas"``), added by ``add_n``, which adds 3 or 4
  arrays from the right (``a + (b + (c + d))``) and other counts from the left."""
  sums = [clipping.sum_of_squares(x, "openblas") for x in arrays]
  if not sums:
    return jnp.zeros((), jnp.float32)
  if len(sums) in (3, 4):
    total = sums[-1]
    for value in reversed(sums[:-1]):
      total = value + total
  else:
    total = sums[0]
    for value in sums[1:]:
      total = total + value
  return jnp.sqrt(total)


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

  Each array's :math:`\sum_j g_{ij}^2` is summed in the order of MXNet 2.0's CPU
  ``square(x).sum()``: for float32, oneDNN's AVX-512 reduction (``order="onednn"`` of
  :mod:`adamax_optax.clipping`, the kernel MXNet 2.0.0b1's oneDNN 2.5 runs on an AVX-512
  CPU); for float16, MXNet's own loop (``order="kahan"``: the squares in float16, summed
  in float32 with Kahan's compensation, the sum rounded to float16, so a float16 sum past
  65504 is inf, and an overflowed square before the last makes :math:`n` NaN, as in
  MXNet). The arrays' sums are added left to right in float32, and a float16 array is
  multiplied by the factor rounded to float16. ``norm_fn(leaves) -> scalar`` replaces
  :math:`n` where a norm from elsewhere must be used.

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
  return _clip_global_norm(max_norm, check_isfinite, norm_fn or total_norm, "mxnet2", param_order)


def clip_global_norm1(
  max_norm: float, check_isfinite: bool = True, *, norm_fn=None, param_order=None
) -> optax.GradientTransformation:
  """MXNet 1.x's ``gluon.utils.clip_global_norm``: as :func:`clip_global_norm`, with
  subnormal gradients kept (1.x does not flush them), and each array's sum of squares as
  1.x computes it, ``dot(x, x)`` in the OpenBLAS its wheels bundle (``order="openblas"``
  of :mod:`adamax_optax.clipping`: the Haswell/Zen ``sdot`` kernel, which OpenBLAS picks
  on AVX2 CPUs and on AMD's; an Intel AVX-512 CPU runs another kernel). The arrays' sums
  are added by ``add_n`` (see :func:`total_norm1`). 1.x has no float16 CPU kernel for it."""
  return _clip_global_norm(max_norm, check_isfinite, norm_fn or total_norm1, "mxnet", param_order)


def _clip_global_norm(max_norm, check_isfinite, norm_fn, scaling, param_order):
  if not isinstance(check_isfinite, bool):
    raise TypeError(f"check_isfinite must be a bool, got {check_isfinite!r}.")
  return clipping.clip_by_global_norm(
    max_norm, scaling=scaling, norm_fn=norm_fn, param_order=param_order
  )


__all__ = ["clip_global_norm", "clip_global_norm1", "total_norm", "total_norm1"]
