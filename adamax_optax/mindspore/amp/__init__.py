"""``mindspore.amp``'s mirror: ``DynamicLossScaler`` (dynamic loss scaling around an
optimizer, as MindSpore's functional mixed-precision loop runs it)."""

from adamax_optax.mindspore.amp.loss_scaler import DynamicLossScaler, scale

__all__ = ["DynamicLossScaler", "scale"]
