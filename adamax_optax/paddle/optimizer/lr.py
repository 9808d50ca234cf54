"""``paddle.optimizer.lr``'s mirror: Paddle's 17 learning-rate schedulers, value for value.

Each class takes Paddle's arguments, checks and arithmetic (Python doubles, in Paddle's
order) and is an optax schedule ``count -> float32 lr``: the value Paddle uses at epoch
``last_epoch + 1 + count``, replayed on the host and looked up inside the compiled step.
Passed as ``learning_rate=``, it is driven by the optimizer's own count. Counting, tables
and horizons, ``ReduceOnPlateau``'s metric, resuming and the messages:
:doc:`/porting/paddle` (Schedulers) and :doc:`/schedules`.

Example:
  >>> import jax, jax.numpy as jnp
  >>> from adamax_optax.paddle.optimizer import Adamax, lr
  >>> schedule = lr.StepDecay(learning_rate=0.02, step_size=3, gamma=0.5, horizon=10)
  >>> print(jax.jit(jax.vmap(schedule))(jnp.arange(7)))
  [0.02  0.02  0.02  0.01  0.01  0.01  0.005]
  >>> opt = Adamax(learning_rate=schedule)  # the optimizer's count drives it
"""

import copy
import dataclasses
import functools
import itertools
import math
import operator
from collections.abc import Callable, Iterator, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from adamax_optax import _double_float as df
from adamax_optax._rounding import rounded
from adamax_optax.schedules import (
  DEFAULT_HORIZON,
  DOUBLE,
  ExactSchedule,
  Group,
  PlateauScheduler,
  Run,
  Scheduler,
  float32_metric,
  on_plateau,
)
from adamax_optax.schedules import _pytorch_family as family
from adamax_optax.validation import check_horizon, check_int, is_python_int, is_python_number

# ---------------------------------------------------------------------------- checks
# Paddle's messages where Paddle checks (its wording varies from class to class), and
# ours for what it lets through (NaN, inf, non-numbers).


def _check_learning_rate(value, name: str = "learning rate") -> float:
  """Paddle's base-class check: a float (or int) >= 0; NaN and inf refused too."""
  if not is_python_number(value):
    raise TypeError(f"The type of {name} must be float, but received {type(value)}")
  if not math.isfinite(float(value)):
    raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
  if value < 0:
    raise ValueError(f"Invalid learning rate: {value}")
  return float(value)


def _check_finite(name: str, value):
  """A finite number: what Paddle lets through (NaN, inf, non-numbers) refused."""
  if not is_python_number(value):
    raise TypeError(f"{name} must be a float, got {type(value)}: {value!r}.")
  if not math.isfinite(float(value)):
    raise ValueError(f"{name} must be finite, got {value!r}.")
  return value


def _check_positive_int(name: str, value, message: str | None = None) -> int:
  if not is_python_int(value) or value <= 0:
    raise ValueError(message or f" '{name}' must be a positive integer.")
  return int(value)


def _check_gamma_below_one(gamma) -> float:
  _check_finite("gamma", gamma)
  if gamma >= 1.0:
    raise ValueError("gamma should be < 1.0.")
  return gamma


def _check_rate_argument(name: str, value, negative_message: str) -> float:
  """``max_learning_rate`` or ``end_learning_rate`` (CyclicLR, OneCycleLR)."""
  if not is_python_number(value):
    raise TypeError(f"'{name}' must be 'float' or 'int', but received {type(value)}")
  if value < 0:
    raise ValueError(negative_message)
  return _check_finite(name, value)


def _check_lr_lambda(lr_lambda, owner: str) -> Callable[[int], float]:
  if not callable(lr_lambda):
    raise TypeError(
      f"The type of 'lr_lambda' in '{owner}' must be 'function', but received {type(lr_lambda)}."
    )
  return lr_lambda


# ------------------------------------------------------------------------ base classes


class LRScheduler(Scheduler):
  """Paddle's ``paddle.optimizer.lr.LRScheduler``: the base of every scheduler here.

  A subclass defines ``get_lr(self)`` in Python doubles from ``self.last_epoch`` (the
  epoch being computed), ``self.last_lr`` (the previous value) and ``self.base_lr``, as a
  Paddle subclass does. ``scheduler(count)`` is the float32 rate of optax ``count``,
  ``value_at(count)`` the double; both read :attr:`table`, built on first use.

  Args:
    learning_rate: the base rate ``base_lr``, a float >= 0 (default 0.1).
    last_epoch: the epoch before the constructor's step, an int >= -1 (default -1).
    verbose: accepted for Paddle's signature; nothing is printed.
    horizon: keyword-only: updates tabulated (default one million); past it the rate is
      NaN, unless the schedule has ended.

  Example:
    >>> from adamax_optax.paddle.optimizer import lr
    >>> class Halving(lr.LRScheduler):
    ...   def get_lr(self):
    ...     return self.base_lr * 0.5**self.last_epoch
    >>> schedule = Halving(learning_rate=1.0, horizon=8)
    >>> print(schedule(0), schedule(3), schedule.value_at(7), schedule.value_at(100))
    1.0 0.125 0.0078125 nan

  References:
    Paddle ``paddle.optimizer.lr.LRScheduler``.
  """

  #: The last epoch whose value can differ from the next one's (``None``: no end).
  _natural_end: int | None = None

  def __init__(
    self,
    learning_rate: float = 0.1,
    last_epoch: int = -1,
    verbose: bool = False,
    *,
    horizon: int = DEFAULT_HORIZON,
  ):
    self.base_lr = _check_learning_rate(learning_rate)
    last_epoch = check_int("last_epoch", last_epoch, -1)
    self.verbose = bool(verbose)
    self._horizon_setting = check_horizon(horizon, type(self).__name__)
    group = Group(0, self.base_lr, 0.0)
    self.driver(group, last_epoch)  # Paddle's constructor takes the first step
    self.last_epoch, self.last_lr = last_epoch + 1, group.lr

  @property
  def holds_past_horizon(self) -> bool:
    """Whether the table's last value holds past it: at a natural end, where Paddle's
    scheduler keeps it; past a ``horizon`` the rate is NaN instead."""
    return self._natural_end is not None

  @property
  def horizon(self) -> int:
    """Updates tabulated: up to the schedule's end where it has one, else ``horizon``."""
    if self._natural_end is None:
      return self._horizon_setting
    return max(self._natural_end - self.last_epoch + 1, 1)

  def driver(self, group: Group, last_epoch: int | None = None) -> Callable[[], None]:
    """Paddle's constructor on ``group`` from ``last_epoch`` (default: the one this
    scheduler was built with); the result is its ``step()``.

    A subclass's ``get_lr()`` reads the scheduler itself, so a copy of it is stepped.
    """
    if type(self).get_lr is Scheduler.get_lr:
      raise NotImplementedError(f"{type(self).__name__} must define get_lr().")
    stepped = copy.copy(self)
    stepped.last_epoch = self.last_epoch - 1 if last_epoch is None else last_epoch
    stepped.last_lr = group.lr

    def step() -> None:
      stepped.last_epoch += 1
      stepped.last_lr = group.lr = float(stepped.get_lr())

    step()
    return step

  def epoch_values(self) -> Iterator[float]:
    """Paddle's ``step(0)``, ``step(1)``, ... with explicit epochs, as
    :class:`LinearWarmup` steps a wrapped scheduler: the values from epoch 0 on."""
    group = Group(0, self.base_lr, 0.0)
    step = self.driver(group, last_epoch=-1)
    while True:
      yield group.lr
      step()

  # --- the optax schedule: the table's -------------------------------------------------

  @functools.cached_property
  def table(self) -> ExactSchedule:
    """The values of updates 1, 2, ... (epochs ``last_epoch``, ...), by optax count."""
    (table,), _ = self.tabulate_groups([self.base_lr], check_groups=False)
    return table

  def __call__(self, count: jax.typing.ArrayLike) -> jax.Array:
    """The float32 rate of the update at optax ``count``."""
    return self.table(count)

  def double_float(self, count: jax.typing.ArrayLike) -> df.DoubleFloat:
    """The rate at ``count`` as a double held in two float32 values."""
    return self.table.double_float(count)

  def values_at(self, counts) -> np.ndarray:
    """The doubles at ``counts`` (an int or an array of them), on the host."""
    return self.table.values_at(counts)

  def value_at(self, count: int) -> float:
    """The double at ``count``, on the host."""
    return self.table.value_at(count)

  @property
  def num_runs(self) -> int:
    """Runs of equal values in the table."""
    return self.table.num_runs

  def __repr__(self) -> str:
    return f"{type(self).__name__}(base_lr={self.base_lr!r}, last_epoch={self.last_epoch})"


