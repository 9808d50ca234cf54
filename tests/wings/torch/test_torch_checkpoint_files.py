"""Resuming from real ``torch.save`` files of ``torch.optim.Adamax``, bit for bit.

The files in tests/golden/torch/checkpoints/ were written by PyTorch 2.13 (see
tests/golden/generate/torch/gen_checkpoints.py): the optimizer's and the model's
``state_dict`` after 5 steps, and the 6 steps PyTorch took after them.
"""

import json
import pathlib

import numpy as np
import pytest
from harness import assert_replays, assert_same_tree

import adamax_optax as ax
from adamax_optax.torch import checkpoint as ckpt

FILES = pathlib.Path(__file__).parents[2] / "golden" / "torch" / "checkpoints"
OPTIMIZER, MODEL = FILES / "adamax_optimizer.pt", FILES / "adamax_model.pt"
GROUPS = [{"params": ["w", "s"], "lr": 0.02, "weight_decay": 0.01}, {"params": ["b"], "lr": 0.01}]
TEMPLATE = {"w": np.zeros((4, 3), np.float32), "b": np.zeros(3, np.float32), "s": np.float32(0)}


def continued():
  with np.load(FILES / "continued.npz") as f:
    return {k: f[k] for k in f.files if k != "meta"}, json.loads(str(f["meta"]))


def resume(params, mu, nu, step):
  opt = ax.torch_adamax(lr=0.002, betas=(0.9, 0.999), eps=1e-8, param_groups=GROUPS)
  state = ax.load_state(opt, params, mu=mu, nu=nu, step=step)
  rows, _ = continued()

  assert_replays(opt, rows, list(TEMPLATE), "torch, continued", start=(params, state))


def test_the_real_files_resume_bit_exactly():
  params = ckpt.from_torch_model_file(MODEL, TEMPLATE)
  mu, nu, step = ckpt.from_torch_optimizer_file(OPTIMIZER, params, param_groups=GROUPS)
  assert step == 5
  resume(params, mu, nu, step)


def test_the_file_maps_indices_by_its_groups_not_by_the_model_order():
  model = ckpt.load(MODEL)
  assert list(model) == ["b", "w", "s"]  # PyTorch's optimizer indices are w, s, b
  raw = ckpt.load(OPTIMIZER)
  mu, _, _ = ckpt.from_torch_optimizer_file(OPTIMIZER, TEMPLATE, order=["w", "s", "b"])
  mu_groups, _, _ = ckpt.from_torch_optimizer_file(OPTIMIZER, TEMPLATE, param_groups=GROUPS)
  for k, index in (("w", 0), ("s", 1), ("b", 2)):
    np.testing.assert_array_equal(mu[k], raw["state"][index]["exp_avg"])
    np.testing.assert_array_equal(mu_groups[k], raw["state"][index]["exp_avg"])


def test_a_shape_mismatch_names_the_parameter_and_both_shapes():
  # tree_leaves order (b, s, w) against PyTorch's (w, s, b): w's moment lands on b.
  with pytest.raises(ValueError, match=r"parameter 'b' has shape \(3,\).*shape \(4, 3\)"):
    ckpt.from_torch_optimizer_file(OPTIMIZER, TEMPLATE)


def test_the_model_order_needs_a_single_group():
  with pytest.raises(ValueError, match=r"2 parameter groups.*param_groups="):
    ckpt.from_torch_optimizer_file(OPTIMIZER, TEMPLATE, model=MODEL)


def test_the_in_memory_converter_reports_shapes_instead_of_a_bare_reshape_error():
  state_dict = {
    "state": {0: {"step": 1.0, "exp_avg": np.zeros(128), "exp_inf": np.zeros(128)}},
    "param_groups": [{"params": [0]}],
  }
  with pytest.raises(ValueError, match=r"'w' has shape \(16,\).*shape \(128,\)"):
    ckpt.from_torch_state_dict(state_dict, {"w": np.zeros(16)})


