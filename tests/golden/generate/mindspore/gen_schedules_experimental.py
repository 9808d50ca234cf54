"""Golden lr schedules of mindspore.experimental.optim.lr_scheduler driving experimental Adamax.

Rerun (about 2-4 minutes per case on one CPU core; all cases ~45 min):
    python3 -m venv /work/venvs/mindspore
    /work/venvs/mindspore/bin/pip install mindspore==2.10.0 "numpy<2"
    /work/venvs/mindspore/bin/python tests/golden/generate/mindspore/gen_schedules_experimental.py [case ...]

Writes tests/golden/mindspore/ms_exp_sched_<case>.npz, one per case (kind "schedule").
Loop, as a user writes it: three groups (one tiny float32 parameter each, lr 0.01 / 0.003 / 0.05),
per iteration t = 1..N: read every group's lr Parameter (float32) -> lr[t-1], then
`optimizer(grads)` (for t <= N_OPT only, see below), then `scheduler.step()`
(ReduceLROnPlateau: `scheduler.step(metric[t-1])`).
The optimizer only reads the lr Parameters and never writes them, so after N_OPT updates the loop
keeps calling only scheduler.step() (each experimental-Adamax call costs ~8 ms in PyNative).
"""

import os
import sys

import numpy as np

import _common as C

C.setup()

import mindspore as ms  # noqa: E402
from mindspore import Parameter, Tensor  # noqa: E402
from mindspore.experimental.optim import Adamax  # noqa: E402
from mindspore.experimental.optim import lr_scheduler as L  # noqa: E402

N = int(os.environ.get("GOLDEN_N", 10000))  # smaller only for smoke tests
N_OPT = min(1000, N)
LRS = [0.01, 0.003, 0.05]
OPT_KW = {"betas": [0.9, 0.999], "eps": 1e-8}


def make_opt():
  ps = [Parameter(Tensor(np.full((1,), 0.5, np.float32)), name=f"p{g}") for g in range(3)]
  groups = [{"params": [ps[g]], "lr": LRS[g]} for g in range(3)]
  opt = Adamax(groups, betas=(0.9, 0.999), eps=1e-8)
  return opt


