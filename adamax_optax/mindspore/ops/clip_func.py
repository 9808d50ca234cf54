r"""MindSpore's ``ops.clip_by_global_norm`` and ``ops.clip_by_value`` (2.x) as optax
transformations.

MindSpore returns clipped copies of the gradient tuple, which the training step then
passes to the optimizer; here each is a stateless :class:`optax.GradientTransformation`
to chain before it::

  opt = optax.chain(clip_by_global_norm(5.0), mindspore_adamax(lr=0.01))

Shapes are kept (MindSpore returns a 0-d gradient with shape ``(1,)``).
"""

import optax

from adamax_optax import clipping
from adamax_optax.validation import check_range


def clip_by_global_norm(
  clip_norm: float = 1.0, use_norm=None, *, norm_fn=None, param_order=None
) -> optax.GradientTransformation:
  r"""``ops.clip_by_global_norm(x, clip_norm=1.0)``: every gradient becomes

  .. math:: (g \cdot c) / \hat n, \qquad \hat n = n \text{ if } n \ge c \text{ else } c,
     \qquad n = \sqrt{\textstyle\sum_i \sum_j g_{ij}^2}

  in float32, :math:`c` = ``clip_norm``. Below the threshold that is :math:`(g c) / c`,
  which MindSpore computes too (it can differ from :math:`g` in the last bit).

  :math:`n` as MindSpore's CPU kernels compute it: each tensor's float32 squares summed
  in double precision and rounded once (``ReduceSum``), those sums added left to right
  in float32 (``AddN``), then the square root (``order="float64"`` of
  :mod:`adamax_optax.clipping`). ``norm_fn(leaves) -> scalar`` replaces :math:`n` where
  a norm from elsewhere must be used.

  Args:
    clip_norm: :math:`c` > 0, default 1.0.
    use_norm: must be ``None`` (as in MindSpore).
    norm_fn: optional function of the list of gradient leaves giving :math:`n`.
    param_order: the parameter names in the network's order (the order of the
      gradient tuple MindSpore clips, ``net.trainable_params()``), or the parameters
      in that order (a dict in insertion order, ``(name, array)`` pairs), or
      ``opt.param_order`` of an optimizer given them: ``AddN`` adds the per-tensor sums
      in it (default ``tree_leaves`` order, which sorts a dict's keys and can move
      :math:`n` by an ulp). See :mod:`adamax_optax.clipping`.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.mindspore.ops import clip_by_global_norm
    >>> clip = clip_by_global_norm(1.0)
    >>> print(clip.update([jnp.array([3.0]), jnp.array([4.0])], clip.init(None))[0])
    [Array([0.6], dtype=float32), Array([0.8], dtype=float32)]
  """
  if use_norm is not None:
    raise ValueError(
      f"use_norm only supports None (as in MindSpore), got {use_norm!r}; to clip by a norm "
      "computed elsewhere, pass norm_fn=lambda leaves: that_norm."
    )
  check_range("clip_norm", clip_norm, 0.0, low_open=True)
  return clipping.clip_by_global_norm(
    clip_norm, scaling="mindspore", order="float64", norm_fn=norm_fn, param_order=param_order
  )


def clip_by_value(
  clip_value_min: float | None = None, clip_value_max: float | None = None
) -> optax.GradientTransformation:
  r"""``ops.clip_by_value(x, clip_value_min, clip_value_max)``: every element clamped to
  :math:`[\mathrm{min}, \mathrm{max}]`; with min > max every element becomes max.

  MindSpore's CPU kernel flushes subnormal elements of larger tensors to zero (measured:
  the 84-element tensor, not the 5-element or 0-d ones); this keeps them.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.mindspore.ops import clip_by_value
    >>> clip = clip_by_value(-0.3, 0.3)
    >>> print(clip.update(jnp.array([-2.0, 0.25, 3.0]), clip.init(None))[0])
    [-0.3   0.25  0.3 ]
  """
  if clip_value_min is None and clip_value_max is None:
    raise ValueError(
      "clip_by_value needs clip_value_min or clip_value_max (or both), as in MindSpore."
    )
  return clipping.clip_by_value(clip_value_min, clip_value_max)


__all__ = ["clip_by_global_norm", "clip_by_value"]
