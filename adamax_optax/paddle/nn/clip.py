r"""Paddle's gradient clips (``paddle.nn.ClipGradBy*``, 3.x) as optax transformations.

In Paddle a clip is given to the optimizer, ``Adamax(..., grad_clip=clip)``, which
clips the raw gradients of each parameter group before adding the L2 decay. The same
goes here: pass one of these as ``grad_clip=`` to
:func:`adamax_optax.paddle.optimizer.Adamax` (optimizer-wide or per group), or chain
it before any optimizer yourself. Each is a stateless
:class:`optax.GradientTransformation`.
"""

import optax

from adamax_optax import clipping
from adamax_optax.validation import check_range


def ClipGradByValue(max: float, min: float | None = None) -> optax.GradientTransformation:
  r"""``paddle.nn.ClipGradByValue(max, min=None)``: every element clamped to
  :math:`[\mathrm{min}, \mathrm{max}]`; ``min`` defaults to ``-max`` (then ``max`` must be
  > 0, as in Paddle).

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.paddle.nn import ClipGradByValue
    >>> clip = ClipGradByValue(max=0.05, min=-0.02)
    >>> print(clip.update(jnp.array([-1.0, 0.01, 1.0]), clip.init(None))[0])
    [-0.02  0.01  0.05]
  """
  check_range("max", max)
  if min is None:
    check_range("max", max, 0.0, low_open=True)
    min = -float(max)
  check_range("min", min)
  return clipping.clip_by_value(min, max)


def ClipGradByNorm(
  clip_norm: float, *, order: clipping.Order = "eigen"
) -> optax.GradientTransformation:
  r"""``paddle.nn.ClipGradByNorm(clip_norm)``: each gradient tensor by its own norm,

  .. math:: g \cdot \begin{cases} 1 & n \le c \\ c / n & n > c \end{cases}, \qquad
     n = \sqrt{\textstyle\sum_j g_j^2}

  (Paddle's ``clip_by_norm`` kernel), :math:`c` = ``clip_norm``, with the squares
  summed in Eigen's order as Paddle's CPU kernel does (``order="eigen"`` of
  :mod:`adamax_optax.clipping`, a loop over the tensor: pass ``order="xla"`` on
  accelerators, where a loop is slow).

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.paddle.nn import ClipGradByNorm
    >>> clip = ClipGradByNorm(1.0)
    >>> print(clip.update(jnp.array([3.0, 4.0]), clip.init(None))[0])
    [0.6 0.8]
  """
  check_range("clip_norm", clip_norm, 0.0, low_open=True)
  return clipping.clip_by_norm(clip_norm, scaling="paddle_norm", order=order)


def ClipGradByGlobalNorm(
  clip_norm: float,
  group_name: str = "default_group",
  auto_skip_clip: bool = False,
  *,
  norm_fn=None,
  order: clipping.Order = "eigen",
  param_order=None,
) -> optax.GradientTransformation:
  r"""``paddle.nn.ClipGradByGlobalNorm(clip_norm)``: all gradients it sees scaled by

  .. math:: c / \max(n, c), \qquad n = \sqrt{\textstyle\sum_i \sum_j g_{ij}^2}

  in float32, :math:`c` = ``clip_norm``, the squares of each tensor and then the
  per-tensor sums added in Eigen's order, as Paddle's CPU kernels do. As ``grad_clip``
  of the optimizer it sees one parameter group at a time (Paddle clips each group by
  its own global norm). Paddle's float32 division :math:`c / \max(n, c)` is itself not
  always correctly rounded (1 step in 300 of the recording, 1 ulp); this one is.
  ``group_name`` is accepted for Paddle's signature (distributed grouping; no effect);
  ``auto_skip_clip=True``, which skips the multiply when :math:`n \le c`, gives the same
  values and is accepted too. ``norm_fn(leaves) -> scalar`` replaces :math:`n`;
  ``order="xla"`` sums faster on accelerators (not bit for bit with Paddle).
  Unlike Paddle, a 0-d parameter is clipped fine (Paddle 3.3 fails on it).

  Paddle adds the per-tensor sums in the order of the optimizer's ``parameters``;
  ``param_order`` (the names in that order, or the parameters in that order) sums in
  it. Given to ``Adamax(parameters=..., grad_clip=...)`` without one, the clip takes
  the optimizer's order. By default the order is ``tree_leaves`` order (a dict's keys
  sorted), which can move :math:`n` by an ulp.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.paddle.nn import ClipGradByGlobalNorm
    >>> clip = ClipGradByGlobalNorm(1.0)
    >>> print(clip.update([jnp.array([3.0]), jnp.array([4.0])], clip.init(None))[0])
    [Array([0.6], dtype=float32), Array([0.8], dtype=float32)]
  """
  check_range("clip_norm", clip_norm, 0.0, low_open=True)
  if not isinstance(group_name, str):
    raise TypeError(f"group_name must be a str, got {group_name!r}.")
  if not isinstance(auto_skip_clip, bool):
    raise TypeError(f"auto_skip_clip must be a bool, got {auto_skip_clip!r}.")
  return clipping.clip_by_global_norm(
    clip_norm, scaling="paddle", order=order, norm_fn=norm_fn, param_order=param_order
  )


__all__ = ["ClipGradByGlobalNorm", "ClipGradByNorm", "ClipGradByValue"]