def plateau_metric():
  """Deterministic: 20 blocks of 500: 465 decreasing, 15 flat, 20 noisy around the level."""
  rng = np.random.default_rng(1234)
  out = []
  level = 10.0
  for _ in range(N // 500):
    for _ in range(465):
      level *= 0.999
      out.append(level)
    out.extend([level] * 15)
    out.extend(level * (1.0 + 2e-3 * rng.standard_normal(20)))
  return np.array(out, np.float64)


LAMBDA_SRC = [
  "lambda e: 0.97 ** e",
  "lambda e: 1.0 / (1.0 + 0.05 * e)",
  "lambda e: 0.5 * (1.0 + (e % 41) / 41.0)",
]
MULT_SRC = [
  "lambda e: 0.999",
  "lambda e: 0.97 if e % 7 == 0 else 1.0",
  "lambda e: 1.0 - 0.5 / (e + 10.0)",
]


def cases():
  """name -> (scheduler class path, kwargs for meta, builder(opt) -> scheduler, notes)."""
  c = {}
  c["steplr_41_0p3"] = ("StepLR", {"step_size": 41, "gamma": 0.3}, None)
  c["steplr_7_0p97"] = ("StepLR", {"step_size": 7, "gamma": 0.97}, None)
  c["multisteplr"] = ("MultiStepLR", {"milestones": [7, 41, 300], "gamma": 0.3}, None)
  c["multisteplr_dup"] = ("MultiStepLR", {"milestones": [7, 41, 41, 300], "gamma": 0.97}, None)
  c["exponentiallr_0p97"] = ("ExponentialLR", {"gamma": 0.97}, None)
  c["linearlr"] = ("LinearLR", {"start_factor": 0.25, "end_factor": 0.9, "total_iters": 41}, None)
  c["constantlr"] = ("ConstantLR", {"factor": 0.3, "total_iters": 41}, None)
  c["polynomiallr_p2"] = ("PolynomialLR", {"total_iters": 300, "power": 2.0}, None)
  c["polynomiallr_p0p5"] = ("PolynomialLR", {"total_iters": 41, "power": 0.5}, None)
  c["cosineannealinglr"] = ("CosineAnnealingLR", {"T_max": 300, "eta_min": 1e-4}, None)
  c["cosineannealinglr_short"] = ("CosineAnnealingLR", {"T_max": 7, "eta_min": 1e-4}, None)
  c["cosinewarmrestarts"] = ("CosineAnnealingWarmRestarts", {"T_0": 7, "T_mult": 2, "eta_min": 1e-4}, None)
  c["cosinewarmrestarts_tmult1"] = ("CosineAnnealingWarmRestarts", {"T_0": 41, "T_mult": 1, "eta_min": 1e-4}, None)
  for mode, extra in (("triangular", {}), ("triangular2", {}), ("exp_range", {"gamma": 0.9995})):
    kw = {"base_lr": [0.001, 0.0003, 0.005], "max_lr": [0.01, 0.003, 0.05], "step_size_up": 41,
          "step_size_down": 7, "mode": mode}
    kw.update(extra)
    c["cycliclr_" + mode] = ("CyclicLR", kw, None)
  for scale_mode, source in (("cycle", "lambda x: 1 / (1.0 + x * 0.3)"),
                             ("iterations", "lambda x: 0.9993 ** x")):
    kw = {"base_lr": [0.001, 0.0003, 0.005], "max_lr": [0.01, 0.003, 0.05], "step_size_up": 41,
          "step_size_down": 7, "scale_fn": source, "scale_mode": scale_mode}
    c["cycliclr_scale_fn_" + scale_mode] = ("CyclicLR", kw, None)
  c["lambdalr"] = ("LambdaLR", {"lr_lambda": LAMBDA_SRC}, None)
  c["multiplicativelr"] = ("MultiplicativeLR", {"lr_lambda": MULT_SRC}, None)
  c["sequential_warmup_cosine"] = (
    "SequentialLR",
    {"schedulers": [
      {"class": "mindspore.experimental.optim.lr_scheduler.LinearLR",
       "kwargs": {"start_factor": 0.1, "end_factor": 1.0, "total_iters": 41}},
      {"class": "mindspore.experimental.optim.lr_scheduler.CosineAnnealingLR",
       "kwargs": {"T_max": 259, "eta_min": 1e-4}}],
     "milestones": [41]},
    None)
  c["reducelronplateau"] = ("ReduceLROnPlateau", {
    "mode": "min", "factor": 0.8, "patience": 10, "threshold": 1e-4, "threshold_mode": "rel",
    "cooldown": 3, "min_lr": [1e-4, 1e-5, 1e-3], "eps": 1e-8}, None)
  c["reducelronplateau_abs"] = ("ReduceLROnPlateau", {
    "mode": "min", "factor": 0.5, "patience": 5, "threshold": 1e-3, "threshold_mode": "abs",
    "cooldown": 0, "min_lr": 1e-6, "eps": 1e-8}, None)
  return c


def build(name, cls, kw, opt):
  if cls in ("LambdaLR", "MultiplicativeLR"):
    fns = [eval(s) for s in kw["lr_lambda"]]  # noqa: S307 - our own literal sources above
    return getattr(L, cls)(opt, lr_lambda=fns)
  if cls == "SequentialLR":
    subs = []
    for s in kw["schedulers"]:
      subs.append(getattr(L, s["class"].rsplit(".", 1)[1])(opt, **s["kwargs"]))
    return L.SequentialLR(opt, schedulers=subs, milestones=kw["milestones"])
  if "scale_fn" in kw:  # recorded as the function's own source text
    kw = {**kw, "scale_fn": eval(kw["scale_fn"])}  # noqa: S307 - our own literal sources above
  return getattr(L, cls)(opt, **kw)


def run(name, cls, kw):
  opt = make_opt()
  sched = build(name, cls, kw, opt)
  grads = tuple(Tensor(np.full((1,), 0.1, np.float32)) for _ in range(3))
  metric = plateau_metric() if cls == "ReduceLROnPlateau" else None
  lr = np.zeros((N, 3), np.float32)
  for t in range(N):
    for g, group in enumerate(opt.param_groups):
      lr[t, g] = C.read(group["lr"])
    if t < N_OPT:
      opt(grads)
    if metric is not None:
      sched.step(float(metric[t]))
    else:
      sched.step()
  notes = (
    "lr[t-1, g] = opt.param_groups[g]['lr'] (a float32 Parameter, copied with asnumpy) read just "
    "before optimizer update t; each iteration is `optimizer(grads); scheduler.step()`; the "
    f"optimizer is called for t <= {N_OPT} only (it never writes the lr), scheduler.step() every "
    "iteration. Scheduler constructed right after the optimizer, last_epoch=-1.")
  if metric is not None:
    notes += (" scheduler.step(float(metric[t-1])) after update t (a Python float; the scheduler "
              "casts it to float32).")
  if cls in ("LambdaLR", "MultiplicativeLR"):
    notes += (" lr_lambda is a list, one lambda per group (index = group); the lambdas receive "
              "last_epoch as a float32 0-d Tensor, so their arithmetic is MindSpore float32.")
  arrays = {"lr": lr}
  if metric is not None:
    arrays["metric"] = metric
  m = C.meta(
    name, "schedule",
    scheduler="mindspore.experimental.optim.lr_scheduler." + cls,
    scheduler_kwargs=kw,
    optimizer="mindspore.experimental.optim.Adamax",
    optimizer_kwargs=OPT_KW,
    groups=[{"params": [f"p{g}"], "lr": LRS[g]} for g in range(3)],
    N=N, N_optimizer_calls=N_OPT, notes=notes)
  if cls in ("LambdaLR", "MultiplicativeLR"):
    m = C.meta(name, "schedule", scheduler="mindspore.experimental.optim.lr_scheduler." + cls,
               scheduler_kwargs=kw,
               lambda_names=[f"{name}_group{g}" for g in range(3)],
               optimizer="mindspore.experimental.optim.Adamax", optimizer_kwargs=OPT_KW,
               groups=[{"params": [f"p{g}"], "lr": LRS[g]} for g in range(3)],
               N=N, N_optimizer_calls=N_OPT, notes=notes)
  C.save("ms_exp_sched_" + name, meta=m, **arrays)


def main(argv):
  all_cases = cases()
  names = argv or list(all_cases)
  for name in names:
    cls, kw, _ = all_cases[name]
    run(name, cls, kw)


if __name__ == "__main__":
  main(sys.argv[1:])
