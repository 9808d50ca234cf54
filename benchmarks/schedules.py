"""What exact framework schedules cost: table memory, compile time, step time.

Compares ``torch_adamax`` with a constant learning rate against the same preset with
PyTorch schedulers tabulated for a million updates (a step schedule, which run-length
encodes to a few thousand entries, and a cosine one, which keeps one per update), and
``optax.adamax`` with ``optax.cosine_decay_schedule`` against its constant rate for
reference. Timings are medians of interleaved rounds in one process; ratios are to the
constant rate; compile times are CPU seconds. ``run.py`` includes this table.

  python benchmarks/schedules.py [--leaves 64] [--size 65536] [--rounds 30]
"""

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import optax

import adamax_optax as ax
from adamax_optax.scale_by_adamax import _bias_correction_table
from adamax_optax.torch.optim import lr_scheduler


def compiled_step(opt, params):
  def step(params, state, grads):
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  state = opt.init(params)
  start = time.process_time()  # CPU seconds: less disturbed by other processes
  compiled = jax.jit(step, donate_argnums=(0, 1)).lower(params, state, params).compile()
  return compiled, state, time.process_time() - start


def schedule_lines(leaves: int, size: int, rounds: int, horizon: int) -> list[str]:
  """The comparison as markdown lines."""

  def params():
    return {f"w{i}": jnp.full((size,), 0.5, jnp.float32) for i in range(leaves)}

  grads = params()
  step = lr_scheduler.StepLR(step_size=41, gamma=0.97, horizon=horizon)
  cosine = lr_scheduler.CosineAnnealingLR(T_max=10_000, eta_min=1e-5, horizon=horizon)
  tables, tabulate_s = {}, {}
  for name, scheduler in (("StepLR", step), ("cosine", cosine)):
    start = time.perf_counter()
    (tables[name],) = scheduler.group_schedules([0.01])
    tabulate_s[name] = time.perf_counter() - start
  candidates = {
    "torch_adamax, constant lr": ax.torch_adamax(lr=0.01),
    "torch_adamax, StepLR(41, 0.97)": ax.torch_adamax(lr=0.01, lr_scheduler=step),
    "torch_adamax, CosineAnnealingLR": ax.torch_adamax(lr=0.01, lr_scheduler=cosine),
    "optax.adamax, constant lr": optax.adamax(0.01),
    "optax.adamax, cosine_decay_schedule": optax.adamax(optax.cosine_decay_schedule(0.01, 10_000)),
  }
  runs = {}
  for name, opt in candidates.items():
    compiled, state, seconds = compiled_step(opt, params())
    runs[name] = {
      "step": compiled,
      "state": state,
      "params": params(),
      "compile": seconds,
      "t": [],
    }
  for _ in range(rounds):
    for run in runs.values():
      begin = time.perf_counter()
      run["params"], run["state"] = run["step"](run["params"], run["state"], grads)
      jax.block_until_ready(run["params"])
      run["t"].append(time.perf_counter() - begin)
  lines = [
    f"{leaves} leaves x {size} parameters, medians of {rounds} interleaved rounds, "
    f"{jax.devices()[0].device_kind}. Tabulating {horizon:,} updates on the host: "
    + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in tabulate_s.items())
    + ".",
    "",
  ]
  steps_bytes = _bias_correction_table(0.9, 0.01).nbytes
  for name, table in tables.items():
    lines.append(
      f"- {name}: {table.num_runs:,} runs of equal rates, {table.nbytes / 2**20:.2f} MiB "
      "(int32 start and float32 pair per run, and the bucket index when it has one), "
      f"plus {steps_bytes:,} bytes of step sizes while 1 - b1**t < 1 (b1 = 0.9)"
    )
  lines += [
    "",
    "| optimizer | step / constant rate | compile / constant rate | state bytes |",
    "|---|---:|---:|---:|",
  ]
  for name, run in runs.items():
    base = runs[name.split(",")[0] + ", constant lr"]
    ratio = statistics.median(run["t"]) / statistics.median(base["t"])
    state_bytes = sum(x.nbytes for x in jax.tree.leaves(run["state"]))
    lines.append(
      f"| {name} | {ratio:.3f} | {run['compile'] / base['compile']:.2f} | {state_bytes:,} |"
    )
  return [*lines, ""]


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--leaves", type=int, default=64)
  parser.add_argument("--size", type=int, default=65536, help="parameters per leaf")
  parser.add_argument("--rounds", type=int, default=30)
  parser.add_argument("--horizon", type=int, default=1_000_000)
  args = parser.parse_args()
  print("\n".join(schedule_lines(args.leaves, args.size, args.rounds, args.horizon)))


if __name__ == "__main__":
  main()
