"""Record schedulers rebuilt with ``last_epoch`` on a loaded optimizer (no scheduler state).

Rerun (venv outside the repo, CPU wheel):
    python3 -m venv /work/venvs/torch
    /work/venvs/torch/bin/pip install torch==2.13.0 numpy
    cd tests/golden/generate/torch && /work/venvs/torch/bin/python gen_last_epoch_rebuild.py
Writes tests/golden/torch/last_epoch_rebuild.npz.

A script that saves only ``{"model", "optimizer"}`` after ``scheduler.step()`` at the end
of epoch ``E - 1`` resumes with ``optimizer.load_state_dict(...)`` and a new scheduler
built with ``last_epoch=E - 1``. Its constructor's step runs in torch's initial mode:
some schedulers keep the loaded lr there, ``StepLR`` and ``MultiStepLR`` decay again at a
boundary, ``CosineAnnealingWarmRestarts`` starts over from ``T_0``. Two groups (lr 0.1 and
0.03); per case ``<case>_uncut`` (epochs 0 to E + N - 1, each group's lr used in that
epoch) and ``<case>_rebuilt`` (epochs E to E + N - 1 of the resumed run), float64, and for
``CyclicLR`` with momentum ``<case>_uncut_beta1`` / ``<case>_rebuilt_beta1``.
"""

import copy
import warnings

import numpy as np
import torch
from common import save
from torch.optim import lr_scheduler as S

warnings.filterwarnings("ignore")

N = 300
LRS = (0.1, 0.03)
CASES = {  # name: (class, keywords, E)
  "steplr_boundary": (S.StepLR, {"step_size": 25, "gamma": 0.3}, 50),
  "steplr_between": (S.StepLR, {"step_size": 25, "gamma": 0.3}, 37),
  "multisteplr_milestone": (S.MultiStepLR, {"milestones": [30, 41, 41, 90], "gamma": 0.3}, 41),
  "constantlr_at_total": (S.ConstantLR, {"factor": 0.3, "total_iters": 41}, 41),
  "constantlr_before": (S.ConstantLR, {"factor": 0.3, "total_iters": 41}, 20),
  "linearlr": (S.LinearLR, {"start_factor": 0.3, "total_iters": 41}, 20),
  "exponentiallr": (S.ExponentialLR, {"gamma": 0.97}, 37),
  "polynomiallr": (S.PolynomialLR, {"total_iters": 50, "power": 0.5}, 20),
  "cosine": (S.CosineAnnealingLR, {"T_max": 41, "eta_min": 1e-3}, 50),
  "warm_restarts_mult2": (S.CosineAnnealingWarmRestarts, {"T_0": 7, "T_mult": 2}, 37),
  "warm_restarts_mult1": (S.CosineAnnealingWarmRestarts, {"T_0": 7}, 37),
  "lambdalr": (S.LambdaLR, {"lr_lambda": lambda e: 0.97**e}, 37),
  "multiplicativelr": (S.MultiplicativeLR, {"lr_lambda": lambda e: 0.97}, 37),
  "cycliclr": (S.CyclicLR, {"base_lr": 1e-3, "max_lr": 0.1, "step_size_up": 7}, 37),
  "onecyclelr": (S.OneCycleLR, {"max_lr": 0.1, "total_steps": 400}, 37),
}


def optimizer():
  params = [torch.nn.Parameter(torch.zeros(2)) for _ in LRS]
  return torch.optim.Adamax([{"params": [p], "lr": lr} for p, lr in zip(params, LRS)])


def record(opt, scheduler, epochs):
  lrs, beta1s = [], []
  for _ in range(epochs):
    lrs.append([group["lr"] for group in opt.param_groups])
    beta1s.append([group["betas"][0] for group in opt.param_groups])
    opt.step()
    scheduler.step()
  return np.array(lrs, np.float64), np.array(beta1s, np.float64)


def main():
  arrays, cases = {}, {}
  for name, (cls, kwargs, cut) in CASES.items():
    opt = optimizer()
    uncut, uncut_beta1 = record(opt, cls(opt, **kwargs), cut + N)
    opt = optimizer()
    scheduler = cls(opt, **kwargs)
    record(opt, scheduler, cut)  # saved after the scheduler's step at the end of epoch cut - 1
    saved = copy.deepcopy(opt.state_dict())
    opt = optimizer()
    opt.load_state_dict(saved)
    rebuilt, rebuilt_beta1 = record(opt, cls(opt, **kwargs, last_epoch=cut - 1), N)
    arrays |= {f"{name}_uncut": uncut, f"{name}_rebuilt": rebuilt}
    if cls is S.CyclicLR:
      arrays |= {f"{name}_uncut_beta1": uncut_beta1, f"{name}_rebuilt_beta1": rebuilt_beta1}
    differ = np.flatnonzero(np.any(uncut[cut:] != rebuilt, axis=1))
    cases[name] = {
      "scheduler": cls.__name__,
      "kwargs": {k: v for k, v in kwargs.items() if k != "lr_lambda"},
      "cut": cut,
      "first_differing_epoch": int(cut + differ[0]) if differ.size else None,
    }
    print(name, cases[name])
  print(save("last_epoch_rebuild", arrays, lrs=list(LRS), epochs_after_cut=N, cases=cases))


if __name__ == "__main__":
  main()
