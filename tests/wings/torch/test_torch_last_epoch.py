"""PyTorch schedulers rebuilt with ``last_epoch`` on a loaded optimizer, bit for bit.

tests/golden/torch/last_epoch_rebuild.npz (gen_last_epoch_rebuild.py, torch 2.13): two
groups, each scheduler run uncut and, saved after its step to epoch ``E`` (optimizer state
only), rebuilt with ``last_epoch=E - 1`` and stepped 300 epochs more. The rebuilt run
keeps the loaded lr where PyTorch's initial mode does, decays again where ``StepLR`` and
``MultiStepLR`` meet a boundary, and restarts ``CosineAnnealingWarmRestarts`` from
``T_0``; our table is the uncut run before epoch ``E`` and the rebuilt one from it on.
"""

import json
import pathlib

import jax.numpy as jnp
import numpy as np
import pytest
from golden_data import read_recording
from harness import assert_schedule_is

import adamax_optax as ax
from adamax_optax.torch.optim import lr_scheduler
from adamax_optax.torch.optim.lr_scheduler import get_last_lr

RECORDING = pathlib.Path(__file__).parents[2] / "golden" / "torch" / "last_epoch_rebuild.npz"
DATA = read_recording(RECORDING)
META = json.loads(str(DATA["meta"]))
LAMBDAS = {"lambdalr": lambda e: 0.97**e, "multiplicativelr": lambda e: 0.97}


def rebuilt(case: str, every: int = 1) -> lr_scheduler.LRScheduler:
  """Our scheduler rebuilt as the case's was; ``horizon`` in updates of ``every``."""
  settings = META["cases"][case]
  kwargs = dict(settings["kwargs"])
  if case in LAMBDAS:
    kwargs["lr_lambda"] = LAMBDAS[case]
  cls = getattr(lr_scheduler, settings["scheduler"])
  horizon = (settings["cut"] + 400) * every
  return cls(**kwargs, last_epoch=settings["cut"] - 1, horizon=horizon)


@pytest.mark.parametrize("case", list(META["cases"]))
@pytest.mark.parametrize("every", [1, 3])
def test_rebuilt_scheduler_is_pytorchs(case, every):
  cut, epochs = META["cases"][case]["cut"], META["epochs_after_cut"]
  lr_tables, beta1_tables = rebuilt(case, every).tabulate_groups(META["lrs"], every)
  # Each epoch's value for every one of its updates (the count, not the epoch, indexes).
  by_count = lambda values: np.repeat(values, every, axis=0)[: (cut + epochs) * every]
  want = np.concatenate([DATA[f"{case}_uncut"][:cut], DATA[f"{case}_rebuilt"]])
  for g, table in enumerate(lr_tables):
    assert_schedule_is(table, by_count(want[:, g]), f"{case} group {g}")
  if f"{case}_rebuilt_beta1" in DATA:
    want = np.concatenate([DATA[f"{case}_uncut_beta1"][:cut], DATA[f"{case}_rebuilt_beta1"]])
    for g, table in enumerate(beta1_tables):
      assert_schedule_is(table, by_count(want[:, g]), f"{case} beta1 {g}")


def test_the_recording_tells_rebuilt_from_uncut():
  """Where PyTorch's rebuilt run leaves the uncut one (why the keyword is modelled)."""
  left = {case for case, settings in META["cases"].items() if settings["first_differing_epoch"]}
  assert left == {
    "steplr_boundary",
    "multisteplr_milestone",
    "constantlr_at_total",
    "warm_restarts_mult2",
  }


def test_torch_adamax_resumes_with_the_rebuilt_rate():
  """The preset at the file's step reads the rebuilt scheduler's rate: StepLR decayed twice."""
  cut = META["cases"]["steplr_boundary"]["cut"]
  opt = ax.torch_adamax(lr=META["lrs"][0], lr_scheduler=rebuilt("steplr_boundary"))
  params = jnp.zeros(3)
  state = ax.load_state(opt, params, mu=params, nu=params, step=cut)
  (rate,) = get_last_lr(opt, state)
  assert rate == DATA["steplr_boundary_rebuilt"][0, 0]
  assert rate == DATA["steplr_boundary_uncut"][cut, 0] * 0.3


@pytest.mark.parametrize(
  "make",
  [
    lambda: lr_scheduler.SequentialLR(
      schedulers=[lr_scheduler.ConstantLR(), lr_scheduler.StepLR(step_size=2)],
      milestones=[3],
      last_epoch=4,
    ),
    lambda: lr_scheduler.ChainedScheduler(
      schedulers=[lr_scheduler.StepLR(step_size=2)], last_epoch=4
    ),
  ],
  ids=["SequentialLR", "ChainedScheduler"],
)
def test_a_rebuilt_composite_is_refused(make):
  with pytest.raises(ValueError, match="resume it from its saved state"):
    make()


def test_last_epoch_below_minus_one_is_refused():
  with pytest.raises(ValueError, match="last_epoch must be an int >= -1"):
    lr_scheduler.StepLR(step_size=2, last_epoch=-2)
