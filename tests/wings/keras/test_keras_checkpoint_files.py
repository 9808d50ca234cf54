"""Real Keras 3 weight files: read, resumed bit for bit, and written back.

tests/golden/keras/checkpoints holds what Keras 3.15.1 (JAX backend) saved after 5 steps of
keras.optimizers.Adamax(learning_rate=0.02, weight_decay=0.004) (``model.save_weights`` and
``model.save``) and how Keras continued for 10 more steps; adamax_optax_step10* are files
written here that Keras loaded and continued from bit for bit (adamax_optax_resume_checks.json,
see tests/golden/generate/keras/gen_checkpoints.py verify).
"""

import json
import pathlib
import sys
import zipfile

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from golden_data import read_recording
from harness import assert_same_bits

from adamax_optax import keras_adamax, load_state, moments
from adamax_optax.keras import checkpoint as keras_ckpt

pytest.importorskip("h5py")

FILES = pathlib.Path(__file__).parents[2] / "golden" / "keras" / "checkpoints"
SAVED, RESUMED = 5, 10
ORDER = ["w", "b", "s"]  # model.trainable_variables
PATHS = {k: f"layers/params/vars/{i}" for i, k in enumerate(ORDER)}
WRITTEN = {
  "adamax_optax_step10.weights.h5": "keras_step5.weights.h5",
  "adamax_optax_step10.keras": "keras_step5.keras",
  "adamax_optax_step10_fresh.weights.h5": None,
}


def recorded():
  data = read_recording(FILES / "keras_continuation.npz")
  pick = lambda kind: {k: data[f"{kind}_{k}"] for k in ORDER}
  return pick("grad"), {kind: pick(kind) for kind in ("param", "m", "u")}, data["iterations"]


def resume(weights, start):
  """Params and state read from a file, continued to the end of the recording, compared
  with Keras at every step; returns the params and state at RESUMED."""
  grads, want, iterations = recorded()
  template = {k: np.zeros_like(want["param"][k][0]) for k in ORDER}
  params = keras_ckpt.params_from_keras_weights(weights, template, paths=PATHS)
  mu, nu, step = keras_ckpt.from_keras_weights(weights, params, order=ORDER)
  assert step == start
  opt = keras_adamax(learning_rate=0.02, weight_decay=0.004, jit_compile=False)  # recorded eagerly
  state = load_state(opt, params, mu=mu, nu=nu, step=step)
  update = jax.jit(opt.update)
  at_resumed = None
  for i in range(start - SAVED, len(grads["w"]) + 1):
    m, u, count = moments(state)
    assert count == iterations[i] == SAVED + i
    for kind, tree in (("param", params), ("m", m), ("u", u)):
      assert_same_bits(tree, {k: want[kind][k][i] for k in ORDER}, f"{kind} at step {SAVED + i}")
    if SAVED + i == RESUMED:
      at_resumed = (params, state)
    if i < len(grads["w"]):
      updates, state = update({k: grads[k][i] for k in ORDER}, state, params)
      params = optax.apply_updates(params, updates)
  return at_resumed


@pytest.mark.parametrize("name", ["keras_step5.weights.h5", "keras_step5.keras"])
def test_real_files_resume_bit_for_bit(name):
  resume(keras_ckpt.load_weights(FILES / name), SAVED)


def test_the_layout_is_keras_adamax():
  weights = keras_ckpt.load_weights(FILES / "keras_step5.weights.h5")
  optimizer = {k: v for k, v in weights.items() if k.startswith("optimizer/")}
  # iteration, learning_rate, then (momentum, norm) per variable in trainable order
  shapes = [(), (), (4, 3), (4, 3), (3,), (3,), (), ()]
  assert [optimizer[f"optimizer/vars/{i}"].shape for i in range(8)] == shapes
  assert len(optimizer) == 8 and optimizer["optimizer/vars/0"].dtype == np.int32
  assert optimizer["optimizer/vars/1"] == np.float32(0.02)


