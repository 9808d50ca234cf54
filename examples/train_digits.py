"""Train a small classifier on scikit-learn's bundled 8x8 digits with Adamax.

The data ships with scikit-learn (no download); a stratified quarter is held out for the
accuracy. The whole training step (forward, gradient, optimizer update) is one
``jax.jit``-compiled function. Run from the repository root:

    python examples/train_digits.py                     # the adamax_optax alias
    python examples/train_digits.py --optimizer torch   # PyTorch's Adamax, its defaults
    python examples/train_digits.py --compare           # all of them, loss curves to a PNG
    python examples/train_digits.py --compare mxnet keras --plot curves.png
    python examples/train_digits.py --compare --state-dtype bfloat16   # bfloat16 m and u
    python examples/train_digits.py --compare --param-dtype float16    # float16 weights

(``python -m examples.train_digits ...`` works too.) Each run prints a Markdown table:
final training loss, held-out accuracy, and the first step whose loss or weights were
NaN or inf, if any.
"""

from __future__ import annotations

import argparse
import itertools
import pathlib
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm import tqdm

import adamax_optax

if __package__:  # python -m examples.train_digits
  from examples import _digits
else:  # python examples/train_digits.py, which puts this folder on sys.path
  import _digits

# Each entry builds the optimizer from a learning rate, or with the framework's own
# default learning rate (and every other default) when it is None, and from the state
# dtypes (``mu_dtype``/``nu_dtype``, empty for the optimizer's own).
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
  "optax": lambda lr, **state: optax.adamax(lr or 0.002),  # its state follows the params
}
# The rows that are not a framework's defaults.
NOTES = {"adamax": "+ clip_value=5.0, weight_decay=1e-4"}

# Curves closer than this (relative) share a colour in the figure.
OVERLAP = 0.05
DEFAULT_PLOT = pathlib.Path(__file__).with_name("digits_loss_curves.png")  # git ignores it


def _lr(keyword: str, lr: float | None) -> dict:
  return {} if lr is None else {keyword: lr}


class Result(NamedTuple):
  losses: list[float]  # the training loss of every step
  final_loss: float  # the mean over the last 20 steps
  test_accuracy: float
  first_nonfinite: int | None  # the first step (from 1) with a NaN or inf loss or weight
  compile_seconds: float  # tracing and compiling the training step
  run_seconds: float  # the training itself, compiled


def train(
  optimizer_name: str,
  *,
  epochs: int,
  batch_size: int = _digits.BATCH_SIZE,
  lr: float | None = None,
  seed: int = 0,
  progress: bool = True,
  state_dtype: str | None = None,
  param_dtype: str = "float32",
) -> Result:
  """Trains the 64-128-64-10 MLP with one optimizer of :data:`OPTIMIZERS`.

  The step is compiled before the training starts, and the two are timed apart.
  """
  data = _digits.load_split(seed)
  x_train, x_test = (jnp.asarray(x, param_dtype) for x in (data.x_train, data.x_test))
  state = {} if state_dtype is None else {"mu_dtype": state_dtype, "nu_dtype": state_dtype}
  opt = OPTIMIZERS[optimizer_name](lr, **state)
  params = _digits.init_mlp(jax.random.key(seed), sizes=(64, 128, 64, 10))
  params = jax.tree.map(lambda p: p.astype(param_dtype), params)
  state = opt.init(params)
  loss_fn = lambda params, x, y: _digits.cross_entropies(params, x, y).mean()

  @jax.jit
  def step(params, state, x, y):
    loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
    updates, state = opt.update(grads, state, params)
    params = optax.apply_updates(params, updates)
    finite = jnp.isfinite(loss)
    for p in jax.tree.leaves(params):
      finite &= jnp.isfinite(p).all()
    return params, state, loss, finite

  steps_per_epoch = len(x_train) // batch_size
  start = time.perf_counter()
  first = np.arange(batch_size)  # every batch has this shape: one compilation serves all
  compiled = step.lower(params, state, x_train[first], data.y_train[first]).compile()
  compile_seconds = time.perf_counter() - start
  start = time.perf_counter()
  losses, finite = [], []
  bar = tqdm(range(epochs), desc=f"{optimizer_name:>12}", unit="epoch", disable=not progress)
  batches = _digits.batches(len(x_train), epochs * steps_per_epoch, batch_size, seed)
  for _ in bar:
    for batch in itertools.islice(batches, steps_per_epoch):
      params, state, loss, ok = compiled(params, state, x_train[batch], data.y_train[batch])
      losses.append(loss)
      finite.append(ok)
    # Read back once an epoch, so that the host does not wait for every step.
    losses[-steps_per_epoch:] = [float(v) for v in losses[-steps_per_epoch:]]
    bar.set_postfix(loss=f"{np.mean(losses[-steps_per_epoch:]):.4f}")
  bad = np.flatnonzero(~np.asarray(finite))
  run_seconds = time.perf_counter() - start
  accuracy = _digits.accuracy(lambda x: _digits.apply_mlp(params, x), x_test, data.y_test)
  return Result(
    losses,
    float(np.mean(losses[-20:])),
    accuracy,
    int(bad[0]) + 1 if len(bad) else None,
    compile_seconds,
    run_seconds,
  )


