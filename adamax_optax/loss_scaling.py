r"""Dynamic loss scaling: scale the loss, unscale the gradients, skip steps that overflow.

Mixed-precision training multiplies the loss by a large scale :math:`s` so that small
16-bit gradients do not flush to zero, divides the gradients by :math:`s` before the
optimizer sees them, and adapts :math:`s`: a step whose scaled gradients hold NaN or
inf is skipped and (after enough of them in a row) shrinks :math:`s`; a run of clean
steps grows it. Every framework's dynamic scaler follows this rule with its own knobs,
roundings and names; the framework wings set them:

=======================================  ========================================================
framework's scaler                       wing
=======================================  ========================================================
``torch.amp.GradScaler``                 :func:`adamax_optax.torch.amp.GradScaler`
``keras.optimizers.LossScaleOptimizer``  :func:`adamax_optax.keras.optimizers.LossScaleOptimizer`
``paddle.amp.GradScaler``                :func:`adamax_optax.paddle.amp.GradScaler`
``mindspore.amp.DynamicLossScaler``      :func:`adamax_optax.mindspore.amp.DynamicLossScaler`
=======================================  ========================================================

They share :class:`DynamicLossScaleState` and :func:`scale_loss`.
"""

import math
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from adamax_optax import _double_float as df
from adamax_optax._leaves import is_trained
from adamax_optax._typing import OptState
from adamax_optax.nonfinite import all_finite, step_if
from adamax_optax.scale_by_adamax import ScaleByAdamaxState
from adamax_optax.validation import check_bool, check_int, check_range

_INT32_MAX = 2**31 - 1
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class DynamicLossScaleState(NamedTuple):
  """State of :func:`dynamic_loss_scaling` (PyTorch's ``GradScaler`` names).

  Attributes:
    scale: the current loss scale :math:`s` (float32 scalar).
    growth_tracker: finite steps in a row since :math:`s` last grew or a step was
      skipped (int32 scalar).
    backoff_tracker: non-finite steps in a row since :math:`s` last backed off or a
      step was taken (int32 scalar; stays 0 when ``backoff_every`` is 1).
    inner: the wrapped transformation's state, as of the last step taken.
  """

  scale: jax.Array
  growth_tracker: jax.Array
  backoff_tracker: jax.Array
  inner: OptState


def _times(x, factor):
  """``x * factor`` in float32 at least, rounded to ``x``'s dtype (16-bit opmath)."""
  wide = jnp.promote_types(x.dtype, jnp.float32)
  return (x.astype(wide) * factor).astype(x.dtype)


def _scaled_in_double(scale, factor: float) -> jax.Array:
  """``float32(double(scale) * factor)``: the product a C++ scaler stores back."""
  return df.to_float32(df.multiply(df.from_number(scale), df.constant(factor)))


def _scaled_in_float32(scale, factor: float) -> jax.Array:
  """``scale * float32(factor)`` rounded in float32: a float32 tensor times a scalar."""
  return scale * jnp.float32(factor)


_FACTOR_PRODUCTS = {"double": _scaled_in_double, "float32": _scaled_in_float32}


# Above 2**126 the float32 1/s is subnormal, which XLA on the CPU flushes to zero; it is
# carried shifted up by 2**64 (normal, the same significand) and the product shifted back.
_SUBNORMAL_RECIPROCAL_ABOVE = 2.0**126
_SHIFT = 2.0**64
_SHIFTED_SUBNORMAL_STEP = 2.0 ** (64 - 149)  # the smallest subnormal, shifted


