"""Resuming from real ``Trainer.save_states`` and parameter files of MXNet 1.9 and 2.0.

The files in tests/golden/mxnet/checkpoints/ were written by MXNet (see
tests/golden/generate/mxnet/gen_checkpoints.py): after 5 steps of a Trainer over [w, b, s]
('adamax', learning_rate 0.02, wd 0.001), float32 or float16 with ``multi_precision``, and
the 6 steps MXNet took after them.
"""

import json
import pathlib

import jax
import numpy as np
import pytest
from harness import assert_replays, assert_same_tree

import adamax_optax as ax
from adamax_optax.mxnet import checkpoint as ckpt

FILES = pathlib.Path(__file__).parents[2] / "golden" / "mxnet" / "checkpoints"
ORDER = ["w", "b", "s"]  # the Trainer's parameter list: MXNet's indices 0, 1, 2
CASES = [(v, case) for v in (1, 2) for case in ("fp32", "fp16_mp")]


def files(version, case):
  prefix = FILES / f"mxnet{version}_{case}"
  return pathlib.Path(f"{prefix}.states"), pathlib.Path(f"{prefix}.params"), f"{prefix}.npz"


def template(version, case):
  dtype = np.float16 if case == "fp16_mp" else np.float32
  s_shape = () if version == 2 else (1,)  # MXNet 1.x has no 0-d arrays
  return {"w": np.zeros((4, 3), dtype), "b": np.zeros(3, dtype), "s": np.zeros(s_shape, dtype)}


def continued(path):
  with np.load(path) as f:
    rows = {}
    for k in f.files:
      if k.endswith("_bits"):
        rows[k[: -len("_bits")]] = f[k].view(np.float16)
      elif k != "meta":
        rows[k] = f[k]
    return rows, json.loads(str(f["meta"]))


def preset(version, case):
  build = ax.mxnet_adamax if version == 2 else ax.mxnet1_adamax
  return build(learning_rate=0.02, wd=0.001, multi_precision=case == "fp16_mp")


def resume(version, case, params, mu, nu, step, masters):
  opt = preset(version, case)
  state = ax.load_state(opt, params, mu=mu, nu=nu, step=step, master_weights=masters)
  rows, meta = continued(files(version, case)[2])
  assert meta["saved_after"] == step

  extra = None
  if masters is not None:
    master = lambda state: state.master if hasattr(state, "master") else find_master(state)
    extra = lambda state: {"master": master(state)}
  what = f"mxnet{version} {case}, continued"
  assert_replays(opt, rows, ORDER, what, start=(params, state), extra=extra)


def find_master(state):
  found = [
    s
    for s in jax.tree.leaves(state, is_leaf=lambda x: isinstance(x, ax.MultiPrecisionState))
    if isinstance(s, ax.MultiPrecisionState)
  ]
  assert len(found) == 1
  return found[0].master


@pytest.mark.parametrize(("version", "case"), CASES)
def test_the_real_files_resume_bit_exactly(version, case):
  states_file, params_file, _ = files(version, case)
  params = ckpt.from_mxnet_params_file(params_file, template(version, case))
  mu, nu, step, masters = ckpt.from_mxnet_states_file(states_file, params, order=ORDER)
  assert step == 5 and (masters is not None) == (case == "fp16_mp")
  resume(version, case, params, mu, nu, step, masters)


@pytest.mark.parametrize(("version", "case"), CASES)
def test_written_files_read_back_and_resume_bit_exactly(version, case, tmp_path):
  states_file, params_file, _ = files(version, case)
  params = ckpt.from_mxnet_params_file(params_file, template(version, case))
  mu, nu, step, masters = ckpt.from_mxnet_states_file(states_file, params, order=ORDER)
  _, optimizer = ckpt.load_states(states_file)
  out = tmp_path / "written.states"
  ckpt.to_mxnet_states_file(
    out, mu, nu, step, masters, optimizer=optimizer, order=ORDER, version=version
  )
  assert_same_tree(ckpt.load_states(out), ckpt.load_states(states_file))
  ckpt.save_parameters(tmp_path / "p.params", ckpt.load_parameters(params_file), version=version)
  assert_same_tree(ckpt.load_parameters(tmp_path / "p.params"), ckpt.load_parameters(params_file))
  params2 = ckpt.from_mxnet_params_file(tmp_path / "p.params", template(version, case))
  resume(version, case, params2, *ckpt.from_mxnet_states_file(out, params2, order=ORDER))


def test_the_default_order_reports_the_mismatch():
  states_file, params_file, _ = files(2, "fp32")
  params = ckpt.from_mxnet_params_file(params_file, template(2, "fp32"))
  with pytest.raises(ValueError, match=r"parameter 'b' has shape \(3,\).*shape \(4, 3\)"):
    ckpt.from_mxnet_states_file(states_file, params)  # tree_leaves order is b, s, w


def test_states_without_the_optimizer_need_the_update_counts(tmp_path):
  states, _ = ckpt.load_states(files(2, "fp32")[0])
  ckpt.save_states(tmp_path / "bare.states", states)
  params = template(2, "fp32")
  with pytest.raises(ValueError, match="update_counts="):
    ckpt.from_mxnet_states_file(tmp_path / "bare.states", params, order=ORDER)
  _, _, step, _ = ckpt.from_mxnet_states_file(
    tmp_path / "bare.states", params, order=ORDER, update_counts={0: 5, 1: 5, 2: 5}
  )
  assert step == 5


class FakeNDArray:
  """Has ``asnumpy`` and no ``cpu``, like MXNet's NDArray."""

  def __init__(self, value):
    self.value = value

  def asnumpy(self):
    return np.asarray(self.value)


def test_in_memory_states_may_hold_ndarrays():
  states = {0: (FakeNDArray(np.ones(2, np.float32)), FakeNDArray(np.full(2, 3, np.float32)))}
  mu, nu, step, _ = ckpt.from_mxnet_states(states, {0: 4}, {"w": np.zeros(2, np.float32)})
  np.testing.assert_array_equal(mu["w"], [1, 1])
  np.testing.assert_array_equal(nu["w"], [3, 3])
  assert step == 4


def test_a_0d_param_is_written_with_shape_1_for_mxnet1(tmp_path):
  mu, nu = {"s": np.float32(0.5)}, {"s": np.float32(2.0)}
  ckpt.to_mxnet_states_file(tmp_path / "s.states", mu, nu, 3, version=1)
  states, optimizer = ckpt.load_states(tmp_path / "s.states")
  assert optimizer is None and states[0][0].shape == (1,)
  mu2, nu2, step, _ = ckpt.from_mxnet_states_file(
    tmp_path / "s.states", {"s": np.float32(0)}, update_counts={0: 3}
  )
  assert mu2["s"].shape == () and float(nu2["s"]) == 2.0 and step == 3
