"""``torch.nn``'s mirror: ``utils`` (gradient clipping)."""

from adamax_optax.torch.nn import utils

__all__ = ["utils"]
