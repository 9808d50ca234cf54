"""Float32 scalar arithmetic on the host, op by op, as a tensor framework's kernels do it.

MindSpore evaluates its learning-rate schedules with float32 kernels on 0-d and shape-[1]
tensors; the scheduler engine replays them with this module's numbers
(:data:`adamax_optax.schedules.FLOAT32`). Measured on MindSpore 2.10 (CPU), and reproduced
here with NumPy float32 scalars:

- ``tensor op python_float`` for ``+ - *``: the float is rounded to float32, the op is
  IEEE float32. ``tensor / scalar`` is a true float32 division; ``scalar / tensor`` is
  ``f32(scalar) * f32(1 / tensor)`` (a reciprocal, then a multiply).
- ``pow`` is glibc's ``powf`` (NumPy's float32 power differs in the last bit now and
  then; ``x ** 2.0`` is ``x * x``). Without glibc, ``f32(pow(double))`` is used, which
  agrees with ``powf`` except in rare last-bit cases.
- ``cos`` and ``sin`` are the double results rounded to float32.
- Subnormal results are kept (the host computes them; the tables hold them as constants).
"""

import ctypes
import ctypes.util
import math
import numbers

import numpy as np

F32 = np.float32


def f32(x) -> np.float32:
  """``x`` rounded to float32 (a Python float or a float32 scalar)."""
  return np.float32(x)


def _load_powf():
  name = ctypes.util.find_library("m")
  try:
    libm = ctypes.CDLL(name or "libm.so.6")
    powf = libm.powf
  except (OSError, AttributeError):  # pragma: no cover - non-glibc platforms
    return None
  powf.restype = ctypes.c_float
  powf.argtypes = [ctypes.c_float, ctypes.c_float]
  return powf


_POWF = _load_powf()


def powf(a, b) -> np.float32 | np.ndarray:
  """glibc ``powf(f32(a), f32(b))``: MindSpore's ``Pow`` on float32 scalars (on arrays,
  element by element: :func:`powf_each`)."""
  if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
    return powf_each(a, b)
  a, b = float(F32(a)), float(F32(b))
  if _POWF is not None:
    return F32(_POWF(a, b))
  try:  # pragma: no cover - non-glibc platforms
    return F32(math.pow(a, b))
  except (OverflowError, ValueError):  # pragma: no cover
    return F32(np.power(np.float64(a), np.float64(b)))


def powf_each(bases, exponents) -> np.ndarray:
  """:func:`powf` of each pair of ``bases`` and ``exponents`` (float32 arrays, or a
  number for all), as a float32 array: one C call each, no vectorised kernel (NumPy's
  float32 power differs from glibc's in the last bit now and then)."""
  a, b = np.broadcast_arrays(np.asarray(bases, F32), np.asarray(exponents, F32))
  function = _POWF if _POWF is not None else powf
  results = map(function, a.ravel().tolist(), b.ravel().tolist())
  return np.fromiter(results, F32, a.size).reshape(a.shape)


def cosf(x) -> np.float32:
  """MindSpore's ``Cos`` on a float32 scalar: the double cosine, rounded."""
  return F32(math.cos(float(F32(x))))


def sinf(x) -> np.float32:
  """MindSpore's ``Sin`` on a float32 scalar: the double sine, rounded."""
  return F32(math.sin(float(F32(x))))


def rdiv(scalar, tensor) -> np.float32:
  """``scalar / tensor`` as MindSpore computes it: ``f32(scalar) * f32(1 / tensor)``."""
  return F32(F32(scalar) * F32(F32(1.0) / F32(tensor)))


def _value(x) -> np.float32:
  return x.value if type(x) is Tensor32 else F32(x)


