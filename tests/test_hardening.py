"""Bad input, non-finite gradients and long runs, for every preset and the alias."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import numpy_reference as ref
import optax
import pytest
from harness import PRESETS
from hypothesis import given, settings
from hypothesis import strategies as st

import adamax_optax as ax

# name -> the numeric keywords besides the learning rate that each test feeds bad values
NUMERIC = {
  "adamax": ("b1", "b2", "eps", "weight_decay"),
  "mxnet": ("beta1", "beta2", "epsilon", "wd"),
  "mxnet1": ("beta1", "beta2", "wd", "rescale_grad"),
  "mindspore": ("eps", "weight_decay"),
  "mindspore_nn": ("beta1", "eps", "loss_scale"),
  "torch": ("eps", "weight_decay"),
  "keras": ("beta_1", "beta_2", "epsilon", "weight_decay"),
  "paddle": ("beta1", "beta2", "epsilon", "weight_decay"),
}
NAMES = sorted(PRESETS)


def make(name, **kwargs):
  factory, lr_name = PRESETS[name]
  kwargs.setdefault(lr_name, 0.01)
  return factory(**kwargs)


def params_and_grads():
  return {"w": jnp.ones((2, 3)), "b": jnp.zeros(3)}, {"w": jnp.ones((2, 3)), "b": jnp.ones(3)}


# --- bad input ---------------------------------------------------------------------

DOCUMENTED_VALUES = {
  ("mindspore_nn", "learning_rate", list),  # a per-step learning rate
  ("adamax", "weight_decay", list),  # a pytree of per-leaf rates
  ("mxnet", "learning_rate", type(None)),  # the scheduler's rate, or 0.01
  ("mxnet1", "learning_rate", type(None)),
  ("keras", "weight_decay", type(None)),  # no decay
  ("paddle", "weight_decay", type(None)),
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "0.1", None, [0.1, 0.2]])
def test_bad_hyperparameters_name_the_argument(name, bad):
  """NaN, inf and values of the wrong type, for each numeric argument of each preset."""
  _, lr_name = PRESETS[name]
  for argument in (lr_name, *NUMERIC[name]):
    if (name, argument, type(bad)) in DOCUMENTED_VALUES:
      continue
    with pytest.raises((TypeError, ValueError)) as info:
      make(name, **{argument: bad})
    message = str(info.value).lower()
    aliases = {argument.lower(), argument.lower().replace("_", " ")}
    if argument == lr_name:
      aliases.add("learning rate")  # MindSpore's and Paddle's wording
    assert any(a in message for a in aliases), (argument, message)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_structure_shape_and_dtype_must_match(name):
  opt = make(name)
  params, grads = params_and_grads()
  state = opt.init(params)
  with pytest.raises(ValueError, match=r"only in the params \['b'\]"):
    opt.update({"w": grads["w"]}, state, params)
  with pytest.raises(ValueError, match=r"parameter 'w' has shape \(3, 2\)"):
    opt.update({"w": jnp.ones((3, 2)), "b": grads["b"]}, state, params)
  with pytest.raises(ValueError, match="parameter 'b' has dtype bfloat16"):
    opt.update({"w": grads["w"], "b": grads["b"].astype(jnp.bfloat16)}, state, params)


def test_state_built_for_other_params_is_named():
  opt = ax.torch_adamax()
  state = opt.init({"w": jnp.ones(2)})
  with pytest.raises(ValueError, match=r"only in the gradients \['v'\], only in the state \['w'\]"):
    opt.update({"v": jnp.ones(2)}, state)


CHANGED_PARAMS = {
  "added": (
    {"w": jnp.ones(3), "b": jnp.ones(2)},
    "update() got a state built for other params: the params changed since opt.init, not the "
    "optimizer (parameters added ['b']). Call opt.init(params) on the new params (to keep the "
    "moments of the parameters that stayed, read them with adamax_optax.moments(state) and "
    "pass them, with zeros for new ones, to adamax_optax.load_state).",
  ),
  "removed": (
    {},
    "the params changed since opt.init, not the optimizer (parameters removed ['w'])",
  ),
  "reshaped": (
    {"w": jnp.ones(4)},
    "the params changed since opt.init, not the optimizer (parameters reshaped 'w' from (3,) "
    "to (4,))",
  ),
}


@pytest.mark.parametrize("change", sorted(CHANGED_PARAMS))
@pytest.mark.parametrize("name", NAMES)
def test_a_state_of_other_params_says_which_parameter_changed(name, change):
  opt = make(name)
  state = opt.init({"w": jnp.ones(3)})
  params, message = CHANGED_PARAMS[change]
  with pytest.raises(ValueError) as info:
    opt.update(params, state, params)
  assert message in str(info.value)


def test_a_state_of_other_params_in_groups_names_a_frozen_parameter_too():
  opt = ax.torch_adamax(param_groups=[{"params": ["w"], "lr": 0.1}], ungrouped="frozen")
  state = opt.init({"w": jnp.ones(3)})
  params = {"w": jnp.ones(3), "frozen": jnp.ones(2)}
  with pytest.raises(ValueError, match=r"\(parameters added \['frozen'\]\)"):
    opt.update(params, state, params)


def test_the_expected_state_is_never_cut_mid_token():
  opt = ax.torch_adamax()
  params = {f"layer_{i}": {"kernel": jnp.ones(2), "bias": jnp.ones(1)} for i in range(40)}
  with pytest.raises(ValueError) as info:
    opt.update(params, {"not": jnp.ones(1)}, params)
  leaves = len(jax.tree.leaves(opt.init(params)))
  assert str(info.value).endswith(f"Expected a state of structure tuple with {leaves} leaves.")


@pytest.mark.parametrize("name", NAMES)
def test_a_python_float_leaf_trains_as_a_float32_scalar(name):
  """optax.adamax takes ``{"scale": 1.0}`` among the params; so does every preset."""
  opt = make(name)
  params = {"w": jnp.ones(3), "scale": 1.0}
  as_array = {"w": jnp.ones(3), "scale": jnp.float32(1.0)}
  grads = {"w": jnp.full(3, 0.5), "scale": 0.5}
  ours = opt.update(grads, opt.init(params), params)[0]
  want = opt.update(jax.tree.map(jnp.float32, grads), opt.init(as_array), as_array)[0]
  assert ours["scale"].dtype == jnp.float32
  np.testing.assert_array_equal(ours["scale"], want["scale"])


@pytest.mark.parametrize("name", NAMES)
def test_integer_and_bool_leaves_are_left_untouched(name):
  opt = make(name)
  params = {"w": jnp.ones(3), "steps": jnp.array(7), "mask": jnp.array([True, False])}
  grads = {"w": jnp.ones(3), "steps": jnp.array(1), "mask": jnp.array([True, True])}
  state = opt.init(params)
  for _ in range(3):
    updates, state = jax.jit(opt.update)(grads, state, params)
    assert updates["steps"].dtype == jnp.int32 and updates["mask"].dtype == jnp.bool_
    params = optax.apply_updates(params, updates)
  assert int(params["steps"]) == 7 and params["mask"].tolist() == [True, False]
  assert np.all(params["w"] < 1)


@pytest.mark.parametrize(
  "opt",
  [
    ax.torch_adamax(lr=0.1, weight_decay=0.01),
    ax.adamax(0.1, clip_value=0.5, weight_decay=0.01),
    ax.mxnet_adamax(0.1, clip_gradient=0.5),
    ax.mxnet1_adamax(0.1, clip_gradient=0.5),
  ],
  ids=["torch", "adamax_clip", "mxnet_clip", "mxnet1_clip"],
)
def test_float0_gradients_of_integer_params(opt):
  params = {"w": jnp.ones(2), "n": jnp.array(3)}
  grads = jax.grad(lambda p: jnp.sum(p["w"] * p["n"]), allow_int=True)(params)
  assert grads["n"].dtype == jax.dtypes.float0
  updates, _ = jax.jit(opt.update)(grads, opt.init(params), params)
  assert int(optax.apply_updates(params, updates)["n"]) == 3


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("params", [{}, {"a": jnp.ones(2), "none": None}], ids=["empty", "none"])
def test_empty_trees_and_none_leaves(name, params):
  opt = make(name)
  state = opt.init(params)
  updates, _ = jax.jit(opt.update)(jax.tree.map(jnp.ones_like, params), state, params)
  assert jax.tree.structure(updates) == jax.tree.structure(params)


@pytest.mark.parametrize(
  "factory",
  [
    lambda: ax.adamax(0.01, weight_decay=0.1),
    lambda: ax.mxnet_adamax(wd=0.1),
    lambda: ax.mindspore_adamax(weight_decay=0.1),
    lambda: ax.mindspore_nn_adamax(weight_decay=0.1),
    lambda: ax.torch_adamax(weight_decay=0.1),
    lambda: ax.keras_adamax(weight_decay=0.1),
    lambda: ax.paddle_adamax(weight_decay=0.1),
  ],
)
def test_params_none_where_a_stage_needs_them_gives_optax_message(factory):
  opt = factory()
  params = {"w": jnp.ones(2)}
  with pytest.raises(ValueError, match="not passing `params` when calling `update`"):
    opt.update(params, opt.init(params))


@pytest.mark.parametrize("name", NAMES)
def test_schedule_returning_an_array_is_an_error(name):
  _, lr_name = PRESETS[name]
  schedule = lambda count: jnp.full(3, 0.01)
  if name.startswith("mxnet"):  # MXNet's schedules go in lr_scheduler
    opt = make(name, learning_rate=None, lr_scheduler=schedule)
  else:
    opt = make(name, **{lr_name: schedule})
  params, grads = params_and_grads()
  with pytest.raises(ValueError, match="must return a scalar") as info:
    opt.update(grads, opt.init(params), params)
  assert "Tracer" not in str(info.value)
  assert str(info.value).endswith(
    "schedule must return a scalar (one value for every parameter), got an array of shape "
    "(3,); return a number or a 0-d array (for per-parameter values, use parameter groups or "
    "a pytree of rates)."
  )


# --- non-finite gradients --------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_nan_spreads_by_default_as_in_the_frameworks(name):
  opt = make(name)
  params, grads = params_and_grads()
  grads["w"] = grads["w"].at[0, 0].set(jnp.nan)
  updates, _ = jax.jit(opt.update)(grads, opt.init(params), params)
  assert np.isnan(optax.apply_updates(params, updates)["w"][0, 0])


@pytest.mark.parametrize("bad", [jnp.nan, jnp.inf, -jnp.inf])
@pytest.mark.parametrize("name", NAMES)
def test_skip_nonfinite_leaves_params_and_state_unchanged(name, bad):
  opt = make(name, skip_nonfinite=True)
  params, grads = params_and_grads()
  state = opt.init(params)
  step = jax.jit(opt.update)
  updates, state = step(grads, state, params)
  params = optax.apply_updates(params, updates)
  before = state
  bad_grads = {**grads, "b": grads["b"].at[1].set(bad)}
  updates, state = step(bad_grads, state, params)
  chex.assert_trees_all_equal(state.inner, before.inner)
  assert int(state.skipped) == 1
  assert all(bool(jnp.all(u == 0)) for u in jax.tree.leaves(updates))
  updates, state = step(grads, state, params)
  assert int(state.skipped) == 1 and bool(jnp.all(updates["w"] != 0))


# --- long runs -------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_count_saturates_at_int32_max(name):
  opt = make(name)
  params, grads = params_and_grads()
  state = ax.load_state(opt, params, mu=grads, nu=grads, step=2**31 - 3)
  step = jax.jit(opt.update)
  for _ in range(4):
    updates, state = step(grads, state, params)
    chex.assert_tree_all_finite(updates)
  assert ax.moments(state)[2] == 2**31 - 1


LATE_REPLAYS = {
  "torch": (lambda **kw: ax.torch_adamax(lr=0.01, **kw), ref.torch_step, dict(lr=0.01)),
  "mxnet": (lambda **kw: ax.mxnet_adamax(learning_rate=0.01, **kw), ref.mxnet2_step, dict(lr=0.01)),
  "mindspore": (
    lambda **kw: ax.mindspore_adamax(lr=0.01, **kw),
    ref.mindspore_exp_step,
    dict(lr=0.01),
  ),
  "keras": (
    lambda **kw: ax.keras_adamax(learning_rate=0.01, **kw),
    ref.keras_step,
    dict(learning_rate=0.01),
  ),
}


def _beta1_kwargs(name, b1):
  return {
    "torch": dict(betas=(b1, 0.999)),
    "mindspore": dict(betas=(b1, 0.999)),
    "mxnet": dict(beta1=b1),
    "keras": dict(beta_1=b1),
  }[name]


@pytest.mark.parametrize("b1", [0.9, 0.999999])
@pytest.mark.parametrize("name", sorted(LATE_REPLAYS))
def test_bias_correction_at_ten_million_steps(name, b1):
  """A step at t = 1e7 + 1 matches the framework's replay, with beta1 up to 0.999999."""
  factory, replay, kwargs = LATE_REPLAYS[name]
  opt = factory(**_beta1_kwargs(name, b1))
  rng = np.random.default_rng(0)
  w, g = rng.normal(size=8).astype(np.float32), rng.normal(size=8).astype(np.float32)
  m, u = (
    (0.1 * rng.normal(size=8)).astype(np.float32),
    np.abs(rng.normal(size=8)).astype(np.float32),
  )
  t = 10**7
  state = ax.load_state(opt, w, mu=m, nu=u, step=t)
  updates, _ = jax.jit(opt.update)(g, state, w)
  got = optax.apply_updates(w, updates)
  want = replay(w, g, m, u, t + 1, **_replay_beta1(name, b1), **kwargs)[0]
  np.testing.assert_allclose(got, want, rtol=2e-7)


