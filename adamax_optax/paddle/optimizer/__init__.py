"""``paddle.optimizer``'s mirror: ``Adamax`` (:func:`paddle_adamax`) and the ``lr`` module
of learning-rate schedulers (``paddle.optimizer.lr.StepDecay`` is
``adamax_optax.paddle.optimizer.lr.StepDecay``)."""

from adamax_optax.paddle.optimizer import lr
from adamax_optax.paddle.optimizer.adamax import paddle_adamax

Adamax = paddle_adamax

__all__ = ["Adamax", "lr", "paddle_adamax"]
