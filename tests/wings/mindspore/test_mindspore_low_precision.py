"""MindSpore's two Adamax optimizers on float16 parameters, bit for bit (MindSpore 2.10, CPU).

Recordings: 300 closed-loop steps with weight decay, zero, subnormal and near-overflow
gradients (tests/golden/mindspore/ms_traj_*fp16*.npz). MindSpore's CPU kernels refuse
bfloat16 (recorded in ms_traj_errors.json), so there is nothing to compare it with.
"""

import json

import golden_data
import jax.numpy as jnp
import numpy as np
import pytest

from adamax_optax import mindspore_adamax, mindspore_nn_adamax, moments


def _run(name: str):
  path = golden_data.GOLDEN_DIR / "mindspore" / f"{name}.npz"
  meta = json.loads(str(np.load(path)["meta"]))
  kwargs = dict(meta["optimizer_kwargs"])
  if meta["optimizer"] == "mindspore.nn.AdaMax":
    opt = mindspore_nn_adamax(**kwargs)
  else:
    opt = mindspore_adamax(**kwargs, param_groups=meta["groups"])
  return golden_data.first_difference(opt, path, meta["keys"], jnp.float16, moments)


@pytest.mark.parametrize(
  "name", ["ms_traj_nn_fp16", "ms_traj_nn_fp16_loss_scale", "ms_traj_exp_fp16"]
)
def test_trajectory_bit_for_bit(name):
  difference = _run(name)
  assert difference is None, f"{name}: {difference}"


def test_update_dtypes_follow_where_mindspore_rounds():
  """nn.AdaMax's kernel rounds the weight once from float32: a float32 update. The
  experimental optimizer subtracts a float16 step in float16: a float16 update."""
  params = {"w": jnp.array([1.0, -2.0], jnp.float16)}
  grads = {"w": jnp.array([0.5, 0.25], jnp.float16)}
  for factory, want in ((mindspore_nn_adamax, jnp.float32), (mindspore_adamax, jnp.float16)):
    opt = factory()
    updates, state = opt.update(grads, opt.init(params), params)
    assert updates["w"].dtype == want, factory.__name__
    mu, nu, _ = moments(state)
    assert mu["w"].dtype == nu["w"].dtype == jnp.float16
