"""paddle.optimizer.lr: every recorded Paddle schedule and two trajectories, bit for bit."""

import inspect
import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from golden_data import read_recording
from harness import assert_replays

from adamax_optax.paddle.optimizer import Adamax, lr
from adamax_optax.paddle.optimizer.adamax import _scaled

GOLDEN = pathlib.Path(__file__).parents[2] / "golden" / "paddle"
N = 10_000
TINY = np.float32(1.2e-38)  # XLA on the CPU flushes float32 subnormals to zero

SCHEDULE_FILES = sorted(
  p.stem
  for p in GOLDEN.glob("sched_*.npz")
  if p.stem != "sched_reduce_on_plateau"  # metric-driven: test_paddle_lr_plateau.py
)


def load(name):
  data = read_recording(GOLDEN / f"{name}.npz")
  return data, json.loads(str(data["meta"]))


def build(scheduler: str, kwargs: dict, horizon: int = N):
  cls = getattr(lr, scheduler.rsplit(".", 1)[1])
  kwargs = dict(kwargs)
  for key, value in kwargs.items():
    if isinstance(value, dict) and "scheduler" in value:
      kwargs[key] = build(value["scheduler"], value["kwargs"], horizon)
    elif key in ("lr_lambda", "scale_fn") and isinstance(value, str):
      kwargs[key] = eval(value)  # the recorded lambda's source, e.g. "lambda e: 0.999 ** e"
  if "horizon" in inspect.signature(cls).parameters:
    kwargs["horizon"] = horizon
  return cls(**kwargs)


def first_difference(got, want):
  bad = np.flatnonzero(got != want)
  return (
    f"first differing update {bad[0] + 1}: {got[bad[0]]!r} != {want[bad[0]]!r}" if bad.size else ""
  )


def jitted_values(schedule, n=N):
  return np.asarray(jax.jit(jax.vmap(schedule))(jnp.arange(n, dtype=jnp.int32)))


@pytest.mark.parametrize("name", SCHEDULE_FILES)
def test_golden_schedule_bit_for_bit(name):
  data, meta = load(name)
  schedule = build(meta["scheduler"], meta["scheduler_kwargs"])
  want = data["lr"][:, 0]
  doubles = np.array([schedule.value_at(n) for n in range(N)])
  assert np.array_equal(doubles, want), first_difference(doubles, want)
  got = jitted_values(schedule)
  # Subnormal float32 rates (exponential_0.3's and natural_exp_0.3's tails) included: the
  # table lookup copies them, nothing flushes them.
  want32 = want.astype(np.float32)
  assert got.dtype == np.float32
  assert np.array_equal(got.view(np.uint32), want32.view(np.uint32)), first_difference(got, want32)


@pytest.mark.parametrize(
  ("name", "multipliers"),
  [
    ("sched_groups_multiplier", [1.0, 0.5, 0.3, 2.0]),
    ("sched_paramattr_lr", [1.0, 2.0, 0.3]),  # ParamAttr(learning_rate=m) is a multiplier too
    ("sched_groups_paramattr", [1.0, 1.0, 0.5]),  # the group's value replaces ParamAttr's 2.0
  ],
)
def test_golden_multipliers_are_float32_products(name, multipliers):
  data, meta = load(name)
  schedule = build(meta["scheduler"], meta["scheduler_kwargs"])
  for j, multiplier in enumerate(multipliers):
    got = jitted_values(_scaled(schedule, multiplier))
    want = data["lr_kernel"][:, j]
    # StepDecay(0.02, 41, 0.3) reaches float32 subnormals after ~2800 updates; XLA's float32
    # multiply flushes a subnormal product to zero (multiplier 1.0 multiplies nothing and
    # keeps them), so values below 1.2e-38 are compared flushed.
    want = np.where(np.abs(want) < TINY, np.float32(0), want)
    got = np.where(np.abs(got) < TINY, np.float32(0), got)
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), (
      f"parameter {j}: " + first_difference(got, want)
    )


def run_trajectory(name, opt):
  data, _ = load(name)
  return assert_replays(opt, data, ("w", "b", "s"), name)


def paddle_trajectory_optimizer(name, horizon=400):
  _, meta = load(name)
  schedule = build(meta["scheduler"], meta["scheduler_kwargs"], horizon)
  kwargs = {k: v for k, v in meta["optimizer_kwargs"].items() if k != "grad_clip"}
  return Adamax(learning_rate=schedule, param_groups=meta["groups"], **kwargs)


@pytest.mark.parametrize("name", ["traj_step", "traj_warmup_cosine", "traj_group_wd_none"])
def test_golden_trajectory_bit_for_bit(name):
  assert run_trajectory(name, paddle_trajectory_optimizer(name)) == 300


@pytest.mark.parametrize(
  ("case", "scale_fn"),
  [("cycle", lambda x: 1 / (1.0 + x * 0.3)), ("iterations", lambda x: 0.9993**x)],
)
def test_cyclic_lr_with_a_scale_fn_is_paddles(case, scale_fn):
  """Recorded in Paddle 3.3.1 (gen_cyclic_scale_fn.py): 1,500 epochs, every value bit for
  bit (Paddle hands scale_fn the cycle as a float)."""
  data = read_recording(GOLDEN / "cyclic_scale_fn.npz")
  epochs = json.loads(str(data["meta"]))["epochs"]
  schedule = lr.CyclicLR(
    1e-3,
    0.1,
    step_size_up=41,
    step_size_down=7,
    scale_fn=scale_fn,
    scale_mode=case,
    horizon=epochs,
  )
  got = schedule.values_at(np.arange(epochs))
  want = data[f"{case}_lr"]
  assert np.array_equal(got.view(np.int64), want.view(np.int64))
