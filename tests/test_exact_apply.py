"""The exact-apply path (``exact_apply=True``, NewValue updates) and 16-bit updates in the
params' dtype (``updates_in_param_dtype=True``), through every stage that sees updates."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adamax_optax as ax
from adamax_optax.keras.optimizers import ema_params


def bits_equal(a, b) -> bool:
  a, b = np.asarray(a), np.asarray(b)
  return a.dtype == b.dtype and a.tobytes() == b.tobytes()


def run(opt, params, grads, apply):
  """``opt`` over ``grads`` under ``jax.jit``; the params after each step."""
  state = opt.init(params)

  @jax.jit
  def step(params, state, g):
    updates, state = opt.update(g, state, params)
    return apply(params, updates), state

  out = []
  for g in grads:
    params, state = step(params, state, g)
    out.append(params)
  return out, state


def keras_decoupled_step(w, step, weight_decay, lr):
  """Keras's eager order in NumPy float32: ``(w - (w * wd) * lr) + step``."""
  f = np.float32
  decayed = w - (w * f(weight_decay)).astype(f) * f(lr)
  return (decayed.astype(f) + step).astype(f)


def test_new_value_is_set_exactly_and_refused_by_optax_apply_updates():
  w = jnp.array([1.0, 2.0])
  value = jnp.array([-3.0, 0.5])
  assert bits_equal(ax.apply_updates(w, ax.NewValue(value, jnp.asarray(True))), value)
  assert bits_equal(ax.apply_updates(w, ax.NewValue(value, jnp.asarray(False))), w)
  with pytest.raises(TypeError, match=r"adamax_optax\.apply_updates"):
    optax.apply_updates(w, ax.NewValue(value, jnp.asarray(True)))
  with pytest.raises(TypeError, match="exact_apply=True"):
    np.ones(2, np.float32) + ax.NewValue(value, jnp.asarray(True))


def test_decoupled_decay_lands_where_the_difference_cannot():
  # 0.3 and -1.1: the decayed weight 0.2625 crosses zero to -0.8375; new - old in float32
  # is not exact there, and optax.apply_updates lands an ulp off.
  w, step = jnp.array([0.3, 2.0], jnp.float32), jnp.array([-1.1, -0.5], jnp.float32)
  want = keras_decoupled_step(np.asarray(w), np.asarray(step), 0.25, 0.5)
  plain = ax.add_decoupled_weight_decay(0.25, 0.5)
  exact = ax.add_decoupled_weight_decay(0.25, 0.5, exact_apply=True)
  by_difference = optax.apply_updates(w, plain.update(step, plain.init(w), w)[0])
  updates = exact.update(step, exact.init(w), w)[0]
  assert isinstance(updates, ax.NewValue)
  assert not bits_equal(by_difference, want)
  assert bits_equal(ax.apply_updates(w, updates), want)
  # an undecayed leaf (masked off) is a new value too: w + step
  masked = ax.add_decoupled_weight_decay(0.25, 0.5, mask=[False], exact_apply=True)
  (leaf,), _ = masked.update([step], masked.init([w]), [w])
  assert bits_equal(ax.apply_updates([w], [leaf])[0], w + step)


@pytest.mark.parametrize("factory", [ax.keras_adamax, ax.torch_adamax, ax.mindspore_nn_adamax])
def test_exact_apply_equals_the_default_where_the_difference_is_exact(factory):
  # Small steps on weights of order 1: every move is within a factor of two, so the two
  # paths give the same bits; the integer leaf is left alone by both.
  rng = np.random.default_rng(0)
  params = {"w": jnp.asarray(rng.normal(1.0, 0.1, (4, 3)), jnp.float32), "n": jnp.arange(3)}
  grads = [
    {"w": jnp.asarray(rng.normal(size=(4, 3)), jnp.float32), "n": np.zeros(3, jax.dtypes.float0)}
    for _ in range(5)
  ]
  kwargs = {"weight_decay": 0.01}
  plain, _ = run(factory(0.01, **kwargs), params, grads, optax.apply_updates)
  exact, _ = run(factory(0.01, exact_apply=True, **kwargs), params, grads, ax.apply_updates)
  for a, b in zip(plain, exact, strict=True):
    assert bits_equal(a["w"], b["w"]) and bits_equal(a["n"], b["n"])


@pytest.mark.parametrize("factory", [ax.keras_adamax, ax.torch_adamax])
def test_a_skipped_step_keeps_the_params(factory):
  opt = factory(0.1, weight_decay=0.5, exact_apply=True, skip_nonfinite=True)
  w = jnp.array([1.0, -2.0])
  updates, state = opt.update(jnp.array([jnp.nan, 1.0]), opt.init(w), w)
  assert bits_equal(ax.apply_updates(w, updates), w)
  updates, _ = opt.update(jnp.array([1.0, -1.0]), state, w)
  assert not np.any(np.asarray(ax.apply_updates(w, updates)) == np.asarray(w))


def test_keras_accumulation_keeps_the_params_between_its_updates():
  opt = ax.keras_adamax(0.1, weight_decay=0.5, gradient_accumulation_steps=3, exact_apply=True)
  w = jnp.array([1.0, -0.0, 3.0])
  grads = [jnp.array([1.0, 2.0, -1.0])] * 6
  got, _ = run(opt, w, grads, ax.apply_updates)
  for t in (0, 1, 3, 4):  # calls 1, 2, 4, 5 accumulate
    before = w if t == 0 else got[t - 1]
    assert bits_equal(got[t], before)
  assert not bits_equal(got[2], got[1]) and not bits_equal(got[5], got[4])
  plain, _ = run(
    ax.keras_adamax(0.1, weight_decay=0.5, gradient_accumulation_steps=3),
    w,
    grads,
    optax.apply_updates,
  )
  assert bits_equal(plain[2][:1], got[2][:1])  # 1.0 moves by less than a factor of two


