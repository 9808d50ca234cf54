"""``mxnet.gluon``'s mirror: ``Trainer`` (Adamax driven by ``trainer.step(batch_size)``) and
``utils`` (``clip_global_norm``)."""

from adamax_optax.mxnet.gluon import trainer, utils
from adamax_optax.mxnet.gluon.trainer import Trainer

__all__ = ["Trainer", "trainer", "utils"]
