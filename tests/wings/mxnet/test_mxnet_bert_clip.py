"""MXNet's ``gluon.utils.clip_global_norm(grads, 1.0)`` then Adamax, closed loop, bit for bit.

Golden files: tests/golden/mxnet/mxnet{1,2}_bert_clip.npz and mxnet2_bert_clip_fp16_mp1.npz
(made by tests/golden/generate/mxnet/gen_bert_clip.py): 300 steps of a BERT-style loop with
parameters w (64, 33), b (5,), s () ((1,) in 1.9.1), v (12, 7). The gradient is a function of
the current parameters, recomputed here from ours exactly as the generator computed it from
MXNet's, so any difference in a step changes every later gradient. Compared: MXNet's total
norm at every step, the parameters every 10 steps, the moments (and master weights) at the
end.
"""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from golden_data import read_recording

import adamax_optax
from adamax_optax.master_weights import MultiPrecisionState
from adamax_optax.mxnet.gluon.utils import (
  clip_global_norm,
  clip_global_norm1,
  total_norm,
  total_norm1,
)
from adamax_optax.mxnet.optimizer import mxnet1_adamax, mxnet_adamax

GOLDEN = pathlib.Path(__file__).parents[2] / "golden" / "mxnet"
KEYS = ("w", "b", "s", "v")  # the order MXNet saw the arrays in


def noise(t, n):
  i = np.arange(n, dtype=np.int64)
  return (((7919 * i + 104729 * t) % 2003 - 1001) / 10010.0).astype(np.float32)


def gradient(data, meta, k, p32, t):
  """The generator's gradient at step ``t`` from float32 parameters ``p32``."""
  a, target = data[f"a_{k}"], data[f"target_{k}"]
  g = a * (p32 - target) + noise(t, a.size).reshape(a.shape)
  g = (g * data["grad_scale"][t - 1]).astype(np.float32)
  if t == meta["huge_step"] and meta["dtype"] == "float32":
    flat = g.reshape(-1).copy()
    flat[::7] *= np.float32(1e30)
    g = flat.reshape(g.shape)
  return g.astype(meta["dtype"])


def masters_of(state):
  is_master = lambda x: isinstance(x, MultiPrecisionState)
  (found,) = [x for x in jax.tree.leaves(state, is_leaf=is_master) if is_master(x)]
  return found.master


def first_difference(got, want):
  a, b = np.asarray(got).ravel(), np.asarray(want).ravel()
  bits = a.view(f"uint{8 * a.itemsize}") != b.view(f"uint{8 * b.itemsize}")
  bad = np.flatnonzero(bits & ~(np.isnan(a) & np.isnan(b)))
  return None if not bad.size else (int(bad[0]), a[bad[0]], b[bad[0]])


@pytest.mark.parametrize(
  "name", ["mxnet2_bert_clip", "mxnet1_bert_clip", "mxnet2_bert_clip_fp16_mp1"]
)
def test_bert_style_clip_then_adamax_is_mxnet_bit_for_bit(name):
  data = read_recording(GOLDEN / f"{name}.npz")
  meta = json.loads(str(data["meta"]))
  version_one = name.startswith("mxnet1")
  dtype = jnp.dtype(meta["dtype"])
  clip = (clip_global_norm1 if version_one else clip_global_norm)(1.0)
  preset = (mxnet1_adamax if version_one else mxnet_adamax)(
    **meta["optimizer_kwargs"], lr_mult={1: 2.0}
  )
  opt = optax.chain(clip, preset)
  params = [jnp.asarray(data[f"init_{k}"]).astype(dtype) for k in KEYS]
  state = opt.init(params)
  norm_of = total_norm1 if version_one else total_norm

  @jax.jit
  def step(params, state, grads):
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state, norm_of(grads)

  suffix = "_bits" if dtype == jnp.float16 else ""
  for t in range(1, meta["n_steps"] + 1):
    grads = [
      gradient(data, meta, k, np.asarray(p).astype(np.float32), t)
      for k, p in zip(KEYS, params, strict=True)
    ]
    params, state, norm = step(params, state, grads)
    diff = first_difference(np.float32(norm), data["total_norm"][t - 1])
    assert diff is None, f"{name}: total norm at step {t} (got, want): {diff[1:]}"
    if t % meta["param_every"] == 0:
      for k, p in zip(KEYS, params, strict=True):
        want = data[f"param_{k}{suffix}"][t // meta["param_every"]]
        got = np.asarray(p).view(np.uint16) if suffix else np.asarray(p)
        diff = first_difference(got, want)
        assert diff is None, f"{name}: param_{k} at step {t} (index, got, want): {diff}"
  mu, nu, _ = adamax_optax.moments(state)
  masters = masters_of(state) if "master_w" in data else None
  for i, k in enumerate(KEYS):
    for what, values in (("m", mu), ("u", nu), ("master", masters)):
      if values is not None:
        diff = first_difference(np.asarray(values[i], np.float32), data[f"{what}_{k}"])
        assert diff is None, f"{name}: final {what}_{k} (index, got, want): {diff}"
