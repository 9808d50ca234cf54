"""Two MindSpore schedulers on one experimental Adamax, both stepped after every update.

The recording (``tests/golden/mindspore/ms_exp_together_constant_exponential.npz``, made
by ``tests/golden/generate/mindspore/gen_schedules_together.py`` in MindSpore 2.10):
``ConstantLR`` then ``ExponentialLR`` built on the optimizer and both stepped after every
update, as a MindSpore script without ``ChainedScheduler`` does; two groups, 300
closed-loop updates.
"""

import pathlib

import jax.numpy as jnp
import numpy as np
from golden_data import read_recording
from harness import noisy_quadratic_run

from adamax_optax.mindspore.experimental.optim import Adamax
from adamax_optax.mindspore.experimental.optim.lr_scheduler import (
  ConstantLR,
  ExponentialLR,
  get_last_lr,
)

RECORDING = (
  pathlib.Path(__file__).parents[2]
  / "golden"
  / "mindspore"
  / "ms_exp_together_constant_exponential.npz"
)


def recorded_optimizer(data):
  lrs = data["group_lrs"]
  groups = [{"params": ["w0"], "lr": float(lrs[0])}, {"params": ["w1"], "lr": float(lrs[1])}]
  schedulers = [ConstantLR(factor=0.3, total_iters=40), ExponentialLR(gamma=0.99)]
  return Adamax(groups, betas=(0.9, 0.999), eps=1e-8, lr_scheduler=schedulers)


def test_constant_and_exponential_stepped_together_replay_mindspore_bit_for_bit():
  data = read_recording(RECORDING)
  opt = recorded_optimizer(data)
  for t, params, state in noisy_quadratic_run(opt, data):
    for index in range(2):
      got = np.asarray(params[f"w{index}"])
      want = data[f"w{index}"][t]
      differing = np.flatnonzero(got.view(np.uint32) != want.view(np.uint32))
      assert differing.size == 0, (
        f"update {t + 1}, w{index}[{differing[0]}]: {got[differing[0]]!r} against "
        f"MindSpore's {want[differing[0]]!r}"
      )
    # Both schedulers stepped after every update: each reports the group lr the
    # ExponentialLR, stepped last, left: the lr of the next update.
    got = get_last_lr(opt, state)
    assert got == list(data["last_lr_decay"][t]), f"get_last_lr after update {t + 1}"
    if t + 1 < len(data["lr"]):
      assert got == list(data["lr"][t + 1]), f"group lr of update {t + 2}"


def test_get_last_lr_before_any_update_is_the_lr_after_both_constructors():
  data = read_recording(RECORDING)
  opt = recorded_optimizer(data)
  state = opt.init({"w0": jnp.asarray(data["init0"]), "w1": jnp.asarray(data["init1"])})
  assert get_last_lr(opt, state) == list(data["lr"][0])
