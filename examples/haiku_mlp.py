"""Haiku: ``hk.transform`` with PyTorch's Adamax (decay off for biases via a group).

python examples/haiku_mlp.py
"""

from __future__ import annotations

import haiku as hk
import jax
import optax
from digits_mlp import BATCH_SIZE, load_data

import adamax_optax


def forward(x):
  return hk.nets.MLP([64, 10])(x)


def main(steps: int = 200) -> tuple[float, float]:
  """Trains ``steps`` steps; returns the first and last batch loss."""
  x, y = load_data()
  net = hk.without_apply_rng(hk.transform(forward))
  params = net.init(jax.random.key(0), x[:1])
  # Haiku names parameters "mlp/~/linear_0/w" and ".../b".
  opt = adamax_optax.torch_adamax(
    lr=3e-3,
    weight_decay=1e-4,
    param_groups=[{"params": lambda name, leaf: name.endswith("/b"), "weight_decay": 0.0}],
  )
  opt_state = opt.init(params)

  @jax.jit
  def step(params, opt_state, xb, yb):
    def loss_fn(params):
      return optax.softmax_cross_entropy_with_integer_labels(net.apply(params, xb), yb).mean()

    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = opt.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  losses = []
  for i in range(steps):
    start = (i * BATCH_SIZE) % (len(x) - BATCH_SIZE)
    params, opt_state, loss = step(
      params, opt_state, x[start : start + BATCH_SIZE], y[start : start + BATCH_SIZE]
    )
    losses.append(float(loss))
  print(f"haiku: loss {losses[0]:.3f} -> {losses[-1]:.3f}")
  return losses[0], losses[-1]


if __name__ == "__main__":
  main()
