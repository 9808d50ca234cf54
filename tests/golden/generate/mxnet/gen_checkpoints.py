"""Record real ``Trainer.save_states`` and parameter files of an MXNet Adamax run, and the
run's continuation, for MXNet 1.x and 2.0.

Rerun (venvs outside the repo):
    python3 -m venv /work/venvs/mxnet1 && /work/venvs/mxnet1/bin/pip install mxnet==1.9.1 "numpy<1.24"
    python3 -m venv /work/venvs/mxnet2 && /work/venvs/mxnet2/bin/pip install mxnet==2.0.0b1 "numpy<1.24"
    cd tests/golden/generate/mxnet
    /work/venvs/mxnet1/bin/python gen_checkpoints.py
    /work/venvs/mxnet2/bin/python gen_checkpoints.py
Writes tests/golden/mxnet/checkpoints/mxnet<major>_<case>.{states,params,npz} for the cases
``fp32`` and ``fp16_mp`` (float16 weights, ``multi_precision=True``: float32 master copies).

A ``gluon.Trainer`` over the parameter list [w (4, 3), b (3,), s] (s is 0-d in 2.0, (1,) in
1.x, which has no 0-d arrays), 'adamax' with learning_rate 0.02, wd 0.001. Closed loop in
NumPy float32: g = a * (p - target) + noise[t], fed through autograd as the gradient of
sum(p * g). After SAVE_AT steps ``trainer.save_states`` and the parameters are saved
(``nd.save`` in 1.x, ``npx.savez`` as ``save_parameters`` does in 2.0); the run continues
MORE steps, recording the gradient fed and params, mean, var (and master) after each.

Then adamax_optax's writer (``adamax_optax/mxnet/_mxnet_save.py``, imported by path: it needs
only NumPy) writes the states and parameters again from what its reader made of the real
files; a fresh Trainer loads them (``load_states``) and must continue bit-identically.
"""

import json
import os
import pathlib
import sys

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from numpy_only import numpy_only_module  # noqa: E402

ROOT = HERE.parents[3]
OUT = ROOT / "tests" / "golden" / "mxnet" / "checkpoints"
MAJOR = int(mx.__version__.split(".")[0])
NP = MAJOR >= 2
SAVE_AT, MORE = 5, 6
SHAPES = {"w": (4, 3), "b": (3,), "s": () if NP else (1,)}
KWARGS = {"learning_rate": 0.02, "wd": 0.001}


def array(x, dtype):
  return mx.np.array(x, dtype=dtype) if NP else mx.nd.array(x, dtype=dtype)


def assign(parameter, value):
  # Parameter.set_data assigns with [:], which 2.0's 0-d arrays refuse.
  for data in parameter.list_data():
    data[() if NP else slice(None)] = value


def problem():
  rng = np.random.default_rng(11)
  out = {}
  for k, shape in SHAPES.items():
    out[k] = {
      "p0": rng.standard_normal(shape).astype(np.float32),
      "a": rng.uniform(0.1, 2.0, shape).astype(np.float32),
      "target": rng.standard_normal(shape).astype(np.float32),
      "noise": (0.1 * rng.standard_normal((SAVE_AT + MORE, *shape))).astype(np.float32),
    }
  return out


def make(prob, dtype, multi_precision, values=None):
  params = {}
  for k in SHAPES:
    p = gluon.Parameter(k, shape=SHAPES[k], dtype=dtype)
    p.initialize(ctx=mx.cpu())
    start = prob[k]["p0"] if values is None else values[k]
    assign(p, array(start, dtype))
    params[k] = p
  trainer = gluon.Trainer(
    list(params.values()), "adamax", {**KWARGS, "multi_precision": multi_precision},
    update_on_kvstore=False,
  )
  return params, trainer


