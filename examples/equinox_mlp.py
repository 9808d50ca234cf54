"""Equinox: ``eqx.filter_jit`` with Keras's Adamax; the model holds non-array leaves
(activation functions, sizes), which ``eqx.filter`` keeps out of the optimizer.

    python examples/equinox_mlp.py
"""

from __future__ import annotations

import equinox as eqx
import jax
import optax
from digits_mlp import BATCH_SIZE, load_data

import adamax_optax


def main(steps: int = 200) -> tuple[float, float]:
  """Trains ``steps`` steps; returns the first and last batch loss."""
  x, y = load_data()
  model = eqx.nn.MLP(64, 10, width_size=64, depth=1, activation=jax.nn.relu, key=jax.random.key(0))
  opt = adamax_optax.keras_adamax(learning_rate=3e-3, weight_decay=1e-4)
  opt_state = opt.init(eqx.filter(model, eqx.is_inexact_array))

  @eqx.filter_jit
  def step(model, opt_state, xb, yb):
    def loss_fn(model):
      return optax.softmax_cross_entropy_with_integer_labels(jax.vmap(model)(xb), yb).mean()

    loss, grads = eqx.filter_value_and_grad(loss_fn)(model)
    params = eqx.filter(model, eqx.is_inexact_array)
    updates, opt_state = opt.update(grads, opt_state, params)
    return eqx.apply_updates(model, updates), opt_state, loss

  losses = []
  for i in range(steps):
    start = (i * BATCH_SIZE) % (len(x) - BATCH_SIZE)
    model, opt_state, loss = step(
      model, opt_state, x[start : start + BATCH_SIZE], y[start : start + BATCH_SIZE]
    )
    losses.append(float(loss))
  print(f"equinox: loss {losses[0]:.3f} -> {losses[-1]:.3f}")
  return losses[0], losses[-1]


if __name__ == "__main__":
  main()
