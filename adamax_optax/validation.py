"""Construction-time checks shared by the alias and the presets.

Hyperparameters that are Python numbers are checked when the optimizer is built, with
a message naming the argument and the allowed range. Arrays and tracers (for example
under ``optax.inject_hyperparams``) cannot be checked without forcing a host sync, so
they pass through; schedules are called only inside ``update``.
"""

import functools
import math
import numbers
from collections.abc import Callable, Mapping, Sequence

import jax
import numpy as np


def is_concrete_array(value) -> bool:
  """True for a NumPy or JAX array whose values are known now (not a tracer)."""
  return isinstance(value, (np.ndarray, jax.Array)) and not isinstance(value, jax.core.Tracer)


def is_concrete_number(value) -> bool:
  """True for Python and NumPy scalars (not bool), and concrete 0-d arrays."""
  if isinstance(value, bool):
    return False
  if isinstance(value, numbers.Real):
    return True
  if is_concrete_array(value):
    return np.ndim(value) == 0 and np.issubdtype(np.asarray(value).dtype, np.number)
  return False


def is_python_number(value) -> bool:
  """True for Python and NumPy scalars (not bool): values that are never traced.

  A JAX array may be concrete when a factory is first called and a tracer when
  :func:`optax.inject_hyperparams` calls it again inside ``update``, so a chain's shape
  must only ever depend on values for which this is true.
  """
  return isinstance(value, (numbers.Real, np.number)) and not isinstance(value, (bool, np.bool_))


def is_static_zero(value) -> bool:
  """True for a Python or NumPy number equal to 0 (a stage it scales can be left out)."""
  return is_python_number(value) and float(value) == 0


def is_static_one(value) -> bool:
  """True for a Python or NumPy number equal to 1 (a stage it scales can be left out)."""
  return is_python_number(value) and float(value) == 1


def check_bool(name: str, value) -> None:
  """A flag keyword is a Python bool, or a TypeError naming it."""
  if not isinstance(value, bool):
    raise TypeError(f"{name} must be a bool, got {value!r}.")


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
    if _holds_arrays(value):  # the params, passed as PyTorch passes them
      raise TypeError(
        f"{name} must be {kinds}, got a {type(value).__name__} of arrays; if these are the "
        "parameters, pass them to opt.init(params), not to the optimizer."
      )
    raise TypeError(f"{name} must be {kinds}, got {type(value).__name__}: {_short(value)}.")


def _holds_arrays(value) -> bool:
  if not isinstance(value, (Mapping, list, tuple)):
    return False
  return any(isinstance(x, (np.ndarray, jax.Array)) and np.ndim(x) for x in jax.tree.leaves(value))


def _short(value) -> str:
  text = repr(value)
  return text if len(text) <= 80 else text[:77] + "..."


def renamed_keywords(**right_names: str) -> Callable:
  """A factory that answers a keyword from another framework with the right name.

  ``renamed_keywords(learning_rate="lr")`` makes ``torch_adamax(learning_rate=0.1)``
  raise a TypeError saying that the keyword is ``lr`` here, instead of Python's bare
  "unexpected keyword argument".
  """

  def decorate(factory: Callable) -> Callable:
    @functools.wraps(factory)
    def wrapped(*args, **kwargs):
      for wrong, right in right_names.items():
        if wrong in kwargs:
          raise TypeError(
            f"{factory.__name__}() takes {right}=, not {wrong}= (the keyword is the "
            f"framework's own): {factory.__name__}({right}={_short(kwargs[wrong])})."
          )
      return factory(*args, **kwargs)

    return wrapped

  return decorate


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


def check_adamax_hyperparameters(b1, b2, eps, names=("b1", "b2", "eps")) -> None:
  """The ranges in which the Adamax update is defined; ``names`` are the caller's.

  ``b1`` = 1 divides by a zero bias correction and ``eps`` < 0 can make the denominator
  0 or negative, so both are refused before any step runs.
  """
  check_range(names[0], b1, 0.0, 1.0, high_open=True)
  check_range(names[1], b2, 0.0, 1.0)
  check_range(names[2], eps, 0.0)


def check_framework_rule(
  name: str,
  value,
  rejects: Callable[[float], bool],
  message: str,
  *,
  allow_schedule: bool = False,
) -> None:
  """A framework's own range check, with its own wording, and no NaN or inf.

  The type is checked first (a TypeError naming ``name``); a concrete value with
  ``rejects(float(value))`` raises ``ValueError(message)``, the framework's text; a
  NaN or inf that the framework's check lets through raises a ValueError naming
  ``name``. Arrays under tracing and schedules pass.
  """
  check_numeric(name, value, allow_schedule=allow_schedule)
  if not is_concrete_number(value):
    return
  if rejects(float(value)):
    raise ValueError(message)
  if not math.isfinite(float(value)):
    raise ValueError(f"{name} must be finite, got {value!r}.")


