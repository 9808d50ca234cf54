"""mindspore_adamax and mindspore_nn_adamax: golden trajectories, NumPy replays, and
MindSpore 2.10's validation messages."""

import json

import golden_data
import jax
import jax.numpy as jnp
import numpy as np
import numpy_reference as ref
import optax
import pytest
from harness import assert_bitwise, extreme_gradients, random_problem, replay_numpy, replay_ours

from adamax_optax import mindspore_adamax, mindspore_nn_adamax

F32 = np.float32
GOLDEN_GROUPS = [{"params": ["w", "k"], "weight_decay": 0.01}, {"params": ["b"], "lr": 0.01}]


def _exp_kwargs(meta):
  kwargs = dict(meta["kwargs"])
  if "groups" in kwargs:  # recorded as text; the same groups, by name
    del kwargs["groups"]
    kwargs["param_groups"] = GOLDEN_GROUPS
  return kwargs


@pytest.mark.parametrize("name", golden_data.golden_names("mindspore_exp"))
def test_experimental_golden_trajectories_bit_for_bit(name):
  want = golden_data.trajectory(name)
  opt = mindspore_adamax(**_exp_kwargs(want.meta))
  got = golden_data.replay(opt, golden_data.case_of(name, "mindspore_exp"))
  assert golden_data.compare(got, want) == len(golden_data.KEYS)


@pytest.mark.parametrize("name", golden_data.golden_names("mindspore_nn"))
def test_nn_golden_trajectories_bit_for_bit(name):
  want = golden_data.trajectory(name)
  opt = mindspore_nn_adamax(**want.meta["kwargs"])
  got = golden_data.replay(opt, golden_data.case_of(name, "mindspore_nn"))
  assert golden_data.compare(got, want) == len(golden_data.KEYS)


# --- experimental.optim.Adamax, beyond the golden files -----------------------------


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.0, 0.5)])
def test_experimental_extreme_gradients_match_replay(betas):
  params = {"w": np.array([1.0, -1.0, 0.5, 2.0, 0.0, -3.0, 1e-3, 7.0], F32)}
  grads = extreme_gradients()
  kwargs = dict(lr=0.01, weight_decay=0.1, betas=betas)
  want = replay_numpy(ref.mindspore_exp_step, params, grads, w=kwargs)
  assert_bitwise(replay_ours(mindspore_adamax(**kwargs), params, grads), want)


def test_experimental_maximize_negates_before_weight_decay_and_groups():
  params, grads = random_problem(0, ("encoder/w", "encoder/b", "head/w"))
  opt = mindspore_adamax(
    lr=0.003,
    weight_decay=0.05,
    maximize=True,
    param_groups=[
      {"params": ["encoder/b"], "weight_decay": 0.0, "lr": 0.02},
      {"params": lambda name, leaf: name.startswith("head"), "maximize": False, "eps": 1e-4},
    ],
  )
  base = dict(lr=0.003, weight_decay=0.05, maximize=True)
  per_key = {
    "encoder/w": base,
    "encoder/b": dict(base, weight_decay=0.0, lr=0.02),
    "head/w": dict(base, maximize=False, eps=1e-4),
  }
  want = replay_numpy(ref.mindspore_exp_step, params, grads, **per_key)
  assert_bitwise(replay_ours(opt, params, grads), want)


def test_experimental_float16_computes_in_float16():
  params, grads = random_problem(2, ("a", "b"), dtype=np.float16)
  kwargs = dict(weight_decay=0.01, dtype=np.float16)
  want = replay_numpy(ref.mindspore_exp_step, params, grads, **{k: kwargs for k in params})
  assert_bitwise(replay_ours(mindspore_adamax(weight_decay=0.01), params, grads), want)


def test_experimental_schedule_is_called_with_count_zero_first():
  params, grads = random_problem(3, ("w",), steps=4)
  opt = mindspore_adamax(lr=lambda count: 0.01 / (count + 1))
  w, m, u = params["w"].copy(), np.zeros_like(params["w"]), np.zeros_like(params["w"])
  for t, g in enumerate(grads, start=1):
    w, m, u = ref.mindspore_exp_step(w, g["w"], m, u, t, lr=float(F32(0.01) / F32(t)))
  assert_bitwise(replay_ours(opt, params, grads), {"w": w})


