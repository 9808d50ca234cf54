"""A MindSpore training configuration carried over to JAX line by line.

The MindSpore original (``mindspore.experimental.optim``)::

    decay = [p for p in net.trainable_params() if "bias" not in p.name]
    no_decay = [p for p in net.trainable_params() if "bias" in p.name]
    optimizer = Adamax(
        [{"params": decay, "weight_decay": 1e-4},
         {"params": no_decay, "lr": 0.01}],
        lr=0.005, betas=(0.9, 0.999), eps=1e-8, maximize=True)
    scheduler = StepLR(optimizer, step_size=4, gamma=0.5)   # stepped once per epoch
    ...
    log_likelihood, grads = grad_fn(data, label)   # the objective is maximized
    optimizer(grads)

Here the same knobs keep MindSpore's names; parameters are named by their pytree path.
``StepLR`` scales every group's learning rate, so each group's rate becomes the same
staircase schedule of the step count, which ``mindspore_adamax`` calls with 0 first.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from sklearn.datasets import load_digits

import adamax_optax

BATCH_SIZE = 64
EPOCHS = 10


def step_lr(base_lr: float, steps_per_epoch: int):
  """MindSpore's StepLR(step_size=4, gamma=0.5), stepped per epoch, as an optax schedule."""
  return optax.exponential_decay(
    base_lr, transition_steps=4 * steps_per_epoch, decay_rate=0.5, staircase=True
  )


def build_optimizer(steps_per_epoch: int):
  is_bias = lambda name, leaf: name.endswith("bias")
  return adamax_optax.mindspore_adamax(
    lr=step_lr(0.005, steps_per_epoch),
    betas=(0.9, 0.999),
    eps=1e-8,
    maximize=True,
    param_groups=[
      {"params": lambda name, leaf: not is_bias(name, leaf), "weight_decay": 1e-4},
      {"params": is_bias, "lr": step_lr(0.01, steps_per_epoch)},
    ],
  )


def main():
  digits = load_digits()
  x = jnp.asarray(digits.data / 16.0, jnp.float32)
  y = jnp.asarray(digits.target)
  keys = jax.random.split(jax.random.key(0), 2)
  params = {
    "hidden": {"weight": 0.1 * jax.random.normal(keys[0], (64, 64)), "bias": jnp.zeros(64)},
    "output": {"weight": 0.1 * jax.random.normal(keys[1], (64, 10)), "bias": jnp.zeros(10)},
  }
  steps_per_epoch = len(x) // BATCH_SIZE
  opt = build_optimizer(steps_per_epoch)
  state = opt.init(params)

  def forward(params, xb):
    hidden = jax.nn.relu(xb @ params["hidden"]["weight"] + params["hidden"]["bias"])
    return hidden @ params["output"]["weight"] + params["output"]["bias"]

  def log_likelihood(params, xb, yb):
    return -optax.softmax_cross_entropy_with_integer_labels(forward(params, xb), yb).mean()

  @jax.jit
  def step(params, state, xb, yb):
    objective, grads = jax.value_and_grad(log_likelihood)(params, xb, yb)
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state, objective

  rng = np.random.default_rng(0)
  for epoch in range(EPOCHS):
    order = rng.permutation(len(x))
    for i in range(steps_per_epoch):
      batch = order[i * BATCH_SIZE : (i + 1) * BATCH_SIZE]
      params, state, objective = step(params, state, x[batch], y[batch])
    print(f"epoch {epoch}: last batch log-likelihood {float(objective):.4f}")
  accuracy = float(jnp.mean(jnp.argmax(forward(params, x), -1) == y))
  print(f"train accuracy {accuracy:.2%}")
  return accuracy


if __name__ == "__main__":
  main()
