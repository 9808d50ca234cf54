"""Real MindSpore checkpoint files of both Adamax optimizers, and how MindSpore continues.

Rerun (seconds), from the repository root:
    python3 -m venv /work/venvs/mindspore
    /work/venvs/mindspore/bin/pip install mindspore==2.10.0 "numpy<2"
    /work/venvs/mindspore/bin/python tests/golden/generate/mindspore/gen_checkpoints.py record
    # write adamax_optax's own files (see write_adamax_optax_checkpoints.py), then:
    /work/venvs/mindspore/bin/python tests/golden/generate/mindspore/gen_checkpoints.py verify

`record`, for case "exp" (mindspore.experimental.optim.Adamax, params w (4, 3), b (3,), s ())
and case "nn" (mindspore.nn.AdaMax, params w, b, s1 (1,): its kernel refuses 0-d params):
trains CKPT_STEP steps in float32 on a closed-loop noisy quadratic (g = a * (p - target) +
noise, computed in NumPy from the optimizer's current params; some elements have a == 0 and
no noise, so their gradient is always exactly 0), saves `ms.save_checkpoint(opt, ...)` as
ms_<case>_step5.ckpt and .safetensors (case exp also with crc_check=True), then continues
CONTINUE steps and writes ms_<case>_continuation.npz: `grad_<k>` (CONTINUE, ...) the
gradients fed at steps 6..15, `param_<k>`, `m_<k>`, `u_<k>` (CONTINUE + 1, ...) at steps
5..15 (index 0 = the saved state). It also checks that MindSpore itself, loading the files
into a fresh network and optimizer (load_checkpoint + load_param_into_net), continues bit for
bit the same (meta.self_resume). Case exp also writes ms_exp_step5_append.ckpt (append_dict
APPEND: ints and a string) and ms_sliced.ckpt (one (64, 33) float32 tensor "big" =
arange / 7, saved in 9 slices; see `sliced`).

`verify` loads adamax_optax_<case>_step10.{ckpt,safetensors} (written by adamax_optax from its
own run, continued from the real step-5 file) into a fresh MindSpore network and optimizer,
feeds the recorded gradients of steps 11..15 and compares params and moments with the
recorded continuation, bit for bit; the outcome goes to adamax_optax_resume_checks.json.
"""

import json
import os
import sys

import numpy as np

import _common as C

C.setup()

import mindspore as ms  # noqa: E402
from mindspore import Parameter, Tensor, nn  # noqa: E402
from mindspore.experimental.optim import Adamax  # noqa: E402

OUT = os.path.join(C.OUT_DIR, "checkpoints")
CKPT_STEP, CONTINUE, RESUME_STEP = 5, 10, 10
SEED = 20261122
SHAPES = {"exp": {"w": (4, 3), "b": (3,), "s": ()}, "nn": {"w": (4, 3), "b": (3,), "s1": (1,)}}
HYPER = {
  "exp": {"lr": 0.02, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01},
  "nn": {"learning_rate": 0.02, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01},
}
MOMENTS = {"exp": ("exp_avg", "exp_inf"), "nn": ("moment1", "moment2")}
APPEND = {"epoch_num": 1, "step_num": CKPT_STEP, "note": "adamax_optax golden"}


class Net(nn.Cell):
  def __init__(self, values):
    super().__init__()
    for k, v in values.items():
      setattr(self, k, Parameter(Tensor(np.array(v, np.float32)), name=k))


def build(case, values):
  net = Net(values)
  params = net.trainable_params()
  opt = Adamax(params, **HYPER[case]) if case == "exp" else nn.AdaMax(params, **HYPER[case])
  return net, opt


def problem(case):
  rng = np.random.default_rng(SEED + (case == "nn"))
  prob = {}
  for k, shape in SHAPES[case].items():
    a = rng.uniform(0.5, 2.0, shape).astype(np.float32)
    dead = rng.uniform(size=shape) < 0.2
    prob[k] = {
      "a": np.where(dead, np.float32(0), a).astype(np.float32),
      "target": rng.normal(size=shape).astype(np.float32),
      "noise": np.where(
        dead, np.float32(0), 0.1 * rng.normal(size=(CKPT_STEP + CONTINUE,) + shape)
      ).astype(np.float32),
      "p0": (0.5 * rng.normal(size=shape)).astype(np.float32),
    }
  return prob


def state(case, net, opt):
  first, second = MOMENTS[case]
  named = dict(opt.parameters_and_names())
  out = {}
  for k in SHAPES[case]:
    out[f"param_{k}"] = C.read(getattr(net, k))
    out[f"m_{k}"] = C.read(named[f"{first}.{k}"])
    out[f"u_{k}"] = C.read(named[f"{second}.{k}"])
  return out


def step(opt, grads):
  opt(tuple(Tensor(g) for g in grads))


def closed_loop_grads(case, prob, net, t):
  return [
    (prob[k]["a"] * (C.read(getattr(net, k)) - prob[k]["target"]) + prob[k]["noise"][t - 1])
    .astype(np.float32)
    for k in SHAPES[case]
  ]


def resumed(case, path, start, grads):
  """A fresh network and optimizer loaded from `path`, continued with `grads`."""
  net, opt = build(case, {k: np.zeros(s, np.float32) for k, s in SHAPES[case].items()})
  fmt = "safetensors" if path.endswith(".safetensors") else "ckpt"
  not_loaded, _ = ms.load_param_into_net(opt, ms.load_checkpoint(path, format=fmt))
  states = [state(case, net, opt)]
  for g in grads:
    step(opt, g)
    states.append(state(case, net, opt))
  return {k: np.stack([s[k] for s in states]) for k in states[0]}, not_loaded


