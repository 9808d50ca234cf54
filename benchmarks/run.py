"""Step time, compile time and memory of every optimizer here against optax and PyTorch.

    python benchmarks/run.py                 # everything, table to benchmarks/results_<backend>.md
    python benchmarks/run.py --quick         # smaller sizes and fewer repeats, to try it out

All timings come from one process and are interleaved: each round runs one step of every
optimizer in turn, and the table reports medians over rounds, so drift in the machine's
speed hits every column alike. Read the ratios, not the milliseconds.

The floor is the time to move the 28 bytes a float32 parameter needs in one step (read
params, grads, m, u; write params, m, u) at the bandwidth of a STREAM-style in-place
triad ``a += s * b``, timed in the same rounds. Steps are jitted with params and state
donated, as in training; ``torch.optim.Adamax`` runs with ``foreach`` off and on (only
when torch is installed and JAX runs on the CPU, so both use the same device).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import statistics
import sys
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

import adamax_optax as ax

LR, CLIP, WD = 1e-3, 1.0, 1e-4
FLOOR_BYTES = 28  # per float32 parameter: read p, g, m, u; write p, m, u

# name -> factory. The presets run with clipping (where the framework has it) and
# weight decay on: the costliest configuration, the one the targets are about.
OPTIMIZERS: dict[str, Callable[[], optax.GradientTransformation]] = {
  "optax.adamax": lambda: optax.adamax(LR),
  "adamax": lambda: ax.adamax(LR),
  "adamax, clip + wd": lambda: ax.adamax(LR, clip_value=CLIP, weight_decay=WD),
  "adamax, fused": lambda: ax.adamax(LR, fused=True),
  "adamax, bf16 state": lambda: ax.adamax(LR, mu_dtype=jnp.bfloat16, nu_dtype=jnp.bfloat16),
  "mxnet, clip + wd": lambda: ax.mxnet_adamax(LR, clip_gradient=CLIP, wd=WD),
  "mxnet, clip + wd, fused": lambda: ax.mxnet_adamax(
    LR, clip_gradient=CLIP, wd=WD, use_fused_step=True
  ),
  "mxnet1, clip + wd": lambda: ax.mxnet1_adamax(LR, clip_gradient=CLIP, wd=WD),
  "mindspore, wd": lambda: ax.mindspore_adamax(LR, weight_decay=WD),
  "mindspore_nn, wd": lambda: ax.mindspore_nn_adamax(LR, weight_decay=WD),
  "torch, wd": lambda: ax.torch_adamax(LR, weight_decay=WD),
  "keras, wd": lambda: ax.keras_adamax(LR, weight_decay=WD),
  "paddle, wd": lambda: ax.paddle_adamax(LR, weight_decay=WD),
}
# The compile-time scaling is measured for these (each 2000-leaf compile takes seconds).
SCALING = ["optax.adamax", "adamax", "adamax, fused", "mxnet, clip + wd"]


def transformer_tree(width: int = 256, layers: int = 15, vocab: int = 1000) -> dict:
  """About 12M parameters in 243 leaves: embeddings, attention, MLP, layer norms."""
  tree = {"embed": (vocab, width), "final_norm": {"scale": (width,), "bias": (width,)}}
  for i in range(layers):
    layer = {f"w{n}": (width, width) for n in "qkvo"} | {f"b{n}": (width,) for n in "qkvo"}
    layer |= {"w_in": (width, 4 * width), "b_in": (4 * width,)}
    layer |= {"w_out": (4 * width, width), "b_out": (width,)}
    for norm in ("norm1", "norm2"):
      layer[norm] = {"scale": (width,), "bias": (width,)}
    tree[f"layer{i:02d}"] = layer
  return tree


def many_leaves(count: int) -> dict:
  return {f"w{i:04d}": (64, 16) for i in range(count)}


def materialize(shapes: dict, seed: int) -> dict:
  leaves, treedef = jax.tree.flatten(shapes, is_leaf=lambda x: isinstance(x, tuple))
  keys = jax.random.split(jax.random.PRNGKey(seed), len(leaves))
  return treedef.unflatten([jax.random.normal(k, s) for k, s in zip(keys, leaves, strict=True)])


def jitted_step(opt: optax.GradientTransformation):
  def step(params, state, grads):
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  return jax.jit(step, donate_argnums=(0, 1))


class JaxRunner:
  """One optimizer's donated step on its own copy of the params."""

  def __init__(self, opt, params, grads):
    self.params = jax.tree.map(jnp.copy, params)
    self.state = opt.init(self.params)
    self.grads = grads
    start = time.perf_counter()
    self.compiled = jitted_step(opt).lower(self.params, self.state, grads).compile()
    self.compile_s = time.perf_counter() - start
    memory = self.compiled.memory_analysis()
    self.state_bytes = sum(x.nbytes for x in jax.tree.leaves(self.state))
    self.peak_bytes = (
      memory.argument_size_in_bytes
      + memory.output_size_in_bytes
      - memory.alias_size_in_bytes
      + memory.temp_size_in_bytes
    )
    self()

  def __call__(self):
    self.params, self.state = self.compiled(self.params, self.state, self.grads)
    jax.block_until_ready(self.params)


