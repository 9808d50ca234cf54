"""Draws where the four epsilon placements of ``scale_by_adamax`` part ways.

A parameter whose gradient is the same constant ``g`` at every step, for gradients from
1e-12 to 1: the size of the Adamax direction ``m_hat / u`` (the update divided by the
learning rate) after the first step and after 1,000 steps, for each ``eps_placement`` with
the common defaults (b1=0.9, b2=0.999, eps=1e-8). The placements agree for gradients well
above epsilon and part where the gradient is near it; Paddle's ``max_norm`` adds epsilon to
the decayed norm at every step, so there it grows towards ``eps / (1 - b2)`` and the
direction shrinks for gradients up to about 1e-5. For a constant gradient ``denominator``
and ``max_grad`` give the same direction (``m / (|g| + eps)`` both).

Run from the repository root; the documentation build runs it:

  python docs/figures/eps_placements.py docs/figures/generated/eps_placements.png
"""

import argparse
import pathlib

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")  # no display: the figure goes to a file
import matplotlib.pyplot as plt

from adamax_optax import scale_by_adamax

PLACEMENTS = ("none", "denominator", "max_grad", "max_norm")
WHO_USES_IT = {
  "none": "none (the paper, MXNet 1.x)",
  "denominator": "denominator (MXNet 2.0, MindSpore nn, Keras)",
  "max_grad": "max_grad (optax, PyTorch, MindSpore experimental)",
  "max_norm": "max_norm (Paddle)",
}
# denominator and max_grad coincide for a constant gradient: dashes keep both visible.
LINE_STYLES = {"none": "-", "denominator": "-", "max_grad": "--", "max_norm": "-"}
STEPS_SHOWN = (1, 1000)


def directions(eps_placement, gradients, steps):
  """|m_hat / u| after each of ``steps`` updates with the constant ``gradients``."""
  transform = scale_by_adamax(eps_placement=eps_placement)

  def one_step(state, _):
    direction, state = transform.update(gradients, state)
    return state, jnp.abs(direction)

  _, history = jax.lax.scan(one_step, transform.init(gradients), length=steps)
  return history


def draw(path):
  gradients = jnp.logspace(-12, 0, 241, dtype=jnp.float32)
  history = {p: directions(p, gradients, max(STEPS_SHOWN)) for p in PLACEMENTS}
  figure, axes = plt.subplots(1, len(STEPS_SHOWN), figsize=(10, 4.6), sharey=True)
  for axis, step in zip(axes, STEPS_SHOWN, strict=True):
    for placement in PLACEMENTS:
      axis.plot(
        gradients,
        history[placement][step - 1],
        LINE_STYLES[placement],
        label=WHO_USES_IT[placement],
      )
    axis.axvline(1e-8, color="grey", linewidth=0.8, linestyle=":")
    axis.set_xscale("log")
    axis.set_title(f"after {step:,} step{'s' if step > 1 else ''} of a constant gradient")
    axis.set_xlabel("|gradient| (eps = 1e-8 dotted)")
  axes[0].set_ylabel("|update| / learning rate")
  handles, labels = axes[0].get_legend_handles_labels()
  figure.legend(handles, labels, loc="lower center", ncol=2, fontsize=9)
  figure.tight_layout(rect=(0, 0.12, 1, 1))  # room for the legend below the panels
  path.parent.mkdir(parents=True, exist_ok=True)
  figure.savefig(path, dpi=110)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("path", type=pathlib.Path, help="where to write the PNG")
  draw(parser.parse_args().path)


if __name__ == "__main__":
  main()
