"""Loading the golden trajectories in ``tests/golden`` and replaying an optimizer on them."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable
from typing import NamedTuple

import jax
import numpy as np
import optax

GOLDEN_DIR = pathlib.Path(__file__).parent / "golden"
KEYS = ("w", "b", "k")  # the order the frameworks saw the parameters in (index 0, 1, 2)
STEPS = 10


class Trajectory(NamedTuple):
  params: dict  # key -> (11, *shape): initial value, then after each step
  m: dict
  u: dict
  meta: dict


def grads(case: str) -> tuple[dict, dict]:
  """Initial params and the (10, *shape) gradients of one case."""
  data = np.load(GOLDEN_DIR / f"grads_{case}.npz")
  return (
    {k: data[f"param0_{k}"] for k in KEYS},
    {k: data[f"grad_{k}"] for k in KEYS},
  )


def trajectory(name: str) -> Trajectory:
  data = np.load(GOLDEN_DIR / f"{name}.npz")
  key = "master" if "master_w" in data else "param"
  return Trajectory(
    params={k: data[f"{key}_{k}"] for k in KEYS},
    m={k: data[f"m_{k}"] for k in KEYS},
    u={k: data[f"u_{k}"] for k in KEYS},
    meta=json.loads(str(data["meta"])),
  )


def golden_names(prefix: str) -> list[str]:
  return sorted(p.stem for p in GOLDEN_DIR.glob(f"{prefix}_*.npz"))


def case_of(name: str, framework: str) -> str:
  return name[len(framework) + 1 :]


def replay(
  opt: optax.GradientTransformation,
  case: str,
  *,
  dtype=np.float32,
  jit: bool = True,
  params_of: Callable = lambda state, params: params,
) -> dict:
  """Runs ``opt`` on a case's gradients; returns key -> (11, *shape) params.

  ``params_of(state, params)`` picks what to record (the master copies, say).
  """
  params0, gs = grads(case)
  params = {k: np.asarray(v, dtype) for k, v in params0.items()}
  state = opt.init(params)

  def step(params, state, g):
    updates, state = opt.update(g, state, params)
    return optax.apply_updates(params, updates), state

  step = jax.jit(step) if jit else step
  history = {k: [np.asarray(params_of(state, params)[k])] for k in KEYS}
  for t in range(STEPS):
    g = {k: np.asarray(gs[k][t], dtype) for k in KEYS}
    params, state = step(params, state, g)
    recorded = params_of(state, params)
    for k in KEYS:
      history[k].append(np.asarray(recorded[k]))
  return {k: np.stack(v) for k, v in history.items()}


def compare(got: dict, want: Trajectory, rtol: float = 1e-6) -> int:
  """Asserts params match within ``rtol`` with NaNs in the same places; returns the
  number of keys whose whole trajectory is bit-identical."""
  exact = 0
  for k in KEYS:
    np.testing.assert_allclose(
      np.asarray(got[k], np.float64),
      np.asarray(want.params[k], np.float64),
      rtol=rtol,
      atol=0,
      equal_nan=True,
      err_msg=f"param {k!r}",
    )
    exact += int(np.array_equal(got[k], want.params[k], equal_nan=True))
  return exact


__all__ = ["KEYS", "Trajectory", "compare", "golden_names", "grads", "replay", "trajectory"]
_ = jax