@pytest.mark.parametrize("jit_compile", [False, True])
def test_keras_ema_overwrite_sets_the_average_exactly(jit_compile):
  opt = ax.keras_adamax(
    0.05,
    weight_decay=0.5,
    use_ema=True,
    ema_momentum=0.5,
    ema_overwrite_frequency=3,
    jit_compile=jit_compile,
    exact_apply=True,
  )
  rng = np.random.default_rng(1)
  w = jnp.asarray(rng.normal(size=(8,)), jnp.float32)
  grads = [jnp.asarray(rng.normal(size=(8,)), jnp.float32) for _ in range(6)]
  state = opt.init(w)
  step = jax.jit(opt.update)
  for t, g in enumerate(grads, start=1):
    updates, state = step(g, state, w)
    w = ax.apply_updates(w, updates)
    if t % 3 == 0:  # Keras's overwrite: the params become their average, bit for bit
      assert bits_equal(w, ema_params(state))


def test_lazy_rows_keeps_the_untouched_rows_of_new_values():
  opt = ax.lazy_rows(ax.keras_adamax(0.1, weight_decay=0.5, exact_apply=True))
  table = jnp.asarray(np.random.default_rng(2).normal(size=(5, 3)), jnp.float32)
  grads = jnp.zeros((5, 3)).at[jnp.array([1, 3])].set(1.0)
  updates, _ = jax.jit(opt.update)(grads, opt.init(table), table)
  new = ax.apply_updates(table, updates)
  for row in (0, 2, 4):
    assert bits_equal(new[row], table[row])
  assert not np.any(np.asarray(new[1]) == np.asarray(table[1]))


@pytest.mark.parametrize("factory", [ax.torch_adamax, ax.mindspore_nn_adamax])
@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_multisteps_over_16bit_params_with_exact_apply(factory, dtype):
  # optax.MultiSteps(torch_adamax(..., exact_apply=True)): the 16-bit weights keep their
  # dtype, stay put between real updates, and are the float32 updates' weights (w + step
  # rounded once) at each real update.
  rng = np.random.default_rng(3)
  w = jnp.asarray(rng.normal(size=(40,)), dtype)
  grads = [jnp.asarray(rng.normal(size=(40,)), dtype) for _ in range(6)]
  exact = optax.MultiSteps(factory(0.01, weight_decay=0.1, exact_apply=True), every_k_schedule=2)
  plain = optax.MultiSteps(factory(0.01, weight_decay=0.1), every_k_schedule=2)
  got, _ = run(exact, w, grads, ax.apply_updates)
  want, _ = run(plain, w, grads, optax.apply_updates)
  for t, (a, b) in enumerate(zip(got, want, strict=True)):
    assert a.dtype == dtype
    assert bits_equal(a, b)
    if t % 2 == 0:  # the first call of each pair accumulates
      assert bits_equal(a, w if t == 0 else got[t - 1])


@pytest.mark.parametrize("factory", [ax.torch_adamax, ax.mindspore_nn_adamax])
@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_updates_in_param_dtype_pass_lax_cond_wrappers(factory, dtype):
  # optax.apply_if_finite pairs the updates with the gradients under a lax.cond: the
  # default float32 updates of 16-bit params fail there, updates_in_param_dtype passes,
  # and lands on the same weights where no element moves by a factor of two.
  w = jnp.asarray(np.random.default_rng(4).normal(1.0, 0.1, (40,)), dtype)
  grads = [w * 0 + 1, w * 0 - 2, w * 0 + 1]
  with pytest.raises(TypeError, match="branches must have equal output types"):
    run(optax.apply_if_finite(factory(0.01), 2), w, grads, optax.apply_updates)
  wrapped = optax.apply_if_finite(factory(0.01, updates_in_param_dtype=True), 2)
  got, _ = run(wrapped, w, grads, optax.apply_updates)
  want, _ = run(factory(0.01), w, grads, optax.apply_updates)
  for a, b in zip(got, want, strict=True):
    assert a.dtype == dtype and bits_equal(a, b)


def test_the_two_forms_and_bad_flags_are_refused():
  with pytest.raises(ValueError, match="pass one"):
    ax.torch_adamax(exact_apply=True, updates_in_param_dtype=True)
  with pytest.raises(TypeError, match="exact_apply must be a bool"):
    ax.keras_adamax(exact_apply="yes")
  with pytest.raises(TypeError, match="exact_apply must be a bool"):
    ax.add_decoupled_weight_decay(0.1, 0.1, exact_apply=1)
  opt = ax.torch_adamax(exact_apply=True)
  with pytest.raises(ValueError, match="params"):
    opt.update(jnp.ones(2), opt.init(jnp.ones(2)))


def test_sparse_rows_carry_the_new_values_of_their_rows():
  table = jnp.asarray(np.random.default_rng(5).normal(size=(6, 3)), jnp.float32)
  grads = ax.SparseRows(jnp.array([1, 4]), jnp.ones((2, 3)))
  results = []
  for exact in (False, True):
    opt = ax.torch_adamax(0.1, weight_decay=0.1, exact_apply=exact)
    updates, _ = opt.update(grads, opt.init(table), table)
    assert isinstance(updates.values, ax.NewValue) == exact
    results.append(ax.apply_updates(table, updates))
  assert bits_equal(*results)
  assert bits_equal(results[1][jnp.array([0, 2, 3, 5])], table[jnp.array([0, 2, 3, 5])])
