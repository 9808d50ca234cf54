"""Flax Linen: a ``TrainState`` with MXNet's Adamax (learning-rate multipliers by name).

python examples/flax_linen.py     (or: python -m examples.flax_linen)
"""

from __future__ import annotations

import flax.linen as nn
import jax
import optax
from flax.training import train_state

import adamax_optax

if __package__:  # python -m examples.NAME
  from examples import _digits
else:  # python examples/NAME.py, which puts this folder on sys.path
  import _digits


class MLP(nn.Module):
  @nn.compact
  def __call__(self, x):
    return nn.Dense(10)(jax.nn.relu(nn.Dense(64)(x)))


def main(steps: int = 400) -> _digits.Run:
  """Trains ``steps`` steps; returns the first and last batch loss and the held-out accuracy."""
  data = _digits.load_split()
  model = MLP()
  params = model.init(jax.random.key(0), data.x_train[:1])["params"]
  tx = adamax_optax.mxnet_adamax(learning_rate=3e-3, wd=1e-4, lr_mult={"Dense_1/bias": 2.0})
  state = train_state.TrainState.create(apply_fn=model.apply, params=params, tx=tx)

  @jax.jit
  def step(state, xb, yb):
    def loss_fn(params):
      logits = state.apply_fn({"params": params}, xb)
      return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

    loss, grads = jax.value_and_grad(loss_fn)(state.params)
    return state.apply_gradients(grads=grads), loss

  losses = []
  for batch in _digits.batches(len(data.x_train), steps):
    state, loss = step(state, data.x_train[batch], data.y_train[batch])
    losses.append(loss)
  predict = lambda x: state.apply_fn({"params": state.params}, x)
  test_accuracy = _digits.accuracy(predict, data.x_test, data.y_test)
  return _digits.report("flax linen", [float(v) for v in losses], test_accuracy)


if __name__ == "__main__":
  main()
