"""``mindspore.experimental.optim``'s mirror: ``Adamax`` (:func:`mindspore_adamax`)."""

from adamax_optax.mindspore.experimental.optim.adamax import mindspore_adamax

Adamax = mindspore_adamax

__all__ = ["Adamax", "mindspore_adamax"]