def test_reader_writer_reader_round_trip(tmp_path):
  for source in (OPTIMIZER, MODEL):
    original = ckpt.load(source)
    ckpt.save(original, tmp_path / source.name)
    again = ckpt.load(tmp_path / source.name)
    assert_same_tree(original, again)


def test_written_moments_resume_bit_exactly(tmp_path):
  params = ckpt.from_torch_model_file(MODEL, TEMPLATE)
  mu, nu, step = ckpt.from_torch_optimizer_file(OPTIMIZER, params, param_groups=GROUPS)
  groups = ckpt.load(OPTIMIZER)["param_groups"]
  path = tmp_path / "written.pt"
  ckpt.to_torch_optimizer_file(path, mu, nu, step, order=["w", "s", "b"], param_groups=groups)
  assert_same_tree(ckpt.load(path), ckpt.load(OPTIMIZER))
  mu2, nu2, step2 = ckpt.from_torch_optimizer_file(path, params, param_groups=GROUPS)
  resume(params, mu2, nu2, step2)


def test_a_named_optimizer_file_needs_no_order():
  params = ckpt.from_torch_model_file(MODEL, TEMPLATE)
  mu, nu, step = ckpt.from_torch_optimizer_file(FILES / "adamax_named_optimizer.pt", params)
  resume(params, mu, nu, step)


def test_names_stored_by_a_named_optimizer_are_used(tmp_path):
  raw = ckpt.load(OPTIMIZER)
  raw["param_groups"][0]["param_names"] = ["w", "s"]
  raw["param_groups"][1]["param_names"] = ["b"]
  ckpt.save(raw, tmp_path / "named.pt")
  mu, _, _ = ckpt.from_torch_optimizer_file(tmp_path / "named.pt", TEMPLATE)
  np.testing.assert_array_equal(mu["b"], raw["state"][2]["exp_avg"])


def test_groups_that_differ_from_the_files_are_refused():
  regrouped = [{"params": ["w"], "lr": 0.02}, {"params": ["b", "s"], "lr": 0.01}]
  message = r"\[1, 2\] parameters per group, the file's groups \[2, 1\]"
  with pytest.raises(ValueError, match=message):
    ckpt.from_torch_optimizer_file(OPTIMIZER, TEMPLATE, param_groups=regrouped)


def test_a_malicious_optimizer_file_is_refused(tmp_path):
  import pickle
  import zipfile

  class Payload:
    def __reduce__(self):
      return (print, ("never printed",))

  with zipfile.ZipFile(tmp_path / "evil.pt", "w") as archive:
    archive.writestr("evil/data.pkl", pickle.dumps({"state": Payload()}, protocol=2))
  with pytest.raises(ckpt.UnsafePickleError, match=r"refusing to load '\w+\.print'"):
    ckpt.from_torch_optimizer_file(tmp_path / "evil.pt", TEMPLATE)


def test_one_group_follows_the_model_key_order():
  raw = ckpt.load(OPTIMIZER)
  by_name = {"w": raw["state"][0], "s": raw["state"][1], "b": raw["state"][2]}
  model_order = list(ckpt.load(MODEL))  # b, w, s: the order model.parameters() gives
  one_group = {
    "state": {i: by_name[name] for i, name in enumerate(model_order)},
    "param_groups": [{"params": [0, 1, 2]}],
  }
  nested = {"model": {"fc": TEMPLATE}}  # torch's "model.fc.w" is the leaf "model/fc/w"
  dotted = {f"model.fc.{k}": v for k, v in ckpt.load(MODEL).items()}
  mu, _, _ = ckpt.from_torch_state_dict(one_group, nested, model=dotted)
  for name in TEMPLATE:
    np.testing.assert_array_equal(mu["model"]["fc"][name], by_name[name]["exp_avg"])
  params = ckpt.from_torch_model_file(dotted, nested)
  np.testing.assert_array_equal(params["model"]["fc"]["w"], ckpt.load(MODEL)["w"])
