"""keras.optimizers.schedules: Keras 3's recorded learning rates and trajectories, bit for bit.

Golden data: tests/golden/keras/ (Keras 3.15.1, JAX backend, CPU). ``lr`` is Keras's eager
value (what our default reproduces), ``lr_jit`` the value inside Keras's jitted train step
(what ``jit_compile=True`` reproduces). Ours are evaluated under ``jax.jit``.
"""

import json
import math
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from golden_data import read_recording
from harness import replay_recording

import adamax_optax
from adamax_optax.keras.optimizers import keras_adamax, schedules

GOLDEN = pathlib.Path(__file__).resolve().parents[2] / "golden" / "keras"
SCHEDULE_CASES = sorted(p.stem[len("keras_sched_") :] for p in GOLDEN.glob("keras_sched_*.npz"))
TINY = np.float32(1.2e-38)  # below this XLA on the CPU may flush what Keras keeps
# The golden values are Keras's on the CPU: XLA's cos, pow and log (and its fusion
# decisions) differ on other backends, for Keras as for us.
CPU_ONLY = pytest.mark.skipif(
  jax.default_backend() != "cpu", reason="golden values recorded with XLA on the CPU"
)


def load(name):
  data = read_recording(GOLDEN / f"{name}.npz")
  return data, json.loads(str(data["meta"]))


def build(meta, **kwargs):
  cls = getattr(schedules, meta["scheduler"].rsplit(".", 1)[-1])
  return cls(**meta["scheduler_kwargs"], **kwargs)


def first_difference(got, want, steps=None):
  """``None`` when the float32 bits agree (NaN = NaN), else a message with the first step."""
  got = np.asarray(got, np.float32).ravel()
  want = np.asarray(want, np.float32).ravel()
  assert got.shape == want.shape
  differ = (got.view(np.uint32) != want.view(np.uint32)) & ~(np.isnan(got) & np.isnan(want))
  bad = np.flatnonzero(differ)
  if bad.size == 0:
    return None
  i = bad[0]
  step = i if steps is None else int(steps[i])
  return f"{bad.size} steps differ; first: step {step}, ours {got[i]!r}, Keras {want[i]!r}"


def by_vmap(schedule, steps):
  return jax.jit(jax.vmap(schedule))(jnp.asarray(steps, jnp.int32))


def by_scan(schedule, steps):
  """One scalar step per loop iteration, as inside a training loop."""
  body = lambda carry, step: (carry, schedule(step))
  return jax.jit(lambda s: jax.lax.scan(body, 0, s)[1])(jnp.asarray(steps, jnp.int32))


@CPU_ONLY
@pytest.mark.parametrize("case", SCHEDULE_CASES)
def test_default_reproduces_keras_eager_values(case):
  data, meta = load(f"keras_sched_{case}")
  schedule = build(meta)
  want = data["lr"][:, 0]
  steps = np.arange(want.size)
  assert (message := first_difference(by_vmap(schedule, steps), want)) is None, message
  assert (message := first_difference(by_scan(schedule, steps), want)) is None, message
  if "lr_direct" in data:  # sched(step) called eagerly by Keras, up to step 9999
    direct = data["direct_steps"]
    got = by_vmap(schedule, direct)
    assert (message := first_difference(got, data["lr_direct"][:, 0], direct)) is None, message


@CPU_ONLY
@pytest.mark.parametrize("case", SCHEDULE_CASES)
def test_jit_compile_reproduces_keras_model_fit_values(case):
  data, meta = load(f"keras_sched_{case}")
  schedule = build(meta, jit_compile=True)
  want = data["lr_jit"][:, 0]
  steps = np.arange(want.size)
  assert (message := first_difference(by_scan(schedule, steps), want)) is None, message
  assert (message := first_difference(by_vmap(schedule, steps), want)) is None, message


@CPU_ONLY
@pytest.mark.parametrize(
  "case", ["cosine_warmup_from_0p001", "restarts_fd7", "poly_p0.5_nocycle", "exp_ds41_r0.3_stair"]
)
def test_eager_calls_and_compile_time_steps_give_keras_eager_values(case):
  # Called outside jit (op by op, as Keras eagerly), and under jit with the step a
  # compile-time constant (which XLA could otherwise fold with other arithmetic).
  data, meta = load(f"keras_sched_{case}")
  schedule = build(meta)
  want = data["lr"][:, 0]
  steps = [0, 1, 6, 7, 40, 41, 42, 268, 299, 300, 301, 500]
  eager = [schedule(step) for step in steps]
  folded = jax.jit(lambda: jnp.stack([schedule(step) for step in steps]))()
  assert (message := first_difference(eager, want[steps], steps)) is None, message
  assert (message := first_difference(folded, want[steps], steps)) is None, message


