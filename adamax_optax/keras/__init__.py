"""Keras 3's wing: what Adamax training touches in ``keras``, under Keras's paths.

======================================  ===================================================
Keras                                   adamax_optax
======================================  ===================================================
``keras.optimizers.Adamax``             :func:`adamax_optax.keras.optimizers.Adamax`
``keras.optimizers.schedules.*``        :mod:`adamax_optax.keras.optimizers.schedules`
``save_weights``/``load_weights``       :mod:`adamax_optax.keras.checkpoint` (h5py)
``finalize_variable_values`` (EMA)      :func:`adamax_optax.keras.optimizers.ema_params`
``model.trainable_variables`` order     ``Adamax(global_clipnorm=..., param_order=[names])``
``optimizers.LossScaleOptimizer``       ``adamax_optax.keras.optimizers.LossScaleOptimizer``
======================================  ===================================================

Importing this package never imports Keras.
"""

from adamax_optax.keras import checkpoint, optimizers
from adamax_optax.keras.optimizers import keras_adamax

__all__ = ["checkpoint", "keras_adamax", "optimizers"]