def _table_epochs(scheduler: LRScheduler, cls: type, run: Run, epochs: int) -> np.ndarray | None:
  """The epochs of a table from ``run.epoch`` on as doubles (Python's ``float(epoch)``,
  exact), for a closed form computed on all of them at once
  (:meth:`~adamax_optax.schedules.Scheduler.epoch_table`); ``None`` where ``scheduler``
  computes its step otherwise than ``cls`` (a subclass's own ``get_lr``)."""
  if type(scheduler).get_lr is not cls.get_lr:
    return None
  return np.arange(run.epoch, run.epoch + epochs, dtype=np.float64)


def _each(function: Callable, *arguments) -> np.ndarray:
  """``function`` of each element (arrays and iterables of Python numbers), as doubles:
  a ``**`` or ``math.exp`` per value, the C library's, as a step computes it (NumPy's
  vectorised ``power`` and ``exp`` may differ in the last bit)."""
  lists = [a.tolist() if isinstance(a, np.ndarray) else a for a in arguments]
  return np.fromiter(map(function, *lists), np.float64)


class _Replayed(LRScheduler):
  """The schedulers of this module: the engine's protocol (``get_lr(run)``, ``reset``,
  ``advance``, ... of :class:`~adamax_optax.schedules.Scheduler`) on a run started at
  Paddle's ``last_epoch``; several inherit their algorithm from the PyTorch family."""

  def driver(self, group: Group, last_epoch: int | None = None) -> Callable[[], None]:
    run = Run(self, group, self.last_epoch - 1 if last_epoch is None else last_epoch)
    run.construct()
    return run


# --------------------------------------------------------------------- the schedulers


class NoamDecay(_Replayed):
  r"""Paddle's ``NoamDecay`` (Transformer warmup then inverse square root).

  .. math::

    \eta_e = \text{lr} \cdot d_{model}^{-0.5} \cdot \min(a, w^{-1.5} e), \qquad
    a = 1 \text{ if } e = 0 \text{ else } e^{-0.5}

  so update 1 (epoch 0) gets 0.0.

  Args:
    d_model: > 0 (the model width).
    warmup_steps: int > 0.
    learning_rate: float >= 0, default 1.0.
    last_epoch, verbose, horizon: see :class:`LRScheduler`.

  Example:
    >>> from adamax_optax.paddle.optimizer import lr
    >>> schedule = lr.NoamDecay(d_model=64, warmup_steps=4, learning_rate=1.0, horizon=10)
    >>> print(schedule.value_at(0), schedule.value_at(4))
    0.0 0.0625

  References:
    Paddle ``paddle.optimizer.lr.NoamDecay``; Vaswani et al., 2017.
  """

  def __init__(
    self,
    d_model: int,
    warmup_steps: int,
    learning_rate: float = 1.0,
    last_epoch: int = -1,
    verbose: bool = False,
    *,
    horizon: int = DEFAULT_HORIZON,
  ):
    _check_finite("d_model", d_model)
    if d_model <= 0:
      raise ValueError("d_model should be grater than 0")
    self.d_model = d_model
    _check_finite("warmup_steps", warmup_steps)
    if warmup_steps <= 0:
      raise ValueError(f"warmup_steps must be > 0, got {warmup_steps!r}.")
    self.warmup_steps = warmup_steps
    super().__init__(learning_rate, last_epoch, verbose, horizon=horizon)

  def get_lr(self, run: Run) -> float:
    epoch = run.epoch
    a = 1 if epoch == 0 else epoch**-0.5
    b = self.warmup_steps**-1.5 * epoch
    return run.base * self.d_model**-0.5 * min(a, b)

  def epoch_table(self, run: Run, epochs: int):
    epoch = _table_epochs(self, NoamDecay, run, epochs)
    if epoch is None:
      return None
    a = _each(operator.pow, np.maximum(epoch, 1.0), itertools.repeat(-0.5))
    a[epoch == 0] = 1.0  # (Python's 0.0 ** -0.5 raises; Paddle takes 1 there)
    b = self.warmup_steps**-1.5 * epoch
    return run.base * self.d_model**-0.5 * np.where(b < a, b, a), None  # Python's min(a, b)


class PiecewiseDecay(_Replayed):
  """Paddle's ``PiecewiseDecay``: ``values[i]`` for the first ``i`` with
  ``epoch < boundaries[i]``, else ``values[len(boundaries)]``.

  Args:
    boundaries: the epochs where the rate changes (ints).
    values: at least ``len(boundaries) + 1`` floats.
    last_epoch, verbose: see :class:`LRScheduler`.

  Example:
    >>> from adamax_optax.paddle.optimizer import lr
    >>> schedule = lr.PiecewiseDecay(boundaries=[2, 4], values=[0.1, 0.05, 0.01])
    >>> print([schedule.value_at(n) for n in range(6)])
    [0.1, 0.1, 0.05, 0.05, 0.01, 0.01]

  References:
    Paddle ``paddle.optimizer.lr.PiecewiseDecay``.
  """

  def __init__(
    self,
    boundaries: Sequence[int],
    values: Sequence[float],
    last_epoch: int = -1,
    verbose: bool = False,
  ):
    if len(values) < len(boundaries) + 1:
      raise ValueError(
        "The values have one more element than boundaries, but received "
        f"len(values) [{len(values)}] < len(boundaries) + 1 [{len(boundaries) + 1}]."
      )
    for i, boundary in enumerate(boundaries):
      if not is_python_int(boundary):
        raise TypeError(f"boundaries[{i}] must be an int, got {boundary!r}.")
    for i, value in enumerate(values):
      _check_finite(f"values[{i}]", value)
    self.boundaries, self.values = list(boundaries), list(values)
    self._natural_end = max(self.boundaries, default=0)
    super().__init__(values[0], last_epoch, verbose, horizon=1)

  def get_lr(self, run: Run) -> float:
    for boundary, value in zip(self.boundaries, self.values, strict=False):
      if run.epoch < boundary:
        return value
    return self.values[len(self.boundaries)]


