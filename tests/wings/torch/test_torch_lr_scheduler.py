"""adamax_optax.torch.optim.lr_scheduler against PyTorch 2.13's own schedulers.

Golden files: tests/golden/torch/sched_*.npz (10,000 updates, 3 groups, the double
``group["lr"]`` each update used) and traj_*.npz (300 closed-loop steps).
"""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from golden_data import read_recording
from harness import assert_replays, assert_schedule_is

import adamax_optax
import adamax_optax.schedules
from adamax_optax.torch.optim import lr_scheduler

GOLDEN = pathlib.Path(__file__).parents[2] / "golden" / "torch"

# Recorded with PyTorch features outside this module: explicit epochs passed to step(),
# tensor learning rates (issue: torch tensor-lr paths), ReduceLROnPlateau (a metric).
NOT_COVERED = ("closedform", "tensor_lr", "plateau")  # plateau: its own test below
SCHEDULE_FILES = sorted(
  p.stem for p in GOLDEN.glob("sched_*.npz") if not any(n in p.stem for n in NOT_COVERED)
)


def load(name):
  data = read_recording(GOLDEN / f"{name}.npz")
  return data, json.loads(str(data["meta"]))


def build(class_path: str, kwargs: dict, horizon: int) -> lr_scheduler.LRScheduler:
  """Our scheduler from the meta PyTorch's was recorded with."""
  cls = getattr(lr_scheduler, class_path.rsplit(".", 1)[-1])
  kwargs = {k: v for k, v in kwargs.items() if not k.endswith("_name")}
  if "schedulers" in kwargs:
    kwargs["schedulers"] = [build(s["class"], s["kwargs"], horizon) for s in kwargs["schedulers"]]
  if "lr_lambda" in kwargs:
    source = kwargs["lr_lambda"]
    kwargs["lr_lambda"] = [eval(s) for s in source] if isinstance(source, list) else eval(source)
  return cls(**kwargs, horizon=horizon)


def every_of(meta) -> int:
  return 5 if meta.get("step_mode") == "epoch5" else 1


def first_difference(got: np.ndarray, want: np.ndarray):
  diff = np.flatnonzero(
    got.view(np.uint64 if got.dtype == np.float64 else np.uint32)
    != want.view(np.uint64 if want.dtype == np.float64 else np.uint32)
  )
  return None if diff.size == 0 else int(diff[0])


@pytest.mark.parametrize("name", SCHEDULE_FILES)
def test_every_value_is_pytorchs(name):
  data, meta = load(name)
  want = data["lr"]
  steps = want.shape[0]
  scheduler = build(meta["scheduler"], meta["scheduler_kwargs"], steps)
  initial = [group["lr"] for group in meta["groups"]]
  schedules, beta1 = scheduler.tabulate_groups(initial, every_of(meta))
  if "beta1" in data:  # betas[0], cycled with the rate
    for g, schedule in enumerate(beta1):
      doubles = np.array([schedule.value_at(n) for n in range(steps)])
      assert first_difference(doubles, data["beta1"][:, g]) is None, ("beta1", g)
  for g, schedule in enumerate(schedules):
    assert_schedule_is(schedule, want[:, g], f"{name} group {g}")


def test_a_scheduler_is_an_optax_schedule():
  schedule = lr_scheduler.StepLR(step_size=2, gamma=0.5, lr=0.1, horizon=100)
  opt = optax.sgd(schedule)
  params = jnp.ones(2)
  state = opt.init(params)
  updates, _ = jax.jit(opt.update)(jnp.ones(2), state)
  np.testing.assert_array_equal(updates, -0.1 * jnp.ones(2, jnp.float32))
  assert float(jax.jit(schedule)(jnp.int32(4))) == np.float32(0.025)


def test_without_lr_the_standalone_schedule_says_what_to_do():
  with pytest.raises(ValueError, match="give lr= to use it as a standalone optax schedule"):
    lr_scheduler.StepLR(step_size=2)(0)


@pytest.mark.parametrize(
  "make, message",
  [
    (lambda: lr_scheduler.StepLR(step_size=0), "step_size must be an int >= 1"),
    (lambda: lr_scheduler.ConstantLR(factor=1.5), "between 0 and 1"),
    (lambda: lr_scheduler.LinearLR(start_factor=0.0), "greater than 0"),
    (lambda: lr_scheduler.OneCycleLR(max_lr=1.0, cycle_momentum=False), "total_steps OR"),
    (lambda: lr_scheduler.StepLR(step_size=2, horizon=0), "horizon must be an int >= 1"),
    (
      lambda: lr_scheduler.SequentialLR(
        schedulers=[lr_scheduler.StepLR(step_size=2)], milestones=[3]
      ),
      "one more than the number of milestone",
    ),
  ],
)
def test_bad_arguments_are_refused_early(make, message):
  with pytest.raises(ValueError, match=message):
    make()


def test_per_group_lists_must_match_the_groups():
  scheduler = lr_scheduler.LambdaLR(lr_lambda=[lambda e: 1.0], horizon=4)
  with pytest.raises(ValueError, match="one per group"):
    scheduler.group_schedules([0.1, 0.2])


