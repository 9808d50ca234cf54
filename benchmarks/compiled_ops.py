"""Opcode counts of each preset's optimized, donated step: a refactor's fingerprint.

A change that keeps every preset's compiled program keeps its step and compile time,
whatever the timings' noise says. Run it in two checkouts and compare the JSON:

    PYTHONPATH=/path/to/old python benchmarks/compiled_ops.py > old.json
    PYTHONPATH=. python benchmarks/compiled_ops.py > new.json
    python benchmarks/compiled_ops.py --compare old.json new.json
"""

import argparse
import collections
import json
import pathlib
import re
import sys

import jax
import jax.numpy as jnp
import optax

import adamax_optax as ax
from adamax_optax.mindspore.experimental.optim import lr_scheduler as mindspore_schedulers
from adamax_optax.torch.optim import lr_scheduler as torch_schedulers

LR, CLIP, WD = 1e-3, 1.0, 1e-4

PRESETS = {
  "adamax": lambda: ax.adamax(LR),
  "mxnet clip+wd": lambda: ax.mxnet_adamax(learning_rate=LR, clip_gradient=CLIP, wd=WD),
  "mxnet1 clip+wd": lambda: ax.mxnet1_adamax(learning_rate=LR, clip_gradient=CLIP, wd=WD),
  "mindspore wd": lambda: ax.mindspore_adamax(lr=LR, weight_decay=WD),
  "mindspore_nn wd": lambda: ax.mindspore_nn_adamax(learning_rate=LR, weight_decay=WD),
  "torch wd": lambda: ax.torch_adamax(lr=LR, weight_decay=WD),
  "keras wd": lambda: ax.keras_adamax(learning_rate=LR, weight_decay=WD),
  "keras ema+clip": lambda: ax.keras_adamax(learning_rate=LR, use_ema=True, global_clipnorm=1.0),
  "paddle wd": lambda: ax.paddle_adamax(learning_rate=LR, weight_decay=WD),
  "torch StepLR": lambda: ax.torch_adamax(
    lr=LR, lr_scheduler=torch_schedulers.StepLR(step_size=41, gamma=0.97, horizon=100_000)
  ),
  "mindspore StepLR": lambda: ax.mindspore_adamax(
    lr=LR, lr_scheduler=mindspore_schedulers.StepLR(step_size=41, gamma=0.97, horizon=100_000)
  ),
  "torch skip": lambda: ax.torch_adamax(lr=LR, skip_nonfinite=True),
  "paddle skip": lambda: ax.paddle_adamax(learning_rate=LR, skip_nonfinite=True),
  "mindspore skip": lambda: ax.mindspore_adamax(lr=LR, skip_nonfinite=True),
  "mxnet skip": lambda: ax.mxnet_adamax(learning_rate=LR, skip_nonfinite=True),
}


def opcode_counts(opt, params) -> dict[str, int]:
  def step(params, state, grads):
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  state = opt.init(params)
  compiled = jax.jit(step, donate_argnums=(0, 1)).lower(params, state, params).compile()
  return dict(
    sorted(collections.Counter(re.findall(r"= \S+ (\w[\w-]*)\(", compiled.as_text())).items())
  )


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"), help="two JSON outputs")
  args = parser.parse_args()
  if args.compare:
    old, new = (json.loads(pathlib.Path(path).read_text()) for path in args.compare)
    for name in old:
      same = "same" if old[name] == new.get(name) else "DIFFERENT"
      print(f"{name:18s} {sum(old[name].values()):6d} {sum(new.get(name, {}).values()):6d}  {same}")
    return
  params = {f"w{i}": jnp.ones((64, 16)) for i in range(20)}
  print(f"adamax_optax from {ax.__file__}", file=sys.stderr)
  print(json.dumps({name: opcode_counts(make(), params) for name, make in PRESETS.items()}))


if __name__ == "__main__":
  main()
