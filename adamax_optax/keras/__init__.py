"""Keras 3's wing: what Adamax training touches in ``keras``, under Keras's paths.

======================================  ===================================================
Keras                                   adamax_optax
======================================  ===================================================
``keras.optimizers.Adamax``             :func:`adamax_optax.keras.optimizers.Adamax`
``keras.optimizers.schedules.*``        :mod:`adamax_optax.keras.optimizers.schedules`
``finalize_variable_values`` (EMA)      :func:`adamax_optax.keras.optimizers.ema_params`
======================================  ===================================================

Importing this package never imports Keras.
"""

from adamax_optax.keras import optimizers
from adamax_optax.keras.optimizers import keras_adamax

__all__ = ["keras_adamax", "optimizers"]