def _replay_beta1(name, b1):
  return {"keras": dict(beta_1=b1), "mxnet": dict(beta1=b1)}.get(name, dict(betas=(b1, 0.999)))


@pytest.mark.parametrize("name", ["mindspore_nn", "paddle"])
def test_running_power_stays_finite_after_ten_million_steps(name):
  opt = make(name, **({"beta1": 0.999999}))
  w = jnp.ones(4)
  state = ax.load_state(opt, w, mu=jnp.full(4, 0.1), nu=jnp.ones(4), step=10**7)
  updates, _ = jax.jit(opt.update)(jnp.ones(4), state, w)
  chex.assert_tree_all_finite(updates)
  # m = b1 * 0.1 + (1 - b1) * 1, u = 1, and 1 - b1**t = 1 - exp(-10).
  m = 0.999999 * 0.1 + 0.000001
  np.testing.assert_allclose(updates, -0.01 * m / (1 - 0.999999 ** (1e7 + 1)), rtol=1e-4)


@pytest.mark.parametrize("name", NAMES)
def test_hundred_thousand_steps_in_a_scan_stay_finite(name):
  opt = make(name)
  params = {"w": jnp.ones(16)}

  def body(carry, key):
    params, state = carry
    grads = {"w": jax.random.normal(key, (16,)) * 10.0 ** jax.random.randint(key, (16,), -8, 8)}
    updates, state = opt.update(grads, state, params)
    return (optax.apply_updates(params, updates), state), None

  keys = jax.random.split(jax.random.key(0), 100_000)
  (params, state), _ = jax.jit(lambda c: jax.lax.scan(body, c, keys))((params, opt.init(params)))
  chex.assert_tree_all_finite((params, state))
  assert ax.moments(state)[2] == 100_000


