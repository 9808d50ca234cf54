"""Record full torch.optim.Adamax trajectories (kind "trajectory") with schedulers, tensor lr,
low precision (float16 / bfloat16) and gradient clipping.

Rerun (venv outside the repo, CPU wheel):
    python3 -m venv /work/venvs/torch
    /work/venvs/torch/bin/pip install torch==2.13.0 numpy
    cd tests/golden/generate/torch && /work/venvs/torch/bin/python gen_trajectories.py [case ...]
Writes tests/golden/torch/traj_<case>.npz.

Closed loop: at step t the gradient is computed in NumPy float32 from the current torch params,
g = a * (p - target) + noise[t]  (a, target, noise fixed by seed; elements with a == 0 get
noise 0, i.e. always-zero gradient), with awkward steps overwritten (see AWKWARD), then cast to
the parameter dtype and assigned to p.grad. The gradient actually fed is recorded.
Loop per step: [clip hook] -> opt.step() -> sched.step(); params and optimizer state
(state keys 'exp_avg' -> m, 'exp_inf' -> u, 'step') are read after each step.
"""

import os
import subprocess
import sys
import warnings

import numpy as np
import torch
from torch.optim import Adamax
from torch.optim import lr_scheduler as L

from common import bits16, save

warnings.filterwarnings("ignore")
torch.set_num_threads(1)

T = 300
SHAPES = {"w": (12, 7), "b": (5,), "s": (), "big": (64, 33), "v": (100,), "x": (7, 11, 3),
          "fc1": (30, 50), "fc1_bias": (50,), "fc2": (7, 30), "fc2_bias": (7,)}
# step (1-based) -> kind of awkward gradient
AWKWARD = {5: "zero", 17: "subnormal", 29: "huge", 150: "zero", 160: "subnormal", 203: "huge"}
TINY = {torch.float32: 1e-40, torch.float16: 3e-6, torch.bfloat16: 1e-40}   # subnormal in dtype
HUGE = {torch.float32: 1e30, torch.float16: 6e4, torch.bfloat16: 3e38}      # near overflow


def problem(keys, seed=0, steps=T):
    rng = np.random.default_rng(seed)
    out = {}
    for k in keys:
        shp = SHAPES[k]
        p0 = rng.standard_normal(shp).astype(np.float32)
        a = rng.uniform(0.1, 2.0, shp).astype(np.float32)
        if shp != ():
            a.reshape(-1)[::5] = 0.0  # some elements never get a gradient
        tgt = rng.standard_normal(shp).astype(np.float32)
        noise = (0.1 * rng.standard_normal((steps,) + shp)).astype(np.float32)
        noise[:, a == 0] = 0.0
        out[k] = dict(p0=np.asarray(p0, np.float32), a=np.asarray(a, np.float32),
                      tgt=np.asarray(tgt, np.float32), noise=noise)
    return out


def gradient(k, prob, p_np, t, dtype, rng_awk):
    """t is 1-based. Returns float32 numpy gradient (before cast to dtype)."""
    pr = prob[k]
    g = (pr["a"] * (p_np - pr["tgt"]) + pr["noise"][t - 1]).astype(np.float32)
    g = np.asarray(g, np.float32)
    kind = AWKWARD.get(t)
    if kind == "zero":
        g = np.zeros_like(g)
    elif kind == "subnormal":
        sgn = np.where(rng_awk.standard_normal(g.shape) < 0, -1.0, 1.0).astype(np.float32)
        g = (sgn * np.float32(TINY[dtype]) * rng_awk.integers(1, 4, g.shape)).astype(np.float32)
        if g.shape != ():
            g.reshape(-1)[::3] = 0.0
    elif kind == "huge":
        g = g.copy()
        if g.shape == ():
            g = np.float32(HUGE[dtype])
        else:
            g.reshape(-1)[1::4] = np.float32(HUGE[dtype]) * np.where(
                np.arange(g.size)[1::4] % 8 == 1, 1.0, -1.0).astype(np.float32)
    return np.asarray(g, np.float32)


def to_np(t):
    if t.dtype in (torch.float16, torch.bfloat16):
        return bits16(t)
    return t.detach().clone().numpy()


