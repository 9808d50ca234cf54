"""adamax_optax.torch.nn.utils against PyTorch 2.13's own clipping, bit for bit.

Golden files: tests/golden/torch/traj_clip_{norm_2,norm_inf,value}.npz: 300 closed-loop
steps of ``clip_grad_norm_`` / ``clip_grad_value_`` on w (12, 7), b (5,), s () (in that
order) then ``torch.optim.Adamax`` (groups {w, s} with weight decay, {b}). Recorded:
the raw gradients, PyTorch's clipped gradients, its ``total_norm`` and the run. All
bit for bit under ``jax.jit``: the total norm (PyTorch's CPU summation order, see
``adamax_optax.clipping``), every clipped gradient and the 300-step run.
"""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from golden_data import read_recording
from harness import clipped_gradients, recorded_trajectory

import adamax_optax
from adamax_optax.torch.nn.utils import clip_grad_norm_, clip_grad_value_, get_total_norm

GOLDEN = pathlib.Path(__file__).parents[2] / "golden" / "torch"
KEYS = ("w", "b", "s")  # the order PyTorch saw the gradients in


def load(name):
  data = read_recording(GOLDEN / f"{name}.npz")
  return data, json.loads(str(data["meta"]))


def first_difference(got, want):
  """None, or (step, key, flat index, got, want) of the first differing bits."""
  for t in range(want["w"].shape[0]):
    for k in KEYS:
      a, b = np.asarray(got[k][t], np.float32).ravel(), np.asarray(want[k][t], np.float32).ravel()
      bad = np.flatnonzero((a.view(np.uint32) != b.view(np.uint32)) & ~(np.isnan(a) & np.isnan(b)))
      if bad.size:
        return t + 1, k, int(bad[0]), a[bad[0]], b[bad[0]]
  return None


def clip_of(meta):
  clip = meta["clip"]
  if clip["fn"] == "clip_grad_value_":
    return clip_grad_value_(clip["clip_value"])
  return clip_grad_norm_(clip["max_norm"], float(clip["norm_type"]))


CASES = ["traj_clip_norm_2", "traj_clip_norm_inf", "traj_clip_value"]


@pytest.mark.parametrize("name", CASES)
def test_clipped_gradients_are_pytorchs(name):
  data, meta = load(name)
  got = clipped_gradients(clip_of(meta), data, KEYS)
  want = {k: data[f"clipped_{k}"] for k in KEYS}
  assert (diff := first_difference(got, want)) is None, f"{name}: step, key, index: {diff}"


@pytest.mark.parametrize(
  ("name", "norm_type"), [("traj_clip_norm_2", 2.0), ("traj_clip_norm_inf", "inf")]
)
def test_total_norm_is_pytorchs(name, norm_type):
  data, _ = load(name)
  norm = jax.jit(lambda grads: get_total_norm(grads, norm_type))
  got = np.array([norm([data[f"grad_{k}"][t] for k in KEYS]) for t in range(300)], np.float32)
  bad = np.flatnonzero(got.view(np.uint32) != data["total_norm"].view(np.uint32))
  assert bad.size == 0, (
    f"first differing step {bad[0] + 1}: {got[bad[0]]} != {data['total_norm'][bad[0]]}"
  )


def test_norm_fn_replaces_the_norm():
  # A norm computed elsewhere (here PyTorch's recorded one) is used as given.
  data, _ = load("traj_clip_norm_2")
  step = int(np.argmax(data["total_norm"] > 3.0))
  norm = data["total_norm"][step]
  clip = clip_grad_norm_(3.0, norm_fn=lambda leaves: norm)
  grads = [jnp.zeros_like(data[f"grad_{k}"][step]) + data[f"grad_{k}"][step] for k in KEYS]
  out = jax.jit(lambda g: clip.update(g, clip.init(g))[0])(grads)
  for k, g in zip(KEYS, out, strict=True):
    assert np.array_equal(np.asarray(g), data[f"clipped_{k}"][step])
  halved = clip_grad_norm_(3.0, norm_fn=lambda leaves: jnp.float32(6.0))
  np.testing.assert_allclose(halved.update([jnp.ones(2)], None)[0][0], 0.5, rtol=1e-6)


@pytest.mark.parametrize("name", CASES)
def test_clip_then_torch_adamax_is_pytorch_bit_for_bit(name):
  data, meta = load(name)
  groups = [
    {k: v for k, v in g.items() if k in ("params", "lr", "weight_decay")} for g in meta["groups"]
  ]
  # A list in PyTorch's order: the norm sums the tensors in leaf order.
  index = {k: i for i, k in enumerate(KEYS)}
  named = [{**g, "params": [str(index[p]) for p in g["params"]]} for g in groups]
  opt = optax.chain(
    clip_of(meta),
    adamax_optax.torch_adamax(
      lr=meta["optimizer_kwargs"]["lr"],
      betas=tuple(meta["optimizer_kwargs"]["betas"]),
      eps=meta["optimizer_kwargs"]["eps"],
      param_groups=named,
    ),
  )
  assert data["grad_w"].shape[0] >= 300
  got = recorded_trajectory(opt, data, KEYS, as_tree=list)
  for what in ("param", "m", "u"):
    want = {k: data[f"{what}_{k}"][1:] for k in KEYS}
    diff = first_difference({k: got[f"{what}_{k}"] for k in KEYS}, want)
    assert diff is None, f"{name}: {what}: step, key, index, got, want: {diff}"


def test_validation_names_the_argument():
  with pytest.raises(ValueError, match="max_norm"):
    clip_grad_norm_(0.0)
  with pytest.raises(ValueError, match="norm_type"):
    clip_grad_norm_(1.0, norm_type=-1)
  with pytest.raises(ValueError, match="error_if_nonfinite=True cannot raise"):
    clip_grad_norm_(1.0, error_if_nonfinite=True)
  with pytest.raises(TypeError, match="foreach"):
    clip_grad_value_(1.0, foreach="yes")
