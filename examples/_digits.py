"""Shared by the examples (not an example itself): scikit-learn's 8x8 digits, split into
a training and a held-out set, a small MLP, and a training loop.

Kept here so that each example shows only what it is about: the optimizer and how its
library drives it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

BATCH_SIZE = 64


class Split(NamedTuple):
  x_train: np.ndarray
  x_test: np.ndarray
  y_train: np.ndarray
  y_test: np.ndarray


class Run(NamedTuple):
  """What an example reports: the first and last batch loss and the held-out accuracy."""

  first_loss: float
  last_loss: float
  test_accuracy: float


def load_split(seed: int = 0) -> Split:
  """Pixels scaled to [0, 1] (float32) and int32 labels; a stratified quarter held out."""
  digits = load_digits()
  x = (digits.data / 16.0).astype(np.float32)
  y = digits.target.astype(np.int32)
  return Split(*train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y))


def batches(n: int, steps: int, batch_size: int = BATCH_SIZE, seed: int = 0) -> Iterator:
  """Indices of ``steps`` batches into ``n`` examples, a fresh permutation every epoch (the
  tail that does not fill a batch is dropped, so every step has one shape)."""
  rng = np.random.default_rng(seed)
  per_epoch = n // batch_size
  for i in range(steps):
    if i % per_epoch == 0:
      order = rng.permutation(n)
    yield order[(i % per_epoch) * batch_size : (i % per_epoch + 1) * batch_size]


def init_mlp(key: jax.Array, sizes=(64, 64, 10)) -> dict:
  """He-initialized layers named ``hidden_0``, ``hidden_1``, ..., ``output``, each with a
  ``kernel`` and a ``bias`` (so a parameter's name is e.g. ``output/bias``)."""
  keys = jax.random.split(key, len(sizes) - 1)
  names = [f"hidden_{i}" for i in range(len(sizes) - 2)] + ["output"]
  return {
    name: {
      "kernel": jnp.sqrt(2.0 / fan_in) * jax.random.normal(k, (fan_in, fan_out)),
      "bias": jnp.zeros(fan_out),
    }
    for name, fan_in, fan_out, k in zip(names, sizes[:-1], sizes[1:], keys, strict=True)
  }


def apply_mlp(params: dict, x: jax.Array) -> jax.Array:
  for i in range(len(params) - 1):
    layer = params[f"hidden_{i}"]
    x = jax.nn.relu(x @ layer["kernel"] + layer["bias"])
  return x @ params["output"]["kernel"] + params["output"]["bias"]


def cross_entropies(params: dict, x: jax.Array, y: jax.Array) -> jax.Array:
  # float32 logits: a float16 log-softmax would round the loss itself, hiding what the
  # optimizer does to low-precision weights.
  logits = apply_mlp(params, x).astype(jnp.float32)
  return optax.softmax_cross_entropy_with_integer_labels(logits, y)


def accuracy(predict: Callable[[jax.Array], jax.Array], x, y) -> float:
  """Fraction of ``x`` whose largest logit under ``predict`` is the label."""
  return float(jnp.mean(jnp.argmax(predict(x), axis=-1) == y))


def report(name: str, losses: list[float], test_accuracy: float, label: str = "loss") -> Run:
  """Prints and returns the first and last batch ``label`` and the held-out accuracy."""
  run = Run(losses[0], losses[-1], test_accuracy)
  print(
    f"{name}: batch {label} {run.first_loss:.3f} -> {run.last_loss:.3f}, "
    f"held-out accuracy {run.test_accuracy:.2%}"
  )
  return run


def train(
  opt: optax.GradientTransformation,
  objective: Callable[[dict, jax.Array, jax.Array], jax.Array],
  epochs: int,
  name: str,
  label: str = "loss",
  seed: int = 0,
) -> Run:
  """Trains the MLP with ``opt`` on ``objective(params, x, y)`` over the training split."""
  data = load_split(seed)
  params = init_mlp(jax.random.key(seed))
  state = opt.init(params)

  @jax.jit
  def step(params, state, xb, yb):
    value, grads = jax.value_and_grad(objective)(params, xb, yb)
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state, value

  steps = epochs * steps_per_epoch()
  values = []
  for batch in batches(len(data.x_train), steps, seed=seed):
    params, state, value = step(params, state, data.x_train[batch], data.y_train[batch])
    values.append(value)
  predict = lambda x: apply_mlp(params, x)
  test_accuracy = accuracy(predict, data.x_test, data.y_test)
  return report(name, [float(v) for v in values], test_accuracy, label)


def steps_per_epoch(batch_size: int = BATCH_SIZE) -> int:
  return len(load_split().x_train) // batch_size
