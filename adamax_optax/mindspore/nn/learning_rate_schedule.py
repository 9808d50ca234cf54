"""``mindspore.nn``'s ``LearningRateSchedule`` cells (MindSpore 2.10), bit for bit.

Each cell computes MindSpore's float32 expression op by op on the host and is an optax
schedule ``count -> lr``: ``mindspore_nn_adamax(learning_rate=...)``, a group's ``lr``, or
any optax optimizer. Every class takes a keyword-only ``horizon`` (default 1,000,000),
the steps tabulated at the first call. Counting and horizons: the
:doc:`MindSpore porting guide </porting/mindspore>` and :doc:`/schedules`.
"""

import math

import jax
import numpy as np

from adamax_optax._float32 import F32, powf, powf_each, rdiv, sinf
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
from adamax_optax.schedules import DEFAULT_HORIZON, ExactSchedule
from adamax_optax.validation import check_horizon

_PI = F32(math.pi)

# Steps computed at once while tabulating (a decay that underflows stops at the chunk).
_CHUNK = 2**16

# The cells compute on float32 scalars (every argument of a formula is one), as MindSpore's
# float32 kernels do; Pow is glibc's powf.
_FLOAT32 = Operations(literal=F32, floor=np.floor, ceil=np.ceil, pow=powf)
# The same on float32 arrays of steps (LearningRateSchedule._values).
_FLOAT32_ARRAYS = Operations(literal=F32, floor=np.floor, ceil=np.ceil, pow=powf_each)


class LearningRateSchedule:
  """Base class: ``value(step)`` in MindSpore's float32, tabulated into an ExactSchedule."""

  def __init__(self, *, horizon: int = DEFAULT_HORIZON):
    self.horizon = check_horizon(horizon, type(self).__name__)
    self._table: ExactSchedule | None = None

  def _last_changing_step(self) -> int | None:
    """The step after which the value never changes (None: it may change forever)."""
    return None

  def _zero_is_final(self) -> bool:
    """Whether a value of exactly 0 stays 0 at every later step (a decay to underflow)."""
    return False

  def value(self, step: int) -> np.float32:
    """MindSpore's float32 value at ``global_step == step`` (computed on the host)."""
    raise NotImplementedError

  def _values(self, start: int, stop: int) -> np.ndarray | None:
    """:meth:`value` of steps ``start, ..., stop - 1`` at once, as a float32 array, where
    a cell computes them so (NumPy's float32 ``+ - * /`` and ``floor`` on arrays round
    as on scalars); ``None`` (the default): a :meth:`value` call per step."""
    return None

  @property
  def schedule(self) -> ExactSchedule:
    """The tabulated :class:`ExactSchedule` (built on first use)."""
    if self._table is None:
      n = self.horizon
      end = self._last_changing_step()
      ended = end is not None and end + 1 <= n  # the last value holds from the end on
      if end is not None:
        n = min(n, end + 1)
      values = np.zeros(n, np.float32)
      stop_at_zero = self._zero_is_final()
      for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        chunk = self._values(start, stop)
        if chunk is None:
          chunk = np.array([self.value(k) for k in range(start, stop)], np.float32)
        values[start:stop] = chunk
        zeros = np.flatnonzero(chunk == 0) if stop_at_zero else ()
        if len(zeros):
          values[start + zeros[0] :] = 0  # underflowed: 0 from here on
          ended = True
          break
      if not ended:  # cut by the horizon: a NaN rate past it, not a held wrong one
        values = np.append(values, np.float32(np.nan))
      self._table = ExactSchedule(values, type(self).__name__)
    return self._table

  def __call__(self, count: jax.typing.ArrayLike) -> jax.Array:
    """The float32 learning rate of the update at optax ``count`` (global_step ``count``)."""
    return self.schedule(count)

  def value_at(self, count: int) -> float:
    return self.schedule.value_at(count)


class _DecayLR(LearningRateSchedule):
  def __init__(
    self,
    learning_rate: float,
    decay_rate: float,
    decay_steps: int,
    is_stair: bool = False,
    *,
    horizon: int = DEFAULT_HORIZON,
  ):
    cls = type(self).__name__
    check_positive_int(cls, "decay_steps", decay_steps)
    check_nonnegative_float(cls, "learning_rate", learning_rate, positive=True)
    check_nonnegative_float(cls, "decay_rate", decay_rate, positive=True)
    check_bool(cls, "is_stair", is_stair)
    self.learning_rate, self.decay_rate = float(learning_rate), float(decay_rate)
    self.decay_steps, self.is_stair = int(decay_steps), is_stair
    super().__init__(horizon=horizon)


