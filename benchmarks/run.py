"""Step time, compile time and memory of every optimizer here against optax and PyTorch.

    python benchmarks/run.py                 # everything, table to benchmarks/results_<backend>.md
    python benchmarks/run.py --quick         # smaller sizes and fewer repeats, to try it out
    python benchmarks/run.py --tiny --out /tmp/t.md   # seconds: checks that every section runs

All timings come from one process and are interleaved: each round runs one step of every
optimizer in turn, and the table reports medians over rounds, so drift in the machine's
speed hits every column alike. Read the ratios, not the milliseconds.

Each preset is compared twice: with ``optax.adamax`` and with the optax chain of the same
stages (``optax.chain(optax.clip(c), optax.add_decayed_weights(wd),
optax.scale_by_adamax(), optax.scale(-lr))`` and the like), which does the same work
without reproducing any framework's rounding. Compile times are CPU seconds of this
process (``time.process_time``), which other processes on the machine disturb less than
wall-clock seconds.

The floor is the time to move the 28 bytes a float32 parameter needs in one step (read
params, grads, m, u; write params, m, u) at the bandwidth of a STREAM-style in-place
triad ``a += s * b``, timed in the same rounds. Steps are jitted with params and state
donated, as in training; ``torch.optim.Adamax`` runs with ``foreach`` off and on (only
when torch is installed and can use the device JAX runs on: the CPU, or a CUDA GPU with a
CUDA build of torch, so that both use the same device).
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


def optax_chain(*, clip: bool = False, decay: str | None = None, decay_first: bool = False):
  """optax's own chain with the stages a preset runs: clipping, L2 or decoupled decay."""
  stages = []
  if decay == "l2" and decay_first:
    stages.append(optax.add_decayed_weights(WD))
  if clip:
    stages.append(optax.clip(CLIP))
  if decay == "l2" and not decay_first:
    stages.append(optax.add_decayed_weights(WD))
  stages.append(optax.scale_by_adamax())
  if decay == "decoupled":  # what optax.adamaxw chains
    stages.append(optax.add_decayed_weights(WD))
  stages.append(optax.scale(-LR))
  return optax.chain(*stages)


# The optax references, and for each of this package's optimizers its factory and the
# reference with the same stages. The presets run with clipping (where the framework
# has it) and weight decay on: the costliest configuration, the one the targets are about.
REFERENCES: dict[str, Callable[[], optax.GradientTransformation]] = {
  "optax.adamax": lambda: optax.adamax(LR),
  "optax chain: clip, wd": lambda: optax_chain(clip=True, decay="l2"),
  "optax chain: wd, clip": lambda: optax_chain(clip=True, decay="l2", decay_first=True),
  "optax chain: wd": lambda: optax_chain(decay="l2"),
  "optax chain: decoupled wd": lambda: optax_chain(decay="decoupled"),
}
OURS: dict[str, tuple[Callable[[], optax.GradientTransformation], str]] = {
  "adamax": (lambda: ax.adamax(LR), "optax.adamax"),
  "adamax, clip + wd": (
    lambda: ax.adamax(LR, clip_value=CLIP, weight_decay=WD),
    "optax chain: clip, wd",
  ),
  "adamax, fused": (lambda: ax.adamax(LR, fused=True), "optax.adamax"),
  "adamax, bf16 state": (
    lambda: ax.adamax(LR, mu_dtype=jnp.bfloat16, nu_dtype=jnp.bfloat16),
    "optax.adamax",
  ),
  "mxnet, clip + wd": (
    lambda: ax.mxnet_adamax(LR, clip_gradient=CLIP, wd=WD),
    "optax chain: clip, wd",
  ),
  "mxnet, clip + wd, fused": (
    lambda: ax.mxnet_adamax(LR, clip_gradient=CLIP, wd=WD, use_fused_step=True),
    "optax chain: clip, wd",
  ),
  "mxnet1, clip + wd": (
    lambda: ax.mxnet1_adamax(LR, clip_gradient=CLIP, wd=WD),
    "optax chain: wd, clip",
  ),
  "mindspore, wd": (lambda: ax.mindspore_adamax(LR, weight_decay=WD), "optax chain: wd"),
  "mindspore_nn, wd": (lambda: ax.mindspore_nn_adamax(LR, weight_decay=WD), "optax chain: wd"),
  "torch, wd": (lambda: ax.torch_adamax(LR, weight_decay=WD), "optax chain: wd"),
  "keras, wd": (lambda: ax.keras_adamax(LR, weight_decay=WD), "optax chain: decoupled wd"),
  "paddle, wd": (lambda: ax.paddle_adamax(LR, weight_decay=WD), "optax chain: wd"),
}
OPTIMIZERS = REFERENCES | {name: factory for name, (factory, _) in OURS.items()}
# Compile times are measured for these (a 2000-leaf compile takes seconds); "fused" is
# the same program as unfused on the CPU, and bf16 state changes no stage.
COMPILED = [n for n in OPTIMIZERS if "fused" not in n and "bf16" not in n]


