"""Record torch.amp.GradScaler around torch.optim.Adamax (kind "grad_scaler").

Rerun (venv outside the repo, CPU wheel):
    python3 -m venv /work/venvs/torch
    /work/venvs/torch/bin/pip install torch==2.13.0 numpy
    cd tests/golden/generate/torch && /work/venvs/torch/bin/python gen_grad_scaler.py [case ...]
Writes tests/golden/torch/amp_<case>.npz.

float32 params b (5,), s (), w (12, 7) (the order PyTorch sees them, which is also JAX's
sorted order, so that clip_grad_norm_ adds the norms in the same order). Closed loop: at
step t the float32 gradient g = a * (p - target) + noise[t] comes from the current params
(problem() of gen_trajectories.py), with w[0, 1] = 5e4 on steps 1 to 6 (it overflows once
scaled by 2**113 and above, not by 2**112), a NaN at b[2] on step 150 and an inf at w[3, 3]
on step 203. Each step: p.grad = scaler.scale(g) (float32 g times the scale tensor, as
backward of scaler.scale(loss) delivers it), [scaler.unscale_(opt); clip_grad_norm_],
scaler.step(opt), scaler.update().
"""

import sys
import warnings

import numpy as np
import torch

from common import save
from gen_trajectories import problem

warnings.filterwarnings("ignore")
torch.set_num_threads(1)

T = 300
KEYS = ("b", "s", "w")
SPIKES = {t: ("w", (0, 1), 5e4) for t in range(1, 7)}
SPIKES.update({150: ("b", (2,), float("nan")), 203: ("w", (3, 3), float("inf"))})


def run(name, *, clip_max_norm=None, init_scale=2.0**116, growth_interval=20):
    prob = problem(KEYS, steps=T)
    params = {k: torch.nn.Parameter(torch.tensor(prob[k]["p0"])) for k in KEYS}
    opt = torch.optim.Adamax([params[k] for k in KEYS], lr=0.02, weight_decay=0.01)
    scaler = torch.amp.GradScaler("cpu", init_scale=init_scale, growth_interval=growth_interval)
    rec = {}
    for k in KEYS:
        shape = tuple(params[k].shape)
        rec["grad_" + k] = np.zeros((T,) + shape, np.float32)
        for prefix in ("param_", "m_", "u_"):
            rec[prefix + k] = np.zeros((T + 1,) + shape, np.float32)
        rec["param_" + k][0] = params[k].detach().numpy()
    rec["scale"] = np.zeros(T + 1, np.float32)
    rec["growth_tracker"] = np.zeros(T + 1, np.int32)
    rec["step"] = np.zeros(T + 1, np.float32)
    rec["total_norm"] = np.zeros(T, np.float32)
    rec["scale"][0] = init_scale
    for t in range(1, T + 1):
        opt.zero_grad(set_to_none=True)
        for k in KEYS:
            p = params[k].detach().numpy()
            pr = prob[k]
            g = (pr["a"] * (p - pr["tgt"]) + pr["noise"][t - 1]).astype(np.float32)
            g = np.array(g, np.float32, ndmin=0)
            spike = SPIKES.get(t)
            if spike is not None and spike[0] == k:
                g[spike[1]] = np.float32(spike[2])
            params[k].grad = scaler.scale(torch.tensor(g))
            rec["grad_" + k][t - 1] = params[k].grad.numpy()
        if clip_max_norm is not None:
            scaler.unscale_(opt)
            norm = torch.nn.utils.clip_grad_norm_([params[k] for k in KEYS], clip_max_norm)
            rec["total_norm"][t - 1] = norm.item()
        scaler.step(opt)
        scaler.update()
        for k in KEYS:
            state = opt.state.get(params[k], {})
            rec["param_" + k][t] = params[k].detach().numpy()
            if state:
                rec["m_" + k][t] = state["exp_avg"].numpy()
                rec["u_" + k][t] = state["exp_inf"].numpy()
                rec["step"][t] = state["step"].item()
        rec["scale"][t] = scaler.get_scale()
        rec["growth_tracker"][t] = scaler._get_growth_tracker()
    if clip_max_norm is None:
        del rec["total_norm"]
    save("amp_" + name, rec, kind="grad_scaler", T=T, param_order=list(KEYS),
         optimizer="torch.optim.Adamax", optimizer_kwargs={"lr": 0.02, "weight_decay": 0.01},
         grad_scaler={"device": "cpu", "init_scale": init_scale,
                      "growth_interval": growth_interval},
         clip=None if clip_max_norm is None else {"fn": "clip_grad_norm_",
                                                  "max_norm": clip_max_norm},
         spikes={str(t): [k, list(i), v] for t, (k, i, v) in SPIKES.items()},
         notes="grad_<k>[t-1] = the scaled gradient p.grad before step t; param/m/u index 0 "
               "= initial, t = after step t (m, u zero until PyTorch creates the state); "
               "scale[t], growth_tracker[t] = scaler.get_scale(), scaler._get_growth_tracker() "
               "after the t-th update(); step[t] = state['step']"
               + ("; total_norm[t-1] = clip_grad_norm_'s float32 result after unscale_"
                  if clip_max_norm is not None else "") + ".")
    return rec


CASES = {"adamax_2e116": {}, "adamax_2e116_clip": {"clip_max_norm": 1.0}}

if __name__ == "__main__":
    only = sys.argv[1:]
    for name, kwargs in CASES.items():
        if not only or name in only:
            r = run(name, **kwargs)
            print(name, "ok", "scales", sorted(set(np.log2(r["scale"]).tolist()))[:3], "...",
                  "skipped", int(np.sum(np.diff(r["step"]) == 0)))
