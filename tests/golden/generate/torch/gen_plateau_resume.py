"""Record a ReduceLROnPlateau run saved mid-run with ``torch.save`` and resumed from the file.

Rerun (venv outside the repo, CPU wheel):
    python3 -m venv /work/venvs/torch
    /work/venvs/torch/bin/pip install torch==2.13.0 numpy
    cd tests/golden/generate/torch && /work/venvs/torch/bin/python gen_plateau_resume.py
Writes tests/golden/torch/plateau_resume.npz and
tests/golden/torch/checkpoints/plateau_resume_cut.pt, the file a training script saves:
``torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
"scheduler": scheduler.state_dict()}, path)``.

The model's parameter order is not its names' sorted order (``fc1`` is built before
``fc0``). The optimizer has two groups, the weights (lr 0.05, weight_decay 0.01) and the
biases (lr 0.02); ``ReduceLROnPlateau(mode="min", factor=0.3, patience=3, cooldown=2,
threshold=1e-3)`` is stepped once per epoch of EPOCH updates with a validation loss.

Closed loop: at update t the gradient is computed in NumPy float32 from the current
params, g = a * (p - target) + noise[t], assigned to p.grad, then optimizer.step(); after
every EPOCH updates the validation loss, ``math.fsum`` of the float64 terms
``a_val * (p - target_val) ** 2`` (correctly rounded, so any replay computes the same
double), goes to scheduler.step(loss). The params settle around the target, the loss
stops improving, and the scheduler reduces the rates, with cooldowns, before and after CUT.

After update CUT (an epoch end, the scheduler holding bad epochs) the three state dicts are
saved; fresh model, optimizer and scheduler objects then load the file
(``torch.load(weights_only=True)``) and continue to update T, as a restarted script does.
The resumed run must equal the uncut one bit for bit (checked here).

Recorded: ``a/``, ``target/``, ``noise/<name>`` (the gradient), ``a_val/``,
``target_val/<name>`` (the loss); the uncut run's ``param/<name>`` (T + 1: before the
first update and after each), ``exp_avg/``, ``exp_inf/<name>`` (T, after each update),
``lr`` (T, 2: each group's ``group["lr"]`` used by each update, float64), ``loss`` (one
per epoch), ``best``, ``num_bad_epochs``, ``cooldown_counter`` (the scheduler after each
epoch's step); the resumed run's ``resumed_param/``, ``resumed_exp_avg/``,
``resumed_exp_inf/<name>`` and ``resumed_lr`` for updates CUT + 1 .. T.
"""

import math
import os
import warnings

import numpy as np
import torch
from torch.optim import Adamax
from torch.optim.lr_scheduler import ReduceLROnPlateau

from common import OUT_DIR, save

warnings.filterwarnings("ignore")
torch.set_num_threads(1)

EPOCH = 4
CUT = 196
T = CUT + 200
# The noise is drawn for this many updates whatever T and CUT, so moving the cut keeps the run.
NOISE_STEPS = 600
GROUPS = [{"suffix": "weight", "lr": 0.1, "weight_decay": 0.01}, {"suffix": "bias", "lr": 0.05}]
PLATEAU = {"mode": "min", "factor": 0.3, "patience": 3, "cooldown": 2, "threshold": 1e-3}
FILE = os.path.join(OUT_DIR, "checkpoints", "plateau_resume_cut.pt")


class Model(torch.nn.Module):
  def __init__(self):
    super().__init__()
    self.fc1 = torch.nn.Linear(3, 4)  # built first: first in model.parameters()
    self.fc0 = torch.nn.Linear(2, 3)


def group_meta(names):
  """The groups as the recording's meta states them: names in the model's order."""
  return [
    {
      "params": [n for n in names if n.endswith(g["suffix"])],
      "lr": g["lr"],
      "weight_decay": g.get("weight_decay", 0.0),
    }
    for g in GROUPS
  ]


def build(make_scheduler=lambda optimizer: ReduceLROnPlateau(optimizer, **PLATEAU)):
  """A fresh model, optimizer and scheduler, as the script builds them at start."""
  torch.manual_seed(0)
  model = Model()
  params = dict(model.named_parameters())
  groups = [
    {
      "params": [p for n, p in params.items() if n.endswith(g["suffix"])],
      **{k: v for k, v in g.items() if k != "suffix"},
    }
    for g in GROUPS
  ]
  optimizer = Adamax(groups, lr=1e-3)
  return model, params, optimizer, make_scheduler(optimizer)


def problem(names, shapes):
  rng = np.random.default_rng(11)
  out = {}
  for name in names:
    shape = shapes[name]
    out[name] = {
      "a": rng.uniform(0.1, 2.0, shape).astype(np.float32),
      "target": rng.standard_normal(shape).astype(np.float32),
      "noise": (0.3 * rng.standard_normal((NOISE_STEPS, *shape))).astype(np.float32)[:T],
      "a_val": rng.uniform(0.5, 1.5, shape).astype(np.float32),
      "target_val": rng.standard_normal(shape).astype(np.float32) * np.float32(0.1),
    }
  return out


def validation_loss(values, prob):
  """The loss from the params' float32 values, as a correctly rounded double."""
  terms = []
  for name, p in values.items():
    pr = prob[name]
    d = p.astype(np.float64) - (pr["target"] + pr["target_val"]).astype(np.float64)
    terms.extend((pr["a_val"].astype(np.float64) * d * d).ravel().tolist())
  return math.fsum(terms)