def equivalent(name: str) -> str:
  return OURS[name][1] if name in OURS else name


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
    self.device = torch_device()
    as_tensor = lambda x: torch.tensor(np.asarray(x), device=self.device)
    self.tensors = [as_tensor(p) for p in jax.tree.leaves(params)]
    for tensor, g in zip(self.tensors, jax.tree.leaves(grads), strict=True):
      tensor.grad = as_tensor(g)
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
    if self.device == "cuda":  # CUDA kernels run asynchronously, as JAX's do
      self.torch.cuda.synchronize()


def torch_device() -> str:
  """The torch device that is the device JAX runs on: "cpu" or "cuda"."""
  return "cuda" if jax.default_backend() == "gpu" else "cpu"


def load_torch():
  """torch, when it is installed and can run on JAX's device; else None."""
  if jax.default_backend() not in ("cpu", "gpu"):
    return None
  try:
    import torch
  except ImportError:
    return None
  if torch_device() == "cuda" and not torch.cuda.is_available():
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
    "| optimizer | step ms | / optax.adamax | / same-stage optax chain | / floor | "
    "torch / this | compile s | state MiB | step peak MiB |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ]
  for name, seconds in medians.items():
    run = runners[name]
    versus_torch = f"{torch_fastest / seconds:.2f}" if torch_fastest else "—"
    versus_chain = f"{seconds / medians[equivalent(name)]:.3f}" if name in OURS else "—"
    compile_s = "—" if run.compile_s is None else f"{run.compile_s:.2f}"
    peak = "—" if run.peak_bytes is None else f"{run.peak_bytes / 2**20:.0f}"
    lines.append(
      f"| {name} | {seconds * 1e3:.2f} | {seconds / optax_time:.3f} | {versus_chain} | "
      f"{seconds / floor:.2f} | {versus_torch} | {compile_s} | {run.state_bytes / 2**20:.0f} | "
      f"{peak} |"
    )
  del runners
  return [*lines, ""]


def compile_seconds(factory, leaves: int) -> tuple[float, float]:
  """CPU seconds to trace and lower a donated step, and to compile it with XLA."""
  shapes = many_leaves(leaves)
  params = jax.tree.map(
    lambda s: jax.ShapeDtypeStruct(s, jnp.float32), shapes, is_leaf=lambda x: isinstance(x, tuple)
  )
  opt = factory()
  state = jax.eval_shape(opt.init, params)
  start = time.process_time()
  lowered = jitted_step(opt).lower(params, state, params)
  lowered_at = time.process_time()
  lowered.compile()
  return lowered_at - start, time.process_time() - lowered_at


def ratios(seconds: list[float], reference: list[float]) -> str:
  return " / ".join(f"{a / b:.2f}" for a, b in zip(seconds, reference, strict=True))


