"""MXNet's wing: everything of ``mxnet`` that Adamax training touches, under MXNet's paths.

============================================  =============================================
MXNet                                         adamax_optax
============================================  =============================================
``mx.optimizer.Adamax`` (2.0)                 :func:`adamax_optax.mxnet.optimizer.Adamax`
``mx.optimizer.Adamax`` (1.x)                 :func:`adamax_optax.mxnet.optimizer.Adamax1`
``mx.lr_scheduler.FactorScheduler`` ...       :mod:`adamax_optax.mxnet.lr_scheduler`
``Updater.get_states`` / ``set_states``       :mod:`adamax_optax.mxnet.checkpoint`
``Trainer.save_states``, ``.params`` files    :mod:`adamax_optax.mxnet.checkpoint`
``gluon.Trainer``, ``trainer.step(batch)``    :func:`adamax_optax.mxnet.gluon.Trainer`,
                                              ``update(..., batch_size=batch)``
``gluon.utils.clip_global_norm``              :mod:`adamax_optax.mxnet.gluon.utils`
the order of the arrays given to it           ``clip_global_norm(..., param_order=[names])``
============================================  =============================================

Importing this package never imports MXNet.
"""

from adamax_optax.mxnet import checkpoint, gluon, lr_scheduler, optimizer
from adamax_optax.mxnet.optimizer import mxnet1_adamax, mxnet_adamax

__all__ = [
  "checkpoint",
  "gluon",
  "lr_scheduler",
  "mxnet1_adamax",
  "mxnet_adamax",
  "optimizer",
]
