"""mindspore.experimental.optim.lr_scheduler: every golden schedule file and two golden
trajectories (StepLR, SequentialLR warmup + cosine), bit for bit under jax.jit."""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from golden_data import read_recording
from harness import recorded_trajectory

from adamax_optax.mindspore.experimental.optim import lr_scheduler as L
from adamax_optax.mindspore.experimental.optim import mindspore_adamax

GOLDEN = pathlib.Path(__file__).resolve().parents[2] / "golden" / "mindspore"
GROUP_LRS = [0.01, 0.003, 0.05]  # the recorded optimizer's three groups
SCHEDULE_FILES = sorted(
  p.stem
  for p in GOLDEN.glob("ms_exp_sched_*.npz")
  if "reducelronplateau" not in p.stem  # metric-driven: not mirrored
)


def _load(name):
  f = read_recording(GOLDEN / f"{name}.npz")
  return f, json.loads(str(f["meta"]))


def _build(cls_path: str, kwargs: dict, horizon: int):
  cls = getattr(L, cls_path.rsplit(".", 1)[1])
  kwargs = dict(kwargs)
  if "lr_lambda" in kwargs:  # recorded as the lambdas' own source text
    kwargs["lr_lambda"] = [eval(src) for src in kwargs["lr_lambda"]]
  if "scale_fn" in kwargs:  # (likewise)
    kwargs["scale_fn"] = eval(kwargs["scale_fn"])
  if "schedulers" in kwargs:
    kwargs["schedulers"] = [_build(s["class"], s["kwargs"], horizon) for s in kwargs["schedulers"]]
  return cls(**kwargs, horizon=horizon)


def _first_difference(got, want):
  bad = np.flatnonzero(np.asarray(got).view(np.uint32) != np.asarray(want).view(np.uint32))
  return None if bad.size == 0 else (int(bad[0]), float(got[bad[0]]), float(want[bad[0]]))


@pytest.mark.parametrize("name", SCHEDULE_FILES)
def test_schedule_golden_bit_for_bit_under_jit(name):
  f, meta = _load(name)
  want = f["lr"]
  n = want.shape[0]
  sched = _build(meta["scheduler"], meta["scheduler_kwargs"], n)
  schedules = sched.group_schedules(GROUP_LRS)
  counts = jnp.arange(n)
  for g, schedule in enumerate(schedules):
    got = np.asarray(jax.jit(jax.vmap(schedule))(counts))
    assert got.dtype == np.float32
    assert _first_difference(got, want[:, g]) is None, (name, g, _first_difference(got, want[:, g]))
    # The host values are the same float32 numbers.
    assert schedule.value_at(n - 1) == float(want[n - 1, g])


def test_golden_schedules_hold_subnormals():
  """ExponentialLR(0.97) decays through subnormal float32 values; the table keeps them
  (they are constants gathered by index, not computed by XLA)."""
  f, meta = _load("ms_exp_sched_exponentiallr_0p97")
  want = f["lr"][:, 0]
  tiny = (want != 0) & (np.abs(want) < np.finfo(np.float32).tiny)
  assert tiny.any()
  sched = _build(meta["scheduler"], meta["scheduler_kwargs"], want.size)
  (schedule,) = sched.group_schedules(GROUP_LRS[:1])
  got = np.asarray(jax.jit(jax.vmap(schedule))(jnp.arange(want.size)))
  assert np.array_equal(got[tiny].view(np.uint32), want[tiny].view(np.uint32))


# --- trajectories -----------------------------------------------------------------------


def _assert_trajectory(got, f, keys, steps):
  """Bit for bit at every step (the recorded subnormal gradients of steps 90-91 leave no
  subnormal value in params, m or u here, so no flush-to-zero allowance is needed)."""
  for k in keys:
    for what in ("param", "m", "u"):
      want = f[f"{what}_{k}"][1 : steps + 1]
      have = np.stack(got[f"{what}_{k}"]).reshape(want.shape)
      same = have.view(np.uint32) == want.view(np.uint32)
      assert same.all(), (k, what, "first differing step", int(np.argwhere(~same)[0][0]) + 1)


