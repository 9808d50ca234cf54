"""adamax_optax.clipping: the summation orders and scaling formulas against NumPy
replays of the frameworks' kernels, and the laws every clip keeps (hypothesis).

The golden replays of each framework are in tests/wings/<fw>/test_<fw>_clipping.py.
"""

import math
import typing

import hypothesis.extra.numpy as hnp
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adamax_optax import clipping
from adamax_optax.clipping import (
  Scaling,
  clip_by_global_norm,
  clip_by_norm,
  clip_by_value,
  global_norm,
  sum_of_squares,
  tensor_norm,
)

f32 = np.float32


# --- NumPy replays of the kernels' summation orders --------------------------------------


def np_lanes(x, lanes):
  """``lanes`` running float32 sums (zero padded), then added by halving."""
  acc = np.zeros(lanes, f32)
  padded = np.zeros(-(-x.size // lanes) * lanes, f32)
  padded[: x.size] = x * x
  for row in padded.reshape(-1, lanes):
    acc = (acc + row).astype(f32)
  while acc.size > 1:
    acc = (acc[: acc.size // 2] + acc[acc.size // 2 :]).astype(f32)
  return acc[0]


def fma(a, b, c):
  # The product of two float32 is exact in float64; one rounding to float32 after the add
  # (its double rounding never matters for the magnitudes drawn here).
  return f32(np.float64(a) * np.float64(b) + np.float64(c))


def np_pytorch(x):
  """PyTorch 2's CPU norm_two kernel: 8 lanes, lanes added in order, tail 4 + fused."""
  n = x.size
  full = n - n % 8
  acc = np.zeros(8, f32)
  for row in x[:full].reshape(-1, 8):
    acc = (acc + (row * row).astype(f32)).astype(f32)
  total = acc[0]
  for j in range(1, 8):
    total = f32(total + acc[j])
  unfused = full + (n - full) // 4 * 4
  for v in x[full:unfused]:
    total = f32(total + f32(v * v))
  for v in x[unfused:]:
    total = fma(v, v, total)
  return total


def np_eigen_leaf(sq):
  p = 8
  packets = sq.size // p
  rows = sq[: packets * p].reshape(-1, p)
  acc0, acc1 = np.zeros(p, f32), np.zeros(p, f32)
  for i in range(0, packets // 2 * 2, 2):
    acc0 = (acc0 + rows[i]).astype(f32)
    acc1 = (acc1 + rows[i + 1]).astype(f32)
  if packets % 2:
    acc0 = (acc0 + rows[-1]).astype(f32)
  acc0 = (acc0 + acc1).astype(f32)
  tail = f32(0)
  for v in sq[packets * p :]:
    tail = f32(tail + v)
  while acc0.size > 1:
    acc0 = (acc0[: acc0.size // 2] + acc0[acc0.size // 2 :]).astype(f32)
  return f32(tail + acc0[0])


def np_eigen(sq, first=0):
  """Eigen's full sum: split in halves at packet boundaries above 8192 elements."""
  if sq.size > 8 * 1024:
    split = 8 * -(-(first + -(-sq.size // 2)) // 8)
    left = min(split - first, sq.size)
    total = f32(f32(0) + np_eigen(sq[:left], first))
    return f32(total + np_eigen(sq[left:], split)) if left < sq.size else total
  return np_eigen_leaf(sq)


SIZES = [0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 31, 84, 100, 257]


@pytest.mark.parametrize("size", SIZES)
def test_orders_replay_their_kernels(size):
  rng = np.random.default_rng(size)
  x = (rng.standard_normal(size) * 10 ** rng.uniform(-3, 3, size)).astype(f32)
  sq = (x * x).astype(f32)
  want = {
    "sequential": np_lanes(x, 1),
    8: np_lanes(x, 8),
    16: np_lanes(x, 16),
    "pytorch": np_pytorch(x) if size else f32(0),
    "eigen": np_eigen(sq) if size else f32(0),
    "float64": f32(np.sum(sq.astype(np.float64))),  # MindSpore's ReduceSum
  }
  for order, value in want.items():
    got = np.asarray(jax.jit(lambda v, o=order: sum_of_squares(v, o))(x))
    assert got.tobytes() == f32(value).tobytes(), (order, got, value)


@pytest.mark.parametrize("size", [8192, 8193, 20000])
def test_eigen_order_splits_large_tensors(size):
  x = np.random.default_rng(size).standard_normal(size).astype(f32)
  got = np.asarray(jax.jit(lambda v: sum_of_squares(v, "eigen"))(x))
  assert got.tobytes() == np_eigen((x * x).astype(f32)).tobytes()


def test_every_order_is_a_sum_of_squares():
  x = np.random.default_rng(0).standard_normal((6, 7)).astype(f32)
  exact = float(np.sum(x.astype(np.float64) ** 2))
  for order in ("xla", "sequential", "pytorch", "eigen", "float64", 4, 16):
    assert math.isclose(float(sum_of_squares(x, order)), exact, rel_tol=1e-6)


def test_norm_of_norms_and_sum_of_squares_combine():
  a, b = jnp.array([3.0, 4.0]), jnp.array([12.0])
  assert float(global_norm([a, b])) == 13.0
  assert float(global_norm([a, b], combine="norm_of_norms")) == 13.0
  assert float(global_norm([a, -b], float("inf"))) == 12.0
  assert float(tensor_norm(jnp.array([1.0, -2.0, 2.0]), 1.0)) == 5.0


def test_float64_order_overflows_to_inf_and_keeps_nan():
  big = np.array([1e30, 2e30, 1.0], f32)
  assert np.isinf(sum_of_squares(big, "float64"))
  assert np.isnan(sum_of_squares(np.array([1.0, np.nan], f32), "float64"))


def test_infinity_norm_is_exact_on_subnormals_and_nan():
  tiny = f32(1e-40)
  inf = float("inf")
  assert np.asarray(jax.jit(tensor_norm, static_argnums=1)(np.array([tiny, -2 * tiny]), inf)) == (
    2 * tiny
  )
  assert np.isnan(tensor_norm(jnp.array([1.0, jnp.nan, jnp.inf]), inf))


# --- NumPy replays of the scaling formulas ------------------------------------------------


def np_scale(g, n, c, scaling):
  one = f32(1)
  c, n = f32(c), f32(n)
  with np.errstate(all="ignore"):
    if scaling == "torch":
      return g * min(f32(one / f32(n + f32(1e-6))) * c, one)
    if scaling in ("mxnet", "mxnet2"):
      return g * min(f32(c / f32(n + f32(1e-8))), one)
    if scaling == "mindspore":
      return (g * c).astype(f32) / (n if n >= c else c)
    if scaling == "paddle":
      return g * f32(c / max(n, c))
    if scaling == "paddle_norm":
      return g * (one if n <= c else f32(c / n))
    if scaling == "keras":
      return (g * c).astype(f32) * f32(one / max(n, c))
    if scaling == "keras_compiled":
      return g * f32(c * f32(one / max(n, c)))
    if scaling in ("keras_global", "keras_global_compiled"):
      return g * f32(f32(c * min(f32(one / n), f32(1 / float(c)))) + f32(n - n))
    raise ValueError(f"no replay of scaling {scaling!r}")


# Every framework scaling the library offers; optax's own is compared with optax itself
# (test_optax_scaling_is_optax): under jit XLA rewrites its division by the norm.
SCALINGS = [s for s in typing.get_args(Scaling) if s != "optax"]


@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("c", [0.05, 1.0, 3.0])
def test_scaling_formulas_replay(scaling, c):
  rng = np.random.default_rng(1)
  for _ in range(20):
    g = (rng.standard_normal((4, 3)) * 10 ** rng.uniform(-2, 1)).astype(f32)
    n = np.float32(np.sqrt(np.sum(g.astype(np.float64) ** 2)))
    clip = clip_by_global_norm(c, scaling=scaling, norm_fn=lambda leaves, n=n: n)
    got = np.asarray(jax.jit(lambda x, clip=clip: clip.update([x], None)[0][0])(g))
    want = np.asarray(np_scale(g, n, c, scaling), f32)
    assert got.tobytes() == want.tobytes(), (scaling, c, n)


def test_optax_scaling_is_optax():
  g = {"a": jnp.array([3.0, -4.0]), "b": jnp.array([0.5])}
  ours = clip_by_global_norm(1.0, scaling="optax").update(g, None)[0]
  theirs = optax.clip_by_global_norm(1.0).update(g, optax.EmptyState())[0]
  for k in g:
    np.testing.assert_array_equal(ours[k], theirs[k])


# --- laws ----------------------------------------------------------------------------------

finite = hnp.arrays(
  np.float32,
  hnp.array_shapes(min_dims=0, max_dims=2, max_side=9),
  elements=st.floats(-1e3, 1e3, width=32),
)


@settings(max_examples=60, deadline=None)
@given(finite, finite, st.sampled_from(["torch", "mxnet", "paddle", "paddle_norm"]))
def test_no_op_below_the_threshold(a, b, scaling):
  # Formulas whose factor is exactly 1 below the threshold leave the gradients' bits.
  n = float(np.sqrt(np.sum(a.astype(np.float64) ** 2) + np.sum(b.astype(np.float64) ** 2)))
  threshold = 2 * n + 1.0
  clip = (
    clip_by_norm(threshold, scaling=scaling)
    if scaling == "paddle_norm"
    else clip_by_global_norm(threshold, scaling=scaling)
  )
  out = clip.update([jnp.asarray(a), jnp.asarray(b)], clip.init(None))[0]
  assert np.asarray(out[0]).tobytes() == a.tobytes()
  assert np.asarray(out[1]).tobytes() == b.tobytes()


@settings(max_examples=60, deadline=None)
@given(finite, st.sampled_from(SCALINGS), st.floats(0.01, 10.0))
def test_clipped_norm_is_at_most_the_threshold(a, scaling, c):
  clip = clip_by_global_norm(c, scaling=scaling)
  out = np.asarray(clip.update([jnp.asarray(a)], None)[0][0], np.float64)
  assert np.sqrt(np.sum(out**2)) <= c * (1 + 1e-5)


@settings(max_examples=60, deadline=None)
@given(finite, st.floats(-5, 5), st.floats(-5, 5))
def test_clip_by_value_bounds_and_is_idempotent(a, low, high):
  clip = clip_by_value(low, high)
  once = np.asarray(clip.update(jnp.asarray(a), None)[0])
  twice = np.asarray(clip.update(jnp.asarray(once), None)[0])
  np.testing.assert_array_equal(once, np.minimum(np.maximum(a, f32(low)), f32(high)))
  assert once.tobytes() == twice.tobytes()


def test_subnormals_pass_through_unclipped():
  # PyTorch and Paddle keep a subnormal gradient that is clamped or scaled by 1.
  tiny = np.array([1e-40, -3e-40, 0.5], f32)
  for clip in (clip_by_value(-1.0, 1.0), clip_by_global_norm(10.0, scaling="torch")):
    out = jax.jit(lambda g, clip=clip: clip.update(g, None)[0])(tiny)
    assert np.asarray(out).tobytes() == tiny.tobytes()
  flushed = clip_by_global_norm(10.0, scaling="mxnet2").update(tiny, None)[0]
  assert np.asarray(flushed).tobytes() == np.array([0.0, -0.0, 0.5], f32).tobytes()


def test_non_finite_norms_follow_the_formulas():
  g = [jnp.array([1e30, 1e30], jnp.float32)]  # squares overflow: n = inf
  torch_out = clip_by_global_norm(1.0, scaling="torch").update(g, None)[0][0]
  np.testing.assert_array_equal(torch_out, [0.0, 0.0])  # g * 0
  keras_out = clip_by_global_norm(1.0, scaling="keras_global").update(g, None)[0][0]
  assert np.isnan(np.asarray(keras_out)).all()  # Keras turns a non-finite norm into NaN


def test_stateless_jit_and_chainable():
  clip = clip_by_global_norm(1.0, scaling="paddle")
  assert clip.init({"w": jnp.ones(2)}) == optax.EmptyState()
  # Untrained leaves (float0 gradients of integer params) pass through untouched.
  grads = {"w": jnp.array([3.0, 4.0]), "i": np.zeros((), jax.dtypes.float0)}
  clipped = clip.update(grads, clip.init(None))[0]
  assert clipped["i"].dtype == jax.dtypes.float0
  opt = optax.chain(clip, optax.sgd(0.1))
  params = {"w": jnp.ones(2)}
  updates, _ = jax.jit(opt.update)({"w": grads["w"]}, opt.init(params), params)
  np.testing.assert_allclose(updates["w"], [-0.06, -0.08], rtol=1e-6)


def test_pytrees_are_summed_in_leaf_order():
  # The global norm adds the tensors in tree_leaves order: a dict sorts its keys.
  leaves = [jnp.array([1e8], jnp.float32), jnp.array([1.0], jnp.float32)]
  as_dict = {"b": leaves[1], "a": leaves[0]}
  assert float(global_norm(jax.tree.leaves(as_dict), order="sequential")) == float(
    global_norm(leaves, order="sequential")
  )


@pytest.mark.parametrize(
  ("build", "match"),
  [
    (lambda: clip_by_value(None, None), "min_value or max_value"),
    (lambda: clip_by_norm(0.0, scaling="keras"), r"max_norm must be in \(0.0, inf\)"),
    (lambda: clip_by_global_norm(1.0, scaling="tf"), "scaling must be one of"),
    (lambda: clip_by_global_norm(1.0, scaling="torch", order=3), "power of two"),
    (lambda: clip_by_global_norm(1.0, scaling="torch", norm_type=-1), "norm_type must be > 0"),
    (lambda: global_norm([jnp.ones(2)], combine="max"), "combine must be"),
  ],
)
def test_validation_names_the_argument(build, match):
  with pytest.raises(ValueError, match=match):
    build()


def test_norm_fn_must_be_callable():
  with pytest.raises(TypeError, match="norm_fn must be a function"):
    clipping.clip_by_global_norm(1.0, scaling="torch", norm_fn=2.0)
