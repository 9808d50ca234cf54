"""The PyTorch family of schedulers, each algorithm written once.

Each class is PyTorch's ``get_lr`` (the recursive step) and closed form, in PyTorch's
order of operations, evaluated in the wing's :class:`~adamax_optax.schedules.Numbers`:
Python doubles give PyTorch's (and Paddle's) values, float32 gives MindSpore's, whose
port keeps PyTorch's expressions on float32 tensors. A wing's class declares the
arguments (signature, defaults, checks) and inherits the algorithm; the protocol is
:mod:`adamax_optax.schedules._replay`'s.
"""

import bisect
import collections
import itertools
import math

import numpy as np

from adamax_optax._float32 import Tensor32, powf_each
from adamax_optax.schedules._replay import FLOAT32, PastTheEnd, Run, Scheduler

# Epochs a float32 last_epoch counts exactly (MindSpore's); past them the whole-table
# forms (Scheduler.epoch_table) leave the scheduler to the step-by-step replay.
_FLOAT32_EPOCHS = 2**24

#: The methods of an algorithm that its whole-table form computes all at once.
_STEPPING = ("setup", "advance", "get_lr", "scale")


def _whole_table_applies(scheduler: Scheduler, algorithm: type, run: Run, epochs: int) -> bool:
  """Whether ``algorithm``'s :meth:`~Scheduler.epoch_table` may stand for the step-by-step
  replay of ``run``: the epochs exact in the scheduler's numbers, and every stepping
  method ``algorithm``'s own (a wing that computes a step otherwise is replayed step by
  step). The tables start from the run's state as built (``reset`` included), at any
  epoch (Paddle's ``last_epoch``)."""
  if scheduler.numbers is FLOAT32 and run.epoch + epochs > _FLOAT32_EPOCHS:
    return False
  own = type(scheduler)
  return all(getattr(own, name, None) is getattr(algorithm, name, None) for name in _STEPPING)


def _epochs(scheduler: Scheduler, run: Run, epochs: int) -> np.ndarray:
  """``last_epoch`` of ``epochs`` epochs from the run's on, in the scheduler's numbers."""
  return np.arange(run.epoch, run.epoch + epochs).astype(scheduler.numbers.dtype)


def _number(scheduler: Scheduler, value) -> np.generic:
  """One value of the scheduler's numbers (a Python number, a :class:`Tensor32`) as the
  NumPy scalar its arithmetic meets: a float32 kernel rounds a Python operand to float32."""
  return scheduler.numbers.dtype(float(value))


def _lambda_epochs(scheduler: Scheduler, first: int, count: int) -> list:
  """``last_epoch`` of ``count`` epochs from ``first`` on as a lambda receives it: a
  Python int (PyTorch, Paddle), or a :class:`Tensor32` (MindSpore's float32 Parameter)."""
  if scheduler.numbers is FLOAT32:
    return Tensor32.each(np.arange(first, first + count))
  return list(range(first, first + count))  # (the numbers' epoch is int)


def _lambda_factors(scheduler: Scheduler, lr_lambda, first: int, count: int):
  """The array a scheduler's ``lr * lr_lambda(e)`` multiplies by, one entry for each of
  ``count`` epochs from ``first`` on, in its number type; ``None`` where a result is not
  a number that multiplies a double as a double (a NumPy scalar, an int past 2**53):
  those are replayed step by step."""
  if scheduler.numbers is FLOAT32:
    factors = _float32_at_once(lr_lambda, np.arange(first, first + count).astype(np.float32))
    if factors is not None:
      return factors
  results = list(map(lr_lambda, _lambda_epochs(scheduler, first, count)))
  factors = _doubles(results)
  if scheduler.numbers is FLOAT32:  # Tensor32 * x rounds x to float32 first
    if factors is not None:  # (exact doubles: rounded once, as float32(x) rounds them)
      return factors.astype(np.float32)
    return np.array([Tensor32(result).value for result in results], np.float32)
  return factors


def _doubles(results: list) -> np.ndarray | None:
  """A user's function's results as the doubles that Python's ``x * result`` multiplies
  by; ``None`` where one is not a Python float, int or bool, or is an int from 2**53 on
  (a NumPy scalar multiplies by NumPy's rules): the caller then replays step by step."""
  kinds = set(map(type, results))
  if not kinds <= {float, int, bool}:
    return None
  values = np.array(results, np.float64) if results else np.zeros(0)
  if int in kinds and np.abs(values).max(initial=0.0) >= 2.0**53:
    return None
  return values


