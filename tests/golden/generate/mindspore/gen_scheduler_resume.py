"""Record MindSpore runs with a scheduler saved mid-run with ``ms.save_checkpoint`` and resumed.

Rerun (seconds), from the repository root:
    python3 -m venv /work/venvs/mindspore
    /work/venvs/mindspore/bin/pip install mindspore==2.10.0 "numpy<2"
    /work/venvs/mindspore/bin/python tests/golden/generate/mindspore/gen_scheduler_resume.py [case]

What MindSpore 2.10 saves (read in mindspore/experimental/optim/{optimizer,adamax,lr_scheduler}.py
and checked here): ``ms.save_checkpoint(optimizer, path)`` writes the optimizer Cell's
Parameters, i.e. the trained params, ``exp_avg.<name>``, ``exp_inf.<name>`` and ``step_t``.
The groups' learning rates are Parameters too (``learning_rate_group_<i>``, in
``optimizer.lrs``), but a plain list, not registered with the Cell, so they are NOT saved; a
scheduler is no Cell, and its ``last_epoch`` Parameter (``last_epoch_<Class>``: float32 for
the LRScheduler classes, int32 for ReduceLROnPlateau) and ReduceLROnPlateau's ``best``,
``wait`` (its bad epochs) and ``cooldown_counter`` (float32 Parameters) are not saved either.
A script keeps them by passing them to ``append_dict``, under their own names:

    kept = [*optimizer.lrs, scheduler.last_epoch]  # plateau: + best, wait, cooldown_counter
    appended = {"epoch_num": epoch, **{p.name: p for p in kept}}
    ms.save_checkpoint(optimizer, path, append_dict=appended)

and, resuming, builds fresh objects,
``ms.load_param_into_net(optimizer, ms.load_checkpoint(path))``
(the appended entries are not the optimizer's, so it leaves them) and assigns each kept
Parameter its saved value. A script that does only the first part ("fresh"), as MindSpore's
tutorials show for a network, restarts the scheduler: its rates go back to each group's lr.

Cases, each a closed-loop noisy quadratic (g = a * (p - target) + noise[t] in NumPy float32
from the optimizer's current params) of ``mindspore.experimental.optim.Adamax`` with groups
{w (4, 3), s (): lr 0.05, weight_decay 0.01} and {b (3,): lr 0.02}:
- ``steplr``: ``StepLR(step_size=41, gamma=0.3)`` stepped after every update; cut after
  update 100 (two reductions made, the next at update 123).
- ``plateau``: ``ReduceLROnPlateau(factor=0.3, patience=3, cooldown=2, threshold=1e-3)``
  stepped after every EPOCH = 4 updates with a validation loss (``math.fsum`` of float64
  terms ``a_val * (p - target - target_val) ** 2``, correctly rounded, so a replay computes
  the same double); cut after update CUTS["plateau"], an epoch end with bad epochs held.

Writes tests/golden/mindspore/ms_resume_<case>.npz and checkpoints/ms_resume_<case>_cut.ckpt
(the file above, with ``epoch_num`` = the updates so far). Arrays: ``a/``, ``target/``,
``noise/<k>`` (and ``a_val/``, ``target_val/<k>`` for the plateau); the uncut run's
``param/<k>`` (T + 1: before the first update and after each), ``m/<k>``, ``u/<k>`` (T, after
each update), ``lr`` (T, 2: each group's lr Parameter before each update, float32); for the
plateau ``loss``, ``best``, ``wait``, ``cooldown_counter`` (after each epoch's step). Then
``restored_*`` (the same arrays for updates CUT + 1 .. T of the script restoring the
appended entries; checked here to equal the uncut run bit for bit) and ``fresh_*`` (of the
script that does not: it differs, recorded as MindSpore runs it).
"""

import math
import os
import sys

import _common as C
import numpy as np

C.setup()

import mindspore as ms  # noqa: E402
from mindspore import Parameter, Tensor, nn, ops  # noqa: E402
from mindspore.experimental.optim import Adamax, lr_scheduler  # noqa: E402

SHAPES = {"w": (4, 3), "b": (3,), "s": ()}
GROUPS = [{"params": ["w", "s"], "lr": 0.2, "weight_decay": 0.01}, {"params": ["b"], "lr": 0.1}]
EPOCH = 4
STEPLR = {"step_size": 41, "gamma": 0.3}
PLATEAU = {"mode": "min", "factor": 0.3, "patience": 3, "cooldown": 2, "threshold": 1e-3}
EVERY = {"steplr": 1, "plateau": EPOCH}
CUTS = {"steplr": 100, "plateau": 196}
T = {"steplr": 200, "plateau": 396}
NOISE_STEPS = 600  # drawn whatever T is, so a change of T keeps the run
SEED = 20261207
OUT = os.path.join(C.OUT_DIR, "checkpoints")


