r"""``mindspore.amp.DynamicLossScaler`` (MindSpore 2.x) as an optax wrapper.

MindSpore's functional mixed-precision step is user code around the scaler; the wrapper's
``update`` is that step:

=============================================  ===========================================
MindSpore                                      adamax_optax
=============================================  ===========================================
``loss_scaler = DynamicLossScaler(...)``       ``opt = DynamicLossScaler(optimizer, ...)``
``loss_scaler.scale(loss)``, then the grads    ``jax.grad(lambda p: scale(loss(p), state))``
``is_finite = amp.all_finite(grads)``          done by ``opt.update``
``if is_finite:``                              done by ``opt.update`` (skipped otherwise)
``optimizer(loss_scaler.unscale(grads))``
``loss_scaler.adjust(is_finite)``              done by ``opt.update``
``loss_scaler.scale_value``                    ``state.scale``
``loss_scaler.counter``                        ``state.growth_tracker``
=============================================  ===========================================
"""

import numpy as np
import optax

from adamax_optax.loss_scaling import DynamicLossScaleState, dynamic_loss_scaling, scale_loss
from adamax_optax.validation import check_int, check_range

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def DynamicLossScaler(
  optimizer: optax.GradientTransformation,
  scale_value: float,
  scale_factor: int,
  scale_window: int,
) -> optax.GradientTransformationExtraArgs:
  r"""MindSpore's ``amp.DynamicLossScaler`` and its training step around ``optimizer``.

  ``opt.update`` takes the gradients of the scaled loss (see :func:`scale`). With
  :math:`s` the ``scale_value``, :math:`c` the ``counter`` and :math:`f` the
  ``scale_factor``, in float32:

  .. math::

    \text{any } g \text{ NaN or inf:}\ & \text{step skipped, } c \leftarrow 0,\
      s \leftarrow \max(1, s / f) \\
    \text{else:}\ & \text{optimizer steps on } g \cdot \mathrm{f32}(1/s)\
      \text{(} \texttt{Reciprocal} \text{)};\ c = \text{scale\_window} - 1 \Rightarrow
      c \leftarrow 0,\ s \leftarrow s \cdot f \text{ unless that is inf};\
      \text{else } c \leftarrow c + 1

  The backoff divides (it does not multiply by :math:`1/f`) and never goes below 1.
  A skipped step leaves ``optimizer``'s state as it was, its step count included, as
  ``if is_finite: optimizer(...)`` does. The state is
  :class:`~adamax_optax.loss_scaling.DynamicLossScaleState` (one state type for every
  framework's scaler): ``scale`` is ``scale_value`` (float32), ``growth_tracker`` is
  ``counter`` (int32). Gradients are expected in float32 (MindSpore's ``unscale`` casts
  the reciprocal to a 16-bit gradient's dtype first; that is not reproduced).

  Recorded: MindSpore 2.10.0 on the CPU (PyNative) with
  ``mindspore.experimental.optim.Adamax``, factors 2 and 3.

  Args:
    optimizer: the transformation to step, e.g.
      :func:`adamax_optax.mindspore.experimental.optim.Adamax`.
    scale_value: the first scale, >= 1 (as MindSpore requires), stored as float32.
    scale_factor: an int >= 2: the growth multiplies by it, the backoff divides by it.
      (MindSpore also takes 1, a scale that never moves; not offered here.)
    scale_window: an int >= 1: finite steps in a row before the scale grows.

  Returns:
    An :class:`optax.GradientTransformationExtraArgs`.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from adamax_optax.mindspore.amp import DynamicLossScaler, scale
    >>> from adamax_optax.mindspore.experimental.optim import Adamax
    >>> opt = DynamicLossScaler(Adamax(lr=0.01), scale_value=2.0, scale_factor=4,
    ...                         scale_window=1000)
    >>> w = jnp.ones(2)
    >>> state = opt.init(w)
    >>> grads = jax.grad(lambda w: scale(jnp.sum(w**2), state))(w)
    >>> updates, state = opt.update(grads, state, w)
    >>> print(updates, float(state.scale), int(state.growth_tracker))
    [-0.01 -0.01] 2.0 1
    >>> _, state = opt.update(jnp.array([jnp.inf, 0.0]), state, w)
    >>> print(float(state.scale), int(state.growth_tracker))
    1.0 0

  References:
    MindSpore ``mindspore.amp.DynamicLossScaler``
    (https://www.mindspore.cn/docs/en/master/api_python/amp/mindspore.amp.DynamicLossScaler.html).
  """
  check_range("scale_value", scale_value, 1.0, _FLOAT32_MAX)
  scale_factor = check_int("scale_factor", scale_factor, low=2)
  scale_window = check_int("scale_window", scale_window)
  return dynamic_loss_scaling(
    optimizer,
    scale_value,
    growth_factor=scale_factor,
    backoff_factor=1.0 / scale_factor,
    growth_interval=scale_window,
    unscale="reciprocal",
    factor_product="float32",
    backoff_divisor=scale_factor,
    min_scale=1.0,
  )


def scale(inputs, state: DynamicLossScaleState):
  """``loss_scaler.scale(inputs)``: the loss (or a pytree of arrays) times the scale.

  In float32 and rounded to each leaf's dtype (for float32 values, MindSpore's result).

  Example:
    >>> import jax.numpy as jnp, optax
    >>> from adamax_optax.mindspore.amp import DynamicLossScaler, scale
    >>> state = DynamicLossScaler(optax.sgd(0.1), 8.0, 2, 100).init(jnp.ones(1))
    >>> print(scale(jnp.float32(0.25), state))
    2.0
  """
  return scale_loss(inputs, state)


__all__ = ["DynamicLossScaler", "scale"]
