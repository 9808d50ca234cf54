"""Several PyTorch schedulers on one Adamax, each at its own cadence, against PyTorch.

The recording (``tests/golden/torch/together_linear_step.npz``, made by
``tests/golden/generate/torch/gen_schedules_together.py``): ``LinearLR`` built first and
stepped after every update, ``StepLR`` built second and stepped after every 25th, on two
groups, 400 closed-loop updates.
"""

import pathlib

import jax.numpy as jnp
import numpy as np
import optax
import pytest
from golden_data import read_recording
from harness import noisy_quadratic_run

from adamax_optax.torch.optim import Adamax
from adamax_optax.torch.optim.lr_scheduler import (
  ExponentialLR,
  LinearLR,
  ReduceLROnPlateau,
  StepLR,
  get_last_lr,
)

RECORDING = pathlib.Path(__file__).parents[2] / "golden" / "torch" / "together_linear_step.npz"


def recorded_optimizer(data, **overrides):
  keywords = {
    "lr_scheduler": [
      LinearLR(start_factor=0.1, total_iters=60),
      StepLR(step_size=2, gamma=0.5),
    ],
    "lr_scheduler_every": [int(every) for every in data["every"]],
    **overrides,
  }
  lrs = data["group_lrs"]
  groups = [{"params": ["w0"], "lr": float(lrs[0])}, {"params": ["w1"], "lr": float(lrs[1])}]
  return Adamax(groups, lr=0.002, **keywords)


def test_linear_warmup_and_step_decay_replay_pytorch_bit_for_bit():
  data = read_recording(RECORDING)
  opt = recorded_optimizer(data)
  for t, params, _ in noisy_quadratic_run(opt, data):
    for index in range(2):
      got = np.asarray(params[f"w{index}"])
      want = data[f"w{index}"][t]
      differing = np.flatnonzero(got.view(np.uint32) != want.view(np.uint32))
      assert differing.size == 0, (
        f"update {t + 1}, w{index}[{differing[0]}]: {got[differing[0]]!r} against PyTorch's "
        f"{want[differing[0]]!r}"
      )


def test_get_last_lr_is_what_the_last_stepped_pytorch_scheduler_reports():
  # Each PyTorch scheduler reports the group lr as it left it; the one stepped last
  # after an update (the decay after every 25th, else the warmup) reports the lr of
  # the next update, which get_last_lr returns.
  data = read_recording(RECORDING)
  opt = recorded_optimizer(data)
  decay_every = int(data["every"][1])
  for t, _, state in noisy_quadratic_run(opt, data):
    got = get_last_lr(opt, state)
    last = "decay" if (t + 1) % decay_every == 0 else "warmup"
    assert got == list(data[f"last_lr_{last}"][t]), f"after update {t + 1}"
    if t + 1 < len(data["lr"]):
      assert got == list(data["lr"][t + 1]), f"group lr of update {t + 2}"


def test_the_composition_is_not_the_product_of_closed_forms():
  # The warmup's recursive step reads the lr the decay halved at update 25 * 2: the
  # recorded rates differ from base * linear(t) * step(t // 25) in the last bits.
  data = read_recording(RECORDING)
  t = np.arange(len(data["lr"]))
  linear = 0.1 + 0.9 * np.minimum(t, 60) / 60
  decay = 0.5 ** ((t // 25) // 2)
  closed = data["group_lrs"][None, :] * (linear * decay)[:, None]
  assert np.any(closed != data["lr"])


def test_one_cadence_for_all_and_a_table_step_of_their_gcd():
  lrs = []
  for every in ([2, 2], 2):
    opt = Adamax(
      {"w": jnp.ones(1)},
      lr=1.0,
      lr_scheduler=[
        ExponentialLR(gamma=0.5, horizon=10),
        StepLR(step_size=1, gamma=0.1, horizon=10),
      ],
      lr_scheduler_every=every,
    )
    state = opt.init({"w": jnp.ones(1)})
    rates = []
    for _ in range(5):
      rates.append(get_last_lr(opt, state)[0])
      _, state = opt.update({"w": jnp.ones(1)}, state, {"w": jnp.ones(1)})
    lrs.append(rates)
  assert lrs[0] == lrs[1] == [1.0, 1.0, 0.05, 0.05, 0.0025000000000000005]


@pytest.mark.parametrize(
  ("keywords", "message"),
  [
    ({"lr_scheduler": [], "lr_scheduler_every": 1}, "lr_scheduler is an empty list"),
    (
      {"lr_scheduler": [StepLR(step_size=2), StepLR(step_size=3)], "lr_scheduler_every": [1]},
      "lr_scheduler_every has 1 entries but lr_scheduler has 2 schedulers",
    ),
    (
      {"lr_scheduler": [StepLR(step_size=2), StepLR(step_size=3)], "lr_scheduler_every": [1, 0]},
      "lr_scheduler_every must be an int >= 1",
    ),
    (
      {"lr_scheduler": [StepLR(step_size=2), ReduceLROnPlateau()]},
      "ReduceLROnPlateau follows a metric",
    ),
  ],
)
def test_bad_scheduler_lists_are_refused_early(keywords, message):
  with pytest.raises(ValueError, match=message):
    Adamax({"w": jnp.ones(1)}, lr=0.1, **keywords)


def test_a_list_holding_a_non_scheduler_is_refused():
  with pytest.raises(TypeError, match="lr_scheduler must be a scheduler from"):
    Adamax(
      {"w": jnp.ones(1)}, lr=0.1, lr_scheduler=[StepLR(step_size=2), optax.constant_schedule(1.0)]
    )
