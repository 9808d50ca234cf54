"""``torch.backends``'s mirror: ``cpu`` (which of PyTorch's CPU kernels a machine runs)."""

from adamax_optax.torch.backends import cpu

__all__ = ["cpu"]