class NaturalExpDecay(_Replayed):
  """Paddle's ``NaturalExpDecay``: ``lr * math.exp(-1 * gamma * epoch)``.

  Args:
    gamma: > 0.
    learning_rate, last_epoch, verbose, horizon: see :class:`LRScheduler`.

  Example:
    >>> from adamax_optax.paddle.optimizer import lr
    >>> print(lr.NaturalExpDecay(1.0, gamma=0.5, horizon=4).value_at(2))
    0.36787944117144233

  References:
    Paddle ``paddle.optimizer.lr.NaturalExpDecay``.
  """

  def __init__(
    self,
    learning_rate: float,
    gamma: float,
    last_epoch: int = -1,
    verbose: bool = False,
    *,
    horizon: int = DEFAULT_HORIZON,
  ):
    _check_finite("gamma", gamma)
    if gamma <= 0.0:
      raise ValueError(" 'gamma' must be a positive number so that the learning rate will decay.")
    self.gamma = gamma
    super().__init__(learning_rate, last_epoch, verbose, horizon=horizon)

  def get_lr(self, run: Run) -> float:
    return run.base * math.exp(-1 * self.gamma * run.epoch)

  def epoch_table(self, run: Run, epochs: int):
    epoch = _table_epochs(self, NaturalExpDecay, run, epochs)
    if epoch is None or type(self.gamma) is not float:  # (an int gamma: int products)
      return None
    return run.base * _each(math.exp, -1 * self.gamma * epoch), None


class InverseTimeDecay(_Replayed):
  """Paddle's ``InverseTimeDecay``: ``lr / (1 + gamma * epoch)``.

  Args:
    gamma: >= 0.
    learning_rate, last_epoch, verbose, horizon: see :class:`LRScheduler`.

  Example:
    >>> from adamax_optax.paddle.optimizer import lr
    >>> print(lr.InverseTimeDecay(1.0, gamma=0.5, horizon=4).value_at(2))
    0.5

  References:
    Paddle ``paddle.optimizer.lr.InverseTimeDecay``.
  """

  def __init__(
    self,
    learning_rate: float,
    gamma: float,
    last_epoch: int = -1,
    verbose: bool = False,
    *,
    horizon: int = DEFAULT_HORIZON,
  ):
    _check_finite("gamma", gamma)
    if gamma < 0:
      raise ValueError(f"gamma must be >= 0, got {gamma!r}.")
    self.gamma = gamma
    super().__init__(learning_rate, last_epoch, verbose, horizon=horizon)

  def get_lr(self, run: Run) -> float:
    return run.base / (1 + self.gamma * run.epoch)

  def epoch_table(self, run: Run, epochs: int):
    epoch = _table_epochs(self, InverseTimeDecay, run, epochs)
    if epoch is None or type(self.gamma) is not float:  # (an int gamma: int products)
      return None
    return run.base / (1 + self.gamma * epoch), None


class PolynomialDecay(_Replayed):
  r"""Paddle's ``PolynomialDecay``.

  Without ``cycle``: ``(lr - end_lr) * (1 - min(e, d) / d) ** power + end_lr``, ``d`` =
  ``decay_steps`` (``end_lr`` from epoch ``d`` on). With ``cycle``, ``d`` becomes
  ``decay_steps * ceil(e / decay_steps)`` (``decay_steps`` at epoch 0), so the rate
  reaches ``end_lr`` at every multiple of ``decay_steps`` and jumps back up after it.

  Args:
    decay_steps: int > 0.
    end_lr: default 0.0001.
    power: > 0, default 1.0.
    cycle: default False.
    learning_rate, last_epoch, verbose: see :class:`LRScheduler`.
    horizon: see :class:`LRScheduler`; used only with ``cycle``.

  Example:
    >>> from adamax_optax.paddle.optimizer import lr
    >>> schedule = lr.PolynomialDecay(1.0, decay_steps=4, end_lr=0.0, power=1.0)
    >>> print([schedule.value_at(n) for n in range(6)])
    [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]

  References:
    Paddle ``paddle.optimizer.lr.PolynomialDecay``.
  """

  def __init__(
    self,
    learning_rate: float,
    decay_steps: int,
    end_lr: float = 0.0001,
    power: float = 1.0,
    cycle: bool = False,
    last_epoch: int = -1,
    verbose: bool = False,
    *,
    horizon: int = DEFAULT_HORIZON,
  ):
    self.decay_steps = _check_positive_int("decay_steps", decay_steps)
    _check_finite("power", power)
    if power <= 0.0:
      raise ValueError(" 'power' must be greater than 0.0 so that the learning rate will decay.")
    self.power = power
    self.end_lr, self.cycle = _check_finite("end_lr", end_lr), bool(cycle)
    if not self.cycle:
      self._natural_end = decay_steps
    super().__init__(learning_rate, last_epoch, verbose, horizon=horizon)

  def get_lr(self, run: Run) -> float:
    epoch, decay_steps = run.epoch, self.decay_steps
    if self.cycle:
      decay_steps = decay_steps * (math.ceil(epoch / decay_steps) if epoch else 1)
    else:
      epoch = min(epoch, decay_steps)
    fraction = 1 - float(epoch) / float(decay_steps)
    return (run.base - self.end_lr) * (fraction**self.power) + self.end_lr

  def epoch_table(self, run: Run, epochs: int):
    """With ``cycle`` (without it the table ends at ``decay_steps``, replayed)."""
    epoch = _table_epochs(self, PolynomialDecay, run, epochs)
    if epoch is None or not self.cycle:
      return None
    cycles = np.maximum(np.ceil(epoch / self.decay_steps), 1.0)  # (1 at epoch 0)
    fraction = 1 - epoch / (self.decay_steps * cycles)  # (whole numbers below 2**53)
    powers = _each(operator.pow, fraction, itertools.repeat(self.power))
    return (run.base - self.end_lr) * powers + self.end_lr, None


