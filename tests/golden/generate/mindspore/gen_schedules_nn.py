"""Golden lr schedules of mindspore.nn LearningRateSchedule cells, as nn.AdaMax uses them.

Rerun (a few minutes):
    python3 -m venv /work/venvs/mindspore
    /work/venvs/mindspore/bin/pip install mindspore==2.10.0 "numpy<2"
    /work/venvs/mindspore/bin/python tests/golden/generate/mindspore/gen_schedules_nn.py [case ...]

Writes tests/golden/mindspore/ms_nn_sched_<case>.npz (kind "schedule"):
- `lr` float32 (N, 1): lr[k] = schedule(Tensor(k, int32)), k = 0..N-1, evaluated in PyNative.
  nn.AdaMax evaluates `learning_rate(global_step)` BEFORE incrementing global_step, so update
  t (1-based) uses lr[t-1] (global_step t-1); the check arrays below confirm it.
- `check_lr` float32 (T,), T = 300: `opt.get_lr()` read before each update of a real
  nn.AdaMax([p], learning_rate=schedule) loop; `check_param` float32 (T+1, 4): p after each update
  (gradient 1.0 every step, p0 = 1.0, beta1 0.9, beta2 0.999, eps 1e-8).
Plus `ms_nn_sched_groups_dynamic_fixed.npz`: nn.AdaMax with groups [{a: ExponentialDecayLR},
{b: lr 0.003}, {c: no lr -> learning_rate=0.02}], `lr` (N, 3) = opt.get_lr() before each of the
N real updates (the fixed lrs are wrapped as lr + 1.0 - 1.0 in float32).
"""

import os
import sys

import numpy as np

import _common as C

C.setup()

from mindspore import Parameter, Tensor, nn  # noqa: E402
import mindspore as ms  # noqa: E402

N = int(os.environ.get("GOLDEN_N", 10000))
T = min(300, N)


def cases():
  c = {}
  for cls, short in (("ExponentialDecayLR", "exp"), ("NaturalExpDecayLR", "natexp"),
                     ("InverseDecayLR", "inv")):
    for lr0, rate, steps in ((0.01, 0.3, 41), (0.05, 0.97, 7)):
      for stair in (False, True):
        name = f"{short}_r{rate}_s{steps}_{'stair' if stair else 'smooth'}".replace(".", "p")
        c[name] = (cls, {"learning_rate": lr0, "decay_rate": rate, "decay_steps": steps,
                         "is_stair": stair})
  c["cosine_300"] = ("CosineDecayLR", {"min_lr": 1e-4, "max_lr": 0.02, "decay_steps": 300})
  c["cosine_41"] = ("CosineDecayLR", {"min_lr": 0.001, "max_lr": 0.05, "decay_steps": 41})
  for power in (0.5, 2.0):
    for upd in (False, True):
      name = f"poly_p{power}_{'update' if upd else 'fixed'}".replace(".", "p")
      c[name] = ("PolynomialDecayLR", {"learning_rate": 0.02, "end_learning_rate": 1e-4,
                                       "decay_steps": 41, "power": power,
                                       "update_decay_steps": upd})
  c["warmup_41"] = ("WarmUpLR", {"learning_rate": 0.02, "warmup_steps": 41})
  c["warmup_7"] = ("WarmUpLR", {"learning_rate": 0.05, "warmup_steps": 7})
  return c


def run(name, cls, kw):
  sched = getattr(nn, cls)(**kw)
  lr = np.zeros((N, 1), np.float32)
  for k in range(N):
    lr[k, 0] = C.read(sched(Tensor(k, ms.int32)))
  p = Parameter(Tensor(np.ones((4,), np.float32)), name="p")
  opt = nn.AdaMax([p], learning_rate=sched, beta1=0.9, beta2=0.999, eps=1e-8)
  g = (Tensor(np.ones((4,), np.float32)),)
  check_lr = np.zeros((T,), np.float32)
  check_param = np.zeros((T + 1, 4), np.float32)
  check_param[0] = C.read(p)
  for t in range(T):
    check_lr[t] = C.read(opt.get_lr())
    opt(g)
    check_param[t + 1] = C.read(p)
  assert np.array_equal(check_lr, lr[:T, 0]), name
  notes = ("lr[k, 0] = float32 value of schedule(Tensor(k, int32)) (PyNative); nn.AdaMax update "
           "t uses global_step t-1, i.e. lr[t-1] (verified: check_lr == lr[:300, 0], check_lr "
           "read with opt.get_lr() before each update of nn.AdaMax([p], learning_rate=schedule, "
           "beta1=0.9, beta2=0.999, eps=1e-8), gradient 1.0, p0 = 1.0; check_param is p).")
  m = C.meta(name, "schedule", scheduler="mindspore.nn." + cls, scheduler_kwargs=kw,
             optimizer="mindspore.nn.AdaMax",
             optimizer_kwargs={"learning_rate": "<the schedule>", "beta1": 0.9, "beta2": 0.999,
                               "eps": 1e-8},
             groups=[{"params": ["p"]}], N=N, notes=notes)
  C.save("ms_nn_sched_" + name, meta=m, lr=lr, check_lr=check_lr, check_param=check_param)


def run_groups():
  sched_kw = {"learning_rate": 0.01, "decay_rate": 0.97, "decay_steps": 7, "is_stair": False}
  sched = nn.ExponentialDecayLR(**sched_kw)
  a = Parameter(Tensor(np.ones((2,), np.float32)), name="a")
  b = Parameter(Tensor(np.ones((3,), np.float32)), name="b")
  c = Parameter(Tensor(np.ones((1,), np.float32)), name="c")
  opt = nn.AdaMax([{"params": [a], "lr": sched}, {"params": [b], "lr": 0.003}, {"params": [c]}],
                  learning_rate=0.02, beta1=0.9, beta2=0.999, eps=1e-8)
  grads = tuple(Tensor(np.full(x.shape, 0.1, np.float32)) for x in (a, b, c))
  lr = np.zeros((N, 3), np.float32)
  for t in range(N):
    lr[t] = [C.read(x) for x in opt.get_lr()]
    opt(grads)
  notes = ("nn.AdaMax with groups; lr[t-1, g] = opt.get_lr()[g] read before update t (get_lr "
           "returns one lr per parameter; a, b, c are one parameter per group). Because one group "
           "lr is a LearningRateSchedule, the optimizer is dynamic_lr and every fixed lr (group "
           "lr 0.003 and the default learning_rate 0.02 used by the group without 'lr') is a "
           "float32 Parameter wrapped in _ConvertToCell whose value is (lr + 1.0) - 1.0 in float32.")
  m = C.meta("groups_dynamic_fixed", "schedule", scheduler="mindspore.nn.ExponentialDecayLR",
             scheduler_kwargs=sched_kw, optimizer="mindspore.nn.AdaMax",
             optimizer_kwargs={"learning_rate": 0.02, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
             groups=[{"params": ["a"], "lr": "ExponentialDecayLR(**scheduler_kwargs)"},
                     {"params": ["b"], "lr": 0.003}, {"params": ["c"]}],
             N=N, notes=notes)
  C.save("ms_nn_sched_groups_dynamic_fixed", meta=m, lr=lr)


def main(argv):
  all_cases = cases()
  names = argv or list(all_cases) + ["groups_dynamic_fixed"]
  for name in names:
    if name == "groups_dynamic_fixed":
      run_groups()
    else:
      run(name, *all_cases[name])


if __name__ == "__main__":
  main(sys.argv[1:])