def run(name, *, groups_spec, opt_kwargs, sched=None, sched_desc=None, dtype=torch.float32,
        cpu_capability=None, steps=T, keys=("w", "b", "s"), clip=None, clip_desc=None, record_beta1=False, notes="",
        tensor_lr=False, subset_big=None):
    if cpu_capability is not None:
        running = torch.backends.cpu.get_cpu_capability()
        assert running == cpu_capability, (
            f"{name} needs ATEN_CPU_CAPABILITY={cpu_capability.lower()}, this process runs {running}")
    prob = problem(keys, steps=steps)
    params = {k: torch.nn.Parameter(torch.tensor(prob[k]["p0"]).to(dtype)) for k in keys}
    groups = []
    for gs in groups_spec:
        g = {kk: vv for kk, vv in gs.items() if kk != "params"}
        if tensor_lr and "lr" in g:
            g["lr"] = torch.tensor(g["lr"])
        g["params"] = [params[k] for k in gs["params"]]
        groups.append(g)
    okw = dict(opt_kwargs)
    if tensor_lr:
        okw["lr"] = torch.tensor(okw["lr"])
    opt = Adamax(groups, **okw)
    sch = sched(opt) if sched is not None else None
    bitsmode = dtype in (torch.float16, torch.bfloat16)
    suf = "_bits" if bitsmode else ""
    rec = {}
    for k in keys:
        shp = SHAPES[k]
        sdt = np.uint16 if bitsmode else np.float32
        rec["grad_" + k] = np.zeros((steps,) + shp, sdt)
        for pre in ("param_", "m_", "u_"):
            rec[pre + k] = np.zeros((steps + 1,) + shp, sdt)
        rec["param_" + k][0] = to_np(params[k])
        if clip is not None:
            rec["clipped_" + k] = np.zeros((steps,) + shp, sdt)
    G = len(opt.param_groups)
    lr = np.zeros((steps, G), np.float32 if tensor_lr else np.float64)
    beta1 = np.zeros((steps, G), np.float64)
    total_norm = np.zeros((steps,), np.float32)
    rng_awk = np.random.default_rng(99)
    for t in range(1, steps + 1):
        for k in keys:
            p_np = params[k].detach().to(torch.float32).numpy()
            g32 = gradient(k, prob, p_np, t, dtype, rng_awk)
            params[k].grad = torch.tensor(g32).to(dtype)
            rec["grad_" + k][t - 1] = to_np(params[k].grad)
        if clip is not None:
            tn = clip([params[k] for k in keys])
            if tn is not None:
                total_norm[t - 1] = tn.item()
            for k in keys:
                rec["clipped_" + k][t - 1] = to_np(params[k].grad)
        for gi, grp in enumerate(opt.param_groups):
            v = grp["lr"]
            lr[t - 1, gi] = v.item() if torch.is_tensor(v) else v
            beta1[t - 1, gi] = grp["betas"][0]
        opt.step()
        if sch is not None:
            sch.step()
        for k in keys:
            st = opt.state[params[k]]
            rec["param_" + k][t] = to_np(params[k])
            rec["m_" + k][t] = to_np(st["exp_avg"])
            rec["u_" + k][t] = to_np(st["exp_inf"])
    if bitsmode:
        rec = {kk + ("_bits" if not kk.endswith("_bits") else ""): vv for kk, vv in rec.items()}
    rec["lr"] = lr
    if record_beta1:
        rec["beta1"] = beta1
    if clip is not None and clip_desc.get("fn") == "clip_grad_norm_":
        rec["total_norm"] = total_norm
    if subset_big is not None:
        for pre in ("param_", "m_", "u_"):
            rec[pre + "big"] = rec[pre + "big"][subset_big]
        rec["big_steps"] = np.asarray(subset_big, np.int64)
        notes += (" SIZE LIMIT: param_big/m_big/u_big are stored only at the step indices in "
                  "big_steps (index 0 = initial, t = after step t); grad_big is complete.")
    # which Adamax implementation ran
    fe = opt_kwargs.get("foreach")
    impl = ("_multi_tensor_adamax (foreach)" if fe else
            "_single_tensor_adamax" + (" (foreach=None defaults to single-tensor on CPU)"
                                       if fe is None else ""))
    meta_groups = [dict(gs) for gs in groups_spec]
    save("traj_" + name, rec, kind="trajectory", aten_cpu_capability_env=os.environ.get(
             "ATEN_CPU_CAPABILITY"),
         scheduler=sched_desc["class"] if sched_desc else None,
         scheduler_kwargs=sched_desc["kwargs"] if sched_desc else None,
         optimizer="torch.optim.Adamax", optimizer_kwargs=opt_kwargs,
         lr_is_tensor=tensor_lr, implementation=impl,
         groups=meta_groups, dtype=str(dtype).replace("torch.", ""), T=steps,
         shapes={k: list(SHAPES[k]) for k in keys}, param_order=list(keys),
         awkward_steps={str(k): v for k, v in AWKWARD.items()},
         awkward_values={"subnormal": TINY[dtype], "huge": HUGE[dtype]},
         clip=clip_desc,
         notes=("grad_<k>[t-1] = gradient assigned to p.grad before step t"
                + (" (before clipping; clipped_<k>[t-1] = p.grad after the clip call, what "
                   "Adamax consumed; total_norm[t-1] = float32 value returned by clip_grad_norm_)"
                   if clip is not None else "")
                + "; param/m/u index 0 = initial, t = after step t; m = state['exp_avg'], "
                "u = state['exp_inf'] (state['step'] is a float32 0-d tensor). lr[t-1, g] = "
                "group['lr'] read just before the t-th opt.step()"
                + (" (float32 .item() of the tensor lr)" if tensor_lr else "")
                + ("; beta1[t-1, g] = group['betas'][0] at that moment" if record_beta1 else "")
                + ("; 16-bit tensors stored as raw bits (uint16, *_bits)" if bitsmode else "")
                + ". Gradients: float32 NumPy a*(p-target)+noise from the current params "
                "(cast up to float32 first), then cast with torch .to(dtype). " + notes))
    return rec


