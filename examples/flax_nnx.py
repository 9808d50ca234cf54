"""Flax NNX: ``nnx.Optimizer`` driving MindSpore's Adamax on the digits MLP.

python examples/flax_nnx.py     (or: python -m examples.flax_nnx)
"""

from __future__ import annotations

import jax
import optax
from flax import nnx

import adamax_optax

if __package__:  # python -m examples.NAME
  from examples import _digits
else:  # python examples/NAME.py, which puts this folder on sys.path
  import _digits


class MLP(nnx.Module):
  def __init__(self, rngs: nnx.Rngs):
    self.hidden = nnx.Linear(64, 64, rngs=rngs)
    self.out = nnx.Linear(64, 10, rngs=rngs)

  def __call__(self, x):
    return self.out(jax.nn.relu(self.hidden(x)))


def main(steps: int = 400) -> _digits.Run:
  """Trains ``steps`` steps; returns the first and last batch loss and the held-out accuracy."""
  data = _digits.load_split()
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
  for batch in _digits.batches(len(data.x_train), steps):
    losses.append(step(model, optimizer, data.x_train[batch], data.y_train[batch]))
  test_accuracy = _digits.accuracy(model, data.x_test, data.y_test)
  return _digits.report("flax nnx", [float(v) for v in losses], test_accuracy)


if __name__ == "__main__":
  main()
