"""Record real ``torch.save`` checkpoint files of an Adamax run and the run's continuation.

Rerun (venv outside the repo, CPU wheel):
    python3 -m venv /work/venvs/torch
    /work/venvs/torch/bin/pip install torch==2.13.0 numpy
    cd tests/golden/generate/torch && /work/venvs/torch/bin/python gen_checkpoints.py
Writes tests/golden/torch/checkpoints/{adamax_optimizer.pt, adamax_named_optimizer.pt,
adamax_model.pt, continued.npz}.

A module registers ``b`` (3,), ``w`` (4, 3) and ``s`` () in that order; the optimizer takes
them as two groups, ``[w, s]`` (lr 0.02, weight_decay 0.01) and ``[b]`` (lr 0.01), so its
parameter indices (0: w, 1: s, 2: b) differ from the model's key order. Closed loop in NumPy
float32: g = a * (p - target) + noise[t]. After SAVE_AT steps the optimizer's and the model's
state_dict are saved with ``torch.save`` (and the state_dict of the same run by an optimizer
built from (name, parameter) pairs, which stores the names); the run then continues MORE steps, recording the
gradient fed and the params, exp_avg and exp_inf after each step.

Then the writer of adamax_optax (``adamax_optax/torch/_torch_save.py``, imported by path: it needs
only NumPy) writes both state dicts again from the NumPy trees the reader made of the real
files; ``torch.load(weights_only=True)`` must take them, and a fresh optimizer loading them
must continue bit-identically.
"""

import json
import os
import pathlib
import sys

import numpy as np
import torch

torch.set_num_threads(1)
HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from numpy_only import numpy_only_module  # noqa: E402

ROOT = HERE.parents[3]
OUT = ROOT / "tests" / "golden" / "torch" / "checkpoints"
SAVE_AT, MORE = 5, 6
SHAPES = {"b": (3,), "w": (4, 3), "s": ()}
GROUPS = [
  {"params": ["w", "s"], "lr": 0.02, "weight_decay": 0.01},
  {"params": ["b"], "lr": 0.01},
]


def problem():
  rng = np.random.default_rng(7)
  out = {}
  for k, shape in SHAPES.items():
    out[k] = {
      "p0": rng.standard_normal(shape).astype(np.float32),
      "a": rng.uniform(0.1, 2.0, shape).astype(np.float32),
      "target": rng.standard_normal(shape).astype(np.float32),
      "noise": (0.1 * rng.standard_normal((SAVE_AT + MORE, *shape))).astype(np.float32),
    }
  return out


class Model(torch.nn.Module):
  def __init__(self, prob):
    super().__init__()
    for k in SHAPES:
      self.register_parameter(k, torch.nn.Parameter(torch.from_numpy(prob[k]["p0"].copy())))


def make_optimizer(model, named=False):
  def params(names):
    return [(n, getattr(model, n)) if named else getattr(model, n) for n in names]

  groups = [{**{k: v for k, v in g.items() if k != "params"}, "params": params(g["params"])} for g in GROUPS]
  return torch.optim.Adamax(groups, lr=0.002, betas=(0.9, 0.999), eps=1e-8)


def step(model, opt, prob, t):
  grads = {}
  for k in SHAPES:
    p = getattr(model, k).detach().numpy()
    pr = prob[k]
    g = (pr["a"] * (p - pr["target"]) + pr["noise"][t]).astype(np.float32)
    grads[k] = np.asarray(g, np.float32)
    getattr(model, k).grad = torch.from_numpy(grads[k].copy())
  opt.step()
  return grads


def snapshot(model, opt):
  names = [n for g in GROUPS for n in g["params"]]
  out = {}
  for index, name in enumerate(names):
    st = opt.state_dict()["state"][index]
    out[f"param_{name}"] = getattr(model, name).detach().numpy().copy()
    out[f"m_{name}"] = st["exp_avg"].numpy().copy()
    out[f"u_{name}"] = st["exp_inf"].numpy().copy()
  return out


def continue_run(model, opt, prob):
  rows = []
  for t in range(SAVE_AT, SAVE_AT + MORE):
    grads = step(model, opt, prob, t)
    rows.append({**{f"grad_{k}": v for k, v in grads.items()}, **snapshot(model, opt)})
  return {k: np.stack([r[k] for r in rows]) for k in rows[0]}


def same(a, b):
  """Equal trees: same types and keys, tensors of equal dtype, shape and bits."""
  if isinstance(a, torch.Tensor):
    return (
      isinstance(b, torch.Tensor)
      and a.dtype == b.dtype
      and a.shape == b.shape
      and torch.equal(a.view(-1).view(torch.uint8), b.view(-1).view(torch.uint8))
    )
  if isinstance(a, dict):
    return isinstance(b, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
  if isinstance(a, (list, tuple)):
    return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
  return type(a) is type(b) and a == b


def main():
  OUT.mkdir(parents=True, exist_ok=True)
  prob = problem()
  model = Model(prob)
  opt = make_optimizer(model)
  for t in range(SAVE_AT):
    step(model, opt, prob, t)
  opt_file, model_file = OUT / "adamax_optimizer.pt", OUT / "adamax_model.pt"
  torch.save(opt.state_dict(), opt_file)
  torch.save(model.state_dict(), model_file)
  # The same run with an optimizer built from (name, parameter) pairs: its state_dict
  # stores each group's param_names.
  named_model = Model(prob)
  named = make_optimizer(named_model, named=True)
  for t in range(SAVE_AT):
    step(named_model, named, prob, t)
  named_state = named.state_dict()
  assert [g["param_names"] for g in named_state["param_groups"]] == [["w", "s"], ["b"]]
  torch.save(named_state, OUT / "adamax_named_optimizer.pt")
  continued = continue_run(model, opt, prob)
  meta = {
    "framework": "torch",
    "version": torch.__version__,
    "case": "checkpoint_resume",
    "kind": "trajectory",
    "optimizer_kwargs": {"lr": 0.002, "betas": [0.9, 0.999], "eps": 1e-8},
    "groups": GROUPS,
    "saved_after": SAVE_AT,
    "notes": "row t of every key is continuation step t+1 after the saved state; "
    "optimizer parameter order w, s, b; model key order b, w, s; state keys exp_avg -> m, "
    "exp_inf -> u",
  }
  np.savez_compressed(OUT / "continued.npz", meta=np.array(json.dumps(meta)), **continued)

  # Our writer: read the real files, write them back, and resume from the copies.
  torch_save = numpy_only_module("adamax_optax.torch._torch_save")
  for source in (opt_file, model_file):
    tree = torch_save.load(source)
    copy = OUT.parent / f"_copy_{source.name}"
    torch_save.save(tree, copy)
    original, written = torch.load(source, weights_only=True), torch.load(copy, weights_only=True)
    assert same(original, written), (original, written)
    if source == opt_file:
      fresh_model = Model(prob)
      fresh_model.load_state_dict(torch.load(model_file, weights_only=True))
      fresh = make_optimizer(fresh_model)
      fresh.load_state_dict(written)
      again = continue_run(fresh_model, fresh, prob)
      for k, v in continued.items():
        assert np.array_equal(v, again[k]), k
    os.remove(copy)
  print("wrote", sorted(p.name for p in OUT.iterdir()), "and checked the writer")


if __name__ == "__main__":
  main()
