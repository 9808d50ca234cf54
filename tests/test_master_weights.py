"""multi_precision: float32 master copies that apply_updates reproduces exactly."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
from hypothesis import assume, given
from hypothesis import strategies as st

from adamax_optax import MultiPrecisionState, in_higher_precision, multi_precision, scale_by_adamax


def test_state_holds_masters_only_for_low_precision_leaves():
  params = {"half": jnp.ones(3, jnp.float16), "bf": jnp.ones(2, jnp.bfloat16), "full": jnp.ones(2)}
  opt = multi_precision(scale_by_adamax(learning_rate=0.01))
  state = opt.init(params)
  assert isinstance(state, MultiPrecisionState)
  assert state.master["half"].dtype == jnp.float32 and state.master["bf"].dtype == jnp.float32
  assert state.master["full"] is None
  assert state.inner.mu["half"].dtype == jnp.float32


def test_matches_float32_training_cast_at_every_step():
  rng = np.random.default_rng(0)
  w32 = rng.normal(size=50).astype(np.float32)
  grads = rng.normal(size=(30, 50)).astype(np.float16)
  inner = scale_by_adamax(learning_rate=0.01)
  opt = multi_precision(inner)
  w16 = jnp.asarray(w32, jnp.float16)
  master = jnp.asarray(w16, jnp.float32)
  state, ref_state = opt.init(w16), inner.init(master)
  step = jax.jit(opt.update)

  @jax.jit  # float32 training, compiled as the masters' update is
  def reference_step(g, ref_state, master):
    ref_updates, ref_state = inner.update(g, ref_state, master)
    return optax.apply_updates(master, ref_updates), ref_state

  for g in grads:
    updates, state = step(g, state, w16)
    w16 = optax.apply_updates(w16, updates)
    master, ref_state = reference_step(jnp.asarray(g, jnp.float32), ref_state, master)
    np.testing.assert_array_equal(state.master, master)
    np.testing.assert_array_equal(w16, master.astype(jnp.float16))


finite_f16 = st.floats(-60000, 60000, width=16, allow_subnormal=True)


@given(old=finite_f16, factor=st.floats(2.0**-12, 2.0**12))
def test_apply_updates_gives_the_cast_master_exactly(old, factor):
  """Within the documented range (new/old within 2**13), the cast is reproduced."""
  target = np.float32(old * factor)
  assume(abs(target) <= 60000)
  w = jnp.asarray([old], jnp.float16)
  opt = multi_precision(
    optax.GradientTransformation(
      lambda p: optax.EmptyState(),
      lambda u, s, p=None: (jax.tree.map(lambda x, m: target - m, u, p), s),
    )
  )
  updates, _ = opt.update(w, opt.init(w), w)
  assert optax.apply_updates(w, updates)[0] == np.float16(target)


@given(old=finite_f16, step=st.floats(-1e3, 1e3, width=32))
def test_in_higher_precision_rounds_the_float32_result_once(old, step):
  """The float32 update makes apply_updates round w + step once, for any step."""
  w = jnp.asarray([old], jnp.float16)
  opt = in_higher_precision(
    optax.GradientTransformation(
      lambda p: optax.EmptyState(),
      lambda u, s, p=None: (jax.tree.map(lambda x: jnp.full_like(x, step), u), s),
    )
  )
  updates, _ = opt.update(w, opt.init(w), w)
  assert updates.dtype == jnp.float32
  want = np.float16(np.float32(np.float32(old) + np.float32(step)))
  assert optax.apply_updates(w, updates)[0] == want


def test_in_higher_precision_keeps_state_in_the_params_dtype_and_passes_float32_through():
  params = {"half": jnp.ones(2, jnp.float16), "full": jnp.ones(2)}
  opt = in_higher_precision(scale_by_adamax())
  state = opt.init(params)
  assert state.mu["half"].dtype == jnp.float16 and state.mu["full"].dtype == jnp.float32
  updates, state = opt.update(params, state, params)
  assert updates["full"].dtype == jnp.float32 and state.nu["half"].dtype == jnp.float16
