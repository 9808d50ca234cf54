"""``mindspore.experimental.optim``'s mirror: ``Adamax`` (:func:`mindspore_adamax`) and
``lr_scheduler``."""

from adamax_optax.mindspore.experimental.optim import lr_scheduler
from adamax_optax.mindspore.experimental.optim.adamax import mindspore_adamax

Adamax = mindspore_adamax

__all__ = ["Adamax", "lr_scheduler", "mindspore_adamax"]
