"""lazy_rows and SparseRows: untouched embedding rows keep weights, m and u."""

import jax
import jax.numpy as jnp
import numpy as np
import numpy_reference as ref
import optax
import pytest
from harness import first_bit_difference

import adamax_optax as ax

ROWS, DIM = 8, 3


def batches(seed=0, steps=6):
  """Gradients touching 3 random rows per step, and the touched rows."""
  rng = np.random.default_rng(seed)
  out = []
  for _ in range(steps):
    rows = np.sort(rng.choice(ROWS, size=3, replace=False))
    dense = np.zeros((ROWS, DIM), np.float32)
    dense[rows] = rng.normal(size=(3, DIM)).astype(np.float32)
    out.append((rows, dense))
  return out


def table():
  return np.random.default_rng(1).normal(size=(ROWS, DIM)).astype(np.float32)


def test_lazy_rows_matches_a_row_wise_replay():
  kwargs = dict(lr=0.01, weight_decay=0.1)
  opt = ax.lazy_rows(ax.torch_adamax(**kwargs))
  w = jnp.asarray(table())
  state = opt.init(w)
  want, m, u = table(), np.zeros((ROWS, DIM), np.float32), np.zeros((ROWS, DIM), np.float32)
  for t, (rows, dense) in enumerate(batches(), start=1):
    updates, state = jax.jit(opt.update)(jnp.asarray(dense), state, w)
    w = optax.apply_updates(w, updates)
    for r in rows:  # only the touched rows step; the step count is global
      want[r], m[r], u[r] = ref.torch_step(want[r], dense[r], m[r], u[r], t, **kwargs)
  np.testing.assert_array_equal(w, want)
  mu, nu, _ = ax.moments(state)
  np.testing.assert_array_equal(mu, m)
  np.testing.assert_array_equal(nu, u)


PRESETS = {
  "torch": lambda: ax.torch_adamax(lr=0.01, weight_decay=0.1, maximize=True),
  "mindspore": lambda: ax.mindspore_adamax(lr=0.01, weight_decay=0.1),
  "mxnet": lambda: ax.mxnet_adamax(learning_rate=0.01, wd=0.1, clip_gradient=0.5, rescale_grad=2.0),
  "paddle": lambda: ax.paddle_adamax(learning_rate=0.01, weight_decay=0.1),
  "adamax": lambda: ax.adamax(0.01, clip_value=0.5, weight_decay=0.1),
}


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_sparse_rows_equal_lazy_dense_bit_for_bit(name):
  dense_opt, sparse_opt = ax.lazy_rows(PRESETS[name]()), PRESETS[name]()
  params = {"emb": jnp.asarray(table()), "bias": jnp.ones(DIM)}
  dense_state, sparse_state = dense_opt.init(params), sparse_opt.init(params)
  p_dense = p_sparse = params
  for rows, dense in batches(seed=2):
    bias_grad = jnp.asarray(dense.sum(0))
    updates, dense_state = jax.jit(dense_opt.update)(
      {"emb": jnp.asarray(dense), "bias": bias_grad}, dense_state, p_dense
    )
    p_dense = optax.apply_updates(p_dense, updates)
    sparse = ax.SparseRows.from_dense(jnp.asarray(dense), jnp.asarray(rows))
    updates, sparse_state = jax.jit(sparse_opt.update)(
      {"emb": sparse, "bias": bias_grad}, sparse_state, p_sparse
    )
    assert isinstance(updates["emb"], ax.SparseRows)
    p_sparse = ax.apply_updates(p_sparse, updates)
  for k in params:
    np.testing.assert_array_equal(p_sparse[k], p_dense[k], err_msg=k)


def test_untouched_rows_keep_their_bits_and_state():
  opt = ax.torch_adamax(lr=0.1)
  w = jnp.asarray(table())
  state = opt.init(w)
  grads = ax.SparseRows(jnp.array([2, 5]), jnp.ones((2, DIM)))
  dense = np.asarray(grads.to_dense(ROWS))
  assert dense[2].tolist() == [1.0] * DIM and dense[3].tolist() == [0.0] * DIM
  updates, state = opt.update(grads, state, w)
  new = ax.apply_updates(w, updates)
  untouched = np.array([r for r in range(ROWS) if r not in (2, 5)])
  np.testing.assert_array_equal(new[untouched], w[untouched])
  mu = ax.moments(state)[0]
  assert np.all(mu[untouched] == 0) and np.all(mu[np.array([2, 5])] != 0)


@pytest.mark.parametrize(
  ("factory", "match"),
  [
    (lambda: ax.keras_adamax(weight_decay=0.1), "keras_adamax"),
    (lambda: ax.mindspore_nn_adamax(), "mindspore_nn_adamax"),
    (lambda: ax.mxnet_adamax(multi_precision=True), "multi_precision"),
  ],
)
def test_stages_without_sparse_support_say_so(factory, match):
  opt = factory()
  w = {"emb": jnp.ones((ROWS, DIM), jnp.float16 if "multi" in match else jnp.float32)}
  g = {"emb": ax.SparseRows(jnp.array([1]), jnp.ones((1, DIM), w["emb"].dtype))}
  with pytest.raises(ValueError, match=f"{match}.*does not take SparseRows"):
    opt.update(g, opt.init(w), w)