def _exp_opt(meta, scheduler):
  groups = meta["groups"]
  return mindspore_adamax(
    lr=groups[0]["lr"],
    betas=tuple(meta["optimizer_kwargs"]["betas"]),
    eps=meta["optimizer_kwargs"]["eps"],
    param_groups=groups,
    lr_scheduler=scheduler,
  )


@pytest.mark.parametrize("name", ["ms_traj_exp_steplr", "ms_traj_exp_warmup_cosine"])
def test_trajectory_golden_bit_for_bit(name):
  f, meta = _load(name)
  steps, keys = meta["T"], meta["keys"]
  sched = _build(meta["scheduler"], meta["scheduler_kwargs"], steps)
  opt = _exp_opt(meta, sched)
  # The recorded lrs (read before each update) are the scheduler's.
  schedules = sched.group_schedules([group["lr"] for group in meta["groups"]])
  for g, schedule in enumerate(schedules):
    got = np.asarray(jax.vmap(schedule)(jnp.arange(steps)))
    assert _first_difference(got, f["lr"][:, g]) is None
  _assert_trajectory(recorded_trajectory(opt, f, keys, steps), f, keys, steps)


# --- the classes on their own -----------------------------------------------------------


def test_steplr_attached_through_the_preset_import_path():
  import adamax_optax

  assert adamax_optax.mindspore.experimental.optim.lr_scheduler.StepLR is L.StepLR
  opt = mindspore_adamax(lr=0.01, lr_scheduler=L.StepLR(step_size=2, gamma=0.5, horizon=10))
  params = {"w": jnp.ones(3)}
  state = opt.init(params)
  lrs = []
  for _ in range(5):
    updates, state = opt.update({"w": jnp.ones(3)}, state, params)
    # With unit gradients m / u grows; the first update is -lr exactly.
    lrs.append(float(updates["w"][0]))
  assert lrs[0] == -np.float32(0.01)


def test_as_plain_optax_schedule_needs_initial_lr():
  sched = L.ExponentialLR(gamma=0.5, horizon=4)
  with pytest.raises(ValueError, match="initial_lr"):
    sched(0)
  sched = L.ExponentialLR(gamma=0.5, initial_lr=2.0, horizon=4)
  assert [float(sched(n)) for n in range(4)] == [2.0, 1.0, 0.5, 0.25]
  assert np.isnan(sched(4)) and np.isnan(sched(5))  # past the horizon: NaN, not held


@pytest.mark.parametrize(
  ("build", "error"),
  [
    (lambda: L.StepLR(step_size=0), ValueError),
    (lambda: L.StepLR(step_size=2.0), TypeError),
    (lambda: L.StepLR(step_size=2, gamma=1), TypeError),
    (lambda: L.ExponentialLR(gamma=1), TypeError),
    (lambda: L.LinearLR(start_factor=0.0), ValueError),
    (lambda: L.LinearLR(end_factor=1.5), ValueError),
    (lambda: L.ConstantLR(factor=1.5), ValueError),
    (lambda: L.PolynomialLR(power=-1.0), ValueError),
    (lambda: L.PolynomialLR(power=1), TypeError),
    (lambda: L.MultiStepLR(milestones=(1, 2)), TypeError),
    (lambda: L.MultiStepLR(milestones=[1.0]), TypeError),
    (lambda: L.CosineAnnealingLR(T_max=0), ValueError),
    (lambda: L.CosineAnnealingWarmRestarts(T_0=0), ValueError),
    (lambda: L.CosineAnnealingWarmRestarts(T_0=2, T_mult=0), ValueError),
    (lambda: L.CyclicLR(0.1, 1.0, mode="bogus"), ValueError),
    (lambda: L.LambdaLR(3), TypeError),
    (lambda: L.SequentialLR([L.StepLR(2)], milestones=[3]), ValueError),
    (lambda: L.StepLR(2, last_epoch=5), ValueError),
    (lambda: L.StepLR(2, horizon=0), ValueError),
  ],
)
def test_validation(build, error):
  with pytest.raises(error):
    build()


