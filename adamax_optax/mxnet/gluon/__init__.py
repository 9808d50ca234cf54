"""``mxnet.gluon``'s mirror: ``utils`` (``clip_global_norm``)."""

from adamax_optax.mxnet.gluon import utils

__all__ = ["utils"]
