"""Data parallelism and sharded state on 8 simulated CPU devices (run as its own process).

XLA_FLAGS must ask for 8 host devices before jax is imported; test_scale_out.py sets it.
Prints one line per check; exits non-zero on the first failure.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

import adamax_optax as ax

assert jax.device_count() == 8, jax.devices()

PRESETS = {
  "mxnet": lambda: ax.mxnet_adamax(learning_rate=0.01, wd=1e-3, clip_gradient=1.0),
  "mindspore": lambda: ax.mindspore_adamax(
    lr=0.01, weight_decay=1e-3, param_groups=[{"params": ["b"], "lr": 0.02}]
  ),
  "torch": lambda: ax.torch_adamax(lr=0.01, weight_decay=1e-3),
  "adamax": lambda: ax.adamax(0.01, clip_value=1.0),
}


def loss_fn(params, x, y):
  return jnp.mean((jnp.tanh(x @ params["w"]) + params["b"] - y) ** 2)


def data(seed=0):
  rng = np.random.default_rng(seed)
  params = {"w": rng.normal(size=(16, 8)).astype(np.float32), "b": np.zeros(8, np.float32)}
  x = rng.normal(size=(64, 16)).astype(np.float32)
  y = rng.normal(size=(64, 8)).astype(np.float32)
  return params, x, y


def single_device(opt, params, x, y, steps):
  @jax.jit
  def step(params, state):
    updates, state = opt.update(jax.grad(loss_fn)(params, x, y), state, params)
    return optax.apply_updates(params, updates), state

  state = opt.init(params)
  for _ in range(steps):
    params, state = step(params, state)
  return params


def data_parallel(opt, params, x, y, steps):
  """pmap over 8 devices: each sees 8 examples; gradients averaged with lax.pmean."""

  def step(params, state, xb, yb):
    grads = jax.lax.pmean(jax.grad(loss_fn)(params, xb, yb), axis_name="batch")
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  pstep = jax.pmap(step, axis_name="batch")
  replicate = lambda tree: jax.tree.map(lambda v: jnp.stack([v] * 8), tree)
  params_r, state_r = replicate(params), replicate(opt.init(params))
  xs, ys = x.reshape(8, 8, -1), y.reshape(8, 8, -1)
  for _ in range(steps):
    params_r, state_r = pstep(params_r, state_r, xs, ys)
  for leaf in jax.tree.leaves(params_r):  # every replica holds the same params
    np.testing.assert_array_equal(leaf[0], leaf[7])
  return jax.tree.map(lambda v: v[0], params_r)


def check_sharded_state(opt, params):
  """FSDP-style: params sharded on their first axis; state follows, updates keep it."""
  mesh = Mesh(np.array(jax.devices()), ("fsdp",))
  specs = {"w": PartitionSpec("fsdp"), "b": PartitionSpec("fsdp")}
  shardings = jax.tree.map(lambda s: NamedSharding(mesh, s), specs)
  params = jax.device_put(params, shardings)
  state = jax.jit(opt.init)(params)

  def same_sharding_as_params(tree):
    for leaf in jax.tree.leaves(tree):
      for name, p in params.items():
        if leaf.shape == p.shape and leaf.ndim:
          assert leaf.sharding.is_equivalent_to(p.sharding, leaf.ndim), (name, leaf.sharding)

  same_sharding_as_params(state)

  @jax.jit
  def step(params, state):
    grads = jax.tree.map(jnp.ones_like, params)
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  new_params, new_state = step(params, state)
  for name in params:
    assert new_params[name].sharding.is_equivalent_to(params[name].sharding, 1), name
  same_sharding_as_params(new_state)


def main():
  params, x, y = data()
  for name, make in PRESETS.items():
    opt = make()
    want = single_device(opt, params, x, y, steps=6)
    got = data_parallel(opt, params, x, y, steps=6)
    for k in want:
      np.testing.assert_allclose(got[k], want[k], rtol=2e-5, atol=1e-6, err_msg=f"{name} {k}")
    print(f"{name}: pmap with pmean == single device on the full batch")
    check_sharded_state(opt, params)
    print(f"{name}: state sharded like the params, kept by the jitted update")


if __name__ == "__main__":
  main()
