"""Record a PyTorch training step around Adamax: groups, OneCycleLR and clip_grad_norm_.

Rerun (venv outside the repo, CPU wheel):
    python3 -m venv /work/venvs/torch
    /work/venvs/torch/bin/pip install torch==2.13.0 numpy
    cd tests/golden/generate/torch && /work/venvs/torch/bin/python gen_training_step.py
Writes tests/golden/torch/step_groups_onecycle_clip.npz and, for resuming,
tests/golden/torch/checkpoints/step_groups_onecycle_clip_300.pt
(``torch.save(optimizer.state_dict())`` after step 300 of the same run).

The model's parameter order is not its names' sorted order: ``fc1`` is built before
``fc0`` and each Linear registers its weight before its bias, so ``model.parameters()``
is fc1.weight, fc1.bias, fc0.weight, fc0.bias, while a JAX dict sorts them
fc0.bias, fc0.weight, fc1.bias, fc1.weight. ``clip_grad_norm_`` adds the per-tensor
norms in ``model.parameters()`` order; the optimizer has a decay group (the weights)
and a no-decay group (the biases).

Closed loop: at step t the gradient is computed in NumPy float32 from the current
params, g = a * (p - target) + noise[t] (a, target, noise fixed by seed), assigned to
p.grad; then clip_grad_norm_(model.parameters(), 1.0), optimizer.step(),
scheduler.step(). Recorded: the inputs of the gradient (a, target, noise), the params
before the first step and after every step, and the total norm clip_grad_norm_ returned.
"""

import os
import warnings

import numpy as np
import torch
from torch.optim import Adamax
from torch.optim.lr_scheduler import OneCycleLR

from common import OUT_DIR, save

warnings.filterwarnings("ignore")
torch.set_num_threads(1)

T = 600
MAX_NORM = 1.0
MAX_LR = 0.01
WEIGHT_DECAY = 0.01
SAVE_AFTER = 300


class Model(torch.nn.Module):
  def __init__(self):
    super().__init__()
    self.fc1 = torch.nn.Linear(5, 6)  # built first: first in model.parameters()
    self.fc0 = torch.nn.Linear(4, 5)


def main():
  torch.manual_seed(0)
  model = Model()
  names = [name for name, _ in model.named_parameters()]
  params = dict(model.named_parameters())
  rng = np.random.default_rng(0)
  problem = {}
  for name in names:
    shape = tuple(params[name].shape)
    problem[name] = {
      "a": rng.uniform(0.1, 2.0, shape).astype(np.float32),
      "target": rng.standard_normal(shape).astype(np.float32),
      "noise": (0.1 * rng.standard_normal((T, *shape))).astype(np.float32),
    }
  decay = [name for name in names if name.endswith("weight")]
  no_decay = [name for name in names if name.endswith("bias")]
  optimizer = Adamax(
    [
      {"params": [params[n] for n in decay], "weight_decay": WEIGHT_DECAY},
      {"params": [params[n] for n in no_decay], "weight_decay": 0.0},
    ],
    lr=1e-3,
  )
  scheduler = OneCycleLR(optimizer, max_lr=MAX_LR, total_steps=T)
  trajectory = {name: np.zeros((T + 1, *params[name].shape), np.float32) for name in names}
  for name in names:
    trajectory[name][0] = params[name].detach().numpy()
  total_norm = np.zeros(T, np.float32)
  for t in range(T):
    for name in names:
      pr = problem[name]
      p = params[name].detach().numpy()
      g = (pr["a"] * (p - pr["target"]) + pr["noise"][t]).astype(np.float32)
      params[name].grad = torch.from_numpy(g)
    total_norm[t] = torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM).item()
    optimizer.step()
    scheduler.step()
    for name in names:
      trajectory[name][t + 1] = params[name].detach().numpy()
    if t + 1 == SAVE_AFTER:
      path = os.path.join(OUT_DIR, "checkpoints", "step_groups_onecycle_clip_300.pt")
      torch.save(optimizer.state_dict(), path)
  arrays = {"total_norm": total_norm}
  for name in names:
    arrays[f"param/{name}"] = trajectory[name]
    for key in ("a", "target", "noise"):
      arrays[f"{key}/{name}"] = problem[name][key]
  path = save(
    "step_groups_onecycle_clip",
    arrays,
    kind="training_step",
    steps=T,
    param_order=names,
    groups=[
      {"params": decay, "weight_decay": WEIGHT_DECAY},
      {"params": no_decay, "weight_decay": 0.0},
    ],
    lr=1e-3,
    scheduler={"class": "OneCycleLR", "max_lr": MAX_LR, "total_steps": T},
    clip={"fn": "clip_grad_norm_", "max_norm": MAX_NORM, "norm_type": "2.0"},
    checkpoint={"file": "checkpoints/step_groups_onecycle_clip_300.pt", "after": SAVE_AFTER},
  )
  print(path, names, total_norm[:3])


if __name__ == "__main__":
  main()