def _shifted_reciprocal(scale) -> jax.Array:
  """``f32(1 / s) * 2**64`` for ``s`` above 2**126, the subnormal ``1 / s`` rounded once.

  ``q = 2**64 / s`` is correctly rounded to 24 bits; the subnormal has fewer, so ``q`` is
  rounded again to a multiple of the (shifted) subnormal step. Where ``q`` lands exactly
  halfway between two multiples, the exact residual ``2**64 - q s`` (an exact product,
  see :mod:`adamax_optax._double_float`) says on which side ``2**64 / s`` lies.
  """
  quotient = jnp.float32(_SHIFT) / scale
  steps = quotient / jnp.float32(_SHIFTED_SUBNORMAL_STEP)  # exact: a power of two
  below = jnp.floor(steps)
  product = df.multiply(df.from_number(quotient), df.from_number(scale))
  exact_is_larger = (product.hi < _SHIFT) | ((product.hi == _SHIFT) & (product.lo < 0))
  exact_is_smaller = (product.hi > _SHIFT) | ((product.hi == _SHIFT) & (product.lo > 0))
  halfway = steps - below == 0.5
  rounded_steps = jnp.round(steps)  # half to even: right for an exact tie
  rounded_steps = jnp.where(halfway & exact_is_larger, below + 1, rounded_steps)
  rounded_steps = jnp.where(halfway & exact_is_smaller, below, rounded_steps)
  return rounded_steps * jnp.float32(_SHIFTED_SUBNORMAL_STEP)


def _reciprocal_factors(scale) -> tuple[jax.Array, jax.Array]:
  """``(r, shift)`` with ``g * r * shift`` equal to ``g * f32(1 / s)`` rounded once: ``r`` is
  ``f32(1 / s)`` itself, or where that is subnormal, the same significand shifted up by
  2**64 and ``shift`` 2**-64 (a result that is itself subnormal still flushes)."""
  subnormal = scale > _SUBNORMAL_RECIPROCAL_ABOVE
  safe_scale = jnp.where(subnormal, scale, jnp.float32(_SUBNORMAL_RECIPROCAL_ABOVE * 2))
  # 1/s rounded to float32 once: a float32 division, as innocuous as a double one.
  reciprocal = jnp.where(subnormal, _shifted_reciprocal(safe_scale), 1.0 / scale)
  shift = jnp.where(subnormal, jnp.float32(1 / _SHIFT), jnp.float32(1))
  return reciprocal, shift


def _times_reciprocal(g, factors):
  """``g * f32(1 / s)`` from :func:`_reciprocal_factors`, in float32 at least, rounded to
  ``g``'s dtype."""
  reciprocal, shift = factors
  wide = jnp.promote_types(g.dtype, jnp.float32)
  return ((g.astype(wide) * reciprocal) * shift).astype(g.dtype)


def _divided(g, scale):
  """``g / s`` in float32 at least, rounded to ``g``'s dtype."""
  wide = jnp.promote_types(g.dtype, jnp.float32)
  return (g.astype(wide) / scale).astype(g.dtype)


def _with_adamax_counts_of(kept_inner, stepped_inner):
  """``kept_inner`` with the step count and b1 power of each Adamax state in it taken
  from ``stepped_inner`` (the state the skipped update would have produced)."""
  is_adamax = lambda node: isinstance(node, ScaleByAdamaxState)

  def advanced(kept, stepped):
    if not is_adamax(kept):
      return kept
    return kept._replace(count=stepped.count, b1_power=stepped.b1_power)

  return jax.tree.map(advanced, kept_inner, stepped_inner, is_leaf=is_adamax)


def _divided_by_number(scale, divisor: float) -> jax.Array:
  """``scale / f32(divisor)``, a true float32 division.

  XLA rewrites a division by a constant into a product by its rounded reciprocal, which
  rounds differently (for 3, say); a divisor that XLA cannot fold (it depends on
  ``scale``, and equals ``divisor`` for every scale that is not NaN) keeps the division.
  """
  divisor = jax.lax.select(
    scale == scale, jnp.full_like(scale, divisor), jnp.full_like(scale, jnp.nan)
  )
  return scale / divisor


def _check_choice(name: str, value, choices) -> None:
  if value not in choices:
    raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}.")


