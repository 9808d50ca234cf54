"""Fresh-process work started on a background thread as soon as the suite is collected.

The in-process tests keep one core busy (XLA compiles and runs their small programs on
one thread), so on a 2-core machine the other core mostly waits. A test marked
``@started_early.mark(function, *args)`` has ``function(*args)``, which starts its Python
processes and waits for them, queued here when collection ends (see ``conftest.py``); the
test then reads the outcome with :func:`outcome`, which waits for it (or runs it there and
then, when nothing queued it). Only the selected tests queue
anything (``-k`` and ``-m`` are honoured), one function runs at a time, and each still
starts the same processes with the same arguments as it did inline. ``args`` must be
hashable: a function and its arguments are run once.

Example, in a test module::

  def run_python(*command):
    return subprocess.run([sys.executable, *command], capture_output=True, text=True)

  COMMAND = ("-m", "examples.flax_nnx")

  @started_early.mark(run_python, *COMMAND)
  def test_the_example_runs_as_a_module():
    assert started_early.outcome(run_python, *COMMAND).returncode == 0
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

MARKER = "started_early"

_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=MARKER)
_queued: dict[tuple, Future] = {}


def mark(function: Callable, *args) -> pytest.MarkDecorator:
  """The mark of a test whose ``function(*args)`` starts early.

  (``with_args``: a mark called with a lone function would decorate it instead.)
  """
  return getattr(pytest.mark, MARKER).with_args(function, *args)


def queue(function: Callable, *args) -> None:
  """Runs ``function(*args)`` on the background thread after what is queued before it."""
  key = (function, *args)
  if key not in _queued:
    _queued[key] = _pool.submit(function, *args)


def outcome(function: Callable, *args):
  """What ``function(*args)`` returned (or raises what it raised), once it has run."""
  queue(function, *args)
  return _queued.pop((function, *args)).result()


def skipped_by_its_marks(item: pytest.Item) -> bool:
  """``skip``, or a ``skipif`` whose condition is ``True`` (not a string to evaluate)."""
  conditions = [marker.args[0] for marker in item.iter_markers("skipif") if marker.args]
  return item.get_closest_marker("skip") is not None or any(c is True for c in conditions)


def queue_marked(items: Iterable[pytest.Item]) -> None:
  """Queues the work of every item marked ``started_early`` that its marks do not skip, in
  the order of the items."""
  for item in items:
    if not skipped_by_its_marks(item):
      for marker in item.iter_markers(MARKER):
        queue(*marker.args)


def drop_unstarted() -> None:
  """Cancels the work that has not started (a run stopped early, by ``-x`` say)."""
  for future in _queued.values():
    future.cancel()
  _queued.clear()
