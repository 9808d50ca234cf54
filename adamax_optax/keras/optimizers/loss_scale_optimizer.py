r"""``keras.optimizers.LossScaleOptimizer`` (Keras 3) as an optax wrapper.

===========================================  ==============================================
Keras                                        adamax_optax
===========================================  ==============================================
``LossScaleOptimizer(inner, ...)``           ``opt = LossScaleOptimizer(inner, ...)``
``opt.scale_loss(loss)``                     ``scale_loss(loss, state)``
``opt.apply`` / ``opt.stateless_apply``      ``opt.update`` (skipped on NaN/inf)
``opt.dynamic_scale``                        ``state.scale``
``opt.step_counter``                         ``state.growth_tracker``
``opt.iterations`` (the inner optimizer's)   the inner state's count
===========================================  ==============================================
"""

import numpy as np
import optax

from adamax_optax import loss_scaling
from adamax_optax.loss_scaling import DynamicLossScaleState, dynamic_loss_scaling
from adamax_optax.validation import check_int, check_range


def LossScaleOptimizer(
  inner_optimizer: optax.GradientTransformation,
  initial_scale: float = 2.0**15,
  dynamic_growth_steps: int = 2000,
) -> optax.GradientTransformationExtraArgs:
  r"""Keras 3's ``keras.optimizers.LossScaleOptimizer`` around ``inner_optimizer``, bit for bit.

  ``opt.update`` takes the gradients of the scaled loss (see :func:`scale_loss`) and
  does what Keras's ``stateless_apply`` does (the step ``model.fit`` compiles). With
  :math:`s` the ``dynamic_scale`` and :math:`c` the ``step_counter``, in float32:

  .. math::

    \text{any } g \text{ NaN or inf:}\ & \text{step skipped, } c \leftarrow 0,\
      s \leftarrow s \cdot 0.5 \\
    \text{else:}\ & \text{inner steps on } g / s \text{ (divided, by the scale before
      this update)};\ c = \text{dynamic\_growth\_steps} - 1 \Rightarrow c \leftarrow 0,\
      s \leftarrow s \cdot 2 \text{ (even to inf)};\ \text{else } c \leftarrow c + 1

  A skipped step leaves the inner optimizer's state as it was, its ``iterations``
  included. Keras never stops the growth: a scale past float32's range becomes inf and
  every later step skips. The inner optimizer's own ``loss_scale_factor`` must be unset
  (Keras clears it). The state is
  :class:`~adamax_optax.loss_scaling.DynamicLossScaleState` (one state type for every
  framework's scaler): ``scale`` is Keras's ``dynamic_scale`` (float32),
  ``growth_tracker`` its ``step_counter`` (int32).

  Recorded: Keras 3.15.1 (JAX backend) with ``stateless_apply`` under ``jax.jit`` and
  outside it (the two agree bit for bit); Keras's eager ``apply`` fails on the JAX
  backend in that version (its ``ops.cond`` assigns variables inside a
  ``jax.lax.cond``).

  Args:
    inner_optimizer: the transformation to step, e.g.
      :func:`adamax_optax.keras.optimizers.Adamax` (without ``loss_scale_factor``).
    initial_scale: default ``2.0**15``, > 0, stored as float32.
    dynamic_growth_steps: default 2000, an int >= 1: the scale doubles after this many
      finite steps in a row.

  Returns:
    An :class:`optax.GradientTransformationExtraArgs`.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from adamax_optax.keras.optimizers import Adamax, LossScaleOptimizer, scale_loss
    >>> opt = LossScaleOptimizer(Adamax(learning_rate=0.01), initial_scale=1024.0)
    >>> w = jnp.ones(2)
    >>> state = opt.init(w)
    >>> grads = jax.grad(lambda w: scale_loss(jnp.sum(w**2), state))(w)
    >>> updates, state = opt.update(grads, state, w)
    >>> print(updates, float(state.scale), int(state.growth_tracker))
    [-0.01 -0.01] 1024.0 1
    >>> _, state = opt.update(jnp.array([jnp.nan, 0.0]), state, w)
    >>> print(float(state.scale), int(state.growth_tracker))
    512.0 0

  References:
    Keras ``keras.optimizers.LossScaleOptimizer``
    (https://keras.io/api/mixed_precision/loss_scale_optimizer/).
  """
  check_range("initial_scale", initial_scale, 0.0, float(np.finfo(np.float32).max), low_open=True)
  dynamic_growth_steps = check_int("dynamic_growth_steps", dynamic_growth_steps)
  return dynamic_loss_scaling(
    inner_optimizer,
    initial_scale,
    growth_factor=2.0,
    backoff_factor=0.5,
    growth_interval=dynamic_growth_steps,
    unscale="divide",
    factor_product="float32",
    growth_stops_at_float32_max=False,
  )


def scale_loss(loss, state: DynamicLossScaleState):
  """``opt.scale_loss(loss)``: the loss (or a pytree of arrays) times the scale.

  In float32 (the scale's dtype) and rounded to each leaf's dtype.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.keras.optimizers import Adamax, LossScaleOptimizer, scale_loss
    >>> state = LossScaleOptimizer(Adamax(), initial_scale=8.0).init(jnp.ones(1))
    >>> print(scale_loss(jnp.float32(0.25), state))
    2.0
  """
  return loss_scaling.scale_loss(loss, state)


__all__ = ["LossScaleOptimizer", "scale_loss"]
