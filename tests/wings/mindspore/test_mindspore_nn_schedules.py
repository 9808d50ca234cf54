"""mindspore.nn LearningRateSchedules and dynamic lr lists: every golden file bit for bit
under jax.jit, nn.AdaMax's fixed-lr quantization next to a dynamic one, and two golden
nn.AdaMax trajectories (CosineDecayLR; groups with ExponentialDecayLR and a fixed lr)."""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from golden_data import read_recording
from harness import assert_replays

from adamax_optax.mindspore import nn

GOLDEN = pathlib.Path(__file__).resolve().parents[2] / "golden" / "mindspore"
NN_FILES = sorted(
  p.stem for p in GOLDEN.glob("ms_nn_sched_*.npz") if not p.stem.endswith("groups_dynamic_fixed")
)
DYNLR_FILES = sorted(p.stem for p in GOLDEN.glob("ms_dynlr_*.npz") if "past_end" not in p.stem)


def _load(name):
  f = read_recording(GOLDEN / f"{name}.npz")
  return f, json.loads(str(f["meta"]))


def _first_difference(got, want):
  got, want = np.asarray(got), np.asarray(want)
  bad = np.flatnonzero(got.view(np.uint32) != want.view(np.uint32))
  return None if bad.size == 0 else (int(bad[0]), float(got[bad[0]]), float(want[bad[0]]))


def _jitted_values(schedule, n):
  return np.asarray(jax.jit(jax.vmap(schedule))(jnp.arange(n)))


@pytest.mark.parametrize("name", NN_FILES)
def test_learning_rate_schedule_golden_bit_for_bit_under_jit(name):
  f, meta = _load(name)
  want = f["lr"][:, 0]
  cls = getattr(nn, meta["scheduler"].rsplit(".", 1)[1])
  sched = cls(**meta["scheduler_kwargs"], horizon=want.size)
  got = _jitted_values(sched, want.size)
  assert got.dtype == np.float32
  assert _first_difference(got, want) is None, _first_difference(got, want)
  assert sched.value_at(want.size - 1) == float(want[-1])


@pytest.mark.parametrize("name", ["ms_nn_sched_cosine_300", "ms_nn_sched_exp_r0p97_s7_smooth"])
def test_learning_rate_schedule_drives_nn_adamax_like_mindspore(name):
  """check_param: nn.AdaMax([p], learning_rate=schedule), gradient 1.0, 300 updates."""
  f, meta = _load(name)
  cls = getattr(nn, meta["scheduler"].rsplit(".", 1)[1])
  opt = nn.AdaMax(learning_rate=cls(**meta["scheduler_kwargs"], horizon=300))
  want = f["check_param"]
  params = {"p": jnp.asarray(want[0])}
  state = opt.init(params)
  grads = {"p": jnp.ones(4, jnp.float32)}

  @jax.jit
  def step(params, state):
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  for t in range(1, want.shape[0]):
    params, state = step(params, state)
    assert _first_difference(params["p"], want[t]) is None, t


@pytest.mark.parametrize("name", DYNLR_FILES)
def test_dynamic_lr_list_golden_exact(name):
  f, meta = _load(name)
  fn = getattr(nn, meta["scheduler"].rsplit(".", 1)[1])
  got = fn(**meta["scheduler_kwargs"])
  assert isinstance(got, list) and all(isinstance(v, float) for v in got)
  want = f["lr"][:, 0]
  assert np.array_equal(np.asarray(got, np.float64).view(np.uint64), want.view(np.uint64))
  # As nn.AdaMax's learning_rate: the float32 table it gathers from, by count, under jit.
  from adamax_optax.mindspore.nn.ada_max import _nn_learning_rate

  schedule = _nn_learning_rate(got)
  assert _first_difference(_jitted_values(schedule, want.size), f["lr_f32"][:, 0]) is None