class LinearWarmup(_Replayed):
  r"""Paddle's ``LinearWarmup``: a linear ramp, then a float rate or another scheduler.

  For epoch ``e < warmup_steps``: ``(end_lr - start_lr) * float(e) / float(warmup_steps)
  + start_lr``. After: a float ``learning_rate``, or the wrapped scheduler at epoch
  ``e - warmup_steps``. ``base_lr`` is ``start_lr``.

  Args:
    learning_rate: a float (or int) >= 0, or a scheduler of this module.
    warmup_steps: int > 0.
    start_lr: float >= 0.
    end_lr: float > ``start_lr``.
    last_epoch, verbose: see :class:`LRScheduler`.
    horizon: used only with a wrapped scheduler that does not end (default: its
      ``horizon`` plus ``warmup_steps``).

  Example:
    >>> from adamax_optax.paddle.optimizer import lr
    >>> schedule = lr.LinearWarmup(0.1, warmup_steps=4, start_lr=0.0, end_lr=0.1)
    >>> print([round(schedule.value_at(n), 6) for n in range(6)])
    [0.0, 0.025, 0.05, 0.075, 0.1, 0.1]

  References:
    Paddle ``paddle.optimizer.lr.LinearWarmup``.
  """

  def __init__(
    self,
    learning_rate: "float | LRScheduler",
    warmup_steps: int,
    start_lr: float,
    end_lr: float,
    last_epoch: int = -1,
    verbose: bool = False,
    *,
    horizon: int | None = None,
  ):
    wrapped = learning_rate if isinstance(learning_rate, LRScheduler) else None
    if wrapped is None:
      if not is_python_number(learning_rate):
        raise TypeError(
          "the type of learning_rate should be [int, float or LRScheduler], the current type "
          f"is {learning_rate}"
        )
      _check_learning_rate(learning_rate, "learning_rate")
    self.warmup_steps = _check_positive_int("warmup_steps", warmup_steps)
    self.start_lr = start_lr = _check_learning_rate(start_lr, "start_lr")
    self.end_lr = end_lr = _check_learning_rate(end_lr, "end_lr")
    if not end_lr > start_lr:
      raise ValueError(f"end_lr {end_lr} must be greater than start_lr {start_lr}")
    self.learning_rate = learning_rate
    if wrapped is None:
      self._natural_end = warmup_steps
    else:
      if wrapped._natural_end is not None:
        self._natural_end = warmup_steps + wrapped._natural_end
      if horizon is None:
        horizon = wrapped._horizon_setting + warmup_steps
    super().__init__(start_lr, last_epoch, verbose, horizon=horizon or DEFAULT_HORIZON)

  def reset(self, run: Run) -> None:
    # The values after the warmup, from the first epoch stepped past it (resuming can
    # start beyond the warmup).
    if isinstance(self.learning_rate, LRScheduler):
      after = self.learning_rate.epoch_values()
    else:
      after = itertools.repeat(self.learning_rate)
    run.after_warmup = itertools.islice(after, max(run.epoch + 1 - self.warmup_steps, 0), None)

  def get_lr(self, run: Run) -> float:
    warmup, start_lr, end_lr = self.warmup_steps, self.start_lr, self.end_lr
    if run.epoch < warmup:
      return (end_lr - start_lr) * float(run.epoch) / float(warmup) + start_lr
    return next(run.after_warmup)

  def epoch_table(self, run: Run, epochs: int):
    """The ramp on an array of its epochs, then a wrapped scheduler's own table: its
    values from epoch 0, what :meth:`LRScheduler.epoch_values` steps through, where it
    was built from epoch 0 and steps as it tabulates (not by a closed form of its own,
    as :class:`CosineAnnealingDecay` does here)."""
    wrapped = self.learning_rate
    epoch = _table_epochs(self, LinearWarmup, run, epochs)
    if epoch is None or type(self).reset is not LinearWarmup.reset:
      return None
    if not isinstance(wrapped, LRScheduler) or wrapped.last_epoch != 0:
      return None
    if type(wrapped).epoch_values is not LRScheduler.epoch_values:
      return None
    warmup, start_lr, end_lr = self.warmup_steps, self.start_lr, self.end_lr
    values = (end_lr - start_lr) * epoch / float(warmup) + start_lr
    after = epoch >= warmup
    (table,), _ = wrapped.tabulate_groups([wrapped.base_lr], check_groups=False)
    if run.epoch + epochs - warmup > table.horizon and not wrapped.holds_past_horizon:
      return None  # (the generator steps past the wrapped table's horizon)
    values[after] = table.values_at((epoch[after] - warmup).astype(np.int64))
    return values, None


class ExponentialDecay(_Replayed, family.ExponentialLR):
  """Paddle's ``ExponentialDecay``: ``lr * gamma ** epoch``.

  Args:
    gamma: in (0, 1).
    learning_rate, last_epoch, verbose, horizon: see :class:`LRScheduler`.

  Example:
    >>> from adamax_optax.paddle.optimizer import lr
    >>> print(lr.ExponentialDecay(1.0, gamma=0.5, horizon=4).value_at(3))
    0.125

  References:
    Paddle ``paddle.optimizer.lr.ExponentialDecay``.
  """

  def __init__(
    self,
    learning_rate: float,
    gamma: float,
    last_epoch: int = -1,
    verbose: bool = False,
    *,
    horizon: int = DEFAULT_HORIZON,
  ):
    _check_finite("gamma", gamma)
    if not 0.0 < gamma < 1.0:
      raise ValueError(
        " 'gamma' must be in interval (0.0, 1.0) so that the learning rate will decay."
      )
    self.gamma = gamma
    super().__init__(learning_rate, last_epoch, verbose, horizon=horizon)

  def get_lr(self, run: Run) -> float:
    return self.closed_form(run)  # Paddle computes the power at every step

  def step_factor(self, run: Run) -> None:
    return None  # a power at each step, not a product of the last one

  def epoch_table(self, run: Run, epochs: int):
    epoch = _table_epochs(self, ExponentialDecay, run, epochs)
    if epoch is None or type(self).closed_form is not family.ExponentialLR.closed_form:
      return None
    return run.base * _each(operator.pow, itertools.repeat(self.gamma), epoch), None


class MultiStepDecay(_Replayed, family.MultiStepLR):
  """Paddle's ``MultiStepDecay``: ``lr * gamma ** i``, ``i`` the number of milestones
  ``<= epoch``.

  Args:
    milestones: a list or tuple of strictly increasing ints.
    gamma: < 1.0, default 0.1.
    learning_rate, last_epoch, verbose: see :class:`LRScheduler`.

  Example:
    >>> from adamax_optax.paddle.optimizer import lr
    >>> schedule = lr.MultiStepDecay(1.0, milestones=[2, 4], gamma=0.5)
    >>> print([schedule.value_at(n) for n in range(6)])
    [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]

  References:
    Paddle ``paddle.optimizer.lr.MultiStepDecay``.
  """

  def __init__(
    self,
    learning_rate: float,
    milestones: Sequence[int],
    gamma: float = 0.1,
    last_epoch: int = -1,
    verbose: bool = False,
  ):
    if not isinstance(milestones, (tuple, list)):
      raise TypeError(
        "The type of 'milestones' in 'MultiStepDecay' must be 'tuple, list', but received "
        f"{type(milestones)}."
      )
    if not all(is_python_int(m) for m in milestones):
      raise TypeError(f"milestones must be ints, got {milestones!r}.")
    if not all(milestones[i] < milestones[i + 1] for i in range(len(milestones) - 1)):
      raise ValueError("The elements of milestones must be incremented")
    self.milestones, self.gamma = list(milestones), _check_gamma_below_one(gamma)
    self._natural_end = max(self.milestones, default=0)
    super().__init__(learning_rate, last_epoch, verbose, horizon=1)

  def get_lr(self, run: Run) -> float:
    return self.closed_form(run)  # Paddle counts the milestones passed at every step


