"""The scheduler engine (adamax_optax.schedules._replay): skipping quiet steps changes no value."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adamax_optax.mindspore.experimental.optim import lr_scheduler as mindspore
from adamax_optax.torch.optim import lr_scheduler as torch

HORIZON = 300


def every_value(scheduler, every: int, step_by_step: bool) -> np.ndarray:
  """The lr and beta1 of every count, tabulated with the engine's skipping or without."""
  if step_by_step:  # the same scheduler, made to step through every epoch
    scheduler.quiet_steps = lambda run: 0
  lrs, beta1 = scheduler.tabulate_groups([0.01, 0.3], every)
  counts = np.arange(HORIZON + 3 * every)
  tables = [*lrs, *(beta1 or [])]
  return np.stack([table.values_at(counts) for table in tables])


def schedulers(draw, module):
  step_size = draw(st.integers(1, 50))
  milestones = draw(st.lists(st.integers(0, 400), max_size=6))
  total = draw(st.integers(0, 60))
  made = [
    module.StepLR(step_size=step_size, gamma=0.3, horizon=HORIZON),
    module.MultiStepLR(milestones=milestones, gamma=0.5, horizon=HORIZON),
    module.ConstantLR(factor=0.25, total_iters=total, horizon=HORIZON),
    module.LinearLR(start_factor=0.1, total_iters=total, horizon=HORIZON),
    module.PolynomialLR(total_iters=max(total, 1), power=0.5, horizon=HORIZON),
  ]
  if module is torch:
    made.append(module.OneCycleLR(max_lr=0.1, total_steps=max(total, 2), horizon=HORIZON))
  return made


@pytest.mark.parametrize("module", [torch, mindspore], ids=["torch", "mindspore"])
@settings(max_examples=15, deadline=None)
@given(data=st.data(), every=st.integers(1, 4))
def test_skipping_quiet_steps_gives_every_value_of_stepping_through(module, data, every):
  for scheduler in schedulers(data.draw, module):
    skipped = every_value(scheduler, every, step_by_step=False)
    stepped = every_value(scheduler, every, step_by_step=True)
    np.testing.assert_array_equal(skipped, stepped, err_msg=repr(scheduler))


@pytest.mark.parametrize(
  "module, composite",
  [(torch, "SequentialLR"), (mindspore, "SequentialLR"), (torch, "ChainedScheduler")],
  ids=["torch-sequential", "mindspore-sequential", "torch-chained"],
)
@settings(max_examples=15, deadline=None)
@given(data=st.data(), every=st.integers(1, 4))
def test_a_composite_skips_quiet_steps(module, composite, data, every):
  """SequentialLR skips its running scheduler's quiet steps, never past a milestone;
  ChainedScheduler the steps in which no scheduler changes anything."""
  milestones = sorted(data.draw(st.sets(st.integers(1, 250), min_size=1, max_size=3)))
  order = data.draw(st.permutations(range(5)))[: len(milestones) + 1]
  step_size, total = data.draw(st.integers(1, 50)), data.draw(st.integers(1, 60))
  decays = data.draw(st.lists(st.integers(0, 400), max_size=6))

  def sequence(step_by_step: bool):
    made = [
      module.StepLR(step_size=step_size, gamma=0.3),
      module.MultiStepLR(milestones=decays, gamma=0.5),
      module.ConstantLR(factor=0.25, total_iters=total),
      module.LinearLR(start_factor=0.1, total_iters=total),
      module.PolynomialLR(total_iters=max(total, 1), power=0.5),
    ]
    chosen = [made[i] for i in order]
    if step_by_step:
      for scheduler in chosen:
        scheduler.quiet_steps = lambda run: 0
    if composite == "ChainedScheduler":
      return module.ChainedScheduler(schedulers=chosen, horizon=HORIZON)
    return module.SequentialLR(schedulers=chosen, milestones=milestones, horizon=HORIZON)

  def every_lr(step_by_step: bool) -> np.ndarray:
    # (up to the horizon: past it, a sequence whose last scheduler stops changing holds
    # its exact value when skipped, where stepping through ends with the NaN run)
    (table,), _ = sequence(step_by_step).tabulate_groups([0.01], every)
    return table.values_at(np.arange(HORIZON))

  np.testing.assert_array_equal(every_lr(False), every_lr(True))


def test_a_step_schedule_steps_once_per_change():
  """A StepLR over a million updates replays one step per decay, not per update."""
  scheduler = torch.StepLR(step_size=41, gamma=0.97, horizon=1_000_000)
  calls = []
  get_lr = scheduler.get_lr
  scheduler.get_lr = lambda run: calls.append(run.epoch) or get_lr(run)
  (table,), _ = scheduler.tabulate_groups([0.01])
  assert len(calls) == -(-1_000_000 // 41)
  lr = 0.01
  for _ in range(999_999 // 41):  # PyTorch's recursion, one decay per 41 epochs
    lr *= 0.97
  assert table.value_at(999_999) == lr


@pytest.mark.parametrize("module", [torch, mindspore], ids=["torch", "mindspore"])
@pytest.mark.parametrize("gamma", [0.5, 0.9, 0.999, 1.0001])
@pytest.mark.parametrize("every", [1, 3])
def test_a_multiplied_recursion_gives_every_value_of_stepping_through(module, gamma, every):
  """ExponentialLR's recursion by np.multiply.accumulate (Scheduler.step_factor) and by a
  Python step per epoch: the same doubles (float32 for MindSpore), into the denormals."""
  horizon = 1200  # 0.5 ** 1200 underflows to 0 in float32 and in double
  fast = module.ExponentialLR(gamma=gamma, horizon=horizon)
  slow = module.ExponentialLR(gamma=gamma, horizon=horizon)
  slow.step_factor = lambda run: None
  counts = np.arange(horizon * every + 5)
  for lr in (0.01, 0.3, 1e-30):
    (fast_table,), _ = fast.tabulate_groups([lr], every)
    (slow_table,), _ = slow.tabulate_groups([lr], every)
    np.testing.assert_array_equal(fast_table.values_at(counts), slow_table.values_at(counts))
    assert fast_table.num_runs == slow_table.num_runs
