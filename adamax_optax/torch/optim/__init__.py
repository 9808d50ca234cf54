"""``torch.optim``'s mirror: ``Adamax`` (:func:`torch_adamax`) and ``lr_scheduler``."""

from adamax_optax.torch.optim import lr_scheduler
from adamax_optax.torch.optim.adamax import torch_adamax

Adamax = torch_adamax

__all__ = ["Adamax", "lr_scheduler", "torch_adamax"]
