"""The fused step: the Pallas kernel (run here in the Pallas interpreter) against the
per-leaf computation and the golden trajectories."""

import golden_data
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from harness import PRESETS

import adamax_optax as ax
from adamax_optax import arithmetic as arith
from adamax_optax.fused import check_fused, kernel_platform

RECIPES = [
  (arith.OPTAX, "max_grad"),
  (arith.MXNET, "denominator"),
  (arith.TORCH, "max_grad"),
  (arith.MINDSPORE, "max_grad"),
  (arith.KERAS, "denominator"),
  (arith.PADDLE, "max_norm"),
]


def mixed_params():
  """Two float32 groups' worth of leaves (one spans several kernel blocks), a bfloat16
  leaf, a complex leaf and an integer leaf: every per-leaf fallback at once."""
  return {
    "w": jnp.linspace(-1.0, 1.0, 3 * 70).reshape(3, 70),
    "big": jnp.linspace(-2.0, 2.0, 9000),
    "half": jnp.array([0.5, -0.25, 2.0], jnp.bfloat16),
    "z": jnp.array([1 + 2j, -1j], jnp.complex64),
    "steps": jnp.arange(3),
  }


def gradients(params, t):
  def grad(p):
    if not jnp.issubdtype(p.dtype, jnp.inexact):
      return np.zeros(p.shape, jax.dtypes.float0)
    key = jax.random.fold_in(jax.random.PRNGKey(7), t)
    scale = 10.0 ** ((t % 5) - 2)  # from 0.01 to 100, with exact zeros mixed in
    noise = jax.random.normal(key, p.shape, jnp.float32) * scale
    if jnp.iscomplexobj(p):
      noise = noise + 1j * noise[::-1]
    return jnp.where(jnp.arange(p.size).reshape(p.shape) % 7 == 0, 0, noise).astype(p.dtype)

  return jax.tree.map(grad, params)


def trajectory(opt, params, steps=5):
  """Params and state after each jitted step."""
  state = opt.init(params)

  @jax.jit
  def step(params, state, grads):
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  history = []
  for t in range(steps):
    params, state = step(params, state, gradients(params, t))
    history.append((params, state))
  return history


def assert_same_bits(got, want):
  for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype
    if jnp.issubdtype(a.dtype, jnp.floating) and a.dtype != np.float32:
      a, b = a.astype(np.float32), b.astype(np.float32)  # exact; NumPy compares NaN here
    np.testing.assert_array_equal(a, b)  # NaNs compare equal here


def materialized_trajectory(opt, params, steps=5):
  """Like :func:`trajectory`, with each update computed in a jit of its own.

  The OPTAX recipe leaves multiply-add contraction to XLA (that is what makes the alias
  optax.adamax bit for bit), so in one jitted step XLA may fuse ``p + (-lr) * x`` and
  upstream stages across the Adamax stage's boundary, which a kernel, compiled apart,
  cannot. With the update materialized the kernel agrees bit for bit.
  """
  state, update = opt.init(params), jax.jit(opt.update)
  history = []
  for t in range(steps):
    updates, state = update(gradients(params, t), state, params)
    params = optax.apply_updates(params, updates)
    history.append((params, state))
  return history


def assert_within_roundings(got, want):
  """A few roundings apart over the 5 steps: where only XLA's contraction choices differ."""
  for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)


def assert_kernel_agrees(build, params, recipe):
  """The kernel's trajectory is the per-leaf one; the framework recipes force every
  rounding, so for them this holds inside one jitted step too."""
  run = materialized_trajectory if recipe.step == "optax" else trajectory
  assert_same_bits(run(build("interpret"), params), run(build(False), params))


@pytest.mark.parametrize(("recipe", "placement"), RECIPES)
@pytest.mark.parametrize("lr", [None, 0.003, optax.cosine_decay_schedule(0.003, 4)])
def test_kernel_agrees_with_the_per_leaf_step(recipe, placement, lr):
  def build(fused):
    return ax.scale_by_adamax(
      arithmetic=recipe, eps_placement=placement, learning_rate=lr, fused=fused
    )

  assert_kernel_agrees(build, mixed_params(), recipe)