def test_groups_dynamic_fixed_quantization_golden():
  f, meta = _load("ms_nn_sched_groups_dynamic_fixed")
  want = f["lr"]
  from adamax_optax.mindspore.nn.ada_max import _quantize_fixed_group_lrs

  sched = nn.ExponentialDecayLR(**meta["scheduler_kwargs"], horizon=want.shape[0])
  groups = [{"params": ["a"], "lr": sched}, {"params": ["b"], "lr": 0.003}, {"params": ["c"]}]
  default, groups = _quantize_fixed_group_lrs(0.02, groups)
  lrs = [groups[0]["lr"], groups[1]["lr"], default]
  assert np.float32(lrs[1]) == np.float32(0.003000021)
  for g, lr in enumerate(lrs):
    got = _jitted_values(lr, want.shape[0]) if callable(lr) else np.full(want.shape[0], lr, "f4")
    assert _first_difference(got, want[:, g]) is None, (g, _first_difference(got, want[:, g]))


def test_no_quantization_without_a_dynamic_lr():
  from adamax_optax.mindspore.nn.ada_max import _quantize_fixed_group_lrs

  groups = [{"params": ["b"], "lr": 0.003}]
  assert _quantize_fixed_group_lrs(0.02, groups) == (0.02, groups)


# --- trajectories -----------------------------------------------------------------------


def _lr(spec, horizon):
  if isinstance(spec, dict):
    return getattr(nn, spec["class"])(**spec["kwargs"], horizon=horizon)
  return spec


@pytest.mark.parametrize("name", ["ms_traj_nn_cosine", "ms_traj_nn_groups_dynamic_fixed"])
def test_nn_trajectory_golden_bit_for_bit(name):
  f, meta = _load(name)
  steps, keys = meta["T"], meta["keys"]
  kw = meta["optimizer_kwargs"]
  groups = meta["groups"]
  if groups is not None:
    groups = [{**g, "lr": _lr(g["lr"], steps)} if "lr" in g else g for g in groups]
  opt = nn.AdaMax(
    learning_rate=_lr(kw["learning_rate"], steps),
    beta1=kw["beta1"],
    beta2=kw["beta2"],
    eps=kw["eps"],
    weight_decay=kw["weight_decay"],
    loss_scale=kw["loss_scale"],
    param_groups=groups,
  )
  assert assert_replays(opt, f, keys, name, steps) == steps


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
  ("build", "error"),
  [
    (lambda: nn.ExponentialDecayLR(1, 0.5, 2), TypeError),
    (lambda: nn.ExponentialDecayLR(0.1, 0.5, 0), ValueError),
    (lambda: nn.ExponentialDecayLR(0.1, -0.5, 2), ValueError),
    (lambda: nn.NaturalExpDecayLR(0.1, 0.5, 2, is_stair=1), TypeError),
    (lambda: nn.InverseDecayLR(0.1, 0.5, 2.0), TypeError),
    (lambda: nn.CosineDecayLR(0.5, 0.1, 10), ValueError),
    (lambda: nn.CosineDecayLR(0, 0.1, 10), TypeError),
    (lambda: nn.PolynomialDecayLR(0.1, 0.0, 10, 0.0), ValueError),
    (lambda: nn.WarmUpLR(0.1, 0), ValueError),
    (lambda: nn.WarmUpLR(0.1, 5, horizon=0), ValueError),
    (lambda: nn.exponential_decay_lr(0.1, 0.5, 0, 1, 1), ValueError),
    (lambda: nn.cosine_decay_lr(0.2, 0.1, 10, 1, 1), ValueError),
    (lambda: nn.piecewise_constant_lr([2, 1], [0.1, 0.2]), ValueError),
    (lambda: nn.piecewise_constant_lr([2], [0.1, 0.2]), ValueError),
    (lambda: nn.warmup_lr(0.1, 10, 1, 0), ValueError),
  ],
)
def test_validation(build, error):
  with pytest.raises(error):
    build()


def test_list_past_end_keeps_last_value():
  """MindSpore raises when a list lr runs out (see ms_dynlr_list_past_end); the preset
  keeps the last value (documented)."""
  f, meta = _load("ms_dynlr_list_past_end")
  from adamax_optax.mindspore.nn.ada_max import _nn_learning_rate

  schedule = _nn_learning_rate(list(f["lr"][:, 0]))
  assert _jitted_values(schedule, 5).tolist() == list(np.float32([0.1, 0.2, 0.3, 0.3, 0.3]))
  assert meta["global_step_after"] == 3