class StepDecay(_Replayed, family.StepLR):
  """Paddle's ``StepDecay``: ``lr * gamma ** (epoch // step_size)``.

  Args:
    step_size: int > 0.
    gamma: < 1.0, default 0.1.
    learning_rate, last_epoch, verbose, horizon: see :class:`LRScheduler`.

  Example:
    >>> from adamax_optax.paddle.optimizer import lr
    >>> schedule = lr.StepDecay(1.0, step_size=2, gamma=0.5, horizon=100)
    >>> print([schedule.value_at(n) for n in range(5)], schedule.num_runs)  # and a NaN run
    [1.0, 1.0, 0.5, 0.5, 0.25] 51

  References:
    Paddle ``paddle.optimizer.lr.StepDecay``.
  """

  def __init__(
    self,
    learning_rate: float,
    step_size: int,
    gamma: float = 0.1,
    last_epoch: int = -1,
    verbose: bool = False,
    *,
    horizon: int = DEFAULT_HORIZON,
  ):
    if not is_python_int(step_size):
      raise TypeError(f"The type of 'step_size' must be 'int', but received {type(step_size)}.")
    self.step_size = _check_positive_int("step_size", step_size)
    self.gamma = _check_gamma_below_one(gamma)
    super().__init__(learning_rate, last_epoch, verbose, horizon=horizon)

  def get_lr(self, run: Run) -> float:
    return self.closed_form(run)  # Paddle computes the power at every step

  def step_factor(self, run: Run) -> None:
    return None  # a power at each step, not a product of the last one


class LambdaDecay(_Replayed, family.LambdaLR):
  """Paddle's ``LambdaDecay``: ``lr * lr_lambda(epoch)``.

  Args:
    lr_lambda: a function of the epoch (an int), called once per tabulated epoch, in
      order, on the host.
    learning_rate, last_epoch, verbose, horizon: see :class:`LRScheduler`.

  Example:
    >>> from adamax_optax.paddle.optimizer import lr
    >>> print(lr.LambdaDecay(0.5, lambda e: 0.9**e, horizon=4).value_at(2))
    0.405

  References:
    Paddle ``paddle.optimizer.lr.LambdaDecay``.
  """

  def __init__(
    self,
    learning_rate: float,
    lr_lambda: Callable[[int], float],
    last_epoch: int = -1,
    verbose: bool = False,
    *,
    horizon: int = DEFAULT_HORIZON,
  ):
    self.lr_lambda = _check_lr_lambda(lr_lambda, "LambdaDecay")
    super().__init__(learning_rate, last_epoch, verbose, horizon=horizon)


class MultiplicativeDecay(_Replayed, family.MultiplicativeLR):
  """Paddle's ``MultiplicativeDecay``: ``lr * f(1) * f(2) * ... * f(epoch)``, multiplied
  left to right.

  Args:
    lr_lambda: a function of the epoch (an int) giving the factor, called once per epoch.
    learning_rate, last_epoch, verbose, horizon: see :class:`LRScheduler`.

  Example:
    >>> from adamax_optax.paddle.optimizer import lr
    >>> schedule = lr.MultiplicativeDecay(1.0, lambda e: 0.5, horizon=4)
    >>> print([schedule.value_at(n) for n in range(4)])
    [1.0, 0.5, 0.25, 0.125]

  References:
    Paddle ``paddle.optimizer.lr.MultiplicativeDecay``.
  """

  def __init__(
    self,
    learning_rate: float,
    lr_lambda: Callable[[int], float],
    last_epoch: int = -1,
    verbose: bool = False,
    *,
    horizon: int = DEFAULT_HORIZON,
  ):
    self.lr_lambda = _check_lr_lambda(lr_lambda, "MultiplicativeDecay")
    super().__init__(learning_rate, last_epoch, verbose, horizon=horizon)

  def reset(self, run: Run) -> None:
    # Resuming: the product up to last_epoch, which the recursion goes on from.
    for epoch in range(1, run.epoch + 1):
      run.group.lr = run.group.lr * self.lr_lambda(epoch)


class CosineAnnealingDecay(_Replayed, family.CosineAnnealingLR):
  r"""Paddle's ``CosineAnnealingDecay``, in Paddle's recursive form (PyTorch's).

  Epoch 0 gives ``lr``; then, with ``T = T_max`` and ``last`` the previous value: if
  ``(e - 1 - T) % (2 T) == 0``, ``last + (lr - eta_min) * (1 - cos(pi / T)) / 2``;
  otherwise ``(1 + cos(pi e / T)) / (1 + cos(pi (e - 1) / T)) * (last - eta_min) +
  eta_min``: an ulp here and there from the closed form
  ``eta_min + (lr - eta_min) * (1 + cos(pi e / T)) / 2``.

  Args:
    T_max: int > 0, half the period.
    eta_min: float, default 0.
    learning_rate, last_epoch, verbose, horizon: see :class:`LRScheduler`.

  Example:
    >>> from adamax_optax.paddle.optimizer import lr
    >>> schedule = lr.CosineAnnealingDecay(1.0, T_max=4, horizon=9)
    >>> print([round(schedule.value_at(n), 4) for n in range(9)])
    [1.0, 0.8536, 0.5, 0.1464, 0.0, 0.1464, 0.5, 0.8536, 1.0]

  References:
    Paddle ``paddle.optimizer.lr.CosineAnnealingDecay``; Loshchilov & Hutter, 2017.
  """

  def __init__(
    self,
    learning_rate: float,
    T_max: int,
    eta_min: float = 0,
    last_epoch: int = -1,
    verbose: bool = False,
    *,
    horizon: int = DEFAULT_HORIZON,
  ):
    if not is_python_int(T_max):
      raise TypeError(
        f"The type of 'T_max' in 'CosineAnnealingDecay' must be 'int', but received {type(T_max)}."
      )
    self.T_max = _check_positive_int("T_max", T_max)
    if not is_python_number(eta_min):
      raise TypeError(
        "The type of 'eta_min' in 'CosineAnnealingDecay' must be 'float, int', but received "
        f"{type(eta_min)}."
      )
    self.eta_min = float(_check_finite("eta_min", eta_min))
    super().__init__(learning_rate, last_epoch, verbose, horizon=horizon)

  def epoch_values(self) -> Iterator[float]:
    # Paddle's step(epoch) takes the closed form where a scheduler has one: this one.
    run = Run(self, Group(0, self.base_lr, 0.0))
    run.base = self.base_lr
    for epoch in itertools.count():
      run.epoch = epoch
      yield self.closed_form(run)


