"""Paddle's wing: what Adamax training touches in ``paddle``, under Paddle's paths.

======================================  ===================================================
Paddle                                  adamax_optax
======================================  ===================================================
``paddle.optimizer.Adamax``             :func:`adamax_optax.paddle.optimizer.Adamax`
======================================  ===================================================

Importing this package never imports Paddle.
"""

from adamax_optax.paddle import optimizer
from adamax_optax.paddle.optimizer import paddle_adamax

__all__ = ["optimizer", "paddle_adamax"]
