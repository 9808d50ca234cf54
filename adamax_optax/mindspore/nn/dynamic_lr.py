"""``mindspore.nn``'s dynamic learning-rate list builders (MindSpore 2.10), exactly.

Each returns a Python list of doubles, one per step, computed as MindSpore computes it
(``current_epoch = floor(i / step_per_epoch)``), to give as
``mindspore_nn_adamax(learning_rate=...)`` or a group's ``lr``. Which entry each update
uses, and past the list's end: the :doc:`MindSpore porting guide </porting/mindspore>`.
"""

import math
import operator
from collections.abc import Sequence

from adamax_optax.mindspore._checks import (
  check_bool,
  check_lr_range,
  check_nonnegative_float,
  check_positive_int,
)
from adamax_optax.mindspore.nn._decay import (
  Operations,
  exponential_decay,
  natural_exp_decay,
  polynomial_decay,
)

# The lists compute in Python's own arithmetic.
_DOUBLE = Operations(
  literal=lambda number: number, floor=math.floor, ceil=math.ceil, pow=operator.pow
)


def _epochs(total_step: int, step_per_epoch: int) -> list[int]:
  """MindSpore's ``current_epoch`` at each of the ``total_step`` steps."""
  return [math.floor(i / step_per_epoch) for i in range(total_step)]


def _check_counts(fn: str, **counts) -> None:
  """Each count an int >= 1, checked in the order given (MindSpore's)."""
  for name, value in counts.items():
    check_positive_int(fn, name, value)


def _check_decay(fn, learning_rate, decay_rate, total_step, step_per_epoch, decay_epoch, is_stair):
  _check_counts(fn, total_step=total_step, step_per_epoch=step_per_epoch, decay_epoch=decay_epoch)
  check_nonnegative_float(fn, "learning_rate", learning_rate, positive=True)
  check_nonnegative_float(fn, "decay_rate", decay_rate, positive=True)
  check_bool(fn, "is_stair", is_stair)


def piecewise_constant_lr(milestone: Sequence[int], learning_rates: Sequence[float]) -> list:
  """``learning_rates[i]`` for steps ``milestone[i-1] <= step < milestone[i]``.

  Args:
    milestone: increasing positive ints (the last is the list's length).
    learning_rates: floats, one per milestone.

  Example:
    >>> from adamax_optax.mindspore.nn import piecewise_constant_lr
    >>> piecewise_constant_lr([2, 5], [0.1, 0.05])
    [0.1, 0.1, 0.05, 0.05, 0.05]

  References:
    MindSpore 2.10 ``mindspore.nn.piecewise_constant_lr``.
  """
  for name, value in (("milestone", milestone), ("learning_rates", learning_rates)):
    if not isinstance(value, (tuple, list)):
      raise TypeError(
        f"For 'piecewise_constant_lr', the '{name}' must be tuple or list, but got "
        f"{type(value).__name__}."
      )
  if len(milestone) != len(learning_rates):
    raise ValueError(
      "For 'piecewise_constant_lr', the size of 'milestone' must be same with the size of "
      f"'learning_rates', but got 'milestone' size: {len(milestone)}, 'learning_rates' size: "
      f"{len(learning_rates)}."
    )
  lr: list = []
  last = 0
  for i, item in enumerate(milestone):
    check_positive_int("piecewise_constant_lr", f"milestone[{i}]", item)
    if isinstance(learning_rates[i], bool) or not isinstance(learning_rates[i], float):
      raise TypeError(
        f"For 'piecewise_constant_lr', the 'learning_rates[{i}]' must be float, but got "
        f"{type(learning_rates[i]).__name__}."
      )
    if item < last:
      raise ValueError(
        f"For 'piecewise_constant_lr', the value of milestone[{i}] must be greater than "
        f"milestone[{i - 1}], but got milestone[{i}]: {item}, milestone[{i - 1}]: {last}."
      )
    lr += [learning_rates[i]] * (item - last)
    last = item
  return lr