G2 = [{"params": ["w", "s"], "lr": 0.02, "weight_decay": 0.01}, {"params": ["b"], "lr": 0.05}]
OPT = {"lr": 0.02, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0}


def SD(cls, **kw):
    return {"class": "torch.optim.lr_scheduler." + cls, "kwargs": kw}


CASES = {}


def case(name, **kw):
    CASES[name] = kw


case("steplr", groups_spec=G2, opt_kwargs=OPT,
     sched=lambda o: L.StepLR(o, step_size=41, gamma=0.3), sched_desc=SD("StepLR", step_size=41, gamma=0.3))
case("sequential", groups_spec=G2, opt_kwargs=OPT,
     sched=lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.1, total_iters=41),
                                        L.CosineAnnealingLR(o, T_max=259, eta_min=1e-4)],
                                    milestones=[41]),
     sched_desc={"class": "torch.optim.lr_scheduler.SequentialLR", "kwargs": {
         "schedulers": [SD("LinearLR", start_factor=0.1, total_iters=41),
                        SD("CosineAnnealingLR", T_max=259, eta_min=1e-4)], "milestones": [41]}})
case("onecycle", groups_spec=G2, opt_kwargs=OPT,
     sched=lambda o: L.OneCycleLR(o, max_lr=[0.05, 0.1], total_steps=300),
     sched_desc=SD("OneCycleLR", max_lr=[0.05, 0.1], total_steps=300), record_beta1=True,
     notes="OneCycleLR overrides group lr (initial_lr = max_lr/25) and cycles betas[0] "
           "(0.95 -> 0.85 -> 0.95).")
for fe in (False, True):
    case(f"exponential_foreach_{fe}", groups_spec=G2, opt_kwargs={**OPT, "foreach": fe},
         sched=lambda o: L.ExponentialLR(o, gamma=0.97), sched_desc=SD("ExponentialLR", gamma=0.97))
    case(f"tensor_lr_exponential_foreach_{fe}", groups_spec=G2, opt_kwargs={**OPT, "foreach": fe},
         sched=lambda o: L.ExponentialLR(o, gamma=0.97), sched_desc=SD("ExponentialLR", gamma=0.97),
         tensor_lr=True,
         notes="Adamax(groups, lr=torch.tensor(0.02)); every group lr given as its own "
               "torch.tensor(<lr>) (float32 0-d), so group['lr'] is a float32 tensor that "
               "ExponentialLR fill_()s with (lr_tensor * 0.97).")
    case(f"tensor_lr_constant_foreach_{fe}", groups_spec=G2, opt_kwargs={**OPT, "foreach": fe},
         tensor_lr=True,
         notes="Constant tensor learning rates: Adamax(groups, lr=torch.tensor(0.02)), every "
               "group lr its own float32 0-d torch.tensor; no scheduler.")
