"""Restore params and optimizer state saved by test_checkpoint.py and keep training.

Run in a fresh process: ``python resume_from_checkpoint.py CHECKPOINT_DIR PRESET STEPS OUT``.
It rebuilds the optimizer from the same code, restores with orbax into the abstract
state from ``jax.eval_shape(opt.init, params)``, runs the remaining steps and writes the
final params to OUT (.npz).
"""

from __future__ import annotations

import pathlib
import sys

import jax
import numpy as np
import orbax.checkpoint as ocp

sys.path.insert(0, str(pathlib.Path(__file__).parent.parent))
import checkpoint_cases


def main(directory: str, preset: str, steps: int, out: str) -> None:
  opt, params0 = checkpoint_cases.build(preset)
  abstract = jax.eval_shape(lambda p: {"params": p, "opt_state": opt.init(p)}, params0)
  restored = ocp.StandardCheckpointer().restore(pathlib.Path(directory).absolute(), abstract)
  params = checkpoint_cases.train(
    opt, restored["params"], restored["opt_state"], *steps_range(steps)
  )[0]
  np.savez(out, **{k: np.asarray(v) for k, v in params.items()})


def steps_range(steps: str) -> tuple[int, int]:
  first, last = steps.split(":")
  return int(first), int(last)


if __name__ == "__main__":
  main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4])
