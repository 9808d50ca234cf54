"""moments, load_state and the framework checkpoint converters.

The golden files record m, u and the params after every step, so a run can be handed
over at step 5 in each framework's own checkpoint layout and continued here.
"""

import golden_data
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adamax_optax as ax
from adamax_optax.mindspore import checkpoint as mindspore_checkpoint
from adamax_optax.mxnet import checkpoint as mxnet_checkpoint
from adamax_optax.torch import checkpoint as torch_checkpoint

HANDOVER = 5


def golden_at(name, t):
  want = golden_data.trajectory(name)
  pick = lambda tree: {k: np.asarray(tree[k][t]) for k in golden_data.KEYS}
  return want, pick(want.params), pick(want.m), pick(want.u)


def continue_run(opt, state, params, case):
  _, grads = golden_data.grads(case)
  step = jax.jit(opt.update)
  for t in range(HANDOVER, golden_data.STEPS):
    updates, state = step({k: grads[k][t] for k in golden_data.KEYS}, state, params)
    params = optax.apply_updates(params, updates)
  return params


def handover(opt, name, case, mu, nu, step, params, master_weights=None):
  want = golden_data.trajectory(name)
  state = ax.load_state(opt, params, mu=mu, nu=nu, step=step, master_weights=master_weights)
  got = continue_run(opt, state, params, case)
  exact = 0
  for k in golden_data.KEYS:
    np.testing.assert_allclose(got[k], want.params[k][-1], rtol=1e-6, err_msg=k)
    exact += int(np.array_equal(got[k], want.params[k][-1]))
  return exact


# tree_leaves order of the golden dict is b, k, w; the frameworks saw w, b, k.
FRAMEWORK_ORDER = list(golden_data.KEYS)


def test_torch_state_dict_handover():
  _, params, m, u = golden_at("torch_wd", HANDOVER)
  state_dict = {
    "state": {
      i: {"step": np.float32(HANDOVER), "exp_avg": m[k], "exp_inf": u[k]}
      for i, k in enumerate(FRAMEWORK_ORDER)
    },
    "param_groups": [{"params": [0, 1, 2], "lr": 0.002}],
  }
  mu, nu, step = torch_checkpoint.from_torch_state_dict(state_dict, params, order=FRAMEWORK_ORDER)
  opt = ax.torch_adamax(weight_decay=0.01)
  assert handover(opt, "torch_wd", "wd", mu, nu, step, params) == 3


def test_mxnet_updater_states_handover():
  _, params, m, u = golden_at("mxnet2_clip_rescale", HANDOVER)
  # MXNet's indices follow the order it was given the parameters (w, b, k here); build
  # the dict by position in tree_leaves, which is what the converter reads.
  names = ax.param_groups.leaf_names(params)
  states = {i: (m[n], u[n]) for i, n in enumerate(names)}
  counts = dict.fromkeys(states, HANDOVER)
  mu, nu, step, masters = mxnet_checkpoint.from_mxnet_states(states, counts, params)
  assert masters is None
  opt = ax.mxnet_adamax(wd=0.01, rescale_grad=0.5, clip_gradient=0.1)
  assert handover(opt, "mxnet2_clip_rescale", "clip_rescale", mu, nu, step, params) == 3


def test_mxnet_multi_precision_states_carry_the_masters():
  want = golden_data.trajectory("mxnet2_fp16_mp")
  data = golden_data.read_recording(golden_data.GOLDEN_DIR / "mxnet2_fp16_mp.npz")
  names = sorted(golden_data.KEYS)  # tree_leaves order
  params = {k: data[f"param_{k}"][HANDOVER] for k in golden_data.KEYS}
  states = {
    i: (want.params[n][HANDOVER], (want.m[n][HANDOVER], want.u[n][HANDOVER]))
    for i, n in enumerate(names)
  }
  mu, nu, step, masters = mxnet_checkpoint.from_mxnet_states(
    states, dict.fromkeys(states, 5), params
  )
  opt = ax.mxnet_adamax(**want.meta["kwargs"])
  state = ax.load_state(opt, params, mu=mu, nu=nu, step=step, master_weights=masters)
  _, grads = golden_data.grads("fp16_mp")
  p = params
  for t in range(HANDOVER, golden_data.STEPS):
    g = {k: grads[k][t].astype(np.float16) for k in golden_data.KEYS}
    updates, state = jax.jit(opt.update)(g, state, p)
    p = optax.apply_updates(p, updates)
  for k in golden_data.KEYS:
    np.testing.assert_array_equal(state.master[k], want.params[k][-1], err_msg=k)
    np.testing.assert_array_equal(p[k], data[f"param_{k}"][-1], err_msg=k)


@pytest.mark.parametrize(
  ("name", "optimizer", "factory"),
  [
    ("mindspore_exp_wd", "experimental", lambda: ax.mindspore_adamax(weight_decay=0.01)),
    (
      "mindspore_nn_wd",
      "nn",
      lambda: ax.mindspore_nn_adamax(learning_rate=0.002, weight_decay=0.01),
    ),
  ],
)
def test_mindspore_checkpoint_handover(name, optimizer, factory):
  _, params, m, u = golden_at(name, HANDOVER)
  first, second, step_key = mindspore_checkpoint._MINDSPORE_KEYS[optimizer]
  entries = {f"{first}{k}": m[k] for k in m} | {f"{second}{k}": u[k] for k in u}
  entries[step_key] = np.array([HANDOVER], np.int32)
  mu, nu, step = mindspore_checkpoint.from_mindspore_checkpoint(
    entries, params, optimizer=optimizer
  )
  assert handover(factory(), name, "wd", mu, nu, step, params) == 3