def test_sparse_rows_of_the_wrong_width_are_named():
  opt = ax.torch_adamax()
  w = {"emb": jnp.ones((ROWS, DIM))}
  g = {"emb": ax.SparseRows(jnp.array([1]), jnp.ones((1, DIM + 1)))}
  with pytest.raises(ValueError, match="parameter 'emb' has shape"):
    opt.update(g, opt.init(w), w)


# Each preset with the stages lazy_rows must see through: decay, clipping, groups
# (optax.partition), masters, Keras's accumulation (its EMA: the test after this).
LAZY_CASES = {
  "torch": lambda: ax.torch_adamax(lr=0.01, weight_decay=0.1, maximize=True),
  "torch_groups": lambda: ax.torch_adamax(
    param_groups=[{"params": ["emb"], "lr": 0.02}, {"params": ["bias"], "weight_decay": 0.5}],
    lr=0.01,
  ),
  "mindspore": lambda: ax.mindspore_adamax(lr=0.01, weight_decay=0.1),
  "mindspore_nn": lambda: ax.mindspore_nn_adamax(learning_rate=0.01, weight_decay=0.1),
  "mxnet": lambda: ax.mxnet_adamax(learning_rate=0.01, wd=0.1, clip_gradient=0.5),
  "mxnet_masters": lambda: ax.mxnet_adamax(learning_rate=0.01, wd=0.1, multi_precision=True),
  "mxnet1": lambda: ax.mxnet1_adamax(learning_rate=0.01, wd=0.1, clip_gradient=0.5),
  "paddle": lambda: ax.paddle_adamax(learning_rate=0.01, weight_decay=0.1),
  "keras": lambda: ax.keras_adamax(
    learning_rate=0.01, weight_decay=0.1, clipnorm=1.0, gradient_accumulation_steps=2
  ),
  "adamax": lambda: ax.adamax(0.01, clip_value=0.5, weight_decay=0.1),
  "adamax_fused": lambda: ax.adamax(0.01, fused=True),
}


def restored_after_the_step(preset):
  """The preset as lazy_rows treats an optimizer that is not a preset: a dense step,
  then the untouched rows' m and u put back (the reference semantics)."""
  return optax.GradientTransformationExtraArgs(preset.init, preset.update)


@pytest.mark.parametrize("name", sorted(LAZY_CASES))
def test_every_preset_keeps_untouched_rows_inside_its_step(name):
  preset = LAZY_CASES[name]()
  assert isinstance(preset, ax.lazy.Preset)
  opts = {"inside": ax.lazy_rows(preset), "after": ax.lazy_rows(restored_after_the_step(preset))}
  dtype = jnp.float16 if name == "mxnet_masters" else jnp.float32
  params = {"emb": jnp.asarray(table(), dtype), "bias": jnp.ones(DIM, dtype)}
  runs = {k: (params, opt.init(params)) for k, opt in opts.items()}
  for _, dense in batches(seed=3):
    grads = {"emb": jnp.asarray(dense, dtype), "bias": jnp.asarray(dense.sum(0), dtype)}
    for k, opt in opts.items():
      p, s = runs[k]
      updates, s = jax.jit(opt.update)(grads, s, p)
      runs[k] = (optax.apply_updates(p, updates), s)
  leaves = {k: jax.tree.leaves(run) for k, run in runs.items()}
  assert len(leaves["inside"]) == len(leaves["after"])
  for a, b in zip(leaves["inside"], leaves["after"], strict=True):
    difference = first_bit_difference(np.asarray(a), np.asarray(b))
    assert not difference, difference


def test_lazy_step_writes_the_moments_in_place():
  # XLA copies a table when the step reads old moments after the new ones overwrote
  # them; reading the kept moments avoids that: no copy, and no temporary as large as
  # a table (the row mask's bytes remain).
  rows, dim = 4096, 64
  opt = ax.lazy_rows(ax.torch_adamax(lr=1e-3, weight_decay=0.1))
  w = jnp.zeros((rows, dim))

  def step(w, state, g):
    updates, state = opt.update(g, state, w)
    return optax.apply_updates(w, updates), state

  compiled = jax.jit(step, donate_argnums=(0, 1)).lower(w, opt.init(w), w).compile()
  assert " copy(" not in compiled.as_text()
  assert compiled.memory_analysis().temp_size_in_bytes < rows * dim * 4


def test_keras_ema_averages_the_weights_lazy_rows_applies():
  # The moving average reads the params after the step: with lazy_rows, the untouched
  # rows' unchanged weights, not the dense step's.
  momentum = 0.9
  # The NumPy average below rounds both products: Keras run eagerly.
  opt = ax.lazy_rows(
    ax.keras_adamax(learning_rate=0.01, use_ema=True, ema_momentum=momentum, jit_compile=False)
  )
  w = jnp.asarray(table())
  state = opt.init(w)
  average = np.zeros((ROWS, DIM), np.float32)
  for t, (_, dense) in enumerate(batches(seed=4)):
    updates, state = jax.jit(opt.update)(jnp.asarray(dense), state, w)
    w = optax.apply_updates(w, updates)
    mu = np.float32(momentum if t else 0.0)
    average = mu * average + (np.float32(1) - mu) * np.asarray(w)
  np.testing.assert_array_equal(ax.keras.optimizers.ema_params(state), average)
