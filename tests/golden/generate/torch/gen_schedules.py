"""Record torch.optim.lr_scheduler learning-rate (and beta1) schedules through torch.optim.Adamax.

Rerun (venv outside the repo, CPU wheel):
    python3 -m venv /work/venvs/torch
    /work/venvs/torch/bin/pip install torch==2.13.0 numpy
    cd tests/golden/generate/torch && /work/venvs/torch/bin/python gen_schedules.py
Writes tests/golden/torch/sched_<case>.npz (kind "schedule").

Loop (exactly as a user writes it), N = 10000 optimizer updates, 3 groups with one dummy
parameter each (shape (1,), grad fixed at 0.5):
    for t in 1..N:
        read group["lr"], group["betas"][0], sched.get_last_lr()   -> row t-1
        opt.step()
        sched.step()          (or sched.step(metric[t-1]) / every 5th update / sched.step(t))
"""

import math  # noqa: F401  (available to the lambda sources)
import sys
import warnings

import numpy as np
import torch
from common import save
from torch.optim import Adamax
from torch.optim import lr_scheduler as L

warnings.filterwarnings("ignore")

N = 10000
GROUP_LRS = [0.01, 0.003, 0.05]
OPT_KW = {"betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0}


def lam(src):
    return eval(src)  # the recorded string IS the function


def plateau_metric(n, seed=1234):
    """Deterministic metric: repeated blocks of (decrease, long flat, noisy), slowly drifting."""
    rng = np.random.default_rng(seed)
    out = np.empty(n, dtype=np.float64)
    t = 0
    level = 10.0
    blk = 0
    while t < n:
        dec = 40 + 13 * (blk % 3)
        flat = 60 + 17 * (blk % 4)
        noisy = 80
        for i in range(dec):
            if t >= n:
                break
            level *= 0.99
            out[t] = level
            t += 1
        for i in range(flat):
            if t >= n:
                break
            out[t] = level
            t += 1
        for i in range(noisy):
            if t >= n:
                break
            out[t] = level * (1.0 + 0.02 * rng.standard_normal())
            t += 1
        blk += 1
    return out


# name -> (scheduler class path, kwargs for meta, builder(opt) -> sched, mode, extra notes)
CASES = {}


def case(name, cls, kwargs, build, mode="step", notes="", tensor_lr=False, group_lrs=None):
    CASES[name] = dict(cls=cls, kwargs=kwargs, build=build, mode=mode, notes=notes,
                       tensor_lr=tensor_lr, group_lrs=group_lrs or GROUP_LRS)


def P(name):
    return "torch.optim.lr_scheduler." + name


# ---- LambdaLR ------------------------------------------------------------------
S1 = "lambda e: 0.999 ** e"
case("lambdalr_pow", P("LambdaLR"), {"lr_lambda": S1, "lr_lambda_name": "pow0999"},
     lambda o: L.LambdaLR(o, lam(S1)))
S3 = ["lambda e: 1.0 / (1.0 + 0.01 * e)", "lambda e: 0.5 ** (e // 41)",
      "lambda e: max(0.0, 1.0 - e / 5000)"]
case("lambdalr_groups", P("LambdaLR"),
     {"lr_lambda": S3, "lr_lambda_name": ["inv_time", "halve_every_41", "linear_to_zero_5000"]},
     lambda o: L.LambdaLR(o, [lam(s) for s in S3]))
# ---- MultiplicativeLR ------------------------------------------------------------
M3 = ["lambda e: 0.97 if e % 7 == 0 else 1.0", "lambda e: 1.0 - 1e-4 * (e % 41)",
      "lambda e: 0.9995"]
case("multiplicativelr_groups", P("MultiplicativeLR"),
     {"lr_lambda": M3, "lr_lambda_name": ["x097_every7", "sawtooth41", "const09995"]},
     lambda o: L.MultiplicativeLR(o, [lam(s) for s in M3]))
# ---- StepLR ----------------------------------------------------------------------
case("steplr_41_0.3", P("StepLR"), {"step_size": 41, "gamma": 0.3},
     lambda o: L.StepLR(o, step_size=41, gamma=0.3))
case("steplr_7_0.97", P("StepLR"), {"step_size": 7, "gamma": 0.97},
     lambda o: L.StepLR(o, step_size=7, gamma=0.97))
case("steplr_7_0.97_epoch5", P("StepLR"), {"step_size": 7, "gamma": 0.97},
     lambda o: L.StepLR(o, step_size=7, gamma=0.97), mode="epoch5",
     notes="sched.step() called once per 'epoch' = after every 5th opt.step() "
           "(after updates 5, 10, 15, ...); scheduler epochs are counted in epochs, so the "
           "decay happens after update 5*7=35, 70, ...")
case("steplr_41_0.3_closedform", P("StepLR"), {"step_size": 41, "gamma": 0.3},
     lambda o: L.StepLR(o, step_size=41, gamma=0.3), mode="closed",
     notes="deprecated sched.step(epoch) with epoch=t after update t: uses _get_closed_form_lr")
# ---- MultiStepLR -----------------------------------------------------------------
case("multisteplr", P("MultiStepLR"), {"milestones": [7, 41, 300], "gamma": 0.3},
     lambda o: L.MultiStepLR(o, milestones=[7, 41, 300], gamma=0.3))
case("multisteplr_repeated", P("MultiStepLR"), {"milestones": [7, 41, 41, 300, 5000], "gamma": 0.97},
     lambda o: L.MultiStepLR(o, milestones=[7, 41, 41, 300, 5000], gamma=0.97),
     notes="milestone 41 repeated: lr * gamma ** 2 at epoch 41")
# ---- ConstantLR ------------------------------------------------------------------
case("constantlr_0.3_41", P("ConstantLR"), {"factor": 0.3, "total_iters": 41},
     lambda o: L.ConstantLR(o, factor=0.3, total_iters=41))
case("constantlr_0.97_7", P("ConstantLR"), {"factor": 0.97, "total_iters": 7},
     lambda o: L.ConstantLR(o, factor=0.97, total_iters=7))
# ---- LinearLR --------------------------------------------------------------------
case("linearlr_warmup_41", P("LinearLR"), {"start_factor": 0.1, "end_factor": 1.0, "total_iters": 41},
     lambda o: L.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=41))
