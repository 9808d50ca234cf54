"""What ``mindspore.nn``'s two forms of a decay share: argument checks and formulas.

MindSpore writes each decay twice: a list builder (:mod:`.dynamic_lr`) in Python doubles
over the epoch, and a ``LearningRateSchedule`` cell (:mod:`.learning_rate_schedule`) in
float32 kernels over ``global_step``. Where its two expressions are the same, the formula
is written once here, and each form evaluates it over its own numbers and
:class:`Operations`: Python numbers and Python's operations for the lists; NumPy float32
scalars, float32 operations and glibc's ``powf`` for the cells. Inverse time, cosine and
warmup are written in each form: MindSpore's two expressions differ.
"""

import math
from collections.abc import Callable
from typing import NamedTuple


class Operations(NamedTuple):
  """How a form computes, beyond its numbers' ``+ - * /``, ``min`` and ``max``."""

  literal: Callable  # what a number written in the formula becomes
  floor: Callable
  ceil: Callable
  pow: Callable


def exponential_decay(ops: Operations, learning_rate, decay_rate, x, decay_span, is_stair):
  """``learning_rate * decay_rate ** p``, ``p = x / decay_span`` (floored if ``is_stair``)."""
  p = x / decay_span
  if is_stair:
    p = ops.floor(p)
  return learning_rate * ops.pow(decay_rate, p)


def natural_exp_decay(ops: Operations, learning_rate, decay_rate, x, decay_span, is_stair):
  """``learning_rate * e ** (-decay_rate * x)``, ``x`` floored to a multiple of
  ``decay_span`` if ``is_stair``."""
  if is_stair:
    x = ops.floor(x / decay_span) * decay_span
  return learning_rate * ops.pow(math.e, -decay_rate * x)


def polynomial_decay(ops: Operations, delta, end, x, decay_span, power, update_span):
  """``delta * (1 - x / D) ** power + end``, with ``x`` capped at ``D = decay_span``, or
  (``update_span``) ``D = decay_span * max(ceil(x / decay_span), 1)``."""
  one = ops.literal(1)
  if update_span:
    decay_span = decay_span * max(ops.ceil(x / decay_span), one)
  else:
    x = min(decay_span, x)
  return delta * ops.pow(one - x / decay_span, power) + end