KEYS = ("w", "b", "s")


def trajectory_optimizer(meta, exact_apply=False):
  """keras_adamax with the recorded kwargs, our schedule for Keras's, in the recorded mode
  (eager ``opt.apply``, or ``stateless_apply`` inside ``jax.jit`` as ``model.fit``)."""
  opt_kwargs = meta["optimizer_kwargs"]
  return keras_adamax(
    learning_rate=build(meta),
    beta_1=opt_kwargs["beta_1"],
    beta_2=opt_kwargs["beta_2"],
    epsilon=opt_kwargs["epsilon"],
    weight_decay=opt_kwargs["weight_decay"],
    jit_compile=meta["mode"] == "jit",
    exact_apply=exact_apply,
  )


# How the replays apply the updates: the default differences with optax.apply_updates
# (exact within a factor of two, see far_moves), or exact_apply's new values.
APPLY = pytest.mark.parametrize(
  ("exact_apply", "apply"),
  [(False, optax.apply_updates), (True, adamax_optax.apply_updates)],
  ids=["optax_apply", "exact_apply"],
)


def differing(got, want):
  """Where the bits differ (NaN = NaN; both below 1.2e-38 counts as equal: XLA on the
  CPU flushes subnormals to zero, Keras's eager kernels too, so this never triggers here)."""
  got, want = np.asarray(got, np.float32), np.asarray(want, np.float32)
  tiny = (np.abs(got) < TINY) & (np.abs(want) < TINY)
  return (got.view(np.uint32) != want.view(np.uint32)) & ~(np.isnan(got) & np.isnan(want)) & ~tiny


def far_moves(data, key):
  """(updates, *shape): update t takes the weight outside [w/2, 2w] (sign changes included).

  There ``optax.apply_updates`` cannot reproduce Keras's weight exactly: the update is
  returned as ``new - old`` in float32, which is exact only within a factor of two
  (see ``adamax_optax.add_decoupled_weight_decay``); the weight is then off by at most
  the rounding of that difference.
  """
  old, new = data[f"param_{key}"][:-1], data[f"param_{key}"][1:]
  with np.errstate(all="ignore"):
    ratio = new / old
  return ~((ratio >= 0.5) & (ratio <= 2.0))


TRAJECTORIES = [
  "keras_traj_expdecay_stair_eager",
  "keras_traj_cosine_warmup_eager",
  "keras_traj_expdecay_stair_jit",
  "keras_traj_cosine_warmup_jit",
  "keras_traj_restarts_eager",  # CosineDecayRestarts, 600 updates
  "keras_traj_restarts_jit",
]


@CPU_ONLY
@APPLY
@pytest.mark.parametrize("name", TRAJECTORIES)
def test_adamax_closed_loop_with_schedule(name, exact_apply, apply):
  # keras_adamax(learning_rate=<schedule>, weight_decay=0.004), one group (w, b, s), the
  # recorded gradients fed for every recorded update (300 or 600), one jitted opt.update
  # + apply per update. m and u: bit for bit at every update. Weights: with exact_apply,
  # bit for bit at every update for every element; with optax.apply_updates, each
  # element up to the first update that moves it by more than a factor of two (all
  # updates for most), every update of every element being checked from Keras's state in
  # the next test.
  data, meta = load(name)
  updates = data["grad_w"].shape[0]
  exact_until = {}  # per element: updates 1..exact_until are compared
  for key in KEYS:
    far = far_moves(data, key) & (not exact_apply)
    exact_until[key] = np.where(far.any(axis=0), far.argmax(axis=0), updates)
  opt = trajectory_optimizer(meta, exact_apply)
  for t, params, state in replay_recording(opt, data, KEYS, updates, apply=apply):
    m, u, count = adamax_optax.moments(state)
    assert count == t
    for key in KEYS:
      for what, got in (("m", m[key]), ("u", u[key])):
        bad = differing(got, data[f"{what}_{key}"][t])
        assert not bad.any(), f"{what}_{key} differs after update {t}"
      bad = differing(params[key], data[f"param_{key}"][t]) & (t <= exact_until[key])
      assert not bad.any(), f"param_{key} differs after update {t} at {np.argwhere(bad)[0]}"


