"""``mindspore.nn``'s mirror: ``AdaMax`` (:func:`mindspore_nn_adamax`)."""

from adamax_optax.mindspore.nn.ada_max import mindspore_nn_adamax

AdaMax = mindspore_nn_adamax

__all__ = ["AdaMax", "mindspore_nn_adamax"]
