r"""Dynamic loss scaling: scale the loss, unscale the gradients, skip steps that overflow.

Mixed-precision training multiplies the loss by a large scale :math:`s` so that small
16-bit gradients do not flush to zero, divides the gradients by :math:`s` before the
optimizer sees them, and adapts :math:`s`: a step whose scaled gradients hold NaN or
inf is skipped and shrinks :math:`s`; a run of clean steps grows it. Every framework's
dynamic scaler follows this rule with its own knobs and names; the framework wings
(:mod:`adamax_optax.torch.amp`, ...) set them.
"""

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from adamax_optax import _double_float as df
from adamax_optax._leaves import is_trained
from adamax_optax._typing import OptState
from adamax_optax.nonfinite import all_finite, step_if
from adamax_optax.validation import check_bool, check_int, check_range

_INT32_MAX = 2**31 - 1
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class DynamicLossScaleState(NamedTuple):
  """State of :func:`dynamic_loss_scaling` (PyTorch's ``GradScaler`` names).

  Attributes:
    scale: the current loss scale :math:`s` (float32 scalar).
    growth_tracker: finite steps in a row since :math:`s` last changed (int32 scalar).
    inner: the wrapped transformation's state, as of the last step taken.
  """

  scale: jax.Array
  growth_tracker: jax.Array
  inner: OptState


def _times(x, factor):
  """``x * factor`` in float32 at least, rounded to ``x``'s dtype (16-bit opmath)."""
  wide = jnp.promote_types(x.dtype, jnp.float32)
  return (x.astype(wide) * factor).astype(x.dtype)


def _scaled_in_double(scale, factor: float) -> jax.Array:
  """``float32(double(scale) * factor)``: the product a C++ scaler stores back."""
  return df.to_float32(df.multiply(df.from_number(scale), df.constant(factor)))


