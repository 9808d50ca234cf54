"""Golden lr lists from mindspore.nn's dynamic lr builders (pure Python double arithmetic).

Rerun (seconds):
    python3 -m venv /work/venvs/mindspore
    /work/venvs/mindspore/bin/pip install mindspore==2.10.0 "numpy<2"
    /work/venvs/mindspore/bin/python tests/golden/generate/mindspore/gen_dynamic_lr.py

Writes tests/golden/mindspore/ms_dynlr_<case>.npz (kind "schedule"): `lr` float64 (N, 1), the
Python list the builder returns (entry i is used by update i+1 when the list is passed as
learning_rate: the optimizer converts it to a float32 Tensor and gathers index global_step;
`lr_f32` (N, 1) float32 is that conversion). Past the end of the list nn.AdaMax raises (see
meta.notes of ms_dynlr_list_past_end).
"""

import numpy as np

import _common as C

C.setup()

from mindspore import Parameter, Tensor, nn  # noqa: E402

N = 10000


def cases():
  c = {}
  for fn in ("exponential_decay_lr", "natural_exp_decay_lr", "inverse_decay_lr"):
    for stair in (False, True):
      c[f"{fn}_{'stair' if stair else 'smooth'}"] = (fn, {
        "learning_rate": 0.01, "decay_rate": 0.3 if fn != "natural_exp_decay_lr" else 0.05,
        "total_step": N, "step_per_epoch": 7, "decay_epoch": 41, "is_stair": stair})
  c["exponential_decay_lr_0p97"] = ("exponential_decay_lr", {
    "learning_rate": 0.05, "decay_rate": 0.97, "total_step": N, "step_per_epoch": 41,
    "decay_epoch": 7, "is_stair": False})
  c["cosine_decay_lr"] = ("cosine_decay_lr", {
    "min_lr": 1e-4, "max_lr": 0.02, "total_step": N, "step_per_epoch": 7, "decay_epoch": 41})
  for power in (0.5, 2.0):
    for upd in (False, True):
      c[f"polynomial_decay_lr_p{power}_{'update' if upd else 'fixed'}".replace(".", "p")] = (
        "polynomial_decay_lr", {
          "learning_rate": 0.02, "end_learning_rate": 1e-4, "total_step": N, "step_per_epoch": 7,
          "decay_epoch": 41, "power": power, "update_decay_epoch": upd})
  c["warmup_lr"] = ("warmup_lr", {"learning_rate": 0.02, "total_step": N, "step_per_epoch": 7,
                                  "warmup_epoch": 41})
  c["piecewise_constant_lr"] = ("piecewise_constant_lr", {
    "milestone": [7, 41, 300, 5000, N], "learning_rates": [0.05, 0.01, 0.003, 0.001, 1e-4]})
  return c


def list_past_end():
  """What nn.AdaMax does when a list lr runs out (records the exception text)."""
  p = Parameter(Tensor(np.ones((2,), np.float32)), name="p")
  opt = nn.AdaMax([p], learning_rate=[0.1, 0.2, 0.3])
  g = (Tensor(np.ones((2,), np.float32)),)
  errors = []
  for _ in range(4):
    try:
      opt(g)
    except RuntimeError as e:  # noqa: PERF203
      errors.append(str(e).split("\n")[0])
  return errors, C.read(opt.global_step)


def main():
  for name, (fn, kw) in cases().items():
    lst = getattr(nn, fn)(**kw)
    lr = np.array(lst, np.float64).reshape(-1, 1)
    assert lr.shape[0] == N, (name, lr.shape)
    notes = (f"lr = np.array(mindspore.nn.{fn}(**scheduler_kwargs), float64): the exact Python "
             "doubles; lr_f32 = the float32 Tensor the optimizer gathers from "
             "(np.array(list).astype(np.float32)).")
    m = C.meta(name, "schedule", scheduler="mindspore.nn." + fn, scheduler_kwargs=kw,
               optimizer="mindspore.nn.AdaMax", optimizer_kwargs={"learning_rate": "<the list>"},
               groups=[{"params": ["p"]}], N=N, notes=notes)
    C.save("ms_dynlr_" + name, meta=m, lr=lr, lr_f32=lr.astype(np.float32))
  errors, step = list_past_end()
  print(errors, step)
  m = C.meta("list_past_end", "error", scheduler="list", scheduler_kwargs={"learning_rate": [0.1, 0.2, 0.3]},
             optimizer="mindspore.nn.AdaMax", optimizer_kwargs={"learning_rate": [0.1, 0.2, 0.3]},
             groups=[{"params": ["p"]}], N=3,
             notes=("nn.AdaMax with a 3-entry list lr, called 4 times: updates 1-3 use 0.1, 0.2, "
                    "0.3 (as float32); the 4th call raises RuntimeError (first line in `errors`), "
                    "leaves the parameter untouched and global_step stays 3; later calls raise a "
                    "different internal error. No clamping, no wrap-around."),
             errors=errors, global_step_after=int(step[0]))
  C.save("ms_dynlr_list_past_end", meta=m, lr=np.array([[0.1], [0.2], [0.3]], np.float64))


if __name__ == "__main__":
  main()
