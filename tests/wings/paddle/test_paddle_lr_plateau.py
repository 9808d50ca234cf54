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