def run(model, params, optimizer, scheduler, prob, start, record):
  names = list(params)
  for t in range(start, T):
    record["lr"][t] = [g["lr"] for g in optimizer.param_groups]
    for name in names:
      pr = prob[name]
      p = params[name].detach().numpy()
      params[name].grad = torch.from_numpy(pr["a"] * (p - pr["target"]) + pr["noise"][t])
    optimizer.step()
    for name in names:
      record["param"][name][t + 1] = params[name].detach().numpy()
      state = optimizer.state[params[name]]
      record["exp_avg"][name][t] = state["exp_avg"].numpy()
      record["exp_inf"][name][t] = state["exp_inf"].numpy()
    if (t + 1) % EPOCH == 0:
      epoch = (t + 1) // EPOCH - 1
      loss = validation_loss({n: params[n].detach().numpy() for n in names}, prob)
      scheduler.step(loss)
      record["loss"][epoch] = loss
      record["best"][epoch] = scheduler.best
      record["num_bad_epochs"][epoch] = scheduler.num_bad_epochs
      record["cooldown_counter"][epoch] = scheduler.cooldown_counter
    if t + 1 == CUT and start == 0:
      torch.save(
        {
          "model": model.state_dict(),
          "optimizer": optimizer.state_dict(),
          "scheduler": scheduler.state_dict(),
        },
        FILE,
      )


def empty_record(params):
  shapes = {n: tuple(p.shape) for n, p in params.items()}
  return {
    "param": {n: np.zeros((T + 1, *s), np.float32) for n, s in shapes.items()},
    "exp_avg": {n: np.zeros((T, *s), np.float32) for n, s in shapes.items()},
    "exp_inf": {n: np.zeros((T, *s), np.float32) for n, s in shapes.items()},
    "lr": np.zeros((T, len(GROUPS)), np.float64),
    "loss": np.zeros(T // EPOCH, np.float64),
    "best": np.zeros(T // EPOCH, np.float64),
    "num_bad_epochs": np.zeros(T // EPOCH, np.int64),
    "cooldown_counter": np.zeros(T // EPOCH, np.int64),
  }


def main():
  model, params, optimizer, scheduler = build()
  names = list(params)
  prob = problem(names, {n: tuple(p.shape) for n, p in params.items()})
  uncut = empty_record(params)
  for name in names:
    uncut["param"][name][0] = params[name].detach().numpy()
  run(model, params, optimizer, scheduler, prob, 0, uncut)

  # A restarted script: fresh objects, everything from the file.
  model, params, optimizer, scheduler = build()
  saved = torch.load(FILE, weights_only=True)
  model.load_state_dict(saved["model"])
  optimizer.load_state_dict(saved["optimizer"])
  scheduler.load_state_dict(saved["scheduler"])
  resumed = empty_record(params)
  for name in names:
    resumed["param"][name][CUT] = params[name].detach().numpy()
  run(model, params, optimizer, scheduler, prob, CUT, resumed)

  for name in names:
    for key in ("param", "exp_avg", "exp_inf"):
      got, want = resumed[key][name][CUT:], uncut[key][name][CUT:]
      assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), (key, name)
  assert np.array_equal(resumed["lr"][CUT:], uncut["lr"][CUT:])

  epochs = CUT // EPOCH
  lr_changes = np.flatnonzero(np.any(np.diff(uncut["lr"], axis=0) != 0, axis=1)) + 1
  print("rate changes at updates", lr_changes.tolist())
  print(
    "at the cut: best",
    uncut["best"][epochs - 1],
    "bad",
    uncut["num_bad_epochs"][epochs - 1],
    "cooldown",
    uncut["cooldown_counter"][epochs - 1],
  )
  print("cooldown epochs", np.flatnonzero(uncut["cooldown_counter"] > 0).tolist())
  print("bad epochs", uncut["num_bad_epochs"].tolist())

  arrays = {
    "lr": uncut["lr"],
    "resumed_lr": resumed["lr"][CUT:],
    "loss": uncut["loss"],
    "best": uncut["best"],
    "num_bad_epochs": uncut["num_bad_epochs"],
    "cooldown_counter": uncut["cooldown_counter"],
  }
  for name in names:
    for key in ("a", "target", "noise", "a_val", "target_val"):
      arrays[f"{key}/{name}"] = prob[name][key]
    arrays[f"param/{name}"] = uncut["param"][name]
    arrays[f"exp_avg/{name}"] = uncut["exp_avg"][name]
    arrays[f"exp_inf/{name}"] = uncut["exp_inf"][name]
    arrays[f"resumed_param/{name}"] = resumed["param"][name][CUT + 1 :]
    arrays[f"resumed_exp_avg/{name}"] = resumed["exp_avg"][name][CUT:]
    arrays[f"resumed_exp_inf/{name}"] = resumed["exp_inf"][name][CUT:]
  path = save(
    "plateau_resume",
    arrays,
    kind="training_step",
    steps=T,
    every=EPOCH,
    cut=CUT,
    param_order=names,
    groups=group_meta(names),
    lr=1e-3,
    scheduler={"class": "ReduceLROnPlateau", "kwargs": PLATEAU},
    checkpoint={"file": "checkpoints/plateau_resume_cut.pt", "after": CUT},
  )
  print(path, os.path.getsize(path), "bytes;", FILE, os.path.getsize(FILE), "bytes")


if __name__ == "__main__":
  main()