@pytest.mark.parametrize("name", WRITTEN)
def test_written_files_are_those_keras_resumed_from(name, tmp_path):
  checks = json.loads((FILES / "adamax_optax_resume_checks.json").read_text())
  assert checks[name]["bit_exact"], checks[name]
  params, state = resume(keras_ckpt.load_weights(FILES / "keras_step5.weights.h5"), SAVED)
  mu, nu, step = moments(state)
  out = keras_ckpt.to_keras_weights(
    mu, nu, step, order=ORDER, learning_rate=0.02, params=params, paths=PATHS
  )
  template = WRITTEN[name] and FILES / WRITTEN[name]
  keras_ckpt.save_weights(out, tmp_path / name, template=template)
  got, want = keras_ckpt.load_weights(tmp_path / name), keras_ckpt.load_weights(FILES / name)
  assert list(got) == list(want)
  for k in want:
    assert got[k].dtype == want[k].dtype and got[k].tobytes() == want[k].tobytes(), k
  resume(got, RESUMED)
  if name.endswith(".keras"):
    with zipfile.ZipFile(tmp_path / name) as a, zipfile.ZipFile(FILES / template) as b:
      assert a.namelist() == b.namelist()
      assert a.read("config.json") == b.read("config.json")


def test_an_int64_iteration_in_the_template_stays_int64(tmp_path):
  import h5py

  weights = keras_ckpt.load_weights(FILES / "keras_step5.weights.h5")
  template = tmp_path / "tf.weights.h5"
  keras_ckpt.save_weights(weights | {"optimizer/vars/0": np.array(5, np.int64)}, template)
  keras_ckpt.save_weights(
    {"optimizer/vars/0": np.array(7, np.int32)}, tmp_path / "x.weights.h5", template=template
  )
  with h5py.File(tmp_path / "x.weights.h5") as f:
    assert f["optimizer/vars/0"].dtype == np.int64 and f["optimizer/vars/0"][()] == 7


def test_bfloat16_variables_round_trip_with_keras_tag(tmp_path):
  import h5py

  value = np.array([1.5, -2.25, 3e38], jnp.bfloat16)
  keras_ckpt.save_weights({"layers/x/vars/0": value}, tmp_path / "bf16.weights.h5")
  with h5py.File(tmp_path / "bf16.weights.h5") as f:
    assert f["layers/x/vars/0"].attrs["dtype"] == "bfloat16"
  back = keras_ckpt.load_weights(tmp_path / "bf16.weights.h5")["layers/x/vars/0"]
  assert back.dtype == value.dtype and back.tobytes() == value.tobytes()


def test_mismatches_name_the_parameter_and_both_shapes(tmp_path):
  weights = keras_ckpt.load_weights(FILES / "keras_step5.weights.h5")
  params = {"w": np.zeros((4, 3), np.float32), "b": np.zeros(3), "s": np.float32(0)}
  with pytest.raises(
    ValueError, match=r"'optimizer/vars/2' \(for 'b'\) has shape \(4, 3\) .*\(3,\)"
  ):
    keras_ckpt.from_keras_weights(weights, params)  # tree order b, s, w is not Keras's
  with pytest.raises(ValueError, match=r"'layers/params/vars/1' \(for 'w'\) has shape \(3,\)"):
    keras_ckpt.params_from_keras_weights(weights, params, paths=PATHS | {"w": PATHS["b"]})
  with pytest.raises(ValueError, match=r"paths must give .* missing \['s'\]"):
    keras_ckpt.params_from_keras_weights(weights, params, paths={"w": "a", "b": "b"})
  no_optimizer = {k: v for k, v in weights.items() if not k.startswith("optimizer/")}
  with pytest.raises(ValueError, match=r"no optimizer variables .* after the optimizer is built"):
    keras_ckpt.from_keras_weights(no_optimizer, params, order=ORDER)
  with pytest.raises(ValueError, match=r"holds 8 optimizer variables; .* 4 parameters saves"):
    keras_ckpt.from_keras_weights(weights, params | {"x": np.zeros(1)})
  bad = weights | {"optimizer/vars/2": np.zeros((2, 2), np.float32)}
  with pytest.raises(ValueError, match=r"'optimizer/vars/2' is \(4, 3\) float32 in the template"):
    keras_ckpt.save_weights(bad, tmp_path / "x.weights.h5", template=FILES / "keras_step5.keras")
  with pytest.raises(ValueError, match="needs template="):
    keras_ckpt.save_weights(weights, tmp_path / "x.keras")


def test_without_h5py_the_error_says_what_to_install(monkeypatch):
  monkeypatch.setitem(sys.modules, "h5py", None)
  with pytest.raises(ImportError, match=r"pip install adamax_optax\[keras\]"):
    keras_ckpt.load_weights(FILES / "keras_step5.weights.h5")