class Net(nn.Cell):
  def __init__(self, values):
    super().__init__()
    for k, v in values.items():
      setattr(self, k, Parameter(Tensor(np.array(v, np.float32)), name=k))


def build(case, values):
  """Fresh network, optimizer and scheduler, as the script builds them at start."""
  net = Net(values)
  groups = []
  for group in GROUPS:
    settings = {k: v for k, v in group.items() if k != "params"}
    groups.append({**settings, "params": [getattr(net, name) for name in group["params"]]})
  opt = Adamax(groups, lr=1e-3)
  if case == "steplr":
    scheduler = lr_scheduler.StepLR(opt, **STEPLR)
  else:
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, **PLATEAU)
  return net, opt, scheduler


def kept_parameters(case, opt, scheduler):
  """The Parameters save_checkpoint(opt) leaves out that the run needs to continue."""
  kept = [*opt.lrs, scheduler.last_epoch]
  if case == "plateau":
    kept += [scheduler.best, scheduler.wait, scheduler.cooldown_counter]
  return kept


def problem():
  rng = np.random.default_rng(SEED)
  prob = {}
  for k, shape in SHAPES.items():
    prob[k] = {
      "a": rng.uniform(0.1, 2.0, shape).astype(np.float32),
      "target": rng.standard_normal(shape).astype(np.float32),
      "noise": (0.3 * rng.standard_normal((NOISE_STEPS, *shape))).astype(np.float32),
      "a_val": rng.uniform(0.5, 1.5, shape).astype(np.float32),
      "target_val": (0.1 * rng.standard_normal(shape)).astype(np.float32),
      "p0": (0.5 * rng.standard_normal(shape)).astype(np.float32),
    }
  return prob


def validation_loss(values, prob):
  terms = []
  for k, p in values.items():
    pr = prob[k]
    d = p.astype(np.float64) - (pr["target"] + pr["target_val"]).astype(np.float64)
    terms.extend(np.ravel(pr["a_val"].astype(np.float64) * d * d).tolist())
  return math.fsum(terms)


def empty_record(case):
  steps, epochs = T[case], T[case] // EVERY[case]
  record = {f"param/{k}": np.zeros((steps + 1, *s), np.float32) for k, s in SHAPES.items()}
  for x in ("m", "u"):
    record.update({f"{x}/{k}": np.zeros((steps, *s), np.float32) for k, s in SHAPES.items()})
  record["lr"] = np.zeros((steps, len(GROUPS)), np.float32)
  if case == "plateau":
    record["loss"] = np.zeros(epochs, np.float64)
    for key in ("best", "wait", "cooldown_counter"):
      record[key] = np.zeros(epochs, np.float32)
  return record


def run(case, net, opt, scheduler, prob, start, record, save_at=None):
  named = dict(opt.parameters_and_names())
  for t in range(start, T[case]):
    record["lr"][t] = [C.read(lr) for lr in opt.lrs]
    grads = []
    for param in opt.parameters:  # the optimizer's order: the groups' parameters in turn
      k, p = param.name, C.read(param)
      grads.append(Tensor(prob[k]["a"] * (p - prob[k]["target"]) + prob[k]["noise"][t]))
    opt(tuple(grads))
    for k in SHAPES:
      record[f"param/{k}"][t + 1] = C.read(getattr(net, k))
      record[f"m/{k}"][t] = C.read(named[f"exp_avg.{k}"])
      record[f"u/{k}"][t] = C.read(named[f"exp_inf.{k}"])
    if case == "steplr":
      scheduler.step()
    elif (t + 1) % EPOCH == 0:
      epoch = (t + 1) // EPOCH - 1
      loss = validation_loss({k: C.read(getattr(net, k)) for k in SHAPES}, prob)
      scheduler.step(loss)
      record["loss"][epoch] = loss
      for key in ("best", "wait", "cooldown_counter"):
        record[key][epoch] = C.read(getattr(scheduler, key))
    if t + 1 == save_at:
      kept = {p.name: p for p in kept_parameters(case, opt, scheduler)}
      ms.save_checkpoint(opt, checkpoint(case), append_dict={"epoch_num": t + 1, **kept})


def checkpoint(case):
  return os.path.join(OUT, f"ms_resume_{case}_cut.ckpt")


