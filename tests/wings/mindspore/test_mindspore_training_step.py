"""A MindSpore training step around Adamax, replayed bit for bit (issue 24).

Golden file: tests/golden/mindspore/ms_step_jit_clip_global_norm.npz (made by
tests/golden/generate/mindspore/gen_training_step.py): 400 closed-loop steps of a
``@mindspore.jit`` train step, ``value_and_grad`` then ``ops.clip_by_global_norm(grads,
1.0)`` then ``mindspore.experimental.optim.Adamax`` with a decay group (the weights) and
a no-decay group (the biases). The gradient tuple, and so the clip's sum of per-tensor
squares, follows ``optimizer.parameters``: fc1.weight, fc0.weight, fc1.bias, fc0.bias,
not the names' sorted order. The replay builds the optimizer as the MindSpore script
does, from its groups, and clips in the optimizer's ``param_order``; every step's params
must be MindSpore's bits.
"""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
from golden_data import read_recording

from adamax_optax import clipping
from adamax_optax.mindspore.experimental.optim import Adamax
from adamax_optax.mindspore.ops import clip_by_global_norm

GOLDEN = (
  pathlib.Path(__file__).parents[2] / "golden" / "mindspore" / "ms_step_jit_clip_global_norm.npz"
)


def load():
  data = read_recording(GOLDEN)
  return data, json.loads(str(data["meta"]))


def gradients(data, names, params, t):
  """The recording's gradient at step ``t`` (0 first): a * (p - target) + noise[t] in
  float32, which is what MindSpore's value_and_grad gave (the file's grad/<name>)."""
  return {
    name: (
      data[f"a/{name}"] * (np.asarray(params[name]) - data[f"target/{name}"])
      + data[f"noise/{name}"][t]
    ).astype(np.float32)
    for name in names
  }


def replay(data, meta, use_param_order):
  """The recorded run through the presets, one jitted clip + Adamax update per step;
  returns the params after every step. ``use_param_order``: clip in the optimizer's
  ``param_order`` (else in ``tree_leaves`` order, the sorted names)."""
  names = meta["param_order"]
  params = {name: jnp.asarray(data[f"param/{name}"][0]) for name in names}
  groups = [
    {"params": [(n, params[n]) for n in group["params"]], "weight_decay": group["weight_decay"]}
    for group in meta["groups"]
  ]
  opt = Adamax(groups, lr=meta["lr"])
  assert list(opt.param_order) == names
  order = opt.param_order if use_param_order else None
  tx = optax.chain(clip_by_global_norm(meta["clip"]["clip_norm"], param_order=order), opt)
  state = tx.init(params)

  @jax.jit
  def step(grads, state, params):
    updates, state = tx.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  trajectory = {name: [np.asarray(params[name])] for name in names}
  for t in range(meta["steps"]):
    params, state = step(gradients(data, names, params, t), state, params)
    for name in names:
      trajectory[name].append(np.asarray(params[name]))
  return {name: np.stack(values) for name, values in trajectory.items()}


def first_difference(got, data, names):
  """None, or (step, name, flat index, got, want) of the first differing bits."""
  for t in range(data[f"param/{names[0]}"].shape[0]):
    for name in names:
      a = got[name][t].ravel()
      b = data[f"param/{name}"][t].ravel()
      bad = np.flatnonzero(a.view(np.uint32) != b.view(np.uint32))
      if bad.size:
        return t, name, int(bad[0]), a[bad[0]], b[bad[0]]
  return None


def test_the_recording_is_the_case_it_is_for():
  data, meta = load()
  names = meta["param_order"]
  assert names != sorted(names) and meta["net_order"] != names
  assert np.all(data["total_norm"] > meta["clip"]["clip_norm"])  # the clip acts every step
  # The gradient formula the replay uses is MindSpore's value_and_grad, bit for bit.
  for t in (0, 1, meta["steps"] - 1):
    params = {n: data[f"param/{n}"][t] for n in names}
    for name, g in gradients(data, names, params, t).items():
      np.testing.assert_array_equal(g.view(np.uint32), data[f"grad/{name}"][t].view(np.uint32))


def test_jit_clip_in_the_optimizers_order_is_mindspore_bit_for_bit():
  data, meta = load()
  got = replay(data, meta, use_param_order=True)
  diff = first_difference(got, data, meta["param_order"])
  assert diff is None, f"step, name, index, got, want: {diff}"


def test_the_sorted_order_leaves_mindspores_path():
  data, meta = load()
  # Without param_order the clip adds the tensors in sorted-key order and the run drifts
  # off MindSpore's (from step 3, fc1.weight element 1, when this was written).
  diff = first_difference(replay(data, meta, use_param_order=False), data, meta["param_order"])
  assert diff is not None


def test_total_norms_in_the_optimizers_order_are_mindspores():
  # On MindSpore's own gradients of every step, with the clip's arithmetic (each tensor's
  # squares summed in double and rounded, AddN left to right): in the optimizer's order
  # all 400 norms are MindSpore's; in sorted-key order (62 of 400 when this was written)
  # and in the network's order (53: the groups reorder the tuple) some are 1 ulp off.
  data, meta = load()
  names = meta["param_order"]

  @jax.jit
  def norms(grads):
    in_order = clipping.global_norm(clipping.leaves_in_order(grads, names), order="float64")
    in_sorted_order = clipping.global_norm(jax.tree.leaves(grads), order="float64")
    in_net_order = clipping.global_norm(
      clipping.leaves_in_order(grads, meta["net_order"]), order="float64"
    )
    return in_order, in_sorted_order, in_net_order

  recorded = data["total_norm"].view(np.uint32)
  in_order, in_sorted_order, in_net_order = [], [], []
  for t in range(meta["steps"]):
    a, b, c = norms({n: jnp.asarray(data[f"grad/{n}"][t]) for n in names})
    in_order.append(np.float32(a))
    in_sorted_order.append(np.float32(b))
    in_net_order.append(np.float32(c))
  mismatched = np.flatnonzero(np.array(in_order).view(np.uint32) != recorded)
  assert mismatched.size == 0, f"first differing step: {mismatched[:1] + 1}"
  assert np.any(np.array(in_sorted_order).view(np.uint32) != recorded)
  assert np.any(np.array(in_net_order).view(np.uint32) != recorded)