@pytest.mark.parametrize(
  ("name", "factory"),
  [
    ("paddle_wd", lambda: ax.paddle_adamax(learning_rate=0.002, weight_decay=0.01)),
    ("keras_wd", lambda: ax.keras_adamax(learning_rate=0.002, epsilon=1e-8, weight_decay=0.01)),
    ("mindspore_exp_groups", None),
  ],
)
def test_load_state_continues_every_preset(name, factory):
  if factory is None:
    groups = [{"params": ["w", "k"], "weight_decay": 0.01}, {"params": ["b"], "lr": 0.01}]
    factory = lambda: ax.mindspore_adamax(param_groups=groups)
  _, params, m, u = golden_at(name, HANDOVER)
  case = name.split("_")[-1]
  assert handover(factory(), name, case, m, u, HANDOVER, params) == 3


@pytest.mark.parametrize(
  "factory",
  [
    lambda: ax.adamax(0.01, weight_decay=1e-3),
    lambda: ax.mxnet_adamax(multi_precision=True, lr_mult={"b": 2.0}),
    lambda: ax.mindspore_adamax(param_groups=[{"params": ["b"], "lr": 0.01}]),
    lambda: ax.mindspore_nn_adamax(),
    lambda: ax.torch_adamax(skip_nonfinite=True),
    lambda: ax.keras_adamax(learning_rate=lambda c: 0.01 / (c + 1.0), weight_decay=0.1),
    lambda: ax.paddle_adamax(),
  ],
)
def test_moments_round_trip_through_load_state(factory):
  opt = factory()
  params = {"w": jnp.arange(6.0).reshape(2, 3), "b": jnp.ones(3)}
  state = opt.init(params)
  step = jax.jit(opt.update)
  for t in range(4):
    updates, state = step(jax.tree.map(lambda p, t=t: jnp.sin(p + t), params), state, params)
    params = optax.apply_updates(params, updates)
  mu, nu, count = ax.moments(state)
  assert count == 4 and jax.tree.structure(mu) == jax.tree.structure(params)
  rebuilt = ax.load_state(opt, params, mu=mu, nu=nu, step=count)
  grads = jax.tree.map(jnp.cos, params)
  want, _ = step(grads, state, params)
  got, _ = step(grads, rebuilt, params)
  for k in params:
    np.testing.assert_array_equal(got[k], want[k], err_msg=k)


def test_converters_round_trip():
  params = {"w": np.ones((2, 3), np.float32), "b": np.zeros(3, np.float32)}
  mu = {"w": np.full((2, 3), 0.5, np.float32), "b": np.arange(3, dtype=np.float32)}
  nu = {"w": np.full((2, 3), 2.0, np.float32), "b": np.ones(3, np.float32)}
  for out, back in (
    (
      torch_checkpoint.to_torch_state_dict(mu, nu, 7),
      lambda d: torch_checkpoint.from_torch_state_dict(d, params),
    ),
    (
      mindspore_checkpoint.to_mindspore_checkpoint(mu, nu, 7),
      lambda d: mindspore_checkpoint.from_mindspore_checkpoint(d, params),
    ),
    (
      mxnet_checkpoint.to_mxnet_states(mu, nu, 7),
      lambda d: mxnet_checkpoint.from_mxnet_states(*d, params)[:3],
    ),
  ):
    m2, u2, s2 = back(out)
    assert s2 == 7
    for k in params:
      np.testing.assert_array_equal(m2[k], mu[k])
      np.testing.assert_array_equal(u2[k], nu[k])


def test_bad_inputs_name_the_problem():
  params = {"w": jnp.ones(2)}
  opt = ax.torch_adamax()
  with pytest.raises(ValueError, match="step must be an int"):
    ax.load_state(opt, params, mu=params, nu=params, step=-1)
  with pytest.raises(ValueError, match="mu must have the params' structure"):
    ax.load_state(opt, params, mu={"v": jnp.ones(2)}, nu=params, step=1)
  with pytest.raises(ValueError, match="no entry for parameter index 0"):
    torch_checkpoint.from_torch_state_dict({"state": {}}, params)
  with pytest.raises(ValueError, match="order must list each parameter name once"):
    torch_checkpoint.from_torch_state_dict({"state": {}}, params, order=["x"])
  with pytest.raises(ValueError, match="holds no Adamax moments"):
    ax.moments(optax.sgd(0.1).init(params))


def test_a_negative_infinity_norm_is_refused():
  params = {"w": jnp.ones(2), "k": jnp.ones((2, 2))}
  nu = {"w": jnp.ones(2), "k": jnp.array([[1.0, 2.0], [-3.0, -4.0]])}
  with pytest.raises(ValueError) as info:
    ax.load_state(ax.torch_adamax(), params, mu=params, nu=nu, step=1)
  assert str(info.value) == (
    "nu, the infinity norm (a maximum of |g|), must be >= 0, but parameter 'k' has a negative "
    "entry, -3.0 at index (1, 0) (2 in all): was the first moment, or a weight, passed as nu? "
    "Pass the norm (PyTorch's exp_inf, the second state of MXNet and MindSpore, Keras's norm)."
  )
  # A NaN norm (a run that diverged, as the framework left it) still loads.
  nu["k"] = jnp.array([[1.0, 2.0], [jnp.nan, 4.0]])
  ax.load_state(ax.torch_adamax(), params, mu=params, nu=nu, step=1)


def test_a_weight_decay_schedule_continues_from_the_step():
  schedule = optax.linear_schedule(0.1, 0.0, transition_steps=10)
  opt = ax.adamaxw(0.01, weight_decay=schedule)
  params = {"w": jnp.ones(2)}
  state = ax.load_state(opt, params, mu=params, nu=params, step=7)
  assert isinstance(state[1], ax.WeightDecayScheduleState)
  assert int(state[1].count) == 7
