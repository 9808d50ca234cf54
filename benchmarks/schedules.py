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
from collections.abc import Callable, Sequence

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


# --- Start-up: build the preset, init, first jitted step --------------------------------


def startup_candidates() -> dict[str, dict[str, Callable[[], object]]]:
  """Per wing: ``name -> a function building the preset`` with that scheduler (typical
  arguments, a fresh scheduler each time, so no table is reused), the constant rate first."""
  from adamax_optax.keras.optimizers import schedules as keras
  from adamax_optax.mindspore.experimental.optim import lr_scheduler as ms
  from adamax_optax.mindspore.nn import dynamic_lr
  from adamax_optax.mindspore.nn import learning_rate_schedule as ms_nn
  from adamax_optax.mxnet import lr_scheduler as mxnet
  from adamax_optax.paddle.optimizer import lr as paddle
  from adamax_optax.torch.optim import lr_scheduler as torch

  def pytorch_family(module, preset, lr_keyword):
    def attached(make):
      return lambda: preset(**{lr_keyword: 0.01, "lr_scheduler": make()})

    schedulers = {
      "StepLR(step_size=30)": lambda: module.StepLR(step_size=30),
      "MultiStepLR([30, 80])": lambda: module.MultiStepLR(milestones=[30, 80]),
      "ConstantLR()": lambda: module.ConstantLR(),
      "LinearLR(total_iters=100)": lambda: module.LinearLR(total_iters=100),
      "ExponentialLR(0.999)": lambda: module.ExponentialLR(gamma=0.999),
      "PolynomialLR(total_iters=1000)": lambda: module.PolynomialLR(total_iters=1000),
      "CosineAnnealingLR(T_max=1000)": lambda: module.CosineAnnealingLR(T_max=1000),
      "CosineAnnealingLR(T_max=1000, eta_min=1e-5)": lambda: module.CosineAnnealingLR(
        T_max=1000, eta_min=1e-5
      ),
      "CosineAnnealingWarmRestarts(T_0=100)": lambda: module.CosineAnnealingWarmRestarts(T_0=100),
      "CyclicLR(1e-3, 1e-2)": lambda: module.CyclicLR(base_lr=1e-3, max_lr=1e-2),
      "CyclicLR(1e-3, 1e-2, exp_range)": lambda: module.CyclicLR(
        base_lr=1e-3, max_lr=1e-2, mode="exp_range", gamma=0.99999
      ),
      "LambdaLR(0.99**e)": lambda: module.LambdaLR(lr_lambda=lambda epoch: 0.99**epoch),
      "MultiplicativeLR(0.99)": lambda: module.MultiplicativeLR(lr_lambda=lambda epoch: 0.99),
      "SequentialLR(LinearLR, ExponentialLR)": lambda: module.SequentialLR(
        schedulers=[module.LinearLR(total_iters=10), module.ExponentialLR(gamma=0.999)],
        milestones=[10],
      ),
      "SequentialLR(LinearLR(100), StepLR(30))": lambda: module.SequentialLR(
        schedulers=[module.LinearLR(total_iters=100), module.StepLR(step_size=30, gamma=0.97)],
        milestones=[100],
      ),
    }
    if hasattr(module, "OneCycleLR"):
      schedulers["OneCycleLR(1e-2, total_steps=1000)"] = lambda: module.OneCycleLR(
        max_lr=1e-2, total_steps=1000
      )
    if hasattr(module, "ChainedScheduler"):
      schedulers["ChainedScheduler(ConstantLR, ExponentialLR)"] = lambda: module.ChainedScheduler(
        schedulers=[module.ConstantLR(), module.ExponentialLR(gamma=0.999)]
      )
    candidates = {"constant lr": lambda: preset(**{lr_keyword: 0.01})}
    candidates |= {name: attached(make) for name, make in schedulers.items()}
    candidates["ReduceLROnPlateau()"] = attached(module.ReduceLROnPlateau)
    return candidates

  def paddle_attached(make):
    return lambda: ax.paddle_adamax(learning_rate=make())

  paddle_schedulers = {
    "NoamDecay(64, 100)": lambda: paddle.NoamDecay(d_model=64, warmup_steps=100),
    "PiecewiseDecay([30, 80])": lambda: paddle.PiecewiseDecay([30, 80], [0.01, 0.001, 1e-4]),
    "NaturalExpDecay(0.01, 0.001)": lambda: paddle.NaturalExpDecay(0.01, gamma=0.001),
    "InverseTimeDecay(0.01, 0.001)": lambda: paddle.InverseTimeDecay(0.01, gamma=0.001),
    "PolynomialDecay(0.01, 1000)": lambda: paddle.PolynomialDecay(0.01, decay_steps=1000),
    "PolynomialDecay(0.01, 1000, cycle)": lambda: paddle.PolynomialDecay(
      0.01, decay_steps=1000, cycle=True
    ),
    "LinearWarmup(0.01, 100)": lambda: paddle.LinearWarmup(0.01, 100, 0.0, 0.01),
    "LinearWarmup(StepDecay, 100)": lambda: paddle.LinearWarmup(
      paddle.StepDecay(0.01, step_size=30), 100, 0.0, 0.01
    ),
    "ExponentialDecay(0.01, 0.999)": lambda: paddle.ExponentialDecay(0.01, gamma=0.999),
    "MultiStepDecay(0.01, [30, 80])": lambda: paddle.MultiStepDecay(0.01, milestones=[30, 80]),
    "StepDecay(0.01, 30)": lambda: paddle.StepDecay(0.01, step_size=30),
    "LambdaDecay(0.01, 0.99**e)": lambda: paddle.LambdaDecay(0.01, lambda epoch: 0.99**epoch),
    "MultiplicativeDecay(0.01, 0.99)": lambda: paddle.MultiplicativeDecay(0.01, lambda e: 0.99),
    "CosineAnnealingDecay(0.01, 1000)": lambda: paddle.CosineAnnealingDecay(0.01, T_max=1000),
    "OneCycleLR(1e-2, 1000)": lambda: paddle.OneCycleLR(1e-2, total_steps=1000),
    "CyclicLR(1e-3, 1e-2, 2000)": lambda: paddle.CyclicLR(1e-3, 1e-2, step_size_up=2000),
    "CyclicLR(1e-3, 1e-2, 2000, triangular2)": lambda: paddle.CyclicLR(
      1e-3, 1e-2, step_size_up=2000, mode="triangular2"
    ),
    "LinearLR(0.01, 100)": lambda: paddle.LinearLR(0.01, total_steps=100),
    "CosineAnnealingWarmRestarts(0.01, 100)": lambda: paddle.CosineAnnealingWarmRestarts(
      0.01, T_0=100
    ),
    "ReduceOnPlateau(0.01)": lambda: paddle.ReduceOnPlateau(0.01),
  }

  def mxnet_attached(make):
    return lambda: ax.mxnet_adamax(learning_rate=0.01, lr_scheduler=make())

  mxnet_schedulers = {
    "FactorScheduler(30, 0.9)": lambda: mxnet.FactorScheduler(step=30, factor=0.9),
    "MultiFactorScheduler([30, 80], 0.1)": lambda: mxnet.MultiFactorScheduler([30, 80], 0.1),
    "PolyScheduler(1000)": lambda: mxnet.PolyScheduler(max_update=1000),
    "CosineScheduler(1000)": lambda: mxnet.CosineScheduler(max_update=1000),
  }

  def keras_attached(make):
    return lambda: ax.keras_adamax(learning_rate=make())

  keras_schedules = {
    "ExponentialDecay(0.01, 100, 0.9)": lambda: keras.ExponentialDecay(0.01, 100, 0.9),
    "PiecewiseConstantDecay([30, 80])": lambda: keras.PiecewiseConstantDecay(
      [30, 80], [0.01, 0.001, 1e-4]
    ),
    "PolynomialDecay(0.01, 1000)": lambda: keras.PolynomialDecay(0.01, 1000),
    "InverseTimeDecay(0.01, 100, 0.5)": lambda: keras.InverseTimeDecay(0.01, 100, 0.5),
    "CosineDecay(0.01, 1000)": lambda: keras.CosineDecay(0.01, 1000),
    "CosineDecayRestarts(0.01, 100)": lambda: keras.CosineDecayRestarts(0.01, 100),
  }

  def nn_attached(make):
    return lambda: ax.mindspore_nn_adamax(learning_rate=make())

  nn_schedules = {
    "ExponentialDecayLR(0.01, 0.9, 100)": lambda: ms_nn.ExponentialDecayLR(0.01, 0.9, 100),
    "NaturalExpDecayLR(0.01, 0.1, 100)": lambda: ms_nn.NaturalExpDecayLR(0.01, 0.1, 100),
    "InverseDecayLR(0.01, 0.1, 100)": lambda: ms_nn.InverseDecayLR(0.01, 0.1, 100),
    "CosineDecayLR(0, 0.01, 1000)": lambda: ms_nn.CosineDecayLR(0.0, 0.01, 1000),
    "PolynomialDecayLR(0.01, 1e-4, 1000, 1.0)": lambda: ms_nn.PolynomialDecayLR(
      0.01, 1e-4, 1000, 1.0
    ),
    "WarmUpLR(0.01, 100)": lambda: ms_nn.WarmUpLR(0.01, 100),
    "piecewise_constant_lr([300, 1000])": lambda: dynamic_lr.piecewise_constant_lr(
      [300, 1000], [0.01, 0.001]
    ),
    "exponential_decay_lr(1000 steps)": lambda: dynamic_lr.exponential_decay_lr(
      0.01, 0.9, 1000, 10, 2
    ),
    "natural_exp_decay_lr(1000 steps)": lambda: dynamic_lr.natural_exp_decay_lr(
      0.01, 0.1, 1000, 10, 2
    ),
    "inverse_decay_lr(1000 steps)": lambda: dynamic_lr.inverse_decay_lr(0.01, 0.5, 1000, 10, 2),
    "cosine_decay_lr(1000 steps)": lambda: dynamic_lr.cosine_decay_lr(0.0, 0.01, 1000, 10, 2),
    "polynomial_decay_lr(1000 steps)": lambda: dynamic_lr.polynomial_decay_lr(
      0.01, 1e-4, 1000, 10, 2, 1.0
    ),
    "warmup_lr(1000 steps)": lambda: dynamic_lr.warmup_lr(0.01, 1000, 10, 2),
  }
  return {
    "torch": pytorch_family(torch, ax.torch_adamax, "lr"),
    "mindspore.experimental": pytorch_family(ms, ax.mindspore_adamax, "lr"),
    "paddle": {"constant lr": lambda: ax.paddle_adamax(learning_rate=0.01)}
    | {name: paddle_attached(make) for name, make in paddle_schedulers.items()},
    "mxnet": {"constant lr": lambda: ax.mxnet_adamax(learning_rate=0.01)}
    | {name: mxnet_attached(make) for name, make in mxnet_schedulers.items()},
    "keras": {"constant lr": lambda: ax.keras_adamax(learning_rate=0.01)}
    | {name: keras_attached(make) for name, make in keras_schedules.items()},
    "mindspore.nn": {"constant lr": lambda: ax.mindspore_nn_adamax(learning_rate=0.01)}
    | {name: nn_attached(make) for name, make in nn_schedules.items()},
  }


