"""torch_adamax on float16 and bfloat16 parameters, bit for bit against PyTorch 2.13 (CPU).

The recordings (tests/golden/torch/traj_{float16,bfloat16}*.npz) are 300 closed-loop steps
with weight decay, zero, subnormal and near-overflow gradients, several groups, a 0-d
parameter and sizes whose scalar tails differ, on both of PyTorch's implementations; and
200 steps of float16 weight decay on sizes 1500, 50, 210 and 7 with PyTorch's AVX-512 and
AVX2 kernels (``traj_float16_decay_{avx512,avx2}``).
"""

import json

import golden_data
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from adamax_optax import moments
from adamax_optax.torch.optim import Adamax, lr_scheduler
from adamax_optax.torch.optim import adamax as adamax_module

FILES = sorted(p.stem for p in (golden_data.GOLDEN_DIR / "torch").glob("traj_*float16*.npz"))


def _preset(meta: dict):
  kwargs = dict(meta["optimizer_kwargs"])
  scheduler = None
  if meta["scheduler"]:
    cls = getattr(lr_scheduler, meta["scheduler"].rsplit(".", 1)[1])
    scheduler = cls(**meta["scheduler_kwargs"])
  # The kernels PyTorch ran, from the recording (this machine's may differ).
  return Adamax(
    **kwargs,
    param_groups=meta["groups"],
    lr_scheduler=scheduler,
    cpu_capability=meta["cpu_capability"],
  )


def test_every_recording_is_covered():
  assert len(FILES) == 10, FILES


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
    ({"cpu_capability": "DEFAULT"}, ValueError, "generic DEFAULT kernels"),
  ],
)
def test_pytorch_only_keywords_are_checked(kwargs, error, match):
  with pytest.raises(error, match=match):
    Adamax(**kwargs)


def test_both_kernels_are_replayed_with_either_capability():
  # PyTorch runs its AVX2 add kernel on AVX-512 machines: the two recordings agree, and
  # each replays under either capability (so a test passes on AVX2 and AVX-512 hosts).
  for recorded in ("avx512", "avx2"):
    path = golden_data.GOLDEN_DIR / "torch" / f"traj_float16_decay_{recorded}.npz"
    meta = json.loads(str(np.load(path)["meta"]))
    assert meta["cpu_capability"] == recorded.upper()
    for capability in ("AVX512", "AVX2"):
      opt = Adamax(
        **meta["optimizer_kwargs"], param_groups=meta["groups"], cpu_capability=capability
      )
      difference = golden_data.first_difference(
        opt, path, meta["param_order"], jnp.float16, moments
      )
      assert difference is None, f"{recorded} with {capability}: {difference}"


def test_a_16_element_chunk_misses_the_avx2_recording(monkeypatch):
  # The chunk this wing assumed for AVX2 before it was recorded.
  monkeypatch.setitem(adamax_module._VECTOR_CHUNK, "AVX2", 16)
  path = golden_data.GOLDEN_DIR / "torch" / "traj_float16_decay_avx2.npz"
  meta = json.loads(str(np.load(path)["meta"]))
  opt = Adamax(**meta["optimizer_kwargs"], param_groups=meta["groups"], cpu_capability="AVX2")
  difference = golden_data.first_difference(opt, path, meta["param_order"], jnp.float16, moments)
  # Element 201 of 210: in the scalar tail (from 192) of 32-element chunks, not of 16s.
  assert difference is not None and difference.startswith("step 3: m_fc2[6, 21]"), difference
