"""``paddle.amp``'s mirror: ``GradScaler`` (dynamic loss scaling around an optimizer)."""

from adamax_optax.paddle.amp.grad_scaler import GradScaler, scale

__all__ = ["GradScaler", "scale"]
