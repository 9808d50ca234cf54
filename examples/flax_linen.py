"""Flax Linen: a ``TrainState`` with MXNet's Adamax (learning-rate multipliers by name).

python examples/flax_linen.py
"""

from __future__ import annotations

import flax.linen as nn
import jax
import optax
from digits_mlp import BATCH_SIZE, load_data
from flax.training import train_state

import adamax_optax


class MLP(nn.Module):
  @nn.compact
  def __call__(self, x):
    return nn.Dense(10)(jax.nn.relu(nn.Dense(64)(x)))


def main(steps: int = 200) -> tuple[float, float]:
  """Trains ``steps`` steps; returns the first and last batch loss."""
  x, y = load_data()
  model = MLP()
  params = model.init(jax.random.key(0), x[:1])["params"]
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
  for i in range(steps):
    start = (i * BATCH_SIZE) % (len(x) - BATCH_SIZE)
    state, loss = step(state, x[start : start + BATCH_SIZE], y[start : start + BATCH_SIZE])
    losses.append(float(loss))
  print(f"flax linen: loss {losses[0]:.3f} -> {losses[-1]:.3f}")
  return losses[0], losses[-1]


if __name__ == "__main__":
  main()
