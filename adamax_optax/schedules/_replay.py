"""The scheduler engine: a framework's scheduler replayed on the host, tabulated per group.

PyTorch, MindSpore, Paddle and MXNet schedulers are objects that rewrite each parameter
group's ``lr`` at every ``scheduler.step()`` (MXNet: at every ``sched(num_update)`` call),
most of them recursively (``lr *= gamma``), in the number type their framework computes
in: Python doubles (PyTorch, Paddle, MXNet) or float32 tensors (MindSpore). The engine
replays that protocol once on the host and hands the optimizer one
:class:`~adamax_optax.schedules.ExactSchedule` per group, so the compiled step looks up the
very value the framework would have used.

The pieces:

* a :class:`Group` is one parameter group as schedulers see it (``lr``, ``initial_lr``,
  ``beta1``), shared by every scheduler stepping it;
* a :class:`Run` is one scheduler's replay on one group: PyTorch's ``last_epoch``, the
  constructor's first step, ``step()`` and ``step(0)``;
* a :class:`Scheduler` is the algorithm: what the constructor sets up, what ``step()``
  computes from the group's current ``lr`` (``get_lr``), the closed form ``step(epoch)``
  uses, and any state of its own (``reset``, ``advance``); it is written once, over a
  :class:`~adamax_optax.schedules.Numbers` type, and
  :meth:`Scheduler.tabulate_groups` does the rest: the per-``every``-updates stepping, the
  horizon, ``betas[0]`` cycling and a cache of the tables;
* :meth:`Scheduler.quiet_steps` lets a scheduler say how many of its next steps change
  nothing (a step decay between two decays), and :func:`replay` skips them: a table keeps
  one entry per run of equal values and costs one replayed step per change.
* :meth:`Scheduler.epoch_table` lets an open-ended scheduler compute every epoch's value
  at once on arrays, operation for operation in its number type (tested bit for bit
  against the replay), instead of a Python step per epoch; a composite hands it the
  stretch that one scheduler takes alone (``SequentialLR`` past its last milestone).

Past the end of its table a scheduler's rate is exact or visibly not a rate: where the
framework's scheduler stops changing (:meth:`Scheduler.quiet_steps` returns ``None``:
the last milestone, ``total_iters``) the last value holds, exactly; where the framework
raises at a step (:class:`PastTheEnd`, e.g. PyTorch's ``OneCycleLR`` past
``total_steps``; an ``OverflowError``, e.g. ``2.0 ** (cycle - 1)`` of a ``triangular2``
``CyclicLR`` at cycle 1025) and past a ``horizon`` that cut the replay short, the rate is
NaN, so the update and the parameters turn NaN where a check of the loss sees them,
instead of a silently held rate. A scheduler whose framework holds its last value at a
natural end sets :attr:`Scheduler.holds_past_horizon`.

A framework's scheduler is then a declaration: the framework's signature, defaults and
messages on top of an algorithm of :mod:`adamax_optax.schedules` (written once for the
PyTorch family), overriding a method only where the framework really computes otherwise.

Example: a scheduler that halves the rate every ``every`` epochs, declared for a framework
that computes in float32 (as MindSpore's would be)::

  >>> from adamax_optax.schedules import FLOAT32, Scheduler
  >>> class Halving(Scheduler):
  ...   numbers = FLOAT32
  ...   def __init__(self, every, *, horizon=8):
  ...     self.every, self.horizon = every, horizon
  ...   def get_lr(self, run):
  ...     if run.epoch == 0 or run.epoch % self.every:
  ...       return run.group.lr
  ...     return run.group.lr * 0.5
  >>> (table,), _ = Halving(every=2).tabulate_groups([0.1])
  >>> [round(table.value_at(n), 6) for n in range(5)]
  [0.1, 0.1, 0.05, 0.05, 0.025]
"""

import bisect
import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from adamax_optax import _float32
from adamax_optax.schedules._exact import ExactSchedule
from adamax_optax.validation import check_every