def exponential_decay_lr(
  learning_rate: float,
  decay_rate: float,
  total_step: int,
  step_per_epoch: int,
  decay_epoch: int,
  is_stair: bool = False,
) -> list:
  """``learning_rate * decay_rate ** (epoch / decay_epoch)`` (exponent floored if ``is_stair``).

  Example:
    >>> from adamax_optax.mindspore.nn import exponential_decay_lr
    >>> exponential_decay_lr(1.0, 0.5, 4, 1, 1)
    [1.0, 0.5, 0.25, 0.125]

  References:
    MindSpore 2.10 ``mindspore.nn.exponential_decay_lr``.
  """
  fn = "exponential_decay_lr"
  _check_decay(fn, learning_rate, decay_rate, total_step, step_per_epoch, decay_epoch, is_stair)
  return [
    exponential_decay(_DOUBLE, learning_rate, decay_rate, epoch, decay_epoch, is_stair)
    for epoch in _epochs(total_step, step_per_epoch)
  ]


def natural_exp_decay_lr(
  learning_rate: float,
  decay_rate: float,
  total_step: int,
  step_per_epoch: int,
  decay_epoch: int,
  is_stair: bool = False,
) -> list:
  """``learning_rate * e ** (-decay_rate * x)``, ``x`` the epoch (floored to a multiple of
  ``decay_epoch`` if ``is_stair``).

  Example:
    >>> from adamax_optax.mindspore.nn import natural_exp_decay_lr
    >>> [round(v, 4) for v in natural_exp_decay_lr(1.0, 1.0, 3, 1, 1)]
    [1.0, 0.3679, 0.1353]

  References:
    MindSpore 2.10 ``mindspore.nn.natural_exp_decay_lr``.
  """
  fn = "natural_exp_decay_lr"
  _check_decay(fn, learning_rate, decay_rate, total_step, step_per_epoch, decay_epoch, is_stair)
  return [
    natural_exp_decay(_DOUBLE, learning_rate, decay_rate, epoch, decay_epoch, is_stair)
    for epoch in _epochs(total_step, step_per_epoch)
  ]


def inverse_decay_lr(
  learning_rate: float,
  decay_rate: float,
  total_step: int,
  step_per_epoch: int,
  decay_epoch: int,
  is_stair: bool = False,
) -> list:
  """``learning_rate / (1 + decay_rate * epoch / decay_epoch)`` (quotient floored if
  ``is_stair``).

  Example:
    >>> from adamax_optax.mindspore.nn import inverse_decay_lr
    >>> inverse_decay_lr(1.0, 1.0, 3, 1, 1)
    [1.0, 0.5, 0.3333333333333333]

  References:
    MindSpore 2.10 ``mindspore.nn.inverse_decay_lr``.
  """
  fn = "inverse_decay_lr"
  _check_decay(fn, learning_rate, decay_rate, total_step, step_per_epoch, decay_epoch, is_stair)
  # Not InverseDecayLR's formula: ``decay_rate * epoch`` is multiplied first, and the
  # quotient is a true division (the cell multiplies by a float32 reciprocal).
  if is_stair:
    return [
      learning_rate / (1 + decay_rate * math.floor(epoch / decay_epoch))
      for epoch in _epochs(total_step, step_per_epoch)
    ]
  return [
    learning_rate / (1 + decay_rate * epoch / decay_epoch)
    for epoch in _epochs(total_step, step_per_epoch)
  ]