def dynamic_loss_scaling(
  inner: optax.GradientTransformation,
  init_scale: float,
  growth_factor: float,
  backoff_factor: float,
  growth_interval: int,
  *,
  enabled: bool = True,
  dynamic: bool = True,
  backoff_every: int = 1,
  unscale: Literal["reciprocal", "divide"] = "reciprocal",
  factor_product: Literal["double", "float32"] = "double",
  growth_stops_at_float32_max: bool = True,
  skipped_step_advances_count: bool = False,
  backoff_divisor: float | None = None,
  min_scale: float = 0.0,
) -> optax.GradientTransformationExtraArgs:
  r"""Wraps ``inner`` so that it sees unscaled gradients and skips overflowing steps.

  The incoming gradients are those of the scaled loss :math:`s \cdot L` (see
  :func:`scale_loss`). Each update, with :math:`t` the growth tracker and :math:`b`
  the backoff tracker:

  .. math::

    \text{finite} &= \text{no } g \text{ is NaN or } \pm\infty \\
    g &\leftarrow g \cdot \mathrm{f32}(1 / s) \text{ (reciprocal) or } g / s
      \text{ (divide)} \quad \text{(in float32, rounded to } g\text{'s dtype)} \\
    \text{finite:}\ & \text{run inner on } g;\ b \leftarrow 0;\ t \leftarrow t + 1;\
      \text{if } t = \text{growth\_interval}:\ t \leftarrow 0,\
      s \leftarrow s \cdot \text{growth\_factor} \text{ (kept unless inf)} \\
    \text{else:}\ & \text{zero updates, inner state kept};\ t \leftarrow 0;\
      b \leftarrow b + 1;\ \text{if } b = \text{backoff\_every}:\ b \leftarrow 0,\
      s \leftarrow s \cdot \text{backoff\_factor}

  With ``factor_product="double"`` the products with the factors are computed in
  double and rounded to float32 once (about 44 bits here, see
  :mod:`adamax_optax._double_float`), as a C++ scaler does; with ``"float32"`` the
  factor is rounded to float32 and multiplied in float32, as a framework multiplying
  its scale tensor by a Python number does (the two agree for powers of two). A grown
  scale that overflows to inf is refused (the scale stays) unless
  ``growth_stops_at_float32_max`` is False. With ``backoff_divisor`` :math:`d` the
  backoff is the float32 division :math:`s / \mathrm{f32}(d)` (MindSpore's
  ``scale_value / scale_factor``) instead of the product; a backed-off scale below
  ``min_scale`` becomes ``min_scale``.

  A skipped step leaves ``inner``'s state exactly as it was (its step count is not
  advanced), so a chain such as ``optax.chain(clip, optimizer)`` clips the unscaled
  gradients. With ``skipped_step_advances_count`` a skipped step still advances the
  step count and the float32 :math:`\beta_1` power of every Adamax state inside
  ``inner`` (and so the bias correction and a schedule called with that count), its
  moments kept: Paddle's Adamax updates ``beta1_pow`` after its kernel even when the
  scaler's ``found_inf`` skipped the kernel. With ``enabled=False`` the gradients go to
  ``inner`` untouched, nothing is skipped, and the scale stays 1. With ``dynamic=False``
  the scale is static: gradients are unscaled and non-finite steps skipped, but the
  scale and the trackers never change.

  Args:
    inner: the transformation to feed unscaled gradients (a clip and an optimizer, say).
    init_scale: the first scale, in (0, float32 max] (stored as float32).
    growth_factor: multiplies the scale after ``growth_interval`` finite steps, > 1.
    backoff_factor: multiplies the scale after a non-finite step, in (0, 1).
    growth_interval: finite steps in a row before the scale grows, an int >= 1.
    enabled: a Python bool; False passes everything through.
    dynamic: a Python bool, default True; False keeps ``init_scale`` for good.
    backoff_every: non-finite steps in a row before the scale backs off, an int >= 1
      (default 1: every one).
    unscale: ``"reciprocal"`` (default): multiply by the float32 ``1 / s``;
      ``"divide"``: divide by ``s``. They differ where ``s`` is not a power of two.
      Above :math:`2^{126}` the float32 ``1 / s`` is subnormal, which XLA on the CPU
      flushes to zero; it is carried shifted by :math:`2^{64}` there, so gradients
      unscale as in PyTorch, Paddle and MindSpore (except results that are subnormal
      themselves, flushed to zero as everywhere on the CPU).
    factor_product: ``"double"`` (default) or ``"float32"``, see above.
    growth_stops_at_float32_max: default True: a growth to inf keeps the old scale;
      False lets the scale become inf (every later step then skips).
    skipped_step_advances_count: default False, see above.
    backoff_divisor: ``None`` (default) or a number > 1 with
      ``backoff_factor == 1 / backoff_divisor``: divide by it to back off.
    min_scale: default 0 (no floor), >= 0: the least scale a backoff leaves.

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
  check_bool("dynamic", dynamic)
  backoff_every = check_int("backoff_every", backoff_every)
  if backoff_every > _INT32_MAX:
    raise ValueError(
      f"backoff_every must be at most {_INT32_MAX} (the tracker is int32), got {backoff_every}."
    )
  _check_choice("unscale", unscale, ("reciprocal", "divide"))
  _check_choice("factor_product", factor_product, tuple(_FACTOR_PRODUCTS))
  check_bool("growth_stops_at_float32_max", growth_stops_at_float32_max)
  check_bool("skipped_step_advances_count", skipped_step_advances_count)
  if backoff_divisor is not None:
    check_range("backoff_divisor", backoff_divisor, 1.0, math.inf, low_open=True, high_open=True)
    if not math.isclose(backoff_factor * backoff_divisor, 1.0):
      raise ValueError(
        f"backoff_factor must be 1 / backoff_divisor ({1 / backoff_divisor!r}) when "
        f"backoff_divisor is given, got {backoff_factor!r}."
      )
  check_range("min_scale", min_scale, 0.0, _FLOAT32_MAX)
  times_factor = _FACTOR_PRODUCTS[factor_product]

  def backed_off(scale):
    if backoff_divisor is None:
      smaller = times_factor(scale, backoff_factor)
    else:
      smaller = _divided_by_number(scale, backoff_divisor)
    return jnp.maximum(smaller, jnp.float32(min_scale))

  inner = optax.with_extra_args_support(inner)

  def init_fn(params):
    return DynamicLossScaleState(
      scale=jnp.asarray(init_scale if enabled else 1.0, jnp.float32),
      growth_tracker=jnp.zeros([], jnp.int32),
      backoff_tracker=jnp.zeros([], jnp.int32),
      inner=inner.init(params),
    )

  def unscaler(scale):
    if unscale == "divide":
      return lambda g: _divided(g, scale)
    factors = _reciprocal_factors(scale)
    return lambda g: _times_reciprocal(g, factors)

  def update_fn(updates, state, params=None, **extra_args):
    if not enabled:
      new_updates, new_inner = inner.update(updates, state.inner, params, **extra_args)
      return new_updates, state._replace(inner=new_inner)
    finite = all_finite(updates)
    unscaled = unscaler(state.scale)
    grads = jax.tree.map(lambda g: unscaled(g) if is_trained(g) else g, updates)
    new_updates, new_inner = inner.update(grads, state.inner, params, **extra_args)
    stepped_inner = new_inner
    new_updates, new_inner = step_if(finite, new_updates, new_inner, state.inner)
    if skipped_step_advances_count:
      new_inner = _with_adamax_counts_of(new_inner, stepped_inner)
    if not dynamic:
      return new_updates, state._replace(inner=new_inner)
    successful = state.growth_tracker + 1
    failed = state.backoff_tracker + 1
    grow = finite & (successful == growth_interval)
    back_off = ~finite & (failed == backoff_every)
    grown = times_factor(state.scale, growth_factor)
    if growth_stops_at_float32_max:
      grown = jnp.where(jnp.isfinite(grown), grown, state.scale)
    scale = jnp.where(grow, grown, state.scale)
    scale = jnp.where(back_off, backed_off(state.scale), scale)
    zero = jnp.zeros_like(successful)
    return new_updates, DynamicLossScaleState(
      scale=scale,
      growth_tracker=jnp.where(finite & ~grow, successful, zero),
      backoff_tracker=jnp.where(~finite & ~back_off, failed, zero),
      inner=new_inner,
    )

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
