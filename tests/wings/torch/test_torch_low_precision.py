"""torch_adamax on float16 and bfloat16 parameters, bit for bit against PyTorch 2.13 (CPU).

The recordings (tests/golden/torch/traj_{float16,bfloat16}*.npz) are 300 closed-loop steps
with weight decay, zero, subnormal and near-overflow gradients, several groups, a 0-d
parameter and sizes whose scalar tails differ, on both of PyTorch's implementations.
"""

import json

import golden_data
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from adamax_optax import moments
from adamax_optax.torch.optim import Adamax, lr_scheduler

FILES = sorted(p.stem for p in (golden_data.GOLDEN_DIR / "torch").glob("traj_*float16*.npz"))


def _preset(meta: dict):
  kwargs = dict(meta["optimizer_kwargs"])
  scheduler = None
  if meta["scheduler"]:
    cls = getattr(lr_scheduler, meta["scheduler"].rsplit(".", 1)[1])
    scheduler = cls(**meta["scheduler_kwargs"])
  return Adamax(**kwargs, param_groups=meta["groups"], lr_scheduler=scheduler)


def test_every_recording_is_covered():
  assert len(FILES) == 8, FILES


@pytest.mark.parametrize("name", FILES)
def test_trajectory_bit_for_bit(name):
  path = golden_data.GOLDEN_DIR / "torch" / f"{name}.npz"
  meta = json.loads(str(np.load(path)["meta"]))
  dtype = jnp.dtype(meta["dtype"])
  difference = golden_data.first_difference(
    _preset(meta), path, meta["param_order"], dtype, moments
  )
  assert difference is None, f"{name}: {difference}"


def test_the_two_implementations_differ_where_pytorchs_do():
  path = golden_data.GOLDEN_DIR / "torch" / "traj_float16_odd_sizes_foreach_True.npz"
  meta = json.loads(str(np.load(path)["meta"]))
  meta["optimizer_kwargs"]["foreach"] = False
  difference = golden_data.first_difference(
    _preset(meta), path, meta["param_order"], jnp.float16, moments
  )
  assert difference is not None and difference.startswith("step 2: u_")


def test_updates_of_16bit_params_are_float32_and_round_once():
  params = {"w": jnp.array([1.0, -2.0], jnp.float16), "f": jnp.ones(2)}
  grads = {"w": jnp.array([0.5, 0.25], jnp.float16), "f": jnp.ones(2)}
  opt = Adamax(lr=0.01)
  updates, _ = opt.update(grads, opt.init(params), params)
  assert updates["w"].dtype == jnp.float32 and updates["f"].dtype == jnp.float32
  new = optax.apply_updates(params, updates)
  assert new["w"].dtype == jnp.float16
  want = (params["w"].astype(np.float32) + updates["w"]).astype(np.float16)
  np.testing.assert_array_equal(np.asarray(new["w"]), np.asarray(want))


@pytest.mark.parametrize(
  ("kwargs", "error", "match"),
  [
    ({"capturable": True}, ValueError, "CUDA graphs"),
    ({"foreach": "yes"}, TypeError, "foreach must be None, True or False"),
    ({"differentiable": 1}, TypeError, "differentiable must be a bool"),
    ({"cpu_capability": "NEON"}, ValueError, "cpu_capability must be one of"),
  ],
)
def test_pytorch_only_keywords_are_checked(kwargs, error, match):
  with pytest.raises(error, match=match):
    Adamax(**kwargs)
