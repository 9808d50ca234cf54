"""keras_adamax: golden trajectories, NumPy replays and its range checks."""

import golden_data
import jax
import jax.numpy as jnp
import numpy as np
import numpy_reference as ref
import optax
import pytest
from harness import assert_bitwise, extreme_gradients, random_problem, replay_numpy, replay_ours

import adamax_optax
from adamax_optax import keras_adamax
from adamax_optax.keras.optimizers import schedules


@pytest.mark.parametrize("name", golden_data.golden_names("keras"))
def test_golden_trajectories_bit_for_bit(name):
  want = golden_data.trajectory(name)
  got = golden_data.replay(keras_adamax(**want.meta["kwargs"]), golden_data.case_of(name, "keras"))
  assert golden_data.compare(got, want) == len(golden_data.KEYS)


@pytest.mark.parametrize("weight_decay", [None, 0.1])
def test_extreme_gradients_match_replay(weight_decay):
  params = {"w": np.array([1.0, -1.0, 0.5, 2.0, 0.0, -3.0, 1e-3, 7.0], np.float32)}
  grads = extreme_gradients()
  kwargs = dict(learning_rate=0.01, weight_decay=weight_decay)
  want = replay_numpy(ref.keras_step, params, grads, w=kwargs)
  assert_bitwise(replay_ours(keras_adamax(**kwargs), params, grads), want)


def test_float16_computes_in_float16():
  params, grads = random_problem(2, ("a", "b"), dtype=np.float16)
  kwargs = dict(learning_rate=0.01, weight_decay=0.01)
  want = replay_numpy(
    ref.keras_step, params, grads, **{k: dict(kwargs, dtype=np.float16) for k in params}
  )
  assert_bitwise(replay_ours(keras_adamax(**kwargs), params, grads), want)


def test_schedule_drives_the_step_and_the_decoupled_decay():
  params, grads = random_problem(3, ("w",), steps=5)
  opt = keras_adamax(learning_rate=lambda count: 0.02 / (count + 1.0), weight_decay=0.5)
  w, m, u = params["w"].copy(), np.zeros_like(params["w"]), np.zeros_like(params["w"])
  for t, g in enumerate(grads, start=1):
    lr = float(np.float32(0.02) / np.float32(t))
    w, m, u = ref.keras_step(w, g["w"], m, u, t, learning_rate=lr, weight_decay=0.5)
  assert_bitwise(replay_ours(opt, params, grads), {"w": w})


def test_inject_hyperparams_matches_plain():
  params, grads = random_problem(4, ("w",), steps=4)
  injected = optax.inject_hyperparams(keras_adamax)(learning_rate=0.01, weight_decay=0.1)
  want = replay_ours(keras_adamax(learning_rate=0.01, weight_decay=0.1), params, grads)
  np.testing.assert_allclose(replay_ours(injected, params, grads)["w"], want["w"], rtol=1e-6)


@pytest.mark.parametrize(
  ("kwargs", "match"),
  [
    (dict(learning_rate=-0.1), r"learning_rate must be in \[0.0, inf\)"),
    (dict(beta_1=1.0), r"beta_1 must be in \[0.0, 1.0\)"),
    (dict(beta_2=1.5), r"beta_2 must be in \[0.0, 1.0\]"),
    (dict(epsilon=-1e-7), r"epsilon must be in \[0.0, inf\)"),
    (dict(weight_decay=-0.1), r"weight_decay must be in \[0.0, inf\)"),
    (dict(learning_rate=float("nan")), "learning_rate must be a finite number"),
    (dict(beta_1="0.9"), "beta_1 must be a number"),
    (dict(name=3), r"name must be a string \(Keras's optimizer name\), got 3\."),
  ],
)
def test_validation_names_the_argument_and_range(kwargs, match):
  with pytest.raises((ValueError, TypeError), match=match):
    keras_adamax(**kwargs)


def test_jit_compile_picks_model_fits_or_eager_arithmetic():
  # m + (g - m) * (1 - beta_1): one rounding compiled (model.fit), two eagerly.
  g, m = np.float32(0.543625), np.float32(0.9350724)
  params = jnp.zeros(())
  results = {}
  for mode in ("auto", True, False):
    opt = keras_adamax(learning_rate=1.0, beta_1=0.3, jit_compile=mode)
    state = adamax_optax.load_state(opt, params, mu=m, nu=jnp.float32(1.0), step=1)
    _, state = jax.jit(opt.update)(g, state, params)
    results[mode] = adamax_optax.moments(state)[0]
  fused = np.float32(np.float64(m) + np.float64(np.float32(g - m)) * np.float64(np.float32(0.7)))
  rounded = np.float32(m + np.float32(np.float32(g - m) * np.float32(0.7)))
  assert results["auto"] == results[True] == fused
  assert results[False] == rounded
  assert fused != rounded


def test_jit_compile_rejects_other_values():
  with pytest.raises(ValueError, match='jit_compile must be True, False or "auto", got 1'):
    keras_adamax(jit_compile=1)


def test_a_schedule_without_its_own_mode_follows_the_optimizer():
  schedule = schedules.CosineDecay(0.1, 100)
  assert schedule.jit_compile is None
  assert schedule.in_mode(True).jit_compile is True
  assert schedule.in_mode(False).jit_compile is False
  assert schedule.jit_compile is None  # unchanged
  explicit = schedules.CosineDecay(0.1, 100, jit_compile=False)
  assert explicit.in_mode(True) is explicit


def test_name_is_accepted_as_keras_accepts_it_and_changes_nothing():
  """``keras.optimizers.Adamax(learning_rate=1e-3, name="adamax")`` carries over as is."""
  problem = random_problem(0, ("w", "b"))
  named = replay_ours(keras_adamax(learning_rate=0.01, name="my_adamax"), *problem)
  plain = replay_ours(keras_adamax(learning_rate=0.01), *problem)
  assert_bitwise(named, plain)