def test_experimental_inject_hyperparams_matches_plain_and_traced_maximize():
  params, grads = random_problem(4, ("w",), steps=4)
  plain = mindspore_adamax(lr=0.01, weight_decay=0.1, maximize=True)
  injected = optax.inject_hyperparams(mindspore_adamax)(lr=0.01, weight_decay=0.1, maximize=1)
  assert "maximize" in injected.init(params).hyperparams  # traced, not static
  assert_bitwise(replay_ours(injected, params, grads), replay_ours(plain, params, grads))


# --- nn.AdaMax, beyond the golden files ---------------------------------------------


def nn_replay(params, grads, per_key):
  """ref.mindspore_nn_step over dict params; per_key[k] are its keyword arguments."""
  return replay_numpy(
    lambda w, g, m, u, t, **kw: ref.mindspore_nn_step(
      w, g, m, u, ref.running_power(kw.get("beta1", 0.9), t - 1), **kw
    )[:3],
    params,
    grads,
    **per_key,
  )


def test_nn_skips_decay_for_beta_and_gamma_names_without_groups():
  params, grads = random_problem(5, ("dense/weight", "bn/gamma", "bn/beta", "bias"))
  opt = mindspore_nn_adamax(learning_rate=0.01, weight_decay=0.1)
  kw = dict(learning_rate=0.01, weight_decay=0.1)
  per_key = {k: dict(kw, decay="beta" not in k and "gamma" not in k) for k in params}
  assert not per_key["bn/gamma"]["decay"] and per_key["bias"]["decay"]
  assert_bitwise(replay_ours(opt, params, grads), nn_replay(params, grads, per_key))


def test_nn_groups_switch_the_name_filter_off():
  params, grads = random_problem(6, ("dense/weight", "bn/gamma", "other"))
  opt = mindspore_nn_adamax(
    learning_rate=0.01,
    weight_decay=0.1,
    param_groups=[{"params": ["dense/weight"], "lr": 0.05, "weight_decay": 0.0}],
  )
  kw = dict(learning_rate=0.01, weight_decay=0.1)
  per_key = {
    "dense/weight": dict(kw, learning_rate=0.05, weight_decay=0.0),
    "bn/gamma": kw,  # in no group: the constructor's weight decay, no name filter
    "other": kw,
  }
  assert_bitwise(replay_ours(opt, params, grads), nn_replay(params, grads, per_key))


@pytest.mark.parametrize("loss_scale", [1024.0, 3.0])
def test_nn_loss_scale(loss_scale):
  params, grads = random_problem(7, ("w", "b"))
  scaled = [{k: (v * F32(loss_scale)).astype(F32) for k, v in g.items()} for g in grads]
  kw = dict(learning_rate=0.01, weight_decay=0.01, loss_scale=loss_scale)
  want = nn_replay(params, scaled, {k: kw for k in params})
  assert_bitwise(replay_ours(mindspore_nn_adamax(**kw), params, scaled), want)


def test_nn_extreme_gradients_and_float16():
  params = {"w": np.array([1.0, -1.0, 0.5, 2.0, 0.0, -3.0, 1e-3, 7.0], F32)}
  grads = extreme_gradients()
  kw = dict(learning_rate=0.01, weight_decay=0.1)
  assert_bitwise(
    replay_ours(mindspore_nn_adamax(**kw), params, grads), nn_replay(params, grads, {"w": kw})
  )
  p16, g16 = random_problem(8, ("a", "b"), dtype=np.float16)
  ours = replay_ours(mindspore_nn_adamax(**kw), p16, g16)
  assert_bitwise(ours, nn_replay(p16, g16, {k: kw for k in p16}))


def test_nn_float16_moments_keep_the_parameter_dtype():
  p = {"w": jnp.ones(3, jnp.float16)}
  state = mindspore_nn_adamax().init(p)
  leaves = [x for x in jax.tree.leaves(state) if getattr(x, "shape", ()) == (3,)]
  assert leaves and all(x.dtype == jnp.float16 for x in leaves)


