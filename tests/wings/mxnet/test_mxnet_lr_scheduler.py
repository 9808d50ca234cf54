"""MXNet's schedulers: every recorded MXNet schedule bit for bit, under jit, plus the rules."""

import json
import math
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from golden_data import read_recording

from adamax_optax.mxnet import lr_scheduler, optimizer
from adamax_optax.mxnet.lr_scheduler import (
  CosineScheduler,
  FactorScheduler,
  MultiFactorScheduler,
  PolyScheduler,
)

GOLDEN = pathlib.Path(__file__).parents[2] / "golden" / "mxnet"
SCHEDULE_FILES = sorted(p.name for p in GOLDEN.glob("mxnet[12]_sched_*.npz"))
CLASSES = {
  f"mxnet.lr_scheduler.{cls.__name__}": cls
  for cls in (CosineScheduler, FactorScheduler, MultiFactorScheduler, PolyScheduler)
}


def load(name):
  data = read_recording(GOLDEN / name)
  return data, json.loads(str(data["meta"]))


def optimizer_learning_rate(meta):
  """The optimizer's learning_rate: None, a number, or Adamax's default 0.002 (omitted)."""
  value = meta["optimizer_kwargs"].get("learning_rate")
  return 0.002 if isinstance(value, str) and value.startswith("OMITTED") else value


def first_difference(got, want):
  bad = np.flatnonzero(np.asarray(got) != np.asarray(want))
  return None if bad.size == 0 else (int(bad[0]), got[bad[0]], want[bad[0]], bad.size)


def assert_tables_equal(checks):
  """Each (what, schedule, counts, want64): value_at equals the double, and the float32
  values under jit (one compilation for all) equal its float32 rounding, at every count."""
  for what, schedule, counts, want64 in checks:
    doubles = np.array([schedule.value_at(int(c)) for c in counts])
    assert first_difference(doubles, want64) is None, (what, first_difference(doubles, want64))
  # The double reaches the step size as a float32 pair (48 bits), whose high part is the
  # float32 value checked here; the pair arithmetic itself is tested by the core.
  evaluate = jax.jit(lambda *cs: [jax.vmap(c[1])(x) for c, x in zip(checks, cs, strict=True)])
  results = evaluate(*(jnp.asarray(counts) for _, _, counts, _ in checks))
  for (what, _, _, want64), got in zip(checks, results, strict=True):
    got, want32 = np.asarray(got), want64.astype(np.float32)
    assert first_difference(got, want32) is None, (what, first_difference(got, want32))


@pytest.mark.parametrize("name", SCHEDULE_FILES)
def test_golden_schedule_bit_for_bit(name):
  data, meta = load(name)
  sched = CLASSES[meta["scheduler"]](**meta["scheduler_kwargs"])
  begin, n = meta["begin_num_update"], meta["n_steps"]
  counts = np.arange(begin, begin + n)  # optax counts; MXNet's num_update is count + 1
  used = data["lr"][:, 0]
  lr = optimizer_learning_rate(meta)
  direct = data.get("lr_direct", used)
  checks = [
    # (a) What the optimizer uses, also through the preset's resolution of its arguments.
    ("exact_schedule", sched.exact_schedule(begin, lr), counts, used),
    ("mxnet_adamax's schedule", optimizer._base_schedule(lr, sched, begin), counts, used),
    # (b) A fresh scheduler called directly with begin + 1, begin + 2, ...
    ("direct", sched.exact_schedule(begin), counts, direct),
  ]
  # (c) sched(num_update) under jit is the replay from 0 in order, which is the direct
  # call whenever it does not start past a poly/cosine max_update.
  if begin == 0 or isinstance(sched, (FactorScheduler, MultiFactorScheduler)):
    checks.append(("sched(num_update)", sched, counts + 1, direct))
  assert_tables_equal(checks)


