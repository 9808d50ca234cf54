"""ExactSchedule: the compiled lookup gives the host's value at every count."""

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adamax_optax import schedules
from adamax_optax.schedules import ExactSchedule


def schedule_of_runs(lengths: list[int]) -> ExactSchedule:
  """A schedule whose run ``i`` has ``lengths[i]`` counts, value ``0.99 ** i``."""
  return ExactSchedule(np.repeat(0.99 ** np.arange(len(lengths)), lengths))


def assert_lookup_matches_the_host(schedule: ExactSchedule) -> None:
  horizon = schedule.horizon
  counts = np.unique(
    np.concatenate([np.arange(min(horizon + 70, 5000)), [horizon - 1, horizon, 2**31 - 1]])
  ).astype(np.int32)
  lookup = jax.jit(jax.vmap(lambda c: (schedule(c), *schedule.double_float(c))))
  value, hi, lo = (np.asarray(x) for x in lookup(counts))
  want = np.array([schedule.value_at(int(c)) for c in counts])
  np.testing.assert_array_equal(value, want.astype(np.float32))
  np.testing.assert_array_equal(hi, want.astype(np.float32))  # the double as a pair
  np.testing.assert_array_equal(lo, (want - hi.astype(np.float64)).astype(np.float32))


@settings(max_examples=30, deadline=None)
@given(lengths=st.lists(st.integers(1, 90), min_size=1, max_size=60))
def test_every_count_reads_its_run(lengths):
  assert_lookup_matches_the_host(schedule_of_runs(lengths))


@pytest.mark.parametrize(
  "lengths, searched_by",
  [
    ([41] * 200 + [7], "stretches"),  # StepLR-like: runs of one length, divided by it
    ([41, 45] * 100 + [7], "buckets"),  # blocks of 32 counts, one start at most
    ([3, 1, 40, 2] * 10, "search"),  # a run of 1: buckets would be the horizon
    ([5] * 10, "stretches"),  # few runs, of one length
    ([5, 60, 1] * 6, "search"),  # more stretches than are counted, and a run of 1
    ([1] * 300, "per count"),  # a run per count
    ([1] * 300 + [40, 5], "stretches"),  # then a last run (a NaN past the horizon)
    ([1] * 40 + [2] * 16400, "stretches"),  # then runs of another length
    ([7] * 40 + [3, 90, 1] * 6, "division"),  # then more irregular runs, counted
    ([7] * 40 + [3, 90, 1] * 5500, "division"),  # then more than are counted: searched
    ([1] * 100 + [30] * 20000 + [7], "stretches"),  # a warmup of 100, then a step decay
    ([1] * 5 + [30] * 300 + [2, 9], "stretches"),  # a short warmup
  ],
)
def test_each_lookup_form(lengths, searched_by):
  schedule = schedule_of_runs(lengths)
  assert schedule._form == searched_by
  bucketed = schedule._bucket_runs is not None
  if bucketed:
    assert schedule._bucket_runs.nbytes <= 2 * 12 * schedule.num_runs
    assert schedule.nbytes == 12 * schedule.num_runs + schedule._bucket_runs.nbytes
  assert_lookup_matches_the_host(schedule)


def test_a_million_update_schedule_of_uneven_steps_has_a_small_bucket_index():
  def rate(n):  # decays after 41 counts, then after 45, and so on
    return 0.01 * 0.97 ** (n // 86 * 2 + (n % 86 >= 41))

  steps = schedules.tabulate(rate, 1_000_000, "uneven steps")
  assert steps.num_runs > 20_000 and steps._bucket_bits == 5  # (0.97**k reaches 0 late)
  assert_lookup_matches_the_host(steps)


@settings(max_examples=30, deadline=None)
@given(
  warmup=st.integers(0, 100),
  step=st.integers(2, 50),
  steps=st.integers(1, 400),
  tail=st.lists(st.integers(1, 90), max_size=5),
)
def test_a_warmup_then_a_step_decay_reads_every_run(warmup, step, steps, tail):
  """A warmup of one count per run, runs of one length, then a few runs (the NaN past a
  horizon): a few stretches, each divided."""
  schedule = schedule_of_runs([*[1] * warmup, *[step] * steps, *tail])
  assert schedule._form in ("stretches", "per count", "single")
  assert_lookup_matches_the_host(schedule)


def test_a_million_step_schedule_is_indexed_by_a_division():
  step = schedules.tabulate(lambda n: 0.01 * 0.97 ** (n // 41), 1_000_000, "StepLR")
  assert step.num_runs > 20_000 and step._bucket_runs is None
  # (a few runs at the end are longer: subnormal rates that equal their neighbours)
  assert step._even_length == 41 and step.num_runs - step._even_runs < 100
  assert_lookup_matches_the_host(step)


@settings(max_examples=30, deadline=None)
@given(lengths=st.lists(st.integers(1, 40), min_size=1, max_size=30), every=st.integers(1, 9))
def test_a_stretched_table_holds_each_value_for_every_count_of_its_epoch(lengths, every):
  epochs = schedule_of_runs(lengths)
  stretched = epochs.stretched(every)
  counts = np.arange(stretched.horizon + 2 * every)
  want = epochs.values_at(np.minimum(counts // every, epochs.horizon - 1))
  np.testing.assert_array_equal(stretched.values_at(counts), want)
  assert_lookup_matches_the_host(stretched)


def test_a_scheduler_that_keeps_a_table_hands_it_to_scale_by_adamax():
  """Paddle's schedulers look their values up in a table (``.table``); scale_by_adamax
  takes its doubles as it takes an ExactSchedule's."""
  import jax.numpy as jnp

  from adamax_optax import arithmetic, scale_by_adamax
  from adamax_optax.paddle.optimizer import lr

  scheduler = lr.ExponentialDecay(learning_rate=0.01, gamma=0.9, horizon=50)
  assert schedules.is_exact(scheduler) and schedules.exact_table(scheduler) is scheduler.table

  def steps(learning_rate):
    # PyTorch's arithmetic divides the double rate by the bias correction.
    opt = scale_by_adamax(learning_rate=learning_rate, arithmetic=arithmetic.TORCH)
    params = jnp.linspace(-1.0, 1.0, 7)
    state, out = opt.init(params), []
    for t in range(20):
      updates, state = jax.jit(opt.update)(jnp.sin(params * (t + 1)), state)
      out.append(np.asarray(updates))
    return np.stack(out)

  np.testing.assert_array_equal(steps(scheduler), steps(scheduler.table))


def test_a_delayed_table_starts_its_first_value_at_the_delay():
  table = schedule_of_runs([3, 2, 4])  # 1.0 x3, 0.99 x2, 0.9801 x4
  delayed = table.delayed(100)
  counts = np.arange(120)
  want = np.where(counts < 100, 1.0, table.values_at(np.maximum(counts - 100, 0)))
  np.testing.assert_array_equal(delayed.values_at(counts), want)
  assert table.delayed(0) is table and delayed.horizon == table.horizon + 100
  assert_lookup_matches_the_host(delayed)
  with pytest.raises(ValueError, match="passes the int32 step count"):
    table.delayed(2**31 - 5)
