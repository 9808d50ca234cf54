"""orbax-checkpoint: save at step k, restore in a fresh process, continue bit-identically."""

import pathlib
import subprocess
import sys

import checkpoint_cases
import numpy as np
import orbax.checkpoint as ocp
import pytest

pytestmark = pytest.mark.slow  # fresh processes

SCRIPT = pathlib.Path(__file__).parent / "scripts" / "resume_from_checkpoint.py"
STEPS, SAVE_AT = 10, 4


@pytest.mark.parametrize(
  "preset", ["mxnet_multi_precision", "mindspore", "mindspore_nn", "torch_scheduled"]
)
def test_resume_in_a_fresh_process_is_bit_identical(preset, tmp_path):
  opt, params = checkpoint_cases.build(preset)
  uninterrupted, _ = checkpoint_cases.train(opt, params, opt.init(params), 0, STEPS)

  halfway, state = checkpoint_cases.train(opt, params, opt.init(params), 0, SAVE_AT)
  directory = tmp_path / "ckpt"
  checkpointer = ocp.StandardCheckpointer()
  checkpointer.save(directory, {"params": halfway, "opt_state": state})
  checkpointer.wait_until_finished()

  out = tmp_path / "resumed.npz"
  subprocess.run(
    [sys.executable, str(SCRIPT), str(directory), preset, f"{SAVE_AT}:{STEPS}", str(out)],
    check=True,
    timeout=300,
  )
  resumed = np.load(out)
  for k, v in uninterrupted.items():
    assert resumed[k].dtype == v.dtype
    np.testing.assert_array_equal(resumed[k], np.asarray(v), err_msg=k)
