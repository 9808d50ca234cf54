"""tests/started_early.py: work queued when collection ends, read back by its test."""

import threading

import pytest
import started_early


def test_the_outcome_is_what_the_function_returned_and_it_ran_once_in_the_background():
  calls = []

  def work(x):
    calls.append((x, threading.current_thread().name))
    return 2 * x

  started_early.queue(work, 3)
  started_early.queue(work, 3)
  assert started_early.outcome(work, 3) == 6
  assert len(calls) == 1 and calls[0][0] == 3
  assert calls[0][1].startswith(started_early.MARKER)


def test_the_outcome_raises_what_the_function_raised():
  def work():
    raise ValueError("the processes failed")

  with pytest.raises(ValueError, match="the processes failed"):
    started_early.outcome(work)


def test_a_lone_function_is_the_marks_argument_not_what_it_decorates():
  def work():
    return None

  mark = started_early.mark(work).mark
  assert (mark.name, mark.args) == (started_early.MARKER, (work,))


def test_unqueued_work_runs_when_its_outcome_is_asked_for():
  assert started_early.outcome(sorted, (3, 1, 2)) == [1, 2, 3]


class Marked:
  """What :func:`started_early.skipped_by_its_marks` reads of a pytest item."""

  def __init__(self, *decorators):
    self.marks = [decorator.mark for decorator in decorators]

  def iter_markers(self, name):
    return (mark for mark in self.marks if mark.name == name)

  def get_closest_marker(self, name):
    return next(self.iter_markers(name), None)


@pytest.mark.parametrize(
  ("item", "skipped"),
  [
    (Marked(), False),
    (Marked(pytest.mark.skip(reason="r")), True),
    (Marked(pytest.mark.skipif(True, reason="r")), True),
    (Marked(pytest.mark.skipif(False, reason="r")), False),
    (Marked(pytest.mark.skipif("sys.platform == 'x'", reason="r")), False),
  ],
  ids=["unmarked", "skip", "skipif-true", "skipif-false", "skipif-string"],
)
def test_the_work_of_a_test_its_marks_skip_is_not_queued(item, skipped):
  assert started_early.skipped_by_its_marks(item) is skipped
