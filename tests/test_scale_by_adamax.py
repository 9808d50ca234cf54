"""scale_by_adamax against NumPy replays, and its behaviour as an optax transformation."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from harness import PRESETS

from adamax_optax import Arithmetic, ScaleByAdamaxState, arithmetic, scale_by_adamax

PLACEMENTS = ("none", "denominator", "max_grad", "max_norm")


def numpy_adamax(grads, placement, lr=0.01, b1=0.9, b2=0.999, eps=1e-3):
  """Float64 replay of the textbook update for one epsilon placement."""
  w = np.zeros_like(grads[0], np.float64)
  m = np.zeros_like(w)
  u = np.zeros_like(w)
  out = []
  for t, g in enumerate(grads, start=1):
    g = g.astype(np.float64)
    m = b1 * m + (1 - b1) * g
    if placement == "max_grad":
      u = np.maximum(b2 * u, np.abs(g) + eps)
    elif placement == "max_norm":
      u = np.maximum(b2 * u + eps, np.abs(g))
    else:
      u = np.maximum(b2 * u, np.abs(g))
    d = u + eps if placement == "denominator" else u
    with np.errstate(invalid="ignore"):  # 0/0 for "none" is the point
      w = w - lr / (1 - b1**t) * m / d
    out.append(w.copy())
  return np.stack(out)


def run(opt, grads, jit=True):
  params = jnp.zeros(grads.shape[1:], jnp.float32)
  state = opt.init(params)
  step = jax.jit(opt.update) if jit else opt.update
  history = []
  for g in grads:
    updates, state = step(jnp.asarray(g), state, params)
    params = optax.apply_updates(params, updates)
    history.append(np.asarray(params))
  return np.stack(history), state


@pytest.fixture
def grads():
  rng = np.random.default_rng(0)
  g = rng.normal(size=(30, 7)).astype(np.float32)
  g[:, 0] = 0.0  # a coordinate that never moves: 0/0 for "none"
  g[5:9, 1] = 0.0
  return g


@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize(
  "recipe", ["OPTAX", "MXNET", "MXNET1", "MINDSPORE", "MINDSPORE_NN", "TORCH", "KERAS"]
)
def test_matches_float64_replay(grads, placement, recipe):
  opt = scale_by_adamax(
    0.9,
    0.999,
    1e-3,
    eps_placement=placement,
    arithmetic=getattr(arithmetic, recipe),
    learning_rate=0.01,
  )
  got, _ = run(opt, grads)
  want = numpy_adamax(grads, placement)
  if placement == "none":
    assert np.all(np.isnan(got[:, 0]))
    got, want = got[:, 1:], want[:, 1:]
  np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-7)


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_jit_and_eager_agree(grads, placement):
  opt = scale_by_adamax(eps_placement=placement, learning_rate=0.01, arithmetic=arithmetic.MXNET)
  jitted, _ = run(opt, grads[:, 1:], jit=True)
  eager, _ = run(opt, grads[:, 1:], jit=False)
  np.testing.assert_allclose(jitted, eager, rtol=1e-6)


def test_direction_without_learning_rate_is_positive():
  opt = scale_by_adamax()
  g = jnp.array([1.0, -2.0])
  updates, _ = opt.update(g, opt.init(g))
  np.testing.assert_allclose(updates, np.sign(g), rtol=1e-6)


def test_state_is_a_named_tuple_with_stable_dtypes_and_count():
  params = {"a": jnp.ones(3), "b": jnp.ones((2, 2), jnp.bfloat16)}
  opt = scale_by_adamax(learning_rate=0.1)
  state = opt.init(params)
  assert isinstance(state, ScaleByAdamaxState)
  assert state.count.dtype == jnp.int32 and state.b1_power.dtype == jnp.float32
  new_state = jax.jit(opt.update)(params, state)[1]
  chex.assert_trees_all_equal_dtypes(state, new_state)
  chex.assert_trees_all_equal_shapes(state, new_state)
  assert int(new_state.count) == 1


def test_state_dtypes_stable_under_lax_cond():
  params = {"a": jnp.ones(3), "b": jnp.ones(2, jnp.bfloat16)}
  opt = scale_by_adamax(learning_rate=0.1, mu_dtype=jnp.bfloat16)
  state = opt.init(params)

  @jax.jit
  def maybe_step(flag, state):
    return jax.lax.cond(flag, lambda s: opt.update(params, s)[1], lambda s: s, state)

  chex.assert_trees_all_equal_dtypes(maybe_step(True, state), state)


def test_no_recompile_on_second_step():
  opt = scale_by_adamax(learning_rate=optax.linear_schedule(0.1, 0.0, 10))
  params = jnp.ones(4)
  state = opt.init(params)
  traces = []

  @jax.jit
  def step(params, state):
    traces.append(None)
    updates, state = opt.update(params, state)
    return optax.apply_updates(params, updates), state

  for _ in range(3):
    params, state = step(params, state)
  assert len(traces) == 1


def test_count_saturates():
  opt = scale_by_adamax(learning_rate=0.1)
  params = jnp.ones(2)
  state = opt.init(params)._replace(count=jnp.asarray(2**31 - 1, jnp.int32))
  updates, state = jax.jit(opt.update)(params, state)
  assert int(state.count) == 2**31 - 1
  assert np.all(np.isfinite(updates))


def test_initial_count_continues_bias_correction():
  opt = scale_by_adamax(learning_rate=0.1, initial_count=5, arithmetic=arithmetic.MXNET)
  state = opt.init(jnp.ones(1))
  assert int(state.count) == 5
  updates, _ = opt.update(jnp.ones(1), state)
  # m = 0.1, u = 1: step = 0.1 * 0.1 / (1 - 0.9**6)
  np.testing.assert_allclose(updates, [-0.01 / (1 - 0.9**6)], rtol=1e-6)


def test_none_leaves_and_empty_trees():
  opt = scale_by_adamax(learning_rate=0.1)
  params = {"a": jnp.ones(2), "frozen": None}
  state = opt.init(params)
  updates, _ = opt.update(params, state)
  assert updates["frozen"] is None and updates["a"].shape == (2,)
  empty_updates, empty_state = opt.update({}, opt.init({}))
  assert empty_updates == {} and int(empty_state.count) == 1


def test_low_precision_state_computes_in_float32():
  # eps = 1e-8 underflows to 0 in float16; a zero gradient must not give NaN.
  opt = scale_by_adamax(
    learning_rate=0.1,
    mu_dtype=jnp.float16,
    nu_dtype=jnp.float16,
    arithmetic=arithmetic.MXNET,
    eps_placement="denominator",
  )
  params = jnp.zeros(3, jnp.float16)
  state = opt.init(params)
  assert state.mu.dtype == jnp.float16 and state.nu.dtype == jnp.float16
  updates, state = opt.update(jnp.zeros(3, jnp.float16), state)
  assert updates.dtype == jnp.float16
  np.testing.assert_array_equal(updates, 0)


@pytest.mark.parametrize("name", ["adamax", "torch", "mindspore", "paddle"])
def test_float16_state_never_divides_by_zero_where_optax_float16_does(name):
  """optax.adamax on float16 rounds eps=1e-8 to 0, so a zero gradient gives 0/0."""
  params, grads = jnp.ones(3, jnp.float16), jnp.zeros(3, jnp.float16)
  optax_updates, _ = optax.adamax(0.1).update(grads, optax.adamax(0.1).init(params))
  assert bool(jnp.all(jnp.isnan(optax_updates)))
  factory, lr_keyword = PRESETS[name]
  opt = factory(**{lr_keyword: 0.1}, mu_dtype=jnp.float16, nu_dtype=jnp.float16)
  state = opt.init(params)
  for _ in range(3):
    updates, state = jax.jit(opt.update)(grads, state, params)
    np.testing.assert_array_equal(updates, 0)


@pytest.mark.parametrize(
  ("dtype", "error"), [(jnp.int32, ValueError), ("not a dtype", TypeError), (jnp.bool_, ValueError)]
)
def test_state_dtypes_must_be_floating(dtype, error):
  with pytest.raises(error, match="mu_dtype must be a floating dtype"):
    scale_by_adamax(mu_dtype=dtype)
  with pytest.raises(error, match="nu_dtype must be a floating dtype"):
    PRESETS["mxnet"][0](nu_dtype=dtype)


def test_complex_leaves_are_pairs_of_reals():
  opt = scale_by_adamax(learning_rate=0.1, arithmetic=arithmetic.TORCH)
  g = jnp.array([1 - 2j, 0.5 + 0j], jnp.complex64)
  updates, state = opt.update(g, opt.init(g))
  real_updates, _ = opt.update(g.real, opt.init(g.real))
  imag_updates, _ = opt.update(g.imag, opt.init(g.imag))
  np.testing.assert_array_equal(updates.real, real_updates)
  np.testing.assert_array_equal(updates.imag, imag_updates)
  assert state.nu.dtype == jnp.complex64


def test_inject_hyperparams_matches_plain():
  params = jnp.array([0.5, -1.0, 2.0])
  plain = scale_by_adamax(0.8, 0.99, 1e-4, learning_rate=0.05)
  injected = optax.inject_hyperparams(scale_by_adamax)(
    b1=0.8, b2=0.99, eps=1e-4, learning_rate=0.05
  )
  s1, s2 = plain.init(params), injected.init(params)
  for _ in range(5):
    u1, s1 = plain.update(params, s1)
    u2, s2 = jax.jit(injected.update)(params, s2)
    np.testing.assert_allclose(u1, u2, rtol=1e-6)


@pytest.mark.parametrize(
  "kwargs, message",
  [
    ({"eps_placement": "inside"}, "eps_placement must be one of"),
    ({"arithmetic": "mxnet"}, "arithmetic must be an adamax_optax.Arithmetic"),
    ({"initial_count": -1}, "initial_count must be an int in"),
  ],
)
def test_bad_options_are_rejected(kwargs, message):
  with pytest.raises((ValueError, TypeError), match=message):
    scale_by_adamax(**kwargs)


def test_arithmetic_rejects_unknown_choices():
  with pytest.raises(ValueError, match=r"Arithmetic\.step must be one of"):
    Arithmetic(step="fast")


def test_schedule_must_return_scalar():
  opt = scale_by_adamax(learning_rate=lambda count: jnp.ones(2))
  with pytest.raises(ValueError, match="learning_rate schedule must return a scalar"):
    opt.update(jnp.ones(2), opt.init(jnp.ones(2)))


@pytest.mark.parametrize("lr, factor, b1", [(0.01, 0.1, 0.9), (0.1, 0.5, 0.9), (0.002, 0.3, 0.8)])
def test_plateau_step_sizes_table_equals_the_float32_pair_division(lr, factor, b1):
  # A plateau rate after k reductions reads f32(lr_k / (1 - b1**t)) from a host table of
  # double quotients; the float32-pair division, tested against the recordings, gives
  # the same float32 at every k and t (past both ends too).
  import importlib

  from adamax_optax.schedules import DoubleConstant
  from adamax_optax.torch.optim.lr_scheduler import ReduceLROnPlateau

  step = importlib.import_module("adamax_optax.scale_by_adamax")
  table = ReduceLROnPlateau(factor=factor).reduction_tables([lr])[0]
  steps = len(step._bias_corrections(b1))
  ks, ts = np.meshgrid(np.arange(table.horizon + 2), np.arange(1, steps + 3), indexing="ij")
  ks, ts = jnp.asarray(ks.ravel(), jnp.int32), jnp.asarray(ts.ravel(), jnp.int32)

  def tabulated(k, t):
    return step._level_step_sizes(DoubleConstant(table.double_float(k), table, k), b1, t)

  def paired(k, t):
    return step._float64_step_size(table.double_float(k), b1, t)

  looked_up = jax.jit(jax.vmap(tabulated))(ks, ts)
  np.testing.assert_array_equal(looked_up, jax.jit(jax.vmap(paired))(ks, ts))
  quotients = table.values_at(np.asarray(ks)) / (1.0 - b1 ** np.asarray(ts, np.float64))
  np.testing.assert_array_equal(looked_up, quotients.astype(np.float32))