class OneCycleLR(_Replayed, family.OneCycleLR):
  r"""Paddle's ``OneCycleLR``: up from ``max_learning_rate / divide_factor`` to
  ``max_learning_rate``, then down to ``end_learning_rate``.

  With ``T = total_steps`` and ``p = phase_pct``, the phases end at epochs
  ``[p T - 1, T - 1]`` with rates ``[initial, max, end]`` (``three_phase``: ends
  ``[p T - 1, 2 p T - 2, T - 1]``, rates ``[initial, max, initial, end]``); within a phase
  from ``start`` to ``end`` at fraction ``pct``: ``end + (start - end) / 2.0 * (cos(pi
  pct) + 1)`` (``"cos"``) or ``(end - start) * pct + start`` (``"linear"``). PyTorch's
  algorithm, with Paddle's ``end_learning_rate`` as the last rate. Past ``total_steps``
  the rate is NaN, and ``value_at`` raises Paddle's ``ValueError``.

  Args:
    max_learning_rate: float >= 0.
    total_steps: int > 0.
    divide_factor: > 0, default 25.0.
    end_learning_rate: >= 0, default 0.0001.
    phase_pct: in [0, 1], default 0.3.
    anneal_strategy: ``"cos"`` (default) or ``"linear"``.
    three_phase: default False.
    last_epoch, verbose: see :class:`LRScheduler`.

  Example:
    >>> from adamax_optax.paddle.optimizer import lr
    >>> schedule = lr.OneCycleLR(1.0, total_steps=11, divide_factor=10.0, phase_pct=0.5,
    ...                          end_learning_rate=0.0, anneal_strategy="linear")
    >>> print([round(schedule.value_at(n), 3) for n in (0, 2, 9, 10)])
    [0.1, 0.5, 0.182, 0.0]

  References:
    Paddle ``paddle.optimizer.lr.OneCycleLR``; Smith & Topin, 2017.
  """

  holds_past_horizon = False  # Paddle raises past total_steps

  def __init__(
    self,
    max_learning_rate: float,
    total_steps: int,
    divide_factor: float = 25.0,
    end_learning_rate: float = 0.0001,
    phase_pct: float = 0.3,
    anneal_strategy: str = "cos",
    three_phase: bool = False,
    last_epoch: int = -1,
    verbose: bool = False,
  ):
    for name, rate in (
      ("max_learning_rate", max_learning_rate),
      ("end_learning_rate", end_learning_rate),
    ):
      _check_rate_argument(name, rate, f"'{name}' must be a positive integer.")
    if not is_python_int(total_steps):
      raise TypeError(f"'total_step' must be 'int', but received {type(total_steps)}")
    if total_steps <= 0:
      raise ValueError("'total_step' must be a positive integer.")
    _check_finite("phase_pct", phase_pct)
    if not 0 <= phase_pct <= 1:
      raise ValueError(f"'phase_pct' must be between 0 and 1, but received {phase_pct}")
    _check_finite("divide_factor", divide_factor)
    if divide_factor <= 0:
      raise ValueError(f"divide_factor must be > 0, got {divide_factor!r}.")
    if anneal_strategy not in ("cos", "linear"):
      raise ValueError(
        f"'anneal_strategy' must by one of 'cos' or 'linear', but received {anneal_strategy}"
      )
    self.max_lr, self.end_learning_rate = max_learning_rate, end_learning_rate
    self.total_steps, self.divide_factor = total_steps, divide_factor
    self.pct_start = self.phase_pct = phase_pct  # pct_start: the family's name
    self.anneal_strategy, self.three_phase = anneal_strategy, bool(three_phase)
    self._natural_end = total_steps
    super().__init__(max_learning_rate / divide_factor, last_epoch, verbose)

  def setup(self, run: Run) -> None:
    run.group.lr = run.group.initial_lr = self.max_lr / self.divide_factor
    run.levels = {"max_lr": self.max_lr, "min_lr": self.end_learning_rate}

  def _too_far(self, epoch: int) -> ValueError:
    return ValueError(
      f"Tried to step {epoch} times. However the number of total steps is {self.total_steps}"
    )

  def get_lr(self, run: Run) -> float:
    if run.epoch > self.total_steps:
      raise self._too_far(run.epoch)
    return super().get_lr(run)

  def value_at(self, count: int) -> float:
    """The double at ``count``; a ``ValueError`` past ``total_steps``, as Paddle raises."""
    if self.last_epoch + count > self.total_steps:
      raise self._too_far(self.last_epoch + count)
    return super().value_at(count)


#: Paddle's doubles, but a floor that gives a double: CyclicLR's cycle is ``1 + e // c``,
#: a float, and a ``scale_fn`` receives it so.
_DOUBLE_FLOORED_TO_FLOAT = dataclasses.replace(DOUBLE, floor=lambda x: float(math.floor(x)))


