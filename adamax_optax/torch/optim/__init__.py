"""``torch.optim``'s mirror: ``Adamax`` (:func:`torch_adamax`)."""

from adamax_optax.torch.optim.adamax import torch_adamax

Adamax = torch_adamax

__all__ = ["Adamax", "torch_adamax"]
