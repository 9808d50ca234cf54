"""Every preset and the alias behave like a well-formed optax optimizer.

Modelled on optax's own optimizer suite: convergence, compilation, the optax wrappers
people compose with, abstract init, state stability and dtypes.
"""

from __future__ import annotations

import inspect

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from harness import PRESETS

EXTRA = {"mxnet1": {"safe": True}}  # 1.x's 0/0 would make NaN at an exact optimum
NAMES = sorted(PRESETS)
COMPLEX = ("torch", "mindspore", "adamax")  # epsilon inside the max: pairs of reals


def make(name, lr=0.05, **overrides):
  factory, lr_name = PRESETS[name]
  return factory(**{lr_name: lr, **EXTRA.get(name, {}), **overrides})


def injected(name, lr=0.05):
  factory, lr_name = PRESETS[name]
  return optax.inject_hyperparams(factory)(**{lr_name: lr, **EXTRA.get(name, {})})


def quadratic(params):
  return sum(jnp.sum(jnp.abs(p - 1.5) ** 2) for p in jax.tree.leaves(params))


def rosenbrock(params):
  x, y = params["x"], params["y"]
  return jnp.sum((1 - x) ** 2 + 100 * (y - x**2) ** 2)


def run(opt, loss, params, steps):
  """``steps`` jitted steps of ``opt`` on ``loss`` (a fori_loop: one compilation)."""

  def body(_, carry):
    params, state = carry
    grads = jax.grad(loss)(params)
    if jnp.iscomplexobj(jax.tree.leaves(params)[0]):
      grads = jax.tree.map(jnp.conj, grads)  # the descent direction of a real loss
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  init = lambda p: jax.lax.fori_loop(0, steps, body, (p, opt.init(p)))[0]
  return jax.jit(init)(params)


@pytest.mark.parametrize("name", NAMES)
def test_converges_on_a_quadratic(name):
  params = {"a": jnp.zeros((2, 3)), "b": jnp.array([-4.0, 4.0])}
  final = run(make(name, lr=0.1), quadratic, params, 400)
  assert float(quadratic(final)) < 1e-2


@pytest.mark.parametrize("name", NAMES)
def test_converges_on_rosenbrock(name):
  params = {"x": jnp.array([-1.0]), "y": jnp.array([1.5])}
  final = run(make(name, lr=0.01), rosenbrock, params, 10000)
  assert float(rosenbrock(final)) < 1e-5


@pytest.mark.parametrize("name", COMPLEX)
def test_converges_on_a_complex_quadratic(name):
  params = {"z": jnp.array([3.0 - 2.0j, -1.0 + 4.0j], jnp.complex64)}
  final = run(make(name, lr=0.1), quadratic, params, 400)
  assert float(quadratic(final)) < 1e-2


@pytest.mark.parametrize("name", NAMES)
def test_second_jitted_step_does_not_recompile(name):
  opt = make(name)
  traces = []

  @jax.jit
  def step(params, state, grads):
    traces.append(1)
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  params = {"w": jnp.ones(3), "b": jnp.zeros(2)}
  state = opt.init(params)
  for _ in range(3):
    params, state = step(params, state, jax.tree.map(jnp.ones_like, params))
  assert len(traces) == 1


@pytest.mark.parametrize("name", NAMES)
def test_extra_keyword_arguments_to_update_are_accepted(name):
  opt = make(name)
  params = {"w": jnp.ones(3)}
  updates, _ = opt.update(params, opt.init(params), params, loss=jnp.ones(()), batch=7)
  chex.assert_tree_all_finite(updates)


