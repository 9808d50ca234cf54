"""paddle.optimizer.lr.ReduceOnPlateau: the recorded Paddle run, and the optimizer's plumbing."""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from golden_data import read_recording

from adamax_optax import _double_float as df
from adamax_optax.paddle.optimizer import Adamax, lr
from adamax_optax.schedules import ExactSchedule, metric_value

GOLDEN = pathlib.Path(__file__).parents[2] / "golden" / "paddle" / "sched_reduce_on_plateau.npz"


def golden():
  data = read_recording(GOLDEN)
  meta = json.loads(str(data["meta"]))
  return lr.ReduceOnPlateau(**meta["scheduler_kwargs"]), data["lr"][:, 0], data["metric"]


def paddle_order(metric):
  """``value`` at update t (1 first) is the metric Paddle's step got after update t - 1."""
  return np.concatenate([metric[:1], metric[:-1]])  # the first value is not read


def rates_seen(plateau, values):
  """The float32 rate of every update: ``as_transformation`` on unit updates, scanned."""
  opt = plateau.as_transformation(flip_sign=False)

  def body(state, value):
    updates, state = opt.update(jnp.ones(()), state, value=value)
    return state, (updates, state.reductions)

  run = jax.jit(lambda v: jax.lax.scan(body, opt.init(jnp.ones(())), v)[1])
  rates, reductions = run(values)
  return np.asarray(rates), np.asarray(reductions)


def test_golden_bit_for_bit():
  plateau, want, metric = golden()
  values = paddle_order(metric)
  pairs = df.DoubleFloat(*(jnp.asarray(x) for x in zip(*map(metric_value, values), strict=True)))
  rates, reductions = rates_seen(plateau, pairs)
  doubles = np.asarray(plateau.levels)[reductions]
  bad = np.flatnonzero(doubles != want)
  assert not bad.size, f"first differing update {bad[0] + 1}: {doubles[bad[0]]} != {want[bad[0]]}"
  assert np.array_equal(rates.view(np.uint32), want.astype(np.float32).view(np.uint32))
  assert len(np.unique(want)) > 5  # the recording does reduce several times


def test_golden_with_float32_metrics():
  # The recorded metrics rounded to float32: on this recording the rates are still
  # Paddle's at every step (a float32 metric is itself compared exactly).
  plateau, want, metric = golden()
  _, reductions = rates_seen(plateau, jnp.asarray(paddle_order(metric), jnp.float32))
  assert np.array_equal(np.asarray(plateau.levels)[reductions], want)


def test_the_optimizer_uses_the_plateau_rate():
  plateau = lr.ReduceOnPlateau(0.01, factor=0.5, patience=1, cooldown=1, min_lr=1e-3)
  rng = np.random.default_rng(0)
  grads = rng.normal(size=(40, 5)).astype(np.float32)
  metrics = np.concatenate([np.linspace(1, 0.5, 5), np.full(35, 0.5)]).astype(np.float32)
  _, reductions = rates_seen(plateau, jnp.asarray(metrics))
  table = ExactSchedule(np.asarray(plateau.levels)[reductions])
  assert table.num_runs > 3

  def run(opt, **extra):
    params = {"w": jnp.ones(5), "b": jnp.zeros(5)}
    state = opt.init(params)
    step = jax.jit(lambda p, s, g, **kw: opt.update(g, s, p, **kw))
    out = []
    for t in range(40):
      g = {"w": jnp.asarray(grads[t]), "b": jnp.asarray(grads[t][::-1])}
      updates, state = step(params, state, g, **{k: v[t] for k, v in extra.items()})
      params = optax.apply_updates(params, updates)
      out.append(params)
    return out

  groups = [{"params": ["b"], "learning_rate": 3.0}]
  got = run(Adamax(plateau, weight_decay=0.01, param_groups=groups), value=metrics)
  want = run(Adamax(table, weight_decay=0.01, param_groups=groups))
  for a, b in zip(got, want, strict=True):
    for k in a:
      assert np.array_equal(np.asarray(a[k]), np.asarray(b[k]))