# --- Whole trajectories: torch_adamax with a scheduler, 300 steps, every bit -----------


@pytest.mark.parametrize(
  "name",
  [
    "traj_steplr",
    "traj_sequential",
    "traj_exponential_foreach_False",
    "traj_exponential_foreach_True",
    "traj_onecycle",
  ],
)
def test_torch_adamax_with_a_scheduler_is_pytorch_bit_for_bit(name):
  data, meta = load(name)
  keys = ["w", "b", "s"]
  groups = meta["groups"]
  horizon = data["grad_w"].shape[0]
  opt = adamax_optax.torch_adamax(
    lr=meta["optimizer_kwargs"].get("lr", 0.002),
    param_groups=[
      {k: v for k, v in group.items() if k in ("params", "lr", "weight_decay")} for group in groups
    ],
    lr_scheduler=build(meta["scheduler"], meta["scheduler_kwargs"], horizon),
  )
  assert_replays(opt, data, keys, name)


# --- ReduceLROnPlateau: the bookkeeping, step for step, against PyTorch's runs --------

PLATEAU_FILES = sorted(p.stem for p in GOLDEN.glob("sched_plateau_*.npz"))


@pytest.mark.parametrize("name", PLATEAU_FILES)
def test_reduce_on_plateau_follows_the_metric_as_pytorch(name):
  data, meta = load(name)
  want, metric = data["lr"], data["metric"]
  kwargs = {k: v for k, v in meta["scheduler_kwargs"].items() if k != "verbose"}
  scheduler = lr_scheduler.ReduceLROnPlateau(**kwargs)
  tables = scheduler.reduction_tables([group["lr"] for group in meta["groups"]])
  zero = jnp.zeros([], jnp.int32)
  best = adamax_optax._double_float.from_number(scheduler.initial_best())
  start = adamax_optax.schedules.PlateauState(
    zero, best, adamax_optax.schedules.plateau_counters(0, 0, 0), None
  )

  def step(state, value):
    state = scheduler.advance(state, value)
    return state, state.reductions

  # The metric after update t is read before update t + 1; PyTorch's are doubles.
  pairs = [adamax_optax.schedules.metric_value(m) for m in metric[:-1]]
  # Stacked on the host: jnp.stack would compile one concatenation of all 10000 scalars.
  stacked = jax.tree.map(lambda *x: np.stack(x), *pairs)
  _, reductions = jax.jit(lambda m: jax.lax.scan(step, start, m))(stacked)
  reductions = np.concatenate([[0], np.asarray(reductions)])
  for g, table in enumerate(tables):
    got = np.array([table.value_at(int(k)) for k in reductions])
    assert first_difference(got, want[:, g]) is None, (g, first_difference(got, want[:, g]))


def test_torch_adamax_reads_the_metric_from_update():
  opt = adamax_optax.torch_adamax(
    lr=0.1, lr_scheduler=lr_scheduler.ReduceLROnPlateau(factor=0.5, patience=1)
  )
  w = jnp.ones(3)
  state = opt.init(w)
  with pytest.raises(ValueError, match="value=metric"):
    opt.update(jnp.ones(3), state, w)
  steps = []
  for loss in [3.0, 2.0, 2.0, 2.0, 2.0, 2.0]:
    updates, state = jax.jit(opt.update)(jnp.ones(3), state, w, value=loss)
    steps.append(float(-updates[0]))
  # A constant gradient moves by the rate itself. The loss passed at update n is read
  # before it (measured after update n - 1): 2 improves on inf, then two bad steps
  # exceed patience 1 and halve the rate for update 3, and again for update 5.
  np.testing.assert_allclose(steps, [0.1, 0.1, 0.1, 0.05, 0.05, 0.025], rtol=1e-6)


@pytest.mark.parametrize(
  ("case", "scale_fn", "keywords"),
  [
    (
      "cycle",
      lambda x: 1 / (1.0 + x * 0.3),
      {"scale_mode": "cycle", "base_momentum": 0.8, "max_momentum": 0.93},
    ),
    ("iterations", lambda x: 0.9993**x, {"scale_mode": "iterations", "cycle_momentum": False}),
  ],
)
def test_cyclic_lr_with_a_scale_fn_is_pytorchs(case, scale_fn, keywords):
  """Recorded in PyTorch 2.13 (gen_cyclic_scale_fn.py): two groups, 1,500 epochs, each
  group's lr and betas[0], bit for bit; the table comes from the scale_fn called once
  per cycle or epoch."""
  data, meta = load("cyclic_scale_fn")
  scheduler = lr_scheduler.CyclicLR(
    **meta["common"], scale_fn=scale_fn, **keywords, horizon=meta["epochs"]
  )
  lr_tables, beta1_tables = scheduler.tabulate_groups([0.1, 0.1])
  for g in range(2):
    assert_schedule_is(lr_tables[g], data[f"{case}_lr"][:, g], f"{case} group {g}")
    if beta1_tables is not None:
      assert_schedule_is(beta1_tables[g], data[f"{case}_beta1"][:, g], f"{case} beta1 {g}")
  assert (beta1_tables is not None) == keywords.get("cycle_momentum", True)
