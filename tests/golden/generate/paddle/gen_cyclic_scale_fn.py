"""Record Paddle's ``CyclicLR`` with a user's ``scale_fn``, by cycle and by iteration.

    /work/venvs/paddle/bin/python gen_cyclic_scale_fn.py

writes ../../paddle/cyclic_scale_fn.npz: ``CyclicLR(1e-3, 0.1, step_size_up=41,
step_size_down=7, scale_fn=..., scale_mode=...)`` stepped 1,500 epochs; per case the
``last_lr`` of each epoch (``<case>_lr``, float64). ``cycle``: ``scale_fn=lambda x: 1 /
(1.0 + x * 0.3)`` (Paddle passes the cycle as a float); ``iterations``: ``lambda x:
0.9993 ** x``.
"""

from __future__ import annotations

import numpy as np
from _common import save

import paddle

EPOCHS = 1500
CASES = {
  "cycle": (lambda x: 1 / (1.0 + x * 0.3), "cycle"),
  "iterations": (lambda x: 0.9993**x, "iterations"),
}


def main():
  arrays = {}
  for name, (scale_fn, scale_mode) in CASES.items():
    scheduler = paddle.optimizer.lr.CyclicLR(
      1e-3, 0.1, step_size_up=41, step_size_down=7, scale_fn=scale_fn, scale_mode=scale_mode
    )
    lrs = []
    for _ in range(EPOCHS):
      lrs.append(float(scheduler.last_lr))
      scheduler.step()
    arrays[f"{name}_lr"] = np.array(lrs, np.float64)
  print(save("cyclic_scale_fn", {"epochs": EPOCHS}, **arrays))


if __name__ == "__main__":
  main()
