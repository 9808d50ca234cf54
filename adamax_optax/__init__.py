"""Adamax (Kingma & Ba, 2015, section 7.1) as composable optax transformations.

Building blocks, composable in ``optax.chain`` in this order::

    rescale -> optax.clip -> add_decayed_weights -> scale_by_adamax -> learning rate

and :func:`adamax`, the alias that assembles them. :mod:`adamax_optax.arithmetic`
records how each framework rounds the computation.
"""

from adamax_optax import arithmetic, converters, fused, param_groups
from adamax_optax.alias import adamax
from adamax_optax.arithmetic import Arithmetic
from adamax_optax.keras import keras_adamax
from adamax_optax.lazy import SparseRows, apply_updates, lazy_rows
from adamax_optax.master_weights import MultiPrecisionState, in_higher_precision, multi_precision
from adamax_optax.mindspore import mindspore_adamax, mindspore_nn_adamax
from adamax_optax.mxnet import mxnet1_adamax, mxnet_adamax
from adamax_optax.mxnet_schedulers import (
  CosineScheduler,
  FactorScheduler,
  MultiFactorScheduler,
  PolyScheduler,
)
from adamax_optax.nonfinite import SkipNonfiniteState, skip_nonfinite
from adamax_optax.paddle import paddle_adamax
from adamax_optax.pytorch import torch_adamax
from adamax_optax.rescale import negate_gradients, rescale
from adamax_optax.scale_by_adamax import ScaleByAdamaxState, scale_by_adamax
from adamax_optax.state import load_state, moments
from adamax_optax.weight_decay import add_decayed_weights, add_decoupled_weight_decay

__version__ = "0.1.0"

__all__ = [
  "Arithmetic",
  "CosineScheduler",
  "FactorScheduler",
  "MultiFactorScheduler",
  "MultiPrecisionState",
  "PolyScheduler",
  "ScaleByAdamaxState",
  "SkipNonfiniteState",
  "SparseRows",
  "adamax",
  "add_decayed_weights",
  "add_decoupled_weight_decay",
  "apply_updates",
  "arithmetic",
  "converters",
  "fused",
  "in_higher_precision",
  "keras_adamax",
  "lazy_rows",
  "load_state",
  "mindspore_adamax",
  "mindspore_nn_adamax",
  "moments",
  "multi_precision",
  "mxnet1_adamax",
  "mxnet_adamax",
  "negate_gradients",
  "paddle_adamax",
  "param_groups",
  "rescale",
  "scale_by_adamax",
  "skip_nonfinite",
  "torch_adamax",
]
