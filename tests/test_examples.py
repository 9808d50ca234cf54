"""The examples run end to end and reach their stated results."""

import importlib.util
import pathlib
import sys

import pytest

pytestmark = pytest.mark.slow  # trains the examples

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))  # as `python examples/x.py` does, for their shared module


def load(name):
  spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def test_train_digits_exceeds_90_percent():
  digits = load("train_digits")
  accuracy = digits.main(["--epochs", "15"])
  assert accuracy > 0.90


def test_port_from_mxnet_learns():
  assert load("port_from_mxnet").main() > 0.9


def test_port_from_mindspore_learns_by_maximizing():
  assert load("port_from_mindspore").main() > 0.9


@pytest.mark.parametrize("name", ["flax_nnx", "flax_linen", "haiku_mlp", "equinox_mlp"])
def test_framework_examples_train(name):
  """Flax NNX, Flax Linen, Haiku and Equinox each train the MLP with a preset."""
  first, last = load(name).main(steps=150)
  assert last < 0.5 * first


def test_train_digits_compare_writes_the_loss_curves(tmp_path):
  plot = tmp_path / "curves.png"
  accuracies = load("train_digits").main(
    ["--compare", "mxnet", "keras", "--epochs", "2", "--plot", str(plot), "--no-progress"]
  )
  assert set(accuracies) == {"mxnet", "keras"}
  assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_digits_with_bfloat16_state_still_learns():
  digits = load("train_digits")
  accuracy = digits.main(["--optimizer", "mxnet", "--state-dtype", "bfloat16", "--epochs", "10"])
  assert accuracy > 0.90
  with pytest.raises(SystemExit):
    digits.main(["--optimizer", "optax", "--state-dtype", "bfloat16"])
