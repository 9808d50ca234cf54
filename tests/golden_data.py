"""Loading the golden trajectories in ``tests/golden`` and replaying an optimizer on them."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
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


def read_recording(recording) -> dict[str, np.ndarray]:
  """The arrays of a recording (an ``.npz`` path, or the archive ``np.load`` opened), each
  read once.

  ``np.load`` opens an archive that reads and decompresses a member again at every
  ``archive[name]``: a replay indexing it step by step would read each array once per step.
  """
  if isinstance(recording, (str, pathlib.Path)):
    with np.load(recording) as archive:
      return dict(archive)
  return dict(recording)


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


def first_difference(
  opt: optax.GradientTransformation,
  path: pathlib.Path,
  keys: list[str],
  dtype,
  moments: Callable,
  *,
  signed_zero_params: bool = True,
) -> str | None:
  """Replays a recorded trajectory through ``opt`` under ``jax.jit``.

  16-bit files hold raw bits (``grad_<k>_bits`` before each step; ``param_``, ``m_``,
  ``u_<k>_bits`` initially and after each step); any of them may be a float32 array
  ``<name>_<k>`` instead (float32 runs; MXNet's multi_precision moments). Params, m and u are
  compared bit for bit at every step (NaN equals NaN of any payload); returns a
  description of the first difference, or None. ``signed_zero_params=False`` lets a
  param be +0.0 where the framework has -0.0 (an update added by
  :func:`optax.apply_updates` cannot turn a nonzero weight into -0.0).
  """
  data = read_recording(path)

  def recorded(name, k, t):
    if f"{name}_{k}_bits" in data:
      return np.asarray(data[f"{name}_{k}_bits"][t]).view(dtype)
    return np.asarray(data[f"{name}_{k}"][t])

  params = {k: jnp.asarray(recorded("param", k, 0)) for k in keys}
  state = opt.init(params)

  @jax.jit
  def step(params, state, grads):
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  first_grad = f"grad_{keys[0]}_bits" if f"grad_{keys[0]}_bits" in data else f"grad_{keys[0]}"
  steps = len(data[first_grad])
  for t in range(1, steps + 1):
    grads = {k: jnp.asarray(recorded("grad", k, t - 1)) for k in keys}
    params, state = step(params, state, grads)
    mu, nu = moments(state)[:2]
    for k in keys:
      for name, got in (("param", params[k]), ("m", mu[k]), ("u", nu[k])):
        got, want = np.asarray(got), recorded(name, k, t)
        if got.dtype != want.dtype:
          return f"step {t}: {name}_{k} has dtype {got.dtype}, want {want.dtype}"
        nan = lambda x: np.isnan(x.astype(np.float32))
        bits = lambda x: x.view(np.uint16 if x.dtype.itemsize == 2 else np.uint32)
        same = (bits(got) == bits(want)) | (nan(got) & nan(want))
        if name == "param" and not signed_zero_params:
          same |= (got == 0) & (want == 0)
        if not same.all():
          where = tuple(int(i) for i in np.argwhere(~np.atleast_1d(same))[0])
          got_1, want_1 = np.atleast_1d(got)[where], np.atleast_1d(want)[where]
          return (
            f"step {t}: {name}_{k}{list(where)} is {got_1!r}, the framework's {want_1!r} "
            f"({int((~same).sum())} of {same.size} elements differ)"
          )
  return None


__all__ = [
  "KEYS",
  "Trajectory",
  "compare",
  "first_difference",
  "golden_names",
  "grads",
  "read_recording",
  "replay",
  "trajectory",
]
_ = jax