def first_difference(got, want):
  for key in want:
    for i, (a, b) in enumerate(zip(got[key], want[key], strict=True)):
      if not np.array_equal(a.view(np.uint32), b.view(np.uint32)):
        return f"{key} differs at index {i}"
  return None


def sliced():
  """ms_sliced.ckpt: save_checkpoint splits a tensor over SLICE_SIZE KB (512 MiB) into
  several messages with one tag; SLICE_SIZE is lowered to 1 KB so that a small file shows it."""
  from mindspore.train import serialization

  big = np.arange(64 * 33, dtype=np.float32).reshape(64, 33) / 7
  saved, serialization.SLICE_SIZE = serialization.SLICE_SIZE, 1
  try:
    path = os.path.join(OUT, "ms_sliced.ckpt")
    ms.save_checkpoint([{"name": "big", "data": Tensor(big)}], path)
  finally:
    serialization.SLICE_SIZE = saved
  back = ms.load_checkpoint(path)["big"].asnumpy()
  assert np.array_equal(back, big)
  print("wrote", path)


def record(case):
  prob = problem(case)
  net, opt = build(case, {k: prob[k]["p0"] for k in SHAPES[case]})
  for t in range(1, CKPT_STEP + 1):
    step(opt, closed_loop_grads(case, prob, net, t))
  os.makedirs(OUT, exist_ok=True)
  files = [f"ms_{case}_step5.ckpt", f"ms_{case}_step5.safetensors"]
  ms.save_checkpoint(opt, os.path.join(OUT, files[0]))
  ms.save_checkpoint(opt, os.path.join(OUT, files[1]), format="safetensors")
  if case == "exp":
    files += ["ms_exp_step5_crc.ckpt", "ms_exp_step5_append.ckpt"]
    ms.save_checkpoint(opt, os.path.join(OUT, files[2]), crc_check=True)
    ms.save_checkpoint(opt, os.path.join(OUT, files[3]), append_dict=APPEND)
    sliced()
  states, grads = [state(case, net, opt)], []
  for t in range(CKPT_STEP + 1, CKPT_STEP + CONTINUE + 1):
    g = closed_loop_grads(case, prob, net, t)
    step(opt, g)
    grads.append(g)
    states.append(state(case, net, opt))
  want = {k: np.stack([s[k] for s in states]) for k in states[0]}
  self_resume = {}
  for name in files:
    got, not_loaded = resumed(case, os.path.join(OUT, name), CKPT_STEP, grads)
    diff = first_difference(got, want)
    assert diff is None, f"{name}: MindSpore's own resume {diff}"
    self_resume[name] = f"bit-exact at steps 5..15; not loaded: {not_loaded}"
  arrays = {f"grad_{k}": np.stack([g[i] for g in grads]) for i, k in enumerate(SHAPES[case])}
  optimizer = "mindspore.experimental.optim.Adamax" if case == "exp" else "mindspore.nn.AdaMax"
  meta = C.meta(
    f"checkpoint_{case}",
    "checkpoint",
    optimizer=optimizer,
    optimizer_kwargs=HYPER[case],
    shapes={k: list(s) for k, s in SHAPES[case].items()},
    checkpoint_step=CKPT_STEP,
    files=files,
    self_resume=self_resume,
    notes=(
      f"{optimizer}, float32, trained {CKPT_STEP} steps, saved with ms.save_checkpoint(opt, "
      f"path[, format='safetensors' | crc_check=True]); then {CONTINUE} more steps. "
      "Index 0 of param/m/u is the saved state (step 5), index i after step 5 + i; grad_<k>[i] "
      "was fed at step 6 + i. Moments read from the optimizer's parameters "
      f"{MOMENTS[case][0]}.<name> and {MOMENTS[case][1]}.<name>."
    ),
  )
  path = os.path.join(OUT, f"ms_{case}_continuation.npz")
  np.savez_compressed(path, meta=meta, **arrays, **want)
  print(f"wrote {path} and {files}")


def verify(case):
  data = np.load(os.path.join(OUT, f"ms_{case}_continuation.npz"))
  keys = list(SHAPES[case])
  offset = RESUME_STEP - CKPT_STEP
  grads = [[data[f"grad_{k}"][i] for k in keys] for i in range(offset, CONTINUE)]
  want = {
    f"{x}_{k}": data[f"{x}_{k}"][offset:] for x in ("param", "m", "u") for k in keys
  }
  results_path = os.path.join(OUT, "adamax_optax_resume_checks.json")
  results = json.load(open(results_path)) if os.path.exists(results_path) else {}
  for ext in ("ckpt", "safetensors"):
    name = f"adamax_optax_{case}_step10.{ext}"
    got, not_loaded = resumed(case, os.path.join(OUT, name), RESUME_STEP, grads)
    diff = first_difference(got, want)
    results[name] = {
      "framework": f"mindspore {ms.__version__}",
      "resumed_steps": [RESUME_STEP + 1, CKPT_STEP + CONTINUE],
      "bit_exact": diff is None,
      "first_difference": diff,
      "not_loaded": list(not_loaded),
    }
    print(name, results[name])
  with open(results_path, "w") as f:
    json.dump(results, f, indent=1, sort_keys=True)
    f.write("\n")


if __name__ == "__main__":
  mode = sys.argv[1] if len(sys.argv) > 1 else "record"
  for case in sys.argv[2:] or ["exp", "nn"]:
    {"record": record, "verify": verify}[mode](case)
