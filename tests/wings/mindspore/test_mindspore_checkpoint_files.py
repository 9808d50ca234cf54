"""Real MindSpore checkpoint files: read, resumed bit for bit, and written back.

tests/golden/mindspore/checkpoints holds what MindSpore 2.10 saved after 5 steps of each
Adamax (``save_checkpoint(opt, ...)`` as .ckpt, .safetensors and .ckpt with a CRC) and how
MindSpore continued for 10 more steps; adamax_optax_<case>_step10.* are files written here
that MindSpore loaded and continued from bit for bit (adamax_optax_resume_checks.json, see
tests/golden/generate/mindspore/gen_checkpoints.py verify).
"""

import json
import pathlib

import jax
import numpy as np
import optax
import pytest
from golden_data import read_recording
from harness import assert_same_bits

from adamax_optax import load_state, mindspore_adamax, mindspore_nn_adamax, moments
from adamax_optax.mindspore import checkpoint as ms_ckpt

FILES = pathlib.Path(__file__).parents[2] / "golden" / "mindspore" / "checkpoints"
SAVED, RESUMED = 5, 10  # the steps of the real files and of the files written here
PRESETS = {
  "exp": lambda: mindspore_adamax(lr=0.02, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
  "nn": lambda: mindspore_nn_adamax(0.02, 0.9, 0.999, 1e-8, weight_decay=0.01),
}
OPTIMIZER = {"exp": "experimental", "nn": "nn"}
REAL_FILES = [
  ("exp", "ms_exp_step5.ckpt"),
  ("exp", "ms_exp_step5.safetensors"),
  ("exp", "ms_exp_step5_crc.ckpt"),
  ("exp", "ms_exp_step5_append.ckpt"),
  ("nn", "ms_nn_step5.ckpt"),
  ("nn", "ms_nn_step5.safetensors"),
]


def recorded(case):
  data = read_recording(FILES / f"ms_{case}_continuation.npz")
  meta = json.loads(str(data["meta"]))
  keys = list(meta["shapes"])
  pick = lambda kind: {k: data[f"{kind}_{k}"] for k in keys}
  return keys, pick("grad"), {kind: pick(kind) for kind in ("param", "m", "u")}


def resume(case, entries, start):
  """Params and state from checkpoint entries, continued to the end of the recording,
  compared with MindSpore at every step; returns the params and state at RESUMED."""
  keys, grads, want = recorded(case)
  template = {k: np.zeros_like(want["param"][k][0]) for k in keys}
  params = ms_ckpt.params_from_mindspore_checkpoint(entries, template)
  mu, nu, step = ms_ckpt.from_mindspore_checkpoint(entries, params, optimizer=OPTIMIZER[case])
  assert step == start
  opt = PRESETS[case]()
  state = load_state(opt, params, mu=mu, nu=nu, step=step)
  update = jax.jit(opt.update)
  at_resumed = None
  for i in range(start - SAVED, len(grads[keys[0]]) + 1):
    m, u, count = moments(state)
    assert count == SAVED + i
    for kind, tree in (("param", params), ("m", m), ("u", u)):
      assert_same_bits(tree, {k: want[kind][k][i] for k in keys}, f"{kind} at step {SAVED + i}")
    if SAVED + i == RESUMED:
      at_resumed = (params, state)
    if i < len(grads[keys[0]]):
      updates, state = update({k: grads[k][i] for k in keys}, state, params)
      params = optax.apply_updates(params, updates)
  return at_resumed


@pytest.mark.parametrize(("case", "name"), REAL_FILES)
def test_real_files_resume_bit_for_bit(case, name):
  resume(case, ms_ckpt.load_checkpoint(FILES / name), SAVED)


@pytest.mark.parametrize(("case", "name"), REAL_FILES)
def test_rewriting_real_files_gives_the_same_bytes(case, name, tmp_path):
  entries = ms_ckpt.load_checkpoint(FILES / name)
  ms_ckpt.save_checkpoint(entries, tmp_path / name, crc_check=name.endswith("_crc.ckpt"))
  assert (tmp_path / name).read_bytes() == (FILES / name).read_bytes()


@pytest.mark.parametrize("case", ["exp", "nn"])
@pytest.mark.parametrize("ext", ["ckpt", "safetensors"])
def test_written_files_are_those_mindspore_resumed_from(case, ext, tmp_path):
  checks = json.loads((FILES / "adamax_optax_resume_checks.json").read_text())
  name = f"adamax_optax_{case}_step10.{ext}"
  assert checks[name]["bit_exact"], checks[name]
  params, state = resume(case, ms_ckpt.load_checkpoint(FILES / f"ms_{case}_step5.{ext}"), SAVED)
  mu, nu, step = moments(state)
  lr = {"learning_rate": 0.02} if case == "nn" else {}
  entries = ms_ckpt.to_mindspore_checkpoint(
    mu, nu, step, params=params, order=recorded(case)[0], optimizer=OPTIMIZER[case], **lr
  )
  ms_ckpt.save_checkpoint(entries, tmp_path / name)
  assert (tmp_path / name).read_bytes() == (FILES / name).read_bytes()
  # and they read back into the same continuation
  resume(case, ms_ckpt.load_checkpoint(tmp_path / name), RESUMED)


def test_append_dict_entries_come_back_as_saved():
  entries = ms_ckpt.load_checkpoint(FILES / "ms_exp_step5_append.ckpt")
  assert entries["note"] == "adamax_optax golden"
  for key, value in (("epoch_num", 1), ("step_num", SAVED)):
    assert entries[key].dtype == np.int64 and entries[key].shape == () and entries[key] == value


def test_tensors_saved_in_slices_are_joined(monkeypatch, tmp_path):
  from adamax_optax.mindspore import _protobuf as pb

  data = (FILES / "ms_sliced.ckpt").read_bytes()
  assert len(list(pb.fields(data))) == 9  # MindSpore wrote 9 messages tagged "big"
  big = ms_ckpt.load_checkpoint(FILES / "ms_sliced.ckpt")["big"]
  np.testing.assert_array_equal(big, np.arange(64 * 33, dtype=np.float32).reshape(64, 33) / 7)
  monkeypatch.setattr(ms_ckpt, "_SLICE_BYTES", 1024)  # as the generator lowered SLICE_SIZE
  ms_ckpt.save_checkpoint({"big": big}, tmp_path / "sliced.ckpt")
  assert (tmp_path / "sliced.ckpt").read_bytes() == data


@pytest.mark.parametrize(("case", "name"), REAL_FILES[:2] + REAL_FILES[4:])
def test_the_writer_gives_mindspores_bytes(case, name, tmp_path):
  keys = recorded(case)[0]
  entries = ms_ckpt.load_checkpoint(FILES / name)
  params = ms_ckpt.params_from_mindspore_checkpoint(entries, {k: entries[k] for k in keys})
  optimizer = OPTIMIZER[case]
  mu, nu, step = ms_ckpt.from_mindspore_checkpoint(entries, params, optimizer=optimizer)
  lr = {"learning_rate": entries["learning_rate"]} if case == "nn" else {}
  written = ms_ckpt.to_mindspore_checkpoint(
    mu, nu, step, params=params, order=keys, optimizer=optimizer, **lr
  )
  ms_ckpt.save_checkpoint(written, tmp_path / name)
  assert (tmp_path / name).read_bytes() == (FILES / name).read_bytes()


def test_entries_round_trip_every_dtype_and_strings(tmp_path):
  entries = {
    "f32": np.arange(6, dtype=np.float32).reshape(2, 3),
    "zero_d": np.array(-2.5, np.float64),
    "f16": np.array([1.5, -np.inf], np.float16),
    "i64": np.array([-(2**40), 7], np.int64),
    "flags": np.array([True, False]),
    "empty": np.zeros((0,), np.int32),
    "note": "résumé",
  }
  ms_ckpt.save_checkpoint(entries, tmp_path / "a.ckpt", crc_check=True)
  back = ms_ckpt.load_checkpoint(tmp_path / "a.ckpt")
  assert list(back) == list(entries) and back["note"] == "résumé"
  for k, v in entries.items():
    if k != "note":
      assert back[k].dtype == v.dtype and back[k].shape == v.shape, k
      np.testing.assert_array_equal(back[k], v, err_msg=k)


def test_mismatches_name_the_parameter_and_both_shapes():
  entries = ms_ckpt.load_checkpoint(FILES / "ms_exp_step5.ckpt")
  params = {"w": np.zeros((3, 4), np.float32), "b": np.zeros(3, np.float32), "s": np.float32(0)}
  with pytest.raises(ValueError, match=r"'w' has shape \(4, 3\) in the checkpoint, .* \(3, 4\)"):
    ms_ckpt.params_from_mindspore_checkpoint(entries, params)
  with pytest.raises(ValueError, match=r"'exp_avg.w' has shape \(4, 3\)"):
    ms_ckpt.from_mindspore_checkpoint(entries, params)
  with pytest.raises(ValueError, match=r"has no 'moment1.b'.*optimizer="):
    ms_ckpt.from_mindspore_checkpoint(entries, {"b": np.zeros(3)}, optimizer="nn")
  nn_entries = ms_ckpt.load_checkpoint(FILES / "ms_nn_step5.ckpt")
  with pytest.raises(ValueError, match=r"beta1_power .* beta1=0.95 .* 5 times"):
    ms_ckpt.from_mindspore_checkpoint(nn_entries, {"b": np.zeros(3)}, optimizer="nn", beta1=0.95)


def test_damaged_files_are_refused(tmp_path):
  data = (FILES / "ms_exp_step5_crc.ckpt").read_bytes()
  (tmp_path / "flipped.ckpt").write_bytes(data[:40] + bytes([data[40] ^ 1]) + data[41:])
  with pytest.raises(ValueError, match=r"CRC32 .* does not match"):
    ms_ckpt.load_checkpoint(tmp_path / "flipped.ckpt")
  (tmp_path / "cut.ckpt").write_bytes((FILES / "ms_exp_step5.ckpt").read_bytes()[:-3])
  with pytest.raises(ValueError, match=r"not a readable MindSpore .ckpt.*Truncated"):
    ms_ckpt.load_checkpoint(tmp_path / "cut.ckpt")
  with pytest.raises(ValueError, match="format must be 'ckpt' or 'safetensors'"):
    ms_ckpt.load_checkpoint(tmp_path / "cut.ckpt", format="h5")
