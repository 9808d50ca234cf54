"""Paddle's wing: what Adamax training touches in ``paddle``, under Paddle's paths.

==============================================  ===================================================
Paddle                                          adamax_optax
==============================================  ===================================================
``paddle.optimizer.Adamax``                     :func:`adamax_optax.paddle.optimizer.Adamax`
``paddle.optimizer.lr.<Scheduler>``             ``adamax_optax.paddle.optimizer.lr.<Scheduler>``
``paddle.optimizer.lr.ReduceOnPlateau``         ``adamax_optax.paddle.optimizer.lr.ReduceOnPlateau``
                                                (the metric goes to ``update(..., value=metric)``)
``paddle.save`` / ``paddle.load`` (``.pdopt``)  :mod:`adamax_optax.paddle.checkpoint`
``opt.set_state_dict(paddle.load(...))``        ``checkpoint.state_from_paddle_optimizer_file``
                                                (moments, step and the scheduler's state)
``paddle.regularizer.L1Decay``, ``L2Decay``     ``adamax_optax.paddle.regularizer.L1Decay``, ...
``paddle.ParamAttr`` (optimizer's fields)       ``adamax_optax.paddle.ParamAttr``, by name:
                                                ``Adamax(param_attrs={"fc/w": ParamAttr(...)})``
``paddle.nn.ClipGradByValue`` / ``ByNorm`` /    ``adamax_optax.paddle.nn.ClipGradBy*`` (give one to
``ByGlobalNorm``                                ``Adamax(grad_clip=...)``)
``Adamax(parameters=...)``'s order              ``ClipGradByGlobalNorm(param_order=...)``, or taken
                                                from ``Adamax(parameters=..., grad_clip=...)``
``paddle.amp.GradScaler``                       :func:`adamax_optax.paddle.amp.GradScaler`
==============================================  ===================================================

Schedulers: ``LRScheduler`` (to subclass), ``NoamDecay``, ``PiecewiseDecay``,
``NaturalExpDecay``, ``InverseTimeDecay``, ``PolynomialDecay``, ``LinearWarmup``,
``ExponentialDecay``, ``MultiStepDecay``, ``StepDecay``, ``LambdaDecay``,
``CosineAnnealingDecay``, ``MultiplicativeDecay``, ``OneCycleLR``, ``CyclicLR``,
``LinearLR``, ``CosineAnnealingWarmRestarts`` and ``ReduceOnPlateau``.

Importing this package never imports Paddle.
"""

from adamax_optax.paddle import amp, checkpoint, nn, optimizer, regularizer
from adamax_optax.paddle.optimizer import paddle_adamax
from adamax_optax.paddle.regularizer import ParamAttr

__all__ = ["ParamAttr", "amp", "checkpoint", "nn", "optimizer", "paddle_adamax", "regularizer"]
