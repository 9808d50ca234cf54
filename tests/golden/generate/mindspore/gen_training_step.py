"""Record a MindSpore training step around Adamax: ``ops.clip_by_global_norm`` inside a
``mindspore.jit`` train step (issue 24).

Rerun (venv outside the repository, see _common.py):
    /work/venvs/mindspore/bin/python tests/golden/generate/mindspore/gen_training_step.py
Writes tests/golden/mindspore/ms_step_jit_clip_global_norm.npz (kind "training_step").

The network builds ``fc1`` before ``fc0``, so ``net.trainable_params()`` is fc1.weight,
fc1.bias, fc0.weight, fc0.bias. ``mindspore.experimental.optim.Adamax`` gets a decay
group (the weights) and a no-decay group (the biases), so ``optimizer.parameters`` (the
order of the gradient tuple that ``value_and_grad(..., optimizer.parameters)`` returns,
and so the order ``clip_by_global_norm`` adds the per-tensor sums in) is fc1.weight,
fc0.weight, fc1.bias, fc0.bias; a JAX dict sorts them fc0.bias, fc0.weight, fc1.bias,
fc1.weight.

Closed loop: the loss is sum(half_a * (p - target) ** 2) + sum(noise[t] * p) over the
parameters, half_a = a / 2 (exact in float32), so its gradient, taken by
``mindspore.value_and_grad`` from the current params, is a * (p - target) + noise[t]
whatever order the backward pass multiplies in (the factors 2 and 1/2 are exact).
The whole step runs under ``@mindspore.jit``: the gradient, ``ops.clip_by_global_norm(
grads, 1.0)`` and ``optimizer(grads)``. Recorded: the problem (a, target, noise), the
params before the first step and after every step, the gradient of every step
(``grad/<name>``, before the clip) and the global norm, computed in the same jitted step
with the clip's own ops (``get_square_sum`` per tensor, AddN, Sqrt).
"""

import numpy as np

import _common as C

C.setup()

import mindspore as ms  # noqa: E402
from mindspore import Tensor, nn, ops  # noqa: E402
from mindspore.experimental.optim import Adamax  # noqa: E402
from mindspore.ops.function.clip_func import get_square_sum  # noqa: E402

T = 400
CLIP_NORM = 1.0
LR = 0.01
WEIGHT_DECAY = 0.01
SEED = 24
# Target magnitudes per parameter, powers of ten apart, so the order of the sum of the
# per-tensor squares shows in the last bit of the norm.
TARGET_SCALE = {"fc1.weight": 1.0, "fc1.bias": 10.0, "fc0.weight": 0.1, "fc0.bias": 3.0}


class Net(nn.Cell):
  def __init__(self):
    super().__init__()
    self.fc1 = nn.Dense(5, 6)  # built first: first in net.trainable_params()
    self.fc0 = nn.Dense(4, 5)


def main():
  ms.set_seed(SEED)
  net = Net()
  net_order = [p.name for p in net.trainable_params()]
  by_name = {p.name: p for p in net.trainable_params()}
  decay = [name for name in net_order if name.endswith("weight")]
  no_decay = [name for name in net_order if name.endswith("bias")]
  optimizer = Adamax(
    [
      {"params": [by_name[n] for n in decay], "weight_decay": WEIGHT_DECAY},
      {"params": [by_name[n] for n in no_decay], "weight_decay": 0.0},
    ],
    lr=LR,
  )
  opt_order = [p.name for p in optimizer.parameters]
  rng = np.random.default_rng(SEED)
  problem = {}
  for name in opt_order:
    shape = tuple(by_name[name].shape)
    problem[name] = {
      "a": rng.uniform(0.1, 2.0, shape).astype(np.float32),
      "target": (TARGET_SCALE[name] * rng.standard_normal(shape)).astype(np.float32),
      "noise": (0.1 * rng.standard_normal((T, *shape))).astype(np.float32),
    }
  half_a = tuple(Tensor(problem[n]["a"] / np.float32(2)) for n in opt_order)
  target = tuple(Tensor(problem[n]["target"]) for n in opt_order)

  def loss_fn(noise):
    loss = 0.0
    for p, h, y, z in zip(optimizer.parameters, half_a, target, noise):
      loss = loss + ops.sum(h * ops.square(p - y)) + ops.sum(z * p)
    return loss

  grad_fn = ms.value_and_grad(loss_fn, None, optimizer.parameters)

  @ms.jit
  def train_step(noise):
    _, grads = grad_fn(noise)
    norm = ops.sqrt(ops.addn([get_square_sum(g) for g in grads]))
    clipped = ops.clip_by_global_norm(grads, CLIP_NORM)
    optimizer(clipped)
    return grads, norm

  trajectory = {n: np.zeros((T + 1, *by_name[n].shape), np.float32) for n in opt_order}
  grads_seen = {n: np.zeros((T, *by_name[n].shape), np.float32) for n in opt_order}
  total_norm = np.zeros(T, np.float32)
  for name in opt_order:
    trajectory[name][0] = C.read(by_name[name])
  for t in range(T):
    noise = tuple(Tensor(problem[n]["noise"][t]) for n in opt_order)
    grads, norm = train_step(noise)
    total_norm[t] = C.read(norm).reshape(())
    for name, g in zip(opt_order, grads):
      grads_seen[name][t] = C.read(g)
      trajectory[name][t + 1] = C.read(by_name[name])
  arrays = {"total_norm": total_norm}
  for name in opt_order:
    arrays[f"param/{name}"] = trajectory[name]
    arrays[f"grad/{name}"] = grads_seen[name]
    for key in ("a", "target", "noise"):
      arrays[f"{key}/{name}"] = problem[name][key]
  arrays["meta"] = C.meta(
    "jit_clip_global_norm",
    "training_step",
    steps=T,
    net_order=net_order,
    param_order=opt_order,
    groups=[
      {"params": decay, "weight_decay": WEIGHT_DECAY},
      {"params": no_decay, "weight_decay": 0.0},
    ],
    lr=LR,
    optimizer="mindspore.experimental.optim.Adamax",
    clip={"fn": "mindspore.ops.clip_by_global_norm", "clip_norm": CLIP_NORM},
    jit="the whole train step (value_and_grad, clip, optimizer) under @mindspore.jit",
    gradient="a * (p - target) + noise[t] via value_and_grad of "
    "sum(a / 2 * (p - target) ** 2) + sum(noise[t] * p)",
  )
  C.save("ms_step_jit_clip_global_norm", **arrays)
  print(opt_order, total_norm[:3], (total_norm > CLIP_NORM).sum())


if __name__ == "__main__":
  main()