def test_nn_per_step_learning_rate_list():
  params, grads = random_problem(9, ("w",), steps=5)
  lrs = [0.01, 0.005, 0.001]
  w, m, u = params["w"].copy(), np.zeros_like(params["w"]), np.zeros_like(params["w"])
  for t, g in enumerate(grads, start=1):
    lr = lrs[min(t - 1, len(lrs) - 1)]
    w, m, u, _ = ref.mindspore_nn_step(
      w, g["w"], m, u, ref.running_power(0.9, t - 1), learning_rate=lr
    )
  assert_bitwise(replay_ours(mindspore_nn_adamax(learning_rate=lrs), params, grads), {"w": w})


# --- validation ---------------------------------------------------------------------

ERRORS = json.loads((golden_data.GOLDEN_DIR / "errors_mindspore.json").read_text())
FACTORIES = {"experimental.optim.Adamax": mindspore_adamax, "nn.AdaMax": mindspore_nn_adamax}
CASES = [(api, case) for api in FACTORIES for case in sorted(ERRORS[api])]
# MindSpore's text there comes from Python or NumPy failing on the value, not from a
# check; ours raises the same exception type with a message naming the argument.
INCIDENTAL = ("not supported between instances", "could not convert string")


@pytest.mark.parametrize(("api", "case"), CASES, ids=[f"{a}-{c}" for a, c in CASES])
def test_validation_matches_mindspore(api, case):
  recorded = ERRORS[api][case]
  kwargs = {k: eval(v) for k, v in recorded["kwargs"].items()}  # recorded Python literals
  result, factory = recorded["result"], FACTORIES[api]
  if result.startswith("ok"):
    factory(**kwargs)
    return
  error_type, message = result.split(": ", 1)
  expected = {"ValueError": ValueError, "TypeError": TypeError}[error_type]
  if message.startswith("could not convert string"):
    expected = TypeError  # a str learning rate is a type error, like None
  with pytest.raises(expected) as info:
    factory(**kwargs)
  if any(text in message for text in INCIDENTAL):
    assert next(iter(recorded["kwargs"])) in str(info.value)
  else:
    assert str(info.value) == message


@pytest.mark.parametrize(
  ("factory", "kwargs", "error", "match"),
  [
    (mindspore_adamax, dict(lr=float("nan")), ValueError, "lr must be finite"),
    (mindspore_adamax, dict(betas=(0.9, 1)), TypeError, r"'betas\[1\]' must be 'float'"),
    (mindspore_adamax, dict(betas=0.9), TypeError, "betas must be a pair"),
    (
      mindspore_adamax,
      dict(param_groups=[{"params": ["w"], "lr": 0.0}]),
      ValueError,
      r"param_groups\[0\]: For Adamax, the lr must be greater than 0.0, but got 0.0.",
    ),
    (mindspore_nn_adamax, dict(loss_scale=1), TypeError, "type of 'loss_scale' should be 'float'"),
    (mindspore_nn_adamax, dict(learning_rate=[0.1, -0.1]), ValueError, "'learning rate' must be"),
    (mindspore_nn_adamax, dict(eps=float("inf")), ValueError, "eps must be finite"),
    (
      mindspore_nn_adamax,
      dict(param_groups=[{"params": ["w"], "betas": (0.9, 0.99)}]),
      ValueError,
      "unknown keys",
    ),
  ],
)
def test_more_validation(factory, kwargs, error, match):
  with pytest.raises(error, match=match):
    factory(**kwargs)


def test_group_errors_at_init():
  params = {"a": jnp.ones(2), "b": jnp.ones(2)}
  with pytest.raises(ValueError, match="names unknown parameter 'c'"):
    mindspore_adamax(param_groups=[{"params": ["c"]}]).init(params)
  with pytest.raises(ValueError, match="parameter 'a' is in more than one group"):
    mindspore_adamax(param_groups=[{"params": ["a"]}, {"params": lambda n, leaf: True}]).init(
      params
    )


def test_lr_scheduler_every_is_static_under_inject_hyperparams():
  injected = optax.inject_hyperparams(mindspore_adamax)(lr=0.01)
  assert "lr_scheduler_every" not in injected.init(jnp.ones(2)).hyperparams
  with pytest.raises(ValueError, match="lr_scheduler_every must be a Python int"):
    optax.inject_hyperparams(mindspore_adamax)(lr=0.01, lr_scheduler_every=2).init(jnp.ones(2))
