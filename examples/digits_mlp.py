"""The small model the porting examples train: a 64-64-10 MLP on scikit-learn's digits.

Shared so that each porting example shows only what it is about: the optimizer.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from sklearn.datasets import load_digits

BATCH_SIZE = 64


def load_data() -> tuple[jax.Array, jax.Array]:
  digits = load_digits()
  return jnp.asarray(digits.data / 16.0, jnp.float32), jnp.asarray(digits.target)


def init_params(seed: int = 0) -> dict:
  keys = jax.random.split(jax.random.key(seed), 2)
  return {
    "hidden": {"weight": 0.1 * jax.random.normal(keys[0], (64, 64)), "bias": jnp.zeros(64)},
    "output": {"weight": 0.1 * jax.random.normal(keys[1], (64, 10)), "bias": jnp.zeros(10)},
  }


def forward(params: dict, x: jax.Array) -> jax.Array:
  hidden = jax.nn.relu(x @ params["hidden"]["weight"] + params["hidden"]["bias"])
  return hidden @ params["output"]["weight"] + params["output"]["bias"]


def cross_entropies(params: dict, x: jax.Array, y: jax.Array) -> jax.Array:
  return optax.softmax_cross_entropy_with_integer_labels(forward(params, x), y)


def train(
  opt: optax.GradientTransformation,
  objective: Callable[[dict, jax.Array, jax.Array], jax.Array],
  epochs: int,
  label: str = "loss",
) -> float:
  """Trains with ``opt`` on ``objective(params, x, y)``; returns the train accuracy."""
  x, y = load_data()
  params = init_params()
  state = opt.init(params)

  @jax.jit
  def step(params, state, xb, yb):
    value, grads = jax.value_and_grad(objective)(params, xb, yb)
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state, value

  rng = np.random.default_rng(0)
  steps_per_epoch = len(x) // BATCH_SIZE
  for epoch in range(epochs):
    order = rng.permutation(len(x))
    for i in range(steps_per_epoch):
      batch = order[i * BATCH_SIZE : (i + 1) * BATCH_SIZE]
      params, state, value = step(params, state, x[batch], y[batch])
    print(f"epoch {epoch}: last batch {label} {float(value):.4f}")
  accuracy = float(jnp.mean(jnp.argmax(forward(params, x), -1) == y))
  print(f"train accuracy {accuracy:.2%}")
  return accuracy


def steps_per_epoch() -> int:
  return len(load_data()[0]) // BATCH_SIZE
