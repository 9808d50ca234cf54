"""One of several processes training data-parallel with a preset (CPU collectives).

``python multi_process.py PROCESS_ID NUM_PROCESSES PORT OUT``: joins the others on
127.0.0.1:PORT with ``jax.distributed.initialize``, trains on its share of the batch
with the gradients all-reduced by XLA across processes, and writes its final params to
OUT (.npz). With NUM_PROCESSES 1 it is the single-process reference.
"""

from __future__ import annotations

import sys

import jax

jax.config.update("jax_cpu_collectives_implementation", "gloo")

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402

import adamax_optax  # noqa: E402

STEPS = 8


def main(process_id: int, num_processes: int, port: int, out: str) -> None:
  if num_processes > 1:
    jax.distributed.initialize(
      coordinator_address=f"127.0.0.1:{port}",
      num_processes=num_processes,
      process_id=process_id,
      initialization_timeout=120,
    )
  rng = np.random.default_rng(0)  # every process draws the same full batch
  params = {"w": rng.normal(size=(16, 8)).astype(np.float32), "b": np.zeros(8, np.float32)}
  x = rng.normal(size=(64, 16)).astype(np.float32)
  y = rng.normal(size=(64, 8)).astype(np.float32)

  mesh = Mesh(np.array(jax.devices()), ("batch",))
  batch, replicated = (
    NamedSharding(mesh, PartitionSpec("batch")),
    NamedSharding(mesh, PartitionSpec()),
  )
  share = slice(process_id * 64 // num_processes, (process_id + 1) * 64 // num_processes)
  xs = jax.make_array_from_process_local_data(batch, x[share])
  ys = jax.make_array_from_process_local_data(batch, y[share])
  params = jax.tree.map(lambda v: jax.make_array_from_process_local_data(replicated, v), params)

  opt = adamax_optax.mindspore_adamax(lr=0.01, weight_decay=1e-3)

  def loss_fn(params, x, y):
    return jnp.mean((jnp.tanh(x @ params["w"]) + params["b"] - y) ** 2)

  @jax.jit
  def step(params, state, x, y):
    updates, state = opt.update(jax.grad(loss_fn)(params, x, y), state, params)
    return optax.apply_updates(params, updates), state

  state = jax.jit(opt.init)(params)
  for _ in range(STEPS):
    params, state = step(params, state, xs, ys)
  np.savez(out, **{k: np.asarray(v.addressable_data(0)) for k, v in params.items()})
  if num_processes > 1:
    jax.distributed.shutdown()


if __name__ == "__main__":
  main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
