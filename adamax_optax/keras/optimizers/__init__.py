"""``keras.optimizers``'s mirror: ``Adamax`` (:func:`keras_adamax`) and ``schedules``."""

from adamax_optax.keras.optimizers import schedules
from adamax_optax.keras.optimizers.adamax import keras_adamax

Adamax = keras_adamax

__all__ = ["Adamax", "keras_adamax", "schedules"]
