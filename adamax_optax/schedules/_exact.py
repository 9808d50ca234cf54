"""Learning-rate schedules whose every value is the framework's own, looked up by count.

PyTorch, MXNet and Paddle compute their schedulers in Python doubles, most of them
recursively (``lr *= gamma`` at each ``scheduler.step()``), and MindSpore in float32
kernels; the results drift from any closed form by an ulp here and there, which a
closed-loop run turns into a different trajectory. So the wings evaluate the
framework's arithmetic on the host, once, in that framework's own precision, and
:class:`ExactSchedule` looks the value up by the update count inside the compiled step:
no host round trip, no float floors (XLA rewrites ``(n - 1) / step`` into a multiply by
a float32 reciprocal), and the double value itself reaches the step size computation
(``f32(lr / (1 - b1**t))`` in double, as PyTorch and MXNet do it).

The values are run-length encoded: a step, multi-step or plateau schedule over a
million updates keeps one entry per change, a cosine one entry per update of its
horizon; past the last entry the schedule holds its last value.
"""

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from adamax_optax import _double_float as df
from adamax_optax._rounding import computed_once
from adamax_optax.validation import check_horizon

#: Updates tabulated when a schedule does not fix its own horizon.
DEFAULT_HORIZON = 1_000_000


class ExactSchedule:
  """An optax schedule (``count -> lr``) over host-evaluated, run-length encoded values.

  ``values[n]`` is the learning rate of the update made at count ``n`` (0 first, as
  optax counts). Calling the schedule gives the float32 value; :meth:`double_float`
  gives the double as a pair of float32 (see :mod:`adamax_optax._double_float`), which
  :func:`adamax_optax.scale_by_adamax` uses where the framework divides the double
  learning rate by the bias correction.

  Args:
    values: the learning rate at counts 0, 1, ... (Python floats or a NumPy array; a
      float32 array is taken as exact float32 values).
    name: a label for ``repr`` and error messages.

  Example:
    >>> from adamax_optax.schedules import ExactSchedule
    >>> schedule = ExactSchedule([0.1, 0.1, 0.05, 0.05, 0.025])
    >>> print(schedule(0), schedule(3), schedule(100))
    0.1 0.05 0.025
    >>> schedule.num_runs
    3
  """

  def __init__(self, values: Sequence[float] | np.ndarray, name: str = "ExactSchedule"):
    double = np.asarray(values).astype(np.float64)  # float32 and float64 values are exact
    if double.ndim != 1 or double.size == 0:
      raise ValueError(f"{name}: values must be a non-empty 1-d sequence, got {double.shape}.")
    self.name, self.horizon = name, int(double.size)
    self._set_runs(np.arange(double.size), double)

  @classmethod
  def from_runs(
    cls, starts: Sequence[int], values: Sequence[float], horizon: int, name: str = "ExactSchedule"
  ) -> "ExactSchedule":
    """The schedule whose value from count ``starts[i]`` on is ``values[i]``: ``starts``
    increase from 0, and ``horizon`` counts are tabulated."""
    schedule = cls.__new__(cls)
    schedule.name, schedule.horizon = name, int(horizon)
    schedule._set_runs(np.asarray(starts), np.asarray(values, np.float64))
    return schedule

  def _set_runs(self, starts: np.ndarray, run_values: np.ndarray) -> None:
    """Runs from their first counts and double values (a run equal to the one before it
    joins it), split into float32 pairs."""
    changed = np.concatenate([[True], run_values[1:] != run_values[:-1]])
    starts, run_values = starts[changed].astype(np.int32), run_values[changed]
    self._starts, self._double = starts, run_values
    self._hi = run_values.astype(np.float32)
    self._lo = (run_values - self._hi.astype(np.float64)).astype(np.float32)
    self._bucket_bits, self._bucket_runs = _buckets(starts, self.horizon)
    # The runs from the first one that start at multiples of one length (a run per count,
    # a step decay's runs): how many, and the length.
    self._even_length = int(starts[1]) if starts.size > 1 else 1
    even = starts == np.arange(starts.size) * self._even_length
    self._even_runs = int(starts.size if even.all() else np.argmin(even))
    self._stretches = _stretches(starts)
    self._form = self._lookup_form()

  def _lookup_form(self) -> str:
    """How :meth:`_index` finds a count's run (see there), the cheapest that applies."""
    runs = self._starts.size
    if runs == 1:
      return "single"
    if self._starts[-1] == runs - 1:
      return "per count"
    if self._stretches is not None:
      return "stretches"
    if self._even_runs > _SEARCH_RUNS:
      return "division"
    return "search" if self._bucket_runs is None else "buckets"

  def _mapped(self, run_values: np.ndarray, name: str, every: int = 1) -> "ExactSchedule":
    mapped = ExactSchedule.__new__(ExactSchedule)
    mapped.name, mapped.horizon = name, self.horizon * every
    mapped._set_runs(self._starts * np.int32(every), run_values)
    return mapped

  def stretched(self, every: int) -> "ExactSchedule":
    """Value ``n`` held for counts ``n * every`` to ``(n + 1) * every - 1``: a table of
    a scheduler stepped once per ``every`` updates, from its table by epoch."""
    return self if every == 1 else self._mapped(self._double, self.name, every)

  def delayed(self, updates: int) -> "ExactSchedule":
    """Value ``n`` at count ``updates + n``, and the first value before: the table of a
    scheduler built ``updates`` updates into the run (a script that resumes and builds
    its scheduler afresh, its epoch 0 at the resumed step)."""
    if updates == 0:
      return self
    if self.horizon + updates >= 2**31:
      raise ValueError(
        f"{self.name}: a table of {self.horizon} updates delayed by {updates} passes the "
        "int32 step count (2**31 - 1); build the scheduler with a smaller horizon."
      )
    starts = np.concatenate([[0], self._starts[1:].astype(np.int64) + updates])
    return ExactSchedule.from_runs(starts, self._double, self.horizon + updates, self.name)

  def scaled(self, factor: float) -> "ExactSchedule":
    """Every value times ``factor``, multiplied in double on the host (MXNet's
    ``lr * lr_mult``), so no product reaches the compiled step unrounded."""
    return self._mapped(self._double * float(factor), f"{self.name}*{factor}")

  def one_minus(self) -> "ExactSchedule":
    """``1 - value`` for every value, in double on the host (``1 - beta1``)."""
    return self._mapped(1.0 - self._double, f"1-{self.name}")

  @property
  def run_values(self) -> np.ndarray:
    """The double value of each run, in order (a read-only view)."""
    values = self._double.view()
    values.flags.writeable = False
    return values

  @property
  def num_runs(self) -> int:
    """How many runs of equal values the table keeps (12 bytes a run)."""
    return int(self._starts.size)

  @property
  def nbytes(self) -> int:
    """Bytes of the tables the compiled step holds: the runs (an int32 start and a
    float32 pair each) and the bucket index of :meth:`_index`, if any."""
    buckets = 0 if self._bucket_runs is None else self._bucket_runs.nbytes
    return 12 * self.num_runs + buckets

  def _index(self, count) -> jax.Array:
    """The run that ``count`` (>= 0) falls in: the last run starting at or before it.

    Integer operations only, in the first of these forms that applies
    (:meth:`_lookup_form`):

    * ``"per count"``: a run per count (a cosine), so the count is the index.
    * ``"stretches"``: the run starts fall in a few stretches, each spaced one length
      apart (a step decay; a warmup of a run per count, then a step decay, then the NaN
      run past a horizon): each stretch's started runs by a division
      (:meth:`_index_in_stretches`).
    * ``"division"``: runs of one length up to some run, then the later runs (a step
      decay whose rate underflows to 0 through the subnormals): a division up to there,
      and the later runs counted, one comparison each, or searched.
    * ``"buckets"``: when every run but the last spans at least ``2**k`` counts, each
      block of ``2**k`` counts holds at most one run start, so a table of each block's
      first run and one comparison find it (:func:`_buckets`).
    * ``"search"``: a binary search unrolled into ``log2(num_runs)`` steps:
      ``jnp.searchsorted`` loops, and a loop copies the table into its state at every
      update (300 microseconds a step for a million runs on the CPU); unrolled, each
      step compiles a few instructions.

    The index is read by every lookup of the tables (float32 value, double pair), so it
    is computed once (:func:`computed_once`).
    """
    count = jnp.asarray(count, jnp.int32)
    runs, form = self.num_runs, self._form
    if form == "single":
      return jnp.zeros_like(count)
    if form == "per count":
      return jnp.minimum(count, runs - 1)
    if form == "stretches":
      return computed_once(self._index_in_stretches(count))
    if form == "division":
      even, length = self._even_runs, self._even_length
      in_even = jnp.minimum(count // length if length > 1 else count, even - 1)
      later = self._starts[even:]
      if later.size <= _COUNTED_RUNS:  # one more for each later run that has started
        started = jnp.asarray(later) <= count[..., None]
        return computed_once(in_even + jnp.sum(started, axis=-1, dtype=jnp.int32))
      in_later = even + _unrolled_search(later, count)
      return computed_once(jnp.where(count < int(later[0]), in_even, in_later))
    if form == "buckets":  # the bucket's first run, or the next one
      starts, buckets = jnp.asarray(self._starts), len(self._bucket_runs)
      first = jnp.asarray(self._bucket_runs)[jnp.minimum(count >> self._bucket_bits, buckets - 1)]
      following = jnp.minimum(first + 1, runs - 1)
      return computed_once(jnp.where(starts[following] <= count, following, first))
    return computed_once(_unrolled_search(self._starts, count))

  def _index_in_stretches(self, count: jax.Array) -> jax.Array:
    """The run of ``count`` when the run starts fall into a few stretches, each spaced
    one length apart (:func:`_stretches`): the starts at or before ``count``, counted
    stretch by stretch with a division, less one."""
    started = jnp.zeros_like(count)
    for first_start, length, starts in self._stretches:
      past = jnp.maximum(count - first_start, 0)
      # (at most the stretch's starts before the + 1: a count near 2**31 would overflow)
      within = jnp.minimum(past // length if length > 1 else past, starts - 1) + 1
      started += within if first_start == 0 else jnp.where(count >= first_start, within, 0)
    return started - 1

  def __call__(self, count: jax.typing.ArrayLike) -> jax.Array:
    """The float32 learning rate at ``count`` (updates applied before this one)."""
    return jnp.asarray(self._hi)[self._index(count)]

  def double_float(self, count: jax.typing.ArrayLike) -> df.DoubleFloat:
    """The learning rate at ``count`` as a double held in two float32 values."""
    index = self._index(count)
    return df.DoubleFloat(jnp.asarray(self._hi)[index], jnp.asarray(self._lo)[index])

  def values_at(self, counts) -> np.ndarray:
    """The exact values at ``counts`` (an int or an array of them) on the host, float64."""
    return self._double[np.searchsorted(self._starts, counts, side="right") - 1]

  def derived_table(self, key, make: Callable[[], np.ndarray]) -> np.ndarray:
    """``make()``, a host table derived from this schedule's values, computed once per
    ``key`` and kept with the schedule."""
    tables = self.__dict__.setdefault("_derived_tables", {})
    if key not in tables:
      tables[key] = make()
    return tables[key]

  def value_at(self, count: int) -> float:
    """The exact value at ``count`` on the host (a Python float)."""
    return float(self.values_at(count))

  def __repr__(self) -> str:
    return f"{self.name}(horizon={self.horizon}, runs={self.num_runs})"


# Stretches of evenly spaced run starts that a lookup counts one by one (a few scalar
# operations each).
_STRETCHES = 8
# Runs a binary search handles in few enough steps; and how much larger than the runs
# the bucket table may be.
_SEARCH_RUNS, _BUCKET_TABLE_RATIO = 16, 2
# Later runs after runs of one length that a step counts, one comparison each: one
# vector operation, where a search would compile a gather per step.
_COUNTED_RUNS = 16384


def _stretches(starts: np.ndarray) -> list[tuple[int, int, int]] | None:
  """``(first start, length, starts)`` of each stretch of ``starts`` spaced ``length``
  apart, in order (a warmup of one count per run, then a step decay's runs of 30, then
  the NaN run past a horizon: three), or ``None`` when they take more than
  ``_STRETCHES``."""
  gaps = np.diff(starts)
  # Where the gap between consecutive starts changes: a stretch runs up to the next one.
  changes = np.flatnonzero(gaps[1:] != gaps[:-1]) + 1
  stretches, first = [], 0
  while first < starts.size:
    if len(stretches) == _STRETCHES:
      return None
    if first == starts.size - 1:
      stretches.append((int(starts[first]), 1, 1))
      break
    later_changes = changes[np.searchsorted(changes, first, side="right") :]
    last = int(later_changes[0]) if later_changes.size else gaps.size  # its last start
    stretches.append((int(starts[first]), int(gaps[first]), last - first + 1))
    first = last + 1
  return stretches


def _unrolled_search(starts: np.ndarray, count: jax.Array) -> jax.Array:
  """The last index ``i`` of ``starts`` (increasing) with ``starts[i] <= count`` (0 where
  none is), by a binary search unrolled into ``log2(len(starts))`` steps."""
  runs, table = len(starts), jnp.asarray(starts)
  index = jnp.zeros_like(count)
  for bit in reversed(range((runs - 1).bit_length())):
    candidate = index + (1 << bit)
    inside = candidate < runs
    reached = table[jnp.minimum(candidate, runs - 1)] <= count
    index = jnp.where(inside & reached, candidate, index)
  return index


def _buckets(starts: np.ndarray, horizon: int) -> tuple[int, np.ndarray | None]:
  """``(k, first_run)``: the run holding count ``j * 2**k`` for every block ``j`` of the
  horizon, with ``2**k`` the largest power of two no longer than any run but the last
  (so a block holds at most one run start). ``(0, None)`` when a binary search is
  cheap enough (few runs) or the table would be more than twice the runs' size."""
  runs = starts.size
  if runs <= _SEARCH_RUNS or starts[_SEARCH_RUNS] == _SEARCH_RUNS * starts[1]:
    return 0, None  # (runs of one length up to a later run: a division, see _index)
  shortest = int(np.diff(starts).min())
  bits = shortest.bit_length() - 1
  blocks = -(-horizon // (1 << bits))
  if blocks * 4 > _BUCKET_TABLE_RATIO * 12 * runs:
    return 0, None
  first_run = np.searchsorted(starts, np.arange(blocks) << bits, side="right") - 1
  return bits, first_run.astype(np.int32)


def tabulate(
  next_value: Callable[[int], float], horizon: int, name: str = "ExactSchedule"
) -> ExactSchedule:
  """An :class:`ExactSchedule` of ``next_value(n)`` for ``n`` in ``range(horizon)``.

  ``next_value`` is called in order, so it may carry a recursion (a framework
  scheduler's ``step()``) in its closure.
  """
  horizon = check_horizon(horizon, name)
  return ExactSchedule(
    np.fromiter((next_value(n) for n in range(horizon)), np.float64, horizon), name
  )


class DoubleConstant:
  """One learning rate held as a double in two float32 values, which may be traced.

  What a metric-driven scheduler hands the optimizer it rebuilds inside ``update`` (see
  :mod:`adamax_optax.schedules._plateau`): a schedule whose every value is ``value``.

  Args:
    value: the rate, a double as a pair.
    table: optionally, the host table ``value`` was read from, ``table.double_float(index)``
      (a plateau scheduler's rates by reductions made), so that what the step derives
      from the rate alone can be tabulated on the host too.
    index: the (traced) index ``value`` was read at, with ``table``.
  """

  def __init__(
    self,
    value: df.DoubleFloat,
    table: "ExactSchedule | None" = None,
    index: jax.typing.ArrayLike | None = None,
  ):
    if (table is None) != (index is None):
      raise ValueError("DoubleConstant: give table and index together, or neither.")
    self.value, self.table, self.index = value, table, index

  def __call__(self, count: jax.typing.ArrayLike) -> jax.Array:
    return self.value.hi

  def double_float(self, count: jax.typing.ArrayLike) -> df.DoubleFloat:
    return self.value


def exact_table(schedule) -> "ExactSchedule | DoubleConstant | None":
  """The table carrying ``schedule``'s double values: the schedule itself, or the
  ``table`` of a framework scheduler that looks its values up in one (Paddle's
  schedulers); ``None`` for any other schedule."""
  if isinstance(schedule, (ExactSchedule, DoubleConstant)):
    return schedule
  table = getattr(schedule, "table", None)
  return table if isinstance(table, ExactSchedule) else None


def is_exact(schedule) -> bool:
  """Whether ``schedule`` carries the double value of its learning rate."""
  return exact_table(schedule) is not None


__all__ = [
  "DEFAULT_HORIZON",
  "DoubleConstant",
  "ExactSchedule",
  "exact_table",
  "is_exact",
  "tabulate",
]