def startup_seconds(build: Callable[[], object], params, metric: bool = False) -> float:
  """CPU seconds of this process to build the preset, ``init`` it and run its first
  jitted step (with a ``value=`` for a scheduler that follows a metric): less disturbed
  by other processes than the wall clock, and everything here runs on the CPU."""
  begin = time.process_time()
  opt = build()
  state = opt.init(params)
  extra = {"value": jnp.float32(1.0)} if metric else {}

  def step(params, state, grads):
    updates, state = opt.update(grads, state, params, **extra)
    return optax.apply_updates(params, updates), state

  jax.block_until_ready(jax.jit(step)(params, state, params))
  return time.process_time() - begin


def startup_lines(leaves: int, size: int, rounds: int, only: Sequence[str] = ()) -> list[str]:
  """The start-up table: each scheduler's start-up against its preset's constant rate,
  measured side by side (constant, scheduler, constant, ...), medians of ``rounds``."""
  params = {f"w{i}": jnp.full((size,), 0.5, jnp.float32) for i in range(leaves)}
  lines = [
    f"Start-up (build the preset + init + first jitted step, CPU seconds) on {leaves} leaves "
    f"x {size} parameters, {jax.devices()[0].device_kind}, medians of {rounds} side by side "
    "rounds, as a ratio to the same preset with a constant rate:",
    "",
    "| wing | scheduler | start-up s | / constant rate |",
    "|---|---|---:|---:|",
  ]
  for wing, candidates in startup_candidates().items():
    if only and wing not in only:
      continue
    constant = candidates.pop("constant lr")
    startup_seconds(constant, params)  # the first build of a preset pays its imports
    for name, build in candidates.items():
      metric = "Plateau" in name
      pairs = [
        (startup_seconds(constant, params), startup_seconds(build, params, metric))
        for _ in range(rounds)
      ]
      base = statistics.median(pair[0] for pair in pairs)
      seconds = statistics.median(pair[1] for pair in pairs)
      lines.append(f"| {wing} | {name} | {seconds:.2f} | {seconds / base:.2f} |")
      print(lines[-1], flush=True)
  return [*lines, ""]


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--leaves", type=int, default=64)
  parser.add_argument("--size", type=int, default=65536, help="parameters per leaf")
  parser.add_argument("--rounds", type=int, default=30)
  parser.add_argument("--horizon", type=int, default=1_000_000)
  parser.add_argument(
    "--startup", action="store_true", help="the start-up table only (build + init + first step)"
  )
  parser.add_argument("--startup-leaves", type=int, default=16)
  parser.add_argument("--startup-size", type=int, default=4096)
  parser.add_argument("--startup-rounds", type=int, default=3)
  parser.add_argument("--wing", action="append", help="start-up of these wings only")
  args = parser.parse_args()
  if not args.startup:
    print("\n".join(schedule_lines(args.leaves, args.size, args.rounds, args.horizon)))
  lines = startup_lines(
    args.startup_leaves, args.startup_size, args.startup_rounds, args.wing or ()
  )
  print("\n".join(lines))


if __name__ == "__main__":
  main()