class ExponentialDecayLR(_DecayLR):
  r"""MindSpore's ``nn.ExponentialDecayLR``: ``lr * powf(decay_rate, step / decay_steps)``.

  ``p`` is a float32 quotient, floored when ``is_stair``; ``powf`` is glibc's.

  Args:
    learning_rate: float > 0.
    decay_rate: float > 0.
    decay_steps: int > 0.
    is_stair: bool, default False.
    horizon: steps tabulated.

  Example:
    >>> from adamax_optax.mindspore.nn import ExponentialDecayLR
    >>> sched = ExponentialDecayLR(0.1, 0.5, 2, is_stair=True, horizon=8)
    >>> [round(float(sched(n)), 4) for n in range(5)]
    [0.1, 0.1, 0.05, 0.05, 0.025]

  References:
    MindSpore 2.10 ``mindspore.nn.ExponentialDecayLR``.
  """

  def _zero_is_final(self):
    return self.decay_rate < 1.0

  def value(self, step):
    lr, rate, span = F32(self.learning_rate), F32(self.decay_rate), F32(self.decay_steps)
    return exponential_decay(_FLOAT32, lr, rate, F32(step), span, self.is_stair)

  def _values(self, start, stop):
    lr, rate, span = F32(self.learning_rate), F32(self.decay_rate), F32(self.decay_steps)
    steps = np.arange(start, stop).astype(np.float32)
    return exponential_decay(_FLOAT32_ARRAYS, lr, rate, steps, span, self.is_stair)


class NaturalExpDecayLR(_DecayLR):
  r"""MindSpore's ``nn.NaturalExpDecayLR``: ``lr * powf(e, -decay_rate * p)``.

  ``p`` is the float32 step, ``floor(step / decay_steps) * decay_steps`` when
  ``is_stair``.

  Args:
    learning_rate: float > 0.
    decay_rate: float > 0.
    decay_steps: int > 0.
    is_stair: bool, default False.
    horizon: steps tabulated.

  Example:
    >>> from adamax_optax.mindspore.nn import NaturalExpDecayLR
    >>> sched = NaturalExpDecayLR(0.1, 0.5, 2, horizon=8)
    >>> round(float(sched(2)), 6)
    0.036788

  References:
    MindSpore 2.10 ``mindspore.nn.NaturalExpDecayLR``.
  """

  def _zero_is_final(self):
    return True

  def value(self, step):
    lr, rate, span = F32(self.learning_rate), F32(self.decay_rate), F32(self.decay_steps)
    return natural_exp_decay(_FLOAT32, lr, rate, F32(step), span, self.is_stair)

  def _values(self, start, stop):
    lr, rate, span = F32(self.learning_rate), F32(self.decay_rate), F32(self.decay_steps)
    steps = np.arange(start, stop).astype(np.float32)
    return natural_exp_decay(_FLOAT32_ARRAYS, lr, rate, steps, span, self.is_stair)


class InverseDecayLR(_DecayLR):
  r"""MindSpore's ``nn.InverseDecayLR``: ``lr / (1 + decay_rate * p)``, ``p = step / decay_steps``.

  Float32; the division is ``f32(lr) * f32(1 / denominator)``.

  Args:
    learning_rate: float > 0.
    decay_rate: float > 0.
    decay_steps: int > 0.
    is_stair: bool, default False.
    horizon: steps tabulated.

  Example:
    >>> from adamax_optax.mindspore.nn import InverseDecayLR
    >>> sched = InverseDecayLR(0.1, 1.0, 1, horizon=8)
    >>> [round(float(sched(n)), 4) for n in range(4)]
    [0.1, 0.05, 0.0333, 0.025]

  References:
    MindSpore 2.10 ``mindspore.nn.InverseDecayLR``.
  """

  def value(self, step):
    # Not inverse_decay_lr's formula: ``step / decay_steps`` is divided first, and the
    # quotient is a float32 reciprocal times learning_rate.
    p = F32(F32(step) / F32(self.decay_steps))
    if self.is_stair:
      p = F32(np.floor(p))
    return rdiv(self.learning_rate, F32(F32(1.0) + F32(F32(self.decay_rate) * p)))

  def _values(self, start, stop):
    p = np.arange(start, stop).astype(np.float32) / F32(self.decay_steps)
    if self.is_stair:
      p = np.floor(p)
    denominator = F32(1.0) + F32(self.decay_rate) * p
    return F32(self.learning_rate) * (F32(1.0) / denominator)  # (rdiv, on arrays)


