"""Whole-table forms of open-ended schedulers (``Scheduler.epoch_table``) against the
step-by-step replay: the same doubles (float32 for MindSpore) at every count of the
horizon, bit for bit, on awkward arguments (step sizes 41 and 7, gamma 0.3, eta_min
!= 0, restarts every epoch or every 41, triangular2 cycles that overflow)."""

import math

import numpy as np
import pytest

from adamax_optax.mindspore.experimental.optim import lr_scheduler as mindspore
from adamax_optax.paddle.optimizer import lr as paddle
from adamax_optax.schedules import DOUBLE, FLOAT32
from adamax_optax.torch.optim import lr_scheduler as torch

HORIZON = 5000
LRS = (0.01, 0.3, 1e-30)


def tables(scheduler, every, whole: bool, lrs=LRS):
  """Every count's lr and beta1 (when the scheduler cycles it), and the runs kept."""
  if not whole:  # the same scheduler, made to replay each step
    scheduler.epoch_table = lambda run, epochs: None
  lr_tables, beta1_tables = scheduler.tabulate_groups(list(lrs), every)
  counts = np.arange(scheduler.horizon * every + 3 * every)
  kept = [*lr_tables, *(beta1_tables or [])]
  return np.stack([table.values_at(counts) for table in kept]), [t.num_runs for t in kept]


def assert_whole_table_is_the_replay(make, every=1, lrs=LRS):
  fast, slow = make(), make()
  assert uses_whole_table(make(), lrs)
  fast_values, fast_runs = tables(fast, every, whole=True, lrs=lrs)
  slow_values, slow_runs = tables(slow, every, whole=False, lrs=lrs)
  # NaN in the same places, and the same bits elsewhere (-0.0 included).
  np.testing.assert_array_equal(np.isnan(fast_values), np.isnan(slow_values), err_msg=repr(fast))
  finite = ~np.isnan(slow_values)
  np.testing.assert_array_equal(
    fast_values[finite].view(np.int64), slow_values[finite].view(np.int64), err_msg=repr(fast)
  )
  assert fast_runs == slow_runs


def uses_whole_table(scheduler, lrs=LRS) -> bool:
  """Whether every group's table came from the scheduler's epoch_table."""
  made = []
  epoch_table = scheduler.epoch_table

  def spy(run, epochs):
    table = epoch_table(run, epochs)
    made.append(table is not None)
    return table

  scheduler.epoch_table = spy
  scheduler.tabulate_groups(list(lrs), check_groups=False)
  return bool(made) and all(made)


MODULES = pytest.mark.parametrize("module", [torch, mindspore], ids=["torch", "mindspore"])


@MODULES
@pytest.mark.parametrize("t_max", [1, 2, 7, 41, 1000])
@pytest.mark.parametrize("eta_min", [0, 0.0, 1e-5, 0.003])
@pytest.mark.parametrize("every", [1, 3])
def test_cosine_annealing_whole_table_is_the_replay(module, t_max, eta_min, every):
  assert_whole_table_is_the_replay(
    lambda: module.CosineAnnealingLR(T_max=t_max, eta_min=eta_min, horizon=HORIZON), every
  )


@MODULES
@pytest.mark.parametrize("t_0", [1, 41, 100])
@pytest.mark.parametrize("t_mult", [1, 2, 3])
@pytest.mark.parametrize("eta_min", [0, 1e-4])
def test_warm_restarts_whole_table_is_the_replay(module, t_0, t_mult, eta_min):
  assert_whole_table_is_the_replay(
    lambda: module.CosineAnnealingWarmRestarts(
      T_0=t_0, T_mult=t_mult, eta_min=eta_min, horizon=HORIZON
    )
  )


def cyclic_arguments(mode, up, down) -> dict:
  """The CyclicLR arguments both wings' tests take: three groups, exp_range's gamma."""
  return {
    "base_lr": [1e-3, 0.03, 0.3],
    "max_lr": [1e-2, 0.3, 0.7],
    "step_size_up": up,
    "step_size_down": down,
    "mode": mode,
    "gamma": 0.9993,
    "horizon": HORIZON,
  }


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
@pytest.mark.parametrize("steps", [(41, None), (41, 7), (1, 1), (2000, None)])
@pytest.mark.parametrize("cycle_momentum", [True, False])
def test_torch_cyclic_whole_table_is_the_replay(mode, steps, cycle_momentum):
  """(1, 1) with triangular2 reaches cycle 1025 at epoch 2048, where PyTorch's
  2.0 ** 1024 overflows: the table ends there, NaN, in both."""
  up, down = steps
  assert_whole_table_is_the_replay(
    lambda: torch.CyclicLR(
      **cyclic_arguments(mode, up, down),
      cycle_momentum=cycle_momentum,
      base_momentum=0.8,
      max_momentum=0.93,
    ),
    every=3,
  )


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
@pytest.mark.parametrize("steps", [(41, None), (41, 7), (1, 1), (3, 0)])
def test_mindspore_cyclic_whole_table_is_the_replay(mode, steps):
  up, down = steps
  assert_whole_table_is_the_replay(lambda: mindspore.CyclicLR(**cyclic_arguments(mode, up, down)))


