"""rescale, add_decayed_weights and add_decoupled_weight_decay."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from adamax_optax import add_decayed_weights, add_decoupled_weight_decay, rescale


def test_rescale_rounds_the_product_before_a_later_add():
  rng = np.random.default_rng(0)
  g, w = rng.normal(size=(2, 4096)).astype(np.float32)
  chain = optax.chain(rescale(0.3), add_decayed_weights(0.7))
  got = jax.jit(chain.update)(g, chain.init(w), w)[0]
  want = g * np.float32(0.3) + w * np.float32(0.7)  # NumPy: two roundings, then the add
  np.testing.assert_array_equal(got, want)


def test_fused_decay_is_one_fused_multiply_add():
  rng = np.random.default_rng(1)
  g, w = rng.normal(size=(2, 4096)).astype(np.float32)
  got = jax.jit(add_decayed_weights(0.7, fused=True).update)(g, None, w)[0]
  fma = (w.astype(np.float64) * np.float32(0.7) + g).astype(np.float32)
  np.testing.assert_array_equal(got, fma)


def test_per_leaf_rates_and_mask():
  params = {"a": jnp.ones(2), "b": jnp.ones(2), "c": jnp.ones(2)}
  zeros = jax.tree.map(jnp.zeros_like, params)
  rates = {"a": 0.1, "b": 0.2, "c": 0.3}
  decay = add_decayed_weights(rates, mask={"a": True, "b": True, "c": False})
  updates, _ = decay.update(zeros, decay.init(params), params)
  np.testing.assert_allclose(updates["a"], 0.1)
  np.testing.assert_allclose(updates["b"], 0.2)
  np.testing.assert_array_equal(updates["c"], 0.0)


def test_decoupled_decay_reproduces_keras_order():
  w = np.array([0.5, -1.5, 3.0], np.float32)
  step = np.array([-1e-3, 2e-3, 0.0], np.float32)
  updates, _ = add_decoupled_weight_decay(0.01, 0.002).update(step, None, w)
  new_w = optax.apply_updates(w, updates)
  want = (w - (w * np.float32(0.01)) * np.float32(0.002)) + step
  np.testing.assert_array_equal(new_w, want)


@pytest.mark.parametrize(
  "build",
  [lambda: add_decayed_weights(0.1), lambda: add_decoupled_weight_decay(0.1, 0.01)],
)
def test_params_required(build):
  with pytest.raises(ValueError, match="requires the current value of parameters"):
    build().update(jnp.ones(2), optax.EmptyState())


def test_bad_rates():
  with pytest.raises(ValueError, match="factor must be a finite number"):
    rescale(float("nan"))
  with pytest.raises(TypeError, match="weight_decay must be a number"):
    add_decayed_weights("0.1")
  with pytest.raises(ValueError, match=r"weight_decay must be in \[0.0, inf\)"):
    add_decoupled_weight_decay(-0.1, 0.01)


def test_a_rate_tree_of_the_wrong_structure_is_named():
  opt = add_decayed_weights([0.1, 0.2])
  params = {"w": jnp.ones(2)}
  with pytest.raises(ValueError, match="weight_decay, a pytree of per-parameter rates"):
    opt.update(params, opt.init(params), params)


@pytest.mark.parametrize("mask", [None, {"w": True, "b": False}])
def test_a_weight_decay_schedule_is_optax_add_decayed_weights(mask):
  schedule = optax.exponential_decay(0.5, transition_steps=1, decay_rate=0.5)
  params = {"w": jnp.array([1.0, -2.0, 3.0]), "b": jnp.array([0.5, 0.25])}
  ours, theirs = add_decayed_weights(schedule, mask), optax.add_decayed_weights(schedule, mask)
  our_state, their_state = ours.init(params), theirs.init(params)
  for step in range(4):
    grads = jax.tree.map(lambda p, step=step: jnp.cos(p + step), params)
    a, our_state = jax.jit(ours.update)(grads, our_state, params)
    b, their_state = jax.jit(theirs.update)(grads, their_state, params)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
      np.testing.assert_array_equal(x, y)
  assert int(our_state.count) == 4


def test_a_weight_decay_schedule_returning_an_array_is_named():
  decay = add_decayed_weights(lambda count: jnp.ones(2))
  w = jnp.ones(2)
  with pytest.raises(ValueError, match="The weight_decay schedule must return a scalar"):
    decay.update(w, decay.init(w), w)