@CPU_ONLY
@APPLY
@pytest.mark.parametrize("name", TRAJECTORIES)
def test_adamax_every_update_from_the_recorded_state(name, exact_apply, apply):
  # Update t from Keras's recorded weights and moments after update t - 1 (all at once,
  # vmapped, jitted): the new weights are Keras's bit for bit; with
  # optax.apply_updates, except where the update moves a weight by more than a factor of
  # two (see far_moves): there within the rounding of that difference.
  data, meta = load(name)
  opt = trajectory_optimizer(meta, exact_apply)

  def one_update(params, mu, nu, count, grads):
    # load_state wants a concrete step: load at 0, then set every count to the traced one
    state = adamax_optax.load_state(opt, params, mu=mu, nu=nu, step=0)
    state = jax.tree.map(lambda x: count if x.dtype == jnp.int32 and x.ndim == 0 else x, state)
    updates, _ = opt.update(grads, state, params)
    return apply(params, updates)

  def rows(prefix, rows):
    return {k: data[f"{prefix}_{k}"][rows] for k in KEYS}

  updates = data["grad_w"].shape[0]
  before = slice(0, updates)
  got = jax.jit(jax.vmap(one_update))(
    rows("param", before),
    rows("m", before),
    rows("u", before),
    jnp.arange(updates),
    rows("grad", before),
  )
  for key in KEYS:
    want = data[f"param_{key}"][1:]
    bad = differing(got[key], want)
    far = far_moves(data, key) & (not exact_apply)
    assert not (bad & ~far).any(), f"param_{key}: first at {np.argwhere(bad & ~far)[0]}"
    # the float32 rounding of new - old, at most half an ulp of the larger of the two
    old = data[f"param_{key}"][:-1]
    bound = np.spacing(np.maximum(np.abs(old), np.abs(want)))
    error = np.abs(np.asarray(got[key], np.float64) - want.astype(np.float64))
    assert (error[bad] <= bound[bad]).all(), f"param_{key}: off by more than the rounding"


@CPU_ONLY
@pytest.mark.parametrize(
  ("name", "jit_compile"),
  [
    ("keras_traj_expdecay_stair_eager", False),
    ("keras_traj_cosine_warmup_eager", False),
    ("keras_traj_expdecay_stair_jit", True),
    ("keras_traj_cosine_warmup_jit", True),
    ("keras_traj_restarts_eager", False),
    ("keras_traj_restarts_jit", True),
  ],
)
def test_trajectory_learning_rates(name, jit_compile):
  # The lr each recorded update used (and each weight-decay read, lr_wd), eager and jit.
  data, meta = load(name)
  schedule = build(meta, jit_compile=jit_compile)
  got = by_scan(schedule, np.arange(data["lr"].shape[0]))
  assert (message := first_difference(got, data["lr"][:, 0])) is None, message
  for column in range(3):
    want = data["lr_wd"][:, column]
    assert (message := first_difference(got, want)) is None, message


def test_schedule_drives_keras_adamax_with_the_raw_iteration_count():
  # Update t (1-based) uses schedule(t - 1), as Keras reads opt.iterations.
  schedule = schedules.PiecewiseConstantDecay([0], [0.5, 0.25])
  opt = keras_adamax(learning_rate=schedule, beta_1=0.0, epsilon=0.0)
  w = jnp.zeros(1)
  state = opt.init(w)
  steps = []
  for _ in range(2):
    updates, state = opt.update(jnp.ones(1), state, w)
    steps.append(float(updates[0]))
  assert steps == [-0.5, -0.25]


def test_import_path_and_optax_use():
  from adamax_optax.keras.optimizers.schedules import ExponentialDecay

  assert adamax_optax.keras.optimizers.schedules.ExponentialDecay is ExponentialDecay
  schedule = ExponentialDecay(0.1, 10, 0.5)
  chained = optax.inject_hyperparams(optax.sgd)(learning_rate=schedule)
  params = jnp.ones(2)
  state = chained.init(params)
  _, state = chained.update(jnp.ones(2), state, params)
  assert float(state.hyperparams["learning_rate"]) == np.float32(0.1)


