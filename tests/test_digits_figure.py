"""The figure of ``examples/train_digits.py --compare``: every curve can be told apart and
no legend hides one (drawn from made-up curves: no training)."""

import sys

import numpy as np
import pytest
from test_examples import ROOT

pytest.importorskip("matplotlib")
if str(ROOT) not in sys.path:
  sys.path.insert(0, str(ROOT))
from examples import train_digits


def made_up_curves(steps=700):
  """Curves grouped as the real run groups them: six within 5% of optax's, three of
  mindspore_nn's, each with its own small offset."""
  t = np.arange(1, steps + 1)
  fast, slow = 2.3 * t**-0.4, 2.3 * t**-0.3
  names = ["optax", "mxnet", "mxnet1", "mindspore", "torch", "adamax"]
  curves = {name: fast * (1 + 1e-4 * i) for i, name in enumerate(names)}
  curves.update(
    {n: slow * (1 + 1e-4 * i) for i, n in enumerate(["mindspore_nn", "keras", "paddle"])}
  )
  return curves


@pytest.fixture(scope="module")
def figure():
  import matplotlib.pyplot as plt

  fig = train_digits.draw_losses(made_up_curves(), "made-up curves")
  fig.canvas.draw()
  yield fig
  plt.close(fig)


def dash_pattern(line):
  """The line's (offset, on-off lengths) in line widths; matplotlib has no public getter
  (``get_linestyle`` says "--" for every dashed pattern)."""
  return line._unscaled_dash_pattern


def is_dotted(line) -> bool:
  _offset, on_off = dash_pattern(line)
  return on_off is not None and max(on_off[0::2]) <= 1.5  # dots only, no dash


def test_each_difference_curve_has_its_own_colour_and_style(figure):
  bottom = figure.axes[1]
  looks = [(line.get_color(), repr(dash_pattern(line))) for line in bottom.lines]
  assert len(bottom.lines) == 7  # every curve but the two groups' references
  assert len(set(looks)) == len(looks), looks
  # Two patterns of dots (":" and a sparser one) look alike at this size: one per colour.
  dotted = [line.get_color() for line in bottom.lines if is_dotted(line)]
  assert len(set(dotted)) == len(dotted), [line.get_label() for line in bottom.lines]


def test_the_lower_legend_covers_no_curve(figure):
  bottom = figure.axes[1]
  legend, panel = bottom.get_legend().get_window_extent(), bottom.get_window_extent()
  assert not legend.overlaps(panel)
