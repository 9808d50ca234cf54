"""Record count-driven schedulers saved in a training checkpoint and resumed from it.

Rerun (venv outside the repo, CPU wheel):
    python3 -m venv /work/venvs/torch
    /work/venvs/torch/bin/pip install torch==2.13.0 numpy
    cd tests/golden/generate/torch && /work/venvs/torch/bin/python gen_scheduler_resume.py
Writes tests/golden/torch/resume_<case>.npz and
tests/golden/torch/checkpoints/resume_<case>_cut.pt for each case of CASES.

The model, groups and closed-loop gradient of gen_plateau_resume.py (its helpers), with a
count-driven scheduler stepped after every ``every`` updates: ``steplr_per_epoch`` steps
``StepLR(step_size=3, gamma=0.5)`` once per epoch of 4 updates, so the scheduler's
``last_epoch`` is not the optimizer's step; the checkpoint is saved after update 26, in
the middle of an epoch. ``multisteplr`` steps ``MultiStepLR(milestones=[10, 20, 20, 40],
gamma=0.5)`` after every update (its state keeps the milestones as a
``collections.Counter``). After update CUT the script saves ``torch.save({"model",
"optimizer", "scheduler"})``; fresh objects load the file and continue to update T, equal
to the uncut run bit for bit (checked here).

Recorded: ``a/``, ``target/``, ``noise/<name>`` (the gradient), ``param/<name>`` (T + 1),
``lr`` (T x 2, each group's ``group["lr"]`` used by each update, float64).
"""

import os
import warnings

import numpy as np
import torch
from common import OUT_DIR, save
from gen_plateau_resume import GROUPS, build, group_meta, problem
from torch.optim.lr_scheduler import MultiStepLR, StepLR

warnings.filterwarnings("ignore")
torch.set_num_threads(1)

T = 60
CUT = 26
CASES = {
  "steplr_per_epoch": (StepLR, {"step_size": 3, "gamma": 0.5}, 4),
  "multisteplr": (MultiStepLR, {"milestones": [10, 20, 20, 40], "gamma": 0.5}, 1),
}


def run(model, params, optimizer, scheduler, prob, every, start, record, file):
  for t in range(start, T):
    record["lr"][t] = [g["lr"] for g in optimizer.param_groups]
    for name, p in params.items():
      pr = prob[name]
      value = p.detach().numpy()
      p.grad = torch.from_numpy(pr["a"] * (value - pr["target"]) + pr["noise"][t])
    optimizer.step()
    if (t + 1) % every == 0:
      scheduler.step()
    for name, p in params.items():
      record["param"][name][t + 1] = p.detach().numpy()
    if t + 1 == CUT and start == 0:
      torch.save(
        {
          "model": model.state_dict(),
          "optimizer": optimizer.state_dict(),
          "scheduler": scheduler.state_dict(),
        },
        file,
      )


def record_case(case):
  cls, kwargs, every = CASES[case]
  make = lambda optimizer: cls(optimizer, **kwargs)
  file = os.path.join(OUT_DIR, "checkpoints", f"resume_{case}_cut.pt")
  model, params, optimizer, scheduler = build(make)
  names = list(params)
  prob = problem(names, {n: tuple(p.shape) for n, p in params.items()})
  records = []
  for start in (0, CUT):
    if start:  # a restarted script: fresh objects, everything from the file
      model, params, optimizer, scheduler = build(make)
      saved = torch.load(file, weights_only=True)
      model.load_state_dict(saved["model"])
      optimizer.load_state_dict(saved["optimizer"])
      scheduler.load_state_dict(saved["scheduler"])
    record = {
      "param": {n: np.zeros((T + 1, *p.shape), np.float32) for n, p in params.items()},
      "lr": np.zeros((T, len(GROUPS)), np.float64),
    }
    for name, p in params.items():
      record["param"][name][start] = p.detach().numpy()
    run(model, params, optimizer, scheduler, prob, every, start, record, file)
    records.append(record)
  uncut, resumed = records
  for name in names:
    assert np.array_equal(uncut["param"][name][CUT:], resumed["param"][name][CUT:]), name
  assert np.array_equal(uncut["lr"][CUT:], resumed["lr"][CUT:])
  arrays = {"lr": uncut["lr"]}
  for name in names:
    arrays[f"param/{name}"] = uncut["param"][name]
    for key in ("a", "target"):
      arrays[f"{key}/{name}"] = prob[name][key]
    arrays[f"noise/{name}"] = prob[name]["noise"][:T]
  path = save(
    f"resume_{case}",
    arrays,
    kind="training_step",
    steps=T,
    every=every,
    cut=CUT,
    param_order=names,
    groups=group_meta(names),
    lr=1e-3,
    scheduler={"class": cls.__name__, "kwargs": kwargs},
    checkpoint={"file": f"checkpoints/resume_{case}_cut.pt", "after": CUT},
  )
  changes = np.flatnonzero(np.any(np.diff(uncut["lr"], axis=0) != 0, axis=1)) + 1
  print(case, "rate changes at updates", changes.tolist(), "last_epoch", CUT // every)
  print(path, os.path.getsize(path), "bytes;", file, os.path.getsize(file), "bytes")


if __name__ == "__main__":
  for case in CASES:
    record_case(case)