case("linearlr_decay_300", P("LinearLR"), {"start_factor": 1.0, "end_factor": 0.03, "total_iters": 300},
     lambda o: L.LinearLR(o, start_factor=1.0, end_factor=0.03, total_iters=300))
case("linearlr_0.3_0.7_7", P("LinearLR"), {"start_factor": 0.3, "end_factor": 0.7, "total_iters": 7},
     lambda o: L.LinearLR(o, start_factor=0.3, end_factor=0.7, total_iters=7))
# ---- ExponentialLR ---------------------------------------------------------------
case("exponentiallr_0.97", P("ExponentialLR"), {"gamma": 0.97},
     lambda o: L.ExponentialLR(o, gamma=0.97))
case("exponentiallr_0.3", P("ExponentialLR"), {"gamma": 0.3},
     lambda o: L.ExponentialLR(o, gamma=0.3),
     notes="underflows through subnormals to exactly 0.0 after ~600 steps")
case("exponentiallr_0.97_closedform", P("ExponentialLR"), {"gamma": 0.97},
     lambda o: L.ExponentialLR(o, gamma=0.97), mode="closed",
     notes="deprecated sched.step(epoch) with epoch=t after update t: base_lr * gamma ** t")
case("exponentiallr_0.97_tensor_lr", P("ExponentialLR"), {"gamma": 0.97},
     lambda o: L.ExponentialLR(o, gamma=0.97), tensor_lr=True,
     notes="group lr given as torch.tensor(lr) (float32 0-d); lr stored as float32 "
           "(group['lr'].item()); the scheduler fill_()s the same tensor each step")
# ---- PolynomialLR ----------------------------------------------------------------
case("polynomiallr_300_2", P("PolynomialLR"), {"total_iters": 300, "power": 2.0},
     lambda o: L.PolynomialLR(o, total_iters=300, power=2.0))
case("polynomiallr_41_0.5", P("PolynomialLR"), {"total_iters": 41, "power": 0.5},
     lambda o: L.PolynomialLR(o, total_iters=41, power=0.5))
case("polynomiallr_7_1", P("PolynomialLR"), {"total_iters": 7, "power": 1.0},
     lambda o: L.PolynomialLR(o, total_iters=7, power=1.0))
# ---- CosineAnnealingLR -----------------------------------------------------------
case("cosine_41_1e-4", P("CosineAnnealingLR"), {"T_max": 41, "eta_min": 1e-4},
     lambda o: L.CosineAnnealingLR(o, T_max=41, eta_min=1e-4),
     notes="runs far past T_max: the recursive form keeps oscillating with period 2*T_max")
case("cosine_7_1e-3", P("CosineAnnealingLR"), {"T_max": 7, "eta_min": 1e-3},
     lambda o: L.CosineAnnealingLR(o, T_max=7, eta_min=1e-3))
case("cosine_41_1e-4_closedform", P("CosineAnnealingLR"), {"T_max": 41, "eta_min": 1e-4},
     lambda o: L.CosineAnnealingLR(o, T_max=41, eta_min=1e-4), mode="closed",
     notes="deprecated sched.step(epoch) with epoch=t after update t: _get_closed_form_lr")
