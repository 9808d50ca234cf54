"""MindSpore's argument checks, with its ``Validator``'s messages (``For 'StepLR', the
'step_size' must be int, ...``), shared by the ``experimental`` and ``nn`` modules."""

import math

import numpy as np


def _check_int_type(cls: str, name: str, value) -> None:
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
    raise TypeError(f"For '{cls}', the '{name}' must be int, but got {type(value).__name__}.")


def check_int(cls: str, name: str, value, low: int) -> None:
  _check_int_type(cls, name, value)
  if value < low:
    raise ValueError(f"For '{cls}', the '{name}' must be an int >= {low}, but got {value}.")


def check_float(cls: str, name: str, value, low=-math.inf, high=math.inf, ints=False) -> None:
  kinds = (float, int, np.floating, np.integer) if ints else (float, np.floating)
  if isinstance(value, bool) or not isinstance(value, kinds):
    raise TypeError(
      f"For '{cls}', the '{name}' must be {'float or int' if ints else 'float'}, but got "
      f"{type(value).__name__}."
    )
  if not math.isfinite(float(value)) or not low <= float(value) <= high:
    raise ValueError(f"For '{cls}', the '{name}' must be in [{low}, {high}], but got {value}.")


def check_positive_int(fn: str, name: str, value) -> None:
  _check_int_type(fn, name, value)
  if value <= 0:
    raise ValueError(f"For '{fn}', the '{name}' must be a positive int (> 0), but got {value}.")


def check_nonnegative_float(fn: str, name: str, value, *, positive: bool) -> None:
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


def check_lr_range(fn: str, min_lr, max_lr) -> None:
  """MindSpore's cosine decays' ``min_lr`` below ``max_lr`` (each checked before)."""
  if min_lr >= max_lr:
    raise ValueError(
      f"For '{fn}', the 'max_lr' must be greater than the 'min_lr', but got 'max_lr' "
      f"value: {max_lr}, 'min_lr' value: {min_lr}."
    )


def check_bool(fn: str, name: str, value) -> None:
  if not isinstance(value, bool):
    raise TypeError(f"For '{fn}', the '{name}' must be bool, but got {type(value).__name__}.")
