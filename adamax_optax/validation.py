"""Construction-time checks shared by the alias and the presets.

Hyperparameters that are Python numbers are checked when the optimizer is built, with
a message naming the argument and the allowed range. Arrays and tracers (for example
under ``optax.inject_hyperparams``) cannot be checked without forcing a host sync, so
they pass through; schedules are called only inside ``update``.
"""

from __future__ import annotations

import math
import numbers

import jax
import numpy as np


def is_concrete_number(value) -> bool:
  """True for Python and NumPy scalars (not bool), and concrete 0-d arrays."""
  if isinstance(value, bool):
    return False
  if isinstance(value, numbers.Real):
    return True
  if isinstance(value, (np.ndarray, jax.Array)) and not isinstance(value, jax.core.Tracer):
    return np.ndim(value) == 0 and np.issubdtype(np.asarray(value).dtype, np.number)
  return False


def check_numeric(name: str, value, *, allow_schedule: bool = False) -> None:
  """Rejects values that are neither numbers, arrays nor (if allowed) schedules."""
  if allow_schedule and callable(value):
    return
  if isinstance(value, jax.core.Tracer):
    return
  if isinstance(value, (np.ndarray, jax.Array)):
    if np.ndim(value) != 0:
      raise ValueError(f"{name} must be a scalar, got an array of shape {np.shape(value)}.")
    return
  if isinstance(value, bool) or not isinstance(value, numbers.Real):
    kinds = "a number, a 0-d array or an optax schedule" if allow_schedule else "a number"
    raise TypeError(f"{name} must be {kinds}, got {type(value).__name__}: {value!r}.")


def check_range(
  name: str,
  value,
  low: float = -math.inf,
  high: float = math.inf,
  *,
  low_open: bool = False,
  high_open: bool = False,
  allow_schedule: bool = False,
) -> None:
  """Checks a numeric hyperparameter against an interval, naming both in the error."""
  check_numeric(name, value, allow_schedule=allow_schedule)
  if not is_concrete_number(value):
    return
  v = float(value)
  interval = (
    f"{'(' if low_open or math.isinf(low) else '['}{low}, "
    f"{high}{')' if high_open or math.isinf(high) else ']'}"
  )
  if not math.isfinite(v):
    raise ValueError(f"{name} must be a finite number in {interval}, got {value!r}.")
  below = v <= low if low_open else v < low
  above = v >= high if high_open else v > high
  if below or above:
    raise ValueError(f"{name} must be in {interval}, got {value!r}.")


try:  # optax keeps its wording private; reuse it so users see the message they know.
  from optax._src.base import NO_PARAMS_MSG
except ImportError:  # pragma: no cover
  NO_PARAMS_MSG = (
    "You are using a transformation that requires the current value of parameters, "
    "but you are not passing `params` when calling `update`."
  )


def require_params(params) -> None:
  """Raises optax's error when a stage that needs ``params`` gets ``None``."""
  if params is None:
    raise ValueError(NO_PARAMS_MSG)
