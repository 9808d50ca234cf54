"""Record ``CyclicLR`` with a user's ``scale_fn``, by cycle and by iteration.

Rerun (venv outside the repo, CPU wheel):
    python3 -m venv /work/venvs/torch
    /work/venvs/torch/bin/pip install torch==2.13.0 numpy
    cd tests/golden/generate/torch && /work/venvs/torch/bin/python gen_cyclic_scale_fn.py
Writes tests/golden/torch/cyclic_scale_fn.npz.

Scheduler-only: an ``Adamax`` of two groups, ``CyclicLR`` with per-group ``base_lr`` and
``max_lr``, ``step_size_up=41``, ``step_size_down=7``, stepped 1,500 epochs. Per case
``<case>_lr`` and ``<case>_beta1`` (each group's ``lr`` and ``betas[0]`` used in each
epoch, float64): ``cycle`` (``scale_fn=lambda x: 1 / (1.0 + x * 0.3)``, cycled momentum
0.8 to 0.93) and ``iterations`` (``scale_fn=lambda x: 0.9993 ** x``, no momentum).
"""

import warnings

import numpy as np
import torch
from common import save
from gen_last_epoch_rebuild import record
from torch.optim.lr_scheduler import CyclicLR

warnings.filterwarnings("ignore")

EPOCHS = 1500
COMMON = {"base_lr": [1e-3, 3e-3], "max_lr": [0.1, 0.03], "step_size_up": 41, "step_size_down": 7}
CASES = {
  "cycle": {
    "scale_fn": lambda x: 1 / (1.0 + x * 0.3),
    "scale_mode": "cycle",
    "base_momentum": 0.8,
    "max_momentum": 0.93,
  },
  "iterations": {
    "scale_fn": lambda x: 0.9993**x,
    "scale_mode": "iterations",
    "cycle_momentum": False,
  },
}


def main():
  arrays = {}
  for name, kwargs in CASES.items():
    params = [torch.nn.Parameter(torch.zeros(2)) for _ in range(2)]
    opt = torch.optim.Adamax([{"params": [p], "lr": 0.1} for p in params])
    lrs, beta1s = record(opt, CyclicLR(opt, **COMMON, **kwargs), EPOCHS)
    arrays |= {f"{name}_lr": lrs, f"{name}_beta1": beta1s}
  print(save("cyclic_scale_fn", arrays, epochs=EPOCHS, common=COMMON))


if __name__ == "__main__":
  main()