case("big_exponential", groups_spec=[{"params": ["w", "s", "big"], "lr": 0.02, "weight_decay": 0.01},
                                     {"params": ["b"], "lr": 0.05}],
     opt_kwargs=OPT, keys=("w", "b", "s", "big"),
     sched=lambda o: L.ExponentialLR(o, gamma=0.97), sched_desc=SD("ExponentialLR", gamma=0.97),
     subset_big=[0, 1, 2, 3, 4, 5, 6, 17, 18, 29, 30, 41, 100, 150, 151, 160, 161, 203, 204, 250, 300])
# ---- low precision, plain Adamax, no scheduler -----------------------------------
for dt in (torch.float16, torch.bfloat16):
    for fe in (False, True):
        case(f"{str(dt)[6:]}_foreach_{fe}", groups_spec=G2, opt_kwargs={**OPT, "foreach": fe},
             dtype=dt, notes="Plain Adamax, no scheduler; params, grads and state in "
             + str(dt) + ".")
# Sizes whose remainders differ for 32- and 64-element vector chunks (the scalar tail of
# PyTorch's CPU kernels), weight decay on every group, an exponential schedule.
G_ODD = [{"params": ["v", "x", "s"], "lr": 0.02, "weight_decay": 0.01},
         {"params": ["b"], "lr": 0.05, "weight_decay": 0.003}]
for dt in (torch.float16, torch.bfloat16):
    for fe in (False, True):
        case(f"{str(dt)[6:]}_odd_sizes_foreach_{fe}", groups_spec=G_ODD,
             opt_kwargs={**OPT, "foreach": fe, "eps": 1e-4}, keys=("v", "x", "b", "s"), dtype=dt,
             sched=lambda o: L.ExponentialLR(o, gamma=0.99), sched_desc=SD("ExponentialLR", gamma=0.99),
             notes="Sizes 100 and 231 (remainders 36/4 and 39/7 for 64/32-element chunks).")
# float16 weight decay per CPU kernel: the 32-element chunk of PyTorch's vectorized add leaves
# tails of 28, 18, 18 and 7 elements here. ATEN_CPU_CAPABILITY picks the kernel (the AVX2 one
# runs on an AVX-512 machine); __main__ starts each case in a process with its capability set.
G_DENSE = [{"params": ["fc1", "fc1_bias", "fc2", "fc2_bias"], "lr": 0.02, "weight_decay": 0.05}]
for cap in ("AVX512", "AVX2"):
    case(f"float16_decay_{cap.lower()}", groups_spec=G_DENSE, cpu_capability=cap, steps=200,
         opt_kwargs={**OPT, "eps": 1e-4}, keys=("fc1", "fc1_bias", "fc2", "fc2_bias"),
         dtype=torch.float16,
         notes=f"Sizes 1500, 50, 210, 7 with weight decay 0.05, recorded with "
               f"ATEN_CPU_CAPABILITY={cap.lower()} (torch.backends.cpu.get_cpu_capability() "
               f"{cap}).")
# ---- clipping --------------------------------------------------------------------
GC = [{"params": ["w", "s"], "lr": 0.02, "weight_decay": 0.01}, {"params": ["b"], "lr": 0.02}]
for nt, mx in ((2.0, 3.0), (float("inf"), 1.0)):
    tag = "2" if nt == 2.0 else "inf"
    case(f"clip_norm_{tag}", groups_spec=GC, opt_kwargs=OPT,
         clip=(lambda mx, nt: (lambda ps: torch.nn.utils.clip_grad_norm_(ps, mx, norm_type=nt)))(mx, nt),
         clip_desc={"fn": "clip_grad_norm_", "max_norm": mx, "norm_type": str(nt),
                    "foreach": None, "params_order": ["w", "b", "s"]})
case("clip_value", groups_spec=GC, opt_kwargs=OPT,
     clip=lambda ps: torch.nn.utils.clip_grad_value_(ps, 0.05),
     clip_desc={"fn": "clip_grad_value_", "clip_value": 0.05, "foreach": None,
                "params_order": ["w", "b", "s"]})


if __name__ == "__main__":
    only = sys.argv[1:]
    for name, kw in CASES.items():
        if only and name not in only:
            continue
        wanted = kw.get("cpu_capability")
        if wanted is not None and wanted != torch.backends.cpu.get_cpu_capability():
            # The kernels are chosen once per process: rerun this case with the variable set.
            env = {**os.environ, "ATEN_CPU_CAPABILITY": wanted.lower()}
            subprocess.run([sys.executable, __file__, name], env=env, check=True)
            continue
        run(name, **kw)
        print(name, "ok")
