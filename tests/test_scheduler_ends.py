"""Past the end of a scheduler's table the rate is exact or NaN, never a held wrong rate
(issue 23, items 2 and 3)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adamax_optax as ax
from adamax_optax.mindspore.experimental.optim import lr_scheduler as mindspore
from adamax_optax.paddle.optimizer import lr as paddle
from adamax_optax.torch.optim import lr_scheduler as torch


def table_of(scheduler, lr=0.01):
  (table,), _ = scheduler.tabulate_groups([lr])
  return table


@pytest.mark.parametrize("module", [torch, mindspore], ids=["torch", "mindspore"])
def test_a_schedule_that_stops_changing_holds_its_exact_value_past_the_horizon(module):
  for scheduler in (
    module.MultiStepLR(milestones=[3, 5], gamma=0.5, horizon=10),
    module.LinearLR(start_factor=0.5, total_iters=4, horizon=10),
    module.ConstantLR(factor=0.5, total_iters=4, horizon=10),
    # a sequence past its last milestone, whose last scheduler stops changing
    module.SequentialLR(
      schedulers=[
        module.LinearLR(start_factor=0.5, total_iters=2),
        module.MultiStepLR(milestones=[5], gamma=0.5),
      ],
      milestones=[2],
      horizon=10,
    ),
  ):
    table = table_of(scheduler)
    assert table.value_at(10**6) == table.value_at(9), scheduler


@pytest.mark.parametrize("module", [torch, mindspore], ids=["torch", "mindspore"])
def test_a_schedule_cut_by_its_horizon_has_a_nan_rate_past_it(module):
  table = table_of(module.ExponentialLR(gamma=0.5, horizon=10))
  assert np.isfinite(table.values_at(np.arange(10))).all()
  assert np.isnan(table.values_at([10, 11, 10**6])).all()
  lookup = jax.jit(table)
  assert np.isfinite(lookup(9)) and np.isnan(lookup(10)) and np.isnan(lookup(2**31 - 1))


@pytest.mark.parametrize("every", [1, 3])
def test_one_cycle_is_nan_where_pytorch_raises(every):
  scheduler = torch.OneCycleLR(max_lr=0.01, total_steps=20)
  (lr,), (beta1,) = scheduler.tabulate_groups([0.01], every)
  counts = np.arange(30 * every)
  past = counts // every > 20  # PyTorch's step() raises at last_epoch 21
  assert np.isfinite(lr.values_at(counts[~past])).all()
  assert np.isnan(lr.values_at(counts[past])).all()
  assert np.isnan(beta1.values_at(counts[past])).all()


def run(opt, steps):
  params = {"w": jnp.array([1.0, -2.0, 3.0])}

  def step(carry, _):
    params, state = carry
    updates, state = opt.update(jax.tree.map(jnp.sign, params), state, params)
    params = optax.apply_updates(params, updates)
    return (params, state), params["w"]

  _, trajectory = jax.jit(lambda p: jax.lax.scan(step, (p, opt.init(p)), length=steps))(params)
  return np.asarray(trajectory)


def test_a_preset_past_one_cycles_end_makes_nan_updates():
  scheduler = torch.OneCycleLR(max_lr=0.01, total_steps=5)
  trajectory = run(ax.torch_adamax(lr=0.01, lr_scheduler=scheduler), 9)
  assert np.isfinite(trajectory[:6]).all()  # counts 0 to 5: epochs up to total_steps
  assert np.isnan(trajectory[6:]).all()


@pytest.mark.parametrize("framework", ["paddle", "torch"])
def test_triangular2_cyclic_ends_at_the_cycle_whose_scale_overflows(framework):
  """``1 / 2.0 ** (cycle - 1)`` raises OverflowError at cycle 1025 in Paddle and PyTorch:
  the table is exact up to there (no error at construction) and NaN from there on."""
  if framework == "paddle":
    scheduler = paddle.CyclicLR(0.001, 0.01, step_size_up=2, mode="triangular2")
    table = scheduler.table
  else:
    scheduler = torch.CyclicLR(base_lr=0.001, max_lr=0.01, step_size_up=2, mode="triangular2")
    table = table_of(scheduler)
  overflow = 4 * 1024  # epoch / 4 + 1 reaches cycle 1025
  assert table.value_at(overflow - 1) == 0.001  # the scale is far below an ulp by then
  assert table.value_at(2) == 0.001 + (0.01 - 0.001) * 1.0  # cycle 1's peak
  assert np.isnan(table.values_at([overflow, overflow + 1, 10**6])).all()
  lookup = jax.jit(table)
  assert float(lookup(overflow - 1)) == np.float32(0.001) and np.isnan(lookup(overflow))


def test_mindspore_nn_schedules_end_exactly_or_with_nan():
  from adamax_optax.mindspore.nn import learning_rate_schedule as nn

  cut = nn.ExponentialDecayLR(0.1, 0.5, 2, horizon=8)
  assert np.isfinite(cut.schedule.values_at(np.arange(8))).all()
  assert np.isnan(cut.value_at(8)) and np.isnan(cut.value_at(10**6))
  ended = nn.CosineDecayLR(0.0, 0.1, 4, horizon=100)
  assert ended.value_at(10**6) == ended.value_at(4) == 0.0
  underflowed = nn.ExponentialDecayLR(1.0, 0.01, 1, horizon=1000)  # 0 from step 23 on
  assert underflowed.value_at(10**6) == 0.0
