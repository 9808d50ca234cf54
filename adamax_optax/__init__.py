"""Adamax (Kingma & Ba, 2015, section 7.1) as composable optax transformations.

The package has a framework-free core and one wing per framework.

Core (building blocks, composable in ``optax.chain`` in this order)::

    rescale -> optax.clip -> add_decayed_weights -> scale_by_adamax -> learning rate

with :func:`adamax` and :func:`adamaxw`, optax's aliases bit for bit, assembling them;
:mod:`adamax_optax.arithmetic` records how each framework rounds the computation.

Wings, each under its framework's own import paths (porting a config is changing the
import prefix; no wing imports its framework):

* :mod:`adamax_optax.mxnet`: ``optimizer.Adamax`` (:func:`mxnet_adamax`, and
  :func:`mxnet1_adamax` for 1.x), ``lr_scheduler``, ``checkpoint``;
* :mod:`adamax_optax.mindspore`: ``experimental.optim.Adamax``
  (:func:`mindspore_adamax`) and its ``lr_scheduler``, ``nn.AdaMax``
  (:func:`mindspore_nn_adamax`) with ``nn``'s learning-rate schedules and lists,
  ``checkpoint``;
* :mod:`adamax_optax.torch`: ``optim.Adamax`` (:func:`torch_adamax`),
  ``optim.lr_scheduler``, ``checkpoint``;
* :mod:`adamax_optax.keras`: ``optimizers.Adamax`` (:func:`keras_adamax`),
  ``optimizers.schedules``;
* :mod:`adamax_optax.paddle`: ``optimizer.Adamax`` (:func:`paddle_adamax`),
  ``optimizer.lr``.

Every framework scheduler gives that framework's learning rate at every step
(:mod:`adamax_optax.schedules`, :mod:`adamax_optax.plateau`).
"""

from adamax_optax import (
  arithmetic,
  converters,
  fused,
  keras,
  mindspore,
  mxnet,
  paddle,
  param_groups,
  torch,
)
from adamax_optax.alias import adamax, adamaxw
from adamax_optax.arithmetic import Arithmetic
from adamax_optax.keras.optimizers import keras_adamax
from adamax_optax.lazy import SparseRows, apply_updates, lazy_rows
from adamax_optax.master_weights import MultiPrecisionState, in_higher_precision, multi_precision
from adamax_optax.mindspore.experimental.optim import mindspore_adamax
from adamax_optax.mindspore.nn import mindspore_nn_adamax
from adamax_optax.mxnet.lr_scheduler import (
  CosineScheduler,
  FactorScheduler,
  MultiFactorScheduler,
  PolyScheduler,
)
from adamax_optax.mxnet.optimizer import mxnet1_adamax, mxnet_adamax
from adamax_optax.nonfinite import SkipNonfiniteState, skip_nonfinite
from adamax_optax.paddle.optimizer import paddle_adamax
from adamax_optax.rescale import negate_gradients, rescale
from adamax_optax.scale_by_adamax import ScaleByAdamaxState, scale_by_adamax
from adamax_optax.state import load_state, moments
from adamax_optax.torch.optim import torch_adamax
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
  "adamaxw",
  "add_decayed_weights",
  "add_decoupled_weight_decay",
  "apply_updates",
  "arithmetic",
  "converters",
  "fused",
  "in_higher_precision",
  "keras",
  "keras_adamax",
  "lazy_rows",
  "load_state",
  "mindspore",
  "mindspore_adamax",
  "mindspore_nn_adamax",
  "moments",
  "multi_precision",
  "mxnet",
  "mxnet1_adamax",
  "mxnet_adamax",
  "negate_gradients",
  "paddle",
  "paddle_adamax",
  "param_groups",
  "rescale",
  "scale_by_adamax",
  "skip_nonfinite",
  "torch",
  "torch_adamax",
]