SCALE_FNS = {
  "power": lambda x: 0.97 ** (x % 41),
  "branch": lambda x: 1.0 if x < 3 else 1 / (1 + x),
  "ints": lambda x: int(x) % 3,
}


@pytest.mark.parametrize("scale_mode", ["cycle", "iterations"])
@pytest.mark.parametrize("kind", SCALE_FNS)
@pytest.mark.parametrize("cycle_momentum", [True, False])
def test_torch_cyclic_scale_fn_whole_table_is_the_replay(kind, scale_mode, cycle_momentum):
  """Python's scale_fn, called once per cycle or epoch with the number a step passes."""
  assert_whole_table_is_the_replay(
    lambda: torch.CyclicLR(
      **cyclic_arguments("triangular", 41, 7),
      scale_fn=SCALE_FNS[kind],
      scale_mode=scale_mode,
      cycle_momentum=cycle_momentum,
      base_momentum=0.8,
      max_momentum=0.93,
    ),
    every=3,
  )


@pytest.mark.parametrize("scale_mode", ["cycle", "iterations"])
def test_paddle_cyclic_scale_fn_whole_table_is_the_replay(scale_mode):
  """Paddle's cycle reaches scale_fn as a float (``1 + e // c``)."""
  assert_paddle_whole_table_is_the_replay(
    lambda: paddle.CyclicLR(
      1e-3, 0.3, 41, 7, scale_fn=lambda x: 0.97 ** (x % 41) + x / 7, scale_mode=scale_mode
    )
  )


def test_a_torch_scale_fn_with_numpy_results_is_replayed_step_by_step():
  """A NumPy result multiplies by NumPy's rules: the table is left to the replay."""
  scheduler = torch.CyclicLR(
    base_lr=1e-3, max_lr=1e-2, step_size_up=1, scale_fn=lambda x: np.float64(0.5) ** x
  )
  assert not uses_whole_table(scheduler, [0.01])


def test_a_torch_scale_fn_that_raises_raises_as_the_replay_does():
  """A call that raises leaves the table to the replay, which raises at that step."""
  scheduler = torch.CyclicLR(
    base_lr=1e-3, max_lr=1e-2, step_size_up=1, scale_fn=lambda x: 1 / (40 - x)
  )
  with pytest.raises(ZeroDivisionError):
    scheduler.tabulate_groups([0.01])


def mindspore_cyclic_with(scale_fn, scale_mode):
  return mindspore.CyclicLR(
    **cyclic_arguments("triangular", 41, 7), scale_fn=scale_fn, scale_mode=scale_mode
  )


@pytest.mark.parametrize("scale_mode", ["cycle", "iterations"])
@pytest.mark.parametrize(
  "scale_fn", [lambda x: 1 / (1.0 + x * 0.3), lambda x: 0.97 ** (x % 41)], ids=["ratio", "power"]
)
def test_mindspore_cyclic_scale_fn_whole_table_is_the_replay(scale_fn, scale_mode):
  """A float32 scale_fn of arithmetic is evaluated once on every cycle or epoch."""
  assert_whole_table_is_the_replay(lambda: mindspore_cyclic_with(scale_fn, scale_mode), every=3)


def test_a_scale_fn_that_branches_is_replayed_step_by_step():
  assert not uses_whole_table(mindspore_cyclic_with(lambda x: 0.5 if x < 3 else 0.25, "cycle"))


