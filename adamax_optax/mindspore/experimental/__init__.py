"""``mindspore.experimental``'s mirror."""

from adamax_optax.mindspore.experimental import optim

__all__ = ["optim"]