class FloorRunner:
  """An in-place triad ``a += s * b`` over the workload's size; its time sets the floor."""

  def __init__(self, size: int):
    self.a, self.b = jnp.ones(size), jnp.full(size, 1e-9)
    self.size = size
    self.step = jax.jit(lambda a, b: a + 0.5 * b, donate_argnums=0)
    self()

  def __call__(self):
    self.a = self.step(self.a, self.b)
    self.a.block_until_ready()


class TorchRunner:
  def __init__(self, torch, params, grads, foreach: bool):
    self.torch = torch
    self.tensors = [torch.tensor(np.asarray(p)) for p in jax.tree.leaves(params)]
    for tensor, g in zip(self.tensors, jax.tree.leaves(grads), strict=True):
      tensor.grad = torch.tensor(np.asarray(g))
    self.opt = torch.optim.Adamax(self.tensors, lr=LR, weight_decay=WD, foreach=foreach)
    self.compile_s = None
    self()
    self.state_bytes = sum(
      t.numel() * t.element_size()
      for s in self.opt.state.values()
      for t in s.values()
      if t.dim() > 0
    )
    self.peak_bytes = None

  def __call__(self):
    with self.torch.no_grad():
      self.opt.step()


def load_torch():
  if jax.default_backend() != "cpu":
    return None
  try:
    import torch
  except ImportError:
    return None
  return torch


def time_interleaved(runners: dict, rounds: int) -> dict:
  times = {name: [] for name in runners}
  for _ in range(rounds):
    for name, run in runners.items():
      start = time.perf_counter()
      run()
      times[name].append(time.perf_counter() - start)
  return {name: statistics.median(ts) for name, ts in times.items()}