@pytest.mark.parametrize("name", NAMES)
def test_inject_hyperparams_same_results_and_live_learning_rate(name):
  params = {"w": jnp.array([0.5, -2.0, 3.0])}
  plain, inj = make(name), injected(name)
  loss = lambda p: jnp.sum(p["w"] ** 2)
  np.testing.assert_allclose(
    run(inj, loss, params, 5)["w"], run(plain, loss, params, 5)["w"], rtol=1e-6
  )
  traces = []

  @jax.jit
  def step(params, state):
    traces.append(1)
    updates, state = inj.update(jax.grad(loss)(params), state, params)
    return optax.apply_updates(params, updates), state

  state = inj.init(params)
  lr_name = PRESETS[name][1]
  state.hyperparams[lr_name] = jnp.asarray(0.0)
  frozen, state = step(params, state)
  np.testing.assert_array_equal(frozen["w"], params["w"])  # lr 0: not ignored
  state.hyperparams[lr_name] = jnp.asarray(0.05)
  moved, state = step(frozen, state)
  assert not np.array_equal(moved["w"], frozen["w"])
  assert len(traces) == 1


@pytest.mark.parametrize("name", NAMES)
def test_multi_steps_accumulates(name):
  opt = optax.MultiSteps(make(name), every_k_schedule=3)
  params = {"w": jnp.ones(2)}
  state = opt.init(params)
  step = jax.jit(opt.update)
  for k in range(3):
    updates, state = step({"w": jnp.full(2, float(k + 1))}, state, params)
    moved = bool(jnp.any(updates["w"] != 0))
    assert moved == (k == 2)
  plain = make(name)
  want, _ = plain.update({"w": jnp.full(2, 2.0)}, plain.init(params), params)
  np.testing.assert_allclose(updates["w"], want["w"], rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_masked_and_multi_transform(name):
  params = {"w": jnp.ones(2), "frozen": jnp.ones(2)}
  grads = jax.tree.map(jnp.ones_like, params)
  masked = optax.masked(make(name), {"w": True, "frozen": False})
  updates, _ = jax.jit(masked.update)(grads, masked.init(params), params)
  assert np.all(updates["w"] < 0) and np.array_equal(updates["frozen"], grads["frozen"])
  multi = optax.multi_transform(
    {"train": make(name), "freeze": optax.set_to_zero()}, {"w": "train", "frozen": "freeze"}
  )
  updates, _ = jax.jit(multi.update)(grads, multi.init(params), params)
  assert np.all(updates["w"] < 0) and np.all(updates["frozen"] == 0)


@pytest.mark.parametrize("name", NAMES)
def test_apply_if_finite_skips_a_nan_step(name):
  opt = optax.apply_if_finite(make(name), max_consecutive_errors=3)
  params = {"w": jnp.ones(2)}
  state = opt.init(params)
  updates, state = jax.jit(opt.update)({"w": jnp.array([jnp.nan, 1.0])}, state, params)
  assert np.all(updates["w"] == 0) and int(state.notfinite_count) == 1
  updates, state = jax.jit(opt.update)({"w": jnp.ones(2)}, state, params)
  assert np.all(updates["w"] < 0) and int(state.notfinite_count) == 0


@pytest.mark.parametrize("name", NAMES)
def test_state_type_and_dtype_stable_under_cond(name):
  opt = make(name)
  params = {"w": jnp.ones(3)}
  state = opt.init(params)

  @jax.jit
  def maybe_step(flag, state):
    return jax.lax.cond(flag, lambda s: opt.update(params, s, params)[1], lambda s: s, state)

  new_state = maybe_step(True, state)
  chex.assert_trees_all_equal_dtypes(state, new_state)
  chex.assert_trees_all_equal_shapes(state, new_state)
  assert jax.tree.structure(state) == jax.tree.structure(new_state)


@pytest.mark.parametrize("name", NAMES)
def test_abstract_init(name):
  opt = make(name)
  params = {
    "w": jax.ShapeDtypeStruct((3, 2), jnp.float32),
    "b": jax.ShapeDtypeStruct((2,), jnp.float32),
  }
  abstract = jax.eval_shape(opt.init, params)
  concrete = opt.init(jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), params))
  assert jax.tree.structure(abstract) == jax.tree.structure(concrete)
  chex.assert_trees_all_equal_shapes_and_dtypes(abstract, concrete)
  direct = opt.init(params)  # ShapeDtypeStruct leaves, outside any trace
  chex.assert_trees_all_equal_shapes_and_dtypes(direct, concrete)