# --- properties ------------------------------------------------------------------------

PLACEMENTS = ("none", "denominator", "max_grad", "max_norm")
RECIPES = {
  "OPTAX": ax.arithmetic.OPTAX,
  "MXNET": ax.arithmetic.MXNET,
  "MINDSPORE": ax.arithmetic.MINDSPORE,
  "MINDSPORE_NN": ax.arithmetic.MINDSPORE_NN,
  "TORCH": ax.arithmetic.TORCH,
  "KERAS": ax.arithmetic.KERAS,
}
# Magnitudes below 1e-30 become 0: the bound assumes exact arithmetic, and with a
# gradient near float32's smallest normal, (1 - b1) * g and bc * u are subnormal, which
# XLA's CPU code flushes to 0 (as it does in the frameworks it runs, Keras on JAX).
gradients = st.lists(
  st.floats(-1e6, 1e6, width=32, allow_subnormal=False), min_size=4, max_size=4
).map(lambda v: np.where(np.abs(v) < 1e-30, 0, v).astype(np.float32))


@settings(max_examples=30)  # each placement, recipe and beta pair compiles anew
@given(
  grads=st.lists(gradients, min_size=1, max_size=6),
  placement=st.sampled_from(PLACEMENTS),
  recipe=st.sampled_from(sorted(RECIPES)),
  b1=st.sampled_from([0.0, 0.5, 0.9]),
  b2=st.sampled_from([0.9, 0.999, 1.0]),
)
def test_norm_and_step_bounds(grads, placement, recipe, b1, b2):
  """u >= 0, u >= b2 * u_prev, and Kingma & Ba's bound on the step (section 7.1)."""
  lr, eps = 0.01, 1e-8
  opt = ax.scale_by_adamax(
    b1,
    b2,
    eps,
    eps_placement=placement,
    arithmetic=RECIPES[recipe],
    learning_rate=lr,
    zero_norm="skip",
  )
  w = jnp.zeros(4)
  state = opt.init(w)
  update = jax.jit(opt.update)
  for t, g in enumerate(grads, start=1):
    previous = np.asarray(state.nu)
    steps, state = update(jnp.asarray(g), state)
    nu = np.asarray(state.nu)
    assert np.all(nu >= 0)
    assert np.all(nu >= np.float32(b2) * previous * (1 - 1e-6))
    # |m_t| <= (1 - b1) sum_k (b1/b2)^k u_t, so the step is at most lr times this factor.
    ratio = b1 / b2
    factor = (1 - b1) * sum(ratio**k for k in range(t)) / (1 - b1**t)
    assert np.all(np.abs(np.asarray(steps)) <= lr * factor * (1 + 1e-5))


@pytest.mark.parametrize("name", [n for n in NAMES if n != "mxnet1"])
@settings(max_examples=20)
@given(
  w=st.lists(st.floats(-1e3, 1e3, width=32, allow_subnormal=False), min_size=3, max_size=3),
  steps=st.integers(1, 5),
)
def test_zero_gradients_with_epsilon_leave_params_unchanged(name, w, steps):
  """(Subnormal weights are excluded: XLA on the CPU flushes them to zero on any add.)"""
  opt = make(name, **({"weight_decay": 0.0} if name in ("torch", "mindspore") else {}))
  params = {"w": jnp.asarray(w, jnp.float32)}
  state = opt.init(params)
  p = params
  for _ in range(steps):
    updates, state = opt.update({"w": jnp.zeros(3)}, state, p)
    p = optax.apply_updates(p, updates)
  np.testing.assert_array_equal(p["w"], params["w"])