LAMBDAS = {
  "float powers": lambda e: 0.3 ** (e % 7),
  "ints": lambda e: int(e) % 3,
  "one ratio": lambda e: 1.0001,
  "floats and ints": lambda e: 0.97 if int(e) % 2 else 1,
  "every operation": lambda e: 1 + ((0.5 + e / 41) ** -0.3 / (1 + e % 7) - e // 3 + abs(-e)) * 1e-9,
  "a branch": lambda e: 0.5 if e < 10 else 0.25**e,
}


@MODULES
@pytest.mark.parametrize("kind", LAMBDAS)
@pytest.mark.parametrize("every", [1, 3])
def test_lambda_whole_tables_are_the_replay(module, kind, every):
  lr_lambda = LAMBDAS[kind]
  assert_whole_table_is_the_replay(
    lambda: module.LambdaLR(lr_lambda=lr_lambda, horizon=HORIZON), every
  )
  assert_whole_table_is_the_replay(
    lambda: module.MultiplicativeLR(lr_lambda=lr_lambda, horizon=HORIZON), every
  )


@pytest.mark.parametrize(
  ("lr_lambda", "calls"),
  [
    # The constructor's step, then all at once, checked at 9 epochs alone.
    (lambda e: 0.97**e * (1 + e % 41), 1 + 1 + 9),
    (lambda e: 0.97, 1 + 1 + 9),
    # The comparison raises on the array: then epoch by epoch.
    (lambda e: 0.5 if e < 10 else 0.25, 1 + 1 + HORIZON),
  ],
)
def test_mindspore_lambdas_of_arithmetic_are_called_once_for_every_epoch(lr_lambda, calls):
  """MindSpore's lambdas receive a float32 Tensor: one of arithmetic only is called on an
  array of every epoch (and at a few epochs alone, to check), the others epoch by epoch."""
  made = []

  def counted(epoch):
    made.append(epoch)
    return lr_lambda(epoch)

  scheduler = mindspore.LambdaLR(lr_lambda=counted, horizon=HORIZON)
  scheduler.tabulate_groups([0.01])
  assert len(made) == calls


def test_numpy_scalars_from_a_lambda_are_replayed_step_by_step():
  """``0.01 * np.float32(0.5)`` is a float32 under NumPy's rules, not the double
  product: such results leave the table to the replay, which gets them right."""
  scheduler = torch.LambdaLR(lr_lambda=lambda e: np.float32(0.9) ** e, horizon=50)
  assert not uses_whole_table(scheduler, [0.01])
  assert uses_whole_table(torch.LambdaLR(lr_lambda=lambda e: 0.9**e, horizon=50), [0.01])


@pytest.mark.parametrize("last_epoch", [-1, 40])
def test_paddle_whole_tables_are_the_replay(last_epoch):
  """Paddle's schedulers of the PyTorch family: from the first epoch the whole table,
  resumed from a later one the replay (both the same values)."""
  makes = [
    lambda: paddle.CosineAnnealingDecay(0.3, T_max=41, eta_min=0.003, last_epoch=last_epoch),
    lambda: paddle.CosineAnnealingDecay(0.3, T_max=7, last_epoch=last_epoch),
    lambda: paddle.CyclicLR(1e-3, 0.3, step_size_up=41, step_size_down=7, last_epoch=last_epoch),
    lambda: paddle.CyclicLR(1e-3, 0.3, 1, 1, mode="triangular2", last_epoch=last_epoch),
    lambda: paddle.CyclicLR(
      1e-3, 0.3, 41, 7, mode="exp_range", exp_gamma=0.9993, last_epoch=last_epoch
    ),
    lambda: paddle.LambdaDecay(0.3, lambda e: 0.3 ** (e % 7), last_epoch=last_epoch),
    lambda: paddle.MultiplicativeDecay(0.3, lambda e: 0.97, last_epoch=last_epoch),
    lambda: paddle.CosineAnnealingWarmRestarts(0.3, T_0=41, T_mult=2, last_epoch=last_epoch),
  ]
  for make in makes:
    assert_paddle_whole_table_is_the_replay(make)


def assert_paddle_whole_table_is_the_replay(make):
  """A Paddle scheduler (its own rate; ``HORIZON``) tabulated from its whole table and
  step by step: the same bits at every count, past the horizon's NaN included."""
  fast, slow = make(), make()
  for scheduler in (fast, slow):
    scheduler._horizon_setting = HORIZON
  slow.epoch_table = lambda run, epochs: None
  assert uses_whole_table(make(), [make().base_lr])
  counts = np.arange(HORIZON + 5)
  fast_values, slow_values = (
    s.tabulate_groups([s.base_lr], check_groups=False)[0][0].values_at(counts) for s in (fast, slow)
  )
  np.testing.assert_array_equal(
    fast_values.view(np.int64), slow_values.view(np.int64), err_msg=repr(fast)
  )


@pytest.mark.parametrize("numbers", [DOUBLE, FLOAT32], ids=["double", "float32"])
def test_cosines_are_the_numbers_cosine(numbers):
  angles = (np.linspace(-40.0, 40.0, 20011) * math.pi / 7).astype(numbers.dtype)
  expected = [float(numbers.cos(angle.item())) for angle in angles]
  np.testing.assert_array_equal(numbers.cosines(angles).astype(np.float64), expected)


def paddle_pair(make):
  """Two tables of the Paddle scheduler ``make()`` builds, by its epoch_table and by the
  replay, over ``HORIZON`` updates, and whether the first used its epoch_table."""
  fast, slow = make(), make()
  for scheduler in (fast, slow):
    scheduler._horizon_setting = HORIZON
  slow.epoch_table = lambda run, epochs: None
  used = uses_whole_table(make(), [make().base_lr])
  counts = np.arange(HORIZON + 5)
  fast_values = fast.tabulate_groups([fast.base_lr], check_groups=False)[0][0].values_at(counts)
  slow_values = slow.tabulate_groups([slow.base_lr], check_groups=False)[0][0].values_at(counts)
  return fast_values, slow_values, used


@pytest.mark.parametrize("last_epoch", [-1, 40])
def test_paddle_closed_forms_are_the_replay(last_epoch):
  """Paddle's open-ended closed forms on every epoch at once: the same doubles."""
  makes = [
    lambda: paddle.NoamDecay(d_model=64, warmup_steps=41, learning_rate=0.3, last_epoch=last_epoch),
    lambda: paddle.NoamDecay(d_model=7.5, warmup_steps=3, last_epoch=last_epoch),
    lambda: paddle.NaturalExpDecay(0.3, gamma=0.003, last_epoch=last_epoch),
    lambda: paddle.InverseTimeDecay(0.3, gamma=0.3, last_epoch=last_epoch),
    lambda: paddle.PolynomialDecay(
      0.3, 41, end_lr=1e-3, power=0.3, cycle=True, last_epoch=last_epoch
    ),
    lambda: paddle.PolynomialDecay(0.3, 7, cycle=True, last_epoch=last_epoch),
    lambda: paddle.ExponentialDecay(0.3, gamma=0.997, last_epoch=last_epoch),
  ]
  for make in makes:
    fast_values, slow_values, used = paddle_pair(make)
    assert used, repr(make())
    np.testing.assert_array_equal(
      fast_values.view(np.int64), slow_values.view(np.int64), err_msg=repr(make())
    )


def test_an_int_gamma_is_replayed_step_by_step():
  """An int gamma makes Python's products ints: left to the replay (the same values)."""
  fast_values, slow_values, used = paddle_pair(lambda: paddle.InverseTimeDecay(0.3, gamma=2))
  assert not used
  np.testing.assert_array_equal(fast_values, slow_values)


@pytest.mark.parametrize("cell", ["ExponentialDecayLR", "NaturalExpDecayLR", "InverseDecayLR"])
@pytest.mark.parametrize("is_stair", [False, True])
@pytest.mark.parametrize("decay", [(0.3, 41), (0.9, 7), (0.5, 1)])
def test_mindspore_cells_on_arrays_are_their_values_step_by_step(cell, is_stair, decay):
  """A cell's float32 values computed on arrays of steps (LearningRateSchedule._values)
  and its ``value(step)`` one step at a time: the same float32 values, and the same end
  where a decay underflows to 0 (0.3 ** (step / 1) does within the horizon)."""
  from adamax_optax.mindspore.nn import learning_rate_schedule as nn

  rate, steps = decay
  fast = getattr(nn, cell)(0.3, rate, steps, is_stair, horizon=150_000)
  slow = getattr(nn, cell)(0.3, rate, steps, is_stair, horizon=150_000)
  slow._values = lambda start, stop: None
  assert fast._values(0, 10) is not None
  counts = np.arange(150_005)
  fast_values, slow_values = fast.schedule.values_at(counts), slow.schedule.values_at(counts)
  np.testing.assert_array_equal(np.isnan(fast_values), np.isnan(slow_values))
  finite = ~np.isnan(slow_values)
  np.testing.assert_array_equal(
    fast_values[finite].view(np.int64), slow_values[finite].view(np.int64), err_msg=cell
  )
  assert fast.schedule.num_runs == slow.schedule.num_runs


def composites(module):
  """(name, make) of composites whose last scheduler takes the later steps alone."""
  made = [
    (
      "warmup, then exponential",
      lambda: module.SequentialLR(
        schedulers=[module.LinearLR(total_iters=10), module.ExponentialLR(gamma=0.997)],
        milestones=[10],
        horizon=HORIZON,
      ),
    ),
    (
      "constant, then cosine with eta_min",
      lambda: module.SequentialLR(
        schedulers=[
          module.ConstantLR(factor=0.3, total_iters=41),
          module.CosineAnnealingLR(T_max=41, eta_min=0.003),
        ],
        milestones=[7],
        horizon=HORIZON,
      ),
    ),
    (
      "two milestones, then a lambda",
      lambda: module.SequentialLR(
        schedulers=[
          module.ExponentialLR(gamma=0.3),
          module.StepLR(step_size=7, gamma=0.3),
          module.LambdaLR(lr_lambda=lambda e: 0.3 ** (e % 7)),
        ],
        milestones=[5, 41],
        horizon=HORIZON,
      ),
    ),
  ]
  if module is torch:
    made += [
      (
        "chained constant and exponential",
        lambda: torch.ChainedScheduler(
          schedulers=[
            torch.ConstantLR(factor=0.3, total_iters=41),
            torch.ExponentialLR(gamma=0.997),
          ],
          horizon=HORIZON,
        ),
      ),
      (
        "chained linear and cosine",
        lambda: torch.ChainedScheduler(
          schedulers=[torch.LinearLR(total_iters=20), torch.CosineAnnealingLR(T_max=41)],
          horizon=HORIZON,
        ),
      ),
    ]
  return made


@MODULES
def test_composites_hand_their_last_stretch_to_a_whole_table(module):
  """SequentialLR past its last milestone and ChainedScheduler once all but one of its
  schedulers have ended: the rest of the table from the last one's epoch_table, the same
  values as stepping every epoch through the composite."""
  for name, make in composites(module):
    fast, slow = make(), make()
    for inner in slow.schedulers:
      inner.epoch_table = lambda run, epochs: None
    tabled = []
    last = fast.schedulers[-1]
    epoch_table = last.epoch_table
    last.epoch_table = lambda run, epochs, seen=tabled, inner=epoch_table: (
      seen.append(epochs) or inner(run, epochs)
    )
    fast_values, fast_runs = tables(fast, 1, whole=True)
    slow_values, slow_runs = tables(slow, 1, whole=True)
    assert tabled, name
    np.testing.assert_array_equal(np.isnan(fast_values), np.isnan(slow_values), err_msg=name)
    finite = ~np.isnan(slow_values)
    np.testing.assert_array_equal(
      fast_values[finite].view(np.int64), slow_values[finite].view(np.int64), err_msg=name
    )
    assert fast_runs == slow_runs, name


@pytest.mark.parametrize("last_epoch", [-1, 40, 150])
def test_paddle_linear_warmup_takes_the_wrapped_table(last_epoch):
  """LinearWarmup's ramp on arrays, then the wrapped scheduler's own table: the replay's
  values (which step the wrapped scheduler from epoch 0 through its generator)."""
  wrapped = [
    lambda: paddle.StepDecay(0.3, step_size=41, gamma=0.3),
    lambda: paddle.ExponentialDecay(0.3, gamma=0.997),
    lambda: paddle.MultiStepDecay(0.3, milestones=[7, 41]),
  ]
  for make_wrapped in wrapped:

    def make(make_wrapped=make_wrapped):
      inner = make_wrapped()
      inner._horizon_setting = HORIZON
      return paddle.LinearWarmup(inner, 100, 0.001, 0.3, last_epoch=last_epoch)

    fast_values, slow_values, used = paddle_pair(make)
    # (resumed, the table may run past the end of the wrapped one's: then replayed)
    assert used or last_epoch != -1, repr(make())
    np.testing.assert_array_equal(fast_values.view(np.int64), slow_values.view(np.int64))
  # A cosine wrapped by LinearWarmup follows its closed form: replayed, the same values.
  cosine = lambda: paddle.LinearWarmup(paddle.CosineAnnealingDecay(0.3, 41), 100, 0.0, 0.3)
  fast_values, slow_values, used = paddle_pair(cosine)
  assert not used
  np.testing.assert_array_equal(fast_values, slow_values)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (rates past float32: inf, inf * 0)
def test_an_overflowing_exp_range_ends_where_the_replay_ends():
  """PyTorch's 1.5 ** epoch raises OverflowError at epoch 1751: the whole table gives way
  to the replay, whose table ends there (NaN); MindSpore's powf gives inf instead."""
  torch_values, _ = tables(
    torch.CyclicLR(base_lr=0.1, max_lr=0.3, mode="exp_range", gamma=1.5, horizon=HORIZON),
    1,
    whole=True,
  )
  assert np.isnan(torch_values[0, 1751]) and not np.isnan(torch_values[0, 1750])
  assert_whole_table_is_the_replay(
    lambda: mindspore.CyclicLR(
      base_lr=0.1, max_lr=0.3, step_size_up=41, mode="exp_range", gamma=1.5, horizon=HORIZON
    )
  )