def _cycles(cycle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """``(starts, which)`` of a cycle number per epoch (it never falls): the index of each
  cycle's first epoch, and for every epoch its cycle's place among them."""
  new_cycle = cycle[1:] != cycle[:-1]
  starts = np.concatenate([[0], np.flatnonzero(new_cycle) + 1])
  return starts, np.concatenate([[0], np.cumsum(new_cycle)])


#: Arguments at which :func:`_float32_at_once` checks its values against single calls.
_SINGLE_CALL_CHECKS = 9


def _float32_at_once(function, arguments: np.ndarray) -> np.ndarray | None:
  """``function`` (a user's ``lr_lambda`` or ``scale_fn``) of each of ``arguments`` (a
  float32 array: epochs or cycles as MindSpore's Parameters hold them) in one call, on a
  :meth:`Tensor32.many` of them all, as float32 factors.

  A function of arithmetic only (``0.95 ** e``, ``1 / (1 + e)``) then gives every
  argument the value it gives that argument alone, without a Python call and float32
  scalars each (MindSpore's lambdas cost about 4 us an epoch one by one). ``None`` where
  the function needs one value at a time (a comparison, ``float(e)`` or a ``math``
  function raises on the array), returns something else than a number, or gives at a
  few arguments called alone a value that differs in any bit: the caller then calls it
  value by value.
  """
  count = arguments.size
  if count < 2:
    return None
  try:
    factors = _float32_factors(function(Tensor32.many(arguments)), count)
  except Exception:  # the function takes one value at a time; the single calls tell
    return None
  if factors is None:
    return None
  for index in np.linspace(0, count - 1, _SINGLE_CALL_CHECKS).astype(int).tolist():
    try:
      alone = _float32_factors(function(Tensor32.each(arguments[index : index + 1])[0]), 1)
    except Exception:
      return None
    if alone is None or alone.view(np.uint32)[0] != factors[index : index + 1].view(np.uint32)[0]:
      return None
  return factors


def _float32_factors(result, count: int) -> np.ndarray | None:
  """A lambda's result as ``count`` float32 factors, rounded as ``Tensor32 * result``
  rounds it; ``None`` for a result that is not a number or a :class:`Tensor32`."""
  if type(result) is Tensor32:
    value = np.asarray(result.value)
    if value.dtype != np.float32 or value.shape not in ((), (count,)):
      return None
    return np.broadcast_to(value, (count,)).copy()
  if isinstance(result, (bool, int, float, np.integer, np.floating)):
    return np.full(count, np.float32(result), np.float32)
  return None


class LambdaLR(Scheduler):
  """``lr = initial_lr * lr_lambda(last_epoch)``; ``lr_lambda`` one function or one per group."""

  per_group = ("lr_lambda",)

  def get_lr(self, run: Run):
    return run.base * self.for_group("lr_lambda", run)(run.last_epoch)

  def epoch_table(self, run: Run, epochs: int):
    """``initial_lr * lr_lambda(e)``: the lambda called at every epoch, the products in
    one NumPy multiply."""
    if not _whole_table_applies(self, LambdaLR, run, epochs):
      return None
    lr_lambda = self.for_group("lr_lambda", run)
    factors = _lambda_factors(self, lr_lambda, run.epoch, epochs)
    if factors is None:
      return None
    return (_number(self, run.base) * factors).astype(np.float64), None


class MultiplicativeLR(Scheduler):
  """``lr = lr * lr_lambda(last_epoch)`` from epoch 1 on, recursively."""

  per_group = ("lr_lambda",)

  def get_lr(self, run: Run):
    if run.epoch > 0:
      return run.group.lr * self.for_group("lr_lambda", run)(run.last_epoch)
    return run.group.lr

  def epoch_table(self, run: Run, epochs: int):
    """The recursion ``lr * lr_lambda(e)`` by ``np.multiply.accumulate`` in the
    scheduler's number type: the products in order, each rounded as a step rounds it."""
    if not _whole_table_applies(self, MultiplicativeLR, run, epochs):
      return None
    lr_lambda = self.for_group("lr_lambda", run)
    factors = _lambda_factors(self, lr_lambda, run.epoch + 1, epochs - 1)
    if factors is None:
      return None
    first = np.array([_number(self, run.group.lr)], factors.dtype)
    return np.multiply.accumulate(np.concatenate([first, factors])).astype(np.float64), None


class StepLR(Scheduler):
  """``lr = lr * gamma`` at every epoch ``e > 0`` divisible by ``step_size``; closed form
  ``initial_lr * gamma ** (e // step_size)``."""

  def get_lr(self, run: Run):
    if run.epoch == 0 or run.epoch % self.step_size != 0:
      return run.group.lr
    return run.group.lr * self.gamma

  def quiet_steps(self, run: Run) -> int:
    return self.step_size - 1 - run.epoch % self.step_size

  def closed_form(self, run: Run):
    return run.base * self.gamma ** (run.epoch // self.step_size)


class MultiStepLR(Scheduler):
  """``lr = lr * gamma ** k`` at an epoch listed ``k`` times in ``milestones``."""

  def setup(self, run: Run) -> None:
    run.decays = collections.Counter(self.milestones)

  def get_lr(self, run: Run):
    if run.epoch not in run.decays:
      return run.group.lr
    return run.group.lr * self.gamma ** run.decays[run.epoch]

  def quiet_steps(self, run: Run) -> int | None:
    later = [milestone for milestone in run.decays if milestone > run.epoch]
    return min(later) - run.epoch - 1 if later else None

  def closed_form(self, run: Run):
    return run.base * self.gamma ** bisect.bisect_right(sorted(self.milestones), run.epoch)


class ConstantLR(Scheduler):
  """``lr * factor`` at epoch 0, back at ``total_iters`` (:meth:`undo_factor`)."""

  def get_lr(self, run: Run):
    if run.epoch == 0:
      return run.group.lr * self.factor
    if run.epoch != self.total_iters:
      return run.group.lr
    return self.undo_factor(run.group.lr)

  def quiet_steps(self, run: Run) -> int | None:
    return self.total_iters - run.epoch - 1 if run.epoch < self.total_iters else None

  def undo_factor(self, lr):
    """PyTorch multiplies by the reciprocal, which is not always the inverse to the bit."""
    return lr * (1.0 / self.factor)

  def closed_form(self, run: Run):
    late = run.epoch >= self.total_iters
    return run.base * (self.factor + late * (1 - self.factor))


class LinearLR(Scheduler):
  """The factor from ``start_factor`` to ``end_factor`` over ``total_iters``, recursively:
  ``lr * (1 + (end - start) / (total_iters * start + (e - 1) * (end - start)))``."""

  def get_lr(self, run: Run):
    start, end, total = self.start_factor, self.end_factor, self.total_iters
    if run.epoch == 0:
      return run.group.lr * start
    if run.epoch > total:
      return run.group.lr
    epoch = run.last_epoch
    return run.group.lr * (1.0 + (end - start) / (total * start + (epoch - 1) * (end - start)))

  def quiet_steps(self, run: Run) -> int | None:
    return 0 if run.epoch < self.total_iters else None

  def closed_form(self, run: Run):
    start, end, total = self.start_factor, self.end_factor, self.total_iters
    return run.base * (start + (end - start) * min(total, run.epoch) / total)


class ExponentialLR(Scheduler):
  """``lr = lr * gamma`` at every epoch ``e > 0``; closed form ``initial_lr * gamma ** e``."""

  def get_lr(self, run: Run):
    return run.group.lr if run.epoch == 0 else run.group.lr * self.gamma

  def step_factor(self, run: Run):
    return self.gamma

  def closed_form(self, run: Run):
    return run.base * self.gamma**run.epoch


class PolynomialLR(Scheduler):
  """``lr * ((1 - e / T) / (1 - (e - 1) / T)) ** power`` for ``0 < e <= T``, recursively
  (``T = total_iters``); the rate is 0 from ``T`` on."""

  def get_lr(self, run: Run):
    if run.epoch == 0 or run.epoch > self.total_iters:
      return run.group.lr
    epoch, total = run.last_epoch, self.total_iters
    decay = (1.0 - epoch / total) / (1.0 - (epoch - 1) / total)
    return run.group.lr * self.numbers.pow(decay, self.power)

  def quiet_steps(self, run: Run) -> int | None:
    return 0 if run.epoch < self.total_iters else None

  def closed_form(self, run: Run):
    remaining = 1.0 - min(self.total_iters, run.epoch) / self.total_iters
    return run.base * self.numbers.pow(remaining, self.power)


class CosineAnnealingLR(Scheduler):
  """PyTorch's recursive cosine from ``initial_lr`` to ``eta_min`` over ``T_max`` epochs:
  ``(1 + cos(pi e / T)) / (1 + cos(pi (e - 1) / T)) * (lr - eta_min) + eta_min``, with a
  restart step ``lr + (initial_lr - eta_min) (1 - cos(pi / T)) / 2`` at
  ``e = T + 1 (mod 2T)``: past ``T_max`` the rate rises again (period ``2 T_max``)."""

  def get_lr(self, run: Run):
    t_max, eta_min, cos = self.T_max, self.eta_min, self.numbers.cos
    if run.epoch == 0:
      return run.group.lr
    if (run.epoch - 1 - t_max) % (2 * t_max) == 0:
      return run.group.lr + (run.base - eta_min) * (1 - cos(math.pi / t_max)) / 2
    epoch = run.last_epoch
    ratio = (1 + cos(math.pi * epoch / t_max)) / (1 + cos(math.pi * (epoch - 1) / t_max))
    return ratio * (run.group.lr - eta_min) + eta_min

  def closed_form(self, run: Run):
    cosine = 1 + self.numbers.cos(math.pi * run.last_epoch / self.T_max)
    return self.eta_min + (run.base - self.eta_min) * cosine / 2

  def epoch_table(self, run: Run, epochs: int):
    """The recursion from arrays: every epoch's ``1 + cos(pi e / T)`` at once (a
    ``math.cos`` each), the ratios of neighbours in one division, then the recursion.

    With ``eta_min`` 0 each stretch between two restart steps is a product,
    ``np.multiply.accumulate`` of the ratios from the value the stretch starts at, and a
    restart step adds its increment; otherwise (or where restarts come too often for
    stretches to pay) a loop of one multiply-add per epoch on plain numbers.
    """
    if not _whole_table_applies(self, CosineAnnealingLR, run, epochs):
      return None
    dtype, t_max = self.numbers.dtype, self.T_max
    angles = dtype(math.pi) * _epochs(self, run, epochs) / dtype(t_max)
    one_plus_cosines = dtype(1) + self.numbers.cosines(angles)
    ratios = np.empty(epochs, dtype)
    with np.errstate(divide="ignore", invalid="ignore"):  # (as a step's division would)
      ratios[1:] = one_plus_cosines[1:] / one_plus_cosines[:-1]
    # The restart step's increment, computed as a step computes it.
    restart_cosine = self.numbers.cos(math.pi / t_max)
    increment = _number(self, (run.base - self.eta_min) * (1 - restart_cosine) / 2)
    # The restart steps, at epochs e > 0 with e = T + 1 (mod 2 T), as table indices.
    restarts = range(1 + (t_max - run.epoch) % (2 * t_max), epochs, 2 * t_max)
    values = np.empty(epochs, dtype)
    values[0] = _number(self, run.group.lr)
    eta_min = _number(self, self.eta_min)
    if eta_min == 0 and math.copysign(1.0, eta_min) > 0 and len(restarts) * 64 <= epochs:
      # ratio * (lr - 0) + 0 is the product ratio * lr, with -0 made +0 by the "+ 0".
      start = 0
      for end in [*restarts, epochs]:
        stretch = ratios[start:end].copy()
        stretch[0] = values[start]
        values[start:end] = np.multiply.accumulate(stretch) + eta_min
        if end < epochs:
          values[end] = values[end - 1] + increment
        start = end
      return values.astype(np.float64), None
    lr, ratio_list = values[0], list(ratios)
    if dtype is np.float64:  # Python floats: the same doubles, without NumPy's scalar costs
      lr, ratio_list = float(lr), ratios.tolist()
      increment, eta_min = float(increment), float(eta_min)
    stepped, start = [lr], 0
    for end in [*restarts, epochs]:
      for ratio in ratio_list[start + 1 : end]:
        lr = ratio * (lr - eta_min) + eta_min
        stepped.append(lr)
      if end < epochs:
        lr = lr + increment
        stepped.append(lr)
      start = end
    return np.array(stepped, dtype).astype(np.float64), None


class CosineAnnealingWarmRestarts(Scheduler):
  """``eta_min + (initial_lr - eta_min) (1 + cos(pi T_cur / T_i)) / 2``; ``T_cur`` counts
  the epochs of the period ``T_i``, which starts at ``T_0`` and grows by ``T_mult``."""

  #: Whether a restart takes ``T_cur % T_i`` (PyTorch 2.13) or ``T_cur - T_i`` (Paddle):
  #: the same but for a scheduler built with a ``last_epoch`` from ``2 T_0`` on.
  restarts_by_remainder: bool = False

  def reset(self, run: Run) -> None:
    # T_cur is last_epoch: 0 once the first step is made, or a rebuilt scheduler's epoch.
    run.t_cur, run.t_i = self.numbers.value(max(run.epoch, 0)), self.numbers.value(self.T_0)

  def advance(self, run: Run) -> None:
    run.t_cur = run.t_cur + 1
    if run.t_cur >= run.t_i:
      by_remainder = self.restarts_by_remainder
      run.t_cur = run.t_cur % run.t_i if by_remainder else run.t_cur - run.t_i
      run.t_i = run.t_i * self.T_mult

  def get_lr(self, run: Run):
    cosine = 1 + self.numbers.cos(math.pi * run.t_cur / run.t_i)
    return self.eta_min + (run.base - self.eta_min) * cosine / 2

  def epoch_table(self, run: Run, epochs: int):
    """Period by period from the run's ``T_cur`` and ``T_i``: ``T_cur`` counts on to
    ``T_i - 1`` (whole numbers, exact in both number types below 2**24), then from 0 in
    a period ``T_mult`` times longer, so a period's values are the closed form on an
    array of them; with ``T_mult`` 1 every period repeats the same values exactly."""
    if not _whole_table_applies(self, CosineAnnealingWarmRestarts, run, epochs):
      return None
    dtype, pieces, done = self.numbers.dtype, [], 0
    base, eta_min = _number(self, run.base), _number(self, self.eta_min)
    t_cur, t_i = float(run.t_cur), run.t_i
    if t_cur != int(t_cur) or float(t_i) != int(float(t_i)) or not 0 <= t_cur < float(t_i):
      return None

    def period(start: int, stop: int) -> np.ndarray:  # the values at T_cur start, ..., stop - 1
      t_curs = np.arange(start, stop).astype(dtype)
      cosines = dtype(1) + self.numbers.cosines(dtype(math.pi) * t_curs / _number(self, t_i))
      return eta_min + (base - eta_min) * cosines / dtype(2)

    if self.T_mult == 1:
      length = int(float(t_i))
      every_t_cur = (int(t_cur) + np.arange(epochs)) % length
      return period(0, length)[every_t_cur].astype(np.float64), None
    start = int(t_cur)
    while done < epochs:
      stop = min(int(float(t_i)), start + epochs - done)
      pieces.append(period(start, stop))
      done += stop - start
      start, t_i = 0, t_i * self.T_mult
    return np.concatenate(pieces).astype(np.float64), None


class CyclicLR(Scheduler):
  """Cycles between ``base_lr`` and ``max_lr`` (closed form at every epoch).

  With ``total = step_size_up + step_size_down``: ``cycle = floor(1 + e / total)``,
  ``x = 1 + e / total - cycle``, the factor ``x / ratio`` rising, ``(x - 1) / (ratio - 1)``
  falling (``ratio = step_size_up / total``), and ``lr = base_lr + (max_lr - base_lr) *
  factor * scale``, ``scale`` 1 (``"triangular"``), ``1 / 2 ** (cycle - 1)``
  (``"triangular2"``), ``gamma ** e`` (``"exp_range"``) or ``scale_fn``. With
  ``cycle_momentum``, ``betas[0] = max_momentum - (max_momentum - base_momentum) * factor
  * scale``. The groups' rates are replaced by ``base_lr``.
  """

  per_group = ("base_lr", "max_lr", "base_momentum", "max_momentum")
  cycle_momentum = False

  @property
  def cycles_beta1(self) -> bool:
    return self.cycle_momentum

  def setup(self, run: Run) -> None:
    value = self.numbers.value
    run.group.lr = run.group.initial_lr = value(self.for_group("base_lr", run))
    if self.cycle_momentum:
      run.group.beta1 = value(self.for_group("max_momentum", run))

  def scale(self, x):
    """The height's scale at ``x`` (the cycle, or the epoch with ``"iterations"``)."""
    if self.scale_fn is not None:
      return self.scale_fn(x)
    if self.mode == "triangular":
      return 1.0
    if self.mode == "triangular2":
      return 1 / self.numbers.pow(2.0, x - 1)
    return self.numbers.pow(self.gamma, x)

  def get_lr(self, run: Run):
    up = float(self.step_size_up)
    down = up if self.step_size_down is None else float(self.step_size_down)
    total, ratio = up + down, up / (up + down)
    epoch = run.last_epoch
    cycle = self.numbers.floor(1 + epoch / total)
    x = 1.0 + epoch / total - cycle
    factor = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
    by_cycle = self.scale_mode == "cycle" if self.scale_fn is not None else self.mode != "exp_range"
    scale = self.scale(cycle if by_cycle else epoch)
    if self.cycle_momentum:  # PyTorch writes betas[0] from get_lr
      value = self.numbers.value
      top, low = value(self.for_group("max_momentum", run)), self.for_group("base_momentum", run)
      run.group.beta1 = top - (top - low) * factor * scale
    height = (self.numbers.value(self.for_group("max_lr", run)) - run.base) * factor
    return run.base + height * scale

  def epoch_table(self, run: Run, epochs: int):
    """:meth:`get_lr` on an array of every epoch: ``"triangular2"``'s scale once per
    cycle, ``"exp_range"``'s power once per epoch, a ``scale_fn`` once per cycle or
    epoch (:meth:`scales_of`). Where ``2.0 ** (cycle - 1)`` overflows (PyTorch raises)
    the values end."""
    if not _whole_table_applies(self, CyclicLR, run, epochs):
      return None
    dtype, one = self.numbers.dtype, self.numbers.dtype(1)
    up = float(self.step_size_up)
    down = up if self.step_size_down is None else float(self.step_size_down)
    total, ratio = up + down, up / (up + down)
    quotient = _epochs(self, run, epochs) / dtype(total)
    cycle = np.floor(one + quotient)
    x = one + quotient - cycle
    with np.errstate(divide="ignore", invalid="ignore"):  # (the branch not taken)
      factor = np.where(x <= dtype(ratio), x / dtype(ratio), (x - one) / dtype(ratio - 1))
    scale = dtype(1.0)
    if self.scale_fn is not None:
      scale = self.scales_of(run, cycle)
      if scale is None:
        return None
    elif self.mode == "triangular2":  # the scalar scale of each cycle, in cycle order
      starts, which = _cycles(cycle)
      cycles = cycle[starts]
      scales = []  # (the floor of a whole number is the cycle as a step holds it)
      for value in cycles.tolist():
        try:
          scales.append(_number(self, self.scale(self.numbers.floor(value))))
        except OverflowError:  # the first epoch of this cycle raises
          epochs = int(np.searchsorted(cycle, value))
          factor, which = factor[:epochs], which[:epochs]
          break
      scale = np.array(scales, dtype)[which]
    elif self.mode == "exp_range":  # gamma ** epoch: the numbers' power of every epoch
      if self.numbers is FLOAT32:
        scale = powf_each(self.gamma, _epochs(self, run, epochs))
      else:  # (Python's power of an int epoch; an overflow leaves it to the replay)
        powers = map(
          self.numbers.pow, itertools.repeat(self.gamma), range(run.epoch, run.epoch + epochs)
        )
        scale = np.fromiter(powers, np.float64, epochs)
    base = _number(self, run.base)
    top_lr = _number(self, self.numbers.value(self.for_group("max_lr", run)))
    with np.errstate(invalid="ignore"):  # (a float32 scale overflowing to inf, times 0)
      lrs = base + (top_lr - base) * factor * scale
    if not self.cycle_momentum:
      return lrs.astype(np.float64), None
    top = _number(self, self.numbers.value(self.for_group("max_momentum", run)))
    low = _number(self, self.for_group("base_momentum", run))
    beta1s = top - (top - low) * factor * scale
    return lrs.astype(np.float64), beta1s.astype(np.float64)

  def scales_of(self, run: Run, cycle: np.ndarray) -> np.ndarray | None:
    """``scale_fn`` of every epoch's cycle or epoch (``scale_mode``), in the numbers'
    type; ``None`` where the epochs must be replayed one by one.

    Float32 (MindSpore): one call on an array of them all (:func:`_float32_at_once`).
    Doubles: a call per cycle, or per epoch, with the Python number a step passes (the
    numbers' floor of the cycle; the int epoch); ``None`` if a call raises (the replay
    raises at that step) or a result is no plain Python number (:func:`_doubles`).
    """
    epochs = cycle.size
    if self.numbers is FLOAT32:
      by_cycle = self.scale_mode == "cycle"
      return _float32_at_once(self.scale_fn, cycle if by_cycle else _epochs(self, run, epochs))
    if self.scale_mode == "cycle":
      starts, which = _cycles(cycle)
      arguments = [self.numbers.floor(value) for value in cycle[starts].tolist()]
    else:
      which, arguments = None, _lambda_epochs(self, run.epoch, epochs)
    try:
      values = _doubles(list(map(self.scale_fn, arguments)))
    except Exception:  # raised at some epoch: the replay raises it there
      return None
    if values is None:
      return None
    return values if which is None else values[which]


class OneCycleLR(Scheduler):
  """The 1cycle policy: from ``max_lr / div_factor`` up to ``max_lr`` over ``pct_start``
  of ``total_steps``, then down to ``max_lr / (div_factor * final_div_factor)``
  (``three_phase`` comes back to the start first), annealed by ``"cos"`` or ``"linear"``;
  with ``cycle_momentum``, ``betas[0]`` moves the other way. The groups' rates are
  replaced. PyTorch raises when stepped past ``total_steps``: the table's rate (and
  ``betas[0]``) is NaN from epoch ``total_steps + 1`` on (:class:`PastTheEnd`)."""

  per_group = ("max_lr", "base_momentum", "max_momentum")
  cycle_momentum = False

  @property
  def cycles_beta1(self) -> bool:
    return self.cycle_momentum

  def setup(self, run: Run) -> None:
    top = self.for_group("max_lr", run)
    run.group.lr = run.group.initial_lr = top / self.div_factor
    run.levels = {"max_lr": top, "min_lr": run.group.initial_lr / self.final_div_factor}
    if self.cycle_momentum:
      run.levels["max_momentum"] = self.for_group("max_momentum", run)
      run.levels["base_momentum"] = self.for_group("base_momentum", run)
      run.group.beta1 = run.levels["max_momentum"]

  def quiet_steps(self, run: Run) -> int | None:
    total = self.total_steps or self.epochs * self.steps_per_epoch
    return 0 if run.epoch <= total else None  # (the step past total_steps raises)

  def phases(self) -> list[tuple[float, tuple[str, str], tuple[str, str]]]:
    """``(last step, (lr from, lr to), (momentum from, momentum to))`` of each phase."""
    total = self.total_steps or self.epochs * self.steps_per_epoch
    up_end = float(self.pct_start * total) - 1
    up, down = ("max_momentum", "base_momentum"), ("base_momentum", "max_momentum")
    if self.three_phase:
      return [
        (up_end, ("initial_lr", "max_lr"), up),
        (float(2 * self.pct_start * total) - 2, ("max_lr", "initial_lr"), down),
        (total - 1, ("initial_lr", "min_lr"), ("max_momentum", "max_momentum")),
      ]
    return [(up_end, ("initial_lr", "max_lr"), up), (total - 1, ("max_lr", "min_lr"), down)]

  def anneal(self, start, end, pct):
    if self.anneal_strategy == "cos":
      return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    return (end - start) * pct + start

  def get_lr(self, run: Run):
    # PyTorch reads initial_lr from the group at every step, the other levels it set.
    def level(name):
      return run.group.initial_lr if name == "initial_lr" else run.levels[name]

    total = self.total_steps or self.epochs * self.steps_per_epoch
    if run.epoch > total:
      raise PastTheEnd(
        f"Tried to step {run.epoch} times. However the number of total steps is {total}"
      )
    step, start, phases = run.epoch, 0, self.phases()
    for i, (end, (lr_from, lr_to), (momentum_from, momentum_to)) in enumerate(phases):
      if step <= end or i == len(phases) - 1:
        pct = (step - start) / (end - start)
        if self.cycle_momentum:  # PyTorch writes betas[0] from get_lr
          run.group.beta1 = self.anneal(level(momentum_from), level(momentum_to), pct)
        return self.anneal(level(lr_from), level(lr_to), pct)
      start = end
    raise AssertionError("unreachable: the last phase always matches")


__all__ = [
  "ConstantLR",
  "CosineAnnealingLR",
  "CosineAnnealingWarmRestarts",
  "CyclicLR",
  "ExponentialLR",
  "LambdaLR",
  "LinearLR",
  "MultiStepLR",
  "MultiplicativeLR",
  "OneCycleLR",
  "PolynomialLR",
  "StepLR",
]