def test_per_group_lists_must_match_the_groups():
  sched = L.LambdaLR([lambda e: 1.0, lambda e: 0.5], horizon=4)
  with pytest.raises(ValueError, match="3 parameter groups"):
    sched.group_schedules([0.1, 0.2, 0.3])
  with pytest.raises(TypeError, match="number"):
    mindspore_adamax(lr=optax.constant_schedule(0.1), lr_scheduler=L.StepLR(2, horizon=4))


# --- ReduceLROnPlateau ------------------------------------------------------------------


def _plateau(meta):
  kw = dict(meta["scheduler_kwargs"])
  return L.ReduceLROnPlateau(**kw)


def _plateau_lrs(sched, metric, tables):
  """The lr of every update from the recorded metrics, the state advanced under jit."""
  from adamax_optax import _double_float as df
  from adamax_optax.schedules import PlateauState, plateau_counters

  zero = jnp.zeros([], jnp.int32)
  state = PlateauState(zero, df.from_number(sched.initial_best()), plateau_counters(0, 0, 0), None)

  def body(state, m):
    state = sched.advance(state, df.DoubleFloat(m, jnp.zeros_like(m)))
    return state, state.reductions

  # Update 1 runs before any metric; update t+1 follows scheduler.step(metric[t-1]).
  _, reductions = jax.jit(lambda ms: jax.lax.scan(body, state, ms))(
    jnp.asarray(metric[:-1], jnp.float32)
  )
  reductions = jnp.concatenate([jnp.zeros(1, jnp.int32), reductions])
  return [np.asarray(jax.jit(jax.vmap(t))(reductions)) for t in tables], np.asarray(reductions)


@pytest.mark.parametrize(
  "name", ["ms_exp_sched_reducelronplateau", "ms_exp_sched_reducelronplateau_abs"]
)
def test_reduce_on_plateau_golden_bit_for_bit(name):
  f, meta = _load(name)
  sched = _plateau(meta)
  tables = sched.reduction_tables(GROUP_LRS)
  got, reductions = _plateau_lrs(sched, f["metric"], tables)
  assert reductions[-1] > 10  # the file exercises many reductions
  for g in range(3):
    assert _first_difference(got[g], f["lr"][:, g]) is None, (
      g,
      _first_difference(got[g], f["lr"][:, g]),
    )


def test_reduce_on_plateau_through_the_preset():
  f, meta = _load("ms_exp_sched_reducelronplateau")
  sched = _plateau(meta)
  opt = mindspore_adamax(
    lr=0.02,
    param_groups=[{"params": [f"p{g}"], "lr": lr} for g, lr in enumerate(GROUP_LRS)],
    lr_scheduler=sched,
  )
  _, want = _plateau_lrs(sched, f["metric"], sched.reduction_tables(GROUP_LRS))
  params = {f"p{g}": jnp.full((1,), 0.5, jnp.float32) for g in range(3)}
  grads = {k: jnp.full((1,), 0.1, jnp.float32) for k in params}
  state = opt.init(params)
  steps = 520  # past the first reduction
  for t in range(steps):
    _, state = opt.update(grads, state, params, value=float(f["metric"][t - 1]) if t else 0.0)
    assert int(state.reductions) == want[t], t
  assert want[steps - 1] >= 1


def test_scheduler_every_steps_once_per_epoch():
  sched = L.StepLR(step_size=1, gamma=0.5, horizon=8)
  (schedule,) = sched.group_schedules([1.0], every=3)
  got = np.asarray(jax.jit(jax.vmap(schedule))(jnp.arange(9)))
  assert got.tolist() == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
  assert schedule.value_at(7) == 0.25
