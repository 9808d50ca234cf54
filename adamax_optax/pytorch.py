"""Compatibility alias of :mod:`adamax_optax.torch.optim.adamax` (the PyTorch wing)."""

from adamax_optax._torch_style import check_maximize, torch_style_chain
from adamax_optax.torch.optim.adamax import torch_adamax

__all__ = ["check_maximize", "torch_adamax", "torch_style_chain"]
