"""The double-precision step size ``f32(lr / (1 - b1**t))`` against Python doubles.

A numeric b1 and a numeric lr read the step size from a table the host computed in
doubles (exact by construction), and so does an exact schedule's double lr. Otherwise
(a traced lr or b1, a b1 too close to 1 for a table) the power and the division run in
float32 pairs: within one float32 ulp, equal except near a rounding boundary.
"""

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adamax_optax import _double_float as df
from adamax_optax.scale_by_adamax import (
  _MAX_TABLE_STEPS,
  _bias_correction_table,
  _bias_corrections,
  _float64_step_size,
  _scheduled_step_sizes,
)
from adamax_optax.schedules import ExactSchedule

step_sizes = jax.jit(jax.vmap(_float64_step_size, in_axes=(None, None, 0)), static_argnums=(0, 1))


def python_double(lr, b1, t):
  return np.float32(lr / (1.0 - b1 ** int(t)))


# b1 as a pair the step traces (inject_hyperparams, an exact b1 schedule).
traced_b1_step_sizes = jax.jit(
  jax.vmap(
    lambda lr, hi, lo, t: _float64_step_size(lr, df.DoubleFloat(hi, lo), t),
    in_axes=(None, None, None, 0),
  ),
  static_argnums=0,
)


def step_sizes_by(path, lr, b1, ts):
  """The step sizes computed by ``path``: numbers (the step-size table), pairs (the
  power in pairs, squares on the host), or a traced pair b1 (the power in pairs, in a
  loop)."""
  if path == "table":
    return np.asarray(step_sizes(lr, b1, ts))
  if path == "double_float":
    return np.asarray(step_sizes(df.constant(lr), df.constant(b1), ts))
  return np.asarray(traced_b1_step_sizes(lr, *df.constant(b1), ts))


PATHS = ["table", "double_float", "traced_b1"]


@pytest.mark.parametrize("path", PATHS)
def test_every_step_of_common_settings_matches_python(path):
  ts = np.arange(1, 20001, dtype=np.int32)
  # (1.0, 0.999): at t=833 the squares of b1 rounded with fused multiply-adds gave
  # one float32 ulp less than Python.
  for lr, b1 in [(0.002, 0.9), (0.01, 0.999), (3e-4, 0.99), (0.1, 0.5), (1.0, 0.999)]:
    got = step_sizes_by(path, lr, b1, ts)
    want = np.array([python_double(lr, b1, t) for t in ts])
    np.testing.assert_array_equal(got, want, err_msg=f"{path}: lr={lr}, b1={b1}")


@settings(max_examples=25, deadline=None)  # every example compiles: lr and b1 are static
@given(
  lr=st.floats(1e-6, 1.0),
  b1=st.floats(0.0, 0.9999),
  t=st.integers(1, 2**31 - 1),
)
def test_numbers_are_exact_and_pairs_within_one_ulp(lr, b1, t):
  want = python_double(lr, b1, t)
  ulps = lambda got: abs(int(got.view(np.int32)) - int(want.view(np.int32)))
  tabulated = _bias_correction_table(b1, lr) is not None
  for path in PATHS:
    got = step_sizes_by(path, lr, b1, np.array([t], np.int32))[0]
    assert ulps(got) <= (0 if path == "table" and tabulated else 1), path


@pytest.mark.parametrize("b1", [0.0, 0.5, 0.9, 0.999])
def test_table_ends_where_the_double_reaches_one(b1):
  doubles, steps = _bias_corrections(b1), _bias_correction_table(b1, 0.5)
  assert doubles.shape == steps.shape == _bias_correction_table(b1).shape
  assert (doubles[-1], steps[-1]) == (1.0, 0.5)
  assert len(doubles) == 2 or doubles[-2] < 1.0
  np.testing.assert_array_equal(doubles[1:], [1.0 - b1 ** float(t) for t in range(1, len(doubles))])
  # A count past the table's end (here the saturated int32 count) reads its last entry.
  last = np.asarray(step_sizes(0.5, b1, np.array([len(steps) + 7, 2**31 - 1], np.int32)))
  np.testing.assert_array_equal(last, [0.5, 0.5])


def test_b1_too_close_to_one_for_a_table_uses_pairs():
  assert _bias_correction_table(0.9999, 1e-3) is None  # 1 - b1**t < 1 past 2**16 steps
  assert _bias_corrections(0.9999) is None
  assert len(_bias_correction_table(0.9994, 1e-3)) <= _MAX_TABLE_STEPS + 1
  t = np.array([1, 10, 100_000], np.int32)
  want = np.array([python_double(1e-3, 0.9999, x) for x in t])
  got = np.asarray(step_sizes(1e-3, 0.9999, t))
  assert np.all(np.abs(got.view(np.int32).astype(np.int64) - want.view(np.int32)) <= 1)


@pytest.mark.parametrize("b1", [0.5, 0.9, 0.999])
def test_an_exact_schedule_divided_by_the_table_matches_python(b1):
  # The step sizes of an exact schedule's doubles: one host table while 1 - b1**t < 1,
  # the schedule's float32 value after, past the schedule's own horizon too.
  schedule = ExactSchedule(np.cos(np.arange(5000) / 800) * 1e-3 + 1.1e-3)
  counts = np.arange(0, 40_000, 7, dtype=np.int32)
  step_sizes = lambda c: _scheduled_step_sizes(schedule, b1, schedule(c), c + 1)
  got = jax.jit(jax.vmap(step_sizes))(counts)
  want = [np.float32(schedule.value_at(int(c)) / (1.0 - b1 ** float(c + 1))) for c in counts]
  np.testing.assert_array_equal(np.asarray(got), np.array(want))
  assert _scheduled_step_sizes(schedule, 0.9999, 0, 1) is None  # no table: pairs