@dataclasses.dataclass(frozen=True)
class Numbers:
  """The number type a framework computes its schedulers in.

  Attributes:
    name: a label.
    value: a Python number (a group's lr, a per-group argument) as the framework holds it.
    epoch: ``last_epoch`` as the framework holds it in arithmetic (PyTorch: a Python int;
      MindSpore: a float32 Parameter).
    cos: the framework's cosine on one of its numbers.
    floor: its floor.
    pow: its power (``a ** b``), which a framework may compute with a library call whose
      last bit differs from an exact power.
  """

  name: str
  value: Callable[[Any], Any]
  epoch: Callable[[int], Any]
  cos: Callable[[Any], Any]
  floor: Callable[[Any], Any]
  pow: Callable[[Any, Any], Any]
  #: The NumPy type whose arithmetic is the framework's (a multiply rounds the same).
  dtype: type = np.float64

  def cosines(self, angles: np.ndarray) -> np.ndarray:
    """:attr:`cos` of each of ``angles`` (an array of :attr:`dtype`), as an array of
    :attr:`dtype`: both number types take the C library's double cosine (``math.cos``)
    of the angle and round it to their type. Element by element through ``math.cos``,
    not ``np.cos``: NumPy's vectorised cosine may differ from the C library's in the
    last bit (SIMD kernels on AVX-512), and from one machine to the next."""
    doubles = np.fromiter(
      map(math.cos, angles.astype(np.float64).tolist()), np.float64, angles.size
    )
    return doubles.astype(self.dtype)


#: Python doubles: PyTorch, Paddle and MXNet.
DOUBLE = Numbers("double", float, int, math.cos, math.floor, lambda a, b: a**b)


def _float32_cos(x) -> _float32.Tensor32:
  return _float32.Tensor32(_float32.cosf(float(x)))


def _float32_floor(x) -> _float32.Tensor32:
  return _float32.Tensor32(np.floor(_float32.Tensor32(x).value))


def _float32_pow(a, b) -> _float32.Tensor32:
  return _float32.Tensor32(_float32.powf(float(a), float(b)))


#: Float32 tensors with MindSpore's kernels (:class:`~adamax_optax._float32.Tensor32`).
FLOAT32 = Numbers(
  "float32",
  _float32.Tensor32,
  lambda epoch: _float32.Tensor32(_float32.F32(epoch)),
  _float32_cos,
  _float32_floor,
  _float32_pow,
  np.float32,
)


class PastTheEnd(Exception):
  """Raised by a scheduler's step that its framework refuses (PyTorch's ``OneCycleLR``
  stepped past ``total_steps``): its table ends there, and the rate from that step on
  is NaN."""


class Group:
  """One parameter group as its schedulers see it; they read and write ``lr`` and
  ``beta1``, and the first to be built sets ``initial_lr``."""

  __slots__ = ("beta1", "index", "initial_lr", "lr")

  def __init__(self, index: int, lr, beta1):
    self.index, self.lr, self.beta1, self.initial_lr = index, lr, beta1, None


class Run:
  """One scheduler's replay on one group: PyTorch's ``last_epoch`` and its ``step`` calls.

  ``epoch`` is the Python int; :attr:`last_epoch` the epoch in the scheduler's number
  type; ``base`` the group's ``initial_lr`` when the scheduler was built (its
  ``base_lrs`` entry). A scheduler keeps any state of its own on the run.
  """

  def __init__(self, scheduler: "Scheduler", group: Group, last_epoch: int = -1):
    # ``last_epoch``: the epoch before the constructor's step (Paddle resumes from one).
    self.scheduler, self.group, self.epoch, self.base = scheduler, group, last_epoch, None

  @property
  def last_epoch(self):
    return self.scheduler.numbers.epoch(self.epoch)

  def construct(self) -> None:
    """The scheduler's constructor: its setup, ``initial_lr``, then the first step (which
    keeps the group's lr for a scheduler rebuilt past epoch 0 that
    :attr:`~Scheduler.keeps_lr_when_rebuilt`)."""
    self.scheduler.setup(self)
    if self.group.initial_lr is None:
      self.group.initial_lr = self.group.lr
    self.base = self.group.initial_lr
    self.scheduler.reset(self)
    if self.epoch >= 0 and self.scheduler.keeps_lr_when_rebuilt:
      self.epoch += 1
      self.scheduler.advance(self)
    else:
      self.step()

  def step(self) -> None:
    """``scheduler.step()``."""
    self.epoch += 1
    if self.epoch > 0:
      self.scheduler.advance(self)
    self.group.lr = self.scheduler.get_lr(self)

  __call__ = step  # a run is its scheduler's driver (see Scheduler.driver)

  def quiet_steps(self) -> int | None:
    """How many of the following ``step()`` calls change nothing (see
    :meth:`Scheduler.quiet_steps`)."""
    return self.scheduler.quiet_steps(self)

  def skip(self, steps: int) -> None:
    """Leaves out ``steps`` calls of ``step()`` that change nothing."""
    self.epoch += steps

  def restart(self) -> None:
    """``scheduler.step(0)``: back to epoch 0 by the closed form (SequentialLR's milestone)."""
    self.epoch = 0
    self.scheduler.reset(self)
    self.group.lr = self.scheduler.closed_form(self)