case("cosine_300_1e-4_tensor_lr", P("CosineAnnealingLR"), {"T_max": 300, "eta_min": 1e-4},
     lambda o: L.CosineAnnealingLR(o, T_max=300, eta_min=1e-4), tensor_lr=True,
     notes="group lr given as torch.tensor(lr) (float32 0-d); lr stored as float32")
# ---- CosineAnnealingWarmRestarts -------------------------------------------------
case("warmrestarts_7_2", P("CosineAnnealingWarmRestarts"), {"T_0": 7, "T_mult": 2, "eta_min": 1e-4},
     lambda o: L.CosineAnnealingWarmRestarts(o, T_0=7, T_mult=2, eta_min=1e-4))
case("warmrestarts_41_1", P("CosineAnnealingWarmRestarts"), {"T_0": 41, "T_mult": 1, "eta_min": 1e-4},
     lambda o: L.CosineAnnealingWarmRestarts(o, T_0=41, T_mult=1, eta_min=1e-4))
# ---- CyclicLR --------------------------------------------------------------------
CYC_BASE = [0.001, 0.0003, 0.005]
for mode, extra in [("triangular", {}), ("triangular2", {}), ("exp_range", {"gamma": 0.9997})]:
    kw = {"base_lr": CYC_BASE, "max_lr": GROUP_LRS, "step_size_up": 41, "step_size_down": 7,
          "mode": mode, **extra}
    case(f"cycliclr_{mode}", P("CyclicLR"), kw,
         (lambda kw: (lambda o: L.CyclicLR(o, **kw)))(kw),
         notes="cycle_momentum=True (default): betas[0] cycled between base_momentum=0.8 and "
               "max_momentum=0.9, recorded as beta1")
kw = {"base_lr": CYC_BASE, "max_lr": GROUP_LRS, "step_size_up": 41, "step_size_down": 7,
      "mode": "triangular", "cycle_momentum": False}
case("cycliclr_triangular_nomomentum", P("CyclicLR"), kw, lambda o, kw=kw: L.CyclicLR(o, **kw),
     notes="cycle_momentum=False: betas untouched (0.9)")
# ---- OneCycleLR ------------------------------------------------------------------
for strat in ["cos", "linear"]:
    for three in [False, True]:
        kw1 = {"max_lr": GROUP_LRS, "total_steps": N, "anneal_strategy": strat, "three_phase": three}
        case(f"onecycle_{strat}_{'3phase' if three else '2phase'}", P("OneCycleLR"), kw1,
             (lambda kw: (lambda o: L.OneCycleLR(o, **kw)))(kw1),
             notes="cycle_momentum=True (default): betas[0] between base_momentum=0.85 and "
                   "max_momentum=0.95, recorded as beta1. Sched stepped N times; the last "
                   "step reaches last_epoch == total_steps (allowed, > raises)")
kw2 = {"max_lr": GROUP_LRS, "total_steps": N, "pct_start": 0.25, "div_factor": 10.0,
       "final_div_factor": 100.0, "base_momentum": 0.8, "max_momentum": 0.95,
       "anneal_strategy": "cos"}
case("onecycle_cos_custom", P("OneCycleLR"), kw2, lambda o, kw=kw2: L.OneCycleLR(o, **kw))
# ---- SequentialLR ----------------------------------------------------------------
case("sequential_linear_cosine", P("SequentialLR"),
     {"schedulers": [{"class": P("LinearLR"), "kwargs": {"start_factor": 0.1, "total_iters": 41}},
                     {"class": P("CosineAnnealingLR"), "kwargs": {"T_max": N - 41, "eta_min": 1e-4}}],
      "milestones": [41]},
     lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.1, total_iters=41),
                                  L.CosineAnnealingLR(o, T_max=N - 41, eta_min=1e-4)],
                              milestones=[41]),
     notes="sub-schedulers constructed in list order on the same optimizer, then SequentialLR")
case("sequential_const_exp_step", P("SequentialLR"),
     {"schedulers": [{"class": P("ConstantLR"), "kwargs": {"factor": 0.3, "total_iters": 41}},
                     {"class": P("ExponentialLR"), "kwargs": {"gamma": 0.97}},
                     {"class": P("StepLR"), "kwargs": {"step_size": 41, "gamma": 0.3}}],
      "milestones": [7, 300]},
     lambda o: L.SequentialLR(o, [L.ConstantLR(o, factor=0.3, total_iters=41),
                                  L.ExponentialLR(o, gamma=0.97),
                                  L.StepLR(o, step_size=41, gamma=0.3)],
                              milestones=[7, 300]))