@pytest.mark.parametrize(
  "kwargs",
  [
    {"clip_value": 0.5, "weight_decay": 1e-3, "gradient_scale": 2.0},
    {"mu_dtype": jnp.bfloat16, "nu_dtype": jnp.bfloat16},
    {"eps_placement": "none"},
  ],
)
def test_alias_fused_agrees_with_unfused(kwargs):
  params = {k: v for k, v in mixed_params().items() if k != "z"}
  fused = materialized_trajectory(ax.adamax(0.01, fused="interpret", **kwargs), params)
  unfused = materialized_trajectory(ax.adamax(0.01, **kwargs), params)
  if "clip_value" in kwargs:
    # Upstream stages are fused into the unfused step's loops, where XLA may contract
    # the decay's multiply-add differently.
    assert_within_roundings(fused, unfused)
  else:
    assert_same_bits(fused, unfused)


def test_traced_hyperparameters_enter_the_kernel_as_inputs():
  def build(fused):
    return optax.inject_hyperparams(ax.adamax, static_args=("fused",))(
      learning_rate=0.01, b1=0.8, b2=0.99, eps=1e-6, fused=fused
    )

  # With b1 an input rather than a literal, XLA may contract the other product of
  # c * g + b1 * m in one of the two programs.
  params = {"w": mixed_params()["w"]}
  assert_within_roundings(
    materialized_trajectory(build("interpret"), params),
    materialized_trajectory(build(False), params),
  )


@pytest.mark.parametrize("name", ["mxnet2_clip_rescale", "mxnet2_wd", "mxnet2_fp16_mp"])
def test_mxnet_use_fused_step_reproduces_the_golden_trajectory(name):
  case = golden_data.case_of(name, "mxnet2")
  want = golden_data.trajectory(name)
  opt = ax.mxnet_adamax(**want.meta["kwargs"], use_fused_step="interpret")
  if case == "fp16_mp":
    masters = golden_data.replay(opt, case, dtype=np.float16, params_of=lambda s, p: s.master)
    assert golden_data.compare(masters, want) == 3
  else:
    assert golden_data.compare(golden_data.replay(opt, case), want) == 3


def test_on_cpu_fused_is_the_per_leaf_step():
  assert jax.default_backend() != "cpu" or kernel_platform(interpret=False) is None
  params = mixed_params()
  fused = trajectory(ax.mxnet_adamax(wd=1e-3, use_fused_step=True), params)
  assert_same_bits(fused, trajectory(ax.mxnet_adamax(wd=1e-3), params))


def test_fused_state_is_the_unfused_state():
  params = {"w": mixed_params()["w"]}
  state = ax.adamax(0.01, fused="interpret").init(params)
  assert jax.tree.structure(state) == jax.tree.structure(ax.adamax(0.01).init(params))


@pytest.mark.parametrize("bad", ["yes", 1.0, None, "pallas"])
def test_fused_option_is_checked(bad):
  with pytest.raises(TypeError, match="fused must be True, False or 'interpret'"):
    ax.adamax(0.01, fused=bad)
  assert check_fused(True) == (True, False)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_keeps_bfloat16_moments(name):
  factory, lr_keyword = PRESETS[name]
  extra = {"safe": True} if name == "mxnet1" else {}  # 1.x makes 0/0 on zero gradients
  opt = factory(**{lr_keyword: 0.01}, mu_dtype=jnp.bfloat16, nu_dtype=jnp.bfloat16, **extra)
  params = {"w": jnp.linspace(-1.0, 1.0, 12).reshape(3, 4)}
  (params_after, state), *_ = trajectory(opt, params, steps=1)
  m, u, _ = ax.moments(state)
  assert jax.tree.leaves(m)[0].dtype == jnp.bfloat16
  assert jax.tree.leaves(u)[0].dtype == jnp.bfloat16
  assert params_after["w"].dtype == jnp.float32
  assert bool(jnp.all(jnp.isfinite(params_after["w"])))