def test_lr_scheduler_every_steps_once_an_epoch():
  schedule = lr.StepDecay(1.0, step_size=1, gamma=0.5, horizon=10)
  opt = Adamax(schedule, lr_scheduler_every=3)
  w = jnp.ones(1)
  state, rates = opt.init(w), []
  for _ in range(7):
    updates, state = opt.update(jnp.ones(1), state, w)
    rates.append(float(updates[0]))
  np.testing.assert_allclose(rates, [-1, -1, -1, -0.5, -0.5, -0.5, -0.25], rtol=1e-6)


def test_missing_metric():
  opt = Adamax(lr.ReduceOnPlateau(0.1))
  g = jnp.ones(2)
  with pytest.raises(ValueError, match="pass it to every update"):
    opt.update(g, opt.init(g), g)


@pytest.mark.parametrize(
  ("kwargs", "match"),
  [
    (dict(mode="x"), "^mode: x is unknown!$"),
    (dict(factor=1.0), r"gamma should be < 1\.0"),
    (dict(threshold_mode="x"), "^threshold mode: x is unknown!$"),
    (dict(patience=-1), "patience must be an int >= 0"),
    (dict(min_lr=-1.0), "min_lr must be >= 0"),
  ],
)
def test_validation(kwargs, match):
  with pytest.raises(ValueError, match=match):
    lr.ReduceOnPlateau(0.1, **kwargs)


FLOAT32_METRICS = GOLDEN.with_name("plateau_float32_metrics.npz")


def float32_metric_cases():
  meta = json.loads(str(read_recording(FLOAT32_METRICS)["meta"]))
  return list(meta["cases"])


@pytest.mark.parametrize("case", float32_metric_cases())
def test_float32_metrics_compare_as_paddle_compares_them(case):
  """Recorded in Paddle 3.3.1: metrics passed as float32 Tensors or np.float32, each
  picked to fall between the float32 and the double bound; and the same kind of run with
  Python floats. Every step's rate, best, bad epochs and cooldown, bit for bit."""
  data = read_recording(FLOAT32_METRICS)
  settings = json.loads(str(data["meta"]))["cases"][case]
  dtype = "float64" if settings["metric"] == "float" else "float32"
  plateau = lr.ReduceOnPlateau(
    settings["learning_rate"],
    mode=settings["mode"],
    factor=settings["factor"],
    patience=settings["patience"],
    threshold=settings["threshold"],
    threshold_mode=settings["threshold_mode"],
    cooldown=settings["cooldown"],
    metrics_dtype=dtype,
  )
  opt = plateau.as_transformation()

  def body(state, metric):
    _, state = opt.update(jnp.ones(()), state, value=metric)
    return state, state

  metrics = jnp.asarray(data[f"{case}_metrics"], jnp.float32)
  # The update at count t + 1 reads step t's metric (count 0 reads none), and after it
  # the bookkeeping is Paddle's after step t.
  _, states = jax.jit(lambda m: jax.lax.scan(body, opt.init(jnp.ones(())), m))(
    jnp.concatenate([metrics[:1], metrics])
  )
  seen = jax.tree.map(lambda x: np.asarray(x)[1:], states)
  got = {
    "lr": np.asarray(plateau.levels)[seen.reductions],
    "best": seen.best.hi.astype(np.float64) + seen.best.lo.astype(np.float64),
    "bad": seen.num_bad_epochs,
    "cooldown": seen.cooldown_counter,
  }
  for key, values in got.items():
    want = data[f"{case}_{key}"]
    differ = np.flatnonzero(values != want)
    assert not differ.size, (
      f"{case} {key}: first differing step {differ[0]}: {values[differ[0]]} != {want[differ[0]]}"
    )
  assert settings["split_steps"] > 50  # steps the two comparisons judge differently


def test_float64_comparisons_miss_float32_metrics():
  """The float32 run replayed with doubles takes another branch (why the keyword exists)."""
  data = read_recording(FLOAT32_METRICS)
  plateau = lr.ReduceOnPlateau(0.1, factor=0.9, patience=2, cooldown=1)
  _, reductions = rates_seen(
    plateau, jnp.asarray(paddle_order(data["min_rel_tensor_metrics"]), jnp.float32)
  )
  want = data["min_rel_tensor_lr"]
  assert not np.array_equal(np.asarray(plateau.levels)[reductions[1:]], want[:-1])


def test_metrics_dtype_is_checked():
  with pytest.raises(ValueError, match="metrics_dtype must be 'float64'"):
    lr.ReduceOnPlateau(0.1, metrics_dtype="half")
