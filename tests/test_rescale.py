"""rescale and negate_gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from adamax_optax import negate_gradients, rescale


def test_rescale_multiplies_and_keeps_dtype():
  g = {"a": jnp.array([2.0, -4.0], jnp.bfloat16)}
  out, _ = rescale(0.25).update(g, None)
  assert out["a"].dtype == jnp.bfloat16
  np.testing.assert_array_equal(out["a"], [0.5, -1.0])


@pytest.mark.parametrize("enabled", [True, False, 1, 0])
def test_negate_gradients_static_and_traced(enabled):
  g = jnp.array([1.5, -2.0, 0.0])
  want = -g if enabled else g
  static, _ = negate_gradients(enabled).update(g, None)
  np.testing.assert_array_equal(static, want)
  traced = jax.jit(lambda flag, g: negate_gradients(flag).update(g, None)[0])(
    jnp.asarray(enabled), g
  )
  np.testing.assert_array_equal(traced, want)


def test_negate_gradients_rejects_non_flags():
  with pytest.raises(TypeError, match="must be a bool"):
    negate_gradients("yes")
  with pytest.raises(TypeError, match="must be a bool"):
    negate_gradients(jnp.ones(2))


def test_negate_gradients_under_inject_hyperparams():
  opt = optax.inject_hyperparams(negate_gradients)(enabled=1)
  g = jnp.ones(2)
  state = opt.init(g)
  np.testing.assert_array_equal(opt.update(g, state)[0], -g)
