"""``paddle.nn``'s mirror: the gradient clips ``ClipGradByValue``, ``ClipGradByNorm`` and
``ClipGradByGlobalNorm`` (pass one as ``grad_clip=`` to
:func:`adamax_optax.paddle.optimizer.Adamax`)."""

from adamax_optax.paddle.nn.clip import ClipGradByGlobalNorm, ClipGradByNorm, ClipGradByValue

__all__ = ["ClipGradByGlobalNorm", "ClipGradByNorm", "ClipGradByValue"]
