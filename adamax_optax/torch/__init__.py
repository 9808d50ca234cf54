"""PyTorch's wing: what Adamax training touches in ``torch``, under PyTorch's paths.

=========================================  ==============================================
PyTorch                                    adamax_optax
=========================================  ==============================================
``torch.optim.Adamax``                     :func:`adamax_optax.torch.optim.Adamax`
``torch.optim.lr_scheduler.StepLR`` ...    :mod:`adamax_optax.torch.optim.lr_scheduler`
``optimizer.state_dict()``                 :mod:`adamax_optax.torch.checkpoint`
``torch.save`` / ``torch.load`` files      :mod:`adamax_optax.torch.checkpoint`
``torch.nn.utils.clip_grad_norm_`` ...     :mod:`adamax_optax.torch.nn.utils` (functional:
                                           transformations to chain before the optimizer)
``model.parameters()`` order               ``param_order=`` of ``clip_grad_norm_`` and
                                           ``get_total_norm``; ``opt.param_order`` of
                                           ``optim.Adamax(params, ...)``
``torch.amp.GradScaler``                   :func:`adamax_optax.torch.amp.GradScaler`
``torch.backends.cpu.get_cpu_capability``  :mod:`adamax_optax.torch.backends.cpu`
=========================================  ==============================================

Importing this package never imports PyTorch, and ``import torch`` still finds the real
one: this is ``adamax_optax.torch``, never a top-level ``torch``.
"""

from adamax_optax.torch import amp, backends, checkpoint, nn, optim
from adamax_optax.torch.optim import torch_adamax

__all__ = ["amp", "backends", "checkpoint", "nn", "optim", "torch_adamax"]
