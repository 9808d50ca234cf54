"""Dense vs lazy vs sparse Adamax steps on a large embedding table.

    python benchmarks/lazy_rows.py [--rows 1000000] [--dim 64] [--touched 4096] [--repeats 7]

Times three jitted steps of ``torch_adamax`` on one (rows x dim) float32 table, with
params and state donated, interleaved, and reports medians and ratios to the dense step:

* dense: every row updated (what a framework without lazy updates does);
* lazy: ``lazy_rows`` on the dense gradient (untouched rows kept inside the step);
* sparse: a ``SparseRows`` gradient of the touched rows (gather and scatter only).

Timings are noisy on a shared machine: compare the ratios, not the absolute times.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

import adamax_optax as ax


def make_steps(opt_dense, opt_lazy, opt_sparse):
  def dense_step(params, state, grads):
    updates, state = opt_dense.update(grads, state, params)
    return ax.apply_updates(params, updates), state

  def lazy_step(params, state, grads):
    updates, state = opt_lazy.update(grads, state, params)
    return ax.apply_updates(params, updates), state

  def sparse_step(params, state, grads):
    updates, state = opt_sparse.update(grads, state, params)
    return ax.apply_updates(params, updates), state

  jit = lambda f: jax.jit(f, donate_argnums=(0, 1))
  return {"dense": jit(dense_step), "lazy": jit(lazy_step), "sparse": jit(sparse_step)}


def timed(step, carries, name, grads) -> float:
  start = time.perf_counter()
  carries[name] = jax.block_until_ready(step(*carries[name], grads))
  return time.perf_counter() - start


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--rows", type=int, default=1_000_000)
  parser.add_argument("--dim", type=int, default=64)
  parser.add_argument("--touched", type=int, default=4096)
  parser.add_argument("--repeats", type=int, default=7)
  parser.add_argument("--out", default=None, help="also write the table to this file")
  args = parser.parse_args(argv)

  rng = np.random.default_rng(0)
  rows = np.sort(rng.choice(args.rows, size=args.touched, replace=False)).astype(np.int32)
  values = jnp.asarray(rng.normal(size=(args.touched, args.dim)).astype(np.float32))
  dense_grads = jnp.zeros((args.rows, args.dim), jnp.float32).at[rows].set(values)
  grads = {
    "dense": dense_grads,
    "lazy": dense_grads,
    "sparse": ax.SparseRows(jnp.asarray(rows), values),
  }
  opt = lambda: ax.torch_adamax(lr=1e-3)
  steps = make_steps(opt(), ax.lazy_rows(opt()), opt())
  carries = {}
  for name in steps:
    params = jnp.asarray(rng.normal(size=(args.rows, args.dim)).astype(np.float32))
    carries[name] = (params, opt().init(params))
  interleaved = {name: [] for name in steps}
  for _ in range(args.repeats + 1):  # the first round compiles and is dropped
    for name, step in steps.items():
      interleaved[name].append(timed(step, carries, name, grads[name]))
  back_to_back = {
    name: [timed(step, carries, name, grads[name]) for _ in range(args.repeats)]
    for name, step in steps.items()
  }
  lines = [
    f"Embedding {args.rows} x {args.dim} float32, {args.touched} rows touched, "
    f"median of {args.repeats}, {jax.devices()[0].device_kind}. Interleaved: the three "
    "steps take turns (each finds the caches full of the others' tables); back to back: "
    "each step repeated alone.",
    "",
    "| step | interleaved ms | vs dense | back to back ms | vs dense |",
    "|---|---|---|---|---|",
  ]
  med = lambda times: statistics.median(times[-args.repeats :])
  for name in steps:
    a, b = med(interleaved[name]), med(back_to_back[name])
    a0, b0 = med(interleaved["dense"]), med(back_to_back["dense"])
    lines.append(f"| {name} | {a * 1e3:.2f} | {a / a0:.3f}x | {b * 1e3:.2f} | {b / b0:.3f}x |")
  table = "\n".join(lines)
  print(table)
  if args.out:
    with open(args.out, "w") as f:
      f.write(table + "\n")
  return lines


if __name__ == "__main__":
  main()
