"""MindSpore's wing: what Adamax training touches in ``mindspore``, under its paths.

========================================  ==================================================
MindSpore                                 adamax_optax.mindspore
========================================  ==================================================
``mindspore.experimental.optim.Adamax``   ``experimental.optim.Adamax`` (mindspore_adamax)
``mindspore.nn.AdaMax``                   ``nn.AdaMax`` (mindspore_nn_adamax)
``experimental.optim.lr_scheduler.*``     ``experimental.optim.lr_scheduler.*`` (StepLR, ...)
``nn.<X>DecayLR``, ``nn.WarmUpLR``        ``nn.<X>DecayLR``, ``nn.WarmUpLR``
``nn.<x>_decay_lr``, ``nn.warmup_lr``     ``nn.<x>_decay_lr``, ``nn.warmup_lr`` (lists)
``nn.piecewise_constant_lr``              ``nn.piecewise_constant_lr``
``save_checkpoint``/``load_checkpoint``   ``checkpoint``
``ops.clip_by_global_norm`` ...           ``ops.clip_by_global_norm``, ``ops.clip_by_value``
``amp.DynamicLossScaler``                 ``amp.DynamicLossScaler`` (with the step around it)
the network's parameter order             ``ops.clip_by_global_norm(param_order=...)``;
                                          ``opt.param_order`` of ``Adamax(params, ...)``
========================================  ==================================================

Importing this package never imports MindSpore.
"""

from adamax_optax.mindspore import amp, checkpoint, experimental, nn, ops
from adamax_optax.mindspore.experimental.optim import mindspore_adamax
from adamax_optax.mindspore.nn import mindspore_nn_adamax

__all__ = [
  "amp",
  "checkpoint",
  "experimental",
  "mindspore_adamax",
  "mindspore_nn_adamax",
  "nn",
  "ops",
]
