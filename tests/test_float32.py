"""MindSpore's float32 scalar arithmetic (``adamax_optax._float32``): a
:meth:`Tensor32.many` array gives every element, bit for bit, what that element gives
alone, so a lambda of arithmetic may be evaluated for all epochs in one call."""

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adamax_optax._float32 import Tensor32

#: ``(name, f(x, c))``: each operation a lambda may apply to its float32 epoch.
OPERATIONS = [
  ("x + c", operator.add),
  ("c - x", lambda x, c: c - x),
  ("x - c", operator.sub),
  ("x * c", operator.mul),
  ("x / c", operator.truediv),
  ("c / x", lambda x, c: c / x),
  ("x // c", operator.floordiv),
  ("c // x", lambda x, c: c // x),
  ("x % c", operator.mod),
  ("c % x", lambda x, c: c % x),
  ("x ** c", operator.pow),
  ("c ** x", lambda x, c: c**x),
  ("x ** 2.0", lambda x, c: x**2.0),
  ("x * x", lambda x, c: x * x),
  ("-x", lambda x, c: -x),
  ("abs(x)", lambda x, c: abs(x)),
]

constants = st.sampled_from([0.3, 0.97, 1e-30, 41.0, -2.5, 0.0, 1e30, 7, 2])
programs = st.lists(st.tuples(st.sampled_from(OPERATIONS), constants), min_size=1, max_size=5)
values = st.lists(
  st.floats(width=32, allow_nan=True, allow_infinity=True) | st.integers(0, 2000).map(float),
  min_size=2,
  max_size=20,
)


def run(program, x):
  for (_, operation), constant in program:
    x = operation(x, constant)
  return x


def bits(array) -> np.ndarray:
  return np.asarray(array, np.float32).view(np.uint32)


@settings(max_examples=300, deadline=None)
@given(programs, values)
def test_an_array_gives_each_element_what_it_gives_alone(program, elements):
  epochs = np.array(elements, np.float32)
  with np.errstate(all="ignore"):  # inf and NaN arise alike in both
    together = run(program, Tensor32.many(epochs))
    alone = [run(program, tensor).value for tensor in Tensor32.each(epochs)]
  np.testing.assert_array_equal(bits(together.value), bits(alone), err_msg=repr(program))


@pytest.mark.parametrize(
  "needs_one_value",
  [
    lambda x: x < 3,
    lambda x: bool(x),
    lambda x: float(x),
    lambda x: int(x),
    lambda x: hash(x),
    lambda x: x == 1.0,
  ],
)
def test_an_array_refuses_what_needs_one_value(needs_one_value):
  with pytest.raises((TypeError, ValueError)):
    needs_one_value(Tensor32.many(np.arange(3)))


def test_repr_shows_one_value_or_the_array():
  assert repr(Tensor32(0.5)) == "Tensor32(0.5)"
  assert repr(Tensor32.many([1, 2])).startswith("Tensor32.many(array([1., 2.]")
