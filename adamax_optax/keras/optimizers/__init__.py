"""``keras.optimizers``'s mirror: ``Adamax`` (:func:`keras_adamax`) and ``schedules``;
:func:`ema_params` reads the moving averages of ``Adamax(use_ema=True)``."""

from adamax_optax.keras.optimizers import base_optimizer, schedules
from adamax_optax.keras.optimizers.adamax import keras_adamax
from adamax_optax.keras.optimizers.base_optimizer import ema_params

Adamax = keras_adamax

__all__ = ["Adamax", "base_optimizer", "ema_params", "keras_adamax", "schedules"]
