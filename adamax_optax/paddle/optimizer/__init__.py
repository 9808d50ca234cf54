"""``paddle.optimizer``'s mirror: ``Adamax`` (:func:`paddle_adamax`) and the ``lr`` module
of learning-rate schedulers (``paddle.optimizer.lr.StepDecay`` is
``adamax_optax.paddle.optimizer.lr.StepDecay``); ``get_lr(opt, state)`` is Paddle's
``optimizer.get_lr()``."""

from adamax_optax.paddle.optimizer import lr
from adamax_optax.paddle.optimizer.adamax import get_lr, paddle_adamax

Adamax = paddle_adamax

__all__ = ["Adamax", "get_lr", "lr", "paddle_adamax"]