class CosineDecayLR(LearningRateSchedule):
  r"""MindSpore's ``nn.CosineDecayLR``: ``min_lr + delta (1 + sin(pi (p / decay_steps + 0.5)))``.

  ``p = min(step, decay_steps)``, ``delta = 0.5 * (max_lr - min_lr)`` in double, rounded
  once; the rest float32 (``sin`` rounded from double).

  Args:
    min_lr: float >= 0.
    max_lr: float > min_lr.
    decay_steps: int > 0.
    horizon: steps tabulated (at most ``decay_steps + 1`` are needed).

  Example:
    >>> from adamax_optax.mindspore.nn import CosineDecayLR
    >>> sched = CosineDecayLR(0.0, 1.0, 2)
    >>> [round(float(sched(n)), 4) for n in range(4)]
    [1.0, 0.5, 0.0, 0.0]

  References:
    MindSpore 2.10 ``mindspore.nn.CosineDecayLR``.
  """

  def __init__(
    self, min_lr: float, max_lr: float, decay_steps: int, *, horizon: int = DEFAULT_HORIZON
  ):
    cls = "CosineDecayLR"
    check_nonnegative_float(cls, "min_lr", min_lr, positive=False)
    check_nonnegative_float(cls, "max_lr", max_lr, positive=True)
    check_positive_int(cls, "decay_steps", decay_steps)
    check_lr_range(cls, min_lr, max_lr)
    self.min_lr, self.max_lr, self.decay_steps = float(min_lr), float(max_lr), int(decay_steps)
    self._delta = F32(0.5 * (self.max_lr - self.min_lr))
    super().__init__(horizon=horizon)

  def _last_changing_step(self):
    return self.decay_steps

  def value(self, step):
    # Not cosine_decay_lr's formula: MindSpore's cell takes a sine, shifted by pi / 2.
    p = F32(min(step, self.decay_steps))
    x = F32(F32(p / F32(self.decay_steps)) + F32(0.5))
    wave = F32(F32(1.0) + sinf(F32(_PI * x)))
    return F32(F32(self.min_lr) + F32(self._delta * wave))


class PolynomialDecayLR(LearningRateSchedule):
  r"""MindSpore's ``nn.PolynomialDecayLR``: ``(lr - end) powf(1 - p, power) + end``.

  ``p = min(step, decay_steps) / decay_steps``; with ``update_decay_steps``,
  ``p = step / (decay_steps * max(ceil(step / decay_steps), 1))``. Float32 op by op,
  ``lr - end`` in double rounded once.

  Args:
    learning_rate: float > 0.
    end_learning_rate: float >= 0.
    decay_steps: int > 0.
    power: float > 0.
    update_decay_steps: bool, default False.
    horizon: steps tabulated.

  Example:
    >>> from adamax_optax.mindspore.nn import PolynomialDecayLR
    >>> sched = PolynomialDecayLR(1.0, 0.0, 4, 1.0)
    >>> [float(sched(n)) for n in range(6)]
    [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]

  References:
    MindSpore 2.10 ``mindspore.nn.PolynomialDecayLR``.
  """

  def __init__(
    self,
    learning_rate: float,
    end_learning_rate: float,
    decay_steps: int,
    power: float,
    update_decay_steps: bool = False,
    *,
    horizon: int = DEFAULT_HORIZON,
  ):
    cls = "PolynomialDecayLR"
    check_nonnegative_float(cls, "learning_rate", learning_rate, positive=True)
    check_nonnegative_float(cls, "end_learning_rate", end_learning_rate, positive=False)
    check_positive_int(cls, "decay_steps", decay_steps)
    check_bool(cls, "update_decay_steps", update_decay_steps)
    check_nonnegative_float(cls, "power", power, positive=True)
    self.learning_rate, self.end_learning_rate = float(learning_rate), float(end_learning_rate)
    self.decay_steps, self.power = int(decay_steps), float(power)
    self.update_decay_steps = update_decay_steps
    super().__init__(horizon=horizon)

  def _last_changing_step(self):
    return None if self.update_decay_steps else self.decay_steps

  def value(self, step):
    delta = F32(self.learning_rate - self.end_learning_rate)  # in double, rounded once
    end, span = F32(self.end_learning_rate), F32(self.decay_steps)
    return polynomial_decay(
      _FLOAT32, delta, end, F32(step), span, self.power, self.update_decay_steps
    )


class WarmUpLR(LearningRateSchedule):
  r"""MindSpore's ``nn.WarmUpLR``: ``lr * (min(step, warmup_steps) / warmup_steps)``, float32.

  Args:
    learning_rate: float >= 0.
    warmup_steps: int > 0.
    horizon: steps tabulated (at most ``warmup_steps + 1`` are needed).

  Example:
    >>> from adamax_optax.mindspore.nn import WarmUpLR
    >>> sched = WarmUpLR(1.0, 4)
    >>> [float(sched(n)) for n in range(6)]
    [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]

  References:
    MindSpore 2.10 ``mindspore.nn.WarmUpLR``.
  """

  def __init__(self, learning_rate: float, warmup_steps: int, *, horizon: int = DEFAULT_HORIZON):
    check_nonnegative_float("WarmUpLR", "learning_rate", learning_rate, positive=False)
    check_positive_int("WarmUpLR", "warmup_steps", warmup_steps)
    self.learning_rate, self.warmup_steps = float(learning_rate), int(warmup_steps)
    super().__init__(horizon=horizon)

  def _last_changing_step(self):
    return self.warmup_steps

  def value(self, step):
    # Not warmup_lr's formula: ``min(step, warmup_steps) / warmup_steps`` is divided first.
    fraction = F32(F32(min(step, self.warmup_steps)) / F32(self.warmup_steps))
    return F32(F32(self.learning_rate) * fraction)


__all__ = [
  "CosineDecayLR",
  "ExponentialDecayLR",
  "InverseDecayLR",
  "LearningRateSchedule",
  "NaturalExpDecayLR",
  "PolynomialDecayLR",
  "WarmUpLR",
]
