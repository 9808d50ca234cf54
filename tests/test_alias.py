"""The adamax alias: optax parity, its options against a NumPy replay, validation."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adamax_optax
from adamax_optax import adamax


def train(opt, steps=300, seed=0):
  rng = np.random.default_rng(seed)
  params = {
    "w": jnp.asarray(rng.normal(size=(4, 3)), jnp.float32),
    "b": jnp.asarray(rng.normal(size=3), jnp.float32),
  }
  state = opt.init(params)

  @jax.jit
  def step(params, state, key):
    grads = jax.tree.map(lambda p: jnp.sin(3 * p) + 0.1 * jax.random.normal(key, p.shape), params)
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  for i in range(steps):
    params, state = step(params, state, jax.random.key(i))
  return params


def test_defaults_equal_optax_adamax_over_many_steps():
  ours = train(adamax(0.003))
  theirs = train(optax.adamax(0.003))
  for k in ours:
    # Not bit-identical: XLA fuses optax's (1 - b1) * g + b1 * m into a multiply-add,
    # while the building blocks round each product as the other frameworks do.
    np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-6)


def test_defaults_equal_optax_with_schedule():
  schedule = optax.cosine_decay_schedule(0.01, 300)
  ours, theirs = train(adamax(schedule)), train(optax.adamax(schedule))
  for k in ours:
    # The step -(lr * direction) is rounded before the apply adds it; XLA fuses optax's
    # into the add. Over 300 steps that moves a few weights by up to 2 ulp.
    np.testing.assert_allclose(ours[k], theirs[k], rtol=2e-6)


def numpy_alias(w, grads, lr, scale, clip, wd, b1=0.9, b2=0.999, eps=1e-8):
  m = np.zeros_like(w)
  u = np.zeros_like(w)
  for t, g in enumerate(grads, start=1):
    g = np.clip(g * scale, -clip, clip) + wd * w
    m = b1 * m + (1 - b1) * g
    u = np.maximum(b2 * u, np.abs(g) + eps)
    w = w - lr * m / (1 - b1**t) / u
  return w


def test_rescale_clip_and_weight_decay_match_replay():
  rng = np.random.default_rng(1)
  w0 = rng.normal(size=6).astype(np.float32)
  grads = rng.normal(size=(20, 6)).astype(np.float32) * 3
  opt = adamax(0.01, gradient_scale=0.5, clip_value=0.7, weight_decay=0.05)
  w, state = jnp.asarray(w0), opt.init(jnp.asarray(w0))
  for g in grads:
    updates, state = jax.jit(opt.update)(g, state, w)
    w = optax.apply_updates(w, updates)
  want = numpy_alias(w0.astype(np.float64), grads.astype(np.float64), 0.01, 0.5, 0.7, 0.05)
  np.testing.assert_allclose(w, want, rtol=1e-5)


def test_weight_decay_mask():
  params = {"kernel": jnp.ones(2), "bias": jnp.ones(2)}
  opt = adamax(0.1, weight_decay=0.5, weight_decay_mask={"kernel": True, "bias": False})
  zeros = jax.tree.map(jnp.zeros_like, params)
  updates, _ = opt.update(zeros, opt.init(params), params)
  assert np.all(np.asarray(updates["kernel"]) < 0)
  np.testing.assert_array_equal(updates["bias"], 0)


def test_inject_hyperparams_every_numeric_argument():
  opt = optax.inject_hyperparams(adamax)(
    learning_rate=0.01,
    b1=0.9,
    b2=0.99,
    eps=1e-6,
    gradient_scale=2.0,
    clip_value=1.0,
    weight_decay=1e-3,
  )
  params = jnp.ones(3)
  state = opt.init(params)
  assert set(state.hyperparams) >= {
    "learning_rate",
    "b1",
    "b2",
    "eps",
    "gradient_scale",
    "clip_value",
    "weight_decay",
  }
  step = jax.jit(opt.update)
  updates, state = step(params, state, params)
  state.hyperparams["learning_rate"] = jnp.zeros_like(state.hyperparams["learning_rate"])
  zero_updates, _ = step(params, state, params)  # same shapes: no recompile, and not ignored
  assert np.all(np.asarray(updates) < 0)
  np.testing.assert_array_equal(zero_updates, 0)
  assert step._cache_size() == 1


def test_params_none_allowed_without_weight_decay():
  opt = adamax(0.1, clip_value=1.0)
  updates, _ = opt.update(jnp.ones(2), opt.init(jnp.ones(2)))
  assert updates.shape == (2,)


def test_params_none_rejected_with_optax_message_when_decay_needs_them():
  opt = adamax(0.1, weight_decay=0.1)
  with pytest.raises(ValueError, match="You are using a transformation that requires"):
    opt.update(jnp.ones(2), opt.init(jnp.ones(2)))


@pytest.mark.parametrize(
  "kwargs, message",
  [
    ({"b1": 1.0}, r"b1 must be in \[0.0, 1.0\)"),
    ({"b1": -0.1}, r"b1 must be in \[0.0, 1.0\)"),
    ({"b2": 1.5}, r"b2 must be in \[0.0, 1.0\]"),
    ({"eps": -1e-8}, r"eps must be in \[0.0, inf\)"),
    ({"eps": float("nan")}, "eps must be a finite number"),
    ({"learning_rate": "0.1"}, "learning_rate must be a number, a 0-d array or an optax"),
    ({"learning_rate": float("inf")}, "learning_rate must be a finite number"),
    ({"clip_value": 0.0}, r"clip_value must be in \(0.0, inf\)"),
    ({"weight_decay": -1.0}, r"weight_decay must be in \[0.0, inf\)"),
    ({"b1": True}, "b1 must be a number"),
    ({"learning_rate": jnp.ones(2)}, "learning_rate must be a scalar"),
  ],
)
def test_bad_hyperparameters_rejected_at_construction(kwargs, message):
  kwargs = {"learning_rate": 0.1, **kwargs}
  with pytest.raises((ValueError, TypeError), match=message):
    adamax(**kwargs)


def test_public_api():
  for name in adamax_optax.__all__:
    assert getattr(adamax_optax, name).__doc__, name
