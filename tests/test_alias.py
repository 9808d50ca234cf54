"""The adamax alias: optax parity, its options against a NumPy replay, validation."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adamax_optax
from adamax_optax import adamax


def multi_leaf_tree(seed=0):
  """About 35,000 parameters in leaves of several shapes, a 0-d one included."""
  rng = np.random.default_rng(seed)
  shapes = {"kernel": (120, 250), "bias": (4000,), "conv": (7, 3, 5), "embed": (64, 33), "s": ()}
  return {k: jnp.asarray(rng.normal(size=shape), jnp.float32) for k, shape in shapes.items()}


def closed_loop(opt, steps=300):
  """Params and moments after every jitted step; each gradient comes from the params."""
  params = multi_leaf_tree()
  targets = jax.tree.map(lambda p: 0.5 * p + 0.1, params)

  def loss(params, t):
    return sum(
      jnp.sum(0.5 * (p - y) ** 2 + 0.01 * jnp.sin(3 * p + t) * p)
      for p, y in zip(jax.tree.leaves(params), jax.tree.leaves(targets), strict=True)
    )

  @jax.jit
  def step(params, state, t):
    updates, state = opt.update(jax.grad(loss)(params, t), state, params)
    return optax.apply_updates(params, updates), state

  state, history = opt.init(params), []
  for t in range(steps):
    params, state = step(params, state, jnp.float32(t))
    history.append((params, *adamax_optax.moments(state)[:2]))
  return history


def first_difference(ours, theirs):
  """``None``, or (step, leaf, element) of the first differing bit."""
  for t, (a, b) in enumerate(zip(ours, theirs, strict=True), start=1):
    for leaf, (x, y) in enumerate(zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)):
      x, y = np.asarray(x), np.asarray(y)
      if not np.array_equal(x.view(np.uint32), y.view(np.uint32)):
        return t, leaf, int(np.flatnonzero(x.view(np.uint32) != y.view(np.uint32))[0])
  return None


@pytest.mark.parametrize("learning_rate", [0.003, optax.cosine_decay_schedule(0.01, 300)])
def test_alias_is_optax_adamax_bit_for_bit_under_jit(learning_rate):
  ours, theirs = closed_loop(adamax(learning_rate)), closed_loop(optax.adamax(learning_rate))
  assert first_difference(ours, theirs) is None


@pytest.mark.parametrize("learning_rate", [0.003, optax.cosine_decay_schedule(0.01, 300)])
def test_adamaxw_is_optax_adamaxw_bit_for_bit_under_jit(learning_rate):
  ours = closed_loop(adamax_optax.adamaxw(learning_rate, weight_decay=0.1))
  theirs = closed_loop(optax.adamaxw(learning_rate, weight_decay=0.1))
  assert first_difference(ours, theirs) is None


def test_a_run_moves_from_optax_to_the_alias_and_back():
  params = multi_leaf_tree()
  grads = jax.tree.map(lambda p: jnp.cos(3 * p), params)
  theirs = optax.adamax(0.01)
  _, state = jax.jit(theirs.update)(grads, theirs.init(params), params)
  mu, nu, step = adamax_optax.moments(state)
  ours = adamax(0.01)
  moved = adamax_optax.load_state(ours, params, mu=mu, nu=nu, step=step)
  # Both continue with the same bits, and the state converts back unchanged.
  a = jax.jit(ours.update)(grads, moved, params)[0]
  b = jax.jit(theirs.update)(grads, state, params)[0]
  assert first_difference([a], [b]) is None
  back = adamax_optax.load_state(theirs, params, mu=mu, nu=nu, step=step)
  assert jax.tree.structure(back) == jax.tree.structure(state)
  assert first_difference([back], [state]) is None


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
    ({"learning_rate": -1e-3}, r"learning_rate must be in \[0.0, inf\)"),
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
