"""The examples run end to end, both as scripts and as modules, and reach their results.

Each trains for fewer steps than its default here, to keep the suite short.
"""

import importlib
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import started_early

pytestmark = pytest.mark.slow  # trains the examples

ROOT = pathlib.Path(__file__).parent.parent
PNG = b"\x89PNG\r\n\x1a\n"
if str(ROOT) not in sys.path:
  sys.path.insert(0, str(ROOT))  # as `python -m examples.x` from the repository root does


def load(name):
  return importlib.import_module(f"examples.{name}")


@pytest.mark.parametrize("name", ["flax_nnx", "flax_linen", "haiku_mlp", "equinox_mlp"])
def test_framework_examples_learn(name):
  """Flax NNX, Flax Linen, Haiku and Equinox each train the MLP with a preset."""
  run = load(name).main(steps=150)
  assert run.last_loss < 0.5 * run.first_loss
  assert run.test_accuracy > 0.85  # held out; about 0.93 with the default 400 steps


def test_port_from_mxnet_learns():
  assert load("port_from_mxnet").main(epochs=5).test_accuracy > 0.85


def test_port_from_mindspore_learns_by_maximizing():
  run = load("port_from_mindspore").main(epochs=5)
  assert run.last_loss > run.first_loss  # the log-likelihood rises
  assert run.test_accuracy > 0.85


def test_train_digits_exceeds_90_percent():
  result = load("train_digits").main(["--epochs", "15", "--no-progress"])["adamax"]
  assert result.test_accuracy > 0.90
  assert result.first_nonfinite is None


def test_train_digits_compare_writes_the_loss_curves(tmp_path, monkeypatch, capsys):
  digits = load("train_digits")
  monkeypatch.setattr(digits, "DEFAULT_PLOT", tmp_path / "default.png")
  results = digits.main(["--compare", "mxnet", "torch", "keras", "--epochs", "2", "--no-progress"])
  assert list(results) == ["mxnet", "torch", "keras"]
  assert (tmp_path / "default.png").read_bytes()[:8] == PNG
  assert "| torch |" in capsys.readouterr().out
  # mxnet and torch share their default rate and differ only in rounding; keras's is half.
  curves = {name: np.asarray(r.losses) for name, r in results.items()}
  assert digits.overlapping(curves) == [
    ["mxnet", "torch"],
    ["keras"],
  ]


def test_train_digits_plot_without_compare_writes_the_one_curve(tmp_path):
  plot = tmp_path / "one.png"
  load("train_digits").main(
    ["--optimizer", "keras", "--epochs", "1", "--no-progress", "--plot", str(plot)]
  )
  assert plot.read_bytes()[:8] == PNG


def test_train_digits_without_plot_writes_nothing(tmp_path, monkeypatch):
  digits = load("train_digits")
  monkeypatch.setattr(digits, "DEFAULT_PLOT", tmp_path / "default.png")
  digits.main(["--optimizer", "keras", "--epochs", "1", "--no-progress"])
  assert not (tmp_path / "default.png").exists()


def test_train_digits_with_bfloat16_state_still_learns():
  digits = load("train_digits")
  args = ["--optimizer", "mxnet", "--state-dtype", "bfloat16", "--epochs", "10", "--no-progress"]
  assert digits.main(args)["mxnet"].test_accuracy > 0.90
  with pytest.raises(SystemExit):
    digits.main(["--optimizer", "optax", "--state-dtype", "bfloat16"])


def test_train_digits_param_dtype_reports_nonfinite_steps(tmp_path, capsys):
  """optax.adamax on float16 weights: its eps of 1e-8 rounds to 0, so the always-zero input
  pixels give 0/0 in the first update; the report names that step."""
  digits = load("train_digits")
  args = ["--optimizer", "optax", "--param-dtype", "float16", "--epochs", "1", "--no-progress"]
  result = digits.main([*args, "--plot", str(tmp_path / "nan.png")])["optax"]
  assert result.first_nonfinite == 1
  assert "| optax | nan | " in capsys.readouterr().out
  assert (tmp_path / "nan.png").read_bytes()[:8] == PNG
  bfloat16 = digits.train("mxnet", epochs=2, progress=False, param_dtype="bfloat16")
  assert bfloat16.first_nonfinite is None
  assert bfloat16.test_accuracy > 0.5


def run_python(*command):
  """``python *command`` from the repository root, as a reader runs an example."""
  env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
  return subprocess.run(
    [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
  )


ONE_KERAS_EPOCH = ("--optimizer", "keras", "--epochs", "1", "--no-progress")
COMMANDS = {
  "script": ("examples/train_digits.py", *ONE_KERAS_EPOCH),
  "module": ("-m", "examples.train_digits", *ONE_KERAS_EPOCH),
  "flax_nnx-module": ("-m", "examples.flax_nnx"),
}


@pytest.mark.parametrize(
  "command",
  [
    pytest.param(command, id=name, marks=started_early.mark(run_python, *command))
    for name, command in COMMANDS.items()
  ],
)
def test_examples_run_as_script_and_as_module(command):
  done = started_early.outcome(run_python, *command)
  assert done.returncode == 0, done.stderr[-3000:]
  assert "accuracy" in done.stdout
