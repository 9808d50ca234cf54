"""adamax_optax.mindspore.ops's clips against MindSpore 2.10's own, then experimental Adamax.

Golden files: tests/golden/mindspore/ms_traj_exp_clip_{global_norm,value}.npz: 300
closed-loop steps of ``ops.clip_by_global_norm(grads, 5.25)`` (with StepLR(41, 0.3)) or
``ops.clip_by_value(grads, -0.3, 0.3)`` on (w, b, s), then
``mindspore.experimental.optim.Adamax`` (groups {w, s} lr 0.02 wd 0.01, {b} lr 0.05);
recorded: raw and clipped gradients, the global norm MindSpore computed, the run.

Measured gaps: MindSpore's CPU kernels sum the squares in an order not reproduced here
(our norm, in XLA's order, is within 3 ulps of MindSpore's, 140 of 300 steps differ;
given MindSpore's norm via ``norm_fn`` every
clipped value is MindSpore's), and they flush subnormal results to zero on some tensors
and not on others (the clip of the 84-element w flushes, the 0-d s keeps them): at the
two subnormal steps (90, 91) values below float32's smallest normal compare equal.
"""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adamax_optax
from adamax_optax.clipping import global_norm
from adamax_optax.mindspore.experimental.optim import lr_scheduler, mindspore_adamax
from adamax_optax.mindspore.ops import clip_by_global_norm, clip_by_value

GOLDEN = pathlib.Path(__file__).parents[2] / "golden" / "mindspore"
KEYS = ("w", "b", "s")  # the order of the tuple MindSpore clipped
TINY = np.finfo(np.float32).tiny
CASES = ["ms_traj_exp_clip_global_norm", "ms_traj_exp_clip_value"]


def load(name):
  data = np.load(GOLDEN / f"{name}.npz")
  return data, json.loads(str(data["meta"]))


def clip_of(meta, total_norm):
  kwargs = meta["clip"]["kwargs"]
  if meta["clip"]["fn"].endswith("clip_by_value"):
    return clip_by_value(kwargs["clip_value_min"], kwargs["clip_value_max"])
  return clip_by_global_norm(kwargs["clip_norm"], norm_fn=lambda leaves: total_norm)


def first_difference(got, want):
  """None, or (step, flat index, got, want) of the first difference (1-based step); NaN
  equals NaN, and values both below the smallest normal are equal (flush to zero)."""
  for t in range(want.shape[0]):
    a, b = np.asarray(got[t], np.float32).ravel(), np.asarray(want[t], np.float32).ravel()
    tiny = (np.abs(a) < TINY) & (np.abs(b) < TINY)
    bad = (a.view(np.uint32) != b.view(np.uint32)) & ~(np.isnan(a) & np.isnan(b)) & ~tiny
    if bad.any():
      i = int(np.flatnonzero(bad)[0])
      return t + 1, i, a[i], b[i]
  return None


def norms(data):
  return data["total_norm"] if "total_norm" in data else np.zeros(300, np.float32)


@pytest.mark.parametrize("name", CASES)
def test_clipped_gradients_are_mindsporas(name):
  data, meta = load(name)

  @jax.jit
  def clipped(grads, total_norm):
    clip = clip_of(meta, total_norm)
    return clip.update(grads, clip.init(grads))[0]

  got = {k: [] for k in KEYS}
  for t in range(data["grad_w"].shape[0]):
    out = clipped([jnp.asarray(data[f"grad_{k}"][t]) for k in KEYS], norms(data)[t])
    for k, g in zip(KEYS, out, strict=True):
      got[k].append(np.asarray(g))
  for k in KEYS:
    want = data[f"clipped_{k}"].reshape(data[f"grad_{k}"].shape)  # MindSpore's 0-d -> (1,)
    diff = first_difference(got[k], want)
    assert diff is None, f"{name}: clipped_{k} (step, index, got, want): {diff}"


def test_our_norm_is_within_three_ulps_of_mindspores():
  data, _ = load("ms_traj_exp_clip_global_norm")
  norm = jax.jit(lambda grads: global_norm(grads))
  got = np.array([norm([data[f"grad_{k}"][t] for k in KEYS]) for t in range(300)], np.float32)
  want = data["total_norm"]
  finite = np.isfinite(want)
  assert np.array_equal(np.isfinite(got), finite)
  ulps = np.abs(got[finite].view(np.int32).astype(np.int64) - want[finite].view(np.int32))
  assert ulps.max() <= 3, f"step {int(np.argmax(ulps)) + 1}: {ulps.max()} ulps"


@pytest.mark.parametrize("name", CASES)
def test_clip_then_mindspore_adamax_is_mindspore_bit_for_bit(name):
  data, meta = load(name)
  steps = data["grad_w"].shape[0]
  assert steps >= 300
  scheduler = None
  if meta["scheduler"]:
    cls = getattr(lr_scheduler, meta["scheduler"].rsplit(".", 1)[1])
    scheduler = cls(**meta["scheduler_kwargs"], horizon=steps)
  index = {k: str(i) for i, k in enumerate(KEYS)}  # a list in MindSpore's tuple order
  groups = [{**g, "params": [index[p] for p in g["params"]]} for g in meta["groups"]]
  preset = mindspore_adamax(
    lr=groups[0]["lr"],
    betas=tuple(meta["optimizer_kwargs"]["betas"]),
    eps=meta["optimizer_kwargs"]["eps"],
    param_groups=groups,
    lr_scheduler=scheduler,
  )
  params = [jnp.asarray(data[f"param_{k}"][0]) for k in KEYS]
  state = optax.chain(clip_of(meta, jnp.float32(0)), preset).init(params)

  @jax.jit
  def step(params, state, grads, total_norm):
    updates, state = optax.chain(clip_of(meta, total_norm), preset).update(grads, state, params)
    return optax.apply_updates(params, updates), state

  got = {f"{what}_{k}": [] for what in ("param", "m", "u") for k in KEYS}
  for t in range(steps):
    grads = [jnp.asarray(data[f"grad_{k}"][t]) for k in KEYS]
    params, state = step(params, state, grads, norms(data)[t])
    mu, nu, _ = adamax_optax.moments(state)
    for i, k in enumerate(KEYS):
      got[f"param_{k}"].append(params[i])
      got[f"m_{k}"].append(mu[i])
      got[f"u_{k}"].append(nu[i])
  for key, values in got.items():
    diff = first_difference(values, data[key][1:])
    assert diff is None, f"{name}: {key} (step, index, got, want): {diff}"


def test_validation():
  with pytest.raises(ValueError, match="use_norm only supports None"):
    clip_by_global_norm(1.0, use_norm=2.0)
  with pytest.raises(ValueError, match="clip_norm must be in"):
    clip_by_global_norm(0.0)
  with pytest.raises(ValueError, match="clip_value_min or clip_value_max"):
    clip_by_value()
