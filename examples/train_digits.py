"""Train a small classifier on scikit-learn's bundled 8x8 digits with Adamax.

The data ships with scikit-learn (no download). The whole training step (forward,
gradient, optimizer update) is one ``jax.jit``-compiled function.

    python examples/train_digits.py                 # the adamax_optax alias
    python examples/train_digits.py --optimizer optax --epochs 40
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm

import adamax_optax

OPTIMIZERS = {
  # Each entry builds the optimizer from the learning rate.
  "adamax": lambda lr: adamax_optax.adamax(lr, clip_value=5.0, weight_decay=1e-4),
  "optax": lambda lr: optax.adamax(lr),
}


def load_data(seed: int):
  digits = load_digits()
  x = (digits.data / 16.0).astype(np.float32)
  y = digits.target.astype(np.int32)
  return train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)


def init_mlp(key, sizes=(64, 128, 64, 10)):
  params = []
  keys = jax.random.split(key, len(sizes) - 1)
  for fan_in, fan_out, k in zip(sizes[:-1], sizes[1:], keys, strict=True):
    scale = jnp.sqrt(2.0 / fan_in)
    params.append(
      {"kernel": scale * jax.random.normal(k, (fan_in, fan_out)), "bias": jnp.zeros(fan_out)}
    )
  return params


def apply_mlp(params, x):
  for layer in params[:-1]:
    x = jax.nn.relu(x @ layer["kernel"] + layer["bias"])
  return x @ params[-1]["kernel"] + params[-1]["bias"]


def loss_fn(params, x, y):
  logits = apply_mlp(params, x)
  return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def accuracy(params, x, y) -> float:
  return float(jnp.mean(jnp.argmax(apply_mlp(params, x), axis=-1) == y))


def train(
  optimizer_name: str, *, epochs: int, batch_size: int, lr: float, seed: int, progress: bool = True
):
  x_train, x_test, y_train, y_test = load_data(seed)
  opt = OPTIMIZERS[optimizer_name](lr)
  params = init_mlp(jax.random.key(seed))
  state = opt.init(params)

  @jax.jit
  def step(params, state, x, y):
    loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state, loss

  rng = np.random.default_rng(seed)
  steps_per_epoch = len(x_train) // batch_size
  losses = []
  bar = tqdm(range(epochs), desc=optimizer_name, unit="epoch", disable=not progress)
  for _ in bar:
    order = rng.permutation(len(x_train))
    for i in range(steps_per_epoch):
      batch = order[i * batch_size : (i + 1) * batch_size]
      params, state, loss = step(params, state, x_train[batch], y_train[batch])
      losses.append(float(loss))
    bar.set_postfix(loss=f"{np.mean(losses[-steps_per_epoch:]):.4f}")
  return params, losses, accuracy(params, x_test, y_test)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adamax")
  parser.add_argument("--epochs", type=int, default=30)
  parser.add_argument("--batch-size", type=int, default=64)
  parser.add_argument("--lr", type=float, default=0.002)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args(argv)

  start = time.perf_counter()
  _, losses, acc = train(
    args.optimizer, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed
  )
  print(
    f"{args.optimizer}: final train loss {np.mean(losses[-20:]):.4f}, "
    f"test accuracy {acc:.2%} ({time.perf_counter() - start:.1f} s)"
  )
  return acc


if __name__ == "__main__":
  main()
