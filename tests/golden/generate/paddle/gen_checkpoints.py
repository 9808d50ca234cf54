"""Record real ``paddle.save`` files (``.pdopt``, ``.pdparams``) of a Paddle Adamax run and
the run's continuation.

Rerun (venv outside the repo, CPU wheel):
    python3 -m venv /work/venvs/paddle
    /work/venvs/paddle/bin/pip install paddlepaddle==3.3.1 numpy
    cd tests/golden/generate/paddle && /work/venvs/paddle/bin/python gen_checkpoints.py
Writes tests/golden/paddle/checkpoints/{adamax.pdopt, adamax.pdparams, continued.npz}.

A Layer with parameters w (4, 3), b (3,) and s (0-d), ``paddle.optimizer.Adamax`` with
learning_rate 0.02, weight_decay 0.001 (L2Decay). Closed loop in NumPy float32:
g = a * (p - target) + noise[t], fed through autograd as the gradient of sum(p * g).
After SAVE_AT steps the optimizer's and the layer's ``state_dict`` are saved with
``paddle.save``; the run continues MORE steps, recording the gradient fed and the params,
moment and inf_norm accumulators after each.

Then adamax_optax's writer (``adamax_optax/paddle/_paddle_save.py``, imported by path: it needs
only NumPy) writes both files again from what its reader made of the real ones; a fresh
layer and optimizer load them (``set_state_dict``) and must continue bit-identically.
"""

import json
import os
import pathlib
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")
import paddle  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from numpy_only import numpy_only_module  # noqa: E402

ROOT = HERE.parents[3]
OUT = ROOT / "tests" / "golden" / "paddle" / "checkpoints"
SAVE_AT, MORE = 5, 6
SHAPES = {"w": (4, 3), "b": (3,), "s": ()}
KWARGS = {"learning_rate": 0.02, "weight_decay": 0.001}


def problem():
  rng = np.random.default_rng(13)
  out = {}
  for k, shape in SHAPES.items():
    out[k] = {
      "p0": rng.standard_normal(shape).astype(np.float32),
      "a": rng.uniform(0.1, 2.0, shape).astype(np.float32),
      "target": rng.standard_normal(shape).astype(np.float32),
      "noise": (0.1 * rng.standard_normal((SAVE_AT + MORE, *shape))).astype(np.float32),
    }
  return out


class Model(paddle.nn.Layer):
  def __init__(self, prob):
    super().__init__()
    for k, shape in SHAPES.items():
      p = self.create_parameter(list(shape))
      p.set_value(prob[k]["p0"])
      setattr(self, k, p)


def make(prob):
  model = Model(prob)
  return model, paddle.optimizer.Adamax(parameters=model.parameters(), **KWARGS)


def step(model, opt, prob, t):
  grads = {}
  for k in SHAPES:
    p = getattr(model, k).numpy()
    pr = prob[k]
    grads[k] = np.asarray(pr["a"] * (p - pr["target"]) + pr["noise"][t], np.float32)
  loss = sum((getattr(model, k) * paddle.to_tensor(grads[k])).sum() for k in SHAPES)
  loss.backward()
  opt.step()
  opt.clear_grad()
  return grads


def snapshot(model, opt):
  state = opt.state_dict()
  out = {}
  for k in SHAPES:
    name = getattr(model, k).name
    out[f"param_{k}"] = getattr(model, k).numpy().copy()
    out[f"m_{k}"] = state[f"{name}_moment_0"].numpy().copy()
    out[f"u_{k}"] = state[f"{name}_inf_norm_0"].numpy().copy()
  return out


def continue_run(model, opt, prob):
  rows = []
  for t in range(SAVE_AT, SAVE_AT + MORE):
    grads = step(model, opt, prob, t)
    rows.append({**{f"grad_{k}": v for k, v in grads.items()}, **snapshot(model, opt)})
  return {k: np.stack([r[k] for r in rows]) for k in rows[0]}


def main():
  OUT.mkdir(parents=True, exist_ok=True)
  prob = problem()
  model, opt = make(prob)
  for t in range(SAVE_AT):
    step(model, opt, prob, t)
  opt_file, model_file = OUT / "adamax.pdopt", OUT / "adamax.pdparams"
  paddle.save(opt.state_dict(), str(opt_file))
  paddle.save(model.state_dict(), str(model_file))
  continued = continue_run(model, opt, prob)
  meta = {
    "framework": "paddle",
    "version": paddle.__version__,
    "case": "checkpoint_resume",
    "kind": "trajectory",
    "optimizer_kwargs": KWARGS,
    "saved_after": SAVE_AT,
    "notes": "row t of every key is continuation step t+1 after the saved state; "
    "accumulators <param name>_moment_0 -> m, _inf_norm_0 -> u, _beta1_pow_acc_0",
  }
  np.savez_compressed(OUT / "continued.npz", meta=np.array(json.dumps(meta)), **continued)

  # adamax_optax's writer: read the real files, write them again, resume from the copies.
  # A second layer in this process gets new parameter names (model_1.w_0, ...), and
  # Paddle keys the optimizer's state by them: rename through the structured names.
  paddle_save = numpy_only_module("adamax_optax.paddle._paddle_save")
  fresh, fresh_opt = make(problem())
  renamed = {getattr(model, k).name: getattr(fresh, k).name for k in SHAPES}
  state = paddle_save.load(opt_file)
  table = state.pop("StructuredToParameterName@@")
  for old, new in renamed.items():
    for key in [key for key in state if key.startswith(old + "_")]:
      state[new + key[len(old) :]] = state.pop(key)
  assert table == {key: key for key in table}
  state["StructuredToParameterName@@"] = {key: key for key in state}
  copies = {opt_file: OUT / "_copy.pdopt", model_file: OUT / "_copy.pdparams"}
  paddle_save.save(state, copies[opt_file])
  paddle_save.save(paddle_save.load(model_file), copies[model_file])
  fresh.set_state_dict(paddle.load(str(copies[model_file])))
  fresh_opt.set_state_dict(paddle.load(str(copies[opt_file])))
  again = continue_run(fresh, fresh_opt, prob)
  for k, v in continued.items():
    assert v.dtype == again[k].dtype and np.array_equal(v, again[k]), k
  for copy in copies.values():
    os.remove(copy)
  print("wrote", sorted(p.name for p in OUT.iterdir()), "and checked the writer")


if __name__ == "__main__":
  main()
