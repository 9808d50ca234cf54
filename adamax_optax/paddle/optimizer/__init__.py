"""``paddle.optimizer``'s mirror: ``Adamax`` (:func:`paddle_adamax`)."""

from adamax_optax.paddle.optimizer.adamax import paddle_adamax

Adamax = paddle_adamax

__all__ = ["Adamax", "paddle_adamax"]