def test_factor_decays_at_step_plus_one_for_steps_the_float_floor_got_wrong():
  # XLA's float reciprocal made floor((n - 1) / step) one update late for these steps.
  for step in (41, 47, 55, 61, 82):
    sched = FactorScheduler(step=step, factor=0.5, base_lr=1.0, horizon=20 * step)
    n = np.arange(1, 20 * step)
    got = np.asarray(jax.jit(jax.vmap(sched))(jnp.asarray(n)))
    np.testing.assert_array_equal(got, (0.5 ** ((n - 1) // step)).astype(np.float32))


def test_factor_is_repeated_multiplication_not_pow():
  sched = FactorScheduler(step=1, factor=0.97, base_lr=0.01, stop_factor_lr=0.0, horizon=500)
  value, differs = 0.01, 0
  for n in range(2, 500):
    value *= 0.97
    assert sched.value_at(n) == value
    differs += value != 0.01 * 0.97 ** (n - 1)
  assert differs > 0  # the closed form is not what MXNet computes


def test_factor_catches_up_after_warmup_and_stop_lifts_the_rate():
  sched = FactorScheduler(step=3, factor=0.5, base_lr=1.0, warmup_steps=7, warmup_begin_lr=0.3)
  assert [sched.value_at(n) for n in (6, 7, 9, 10)] == [0.3 + 0.7 * 6 / 7, 0.25, 0.25, 0.125]
  up = FactorScheduler(step=2, factor=0.9, base_lr=0.1, stop_factor_lr=0.5)
  assert [up.value_at(n) for n in (1, 2, 3, 100)] == [0.1, 0.1, 0.5, 0.5]
  assert up.exact_schedule().num_runs == 2


def test_multifactor_with_linear_warmup():
  sched = MultiFactorScheduler(
    step=[5, 9], factor=0.1, base_lr=1.0, warmup_steps=3, warmup_begin_lr=0.4
  )
  n = np.arange(1, 14)
  want = [0.4 + 0.6 * k / 3 if k < 3 else 1.0 * 0.1 ** sum(k > s for s in (5, 9)) for k in n]
  np.testing.assert_allclose(jax.jit(jax.vmap(sched))(n), want, rtol=1e-6)
  late = MultiFactorScheduler(step=[2, 20], factor=0.5, base_lr=1.0, warmup_steps=8)
  assert [late.value_at(n) for n in (7, 8, 20, 21)] == [7 / 8, 0.5, 0.5, 0.25]


def test_poly_and_cosine_hold_final_lr_after_max_update():
  poly = PolyScheduler(
    max_update=20,
    base_lr=1.0,
    pwr=2,
    final_lr=0.1,
    warmup_steps=4,
    warmup_mode="constant",
    warmup_begin_lr=0.05,
  )
  cosine = CosineScheduler(max_update=20, base_lr=1.0, final_lr=0.1)
  n = np.arange(1, 30)
  want_poly = [0.05 if k < 4 else 0.1 + 0.9 * (1 - (min(k, 20) - 4) / 16) ** 2 for k in n]
  want_cos = [0.1 + 0.9 * (1 + math.cos(math.pi * min(k, 20) / 20)) / 2 for k in n]
  np.testing.assert_allclose(jax.jit(jax.vmap(poly))(n), want_poly, rtol=1e-5)
  np.testing.assert_allclose(jax.jit(jax.vmap(cosine))(n), want_cos, rtol=1e-5, atol=1e-7)


def test_poly_and_cosine_started_past_max_update_return_base_lr_or_the_override():
  for sched in (PolyScheduler(max_update=10, base_lr=0.3), CosineScheduler(10, base_lr=0.3)):
    assert sched.exact_schedule(12).value_at(50) == 0.3
    assert sched.exact_schedule(12, learning_rate=0.2).value_at(50) == 0.2
    assert sched.exact_schedule(5, learning_rate=0.2).value_at(50) == 0.0
    assert sched.exact_schedule(12).num_runs == 1


def test_override_sets_base_lr_only():
  # The warmup ramps to the constructor's base_lr, the decay starts from the override.
  sched = FactorScheduler(step=4, factor=0.5, base_lr=1.0, warmup_steps=4)
  table = sched.exact_schedule(learning_rate=0.1)
  assert [table.value_at(c) for c in (2, 3, 4, 5)] == [0.75, 0.1, 0.05, 0.05]


def test_mxnet_signature_and_immutability():
  sched = FactorScheduler(10, 0.5, 1e-3, 0.1, 2, 0.01, "constant")
  assert (sched.step, sched.factor, sched.stop_factor_lr, sched.base_lr) == (10, 0.5, 1e-3, 0.1)
  assert (sched.warmup_steps, sched.warmup_begin_lr, sched.warmup_mode) == (2, 0.01, "constant")
  assert MultiFactorScheduler([3, 5], 0.1, 0.2).base_lr == 0.2
  assert PolyScheduler(100, 0.1, 3, 0.01).pwr == 3
  assert CosineScheduler(100, 0.1, 0.01).final_lr == 0.01
  assert sched == FactorScheduler(10, 0.5, 1e-3, 0.1, 2, 0.01, "constant")
  with pytest.raises(AttributeError, match="immutable"):
    sched.base_lr = 0.2
  assert isinstance(lr_scheduler.DEFAULT_HORIZON, int)


def test_past_the_horizon_the_rate_is_nan_unless_it_can_no_longer_change():
  sched = FactorScheduler(step=1, factor=0.5, base_lr=1.0, stop_factor_lr=0.0, horizon=10)
  table = sched.exact_schedule()
  assert table.value_at(9) == 0.5**9 and np.isnan(table.value_at(10**6))
  stopped = FactorScheduler(step=1, factor=0.5, base_lr=1.0, stop_factor_lr=0.25, horizon=10)
  assert stopped.exact_schedule().value_at(10**6) == 0.25  # fixed at stop_factor_lr


@pytest.mark.parametrize(
  "build, message",
  [
    (lambda: FactorScheduler(step=0), "step must be an int >= 1"),
    (lambda: FactorScheduler(step=2, factor=1.5), r"factor must be in \[0.0, 1.0\]"),
    (lambda: FactorScheduler(step=2, horizon=0), "horizon must be an int >= 1"),
    (lambda: MultiFactorScheduler(step=[5, 3]), "step must be strictly increasing"),
    (lambda: MultiFactorScheduler(step=[]), "step must be a non-empty list"),
    (lambda: PolyScheduler(max_update=0), "max_update must be an int >= 1"),
    (lambda: CosineScheduler(max_update=5, warmup_steps=9), "warmup_steps .9. must be below"),
    (lambda: PolyScheduler(max_update=5, warmup_steps=5), "warmup_steps .5. must be below"),
    (lambda: PolyScheduler(max_update=5, pwr=-1), r"pwr must be in \[0.0, inf\)"),
    (lambda: FactorScheduler(2, base_lr=0.1, warmup_begin_lr=0.5), "warmup_begin_lr .0.5. must"),
    (lambda: FactorScheduler(2, warmup_mode="cubic"), "warmup_mode must be 'linear' or 'const"),
    (lambda: FactorScheduler(2, warmup_steps=-1), "warmup_steps must be an int >= 0"),
    (lambda: FactorScheduler(2).exact_schedule(-1), "begin_num_update must be an int >= 0"),
  ],
)
def test_invalid_arguments(build, message):
  with pytest.raises(ValueError, match=message):
    build()
