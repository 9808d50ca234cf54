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


# --- a drop-in for optax: the same inputs optax takes, with optax's results ------------


def test_adamaxw_takes_a_weight_decay_schedule_as_optax_does():
  schedule = optax.linear_schedule(0.3, 0.01, transition_steps=60)
  ours = closed_loop(adamax_optax.adamaxw(0.003, weight_decay=schedule), steps=100)
  theirs = closed_loop(optax.adamaxw(0.003, weight_decay=schedule), steps=100)
  assert first_difference(ours, theirs) is None


def test_adamaxw_with_a_schedule_and_a_mask_is_optax_adamaxw_bit_for_bit():
  schedule = lambda count: 0.2 / (1.0 + count)
  mask = lambda params: {k: k != "bias" for k in params}
  ours = closed_loop(adamax_optax.adamaxw(0.01, weight_decay=schedule, mask=mask), steps=50)
  theirs = closed_loop(optax.adamaxw(0.01, weight_decay=schedule, mask=mask), steps=50)
  assert first_difference(ours, theirs) is None


def test_adamax_takes_mask_as_adamaxw_does():
  params = {"kernel": jnp.full(2, 2.0), "bias": jnp.full(2, 2.0)}
  grads = {"kernel": jnp.ones(2), "bias": jnp.ones(2)}
  mask = {"kernel": True, "bias": False}
  by_mask = adamax(0.1, weight_decay=0.5, mask=mask)
  by_old_name = adamax(0.1, weight_decay=0.5, weight_decay_mask=mask)
  a = by_mask.update(grads, by_mask.init(params), params)[0]
  b = by_old_name.update(grads, by_old_name.init(params), params)[0]
  assert first_difference([a], [b]) is None
  # The masked-out leaf steps as without decay; the decayed one as optax's chain computes it.
  undecayed = optax.adamax(0.1)
  c = undecayed.update(grads, undecayed.init(params), params)[0]
  np.testing.assert_array_equal(a["bias"], c["bias"])
  chained = optax.chain(optax.add_decayed_weights(0.5, mask), optax.adamax(0.1))
  d = chained.update(grads, chained.init(params), params)[0]
  np.testing.assert_allclose(a["kernel"], d["kernel"], rtol=1e-6)
  with pytest.raises(TypeError, match="got both mask= and weight_decay_mask="):
    adamax(0.1, weight_decay=0.5, mask=mask, weight_decay_mask=mask)


@pytest.mark.parametrize("name", ["adamax", "adamaxw"])
def test_a_python_float_leaf_trains_as_in_optax(name):
  ours, theirs = getattr(adamax_optax, name)(0.01), getattr(optax, name)(0.01)
  params = {"w": jnp.array([1.0, -2.0]), "scale": 1.0}
  results = []
  for opt in (ours, theirs):
    p, state = params, opt.init(params)
    for _ in range(3):
      grads = jax.tree.map(lambda x: 2.0 * x, p)
      updates, state = jax.jit(opt.update)(grads, state, p)
      p = optax.apply_updates(p, updates)
    results.append(p)
  assert first_difference([results[0]], [results[1]]) is None


def test_an_optax_adamax_checkpoint_restores_into_the_alias():
  """docs/training.md's recipe: restore optax's tree, read its moments, load them here."""
  params = multi_leaf_tree()
  grads = jax.tree.map(lambda p: jnp.sin(2 * p), params)
  theirs = optax.adamax(0.01)
  their_state = jax.jit(theirs.update)(grads, theirs.init(params), params)[1]
  # What a restore with optax's tree as the target gives: arrays of the same values.
  target = jax.eval_shape(theirs.init, params)
  restored = jax.tree.unflatten(
    jax.tree.structure(target), [np.asarray(x) for x in jax.tree.leaves(their_state)]
  )
  mu, nu, step = adamax_optax.moments(restored)
  ours = adamax(0.01)
  state = adamax_optax.load_state(ours, params, mu=mu, nu=nu, step=step)
  a = jax.jit(ours.update)(grads, state, params)[0]
  b = jax.jit(theirs.update)(grads, their_state, params)[0]
  assert first_difference([a], [b]) is None