# ---- ChainedScheduler -----------------------------------------------------------
case("chained_exp_step", P("ChainedScheduler"),
     {"schedulers": [{"class": P("ExponentialLR"), "kwargs": {"gamma": 0.97}},
                     {"class": P("StepLR"), "kwargs": {"step_size": 41, "gamma": 0.3}}]},
     lambda o: L.ChainedScheduler([L.ExponentialLR(o, gamma=0.97),
                                   L.StepLR(o, step_size=41, gamma=0.3)]))
# ---- ReduceLROnPlateau ----------------------------------------------------------
RP = [
    ("plateau_min_rel", {"mode": "min", "factor": 0.5, "patience": 10, "threshold": 1e-4,
                         "threshold_mode": "rel"}, 1.0),
    ("plateau_min_abs_cooldown_minlr",
     {"mode": "min", "factor": 0.3, "patience": 5, "threshold": 0.01, "threshold_mode": "abs",
      "cooldown": 7, "min_lr": [1e-4, 1e-5, 1e-3]}, 1.0),
    ("plateau_max_rel_eps", {"mode": "max", "factor": 0.5, "patience": 3, "threshold": 1e-3,
                             "threshold_mode": "rel", "cooldown": 2, "eps": 1e-4}, -1.0),
    ("plateau_max_abs_minlr", {"mode": "max", "factor": 0.7, "patience": 20, "threshold": 1e-3,
                               "threshold_mode": "abs", "min_lr": 2e-4}, -1.0),
]
for name, kw, sign in RP:
    case(name, P("ReduceLROnPlateau"), kw,
         (lambda kw: (lambda o: L.ReduceLROnPlateau(o, **kw)))(kw), mode=("plateau", sign),
         notes="sched.step(metric[t-1]) after update t; metric stored")


def run_case(name, c):
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in c["group_lrs"]]
    for p in params:
        p.grad = torch.full((1,), 0.5)
    groups = [{"params": [p], "lr": (torch.tensor(lr) if c["tensor_lr"] else lr)}
              for p, lr in zip(params, c["group_lrs"])]
    opt = Adamax(groups, lr=0.002, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    sched = c["build"](opt)
    G = len(groups)
    ldt = np.float32 if c["tensor_lr"] else np.float64
    lr = np.zeros((N, G), ldt)
    last = np.zeros((N, G), ldt)
    beta1 = np.zeros((N, G), np.float64)
    mode = c["mode"]
    metric = None
    if isinstance(mode, tuple):
        metric = plateau_metric(N) * mode[1]
    for t in range(N):
        for g, grp in enumerate(opt.param_groups):
            v = grp["lr"]
            lr[t, g] = v.item() if torch.is_tensor(v) else v
            b = grp["betas"][0]
            beta1[t, g] = b
            lv = sched.get_last_lr()[g]
            last[t, g] = lv.item() if torch.is_tensor(lv) else lv
        opt.step()
        if metric is not None:
            sched.step(metric[t])
        elif mode == "epoch5":
            if (t + 1) % 5 == 0:
                sched.step()
        elif mode == "closed":
            sched.step(t + 1)
        else:
            sched.step()
    arrays = {"lr": lr}
    cycles_beta = not np.all(beta1 == 0.9)
    if cycles_beta:
        arrays["beta1"] = beta1
    differs = not np.array_equal(last.view(np.uint8), lr.view(np.uint8))
    if differs:
        arrays["last_lr"] = last
    if metric is not None:
        arrays["metric"] = metric
    notes = ("lr[t-1, g] = opt.param_groups[g]['lr'] read just before the t-th opt.step() "
             "(after the scheduler was constructed and stepped t-1 times); beta1 likewise "
             "from group['betas'][0] (stored only when it changes). get_last_lr() read at the "
             "same moment is stored as last_lr only when it differs bitwise from lr (here: "
             + ("DIFFERS" if differs else "identical, not stored") + "). "
             "Adamax dummy params: one (1,) float32 param per group, grad 0.5. ")
    if c["notes"]:
        notes += c["notes"]
    mode_s = "plateau" if metric is not None else mode
    save("sched_" + name, arrays, kind="schedule", scheduler=c["cls"],
         scheduler_kwargs=c["kwargs"], step_mode=mode_s,
         optimizer="torch.optim.Adamax",
         optimizer_kwargs={"lr": 0.002, **OPT_KW, "note": "per-group lr below"},
         groups=[{"params": ["p%d" % g], "lr": c["group_lrs"][g],
                  "lr_is_tensor": c["tensor_lr"]} for g in range(G)],
         N=N, notes=notes)
    return differs, cycles_beta


if __name__ == "__main__":
    only = sys.argv[1:]
    for name, c in CASES.items():
        if only and name not in only:
            continue
        d, b = run_case(name, c)
        print(f"{name:40s} last_lr_differs={d} beta1={b}")
