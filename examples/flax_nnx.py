"""Flax NNX: ``nnx.Optimizer`` driving MindSpore's Adamax on the digits MLP.

python examples/flax_nnx.py
"""

from __future__ import annotations

import jax
import optax
from digits_mlp import BATCH_SIZE, load_data
from flax import nnx

import adamax_optax


class MLP(nnx.Module):
  def __init__(self, rngs: nnx.Rngs):
    self.hidden = nnx.Linear(64, 64, rngs=rngs)
    self.out = nnx.Linear(64, 10, rngs=rngs)

  def __call__(self, x):
    return self.out(jax.nn.relu(self.hidden(x)))


def main(steps: int = 200) -> tuple[float, float]:
  """Trains ``steps`` steps; returns the first and last batch loss."""
  x, y = load_data()
  model = MLP(nnx.Rngs(0))
  tx = adamax_optax.mindspore_adamax(
    lr=3e-3, param_groups=[{"params": lambda name, leaf: name.endswith("bias"), "lr": 6e-3}]
  )
  optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)

  @nnx.jit
  def step(model, optimizer, xb, yb):
    def loss_fn(model):
      return optax.softmax_cross_entropy_with_integer_labels(model(xb), yb).mean()

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return loss

  losses = []
  for i in range(steps):
    start = (i * BATCH_SIZE) % (len(x) - BATCH_SIZE)
    losses.append(
      float(step(model, optimizer, x[start : start + BATCH_SIZE], y[start : start + BATCH_SIZE]))
    )
  print(f"flax nnx: loss {losses[0]:.3f} -> {losses[-1]:.3f}")
  return losses[0], losses[-1]


if __name__ == "__main__":
  main()
