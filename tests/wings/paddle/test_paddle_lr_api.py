"""paddle.optimizer.lr: resuming (last_epoch), validation, subclasses, optax use."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from adamax_optax.paddle.optimizer import Adamax, lr

# Values recorded from Paddle 3.3.1: scheduler.last_lr after the constructor, then after
# each scheduler.step(), for a scheduler built with last_epoch=... (resuming).
RESUMED = {
  "cosine": (
    lambda: lr.CosineAnnealingDecay(0.02, 9, 1e-4, last_epoch=3, horizon=40),
    [0.015670399157047946, 0.01106293417628539, 0.006733333333333337, 0.003203810387954893,
     0.0009000778975736164, 0.0001, 0.0007000584231802112, 0.0024278577909661652],
  ),
  "warm_restarts_2": (
    lambda: lr.CosineAnnealingWarmRestarts(0.02, 5, 2, 1e-4, last_epoch=12, horizon=40),
    [0.002000280905969274, 0.0005869876628632224, 0.02, 0.019877498988921622,
     0.01951301233713678, 0.01891551491567426, 0.018099719094030728, 0.017085712472806148],
  ),
  "linear_lr": (  # Paddle restarts the recursion from the base rate: it overshoots
    lambda: lr.LinearLR(0.02, 9, 0.25, 0.9, last_epoch=3),
    [0.023095238095238092, 0.026190476190476188, 0.029285714285714283, 0.03238095238095238,
     0.035476190476190474, 0.03857142857142857, 0.03857142857142857, 0.03857142857142857],
  ),
  "multiplicative": (
    lambda: lr.MultiplicativeDecay(0.02, lambda e: 0.9 if e % 3 == 0 else 1.0, 12, horizon=40),
    [0.013122000000000003, 0.013122000000000003, 0.011809800000000004, 0.011809800000000004,
     0.011809800000000004, 0.010628820000000004, 0.010628820000000004, 0.010628820000000004],
  ),
  "warmup_cosine": (
    lambda: lr.LinearWarmup(lr.CosineAnnealingDecay(0.02, 9, 1e-4), 4, 0.0, 0.02, last_epoch=3),
    [0.02, 0.01939994157681979, 0.01767214220903383, 0.015025, 0.011777799367785958,
     0.008322200632214043, 0.005075000000000003, 0.00242785779096617],
  ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(RESUMED))
def test_resuming_with_last_epoch_matches_paddle(name):
  make, want = RESUMED[name]
  schedule = make()
  assert schedule.last_lr == want[0]
  assert [schedule.value_at(n) for n in range(len(want))] == want


def test_one_cycle_ends_at_total_steps():
  schedule = lr.OneCycleLR(0.02, total_steps=30)
  assert schedule.horizon == 31  # epochs 0 to 30: Paddle raises past 30
  with pytest.raises(
    ValueError, match=r"^Tried to step 31 times\. However the number of total steps is 30$"
  ):
    schedule.value_at(31)
  assert float(schedule(30)) == np.float32(schedule.value_at(30))
  assert np.isnan(schedule(31)) and np.isnan(schedule(1000))  # compiled: a visible end


def test_custom_subclass_and_lazy_tables():
  class Halving(lr.LRScheduler):
    def get_lr(self):
      return self.last_lr * 0.5 if self.last_epoch else self.base_lr

  schedule = Halving(learning_rate=1.0, horizon=6)
  assert (schedule.last_epoch, schedule.last_lr) == (0, 1.0)
  halving = [1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125]
  assert [schedule.value_at(n) for n in range(6)] == halving
  assert np.isnan(schedule.value_at(6))  # past the horizon: NaN, not a held rate
  inner = lr.CosineAnnealingDecay(0.02, T_max=10)
  warm = lr.LinearWarmup(inner, 5, 0.0, 0.02)
  assert warm.horizon == 1_000_005
  assert "table" not in inner.__dict__  # a wrapped scheduler never builds its own table


def test_natural_ends_and_run_length_tables():
  assert lr.PiecewiseDecay([3, 8], [0.1, 0.05, 0.01]).num_runs == 3
  assert lr.MultiStepDecay(0.1, [3, 8]).num_runs == 3
  # A million updates, one run a decay, and the NaN run past the horizon.
  assert lr.StepDecay(0.1, 1000, 0.5).num_runs == 1001
  assert lr.PolynomialDecay(0.1, 50).horizon == 51
  assert lr.LinearLR(0.1, 50).horizon == 51
  assert lr.LinearWarmup(0.1, 20, 0.0, 0.2).horizon == 21


def test_a_plain_optax_schedule_under_jit():
  schedule = lr.ExponentialDecay(0.01, gamma=0.9, horizon=100)
  opt = optax.adam(schedule)
  params = {"w": jnp.ones(3)}
  state = opt.init(params)
  step = jax.jit(opt.update)
  for _ in range(3):
    updates, state = step(params, state, params)
  np.testing.assert_allclose(updates["w"], -0.01 * 0.9**2, rtol=1e-5)


def test_the_optimizer_takes_schedulers_and_rejects_int_rates():
  opt = Adamax(learning_rate=lr.PiecewiseDecay([1], [0.5, 0.25]))
  params = {"w": jnp.ones(2)}
  state = opt.init(params)
  first, state = opt.update(params, state, params)
  second, _ = opt.update(params, state, params)
  assert float(first["w"][0]) == -0.5
  np.testing.assert_allclose(second["w"], -0.25, rtol=1e-6)  # m/u = 0.19 = 1 - b1**2
  with pytest.raises(TypeError, match="learning rate should be float or LRScheduler"):
    Adamax(learning_rate=1)


@pytest.mark.parametrize(
  ("build", "error", "match"),
  [
    (lambda: lr.StepDecay("a", 2), TypeError, "The type of learning rate must be float"),
    (lambda: lr.StepDecay(-0.1, 2), ValueError, r"^Invalid learning rate: -0.1$"),
    (lambda: lr.StepDecay(float("nan"), 2), ValueError, "must be a finite number"),
    (lambda: lr.StepDecay(0.1, 2.5), TypeError, "The type of 'step_size' must be 'int'"),
    (lambda: lr.StepDecay(0.1, 0), ValueError, "'step_size' must be a positive integer"),
    (lambda: lr.StepDecay(0.1, 2, gamma=1.0), ValueError, r"^gamma should be < 1.0.$"),
    (lambda: lr.StepDecay(0.1, 2, last_epoch=-2), ValueError, "last_epoch must be an int >= -1"),
    (lambda: lr.StepDecay(0.1, 2, horizon=0), ValueError, "horizon must be an int >= 1"),
    (lambda: lr.NoamDecay(0, 10), ValueError, "d_model should be grater than 0"),
    (lambda: lr.NoamDecay(64, 0), ValueError, "warmup_steps must be > 0"),
    (lambda: lr.PiecewiseDecay([1, 2], [0.1]), ValueError, "len.values. .1. < len.boundaries"),
    (lambda: lr.NaturalExpDecay(0.1, 0.0), ValueError, "'gamma' must be a positive number"),
    (lambda: lr.InverseTimeDecay(0.1, -1.0), ValueError, "gamma must be >= 0"),
    (lambda: lr.PolynomialDecay(0.1, 0), ValueError, "'decay_steps' must be a positive integer"),
    (lambda: lr.PolynomialDecay(0.1, 5, power=0.0), ValueError, "'power' must be greater"),
    (lambda: lr.LinearWarmup("a", 3, 0.0, 0.1), TypeError, r"\[int, float or LRScheduler\]"),
    (lambda: lr.LinearWarmup(0.1, 0, 0.0, 0.1), ValueError, "'warmup_steps' must be a positive"),
    (lambda: lr.LinearWarmup(0.1, 3, 0.5, 0.5), ValueError, "end_lr 0.5 must be greater than"),
    (lambda: lr.ExponentialDecay(0.1, 1.5), ValueError, r"'gamma' must be in interval \(0.0"),
    (lambda: lr.MultiStepDecay(0.1, 3), TypeError, "'milestones' in 'MultiStepDecay' must be"),
    (lambda: lr.MultiStepDecay(0.1, [3, 2]), ValueError, "milestones must be incremented"),
    (lambda: lr.LambdaDecay(0.1, 3), TypeError, "'lr_lambda' in 'LambdaDecay' must be"),
    (lambda: lr.MultiplicativeDecay(0.1, 3), TypeError, "'lr_lambda' in 'MultiplicativeDecay'"),
    (lambda: lr.CosineAnnealingDecay(0.1, 2.5), TypeError, "'T_max' in 'CosineAnnealingDecay'"),
    (lambda: lr.CosineAnnealingDecay(0.1, 0), ValueError, "'T_max' must be a positive integer"),
    (lambda: lr.CosineAnnealingDecay(0.1, 2, "a"), TypeError, "'eta_min' in 'CosineAnnealing"),
    (lambda: lr.OneCycleLR(-0.1, 10), ValueError, "'max_learning_rate' must be a positive"),
    (lambda: lr.OneCycleLR(0.1, 10.0), TypeError, "'total_step' must be 'int'"),
    (lambda: lr.OneCycleLR(0.1, 10, phase_pct=1.5), ValueError, "'phase_pct' must be between"),
    (lambda: lr.OneCycleLR(0.1, 10, anneal_strategy="x"), ValueError, "'anneal_strategy' must"),
    (lambda: lr.OneCycleLR(0.1, 10, divide_factor=0.0), ValueError, "divide_factor must be > 0"),
    (lambda: lr.CyclicLR(0.1, 0.2, 0), ValueError, "'step_size_up' must be a positive integer"),
    (lambda: lr.CyclicLR(0.1, 0.2, 2.5), TypeError, "'step_size_up' must be int"),
    (lambda: lr.CyclicLR(0.1, 0.2, 3, 0), ValueError, "'step_size_down' must be a positive"),
    (lambda: lr.CyclicLR(0.1, 0.2, 3, mode="x"), ValueError, "'mode' is invalid and 'scale_fn'"),
    (
      lambda: lr.CyclicLR(0.1, 0.2, 3, scale_fn=abs, scale_mode="x"),
      ValueError,
      "'scale_mode' must be one of",
    ),
    (lambda: lr.LinearLR(0.1, 0), ValueError, "`total_steps` must be greater than 0"),
    (lambda: lr.LinearLR(0.1, 5, start_factor=0.0), ValueError, "`start_factor` must be"),
    (lambda: lr.LinearLR(0.1, 5, end_factor=1.5), ValueError, "`end_factor` must be"),
    (lambda: lr.CosineAnnealingWarmRestarts(0.1, 0), ValueError, "positive integer T_0"),
    (lambda: lr.CosineAnnealingWarmRestarts(0.1, 2, 1.5), ValueError, "integer T_mult >= 1"),
  ],
)
def test_validation(build, error, match):
  with pytest.raises(error, match=match):
    build()