def check_every(every) -> int:
  """``lr_scheduler_every``: updates per scheduler step, an int >= 1; None is 1.

  It is static: it fixes the scheduler's tables when the optimizer is built, so an array
  (what :func:`optax.inject_hyperparams` makes of an int it is given) is refused with a
  pointer to ``static_args``.
  """
  if every is None:
    return 1
  if isinstance(every, (np.ndarray, jax.Array)):
    raise ValueError(
      "lr_scheduler_every must be a Python int (it fixes the scheduler's tables when the "
      f"optimizer is built), got an array: {_short(every)}. Under optax.inject_hyperparams, "
      "list it in static_args: optax.inject_hyperparams(opt, static_args=('lr_scheduler', "
      "'lr_scheduler_every'))."
    )
  if isinstance(every, (bool, np.bool_)) or not isinstance(every, (int, np.integer)) or every < 1:
    raise ValueError(
      f"lr_scheduler_every must be an int >= 1 (updates per scheduler step), got {every!r}."
    )
  return int(every)


def check_horizon(horizon, owner: str = "") -> int:
  """A scheduler's ``horizon``: the updates it tabulates, an int >= 1."""
  return check_int("horizon", horizon, 1, owner)


def check_scheduler(scheduler, kinds: tuple[type, ...], module: str, example: str) -> None:
  """A preset's ``lr_scheduler``: one of ``kinds``, the schedulers of the framework's
  ``module`` (an optax schedule goes to ``lr`` instead)."""
  if not isinstance(scheduler, kinds):
    raise TypeError(
      f"lr_scheduler must be a scheduler from {module} (e.g. {example}), got "
      f"{type(scheduler).__name__}; an optax schedule goes to lr= instead."
    )


def check_scheduled_lrs(defaults: Mapping, param_groups, framework: str) -> None:
  """Each group's ``lr`` is a number when a framework scheduler sets the rate from it."""
  named = [("lr", defaults["lr"])] + [
    (f"param_groups[{i}]['lr']", g["lr"])
    for i, g in enumerate(param_groups or [])
    if isinstance(g, Mapping) and "lr" in g
  ]
  for name, value in named:
    if callable(value) or not is_concrete_number(value):
      raise TypeError(
        f"{name} must be a number when lr_scheduler is given (the scheduler sets the rate "
        f"from it, as {framework}'s does), got {_short(value)}."
      )


def is_python_int(value) -> bool:
  """True for Python and NumPy integers (not bool)."""
  return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_int(name: str, value, low: int = 1, owner: str = "") -> int:
  """An integer argument (not bool) ``>= low``, as a Python int."""
  if not is_python_int(value) or value < low:
    prefix = f"{owner}: " if owner else ""
    raise ValueError(f"{prefix}{name} must be an int >= {low}, got {value!r}.")
  return int(value)


def is_integer_number(value) -> bool:
  """True for Python and NumPy integers and bools (which frameworks' float checks refuse)."""
  return isinstance(value, (int, np.integer, np.bool_))


def check_pair(name: str, value) -> tuple:
  """``value`` as a 2-tuple, or a TypeError naming ``name``."""
  if isinstance(value, (np.ndarray, jax.Array)) and np.shape(value) == (2,):
    return tuple(value)  # an array pair, as torch.tensor([0.9, 0.999]) is accepted
  if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != 2:
    raise TypeError(f"{name} must be a pair (beta1, beta2), got {_short(value)}.")
  return tuple(value)


try:  # optax keeps its wording private; reuse it so users see the message they know.
  from optax._src.base import NO_PARAMS_MSG
except ImportError:  # pragma: no cover
  NO_PARAMS_MSG = (
    "You are using a transformation that requires the current value of parameters, "
    "but you are not passing `params` when calling `update`."
  )


def scheduled_value(name: str, schedule: Callable, count):
  """``schedule(count)``, which must be one number (a scalar), or a ValueError naming it.

  Called inside ``update`` (``count`` is usually traced, so the message shows it only when
  it is a concrete number).
  """
  value = schedule(count)
  if np.ndim(value) != 0:
    at_count = "" if isinstance(count, jax.core.Tracer) else f" at count {int(count)}"
    raise ValueError(
      f"The {name} schedule must return a scalar (one value for every parameter), got an "
      f"array of shape {np.shape(value)}{at_count}; return a number or a 0-d array (for "
      "per-parameter values, use parameter groups or a pytree of rates)."
    )
  return value


def require_params(params) -> None:
  """Raises optax's error when a stage that needs ``params`` gets ``None``."""
  if params is None:
    raise ValueError(NO_PARAMS_MSG)