def cosine_decay_lr(
  min_lr: float, max_lr: float, total_step: int, step_per_epoch: int, decay_epoch: int
) -> list:
  """``min_lr + 0.5 (max_lr - min_lr) (1 + cos(pi min(epoch, decay_epoch) / decay_epoch))``.

  Example:
    >>> from adamax_optax.mindspore.nn import cosine_decay_lr
    >>> [round(v, 4) for v in cosine_decay_lr(0.0, 1.0, 4, 1, 2)]
    [1.0, 0.5, 0.0, 0.0]

  References:
    MindSpore 2.10 ``mindspore.nn.cosine_decay_lr``.
  """
  fn = "cosine_decay_lr"
  check_nonnegative_float(fn, "min_lr", min_lr, positive=False)
  check_nonnegative_float(fn, "max_lr", max_lr, positive=True)
  _check_counts(fn, total_step=total_step, step_per_epoch=step_per_epoch, decay_epoch=decay_epoch)
  check_lr_range(fn, min_lr, max_lr)
  # Not CosineDecayLR's formula: the cell computes ``sin(pi (p / decay_steps + 0.5))``.
  delta = 0.5 * (max_lr - min_lr)
  return [
    min_lr + delta * (1 + math.cos(math.pi * min(epoch, decay_epoch) / decay_epoch))
    for epoch in _epochs(total_step, step_per_epoch)
  ]


def polynomial_decay_lr(
  learning_rate: float,
  end_learning_rate: float,
  total_step: int,
  step_per_epoch: int,
  decay_epoch: int,
  power: float,
  update_decay_epoch: bool = False,
) -> list:
  """``(learning_rate - end) * (1 - t / D) ** power + end``.

  ``t = min(epoch, decay_epoch)`` and ``D = decay_epoch``; with ``update_decay_epoch``,
  ``t = epoch`` and ``D = decay_epoch * max(ceil(epoch / decay_epoch), 1)``.

  Example:
    >>> from adamax_optax.mindspore.nn import polynomial_decay_lr
    >>> polynomial_decay_lr(1.0, 0.0, 4, 1, 2, 1.0)
    [1.0, 0.5, 0.0, 0.0]

  References:
    MindSpore 2.10 ``mindspore.nn.polynomial_decay_lr``.
  """
  fn = "polynomial_decay_lr"
  check_nonnegative_float(fn, "learning_rate", learning_rate, positive=True)
  check_nonnegative_float(fn, "end_learning_rate", end_learning_rate, positive=False)
  check_nonnegative_float(fn, "power", power, positive=True)
  _check_counts(fn, total_step=total_step, step_per_epoch=step_per_epoch, decay_epoch=decay_epoch)
  check_bool(fn, "update_decay_epoch", update_decay_epoch)
  delta = learning_rate - end_learning_rate
  return [
    polynomial_decay(
      _DOUBLE, delta, end_learning_rate, epoch, decay_epoch, power, update_decay_epoch
    )
    for epoch in _epochs(total_step, step_per_epoch)
  ]


def warmup_lr(
  learning_rate: float, total_step: int, step_per_epoch: int, warmup_epoch: int
) -> list:
  """``learning_rate * min(epoch, warmup_epoch) / warmup_epoch``.

  Example:
    >>> from adamax_optax.mindspore.nn import warmup_lr
    >>> warmup_lr(1.0, 4, 1, 2)
    [0.0, 0.5, 1.0, 1.0]

  References:
    MindSpore 2.10 ``mindspore.nn.warmup_lr``.
  """
  fn = "warmup_lr"
  check_nonnegative_float(fn, "learning_rate", learning_rate, positive=False)
  _check_counts(fn, warmup_epoch=warmup_epoch, total_step=total_step, step_per_epoch=step_per_epoch)
  # Not WarmUpLR's formula: ``learning_rate * epoch`` is multiplied first.
  return [
    learning_rate * min(epoch, warmup_epoch) / warmup_epoch
    for epoch in _epochs(total_step, step_per_epoch)
  ]


__all__ = [
  "cosine_decay_lr",
  "exponential_decay_lr",
  "inverse_decay_lr",
  "natural_exp_decay_lr",
  "piecewise_constant_lr",
  "polynomial_decay_lr",
  "warmup_lr",
]