class CyclicLR(_Replayed, family.CyclicLR):
  r"""Paddle's ``CyclicLR``: a triangle between ``base_learning_rate`` and
  ``max_learning_rate``, ``step_size_up`` epochs up and ``step_size_down`` down.

  With ``c = float(up) + float(down)``: ``cycle = 1 + e // c``, ``pct = 1.0 + e / c -
  cycle``, ``sf = pct / (up / c)`` on the way up, else ``(1 - pct) / (1 - up / c)``, and
  ``lr = base + ((max - base) * sf) * scale_fn(x)``. Modes: ``"triangular"`` (1.0),
  ``"triangular2"`` (``1 / 2.0 ** (cycle - 1)``), both of ``x = cycle``;
  ``"exp_range"`` (``exp_gamma ** e``, of ``x = e``). A ``scale_fn`` replaces the mode,
  called with ``cycle`` (a float) or the epoch (``scale_mode``). PyTorch's algorithm:
  the same doubles.

  Args:
    base_learning_rate: float >= 0.
    max_learning_rate: float >= 0.
    step_size_up: int > 0.
    step_size_down: int > 0, default ``step_size_up``.
    mode: ``"triangular"`` (default), ``"triangular2"`` or ``"exp_range"``.
    exp_gamma: default 1.0.
    scale_fn: optional function of one float.
    scale_mode: ``"cycle"`` (default) or ``"iterations"``, with ``scale_fn``.
    last_epoch, verbose, horizon: see :class:`LRScheduler`.

  Example:
    >>> from adamax_optax.paddle.optimizer import lr
    >>> schedule = lr.CyclicLR(0.0, 1.0, step_size_up=2, step_size_down=2, horizon=9)
    >>> print([schedule.value_at(n) for n in range(6)])
    [0.0, 0.5, 1.0, 0.5, 0.0, 0.5]

  References:
    Paddle ``paddle.optimizer.lr.CyclicLR``; Smith, 2017.
  """

  numbers = _DOUBLE_FLOORED_TO_FLOAT

  def __init__(
    self,
    base_learning_rate: float,
    max_learning_rate: float,
    step_size_up: int,
    step_size_down: int | None = None,
    mode: str = "triangular",
    exp_gamma: float = 1.0,
    scale_fn: Callable[[float], float] | None = None,
    scale_mode: str = "cycle",
    last_epoch: int = -1,
    verbose: bool = False,
    *,
    horizon: int = DEFAULT_HORIZON,
  ):
    _check_rate_argument(
      "max_learning_rate",
      max_learning_rate,
      f"'max_learning_rate' must be a positive integer, but received {max_learning_rate}",
    )
    step_sizes = {"step_size_up": step_size_up}
    if step_size_down is not None:
      step_sizes["step_size_down"] = step_size_down
    for name, size in step_sizes.items():
      if not is_python_int(size):
        raise TypeError(f"The type of '{name}' must be int, but received {type(size)}")
      if size <= 0:
        raise ValueError(f"'{name}' must be a positive integer, but received {size}")
    if scale_fn is None:
      if mode not in ("triangular", "triangular2", "exp_range"):
        raise ValueError(
          "'mode' is invalid and 'scale_fn' is not specified, make sure one of 'mode' or "
          "'scale_fn' is valid"
        )
    elif not callable(scale_fn):
      raise TypeError(f"scale_fn must be callable, got {scale_fn!r}.")
    elif scale_mode not in ("cycle", "iterations"):
      raise ValueError("'scale_mode' must be one of 'cycle' or 'iterations")
    self.gamma = self.exp_gamma = _check_finite("exp_gamma", exp_gamma)  # gamma: the family's
    self.max_lr = float(max_learning_rate)
    self.step_size_up, self.step_size_down = step_size_up, step_size_down
    self.mode, self.scale_fn, self.scale_mode = mode, scale_fn, scale_mode
    super().__init__(base_learning_rate, last_epoch, verbose, horizon=horizon)


class LinearLR(_Replayed, family.LinearLR):
  r"""Paddle's ``LinearLR`` (recursive, PyTorch's): from ``lr * start_factor`` to ``lr *
  end_factor`` over ``total_steps`` epochs, then held.

  Epoch 0: ``lr * start_factor``; epochs 1 to ``total_steps``: ``last * (1.0 + (end -
  start) / (total_steps * start + (e - 1) * (end - start)))``; after: ``last``.

  Args:
    total_steps: int > 0.
    start_factor: in (0, 1], default 1/3.
    end_factor: in [0, 1], default 1.0.
    learning_rate, last_epoch, verbose: see :class:`LRScheduler`.

  Example:
    >>> from adamax_optax.paddle.optimizer import lr
    >>> schedule = lr.LinearLR(1.0, total_steps=4, start_factor=0.5, end_factor=1.0)
    >>> print([schedule.value_at(n) for n in range(6)])
    [0.5, 0.625, 0.75, 0.875, 1.0, 1.0]

  References:
    Paddle ``paddle.optimizer.lr.LinearLR``.
  """

  def __init__(
    self,
    learning_rate: float,
    total_steps: int,
    start_factor: float = 1.0 / 3,
    end_factor: float = 1.0,
    last_epoch: int = -1,
    verbose: bool = False,
  ):
    message = f"`total_steps` must be greater than 0, but got {total_steps}"
    self.total_steps = self.total_iters = _check_positive_int("total_steps", total_steps, message)
    _check_finite("start_factor", start_factor)
    if not 0 < start_factor <= 1:
      raise ValueError(
        f"`start_factor` must be greater than 0 and less or equal to 1, but got {start_factor}"
      )
    self.start_factor = start_factor
    _check_finite("end_factor", end_factor)
    if not 0 <= end_factor <= 1:
      raise ValueError(f"`end_factor` must be greater than 0 and less than 1, but got {end_factor}")
    self.end_factor = end_factor
    self._natural_end = total_steps  # total_iters above: the family's name
    super().__init__(learning_rate, last_epoch, verbose, horizon=1)


class CosineAnnealingWarmRestarts(_Replayed, family.CosineAnnealingWarmRestarts):
  r"""Paddle's ``CosineAnnealingWarmRestarts`` (SGDR): cosine annealing restarted every
  ``T_i`` epochs, ``T_i`` starting at ``T_0`` and multiplied by ``T_mult`` at each restart.

  ``lr_e = eta_min + (lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2``, ``T_cur`` the
  epochs since the last restart (PyTorch's algorithm).

  Args:
    T_0: int > 0.
    T_mult: int >= 1, default 1.
    eta_min: float, default 0.
    learning_rate, last_epoch, verbose, horizon: see :class:`LRScheduler`.

  Example:
    >>> from adamax_optax.paddle.optimizer import lr
    >>> schedule = lr.CosineAnnealingWarmRestarts(1.0, T_0=2, T_mult=2, horizon=8)
    >>> print([round(schedule.value_at(n), 4) for n in range(8)])
    [1.0, 0.5, 1.0, 0.8536, 0.5, 0.1464, 1.0, 0.9619]

  References:
    Paddle ``paddle.optimizer.lr.CosineAnnealingWarmRestarts``; Loshchilov & Hutter, 2017.
  """

  def __init__(
    self,
    learning_rate: float,
    T_0: int,
    T_mult: int = 1,
    eta_min: float = 0,
    last_epoch: int = -1,
    verbose: bool = False,
    *,
    horizon: int = DEFAULT_HORIZON,
  ):
    self.T_0 = _check_positive_int("T_0", T_0, f"Expected positive integer T_0, but got {T_0}")
    self.T_mult = _check_positive_int(
      "T_mult", T_mult, f"Expected integer T_mult >= 1, but got {T_mult}"
    )
    self.eta_min = float(_check_finite("eta_min", eta_min))
    super().__init__(learning_rate, last_epoch, verbose, horizon=horizon)