def bench_workload(title: str, shapes: dict, rounds: int, torch) -> list[str]:
  params, grads = materialize(shapes, 0), materialize(shapes, 1)
  size = sum(x.size for x in jax.tree.leaves(params))
  leaves = len(jax.tree.leaves(params))
  print(f"{title}: {size / 1e6:.1f}M parameters in {leaves} leaves", file=sys.stderr)
  runners: dict = {"floor (triad)": FloorRunner(size)}
  for name, factory in OPTIMIZERS.items():
    runners[name] = JaxRunner(factory(), params, grads)
  if torch is not None:
    torch.set_num_threads(os.cpu_count() or 1)
    for foreach in (False, True):
      runners[f"torch.optim.Adamax, wd, foreach={foreach}"] = TorchRunner(
        torch, params, grads, foreach
      )
  medians = time_interleaved(runners, rounds)
  bandwidth = 12 * size / medians.pop("floor (triad)")  # triad: read a, b; write a
  floor = FLOOR_BYTES * size / bandwidth
  optax_time = medians["optax.adamax"]
  torch_fastest = min((t for n, t in medians.items() if n.startswith("torch.optim")), default=None)
  lines = [
    f"### {title}: {size / 1e6:.1f}M float32 parameters in {leaves} leaves",
    "",
    f"Floor: {floor * 1e3:.2f} ms ({FLOOR_BYTES} B/parameter at the triad's "
    f"{bandwidth / 1e9:.1f} GB/s).",
    "",
    "| optimizer | step ms | / optax.adamax | / floor | torch / this | compile s | "
    "state MiB | step peak MiB |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  ]
  for name, seconds in medians.items():
    run = runners[name]
    versus_torch = f"{torch_fastest / seconds:.2f}" if torch_fastest else "—"
    compile_s = "—" if run.compile_s is None else f"{run.compile_s:.2f}"
    peak = "—" if run.peak_bytes is None else f"{run.peak_bytes / 2**20:.0f}"
    lines.append(
      f"| {name} | {seconds * 1e3:.2f} | {seconds / optax_time:.3f} | {seconds / floor:.2f} | "
      f"{versus_torch} | {compile_s} | {run.state_bytes / 2**20:.0f} | {peak} |"
    )
  del runners
  return [*lines, ""]


def compile_seconds(factory, leaves: int) -> float:
  shapes = many_leaves(leaves)
  params = jax.tree.map(
    lambda s: jax.ShapeDtypeStruct(s, jnp.float32), shapes, is_leaf=lambda x: isinstance(x, tuple)
  )
  opt = factory()
  state = jax.eval_shape(opt.init, params)
  start = time.perf_counter()
  jitted_step(opt).lower(params, state, params).compile()
  return time.perf_counter() - start


def bench_compile(counts: list[int]) -> list[str]:
  lines = [
    "### Compile time (lowering + XLA) of a donated step, trees of 64x16 leaves",
    "",
    "| optimizer | " + " | ".join(f"{n} leaves s" for n in counts) + " | "
    f"s per 1000 leaves, {counts[0]} -> {counts[-1]} |",
    "|---|" + "---:|" * (len(counts) + 1),
  ]
  for name in SCALING:
    print(f"compile: {name}", file=sys.stderr)
    seconds = [compile_seconds(OPTIMIZERS[name], n) for n in counts]
    growth = [1000 * s / n for s, n in zip(seconds, counts, strict=True)]
    lines.append(
      f"| {name} | " + " | ".join(f"{s:.2f}" for s in seconds) + " | "
      f"{growth[0]:.2f} -> {growth[-1]:.2f} |"
    )
  return [*lines, ""]


def machine() -> str:
  cpu = platform.processor() or "unknown CPU"
  try:
    with open("/proc/cpuinfo") as info:
      cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
  except (OSError, StopIteration):
    pass
  devices = ", ".join(sorted({d.device_kind for d in jax.devices()}))
  return (
    f"{jax.default_backend()} ({devices}); host {cpu}, {os.cpu_count()} cores; "
    f"jax {jax.__version__}, optax {optax.__version__}, python {platform.python_version()}"
  )


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--quick", action="store_true", help="small sizes, 5 rounds")
  parser.add_argument("--rounds", type=int, default=15, help="timing rounds (default 15)")
  parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
  parser.add_argument("--out", type=pathlib.Path, help="markdown file to write")
  args = parser.parse_args(argv)
  torch = None if args.no_torch else load_torch()
  rounds = 5 if args.quick else args.rounds
  if args.quick:
    workloads = {"flat 64K": {"w": (2**16,)}, "transformer-shaped": transformer_tree(64, 2, 100)}
    counts = [25, 50, 100]
  else:
    workloads = {
      "flat 1M": {"w": (2**20,)},
      "flat 16M": {"w": (2**24,)},
      "transformer-shaped": transformer_tree(),
    }
    counts = [250, 1000, 2000]
  lines = [f"Machine: {machine()}", ""]
  if torch is not None:
    lines[-1:] = [f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads.", ""]
  for title, shapes in workloads.items():
    lines += bench_workload(title, shapes, rounds, torch)
  lines += bench_compile(counts)
  table = "\n".join(lines)
  print(table)
  out = args.out or pathlib.Path(__file__).parent / f"results_{jax.default_backend()}.md"
  out.write_text(table)
  print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
  main()
