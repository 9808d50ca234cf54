"""The engine's Together: several schedulers on one group, each at its cadence.

Its tables skip epochs where no scheduler changes anything and finish with
``np.multiply.accumulate`` once only a multiplying scheduler is left; both must give the
very values of stepping every scheduler at every epoch, which these tests compare.
"""

import math

import pytest

from adamax_optax.mindspore.experimental.optim import lr_scheduler as ms
from adamax_optax.schedules import Group, Together, replay
from adamax_optax.torch.optim import lr_scheduler as torch

EPOCHS = 400


def stepped_one_by_one(together: Together, lr: float) -> list[float]:
  """The lr at each epoch, every scheduler's driver called at each of its due epochs."""
  group = Group(0, together.numbers.value(lr), together.numbers.value(0.9))
  drivers = [scheduler.driver(group) for scheduler in together.schedulers]
  values = [float(group.lr)]
  for epoch in range(1, EPOCHS):
    for driver, cadence in zip(drivers, together.cadences, strict=True):
      if epoch % cadence == 0:
        driver()
    values.append(float(group.lr))
  return values


def tabulated(together: Together, lr: float) -> list[float]:
  group = Group(0, together.numbers.value(lr), together.numbers.value(0.9))
  starts, lrs, _ = replay(together.driver(group), group, EPOCHS)
  return [lrs[sum(start <= epoch for start in starts) - 1] for epoch in range(EPOCHS)]


CASES = {
  "torch warmup and step decay": Together(
    [torch.LinearLR(start_factor=0.1, total_iters=60), torch.StepLR(step_size=2, gamma=0.5)],
    [1, 25],
  ),
  "torch multistep at 3 and exponential at 7": Together(
    [torch.MultiStepLR(milestones=[5, 9, 30], gamma=0.3), torch.ExponentialLR(gamma=0.97)],
    [3, 7],
  ),
  "torch cosine inside": Together(
    [torch.ExponentialLR(gamma=0.999), torch.CosineAnnealingLR(T_max=40)], [1, 2]
  ),
  "mindspore constant and exponential": Together(
    [ms.ConstantLR(factor=0.3, total_iters=40), ms.ExponentialLR(gamma=0.99)], [1, 1]
  ),
  "mindspore exponential first, then step": Together(
    [ms.ExponentialLR(gamma=0.99), ms.StepLR(step_size=3, gamma=0.5)], [2, 5]
  ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_skipped_and_accumulated_tables_equal_stepping_every_scheduler(name):
  together = CASES[name]
  got, want = tabulated(together, 0.01), stepped_one_by_one(together, 0.01)
  differing = [epoch for epoch in range(EPOCHS) if got[epoch] != want[epoch]]
  assert not differing, f"epoch {differing[0]}: {got[differing[0]]!r} != {want[differing[0]]!r}"


def test_a_table_ends_in_nan_at_the_horizon_unless_every_scheduler_holds():
  together = Together([torch.ExponentialLR(gamma=0.5, horizon=8)], [1])
  (table,), _ = together.tabulate_groups([1.0])
  assert table.value_at(7) == 0.5**7
  assert math.isnan(table.value_at(8))
  ending = Together([torch.LinearLR(start_factor=0.5, total_iters=2, horizon=8)], [1])
  (table,), _ = ending.tabulate_groups([1.0])
  assert table.value_at(10**6) == 1.0


def test_cadences_must_match_the_schedulers():
  with pytest.raises(ValueError, match="one cadence per scheduler"):
    Together([torch.StepLR(step_size=2)], [1, 2])
  with pytest.raises(ValueError, match="different number types"):
    Together([torch.StepLR(step_size=2), ms.StepLR(step_size=2)], [1, 1])