def warm_up(seed: int = 0) -> None:
  """Pays the process's one-time costs (starting JAX's backend and compiler, importing
  and reading scikit-learn's data) before any optimizer is timed, so that the first
  optimizer's seconds are its own."""
  data = _digits.load_split(seed)
  params = _digits.init_mlp(jax.random.key(seed), sizes=(64, 128, 64, 10))
  x, y = jnp.asarray(data.x_train[: _digits.BATCH_SIZE]), data.y_train[: _digits.BATCH_SIZE]
  loss_fn = lambda params: _digits.cross_entropies(params, x, y).mean()
  jax.block_until_ready(jax.jit(jax.value_and_grad(loss_fn))(params))


def overlapping(curves: dict[str, np.ndarray], rtol: float = OVERLAP) -> list[list[str]]:
  """Groups curves that stay within ``rtol`` of the group's first curve at every point,
  so that the figure can say which lines lie on top of each other."""
  groups: list[list[str]] = []
  for name, curve in curves.items():
    for group in groups:
      reference = curves[group[0]]
      if np.all(np.abs(curve - reference) <= rtol * np.abs(reference)):
        group.append(name)
        break
    else:
      groups.append([name])
  return groups


# The members of a group of overlapping curves, in order; no two alike (one dotted only).
LINE_STYLES = {
  "solid": "-",
  "dashed": "--",
  "dotted": ":",
  "dash-dot": "-.",
  "dash-dot-dot": (0, (5, 1, 1, 1, 1, 1)),
  "long dash": (0, (10, 3)),
  "long dash-dot": (0, (10, 2, 2, 2)),
}

LEGEND_HANDLE = 4.5  # font sizes: long enough to show each dash pattern whole


def plot_losses(curves: dict[str, list[float]], path, title: str, smoothing: int = 20) -> None:
  """Writes the training-loss curves (moving averages) to a PNG, in two panels (see
  :func:`draw_losses`)."""
  import matplotlib.pyplot as plt

  fig = draw_losses(curves, title, smoothing)
  fig.savefig(path, dpi=120, bbox_inches="tight")
  plt.close(fig)


def draw_losses(curves: dict[str, list[float]], title: str, smoothing: int = 20):
  """The figure of the training-loss curves (moving averages), in two panels.

  Presets with the same default learning rate differ only in their rounding, so their
  curves overlap: each group of overlapping curves gets one colour (a line style of
  :data:`LINE_STYLES` per member), and the lower panel shows each member's relative
  difference to the group's reference, drawn solid (optax's curve where it is in the
  group). The lower legend sits below the panel, where it hides no curve.
  """
  import matplotlib

  matplotlib.use("Agg")  # no display needed
  import matplotlib.pyplot as plt

  kernel = np.ones(smoothing) / smoothing
  # optax first, the rows with extra options last: a group's first curve is its reference.
  order = sorted(curves, key=lambda name: (name in NOTES, name != "optax"))
  smooth = {n: np.convolve(curves[n], kernel, mode="valid") for n in order}
  groups = overlapping(smooth)
  fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 8), sharex=True, height_ratios=(3, 2))
  styles = list(LINE_STYLES.values())
  colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
  for g, group in enumerate(groups):
    colour, reference = colours[g % len(colours)], smooth[group[0]]
    for i, name in enumerate(group):
      style = styles[i % len(styles)]
      label = f"{name} ({NOTES[name]})" if name in NOTES else name
      bad = np.flatnonzero(~np.isfinite(curves[name]))
      label += f" (NaN/inf loss from step {bad[0] + 1})" if len(bad) else ""
      top.plot(smooth[name], label=label, color=colour, linestyle=style, linewidth=1.3)
      if name != group[0]:
        difference = np.abs(smooth[name] - reference) / np.abs(reference)
        label = f"{name} vs {group[0]}" + (" (identical)" if not difference.any() else "")
        shown = np.where(difference > 0, difference, np.nan)  # log scale: no zeros
        bottom.plot(shown, label=label, color=colour, linestyle=style, linewidth=1.0)
  top.set_yscale("log")
  top.set_ylabel(f"training loss ({smoothing}-step moving average)")
  top.set_title(title, fontsize=10)
  top.legend(
    fontsize=8,
    handlelength=LEGEND_HANDLE,
    title=f"one colour: curves within {OVERLAP:.0%} of each other",
    title_fontsize=8,
  )
  bottom.set_yscale("log")
  bottom.set_xlabel("step")
  bottom.set_ylabel("relative difference to the\nsolid curve of its colour")
  bottom.set_ylim(bottom=1e-9)  # below that: the moving average's own float64 rounding
  fig.tight_layout()
  if bottom.lines:
    # Below the panel's step axis: inside, it would cover the curves it names.
    bottom.legend(
      fontsize=8,
      handlelength=LEGEND_HANDLE,
      ncol=3,
      loc="upper center",
      bbox_to_anchor=(0.5, -0.22),
    )
  else:
    bottom.text(0.5, 0.5, "no overlapping curves", ha="center", transform=bottom.transAxes)
  return fig