def resumed(case, prob, restore):
  """A restarted script: fresh objects, the file loaded, then continued to T."""
  zeros = {k: np.zeros(s, np.float32) for k, s in SHAPES.items()}
  net, opt, scheduler = build(case, zeros)
  saved = ms.load_checkpoint(checkpoint(case))
  not_loaded, _ = ms.load_param_into_net(opt, saved)
  if restore:
    for p in kept_parameters(case, opt, scheduler):
      ops.assign(p, Tensor(saved[p.name].asnumpy()))
  record = empty_record(case)
  cut = CUTS[case]
  for k in SHAPES:
    record[f"param/{k}"][cut] = C.read(getattr(net, k))
  run(case, net, opt, scheduler, prob, cut, record)
  return record, not_loaded


def first_difference(got, want, start):
  for key in want:
    if key == "loss":
      continue
    a, b = got[key][start:], want[key][start:]
    if not np.array_equal(a.view(np.uint32), b.view(np.uint32)):
      index = np.argwhere(a.view(np.uint32) != b.view(np.uint32))[0]
      return f"{key} first differs at {tuple(int(i) for i in index)} (+{start})"
  return None


def record_case(case):
  prob = problem()
  net, opt, scheduler = build(case, {k: prob[k]["p0"] for k in SHAPES})
  os.makedirs(OUT, exist_ok=True)
  uncut = empty_record(case)
  for k in SHAPES:
    uncut[f"param/{k}"][0] = prob[k]["p0"]
  cut = CUTS[case]
  run(case, net, opt, scheduler, prob, 0, uncut, save_at=cut)
  restored, not_loaded = resumed(case, prob, restore=True)
  fresh, _ = resumed(case, prob, restore=False)
  restored_diff = first_difference(restored, uncut, cut)
  assert restored_diff is None, f"MindSpore's restored resume: {restored_diff}"
  fresh_diff = first_difference(fresh, uncut, cut)
  changes = (np.flatnonzero(np.any(np.diff(uncut["lr"], axis=0) != 0, axis=1)) + 1).tolist()
  print(case, "rate changes at updates", changes, "fresh resume:", fresh_diff)
  saved = ms.load_checkpoint(checkpoint(case))
  file_entries = {n: str(v.asnumpy().dtype) + str(list(v.shape)) for n, v in saved.items()}
  arrays = {}
  for k in SHAPES:
    for key in ("a", "target", "noise", "a_val", "target_val"):
      if key in ("a_val", "target_val") and case != "plateau":
        continue
      arrays[f"{key}/{k}"] = prob[k][key][: T[case]] if key == "noise" else prob[k][key]
  arrays.update(uncut)
  for name, rec in (("restored", restored), ("fresh", fresh)):
    for key, value in rec.items():
      if key.startswith("param/"):
        arrays[f"{name}_{key}"] = value[cut:]
      elif key in ("loss", "best", "wait", "cooldown_counter"):
        arrays[f"{name}_{key}"] = value[cut // EVERY[case] :]
      else:
        arrays[f"{name}_{key}"] = value[cut:]
  scheduler_kwargs = STEPLR if case == "steplr" else PLATEAU
  meta = C.meta(
    f"scheduler_resume_{case}",
    "scheduler_resume",
    optimizer="mindspore.experimental.optim.Adamax",
    groups=GROUPS,
    optimizer_lr=1e-3,
    scheduler={
      "class": "StepLR" if case == "steplr" else "ReduceLROnPlateau",
      "kwargs": scheduler_kwargs,
    },
    every=EVERY[case],
    cut=cut,
    steps=T[case],
    checkpoint=os.path.basename(checkpoint(case)),
    file_entries=file_entries,
    not_loaded=list(not_loaded),
    rate_changes=changes,
    restored_resume="bit-exact with the uncut run (params, moments, rates, scheduler state)",
    fresh_resume=f"differs from the uncut run: {fresh_diff}",
    notes=(
      "Index t of m/u/lr is update t + 1; param has T + 1 rows (row 0 before the first update). "
      "restored_* and fresh_* start at the cut: restored_param[0] is the loaded params, "
      "restored_m[0] update cut + 1. Per-epoch arrays (plateau) index epochs; restored_best[0] "
      "is the epoch after the cut. lr is each group's lr Parameter before each update."
    ),
  )
  C.save(f"ms_resume_{case}", meta=meta, **arrays)


if __name__ == "__main__":
  for name in sys.argv[1:] or ["steplr", "plateau"]:
    record_case(name)
