"""Train a small classifier on scikit-learn's bundled 8x8 digits with Adamax.

The data ships with scikit-learn (no download). The whole training step (forward,
gradient, optimizer update) is one ``jax.jit``-compiled function.

    python examples/train_digits.py                          # the adamax_optax alias
    python examples/train_digits.py --optimizer torch        # PyTorch's Adamax, its defaults
    python examples/train_digits.py --compare                # all of them, loss curves to a PNG
    python examples/train_digits.py --compare mxnet keras --plot curves.png
    python examples/train_digits.py --compare --state-dtype bfloat16   # bfloat16 m and u
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

# Each entry builds the optimizer from a learning rate, or with the framework's own
# default learning rate (and every other default) when it is None, and from the state
# dtypes (``mu_dtype``/``nu_dtype``, empty for float32 state).
OPTIMIZERS = {
  "adamax": lambda lr, **state: adamax_optax.adamax(
    lr or 0.002, clip_value=5.0, weight_decay=1e-4, **state
  ),
  "mxnet": lambda lr, **state: adamax_optax.mxnet_adamax(**_lr("learning_rate", lr), **state),
  # safe=True: 1.x divides 0 by 0 on the always-zero input pixels and NaN spreads.
  "mxnet1": lambda lr, **state: adamax_optax.mxnet1_adamax(
    **_lr("learning_rate", lr), safe=True, **state
  ),
  "mindspore": lambda lr, **state: adamax_optax.mindspore_adamax(**_lr("lr", lr), **state),
  "mindspore_nn": lambda lr, **state: adamax_optax.mindspore_nn_adamax(
    **_lr("learning_rate", lr), **state
  ),
  "torch": lambda lr, **state: adamax_optax.torch_adamax(**_lr("lr", lr), **state),
  "keras": lambda lr, **state: adamax_optax.keras_adamax(**_lr("learning_rate", lr), **state),
  "paddle": lambda lr, **state: adamax_optax.paddle_adamax(**_lr("learning_rate", lr), **state),
  "optax": lambda lr, **state: optax.adamax(lr or 0.002),  # float32 state only
}


def _lr(keyword: str, lr: float | None) -> dict:
  return {} if lr is None else {keyword: lr}


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
  optimizer_name: str,
  *,
  epochs: int,
  batch_size: int,
  lr: float | None,
  seed: int,
  progress: bool = True,
  state_dtype: str = "float32",
):
  """Trains one optimizer; returns (params, per-step losses, test accuracy)."""
  x_train, x_test, y_train, y_test = load_data(seed)
  state = {} if state_dtype == "float32" else {"mu_dtype": state_dtype, "nu_dtype": state_dtype}
  opt = OPTIMIZERS[optimizer_name](lr, **state)
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
  bar = tqdm(range(epochs), desc=f"{optimizer_name:>12}", unit="epoch", disable=not progress)
  for _ in bar:
    order = rng.permutation(len(x_train))
    for i in range(steps_per_epoch):
      batch = order[i * batch_size : (i + 1) * batch_size]
      params, state, loss = step(params, state, x_train[batch], y_train[batch])
      losses.append(loss)
    losses[-steps_per_epoch:] = [float(v) for v in losses[-steps_per_epoch:]]
    bar.set_postfix(loss=f"{np.mean(losses[-steps_per_epoch:]):.4f}")
  return params, losses, accuracy(params, x_test, y_test)


def plot_losses(curves: dict[str, list[float]], path: str, smoothing: int = 20) -> None:
  """Writes the (moving-average) training-loss curves of several optimizers to a PNG."""
  import matplotlib

  matplotlib.use("Agg")  # no display needed
  import matplotlib.pyplot as plt

  fig, ax = plt.subplots(figsize=(8, 5))
  kernel = np.ones(smoothing) / smoothing
  for name, losses in curves.items():
    ax.plot(np.convolve(losses, kernel, mode="valid"), label=name, linewidth=1.2)
  ax.set_yscale("log")
  ax.set_xlabel("step")
  ax.set_ylabel(f"training loss ({smoothing}-step moving average)")
  ax.set_title("Adamax on the digits MLP, each framework's defaults")
  ax.legend()
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adamax")
  parser.add_argument(
    "--compare",
    nargs="*",
    choices=sorted(OPTIMIZERS),
    metavar="NAME",
    help="train these optimizers side by side (all when no name is given) and plot them",
  )
  parser.add_argument("--plot", default="digits_loss_curves.png", help="PNG for --compare")
  parser.add_argument("--epochs", type=int, default=30)
  parser.add_argument("--batch-size", type=int, default=64)
  parser.add_argument("--lr", type=float, default=None, help="default: each optimizer's own")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--no-progress", action="store_true")
  parser.add_argument(
    "--state-dtype",
    choices=["float32", "bfloat16", "float16"],
    default="float32",
    help="dtype of m and u in the optimizer state (not for optax)",
  )
  args = parser.parse_args(argv)

  names = [args.optimizer] if args.compare is None else (args.compare or list(OPTIMIZERS))
  if args.state_dtype != "float32" and "optax" in names:
    if args.compare != []:  # named explicitly, not as one of "all"
      parser.error("--state-dtype: optax.adamax keeps its state in float32")
    names.remove("optax")
  curves, results = {}, {}
  for name in names:
    start = time.perf_counter()
    _, losses, acc = train(
      name,
      epochs=args.epochs,
      batch_size=args.batch_size,
      lr=args.lr,
      seed=args.seed,
      progress=not args.no_progress,
      state_dtype=args.state_dtype,
    )
    curves[name] = losses
    results[name] = (float(np.mean(losses[-20:])), acc, time.perf_counter() - start)
  print(f"{'optimizer':>12}  final train loss  test accuracy  time")
  for name, (loss, acc, seconds) in results.items():
    print(f"{name:>12}  {loss:16.4f}  {acc:13.2%}  {seconds:4.1f} s")
  if args.compare is not None:
    plot_losses(curves, args.plot)
    print(f"loss curves written to {args.plot}")
  return results[names[0]][1] if len(names) == 1 else {n: r[1] for n, r in results.items()}


if __name__ == "__main__":
  main()
