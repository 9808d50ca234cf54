"""mxnet_adamax and mxnet1_adamax: golden trajectories, NumPy replays of every option."""

import golden_data
import jax
import jax.numpy as jnp
import numpy as np
import numpy_reference as ref
import optax
import pytest
from harness import assert_bitwise, assert_close, replay_numpy, replay_ours

from adamax_optax import mxnet1_adamax, mxnet_adamax
from adamax_optax.mxnet.lr_scheduler import FactorScheduler

MXNET_GOLDEN = golden_data.golden_names("mxnet1") + golden_data.golden_names("mxnet2")


@pytest.mark.parametrize("name", MXNET_GOLDEN)
def test_golden_trajectories_bit_for_bit(name):
  version = name.split("_")[0]
  case = golden_data.case_of(name, version)
  want = golden_data.trajectory(name)
  factory = mxnet1_adamax if version == "mxnet1" else mxnet_adamax
  opt = factory(**want.meta["kwargs"])
  if case == "fp16_mp":
    masters = golden_data.replay(opt, case, dtype=np.float16, params_of=lambda s, p: s.master)
    assert golden_data.compare(masters, want) == 3
    params = golden_data.replay(opt, case, dtype=np.float16)
    data = golden_data.read_recording(golden_data.GOLDEN_DIR / f"{name}.npz")
    for k in golden_data.KEYS:
      np.testing.assert_array_equal(params[k], data[f"param_{k}"])
  else:
    assert golden_data.compare(golden_data.replay(opt, case), want) == 3


@pytest.fixture
def problem():
  rng = np.random.default_rng(3)
  params = {
    "fc_weight": rng.normal(size=(3, 4)).astype(np.float32),
    "fc_bias": rng.normal(size=4).astype(np.float32),
    "bn_gamma": rng.normal(size=4).astype(np.float32),
  }
  grads = [
    {k: rng.normal(size=v.shape).astype(np.float32) for k, v in params.items()} for _ in range(12)
  ]
  return params, grads


def test_lr_and_wd_multipliers_by_index_and_by_name(problem):
  params, grads = problem
  # tree_leaves order of the dict: bn_gamma (0), fc_bias (1), fc_weight (2).
  opt = mxnet_adamax(
    learning_rate=0.01, wd=0.1, lr_mult={0: 0.5, "fc_bias": 2.0}, wd_mult={"fc_weight": 3.0}
  )
  per_key = {
    "bn_gamma": dict(lr=0.01, wd=0.1, lr_mult=0.5),
    "fc_bias": dict(lr=0.01, wd=0.1, lr_mult=2.0),
    "fc_weight": dict(lr=0.01, wd=0.1, wd_mult=3.0),
  }
  want = replay_numpy(ref.mxnet2_step, params, grads, **per_key)
  assert_close(replay_ours(opt, params, grads), want)


def test_index_lookup_wins_over_name_and_param_idx2name_names(problem):
  params, grads = problem
  names = {0: "g", 1: "b", 2: "w"}
  opt = mxnet_adamax(
    learning_rate=0.01, param_idx2name=names, lr_mult={2: 3.0, "w": 100.0, "b": 0.5}
  )
  per_key = {
    "bn_gamma": dict(lr=0.01),
    "fc_bias": dict(lr=0.01, lr_mult=0.5),
    "fc_weight": dict(lr=0.01, lr_mult=3.0),
  }
  assert_close(
    replay_ours(opt, params, grads), replay_numpy(ref.mxnet2_step, params, grads, **per_key)
  )


def test_mxnet1_name_rule_gives_no_decay_to_non_weights(problem):
  params, grads = problem
  names = {0: "bn_gamma", 1: "fc_bias", 2: "fc_weight"}
  opt = mxnet1_adamax(learning_rate=0.01, wd=0.1, param_idx2name=names, wd_mult={"fc_bias": 0.5})
  per_key = {
    "bn_gamma": dict(lr=0.01, wd=0.1),
    "fc_bias": dict(lr=0.01, wd=0.1, wd_mult=0.5),  # set explicitly: overrides the rule
    "fc_weight": dict(lr=0.01, wd=0.1),
  }
  assert_close(
    replay_ours(opt, params, grads), replay_numpy(ref.mxnet1_step, params, grads, **per_key)
  )
  bias_only = mxnet1_adamax(learning_rate=0.01, wd=0.1, param_idx2name={0: "fc_bias"})
  w = {"k": jnp.ones(2)}
  updates, _ = bias_only.update({"k": jnp.array([1.0, 1.0])}, bias_only.init(w), w)
  np.testing.assert_allclose(updates["k"], -0.01, rtol=1e-6)  # wd_mult 0: the gradient alone


def test_mxnet2_has_no_name_rule(problem):
  params, grads = problem
  opt = mxnet_adamax(learning_rate=0.01, wd=0.1, param_idx2name={1: "fc_bias"})
  want = replay_numpy(ref.mxnet2_step, params, grads, **{k: dict(lr=0.01, wd=0.1) for k in params})
  assert_close(replay_ours(opt, params, grads), want)