def step(params, trainer, prob, t, dtype):
  grads = {}
  for k, p in params.items():
    w = p.data().asnumpy().astype(np.float32)
    pr = prob[k]
    grads[k] = np.asarray(pr["a"] * (w - pr["target"]) + pr["noise"][t], np.float32).astype(dtype)
  with autograd.record():
    loss = sum((p.data() * array(grads[k], dtype)).sum() for k, p in params.items())
  loss.backward()
  trainer.step(1)
  return grads


def snapshot(params, trainer, mp):
  out = {}
  states = trainer._updaters[0].states
  for index, (k, p) in enumerate(params.items()):
    entry = states[index]
    if mp:
      out[f"master_{k}"] = entry[0].asnumpy()
      entry = entry[1]
    out[f"param_{k}"] = p.data().asnumpy()
    out[f"m_{k}"], out[f"u_{k}"] = entry[0].asnumpy(), entry[1].asnumpy()
  return out


def continue_run(params, trainer, prob, dtype, mp):
  rows = []
  for t in range(SAVE_AT, SAVE_AT + MORE):
    grads = step(params, trainer, prob, t, dtype)
    rows.append({**{f"grad_{k}": v for k, v in grads.items()}, **snapshot(params, trainer, mp)})
  return {k: np.stack([r[k] for r in rows]) for k in rows[0]}


def bits(x):
  return x.view(np.uint16) if x.dtype == np.float16 else x


def record(case, dtype, mp):
  prefix = OUT / f"mxnet{MAJOR}_{case}"
  prob = problem()
  params, trainer = make(prob, dtype, mp)
  for t in range(SAVE_AT):
    step(params, trainer, prob, t, dtype)
  states_file, params_file = f"{prefix}.states", f"{prefix}.params"
  trainer.save_states(states_file)
  arrays = {k: p.data() for k, p in params.items()}
  if NP:
    mx.npx.savez(params_file, **arrays)
  else:
    mx.nd.save(params_file, arrays)
  continued = continue_run(params, trainer, prob, dtype, mp)
  meta = {
    "framework": "mxnet",
    "version": mx.__version__,
    "case": case,
    "kind": "trajectory",
    "optimizer_kwargs": {**KWARGS, "multi_precision": mp},
    "dtype": np.dtype(dtype).name,
    "saved_after": SAVE_AT,
    "notes": "row t of every key is continuation step t+1 after the saved state; "
    "parameter indices 0 w, 1 b, 2 s; states (mean, var) -> m, u, with multi_precision "
    "(master, (mean, var)); float16 values stored as uint16 bits (key suffix _bits)",
  }
  rows = {(k + "_bits" if v.dtype == np.float16 else k): bits(v) for k, v in continued.items()}
  np.savez_compressed(f"{prefix}.npz", meta=np.array(json.dumps(meta)), **rows)

  # adamax_optax's writer: read the real files, write them again, resume from the copies.
  mxnet_save = numpy_only_module("adamax_optax.mxnet._mxnet_save")
  states, optimizer = mxnet_save.load_states(states_file)
  values = mxnet_save.load_parameters(params_file)
  copy_states, copy_params = f"{prefix}.copy.states", f"{prefix}.copy.params"
  mxnet_save.save_states(copy_states, states, optimizer, version=MAJOR)
  mxnet_save.save_parameters(copy_params, values, version=MAJOR)
  fresh, fresh_trainer = make(prob, dtype, mp)
  loaded = mx.npx.load(copy_params) if NP else mx.nd.load(copy_params)
  for k, p in fresh.items():
    assign(p, loaded[k])
  fresh_trainer.load_states(copy_states)
  again = continue_run(fresh, fresh_trainer, prob, dtype, mp)
  for k, v in continued.items():
    assert v.dtype == again[k].dtype and np.array_equal(v, again[k]), k
  os.remove(copy_states)
  os.remove(copy_params)
  print("wrote", prefix, "and checked the writer")


def main():
  OUT.mkdir(parents=True, exist_ok=True)
  cases = {"fp32": (np.float32, False), "fp16_mp": (np.float16, True)}
  for case in sys.argv[1:] or cases:
    record(case, *cases[case])


if __name__ == "__main__":
  main()