def print_table(results: dict[str, Result], refused: dict[str, str] | None = None) -> None:
  print("| optimizer | final train loss | held-out accuracy | first NaN/inf step |")
  print("|---|---:|---:|---:|")
  for name, r in results.items():
    nonfinite = "none" if r.first_nonfinite is None else str(r.first_nonfinite)
    print(f"| {name} | {r.final_loss:.4f} | {r.test_accuracy:.2%} | {nonfinite} |")
  for name, reason in (refused or {}).items():
    print(f"| {name} | refused: {reason} | | |")
  for name in results.keys() & NOTES.keys():
    print(f"{name}: the alias with defaults {NOTES[name]}")
  timings = (f"{n} {r.compile_seconds:.1f} + {r.run_seconds:.1f}" for n, r in results.items())
  print("seconds each, compile + run: " + ", ".join(timings))


def main(argv=None) -> dict[str, Result]:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adamax")
  parser.add_argument(
    "--compare",
    nargs="*",
    choices=sorted(OPTIMIZERS),
    metavar="NAME",
    help="train these optimizers side by side (all when no name is given) and plot them",
  )
  parser.add_argument(
    "--plot",
    type=pathlib.Path,
    default=None,
    help=f"write the loss curves to this PNG (with --compare, default {DEFAULT_PLOT})",
  )
  parser.add_argument("--epochs", type=int, default=30)
  parser.add_argument("--batch-size", type=int, default=_digits.BATCH_SIZE)
  parser.add_argument("--lr", type=float, default=None, help="default: each optimizer's own")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--no-progress", action="store_true")
  parser.add_argument(
    "--state-dtype",
    choices=["float32", "bfloat16", "float16"],
    default=None,
    help="dtype of m and u in the optimizer state (default: the params'; not for optax)",
  )
  parser.add_argument(
    "--param-dtype",
    choices=["float32", "bfloat16", "float16"],
    default="float32",
    help="dtype of the weights and of the forward and backward pass (the loss is float32)",
  )
  args = parser.parse_args(argv)

  names = [args.optimizer] if args.compare is None else (args.compare or list(OPTIMIZERS))
  if args.state_dtype is not None and "optax" in names:
    if args.compare != []:  # named explicitly, not as one of "all"
      parser.error("--state-dtype: optax.adamax keeps its state in the params' dtype")
    names.remove("optax")
  plot = args.plot or (DEFAULT_PLOT if args.compare is not None else None)
  results, refused = {}, {}
  warm_up(args.seed)
  for name in names:
    try:
      results[name] = train(
        name,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        progress=not args.no_progress,
        state_dtype=args.state_dtype,
        param_dtype=args.param_dtype,
      )
    except TypeError as error:  # a preset whose framework has no kernel for the dtype
      if args.compare is None:
        raise
      refused[name] = str(error).split(" (")[0]
  print_table(results, refused)
  if plot is not None:
    rate = "each one's default rate" if args.lr is None else f"rate {args.lr}"
    state = f", {args.state_dtype} m and u" if args.state_dtype else ""
    title = f"Adamax on the digits MLP: {rate}, {args.param_dtype} weights{state}"
    plot_losses({n: r.losses for n, r in results.items()}, plot, title)
    print(f"loss curves written to {plot}")
  return results


if __name__ == "__main__":
  main()
