"""What every framework's plateau scheduler reduces to on the host: its table of rates."""

from collections.abc import Callable, Sequence

import numpy as np

from adamax_optax.schedules._exact import ExactSchedule
from adamax_optax.schedules._replay import DOUBLE, Numbers


def reduction_levels(
  lr: float,
  *,
  factor: float,
  min_lr: float,
  lowers_enough: Callable[[object, object], bool],
  max_levels: int,
  numbers: Numbers = DOUBLE,
) -> list[float]:
  """The rate after ``k`` reductions at index ``k``, in the framework's numbers.

  Each reduction computes ``new = max(lr * factor, min_lr)`` and keeps it while
  ``lowers_enough(lr, new)`` (PyTorch and Paddle: ``lr - new > eps`` in doubles;
  MindSpore: ``lr > new + eps`` in float32); once a reduction is not kept, no later one
  is, so the table ends there. At most ``max_levels`` entries.

  Example:
    >>> from adamax_optax.schedules import reduction_levels
    >>> reduction_levels(1.0, factor=0.5, min_lr=0.2, max_levels=10,
    ...                  lowers_enough=lambda old, new: old - new > 1e-8)
    [1.0, 0.5, 0.25, 0.2]
  """
  old, floor = numbers.value(lr), numbers.value(min_lr)
  levels = [old]
  while len(levels) < max_levels:
    new = max(old * factor, floor)
    if not lowers_enough(old, new):
      break
    levels.append(new)
    old = new
  return [float(level) for level in levels]


def reduction_tables(
  lrs: Sequence[float],
  min_lr: float | Sequence[float],
  name: str,
  **rule,
) -> list[ExactSchedule]:
  """Per group, :func:`reduction_levels` from its ``lr`` and its ``min_lr`` (one number for
  every group, or a list with one per group) as an :class:`ExactSchedule` indexed by the
  reductions made. ``rule``: the keywords of :func:`reduction_levels` but ``min_lr``."""
  if isinstance(min_lr, (list, tuple)):
    if len(min_lr) != len(lrs):
      raise ValueError(f"Expected {len(lrs)} min_lrs, got {len(min_lr)}")
    min_lrs = list(min_lr)
  else:
    min_lrs = [min_lr] * len(lrs)
  return [
    ExactSchedule(np.asarray(reduction_levels(lr, min_lr=floor, **rule)), name)
    for lr, floor in zip(lrs, min_lrs, strict=True)
  ]
