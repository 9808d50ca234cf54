"""paddle_adamax: golden trajectories, NumPy replays, groups and Paddle's messages."""

import golden_data
import jax.numpy as jnp
import numpy as np
import numpy_reference as ref
import pytest
from harness import assert_bitwise, extreme_gradients, random_problem, replay_numpy, replay_ours

from adamax_optax import paddle_adamax

F32 = np.float32


@pytest.mark.parametrize("name", golden_data.golden_names("paddle"))
def test_golden_trajectories_bit_for_bit(name):
  want = golden_data.trajectory(name)
  got = golden_data.replay(
    paddle_adamax(**want.meta["kwargs"]), golden_data.case_of(name, "paddle")
  )
  assert golden_data.compare(got, want) == len(golden_data.KEYS)


def paddle_replay(params, grads, per_key):
  return replay_numpy(
    lambda w, g, m, u, t, **kw: ref.paddle_step(
      w, g, m, u, ref.running_power(kw.get("beta1", 0.9), t), **kw
    )[:3],
    params,
    grads,
    **per_key,
  )


def test_extreme_gradients_match_replay():
  params = {"w": np.array([1.0, -1.0, 0.5, 2.0, 0.0, -3.0, 1e-3, 7.0], F32)}
  grads = extreme_gradients()
  kwargs = dict(learning_rate=0.01, weight_decay=0.1)
  want = paddle_replay(params, grads, {"w": kwargs})
  assert_bitwise(replay_ours(paddle_adamax(**kwargs), params, grads), want)


def test_group_learning_rate_is_a_float32_multiplier():
  params, grads = random_problem(1, ("fc/w", "fc/b", "emb"))
  opt = paddle_adamax(
    learning_rate=0.003,
    weight_decay=0.01,
    param_groups=[
      {"params": ["fc/b"], "learning_rate": 3.0, "weight_decay": 0.0},
      {"params": ["emb"], "beta1": 0.5, "beta2": 0.9, "epsilon": 1e-3},
    ],
  )
  base = dict(learning_rate=0.003, weight_decay=0.01)
  per_key = {
    "fc/w": base,
    "fc/b": dict(base, learning_rate=float(F32(0.003) * F32(3.0)), weight_decay=0.0),
    "emb": dict(base, beta1=0.5, beta2=0.9, epsilon=1e-3),
  }
  assert_bitwise(replay_ours(opt, params, grads), paddle_replay(params, grads, per_key))


@pytest.mark.parametrize(
  ("kwargs", "error", "match"),
  [
    (dict(beta1=1.0), ValueError, r"^Invalid value of beta1, expect beta1 in \[0,1\).$"),
    (dict(beta2=1.0), ValueError, r"^Invalid value of beta2, expect beta2 in \[0,1\).$"),
    (dict(epsilon=-1.0), ValueError, r"^Invalid value of epsilon, expect epsilon >= 0.$"),
    (dict(learning_rate=1), TypeError, "learning rate should be float or LRScheduler"),
    (dict(learning_rate=-0.1), ValueError, r"learning_rate must be in \[0.0, inf\)"),
    (dict(weight_decay=-0.1), ValueError, r"weight_decay must be in \[0.0, inf\)"),
    (dict(epsilon=float("inf")), ValueError, "epsilon must be finite"),
    (
      dict(param_groups=[{"params": ["w"], "learning_rate": -2.0}]),
      ValueError,
      r"param_groups\[0\]: learning_rate must be in",
    ),
    (dict(param_groups=[{"params": ["w"], "lr": 0.1}]), ValueError, "unknown keys \\['lr'\\]"),
  ],
)
def test_validation(kwargs, error, match):
  with pytest.raises(error, match=match):
    paddle_adamax(**kwargs)


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_16bit_params_are_refused_as_paddles_cpu_kernel_refuses(dtype):
  params = {"w": jnp.ones(3, dtype), "b": jnp.ones(2)}
  with pytest.raises(TypeError, match=r"parameter \['w'\] is .*no float16 or bfloat16 kernel"):
    paddle_adamax(learning_rate=0.01).init(params)
  opt = paddle_adamax(learning_rate=0.01, mu_dtype=jnp.float32, nu_dtype=jnp.float32)
  updates, _ = opt.update(params, opt.init(params), params)
  assert updates["w"].dtype == dtype
