"""What exact framework schedules cost: table memory, compile time, step time.

Compares ``torch_adamax`` with a constant learning rate against the same preset with
PyTorch schedulers tabulated for a million updates (a step schedule, which run-length
encodes to a few thousand entries, and a cosine one, which keeps one per update), and
``optax.adamax`` with ``optax.cosine_decay_schedule`` for reference. Timings are medians
of interleaved rounds in one process; ratios are to the constant rate.

  python benchmarks/schedules.py [--leaves 64] [--size 65536] [--rounds 30]
"""

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import optax

import adamax_optax as ax
from adamax_optax.torch.optim import lr_scheduler


def compiled_step(opt, params):
  def step(params, state, grads):
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  state = opt.init(params)
  start = time.perf_counter()
  compiled = jax.jit(step, donate_argnums=(0, 1)).lower(params, state, params).compile()
  return compiled, state, time.perf_counter() - start


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--leaves", type=int, default=64)
  parser.add_argument("--size", type=int, default=65536, help="parameters per leaf")
  parser.add_argument("--rounds", type=int, default=30)
  parser.add_argument("--horizon", type=int, default=1_000_000)
  args = parser.parse_args()

  def params():
    return {f"w{i}": jnp.full((args.size,), 0.5, jnp.float32) for i in range(args.leaves)}

  grads = params()
  start = time.perf_counter()
  step = lr_scheduler.StepLR(step_size=41, gamma=0.97, horizon=args.horizon)
  cosine = lr_scheduler.CosineAnnealingLR(T_max=10_000, eta_min=1e-5, horizon=args.horizon)
  tables = {
    name: s.group_schedules([0.01])[0] for name, s in (("StepLR", step), ("cosine", cosine))
  }
  tabulate_s = (time.perf_counter() - start) / 2
  candidates = {
    "torch_adamax, constant lr": ax.torch_adamax(lr=0.01),
    "torch_adamax, StepLR(41, 0.97)": ax.torch_adamax(lr=0.01, lr_scheduler=step),
    "torch_adamax, CosineAnnealingLR": ax.torch_adamax(lr=0.01, lr_scheduler=cosine),
    "optax.adamax, cosine_decay_schedule": optax.adamax(optax.cosine_decay_schedule(0.01, 10_000)),
  }
  runs = {}
  for name, opt in candidates.items():
    compiled, state, seconds = compiled_step(opt, params())
    runs[name] = {"step": compiled, "state": state, "params": params(), "compile": seconds, "t": []}
  for _ in range(args.rounds):
    for run in runs.values():
      begin = time.perf_counter()
      run["params"], run["state"] = run["step"](run["params"], run["state"], grads)
      jax.block_until_ready(run["params"])
      run["t"].append(time.perf_counter() - begin)
  base = runs["torch_adamax, constant lr"]
  base_step, base_compile = statistics.median(base["t"]), base["compile"]
  print(f"{args.leaves} leaves x {args.size} params, {args.rounds} rounds, {jax.devices()[0]}")
  print(f"tabulating 1 schedule of {args.horizon:,} updates on the host: {tabulate_s:.2f} s")
  for name, table in tables.items():
    print(f"  {name}: {table.num_runs:,} runs, {table.num_runs * 12 / 2**20:.2f} MiB")
  print("| optimizer | step (x constant) | compile (x constant) |")
  print("|---|---|---|")
  for name, run in runs.items():
    ratio = statistics.median(run["t"]) / base_step
    print(f"| {name} | {ratio:.3f} | {run['compile'] / base_compile:.2f} |")


if __name__ == "__main__":
  main()
