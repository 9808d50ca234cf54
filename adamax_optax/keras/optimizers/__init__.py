"""``keras.optimizers``'s mirror: ``Adamax`` (:func:`keras_adamax`), ``schedules`` and
``LossScaleOptimizer`` (with :func:`scale_loss`, its ``opt.scale_loss``); :func:`ema_params`
reads the moving averages of ``Adamax(use_ema=True)``."""

from adamax_optax.keras.optimizers import base_optimizer, schedules
from adamax_optax.keras.optimizers.adamax import keras_adamax
from adamax_optax.keras.optimizers.base_optimizer import ema_params
from adamax_optax.keras.optimizers.loss_scale_optimizer import LossScaleOptimizer, scale_loss

Adamax = keras_adamax

__all__ = [
  "Adamax",
  "LossScaleOptimizer",
  "base_optimizer",
  "ema_params",
  "keras_adamax",
  "scale_loss",
  "schedules",
]