@pytest.mark.parametrize("name", NAMES)
def test_tree_map_params_reaches_every_moment(name):
  opt = make(name)
  params = {"w": jnp.ones((3, 2)), "b": jnp.ones(2)}
  state = opt.init(params)
  mapped = optax.tree.map_params(opt, lambda p: jnp.full_like(p, 7.0), state)
  moments = [
    leaf for leaf in jax.tree.leaves(mapped) if getattr(leaf, "shape", ()) in ((3, 2), (2,))
  ]
  assert len(moments) >= 2 * len(jax.tree.leaves(params))
  assert all(bool(jnp.all(leaf == 7.0)) for leaf in moments)


# The documented exception: their frameworks round w + step once from float32, so their
# updates of 16-bit params are float32 and optax.apply_updates rounds once too.
FLOAT32_UPDATES_FOR_16BIT = {"torch", "mindspore_nn"}


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
@pytest.mark.parametrize("name", NAMES)
def test_update_dtype_is_the_gradient_dtype_but_where_documented(name, dtype):
  opt = make(name)
  params = {"w": jnp.ones(3, dtype)}
  if name == "paddle" and dtype == jnp.bfloat16:  # as Paddle's CPU kernel, it refuses
    with pytest.raises(TypeError, match="no float16 or bfloat16 kernel"):
      opt.init(params)
    return
  updates, _ = jax.jit(opt.update)(params, opt.init(params), params)
  want = jnp.float32 if name in FLOAT32_UPDATES_FOR_16BIT else dtype
  assert updates["w"].dtype == want
  new = optax.apply_updates(params, updates)
  assert new["w"].dtype == dtype


DECAY = {  # each preset's own weight-decay keyword, so the decay stage is in the chain
  "adamax": {"weight_decay": 0.01, "clip_value": 1.0},
  "mxnet": {"wd": 0.01},
  "mxnet1": {"wd": 0.01},
  "mindspore": {"weight_decay": 0.01},
  "mindspore_nn": {"weight_decay": 0.01},
  "torch": {"weight_decay": 0.01},
  "keras": {"weight_decay": 0.004},
  "paddle": {"weight_decay": 0.01},
}


def float_defaults_as_arrays(name) -> dict:
  """Every float argument of the preset that defaults to a number, as a 0-d array."""
  factory, lr_name = PRESETS[name]
  signature = inspect.signature(factory)
  arrays = {
    key: jnp.asarray(p.default, jnp.float32)
    for key, p in signature.parameters.items()
    if isinstance(p.default, float)
  }
  return {**arrays, lr_name: jnp.asarray(0.05, jnp.float32)}


@pytest.mark.parametrize("name", NAMES)
def test_state_structure_is_one_for_plain_injected_and_array_arguments(name):
  """A checkpoint of the plain optimizer restores into the injected one and back."""
  params = {"w": jnp.ones((2, 3)), "b": jnp.zeros(3)}
  factory = PRESETS[name][0]
  plain = jax.tree.structure(make(name).init(params))
  inner = jax.tree.structure(injected(name).init(params).inner_state)
  arrays = jax.tree.structure(
    factory(**float_defaults_as_arrays(name), **EXTRA.get(name, {})).init(params)
  )
  assert plain == inner == arrays


@pytest.mark.parametrize("name", NAMES)
def test_eager_update_equals_jitted_update(name):
  params = {"w": jnp.linspace(-1.0, 1.0, 12).reshape(3, 4), "b": jnp.array([0.5, -0.25, 2.0])}
  opt = make(name, lr=0.01, **DECAY[name])
  jitted = jax.jit(opt.update)
  eager_params, eager_state = params, opt.init(params)
  jit_params, jit_state = params, opt.init(params)
  for t in range(6):
    grads = jax.tree.map(lambda p, t=t: jnp.cos(7.0 * p + t) * 10.0 ** (t % 3 - 1), eager_params)
    updates, eager_state = opt.update(grads, eager_state, eager_params)
    eager_params = optax.apply_updates(eager_params, updates)
    updates, jit_state = jitted(grads, jit_state, jit_params)
    jit_params = optax.apply_updates(jit_params, updates)
  chex.assert_trees_all_equal((eager_params, eager_state), (jit_params, jit_state))
