"""Two mindspore.experimental.optim schedulers on one Adamax, both stepped after every update.

MindSpore 2.10 has no ChainedScheduler: a script builds ConstantLR and ExponentialLR on the
same optimizer and steps both. Rerun (a MindSpore 2.10 venv, see _common.py; about 1 minute):
    /work/venvs/mindspore/bin/python tests/golden/generate/mindspore/gen_schedules_together.py
Writes tests/golden/mindspore/ms_exp_together_constant_exponential.npz.

A closed-loop run: two groups (w0 of 5 at lr 0.01, w1 of 3 at lr 0.003; float32), the
gradient at update t computed from the current parameters, g = (w - target) + noise[t] (two
float32 adds, in NumPy). The loop:
    constant = ConstantLR(opt, factor=0.3, total_iters=40)   # built first
    decay = ExponentialLR(opt, gamma=0.99)                   # built second
    for t in 1..N:
        read each group's lr Parameter (float32)             -> lr[t-1]
        opt(grads)                                           -> params after the update, w[t-1]
        constant.step(); decay.step()
        constant.get_last_lr(), decay.get_last_lr()          -> last_lr_*[t-1]
"""

import numpy as np

import _common as C

C.setup()

from mindspore import Parameter, Tensor  # noqa: E402
from mindspore.experimental.optim import Adamax  # noqa: E402
from mindspore.experimental.optim import lr_scheduler as L  # noqa: E402

N = 300
GROUP_LRS = [0.01, 0.003]
CASE = "ms_exp_together_constant_exponential"


def main():
  rng = np.random.default_rng(2324)
  sizes = (5, 3)
  init = [rng.standard_normal(n).astype(np.float32) for n in sizes]
  targets = [rng.standard_normal(n).astype(np.float32) for n in sizes]
  noise = [(0.1 * rng.standard_normal((N, n))).astype(np.float32) for n in sizes]
  params = [Parameter(Tensor(w.copy()), name=f"w{k}") for k, w in enumerate(init)]
  groups = [{"params": [p], "lr": lr} for p, lr in zip(params, GROUP_LRS)]
  opt = Adamax(groups, betas=(0.9, 0.999), eps=1e-8)
  constant = L.ConstantLR(opt, factor=0.3, total_iters=40)
  decay = L.ExponentialLR(opt, gamma=0.99)
  lrs = np.empty((N, 2), np.float32)
  last_constant, last_decay = np.empty((N, 2), np.float32), np.empty((N, 2), np.float32)
  trajectory = [np.empty((N, n), np.float32) for n in sizes]
  for t in range(N):
    lrs[t] = [C.read(group["lr"]) for group in opt.param_groups]
    grads = tuple(
      Tensor((C.read(p) - target) + n[t]) for p, target, n in zip(params, targets, noise)
    )
    opt(grads)
    constant.step()
    decay.step()
    last_constant[t] = [C.read(lr) for lr in constant.get_last_lr()]
    last_decay[t] = [C.read(lr) for lr in decay.get_last_lr()]
    for k, p in enumerate(params):
      trajectory[k][t] = C.read(p)
  C.save(
    CASE,
    meta=C.meta(
      CASE,
      "schedule_together",
      schedulers=[
        {"class": "ConstantLR", "kwargs": {"factor": 0.3, "total_iters": 40}},
        {"class": "ExponentialLR", "kwargs": {"gamma": 0.99}},
      ],
      optimizer="mindspore.experimental.optim.Adamax(betas=(0.9, 0.999), eps=1e-8)",
    ),
    init0=init[0],
    init1=init[1],
    target0=targets[0],
    target1=targets[1],
    noise0=noise[0],
    noise1=noise[1],
    group_lrs=np.array(GROUP_LRS),
    lr=lrs,
    last_lr_constant=last_constant,
    last_lr_decay=last_decay,
    w0=trajectory[0],
    w1=trajectory[1],
  )
  print(lrs[[0, 1, 39, 40, 41, 299]])


if __name__ == "__main__":
  main()
