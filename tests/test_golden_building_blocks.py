"""Each framework's recorded plain-Adamax trajectory, rebuilt from the building blocks.

The presets (MXNet, MindSpore, ...) have golden tests of their own; these check that the
building blocks alone, with a framework's epsilon placement and arithmetic recipe, give
that framework's numbers, bit for bit.
"""

import golden_data
import optax
import pytest

from adamax_optax import (
  add_decayed_weights,
  add_decoupled_weight_decay,
  arithmetic,
  rescale,
  scale_by_adamax,
)

LR = 0.002


def adamax_stage(placement, recipe, eps=1e-8):
  return scale_by_adamax(
    0.9, 0.999, eps, eps_placement=placement, arithmetic=recipe, learning_rate=LR
  )


BUILDS = {
  "mxnet2_default": adamax_stage("denominator", arithmetic.MXNET),
  "mxnet1_default": adamax_stage("none", arithmetic.MXNET1, eps=0.0),
  "mindspore_exp_default": adamax_stage("max_grad", arithmetic.MINDSPORE),
  "mindspore_nn_default": adamax_stage("denominator", arithmetic.MINDSPORE_NN),
  "torch_default": adamax_stage("max_grad", arithmetic.TORCH),
  "keras_default": adamax_stage("denominator", arithmetic.KERAS),
  "paddle_default": adamax_stage("max_norm", arithmetic.PADDLE),
  "mxnet2_wd": optax.chain(
    add_decayed_weights(0.01), adamax_stage("denominator", arithmetic.MXNET)
  ),
  "mxnet2_clip_rescale": optax.chain(
    rescale(0.5),
    optax.clip(0.1),
    add_decayed_weights(0.01),
    adamax_stage("denominator", arithmetic.MXNET),
  ),
  "mxnet1_wd": optax.chain(
    add_decayed_weights(0.01), adamax_stage("none", arithmetic.MXNET1, eps=0.0)
  ),
  "torch_wd": optax.chain(
    add_decayed_weights(0.01, fused=True), adamax_stage("max_grad", arithmetic.TORCH)
  ),
  "keras_wd": optax.chain(
    adamax_stage("denominator", arithmetic.KERAS), add_decoupled_weight_decay(0.01, LR)
  ),
  "paddle_wd": optax.chain(add_decayed_weights(0.01), adamax_stage("max_norm", arithmetic.PADDLE)),
  "mindspore_exp_wd": optax.chain(
    add_decayed_weights(0.01), adamax_stage("max_grad", arithmetic.MINDSPORE)
  ),
  "mindspore_nn_wd": optax.chain(
    add_decayed_weights(0.01), adamax_stage("denominator", arithmetic.MINDSPORE_NN)
  ),
}


@pytest.mark.parametrize("name", sorted(BUILDS))
def test_building_blocks_reproduce_golden_bit_for_bit(name):
  case = "clip_rescale" if name.endswith("clip_rescale") else name.rsplit("_", 1)[1]
  got = golden_data.replay(BUILDS[name], case)
  want = golden_data.trajectory(name)
  assert golden_data.compare(got, want) == len(golden_data.KEYS)
