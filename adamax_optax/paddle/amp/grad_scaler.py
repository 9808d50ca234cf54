r"""``paddle.amp.GradScaler`` (Paddle 3, dynamic graph) as an optax wrapper.

=========================================  ===============================================
Paddle                                     adamax_optax
=========================================  ===============================================
``scaler = GradScaler(...)``               ``opt = GradScaler(optimizer, ...)``
``scaler.scale(loss).backward()``          ``jax.grad(lambda p: scale(loss(p), state))``
``scaler.step(optimizer)``                 ``opt.update`` (unscaled; skipped on NaN/inf)
``scaler.update()``                        ``opt.update`` (the new scale in the state)
``scaler.minimize(optimizer, scaled)``     ``opt.update``
``scaler._scale``                          ``state.scale``
``scaler._incr_count``                     ``state.growth_tracker``
``scaler._decr_count``                     ``state.backoff_tracker``
=========================================  ===============================================
"""

import math

import numpy as np
import optax

from adamax_optax.loss_scaling import DynamicLossScaleState, dynamic_loss_scaling, scale_loss
from adamax_optax.validation import check_bool, check_int, check_range

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def GradScaler(
  optimizer: optax.GradientTransformation,
  enable: bool = True,
  init_loss_scaling: float = 2.0**16,
  incr_ratio: float = 2.0,
  decr_ratio: float = 0.5,
  incr_every_n_steps: int = 2000,
  decr_every_n_nan_or_inf: int = 1,
  use_dynamic_loss_scaling: bool = True,
) -> optax.GradientTransformationExtraArgs:
  r"""Paddle's ``paddle.amp.GradScaler`` around ``optimizer``, bit for bit (Paddle 3.3).

  ``opt.update`` does what ``scaler.step(optimizer)`` and ``scaler.update()`` do, on the
  gradients of the scaled loss (see :func:`scale`). With :math:`s` the scale,
  :math:`i` the ``incr_count`` and :math:`d` the ``decr_count``, all in float32:

  .. math::

    g &\leftarrow g \cdot \mathrm{f32}(1/s)
      \qquad \text{(the } \texttt{check\_finite\_and\_unscale} \text{ kernel)} \\
    \text{any } g \text{ NaN or inf:}\ & \text{step skipped, } i \leftarrow 0,\
      d \leftarrow d + 1;\ d = \text{decr\_every\_n\_nan\_or\_inf} \Rightarrow
      d \leftarrow 0,\ s \leftarrow s \cdot \mathrm{f32}(\text{decr\_ratio}) \\
    \text{else:}\ & \text{step taken, } d \leftarrow 0,\ i \leftarrow i + 1;\
      i = \text{incr\_every\_n\_steps} \Rightarrow i \leftarrow 0,\
      s \leftarrow s \cdot \mathrm{f32}(\text{incr\_ratio})

  The ratio products are float32 (Paddle multiplies its float32 scale tensor by the
  Python number), with neither a floor nor a cap: the scale may grow to inf (every
  later step then skips) or fall below 1. A skipped step leaves ``optimizer``'s moments
  as they were (Paddle runs no optimizer kernel when ``found_inf`` is set) but advances
  its step count and :math:`\beta_1` power: Paddle's Adamax multiplies ``beta1_pow`` by
  :math:`\beta_1` after the kernel whether it ran or not, so the bias correction (and a
  learning-rate schedule called with the count, as ``scheduler.step()`` runs every
  iteration) moves on. The state is
  :class:`~adamax_optax.loss_scaling.DynamicLossScaleState` (one state type for every
  framework's scaler), with Paddle's fields under the names in the table above.

  On the CPU Paddle itself turns the scaler into a no-op with a warning; this wrapper
  does what Paddle does on a GPU: it was recorded with Paddle 3.3.1 on the CPU with
  the place check bypassed and Paddle's own CPU kernels doing the arithmetic.

  Args:
    optimizer: the transformation to step (e.g. :func:`adamax_optax.paddle.optimizer.Adamax`).
    enable: default True; False steps ``optimizer`` on the gradients as they are.
    init_loss_scaling: default ``2.0**16`` (Paddle 3's ``GradScaler``), > 0.
    incr_ratio: default 2.0, > 1.
    decr_ratio: default 0.5, in (0, 1).
    incr_every_n_steps: default 2000, an int >= 1: finite steps in a row before growth.
    decr_every_n_nan_or_inf: default 1, an int >= 1: non-finite steps in a row before
      the scale backs off (each of them is skipped).
    use_dynamic_loss_scaling: default True; False keeps ``init_loss_scaling`` for good
      (the gradients are still unscaled and non-finite steps skipped).

  Returns:
    An :class:`optax.GradientTransformationExtraArgs`.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from adamax_optax.paddle.amp import GradScaler, scale
    >>> from adamax_optax.paddle.optimizer import Adamax
    >>> opt = GradScaler(Adamax(learning_rate=0.01), decr_every_n_nan_or_inf=2)
    >>> w = jnp.ones(2)
    >>> state = opt.init(w)
    >>> grads = jax.grad(lambda w: scale(jnp.sum(w**2), state))(w)
    >>> updates, state = opt.update(grads, state, w)
    >>> print(updates, float(state.scale), int(state.growth_tracker))
    [-0.01 -0.01] 65536.0 1
    >>> _, state = opt.update(jnp.array([jnp.inf, 0.0]), state, w)
    >>> print(float(state.scale), int(state.backoff_tracker))
    65536.0 1
    >>> _, state = opt.update(jnp.array([jnp.inf, 0.0]), state, w)
    >>> print(float(state.scale), int(state.backoff_tracker))
    32768.0 0

  References:
    Paddle ``paddle.amp.GradScaler``
    (https://www.paddlepaddle.org.cn/documentation/docs/en/api/paddle/amp/GradScaler_en.html).
  """
  check_bool("enable", enable)
  check_bool("use_dynamic_loss_scaling", use_dynamic_loss_scaling)
  incr_every_n_steps = check_int("incr_every_n_steps", incr_every_n_steps)
  decr_every_n_nan_or_inf = check_int("decr_every_n_nan_or_inf", decr_every_n_nan_or_inf)
  check_range("init_loss_scaling", init_loss_scaling, 0.0, _FLOAT32_MAX, low_open=True)
  check_range("incr_ratio", incr_ratio, 1.0, math.inf, low_open=True, high_open=True)
  check_range("decr_ratio", decr_ratio, 0.0, 1.0, low_open=True, high_open=True)
  return dynamic_loss_scaling(
    optimizer,
    init_loss_scaling,
    growth_factor=incr_ratio,
    backoff_factor=decr_ratio,
    growth_interval=incr_every_n_steps,
    enabled=enable,
    dynamic=use_dynamic_loss_scaling,
    backoff_every=decr_every_n_nan_or_inf,
    unscale="reciprocal",
    factor_product="float32",
    growth_stops_at_float32_max=False,
    skipped_step_advances_count=True,
  )


def scale(var, state: DynamicLossScaleState):
  """``scaler.scale(var)``: the loss (or a pytree of arrays) times ``state.scale``.

  In float32 (the scale's dtype) and rounded to each leaf's dtype. Unchanged when the
  scaler is disabled (scale 1).

  Example:
    >>> import jax.numpy as jnp, optax
    >>> from adamax_optax.paddle.amp import GradScaler, scale
    >>> state = GradScaler(optax.sgd(0.1), init_loss_scaling=8.0).init(jnp.ones(1))
    >>> print(scale(jnp.float32(0.25), state))
    2.0
  """
  return scale_loss(var, state)


__all__ = ["GradScaler", "scale"]