def dynamic_loss_scaling(
  inner: optax.GradientTransformation,
  init_scale: float,
  growth_factor: float,
  backoff_factor: float,
  growth_interval: int,
  *,
  enabled: bool = True,
) -> optax.GradientTransformationExtraArgs:
  r"""Wraps ``inner`` so that it sees unscaled gradients and skips overflowing steps.

  The incoming gradients are those of the scaled loss :math:`s \cdot L` (see
  :func:`scale_loss`). Each update, with :math:`t` the growth tracker:

  .. math::

    \text{finite} &= \text{no } g \text{ is NaN or } \pm\infty \\
    g &\leftarrow g \cdot \mathrm{f32}(1 / s) \quad
      \text{(in float32, rounded to } g\text{'s dtype)} \\
    \text{finite:}\ & \text{run inner on } g;\ t \leftarrow t + 1;\
      \text{if } t = \text{growth\_interval}:\ t \leftarrow 0,\
      s \leftarrow \mathrm{f32}(s \cdot \text{growth\_factor}) \text{ unless that is inf} \\
    \text{else:}\ & \text{zero updates, inner state kept};\ t \leftarrow 0,\
      s \leftarrow \mathrm{f32}(s \cdot \text{backoff\_factor})

  The products with the factors are computed in double and rounded to float32 once
  (about 44 bits here, see :mod:`adamax_optax._double_float`; exact for powers of two).
  A skipped step leaves ``inner``'s state exactly as it was (its step count is not
  advanced), so a chain such as ``optax.chain(clip, optimizer)`` clips the unscaled
  gradients. With ``enabled=False`` the gradients go to ``inner`` untouched, nothing is
  skipped, and the scale stays 1.

  Args:
    inner: the transformation to feed unscaled gradients (a clip and an optimizer, say).
    init_scale: the first scale, in (0, float32 max] (stored as float32).
    growth_factor: multiplies the scale after ``growth_interval`` finite steps, > 1.
    backoff_factor: multiplies the scale after a non-finite step, in (0, 1).
    growth_interval: finite steps in a row before the scale grows, an int >= 1.
    enabled: a Python bool; False passes everything through.

  Returns:
    An :class:`optax.GradientTransformationExtraArgs` with state
    :class:`DynamicLossScaleState`; extra arguments go to ``inner``.

  Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from adamax_optax.loss_scaling import dynamic_loss_scaling, scale_loss
    >>> opt = dynamic_loss_scaling(optax.sgd(0.1), 2.0**16, 2.0, 0.5, 2000)
    >>> w = jnp.ones(2)
    >>> state = opt.init(w)
    >>> grads = jax.grad(lambda w: scale_loss(jnp.sum(w**2), state))(w)
    >>> updates, state = opt.update(grads, state, w)
    >>> print(updates, float(state.scale), int(state.growth_tracker))
    [-0.2 -0.2] 65536.0 1
    >>> _, state = opt.update(jnp.array([jnp.inf, 0.0]), state, w)
    >>> print(float(state.scale), int(state.growth_tracker))
    32768.0 0

  References:
    Micikevicius et al., 2018, "Mixed Precision Training", section 3.2.
  """
  # The scale is stored as float32: a larger one would start as inf.
  check_range("init_scale", init_scale, 0.0, _FLOAT32_MAX, low_open=True)
  check_range("growth_factor", growth_factor, 1.0, math.inf, low_open=True, high_open=True)
  check_range("backoff_factor", backoff_factor, 0.0, 1.0, low_open=True, high_open=True)
  growth_interval = check_int("growth_interval", growth_interval)
  if growth_interval > _INT32_MAX:
    raise ValueError(
      f"growth_interval must be at most {_INT32_MAX} (the tracker is int32), got {growth_interval}."
    )
  check_bool("enabled", enabled)
  inner = optax.with_extra_args_support(inner)

  def init_fn(params):
    return DynamicLossScaleState(
      scale=jnp.asarray(init_scale if enabled else 1.0, jnp.float32),
      growth_tracker=jnp.zeros([], jnp.int32),
      inner=inner.init(params),
    )

  def update_fn(updates, state, params=None, **extra_args):
    if not enabled:
      new_updates, new_inner = inner.update(updates, state.inner, params, **extra_args)
      return new_updates, state._replace(inner=new_inner)
    finite = all_finite(updates)
    # 1/s rounded to float32 once: a float32 division, as innocuous as a double one.
    inv_scale = 1.0 / state.scale
    unscaled = jax.tree.map(lambda g: _times(g, inv_scale) if is_trained(g) else g, updates)
    new_updates, new_inner = inner.update(unscaled, state.inner, params, **extra_args)
    new_updates, new_inner = step_if(finite, new_updates, new_inner, state.inner)
    successful = state.growth_tracker + 1
    grow = finite & (successful == growth_interval)
    grown = _scaled_in_double(state.scale, growth_factor)
    backed_off = _scaled_in_double(state.scale, backoff_factor)
    scale = jnp.where(grow & jnp.isfinite(grown), grown, state.scale)
    scale = jnp.where(finite, scale, backed_off)
    tracker = jnp.where(finite & ~grow, successful, jnp.zeros_like(successful))
    return new_updates, DynamicLossScaleState(scale=scale, growth_tracker=tracker, inner=new_inner)

  return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def scale_loss(value, state: DynamicLossScaleState):
  """``value * state.scale``: the loss (or any pytree of arrays) to differentiate.

  Computed in float32 at least and rounded to each leaf's dtype (a bfloat16 loss stays
  bfloat16). With the scaler disabled the scale is 1 and values come back unchanged.

  Example:
    >>> import jax.numpy as jnp, optax
    >>> from adamax_optax.loss_scaling import dynamic_loss_scaling, scale_loss
    >>> state = dynamic_loss_scaling(optax.sgd(0.1), 1024.0, 2.0, 0.5, 100).init(jnp.ones(1))
    >>> print(scale_loss(jnp.float32(0.5), state))
    512.0
  """
  return jax.tree.map(lambda x: _times(jnp.asarray(x), state.scale), value)


__all__ = ["DynamicLossScaleState", "dynamic_loss_scaling", "scale_loss"]