def bench_compile(counts: list[int], rounds: list[int]) -> list[str]:
  """Interleaved rounds at each tree size; medians of lowering + compilation."""
  totals = {name: [] for name in COMPILED}
  lowering = {name: [] for name in COMPILED}
  for leaves, repeats in zip(counts, rounds, strict=True):
    print(f"compile: {leaves} leaves, {repeats} rounds", file=sys.stderr)
    samples = {name: [] for name in COMPILED}
    for _ in range(repeats):
      for name in COMPILED:
        samples[name].append(compile_seconds(OPTIMIZERS[name], leaves))
    for name, runs in samples.items():
      totals[name].append(statistics.median(lower + xla for lower, xla in runs))
      lowering[name].append(statistics.median(lower for lower, _ in runs))
  sizes = " | ".join(f"{n} leaves s" for n in counts)
  lines = [
    "### Compile time of a donated step, trees of 64x16 leaves",
    "",
    "CPU seconds of tracing, lowering and XLA compilation (lowering alone in brackets), "
    f"medians of {'/'.join(map(str, rounds))} interleaved rounds; ratios at each size to "
    "the optax chain with the same stages and to `optax.adamax`.",
    "",
    f"| optimizer | {sizes} | / same-stage optax chain | / optax.adamax |",
    "|---|" + "---:|" * (len(counts) + 2),
  ]
  for name in COMPILED:
    seconds = " | ".join(
      f"{t:.2f} ({lo:.2f})" for t, lo in zip(totals[name], lowering[name], strict=True)
    )
    chain = ratios(totals[name], totals[equivalent(name)]) if name in OURS else "—"
    versus_optax = ratios(totals[name], totals["optax.adamax"])
    lines.append(f"| {name} | {seconds} | {chain} | {versus_optax} |")
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


def bench_lazy(rows: int, dim: int, touched: int, repeats: int) -> list[str]:
  import lazy_rows  # benchmarks/lazy_rows.py, next to this script

  table = lazy_rows.main(
    ["--rows", str(rows), "--dim", str(dim), "--touched", str(touched), "--repeats", str(repeats)]
  )
  return ["### lazy_rows against a dense step (`lazy_rows.py`)", "", *table, ""]


def bench_schedules(leaves: int, size: int, rounds: int) -> list[str]:
  import schedules  # benchmarks/schedules.py, next to this script

  lines = schedules.schedule_lines(leaves, size, rounds, horizon=1_000_000)
  return ["### Exact schedules against a constant rate (`schedules.py`)", "", *lines]


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--quick", action="store_true", help="small sizes, 5 rounds")
  parser.add_argument(
    "--tiny", action="store_true", help="tiny sizes, 2 rounds: only checks that it runs"
  )
  parser.add_argument("--rounds", type=int, default=15, help="timing rounds (default 15)")
  parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
  parser.add_argument(
    "--only",
    choices=["steps", "compile", "schedules", "lazy"],
    action="append",
    help="run only these sections (repeatable; default all)",
  )
  parser.add_argument("--out", type=pathlib.Path, help="markdown file to write")
  args = parser.parse_args(argv)
  sections = set(args.only or ["steps", "compile", "schedules", "lazy"])
  torch = None if args.no_torch else load_torch()
  rounds = 2 if args.tiny else 5 if args.quick else args.rounds
  if args.tiny:
    workloads = {"flat 4K": {"w": (2**12,)}, "transformer-shaped": transformer_tree(16, 1, 10)}
    counts, compile_rounds = [2, 4], [1, 1]
    lazy, schedule = (1000, 4, 16, 2), (2, 256, 3)
  elif args.quick:
    workloads = {"flat 64K": {"w": (2**16,)}, "transformer-shaped": transformer_tree(64, 2, 100)}
    counts, compile_rounds = [25, 50, 100], [2, 2, 2]
    lazy, schedule = (100_000, 16, 512, 3), (8, 4096, 10)
  else:
    workloads = {
      "flat 1M": {"w": (2**20,)},
      "flat 16M": {"w": (2**24,)},
      "transformer-shaped": transformer_tree(),
    }
    counts, compile_rounds = [250, 1000, 2000], [3, 1, 1]
    lazy, schedule = (1_000_000, 64, 4096, 7), (64, 65536, 30)
  lines = [f"Machine: {machine()}", ""]
  if torch is not None:
    threads = torch.get_num_threads()
    lines[-1:] = [f"PyTorch {torch.__version__} on {torch_device()}, {threads} threads.", ""]
  if "steps" in sections:
    for title, shapes in workloads.items():
      lines += bench_workload(title, shapes, rounds, torch)
  if "compile" in sections:
    lines += bench_compile(counts, compile_rounds)
  if "schedules" in sections:
    lines += bench_schedules(*schedule)
  if "lazy" in sections:
    lines += bench_lazy(*lazy)
  table = "\n".join(lines)
  print(table)
  out = args.out or pathlib.Path(__file__).parent / f"results_{jax.default_backend()}.md"
  out.write_text(table)
  print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
  main()