class ReduceOnPlateau(PlateauScheduler):
  r"""Paddle's ``ReduceOnPlateau``: the rate times ``factor`` when a metric stops improving.

  A metric drives it, passed to every update as ``update(grads, state, params,
  value=metric)``. Each ``step(metric)``, in Paddle's order: while ``cooldown_counter > 0``
  it only counts down (the metric is ignored, ``best`` included); otherwise a better
  metric (``"min"`` and ``"rel"``: ``metric < best - best * threshold``; ``"abs"``:
  ``metric < best - threshold``; ``"max"``: ``metric > best + best * threshold`` or
  ``metric > best + threshold``; the first metric always) becomes ``best`` and clears the
  bad count, any other adds one; after more than ``patience`` bad ones the cooldown
  starts, the count clears and the rate becomes ``max(lr * factor, min_lr)`` if that
  lowers it by more than ``epsilon``. The rates are Paddle's doubles (:attr:`levels`).

  Args:
    learning_rate: float >= 0, the starting rate.
    mode: ``"min"`` (default) or ``"max"``.
    factor: in [0, 1), default 0.1.
    patience: int >= 0, default 10.
    threshold: >= 0, default 1e-4.
    threshold_mode: ``"rel"`` (default) or ``"abs"``.
    cooldown: int >= 0, default 0.
    min_lr: >= 0, default 0.
    epsilon: >= 0, default 1e-8.
    verbose: accepted for Paddle's signature; nothing is printed.
    metrics_dtype: keyword-only, the type of the metrics the script passes to
      ``scheduler.step``, which Paddle keeps as ``best`` and compares in: ``"float64"``
      (default; a Python float or ``np.float64``: doubles) or ``"float32"`` (a float32
      Tensor or ``np.float32``, as ``scheduler.step(loss)`` passes the loss:
      ``best - best * threshold`` rounded to float32 at each operation).

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.paddle.optimizer import Adamax, lr
    >>> opt = Adamax(learning_rate=lr.ReduceOnPlateau(0.1, factor=0.5, patience=0))
    >>> w = jnp.ones(1)
    >>> state = opt.init(w)
    >>> for loss in [1.0, 1.0, 1.0]:  # read from the second update: 1.0, then no better
    ...   updates, state = opt.update(jnp.ones(1), state, w, value=loss)
    >>> print(state.reductions)
    1

  References:
    Paddle ``paddle.optimizer.lr.ReduceOnPlateau``.
  """

  name = "ReduceOnPlateau"
  metric_ignored_in_cooldown = True
  #: More reductions than this are not tabulated (the rate then holds).
  MAX_LEVELS = 10_000

  def __init__(
    self,
    learning_rate: float,
    mode: str = "min",
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 0,
    min_lr: float = 0,
    epsilon: float = 1e-8,
    verbose: bool = False,
    *,
    metrics_dtype: str = "float64",
  ):
    self.base_lr = _check_learning_rate(learning_rate)
    if metrics_dtype not in ("float64", "float32"):
      raise ValueError(
        f"metrics_dtype must be 'float64' (Python float metrics) or 'float32' (float32 "
        f"Tensor or np.float32 metrics, as scheduler.step(loss) passes), got {metrics_dtype!r}."
      )
    self.metrics_dtype = metrics_dtype
    if mode not in ("min", "max"):
      raise ValueError(f"mode: {mode} is unknown!")
    _check_finite("factor", factor)
    if factor >= 1.0:
      raise ValueError("new_lr = origin_lr * gamma and gamma should be < 1.0.")
    if factor < 0:
      raise ValueError(f"factor must be in [0, 1), got {factor!r}.")
    if threshold_mode not in ("rel", "abs"):
      raise ValueError(f"threshold mode: {threshold_mode} is unknown!")
    check_int("patience", patience, 0)
    check_int("cooldown", cooldown, 0)
    for name, value in (("threshold", threshold), ("min_lr", min_lr), ("epsilon", epsilon)):
      _check_finite(name, value)
      if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}.")
    super().__init__(
      mode=mode,
      factor=factor,
      patience=int(patience),
      threshold=threshold,
      threshold_mode=threshold_mode,
      cooldown=int(cooldown),
      min_lr=min_lr,
      eps=epsilon,
      max_reductions=self.MAX_LEVELS - 1,
    )
    self.verbose = bool(verbose)
    #: The rate after ``k`` reductions at index ``k`` (Paddle's doubles).
    self.levels = self.levels_from(self.base_lr, min_lr)

  @property
  def epsilon(self) -> float:
    """Paddle's name for :attr:`eps`."""
    return self.eps

  def reduction_limit(self) -> int:
    """The last index of :attr:`levels` (the rate then holds)."""
    return len(self.levels) - 1

  def threshold_bound(self, best, times, plus):
    """Paddle's: ``best - best * threshold`` (``"min"``, ``"rel"``), ``best + best *
    threshold`` (``"max"``), ``best -+ threshold`` (``"abs"``, as PyTorch)."""
    if self.threshold_mode == "abs":
      return super().threshold_bound(best, times, plus)
    step = times(best, self.threshold)
    return df.add(best, df.negate(step) if self.mode == "min" else step)

  def compared(self, value: df.DoubleFloat) -> df.DoubleFloat:
    """The metric or ``best`` as Paddle holds it: the double, or its float32 rounding
    (the pair's high part, its low part 0) with ``metrics_dtype="float32"``."""
    return value if self.metrics_dtype == "float64" else float32_metric(value)

  def improved(self, metric: df.DoubleFloat, best: df.DoubleFloat) -> jax.Array:
    """PyTorch's comparison with Paddle's bound, in the metrics' type; the first metric
    always improves (Paddle's ``best is None``)."""
    first = best.hi == self.initial_best()
    if self.metrics_dtype == "float64":
      return super().improved(metric, best) | first
    best, threshold = best.hi, jnp.float32(self.threshold)
    # Each float32 operation rounds, as NumPy's and Paddle's do: no multiply-add.
    step = rounded(best * threshold) if self.threshold_mode == "rel" else threshold
    if self.mode == "min":
      return (metric.hi < best - step) | first
    return (metric.hi > best + step) | first

  def optimizer(
    self,
    build: Callable[[Callable[[jax.Array], jax.Array]], optax.GradientTransformation],
    *,
    every: int = 1,
  ) -> optax.GradientTransformationExtraArgs:
    """``build(schedule)`` run with this plateau's current rate as its schedule (a
    :class:`~adamax_optax.schedules.DoubleConstant`); ``update`` takes ``value=``."""
    return on_plateau(
      lambda rates: build(rates[0]),
      self.reduction_tables([self.base_lr]),
      self.advance,
      initial_best=self.initial_best(),
      every=int(every),
    )

  def as_transformation(
    self, *, flip_sign: bool = True, every: int = 1
  ) -> optax.GradientTransformationExtraArgs:
    """A stage multiplying the updates by ``-lr`` (``lr`` with ``flip_sign=False``) in
    float32, ``lr`` the current rate; ``update`` takes ``value=metric``."""
    return self.optimizer(
      lambda rate: optax.scale_by_learning_rate(rate, flip_sign=flip_sign), every=every
    )

  def __repr__(self) -> str:
    return f"ReduceOnPlateau(base_lr={self.base_lr!r}, levels={len(self.levels)})"


__all__ = [
  "CosineAnnealingDecay",
  "CosineAnnealingWarmRestarts",
  "CyclicLR",
  "ExponentialDecay",
  "InverseTimeDecay",
  "LRScheduler",
  "LambdaDecay",
  "LinearLR",
  "LinearWarmup",
  "MultiStepDecay",
  "MultiplicativeDecay",
  "NaturalExpDecay",
  "NoamDecay",
  "OneCycleLR",
  "PiecewiseDecay",
  "PolynomialDecay",
  "ReduceOnPlateau",
  "StepDecay",
]