class Scheduler:
  """A scheduler algorithm, replayed per group and tabulated (see the module docstring).

  Subclasses define :meth:`get_lr` and, where the algorithm needs them, :meth:`setup`,
  :meth:`reset`, :meth:`advance` and :meth:`closed_form`. A wing's class sets ``numbers``,
  ``horizon`` (updates tabulated; past it the rate is NaN unless the schedule stopped
  changing, see the module docstring) and the arguments.
  """

  numbers: Numbers = DOUBLE
  horizon: int
  #: Names of the arguments that take one entry per group.
  per_group: tuple[str, ...] = ()
  #: Whether the scheduler writes ``betas[0]`` (PyTorch's cycle_momentum).
  cycles_beta1: bool = False
  #: Whether a per-group list argument must have one entry when the scheduler is used
  #: alone (PyTorch checks it against the optimizer's one group).
  standalone_checks_groups: bool = False
  #: Whether the framework's scheduler keeps its last value from ``horizon`` on (a
  #: schedule that ends there); otherwise the rate past the horizon is NaN.
  holds_past_horizon: bool = False
  #: Whether the constructor's step of a scheduler built with ``last_epoch >= 0`` keeps
  #: the group's lr (PyTorch's "initial mode" for some of its schedulers).
  keeps_lr_when_rebuilt: bool = False

  # --- the algorithm ---------------------------------------------------------------------

  def setup(self, run: Run) -> None:
    """What the constructor writes into the group before ``initial_lr`` is read."""

  def reset(self, run: Run) -> None:
    """The scheduler's own state at epoch 0 (construction, or ``step(0)``)."""

  def advance(self, run: Run) -> None:
    """The change of the scheduler's own state in ``step()``, before ``get_lr``."""

  def get_lr(self, run: Run):
    """The group's lr at ``run.epoch``, from its current ``run.group.lr``."""
    raise NotImplementedError

  def closed_form(self, run: Run):
    """The lr at ``run.epoch`` from ``run.base`` alone (what ``step(epoch)`` uses)."""
    return self.get_lr(run)

  def quiet_steps(self, run: Run) -> int | None:
    """How many of the ``step()`` calls after ``run.epoch`` leave the lr and every state
    as they are (``None``: all of them). The tables skip those calls and keep one run of
    equal values, so a step schedule over a million updates costs a few thousand steps.
    0, the default, is always right."""
    return 0

  def step_factor(self, run: Run):
    """The one number that every ``step()`` from epoch 1 on multiplies the group's lr
    by, and that is all it does (``ExponentialLR``'s ``gamma``); ``None`` (the default)
    for any other scheduler. :func:`replay` then replays the recursion with
    ``np.multiply.accumulate`` in the scheduler's number type: the products in sequence,
    each rounded as the framework's ``lr * gamma`` is, without a Python step each."""
    return None

  def epoch_table(self, run: Run, epochs: int) -> "tuple[np.ndarray, np.ndarray | None] | None":
    """``(lrs, beta1s)``: the group's values at ``epochs`` epochs from ``run.epoch`` on
    (the run just built, its values those of ``run.epoch``), all at once, as doubles;
    ``beta1s`` is ``None`` where the scheduler leaves ``betas[0]`` alone. Fewer than
    ``epochs`` values where the framework raises at the next epoch (:class:`PastTheEnd`,
    ``OverflowError``). ``None`` (the default for a scheduler without
    :meth:`step_factor`) where the values are replayed step by step instead.

    An override computes what ``step()`` computes, operation for operation in the
    scheduler's :class:`Numbers` (NumPy's ``+ - * /`` and ``floor`` on float64 and
    float32 arrays round as Python's doubles and MindSpore's float32 kernels do), and is
    tested against the step-by-step replay bit for bit. It saves a Python step per
    epoch: a million of them for an open-ended scheduler at the default horizon.
    """
    factor = self.step_factor(run)
    if factor is None:
      return None
    return _products(run.group.lr, factor, epochs, self.numbers.dtype), None

  def rebuilt_after(self) -> int | None:
    """``None``, or the ``last_epoch`` of a scheduler rebuilt on an optimizer that was
    saved after the scheduler's step to epoch ``last_epoch + 1``: the tables hold the
    uncut run up to epoch ``last_epoch``, then the rebuilt scheduler's values, from its
    constructor's step on (see :meth:`tabulate_groups`)."""
    return None

  def driver(self, group: Group) -> Callable[[], None]:
    """Builds the scheduler on ``group``; the result is its ``scheduler.step()``.

    The result of this default is the :class:`Run`, which can also skip steps that
    change nothing (:meth:`Run.quiet_steps`); a driver that cannot is a plain function.
    """
    run = Run(self, group)
    run.construct()
    return run

  def for_group(self, name: str, run: Run):
    """Argument ``name`` for the run's group: its entry of a per-group list, or the value."""
    value = getattr(self, name)
    return value[run.group.index] if isinstance(value, (list, tuple)) else value

  def group_count_error(self, name: str, entries: int, groups: int) -> ValueError:
    """The error for a per-group argument whose length is not the number of groups."""
    return ValueError(
      f"{type(self).__name__}: {name} has {entries} entries but there are {groups} "
      "parameter groups; give one per group."
    )

  def check_groups(self, groups: int) -> None:
    for name in self.per_group:
      value = getattr(self, name)
      if isinstance(value, (list, tuple)) and len(value) != groups:
        raise self.group_count_error(name, len(value), groups)

  # --- tabulation ------------------------------------------------------------------------

  def tabulate_groups(
    self, lrs: Sequence[float], every: int = 1, beta1: float = 0.9, *, check_groups=True
  ) -> tuple[list[ExactSchedule], list[ExactSchedule] | None]:
    """``(lr schedules, beta1 schedules or None)``, one per group, by optax count.

    Args:
      lrs: each group's lr before the scheduler is built, in group order.
      every: updates per ``scheduler.step()``; the update at count ``n`` uses epoch
        ``n // every``.
      beta1: the optimizer's ``betas[0]``, which a scheduler with ``cycles_beta1``
        rewrites (the second list; ``None`` for any other scheduler).
      check_groups: whether per-group list arguments must have one entry per group.

    The tables are computed once per arguments and kept with the scheduler.
    """
    every = check_every(every)
    lrs, beta1 = tuple(float(lr) for lr in lrs), float(beta1)
    if check_groups:
      self.check_groups(len(lrs))
    return self.cached(("groups", lrs, every, beta1), lambda: self._tabulate(lrs, every, beta1))

  def group_schedules(self, lrs: Sequence[float], every: int = 1) -> list[ExactSchedule]:
    """One :class:`ExactSchedule` per group starting at ``lrs`` (in group order),
    ``every`` updates per ``scheduler.step()``: value ``n`` is the group's lr at the
    update at count ``n``."""
    return self.tabulate_groups(lrs, every)[0]

  def cached(self, key, make: Callable[[], Any]):
    """``make()``, computed once per ``key`` and kept with the scheduler (its tables)."""
    tables = self.__dict__.setdefault("_tables", {})
    if key not in tables:
      tables[key] = make()
    return tables[key]

  def _tabulate(self, lrs, every, beta1):
    numbers = self.numbers
    epochs = -(-self.horizon // every)
    name = type(self).__name__
    lr_tables, beta1_tables = [], []
    rebuilt = self.rebuilt_after()
    rebuilt = rebuilt if rebuilt is not None and rebuilt + 1 < epochs else None
    # A rebuilt scheduler's uncut run is needed up to the epoch of the save only.
    uncut_epochs = epochs if rebuilt is None else rebuilt + 2
    for index, lr in enumerate(lrs):
      group = Group(index, numbers.value(lr), numbers.value(beta1))
      holds = self.holds_past_horizon
      replayed = replay(self.driver(group), group, uncut_epochs, holds_past_end=holds)
      if rebuilt is not None:
        replayed = self._rebuilt(replayed, index, numbers.value(lr), rebuilt, epochs)
      starts, lr_values, beta1_values = replayed
      tabulated = max(epochs, starts[-1] + 1)  # (a NaN run may start at the horizon)
      lr_tables.append(ExactSchedule.from_runs(starts, lr_values, tabulated, name).stretched(every))
      beta1_tables.append(
        ExactSchedule.from_runs(starts, beta1_values, tabulated, f"{name}.beta1").stretched(every)
      )
    return lr_tables, (beta1_tables if self.cycles_beta1 else None)

  def _rebuilt(self, replayed, index: int, lr, last_epoch: int, epochs: int):
    """``replayed`` (the uncut run's starts, lrs and beta1s) up to epoch ``last_epoch``,
    then the scheduler built with ``last_epoch`` on the group as the optimizer was saved
    after the step to epoch ``last_epoch + 1`` (its lr and ``betas[0]`` then, its
    ``initial_lr`` the uncut run's)."""
    starts, lrs, beta1s = (np.asarray(x) for x in replayed)
    cut = last_epoch + 1
    at = int(np.searchsorted(starts, cut, side="right")) - 1
    numbers = self.numbers
    group = Group(index, numbers.value(float(lrs[at])), numbers.value(float(beta1s[at])))
    group.initial_lr = lr
    run = Run(self, group, last_epoch)
    run.construct()
    later = replay(run, group, epochs - cut, holds_past_end=self.holds_past_horizon)
    before = starts < cut
    return (
      np.concatenate([starts[before], np.asarray(later[0]) + cut]),
      np.concatenate([lrs[before], np.asarray(later[1], np.float64)]),
      np.concatenate([beta1s[before], np.asarray(later[2], np.float64)]),
    )

  def standalone_lr(self) -> float:
    """The lr the scheduler starts from when called as an optax schedule on its own."""
    raise NotImplementedError

  def __call__(self, count):
    """The lr at optax ``count`` for one group starting at :meth:`standalone_lr`."""
    lrs = [self.standalone_lr()]
    (schedule,), _ = self.tabulate_groups(lrs, check_groups=self.standalone_checks_groups)
    return schedule(count)


def replay(step: Callable[[], None], group: Group, epochs: int, *, holds_past_end=False):
  """``(starts, lrs, beta1s)``: the group's values from the scheduler's first step on,
  one entry per run of epochs that ``step`` (a driver) leaves unchanged, over ``epochs``
  epochs (fewer where no later step changes anything).

  A step that raises :class:`PastTheEnd` or ``OverflowError`` (where the framework
  raises) ends the table with a NaN run from that epoch on; so does reaching ``epochs``
  while later steps could still change the values, unless ``holds_past_end``.
  """
  if isinstance(step, Run):
    table = _whole_table(step, epochs)
    if table is not None:
      lrs, beta1s = table
      beta1 = group.beta1 if beta1s is None else beta1s[0]
      return _continued(([0], [float(lrs[0])], [float(beta1)]), *table, epochs, holds_past_end)
  quiet_steps = getattr(step, "quiet_steps", lambda: 0)  # a Run skips quiet steps
  multiplying = getattr(step, "multiplying", lambda: None)
  alone = getattr(step, "alone", None)  # a run that takes every later step alone
  starts, lr_values, beta1_values = [], [], []
  epoch = 0
  while True:
    # (appends in the loop, not through a helper: a million steps pay for each call)
    starts.append(epoch)
    lr_values.append(float(group.lr))
    beta1_values.append(float(group.beta1))
    last = alone() if alone is not None else None
    if last is not None:
      alone = None  # (tried once: a run without a whole table is replayed to the end)
      table = _whole_table(last, epochs - epoch)
      if table is not None:
        return _continued((starts, lr_values, beta1_values), *table, epochs, holds_past_end)
    product = multiplying()
    if product is not None:
      factor, cadence, dtype = product
      return _multiplied_on(
        (starts, lr_values, beta1_values), factor, cadence, dtype, epochs, holds_past_end
      )
    quiet = quiet_steps()
    if quiet is None:
      return starts, lr_values, beta1_values
    if epoch + quiet + 1 >= epochs:
      end = None if holds_past_end else epochs
      break
    if quiet:
      step.skip(quiet)
    epoch += quiet + 1
    try:
      step()
    except (PastTheEnd, OverflowError):
      end = epoch
      break
  if end is not None:
    starts.append(end)
    lr_values.append(math.nan)
    beta1_values.append(math.nan)
  return starts, lr_values, beta1_values


def _products(lr: float, factor: float, count: int, dtype) -> np.ndarray:
  """``lr, lr * f, (lr * f) * f, ...`` (``count`` values) by ``np.multiply.accumulate``,
  which multiplies in order in ``dtype`` (the framework's ``lr * gamma``), as doubles."""
  products = np.full(count, float(factor), dtype)
  products[0] = float(lr)
  np.multiply.accumulate(products, out=products)
  return products.astype(np.float64)


def _whole_table(run: Run, epochs: int):
  """``run``'s :meth:`Scheduler.epoch_table`, or ``None`` where it has none or raises an
  ``ArithmeticError`` (an overflow, say: the replay then finds the epoch it ends at)."""
  try:
    return run.scheduler.epoch_table(run, epochs)
  except ArithmeticError:
    return None


def _continued(replayed, lrs: np.ndarray, beta1s, epochs: int, holds_past_end: bool):
  """:func:`replay`'s ``replayed`` (starts, lrs, beta1s up to the current epoch) with the
  rest of the table from the :meth:`Scheduler.epoch_table` of the run that takes every
  later step (its first values are the current epoch's, replayed already): an entry per
  epoch (the schedule joins equal neighbours), and the NaN run where the values end
  before ``epochs`` (the framework raised) or at ``epochs`` unless ``holds_past_end``."""
  starts, lr_values, beta1_values = replayed
  epoch, count = starts[-1], len(lrs)
  later_beta1s = np.full(count - 1, beta1_values[-1]) if beta1s is None else beta1s[1:]
  # (each array joined once: a million entries are copied at every join)
  end = [] if epoch + count >= epochs and holds_past_end else [math.nan]
  starts = np.concatenate([starts, np.arange(epoch + 1, epoch + count + len(end))])
  lr_values = np.concatenate([lr_values, np.asarray(lrs, np.float64)[1:], end])
  beta1_values = np.concatenate([beta1_values, np.asarray(later_beta1s, np.float64), end])
  return starts, lr_values, beta1_values


def _multiplied_on(replayed, factor, cadence: int, dtype, epochs: int, holds_past_end: bool):
  """:func:`replay`'s ``replayed`` (starts, lrs, beta1s up to the current epoch) with the
  rest of the table from a driver whose every later change multiplies the lr by
  ``factor`` at every ``cadence``-th epoch (see :meth:`_SteppedTogether.multiplying`)."""
  starts, lrs, beta1s = replayed
  epoch, lr, beta1 = starts[-1], lrs[-1], beta1s[-1]
  first = (epoch // cadence + 1) * cadence
  later = np.arange(first, epochs, cadence)
  starts = [*starts, *later.tolist()]
  lrs = [*lrs, *_products(lr, factor, len(later) + 1, dtype)[1:].tolist()]
  beta1s = [*beta1s, *[beta1] * len(later)]
  if not holds_past_end:
    starts.append(epochs)
    lrs.append(math.nan)
    beta1s.append(math.nan)
  return starts, lrs, beta1s


class _Composite(Scheduler):
  """A scheduler made of ``schedulers`` stepping the same groups."""

  schedulers: Sequence[Scheduler]

  @property
  def cycles_beta1(self):
    return any(s.cycles_beta1 for s in self.schedulers)

  def check_groups(self, groups):
    for scheduler in self.schedulers:
      scheduler.check_groups(groups)


class Sequential(_Composite):
  """``schedulers[i]`` from epoch ``milestones[i - 1]`` on (PyTorch's ``SequentialLR``).

  Every scheduler is built on the group in turn (each running its first step), then the
  group goes back to its ``initial_lr`` and the first one takes its first step again; at
  a milestone the next one restarts with ``step(0)`` (its closed form) and steps from there.
  """

  milestones: Sequence[int]

  def driver(self, group):
    runs = [Run(scheduler, group) for scheduler in self.schedulers]
    for run in runs:
      run.construct()
    group.lr = group.initial_lr
    runs[0].epoch = -1
    runs[0].step()
    return _SteppedInSequence(runs, self.milestones)


class _SteppedInSequence:
  """The driver of :class:`Sequential`: steps the run whose milestone has come, and
  restarts a run at its milestone."""

  def __init__(self, runs: Sequence[Run], milestones: Sequence[int]):
    self.runs, self.milestones, self.epoch = runs, milestones, 0

  def __call__(self) -> None:
    self.epoch += 1
    index = bisect.bisect_right(self.milestones, self.epoch)
    if index and self.milestones[index - 1] == self.epoch:
      self.runs[index].restart()
    else:
      self.runs[index].step()

  def quiet_steps(self) -> int | None:
    """The running scheduler's steps that change nothing, up to the next milestone
    (where the next scheduler restarts); ``None`` when the last one never changes again."""
    index = bisect.bisect_right(self.milestones, self.epoch)
    own = self.runs[index].quiet_steps()
    if index == len(self.milestones):
      return own
    to_milestone = self.milestones[index] - self.epoch - 1
    return to_milestone if own is None else min(own, to_milestone)

  def skip(self, steps: int) -> None:
    self.runs[bisect.bisect_right(self.milestones, self.epoch)].skip(steps)
    self.epoch += steps

  def alone(self) -> Run | None:
    """The run that takes every later step alone: the last one, from its milestone on
    (:func:`replay` then finishes the table with its :meth:`Scheduler.epoch_table`)."""
    if not self.milestones or self.epoch >= self.milestones[-1]:
      return self.runs[-1]
    return None


class Chained(_Composite):
  """Every scheduler of ``schedulers`` built on the group, then stepped in turn at each
  ``step()`` (PyTorch's ``ChainedScheduler``)."""

  def driver(self, group):
    drivers = [scheduler.driver(group) for scheduler in self.schedulers]
    return _SteppedTogether(drivers, [1] * len(drivers))


class Together(_Composite):
  """Several schedulers built on the same optimizer, each stepped at its own cadence.

  What a script does with two schedulers on one optimizer, e.g. PyTorch's
  ``warmup = LinearLR(opt, ...)`` stepped after every update and ``decay = StepLR(opt, ...)``
  stepped once per epoch of 25 updates, or MindSpore's ``ConstantLR`` and
  ``ExponentialLR`` both stepped after every update (MindSpore has no
  ``ChainedScheduler``). The schedulers are built on the group in list order (each
  constructor takes its first step on the lr the previous one left), then at epoch ``e``
  every scheduler ``i`` with ``e % cadences[i] == 0`` is stepped, in list order. A
  recursive scheduler reads the group's current lr, which the others have moved, so the
  composition is not the product of the schedulers' closed forms; the replay runs it.

  Args:
    schedulers: the schedulers, in the order they are built and stepped.
    cadences: epochs of the table per step of each scheduler (ints >= 1).

  The horizon is the longest of the schedulers'; the rate holds past it only where every
  scheduler's does (:attr:`Scheduler.holds_past_horizon`).

  Example: a halving at every epoch and a tenth at every second epoch, from 1.0::

    >>> from adamax_optax.schedules import Scheduler, Together
    >>> class Times(Scheduler):
    ...   horizon = 6
    ...   def __init__(self, factor):
    ...     self.factor = factor
    ...   def get_lr(self, run):
    ...     return run.group.lr if run.epoch == 0 else run.group.lr * self.factor
    >>> (table,), _ = Together([Times(0.5), Times(0.1)], [1, 2]).tabulate_groups([1.0])
    >>> [round(table.value_at(n), 6) for n in range(5)]
    [1.0, 0.5, 0.025, 0.0125, 0.000625]
  """

  def __init__(self, schedulers: Sequence[Scheduler], cadences: Sequence[int]):
    if len(schedulers) != len(cadences) or not schedulers:
      raise ValueError(
        f"Together: give one cadence per scheduler, got {len(schedulers)} schedulers and "
        f"{len(cadences)} cadences."
      )
    kinds = {scheduler.numbers.name for scheduler in schedulers}
    if len(kinds) > 1:
      raise ValueError(
        f"Together: the schedulers compute in different number types ({sorted(kinds)}); "
        "take every scheduler from the same framework."
      )
    self.schedulers = tuple(schedulers)
    self.cadences = tuple(check_every(cadence) for cadence in cadences)
    self.numbers = self.schedulers[0].numbers
    self.horizon = max(scheduler.horizon for scheduler in self.schedulers)
    self.holds_past_horizon = all(s.holds_past_horizon for s in self.schedulers)

  def driver(self, group):
    return _SteppedTogether([s.driver(group) for s in self.schedulers], self.cadences)


class _SteppedTogether:
  """The driver of :class:`Together` (and of :class:`Chained`, every cadence 1): steps
  each scheduler's driver at its cadence, and skips epochs in which every stepped
  scheduler's step changes nothing."""

  def __init__(self, drivers, cadences):
    self.drivers, self.cadences, self.epoch = drivers, cadences, 0

  def __call__(self) -> None:
    self.epoch += 1
    for step, cadence in zip(self.drivers, self.cadences, strict=True):
      if self.epoch % cadence == 0:
        step()

  def quiet_steps(self) -> int | None:
    """The epochs before the first one in which some scheduler takes a step that may
    change something (``None``: no scheduler ever will)."""
    quiet = None
    for step, cadence in zip(self.drivers, self.cadences, strict=True):
      own = getattr(step, "quiet_steps", lambda: 0)()
      if own is None:
        continue
      # The scheduler's steps fall on the multiples of its cadence; its (own + 1)-th
      # next one is the first that may change something.
      changing_epoch = (self.epoch // cadence + 1 + own) * cadence
      gap = changing_epoch - self.epoch - 1
      quiet = gap if quiet is None else min(quiet, gap)
    return quiet

  def _changing(self) -> list[tuple[Callable[[], None], int]]:
    """The drivers whose later steps may still change something, with their cadences."""
    return [
      (step, cadence)
      for step, cadence in zip(self.drivers, self.cadences, strict=True)
      if getattr(step, "quiet_steps", lambda: 0)() is not None
    ]

  def alone(self) -> Run | None:
    """The one run whose later steps can change anything, stepped at every epoch, when
    every other scheduler's never will again (a ``ConstantLR`` past ``total_iters``);
    :func:`replay` then finishes the table with its :meth:`Scheduler.epoch_table`."""
    changing = self._changing()
    if len(changing) == 1 and isinstance(changing[0][0], Run) and changing[0][1] == 1:
      return changing[0][0]
    return None

  def multiplying(self) -> tuple[Any, int, type] | None:
    """``(factor, cadence, dtype)`` when every later change is one scheduler's step
    multiplying the lr by ``factor`` (:meth:`Scheduler.step_factor`, e.g. an
    ``ExponentialLR`` once a ``ConstantLR`` beside it has ended), at its cadence, in its
    numbers' ``dtype``; :func:`replay` then finishes the table with
    ``np.multiply.accumulate`` instead of a Python step per epoch. Otherwise ``None``."""
    changing = self._changing()
    if len(changing) != 1 or not isinstance(changing[0][0], Run):
      return None
    run, cadence = changing[0]
    factor = run.scheduler.step_factor(run)
    if factor is None or run.epoch < 0:
      return None
    return factor, cadence, run.scheduler.numbers.dtype

  def skip(self, epochs: int) -> None:
    for step, cadence in zip(self.drivers, self.cadences, strict=True):
      skipped = (self.epoch + epochs) // cadence - self.epoch // cadence
      if skipped:
        step.skip(skipped)
    self.epoch += epochs
