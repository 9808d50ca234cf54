"""Record two schedulers built on one torch.optim.Adamax and stepped at their own cadences.

Rerun (venv outside the repo, CPU wheel):
    python3 -m venv /work/venvs/torch
    /work/venvs/torch/bin/pip install torch==2.13.0 numpy
    cd tests/golden/generate/torch && /work/venvs/torch/bin/python gen_schedules_together.py
Writes tests/golden/torch/together_linear_step.npz.

A closed-loop run: two groups (w0 of 5 and w1 of 3 float32 elements), the gradient at update
t computed from the current parameters, g = (w - target) + noise[t] (two float32 adds, which
any compiler keeps as they are). The loop, as a script with a warmup per update and a decay
per epoch of 25 updates writes it:
    warmup = LinearLR(opt, start_factor=0.1, total_iters=60)   # built first
    decay = StepLR(opt, step_size=2, gamma=0.5)                # built second
    for t in 1..N:
        read each group["lr"]                         -> lr[t-1]
        opt.step()                                    -> params after the update, w[t-1]
        warmup.step()
        if t % 25 == 0: decay.step()
        warmup.get_last_lr(), decay.get_last_lr()     -> last_lr_*[t-1]
"""

import numpy as np
import torch
from common import save
from torch.optim import Adamax
from torch.optim import lr_scheduler as L

N = 400
GROUP_LRS = [0.01, 0.003]
EVERY = [1, 25]


def main():
  rng = np.random.default_rng(2323)
  init = [rng.standard_normal(5).astype(np.float32), rng.standard_normal(3).astype(np.float32)]
  targets = [rng.standard_normal(5).astype(np.float32), rng.standard_normal(3).astype(np.float32)]
  noise = [
    (0.1 * rng.standard_normal((N, 5))).astype(np.float32),
    (0.1 * rng.standard_normal((N, 3))).astype(np.float32),
  ]
  params = [torch.nn.Parameter(torch.tensor(w)) for w in init]
  opt = Adamax([{"params": [p], "lr": lr} for p, lr in zip(params, GROUP_LRS)], lr=0.002)
  warmup = L.LinearLR(opt, start_factor=0.1, total_iters=60)
  decay = L.StepLR(opt, step_size=2, gamma=0.5)
  lrs = np.empty((N, 2))
  last_warmup, last_decay = np.empty((N, 2)), np.empty((N, 2))
  trajectory = [np.empty((N, 5), np.float32), np.empty((N, 3), np.float32)]
  for t in range(N):
    lrs[t] = [group["lr"] for group in opt.param_groups]
    with torch.no_grad():
      for p, target, n in zip(params, targets, noise):
        p.grad = (p - torch.tensor(target)) + torch.tensor(n[t])
    opt.step()
    warmup.step()
    if (t + 1) % EVERY[1] == 0:
      decay.step()
    last_warmup[t], last_decay[t] = warmup.get_last_lr(), decay.get_last_lr()
    for k, p in enumerate(params):
      trajectory[k][t] = p.detach().numpy()
  path = save(
    "together_linear_step",
    {
      "init0": init[0],
      "init1": init[1],
      "target0": targets[0],
      "target1": targets[1],
      "noise0": noise[0],
      "noise1": noise[1],
      "group_lrs": np.array(GROUP_LRS),
      "every": np.array(EVERY),
      "lr": lrs,
      "last_lr_warmup": last_warmup,
      "last_lr_decay": last_decay,
      "w0": trajectory[0],
      "w1": trajectory[1],
    },
    schedulers=[
      {"class": "LinearLR", "kwargs": {"start_factor": 0.1, "total_iters": 60}, "every": 1},
      {"class": "StepLR", "kwargs": {"step_size": 2, "gamma": 0.5}, "every": 25},
    ],
    optimizer="torch.optim.Adamax(betas=(0.9, 0.999), eps=1e-8, weight_decay=0)",
  )
  print(path, lrs[[0, 49, 50, 59, 60, 99, 100, 399]])


if __name__ == "__main__":
  main()
