"""adamax_optax.mindspore.ops's clips against MindSpore 2.10's own, then experimental Adamax.

Golden files: tests/golden/mindspore/ms_traj_exp_clip_{global_norm,value}.npz: 300
closed-loop steps of ``ops.clip_by_global_norm(grads, 5.25)`` (with StepLR(41, 0.3)) or
``ops.clip_by_value(grads, -0.3, 0.3)`` on (w, b, s), then
``mindspore.experimental.optim.Adamax`` (groups {w, s} lr 0.02 wd 0.01, {b} lr 0.05);
recorded: raw and clipped gradients, the global norm MindSpore computed, the run.

The global norm is MindSpore's on every step (each tensor's squares summed in double,
``AddN`` in float32), and so is every clipped gradient and both 300-step runs. Measured
gap: MindSpore's CPU kernels flush subnormal results to zero on some tensors and not on
others (the clip of the 84-element w flushes, the 0-d s keeps them): at the two subnormal
steps (90, 91) values below float32's smallest normal compare equal.
"""

import json
import pathlib

import jax
import numpy as np
import optax
import pytest
from golden_data import read_recording
from harness import clipped_gradients, recorded_trajectory

from adamax_optax.clipping import global_norm
from adamax_optax.mindspore.experimental.optim import lr_scheduler, mindspore_adamax
from adamax_optax.mindspore.ops import clip_by_global_norm, clip_by_value

GOLDEN = pathlib.Path(__file__).parents[2] / "golden" / "mindspore"
KEYS = ("w", "b", "s")  # the order of the tuple MindSpore clipped
TINY = np.finfo(np.float32).tiny
CASES = ["ms_traj_exp_clip_global_norm", "ms_traj_exp_clip_value"]


def load(name):
  data = read_recording(GOLDEN / f"{name}.npz")
  return data, json.loads(str(data["meta"]))


def clip_of(meta):
  kwargs = meta["clip"]["kwargs"]
  if meta["clip"]["fn"].endswith("clip_by_value"):
    return clip_by_value(kwargs["clip_value_min"], kwargs["clip_value_max"])
  return clip_by_global_norm(kwargs["clip_norm"])


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


@pytest.mark.parametrize("name", CASES)
def test_clipped_gradients_are_mindsporas(name):
  data, meta = load(name)

  got = clipped_gradients(clip_of(meta), data, KEYS)
  for k in KEYS:
    want = data[f"clipped_{k}"].reshape(data[f"grad_{k}"].shape)  # MindSpore's 0-d -> (1,)
    diff = first_difference(got[k], want)
    assert diff is None, f"{name}: clipped_{k} (step, index, got, want): {diff}"


def test_global_norm_is_mindspores():
  data, _ = load("ms_traj_exp_clip_global_norm")
  norm = jax.jit(lambda grads: global_norm(grads, order="float64"))
  got = np.array([norm([data[f"grad_{k}"][t] for k in KEYS]) for t in range(300)], np.float32)
  bad = np.flatnonzero(got.view(np.uint32) != data["total_norm"].view(np.uint32))
  assert bad.size == 0, f"first differing step {bad[0] + 1}"


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
  opt = optax.chain(clip_of(meta), preset)
  got = recorded_trajectory(opt, data, KEYS, steps, as_tree=list)
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
