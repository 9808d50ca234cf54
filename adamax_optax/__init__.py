"""Adamax (Kingma & Ba, 2015, section 7.1) as composable optax transformations, with
presets that reproduce MXNet, MindSpore, PyTorch, Keras and Paddle bit for bit.

Presets (each an ``optax.GradientTransformation`` taking that framework's keyword names
and defaults, also importable from its wing under the framework's own path):

* :func:`mxnet_adamax`: ``mxnet.optimizer.Adamax`` (2.0); :func:`mxnet1_adamax`: 1.x;
* :func:`mindspore_adamax`: ``mindspore.experimental.optim.Adamax``;
* :func:`mindspore_nn_adamax`: ``mindspore.nn.AdaMax``;
* :func:`torch_adamax`: ``torch.optim.Adamax``;
* :func:`keras_adamax`: ``keras.optimizers.Adamax`` (Keras 3);
* :func:`paddle_adamax`: ``paddle.optimizer.Adamax``;
* :func:`adamax` and :func:`adamaxw`: ``optax.adamax`` and ``optax.adamaxw`` bit for bit,
  with optional gradient scaling, clipping and weight decay.

Wings, one per framework, under its import paths (porting a config is changing the
import prefix; no wing imports its framework, another wing, or is imported by the core):

* :mod:`adamax_optax.mxnet`: ``optimizer.Adamax`` and ``Adamax1``, ``lr_scheduler``,
  ``gluon.Trainer``, ``gluon.utils.clip_global_norm``, ``checkpoint``;
* :mod:`adamax_optax.mindspore`: ``experimental.optim.Adamax`` and its ``lr_scheduler``,
  ``nn.AdaMax`` with ``nn``'s learning-rate schedules and lists,
  ``ops.clip_by_global_norm`` and ``ops.clip_by_value``, ``amp.DynamicLossScaler``,
  ``checkpoint``;
* :mod:`adamax_optax.torch`: ``optim.Adamax``, ``optim.lr_scheduler``,
  ``nn.utils.clip_grad_norm_`` and its kin, ``amp.GradScaler``,
  ``backends.cpu.get_cpu_capability``, ``checkpoint``;
* :mod:`adamax_optax.keras`: ``optimizers.Adamax``, ``optimizers.schedules``,
  ``optimizers.base_optimizer``, ``optimizers.LossScaleOptimizer``, ``checkpoint``;
* :mod:`adamax_optax.paddle`: ``optimizer.Adamax``, ``optimizer.lr``, ``nn.ClipGradBy*``,
  ``regularizer.L1Decay`` and ``L2Decay``, ``ParamAttr``, ``amp.GradScaler``,
  ``checkpoint``.

The framework-free core, the building blocks the presets are made of (composable in
``optax.chain`` in this order)::

    rescale -> optax.clip -> add_decayed_weights -> scale_by_adamax -> learning rate

with :mod:`adamax_optax.arithmetic` recording how each framework rounds the computation,
:func:`multi_precision` and :func:`in_higher_precision` for float16/bfloat16 weights,
:func:`skip_nonfinite`, :func:`lazy_rows` and :class:`SparseRows` for embeddings,
:class:`NewValue` updates that :func:`apply_updates` sets exactly (``exact_apply=True``),
:func:`moments` and :func:`load_state` to read and write the moments of any preset's
state (:mod:`adamax_optax.checkpoint`; each wing's ``checkpoint`` module reads and writes
its framework's files), and exact framework schedules (:mod:`adamax_optax.schedules`,
:mod:`adamax_optax.schedules._plateau`).

Example::

    import adamax_optax
    opt = adamax_optax.torch_adamax(lr=1e-3, weight_decay=1e-4)   # torch.optim.Adamax
    state = opt.init(params)
    updates, state = opt.update(grads, state, params)

The documentation (``docs/``, a Sphinx site; the README links each page) has the full tour;
``examples/`` trains a classifier with each preset.
"""

from adamax_optax import (
  arithmetic,
  checkpoint,
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
from adamax_optax.checkpoint import load_state, moments
from adamax_optax.keras.optimizers import keras_adamax
from adamax_optax.lazy import NewValue, SparseRows, apply_updates, lazy_rows
from adamax_optax.master_weights import MultiPrecisionState, in_higher_precision, multi_precision
from adamax_optax.mindspore.experimental.optim import mindspore_adamax
from adamax_optax.mindspore.nn import mindspore_nn_adamax
from adamax_optax.mxnet.optimizer import mxnet1_adamax, mxnet_adamax
from adamax_optax.nonfinite import SkipNonfiniteState, skip_nonfinite
from adamax_optax.paddle.optimizer import paddle_adamax
from adamax_optax.rescale import negate_gradients, rescale
from adamax_optax.scale_by_adamax import ScaleByAdamaxState, scale_by_adamax
from adamax_optax.torch.optim import torch_adamax
from adamax_optax.weight_decay import (
  WeightDecayScheduleState,
  add_decayed_weights,
  add_decoupled_weight_decay,
)

__version__ = "0.1.0"

__all__ = [
  "Arithmetic",
  "MultiPrecisionState",
  "NewValue",
  "ScaleByAdamaxState",
  "SkipNonfiniteState",
  "SparseRows",
  "WeightDecayScheduleState",
  "adamax",
  "adamaxw",
  "add_decayed_weights",
  "add_decoupled_weight_decay",
  "apply_updates",
  "arithmetic",
  "checkpoint",
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
