"""Resuming from real ``paddle.save`` files (``.pdopt``, ``.pdparams``), bit for bit.

The files in tests/golden/paddle/checkpoints/ were written by Paddle 3.3.1 (see
tests/golden/generate/paddle/gen_checkpoints.py): after 5 steps of
``paddle.optimizer.Adamax(learning_rate=0.02, weight_decay=0.001)`` over w (4, 3), b (3,),
s (0-d), and the 6 steps Paddle took after them.
"""

import json
import pathlib

import numpy as np
import pytest
from harness import assert_replays, assert_same_tree

import adamax_optax as ax
from adamax_optax.paddle import checkpoint as ckpt

FILES = pathlib.Path(__file__).parents[2] / "golden" / "paddle" / "checkpoints"
OPTIMIZER, MODEL = FILES / "adamax.pdopt", FILES / "adamax.pdparams"
TEMPLATE = {"w": np.zeros((4, 3), np.float32), "b": np.zeros(3, np.float32), "s": np.float32(0)}


def continued():
  with np.load(FILES / "continued.npz") as f:
    return {k: f[k] for k in f.files if k != "meta"}, json.loads(str(f["meta"]))


def resume(params, mu, nu, step):
  opt = ax.paddle_adamax(learning_rate=0.02, weight_decay=0.001)
  state = ax.load_state(opt, params, mu=mu, nu=nu, step=step)
  rows, meta = continued()
  assert meta["saved_after"] == step

  assert_replays(opt, rows, list(TEMPLATE), "paddle, continued", start=(params, state))


def test_the_real_files_resume_bit_exactly():
  params = ckpt.from_paddle_model_file(MODEL, TEMPLATE)
  mu, nu, step = ckpt.from_paddle_optimizer_file(OPTIMIZER, params, model=MODEL)
  assert step == 5  # counted in beta1_pow_acc
  resume(params, mu, nu, step)


def test_written_files_read_back_and_resume_bit_exactly(tmp_path):
  params = ckpt.from_paddle_model_file(MODEL, TEMPLATE)
  mu, nu, step = ckpt.from_paddle_optimizer_file(OPTIMIZER, params, model=MODEL)
  out = tmp_path / "written.pdopt"
  ckpt.to_paddle_optimizer_file(out, mu, nu, step, model=MODEL)
  assert_same_tree(ckpt.load(out), ckpt.load(OPTIMIZER), ordered_keys=False)
  ckpt.save(ckpt.load(MODEL), tmp_path / "m.pdparams")
  assert_same_tree(ckpt.load(tmp_path / "m.pdparams"), ckpt.load(MODEL), ordered_keys=False)
  resume(params, *ckpt.from_paddle_optimizer_file(out, params, model=tmp_path / "m.pdparams"))


def test_the_internal_names_come_from_the_model_file():
  names = ckpt.internal_names(MODEL, TEMPLATE)
  assert sorted(names) == ["b", "s", "w"] and len(set(names.values())) == 3
  with pytest.raises(ValueError, match="model="):
    ckpt.from_paddle_optimizer_file(OPTIMIZER, TEMPLATE)


def test_a_wrong_name_mapping_names_the_parameter_and_both_shapes():
  names = ckpt.internal_names(MODEL, TEMPLATE)
  swapped = {**names, "w": names["b"], "b": names["w"]}
  with pytest.raises(ValueError, match=r"parameter 'b' has shape \(3,\).*shape \(4, 3\)"):
    ckpt.from_paddle_optimizer_file(OPTIMIZER, TEMPLATE, names=swapped)


def test_an_explicit_step_is_checked_against_beta1_pow():
  with pytest.raises(ValueError, match="step=6"):
    ckpt.from_paddle_optimizer_file(OPTIMIZER, TEMPLATE, model=MODEL, step=6)
  _, _, step = ckpt.from_paddle_optimizer_file(OPTIMIZER, TEMPLATE, model=MODEL, step=5)
  assert step == 5


def test_a_vanished_beta1_pow_asks_for_the_step():
  params = ckpt.from_paddle_model_file(MODEL, TEMPLATE)
  mu, nu, _ = ckpt.from_paddle_optimizer_file(OPTIMIZER, params, model=MODEL)
  state = ckpt.to_paddle_state_dict(mu, nu, 2000, names=ckpt.internal_names(MODEL, params))
  with pytest.raises(ValueError, match="pass step="):
    ckpt.from_paddle_state_dict(state, params, names=ckpt.internal_names(MODEL, params))
