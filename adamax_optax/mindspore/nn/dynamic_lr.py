"""``mindspore.nn``'s dynamic learning-rate list builders (MindSpore 2.10), exactly.

Each returns a Python list of doubles, one per step, computed in Python's double
arithmetic as MindSpore does (``current_epoch = floor(i / step_per_epoch)``). Pass the
list as ``mindspore_nn_adamax(learning_rate=...)`` (or a group's ``lr``): update ``t``
uses entry ``t - 1``, rounded to float32. (MindSpore raises once the list runs out; the
preset keeps the last value.)
"""

import math
from collections.abc import Sequence

import numpy as np


def _positive_int(fn: str, name: str, value) -> None:
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
    raise TypeError(f"For '{fn}', the '{name}' must be int, but got {type(value).__name__}.")
  if value <= 0:
    raise ValueError(f"For '{fn}', the '{name}' must be a positive int (> 0), but got {value}.")


def _check_step_counts(fn: str, total_step, step_per_epoch, decay_epoch) -> None:
  """The three counts every decay list takes, each an int >= 1."""
  for name, value in (
    ("total_step", total_step),
    ("step_per_epoch", step_per_epoch),
    ("decay_epoch", decay_epoch),
  ):
    _positive_int(fn, name, value)


def _float(fn: str, name: str, value, *, positive: bool) -> None:
  if isinstance(value, bool) or not isinstance(value, (float, np.floating)):
    raise TypeError(
      f"For '{fn}', the '{name}' must be float, but got {type(value).__name__}: {value!r}."
    )
  v = float(value)
  if not math.isfinite(v) or (v <= 0 if positive else v < 0):
    raise ValueError(
      f"For '{fn}', the '{name}' must be {'> 0' if positive else '>= 0'} and finite, but got "
      f"{value}."
    )


def _check_decay(fn, learning_rate, decay_rate, total_step, step_per_epoch, decay_epoch, is_stair):
  _positive_int(fn, "total_step", total_step)
  _positive_int(fn, "step_per_epoch", step_per_epoch)
  _positive_int(fn, "decay_epoch", decay_epoch)
  _float(fn, "learning_rate", learning_rate, positive=True)
  _float(fn, "decay_rate", decay_rate, positive=True)
  if not isinstance(is_stair, bool):
    raise TypeError(f"For '{fn}', the 'is_stair' must be bool, but got {type(is_stair).__name__}.")


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
    _positive_int("piecewise_constant_lr", f"milestone[{i}]", item)
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
  _check_decay(
    "exponential_decay_lr",
    learning_rate,
    decay_rate,
    total_step,
    step_per_epoch,
    decay_epoch,
    is_stair,
  )
  out = []
  for i in range(total_step):
    epoch = math.floor(i / step_per_epoch)
    exponent = math.floor(epoch / decay_epoch) if is_stair else epoch / decay_epoch
    out.append(learning_rate * decay_rate**exponent)
  return out


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
  _check_decay(
    "natural_exp_decay_lr",
    learning_rate,
    decay_rate,
    total_step,
    step_per_epoch,
    decay_epoch,
    is_stair,
  )
  out = []
  for i in range(total_step):
    x = math.floor(i / step_per_epoch)
    if is_stair:
      x = math.floor(x / decay_epoch) * decay_epoch
    out.append(learning_rate * math.e ** (-decay_rate * x))
  return out


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
  _check_decay(
    "inverse_decay_lr", learning_rate, decay_rate, total_step, step_per_epoch, decay_epoch, is_stair
  )
  out = []
  for i in range(total_step):
    epoch = math.floor(i / step_per_epoch)
    if is_stair:
      out.append(learning_rate / (1 + decay_rate * math.floor(epoch / decay_epoch)))
    else:
      out.append(learning_rate / (1 + decay_rate * epoch / decay_epoch))
  return out


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
  _float(fn, "min_lr", min_lr, positive=False)
  _float(fn, "max_lr", max_lr, positive=True)
  _check_step_counts(fn, total_step, step_per_epoch, decay_epoch)
  if min_lr >= max_lr:
    raise ValueError(
      "For 'cosine_decay_lr', the 'max_lr' must be greater than the 'min_lr', but got "
      f"'max_lr' value: {max_lr}, 'min_lr' value: {min_lr}."
    )
  delta = 0.5 * (max_lr - min_lr)
  out = []
  for i in range(total_step):
    epoch = min(math.floor(i / step_per_epoch), decay_epoch)
    out.append(min_lr + delta * (1 + math.cos(math.pi * epoch / decay_epoch)))
  return out


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
  _float(fn, "learning_rate", learning_rate, positive=True)
  _float(fn, "end_learning_rate", end_learning_rate, positive=False)
  _float(fn, "power", power, positive=True)
  _check_step_counts(fn, total_step, step_per_epoch, decay_epoch)
  if not isinstance(update_decay_epoch, bool):
    raise TypeError(
      f"For '{fn}', the 'update_decay_epoch' must be bool, but got "
      f"{type(update_decay_epoch).__name__}."
    )
  delta = learning_rate - end_learning_rate
  out = []
  for i in range(total_step):
    epoch = math.floor(i / step_per_epoch)
    if update_decay_epoch:
      span, t = decay_epoch * max(math.ceil(epoch / decay_epoch), 1), epoch
    else:
      span, t = decay_epoch, min(decay_epoch, epoch)
    out.append(delta * (1 - t / span) ** power + end_learning_rate)
  return out


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
  _float(fn, "learning_rate", learning_rate, positive=False)
  for name, value in (
    ("warmup_epoch", warmup_epoch),
    ("total_step", total_step),
    ("step_per_epoch", step_per_epoch),
  ):
    _positive_int(fn, name, value)
  out = []
  for i in range(total_step):
    epoch = min(math.floor(i / step_per_epoch), warmup_epoch)
    out.append(learning_rate * epoch / warmup_epoch)
  return out


__all__ = [
  "cosine_decay_lr",
  "exponential_decay_lr",
  "inverse_decay_lr",
  "natural_exp_decay_lr",
  "piecewise_constant_lr",
  "polynomial_decay_lr",
  "warmup_lr",
]
