"""Compatibility alias of :mod:`adamax_optax.mxnet.lr_scheduler` (the MXNet wing)."""

from adamax_optax.mxnet.lr_scheduler import (
  CosineScheduler,
  FactorScheduler,
  MultiFactorScheduler,
  PolyScheduler,
)

__all__ = ["CosineScheduler", "FactorScheduler", "MultiFactorScheduler", "PolyScheduler"]