def test_unknown_names_and_indices_are_errors():
  params = {"a": jnp.ones(2), "b": jnp.ones(2)}
  with pytest.raises(
    ValueError, match=r"lr_mult names unknown parameter 'c'; known names: \['a', 'b'\]"
  ):
    mxnet_adamax(lr_mult={"c": 2.0}).init(params)
  with pytest.raises(ValueError, match="wd_mult has index 5, but there are 2 parameters"):
    mxnet_adamax(wd_mult={5: 2.0}).init(params)


def test_zero_gradients_nan_spreads_in_1x_and_safe_mode_is_finite():
  w = jnp.array([1.0, 2.0])
  grads = [jnp.array([0.5, 0.0])] * 3
  for safe in (False, True):
    opt = mxnet1_adamax(safe=safe)
    params, state = w, opt.init(w)
    for g in grads:
      updates, state = jax.jit(opt.update)(g, state, params)
      params = optax.apply_updates(params, updates)
    adamax_state = state[-1]
    if safe:
      assert np.all(np.isfinite(params)) and params[1] == 2.0
    else:  # 0/0 on step 1, then the NaN weight spreads to m and u through w * 0
      assert np.isnan(params[1]) and np.isnan(adamax_state.mu[1]) and np.isnan(adamax_state.nu[1])
    assert np.isfinite(params[0])


def test_huge_and_tiny_gradients_match_replay():
  params = {"w": np.array([1.0, -1.0, 0.5, 2.0], np.float32)}
  grads = [{"w": np.array([1e30, -1e-30, 3e-38, -1e20], np.float32)} for _ in range(5)]
  ours = replay_ours(mxnet_adamax(wd=0.01), params, grads)
  want = replay_numpy(ref.mxnet2_step, params, grads, w=dict(wd=0.01))
  np.testing.assert_array_equal(ours["w"], want["w"])


def test_float16_without_multi_precision_computes_in_float16(problem):
  params, grads = problem
  p16 = {k: v.astype(np.float16) for k, v in params.items()}
  g16 = [{k: v.astype(np.float16) for k, v in g.items()} for g in grads]
  ours = replay_ours(mxnet_adamax(learning_rate=0.01), p16, g16)
  want = replay_numpy(lambda *a: ref.mxnet2_step(*a, lr=0.01, dtype=np.float16), p16, g16)
  assert_bitwise(ours, want)


def test_scheduler_with_begin_num_update(problem):
  params, grads = problem
  sched = FactorScheduler(step=3, factor=0.5, base_lr=0.01)
  opt = mxnet_adamax(learning_rate=None, lr_scheduler=sched, begin_num_update=4)
  w = {k: v.copy() for k, v in params.items()}
  m = {k: np.zeros_like(v) for k, v in params.items()}
  u = {k: np.zeros_like(v) for k, v in params.items()}
  for step, g in enumerate(grads, start=1):
    t = 4 + step
    lr = 0.01 * 0.5 ** ((t - 1) // 3)
    for k in w:
      w[k], m[k], u[k] = ref.mxnet2_step(w[k], g[k], m[k], u[k], t, lr=lr)
  assert_close(replay_ours(opt, params, grads), w)


def test_learning_rate_overrides_scheduler_base_lr_and_default_is_001():
  sched = FactorScheduler(step=100, base_lr=123.0)
  w = jnp.ones(1)
  opt = mxnet_adamax(learning_rate=0.05, lr_scheduler=sched)
  updates, _ = opt.update(jnp.ones(1), opt.init(w), w)
  np.testing.assert_allclose(updates, [-0.05], rtol=1e-6)
  opt = mxnet_adamax(learning_rate=None)
  updates, _ = opt.update(jnp.ones(1), opt.init(w), w)
  np.testing.assert_allclose(updates, [-0.01], rtol=1e-6)


@pytest.mark.parametrize(
  "kwargs, error, message",
  [
    ({"beta1": 1.0}, ValueError, r"beta1 must be in \[0.0, 1.0\)"),
    ({"beta2": -0.5}, ValueError, r"beta2 must be in \[0.0, 1.0\]"),
    ({"epsilon": -1e-8}, ValueError, r"epsilon must be in \[0.0, inf\)"),
    ({"learning_rate": "0.1"}, TypeError, "learning_rate must be a number"),
    ({"lr_mult": {0: "2"}}, TypeError, r"lr_mult\[0\] must be a number"),
    ({"wd_mult": [1.0]}, TypeError, "wd_mult must be a dict"),
    ({"clip_gradient": -1.0}, ValueError, r"clip_gradient must be in \(0.0, inf\)"),
    ({"wd": float("nan")}, ValueError, "wd must be a finite number"),
    ({"begin_num_update": -1}, ValueError, r"begin_num_update must be in \[0, 2\*\*31 - 1\)"),
    ({"lr_scheduler": 0.1}, TypeError, "lr_scheduler must be callable"),
  ],
)
def test_construction_rejects_meaningless_values(kwargs, error, message):
  with pytest.raises(error, match=message):
    mxnet_adamax(**kwargs)