class Tensor32:
  """A float32 0-d value with MindSpore's arithmetic, handed to user lambdas.

  ``LambdaLR``, ``MultiplicativeLR`` and ``CyclicLR``'s ``scale_fn`` receive MindSpore's
  ``last_epoch`` (a float32 Parameter), so their arithmetic is float32 with the rules
  above; this class reproduces it for ``+ - * / // % **``, comparisons, ``abs``,
  ``float()`` and ``int()``.

  :meth:`many` holds a 1-d array instead: the arithmetic then gives each element what it
  gives that element alone (the operations are NumPy's element-wise float32 ones and
  :func:`powf_each`), so a lambda of arithmetic only is evaluated for every epoch in one
  call; comparisons, ``bool()``, ``float()`` and ``int()`` raise on it, as a lambda that
  branches needs one epoch at a time.
  """

  __slots__ = ("value",)

  def __init__(self, value):
    self.value = _value(value)

  @staticmethod
  def each(values: np.ndarray) -> list["Tensor32"]:
    """One value per element of a float32 array (the epochs a whole table hands a
    lambda), without :meth:`__init__`'s conversion of each."""
    made = []
    for value in values.astype(F32):  # (its elements are float32 scalars already)
      tensor = object.__new__(Tensor32)
      tensor.value = value
      made.append(tensor)
    return made

  @staticmethod
  def many(values: np.ndarray) -> "Tensor32":
    """One value holding every element of ``values`` (a 1-d array, made float32)."""
    tensor = object.__new__(Tensor32)
    tensor.value = np.asarray(values).astype(F32)
    return tensor

  def _wrap(self, v) -> "Tensor32":
    # Skips __init__: every result is already a float32 scalar (a hot path of the replays).
    result = object.__new__(Tensor32)
    result.value = v
    return result

  def __add__(self, o):
    return self._wrap(self.value + _value(o))

  __radd__ = __add__

  def __sub__(self, o):
    return self._wrap(self.value - _value(o))

  def __rsub__(self, o):
    return self._wrap(_value(o) - self.value)

  def __mul__(self, o):
    return self._wrap(self.value * _value(o))

  __rmul__ = __mul__

  def __truediv__(self, o):
    return self._wrap(self.value / _value(o))

  def __rtruediv__(self, o):
    return self._wrap(rdiv(_value(o), self.value))

  def __floordiv__(self, o):
    return self._wrap(np.floor(self.value / _value(o)))

  def __rfloordiv__(self, o):
    return self._wrap(np.floor(_value(o) / self.value))

  def __mod__(self, o):
    return self._wrap(np.mod(self.value, _value(o)))

  def __rmod__(self, o):
    return self._wrap(np.mod(_value(o), self.value))

  def __pow__(self, o):
    if not isinstance(o, Tensor32) and isinstance(o, numbers.Real) and float(o) == 2.0:
      return self._wrap(self.value * self.value)
    return self._wrap(powf(self.value, _value(o)))

  def __rpow__(self, o):
    return self._wrap(powf(_value(o), self.value))

  def __neg__(self):
    return self._wrap(-self.value)

  def __abs__(self):
    return self._wrap(abs(self.value))

  def __lt__(self, o):
    return bool(self.value < _value(o))

  def __le__(self, o):
    return bool(self.value <= _value(o))

  def __gt__(self, o):
    return bool(self.value > _value(o))

  def __ge__(self, o):
    return bool(self.value >= _value(o))

  def __eq__(self, o):
    return bool(self.value == _value(o))

  def __ne__(self, o):
    return bool(self.value != _value(o))

  def __hash__(self):
    return hash(float(self.value))

  def __bool__(self):
    return bool(self.value)

  def __float__(self):
    return float(self.value)

  def __int__(self):
    return int(self.value)

  def __repr__(self):
    if isinstance(self.value, np.ndarray):
      return f"Tensor32.many({self.value!r})"
    return f"Tensor32({float(self.value)!r})"


__all__ = ["F32", "Tensor32", "cosf", "f32", "powf", "powf_each", "rdiv", "sinf"]