@pytest.mark.parametrize(
  "schedule",
  [
    schedules.ExponentialDecay(0.02, 41, 0.3, staircase=True),
    schedules.PiecewiseConstantDecay([7, 41], [0.02, 0.01, 0.005]),
    schedules.PolynomialDecay(0.02, 300, power=0.5, cycle=True),
    schedules.InverseTimeDecay(0.02, 41, 0.5),
    schedules.CosineDecay(0.0, 259, alpha=0.005, warmup_target=0.02, warmup_steps=41),
    schedules.CosineDecayRestarts(0.02, 41, m_mul=0.9, jit_compile=True),
  ],
  ids=lambda s: type(s).__name__,
)
def test_config_round_trip(schedule):
  config = schedule.get_config()
  clone = type(schedule).from_config(config)
  assert clone.get_config() == config
  steps = np.arange(400)
  np.testing.assert_array_equal(by_vmap(clone, steps), by_vmap(schedule, steps))
  assert repr(schedule).startswith(type(schedule).__name__ + "(")


def test_keras_defaults_and_names():
  assert schedules.PolynomialDecay(0.1, 10).get_config()["end_learning_rate"] == 0.0001
  assert schedules.PolynomialDecay(0.1, 10).power == 1.0
  assert schedules.CosineDecay(0.1, 10).alpha == 0.0
  assert schedules.CosineDecay(0.1, 10).warmup_target is None
  restarts = schedules.CosineDecayRestarts(0.1, 10).get_config()
  assert (restarts["t_mul"], restarts["m_mul"], restarts["alpha"]) == (2.0, 1.0, 0.0)
  assert restarts["name"] == "SGDRDecay"
  assert schedules.PiecewiseConstantDecay([1], [1.0, 0.5]).name == "PiecewiseConstant"


def test_formulas_away_from_the_recorded_cases():
  steps = np.arange(0, 500, 3)
  lr = np.asarray(by_vmap(schedules.InverseTimeDecay(0.1, 7, 0.3, staircase=True), steps))
  np.testing.assert_allclose(lr, 0.1 / (1 + 0.3 * np.floor(steps / 7)), rtol=1e-6)
  lr = np.asarray(by_vmap(schedules.CosineDecayRestarts(0.1, 10, t_mul=1.5, m_mul=0.8), steps))
  want = []
  for step in steps:
    i = math.floor(math.log(1 - step / 10 * (1 - 1.5)) / math.log(1.5))
    fraction = (step / 10 - (1 - 1.5**i) / (1 - 1.5)) / 1.5**i
    want.append(0.1 * 0.8**i * 0.5 * (1 + math.cos(math.pi * fraction)))
  np.testing.assert_allclose(lr, want, rtol=2e-5, atol=1e-7)


@pytest.mark.parametrize(
  ("build_it", "error", "match"),
  [
    (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), ValueError, r"decay_steps must be in \(0"),
    (lambda: schedules.InverseTimeDecay(0.1, -3, 0.5), ValueError, r"decay_steps must be in \(0"),
    (lambda: schedules.PolynomialDecay(0.1, 0), ValueError, r"decay_steps must be in \(0"),
    (lambda: schedules.CosineDecay(0.1, 0), ValueError, r"decay_steps must be in \(0"),
    (
      lambda: schedules.CosineDecayRestarts(0.1, 0),
      ValueError,
      r"first_decay_steps must be in \(0",
    ),
    (lambda: schedules.CosineDecayRestarts(0.1, 5, t_mul=0.0), ValueError, r"t_mul must be in"),
    (lambda: schedules.CosineDecay(0.1, 5, warmup_steps=-1), ValueError, "warmup_steps must be"),
    (lambda: schedules.ExponentialDecay("0.1", 5, 0.5), TypeError, "initial_learning_rate must"),
    (lambda: schedules.ExponentialDecay(math.nan, 5, 0.5), ValueError, "must be a finite"),
    (
      lambda: schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5]),
      ValueError,
      "length of boundaries should be 1 less",
    ),
    (
      lambda: schedules.PiecewiseConstantDecay([5, 2], [1.0, 0.5, 0.1]),
      ValueError,
      "boundaries must be strictly increasing",
    ),
  ],
)
def test_validation_names_the_argument(build_it, error, match):
  with pytest.raises(error, match=match):
    build_it()
