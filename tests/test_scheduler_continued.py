"""Schedules continued on the host (ExactSchedule.continued, the engine's _GroupTables):
the first COMPILED_STEPS scheduler steps in the compiled step, later ones from the host,
the same bits as a table of the whole horizon, under jax.jit and jax.vmap."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adamax_optax as ax
from adamax_optax.mindspore.experimental.optim import lr_scheduler as mindspore
from adamax_optax.paddle.optimizer import lr as paddle
from adamax_optax.schedules import COMPILED_STEPS, _replay
from adamax_optax.torch.optim import lr_scheduler as torch

HORIZON = 600_000


def counts_around(every: int) -> np.ndarray:
  """Counts on both sides of the host boundary, the horizon and past it (NaN there)."""
  boundary = COMPILED_STEPS * every
  near_boundary = [0, 1, boundary - 1, boundary, boundary + 1, 2 * boundary + 7]
  return np.array([*near_boundary, HORIZON - 1, HORIZON, HORIZON + 5, 2**31 - 1])


def dense_schedulers():
  return {
    "torch CosineAnnealingLR eta_min": lambda: torch.CosineAnnealingLR(
      T_max=1000, eta_min=1e-5, horizon=HORIZON
    ),
    "torch CyclicLR momentum": lambda: torch.CyclicLR(
      base_lr=1e-3, max_lr=1e-2, step_size_up=41, horizon=HORIZON
    ),
    "torch LambdaLR": lambda: torch.LambdaLR(lr_lambda=lambda e: 0.3 ** (e % 7), horizon=HORIZON),
    "mindspore CosineAnnealingLR": lambda: mindspore.CosineAnnealingLR(T_max=1000, horizon=HORIZON),
    "paddle NoamDecay": lambda: paddle.NoamDecay(d_model=64, warmup_steps=100, horizon=HORIZON),
  }


def whole_tables(make, every, monkeypatch):
  """The same scheduler's tables over the whole horizon at once (no continuation)."""
  with monkeypatch.context() as patch:
    patch.setattr(_replay, "COMPILED_STEPS", 10 * HORIZON)
    lrs, beta1s = make().tabulate_groups([0.01, 0.3], every)
  assert not any(table.is_continued for table in lrs)
  return [*lrs, *(beta1s or [])]


def pairs(table, counts):
  """The (hi, lo) pair of each count, looked up in one jitted, vmapped call."""
  pair = jax.jit(jax.vmap(table.double_float))(jnp.asarray(counts, jnp.int32))
  return np.stack([np.asarray(pair.hi), np.asarray(pair.lo)])


@pytest.mark.parametrize("every", [1, 3])
@pytest.mark.parametrize("name", list(dense_schedulers()))
def test_a_continued_table_has_the_bits_of_the_whole_table(name, every, monkeypatch):
  make = dense_schedulers()[name]
  want = whole_tables(make, every, monkeypatch)
  lrs, beta1s = make().tabulate_groups([0.01, 0.3], every)
  got = [*lrs, *(beta1s or [])]
  assert all(table.is_continued for table in got)
  assert all(table.num_runs <= COMPILED_STEPS + 1 for table in got)  # the compiled part
  counts = counts_around(every)
  for fast, whole in zip(got, want, strict=True):
    # (read out of order: the far counts first)
    np.testing.assert_array_equal(pairs(fast, counts[::-1]), pairs(whole, counts[::-1]))
    np.testing.assert_array_equal(fast.values_at(counts), whole.values_at(counts))
    np.testing.assert_array_equal(fast.run_values, whole.run_values)
    for count in counts[:6]:  # one count at a time: the compiled branch of the cond
      assert jax.jit(fast)(count) == whole(count)


def test_a_continuation_computes_only_what_a_run_reaches():
  calls = []
  scheduler = torch.LambdaLR(lr_lambda=lambda e: calls.append(e) or 0.5 ** (e % 3))
  (table,), _ = scheduler.tabulate_groups([0.1])
  assert table.is_continued and len(calls) == COMPILED_STEPS + 1
  assert table.value_at(COMPILED_STEPS + 10) == 0.1 * 0.5 ** ((COMPILED_STEPS + 10) % 3)
  assert len(calls) < 4 * COMPILED_STEPS  # a doubled stretch, replayed once more
  assert np.isnan(table.value_at(10**6)) and len(calls) < 2 * 10**6 + 4 * COMPILED_STEPS


def test_a_sparse_or_ending_scheduler_is_tabulated_whole():
  for scheduler in [
    torch.StepLR(step_size=30),
    torch.MultiStepLR(milestones=[30, 80]),
    torch.LinearLR(total_iters=100),
    torch.OneCycleLR(max_lr=0.1, total_steps=1000),
  ]:
    (table,), _ = scheduler.tabulate_groups([0.01])
    assert not table.is_continued, scheduler


def test_an_optimizer_step_past_the_boundary_matches_the_whole_table(monkeypatch):
  """A torch preset whose state is at the boundary: four jitted steps, bit for bit."""
  params = {"w": jnp.linspace(-1.0, 1.0, 33, dtype=jnp.float32), "s": jnp.float32(0.5)}

  def four_steps(opt):
    state = opt.init(params)
    state = optax.tree_utils.tree_set(state, count=jnp.int32(COMPILED_STEPS - 2))
    step = jax.jit(lambda p, s: opt.update(jax.tree.map(jnp.sin, p), s, p))
    p = params
    for _ in range(4):
      updates, state = step(p, state)
      p = optax.apply_updates(p, updates)
    return p

  make = lambda: ax.torch_adamax(lr=0.01, lr_scheduler=torch.CosineAnnealingLR(T_max=1000))
  got = four_steps(make())
  with monkeypatch.context() as patch:
    patch.setattr(_replay, "COMPILED_STEPS", 10**7)
    want = four_steps(make())
  jax.tree.map(np.testing.assert_array_equal, got, want)


def test_mapped_tables_keep_the_continuation():
  (table,), _ = torch.CosineAnnealingLR(T_max=1000).tabulate_groups([0.01])
  count = 3 * COMPILED_STEPS + 1
  stretched, scaled, complement = table.stretched(4), table.scaled(0.5), table.one_minus()
  assert stretched.is_continued and scaled.is_continued and complement.is_continued
  assert stretched.value_at(4 * count + 3) == table.value_at(count)
  assert float(jax.jit(stretched)(4 * count + 3)) == float(jax.jit(table)(count))
  assert scaled.value_at(count) == table.value_at(count) * 0.5
  assert complement.value_at(count) == 1.0 - table.value_at(count)
