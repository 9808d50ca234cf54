"""Double-precision scalar arithmetic carried out in pairs of float32 values.

MXNet and PyTorch compute the bias-corrected step size ``lr / (1 - b1**t)`` in Python
doubles and round it to float32 once. Under ``jax.jit`` the step count is a traced int32
and float64 is off by default (and slow or absent on accelerators), so the step size is
computed here as an unevaluated sum ``hi + lo`` of two float32 values (about 44 bits of
precision), then rounded to float32. The result equals the double computation's rounding
except when the double value lies within about 2**-40 of a float32 rounding boundary.

The splitting uses a bit mask rather than Veltkamp's multiply, so that every partial
product is exact: XLA may contract a multiply and an add into a fused multiply-add, and
that contraction cannot change an exact product. Each rounded sum passes through
:func:`adamax_optax._rounding.rounded`, because XLA's simplifier otherwise rewrites
``(a + b) - a`` to ``b`` and the error term vanishes.

Every operation also takes host values (NumPy float32 scalars, from :func:`constant`)
and computes on the host what it would compute traced, so that whatever depends only on
Python numbers (the squares ``b1**(2**k)`` of :func:`power`) costs nothing in the
compiled step.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from adamax_optax._rounding import rounded

_HIGH_BITS_MASK = np.uint32(0xFFFFF000)  # keeps sign, exponent and 11 explicit mantissa bits


class DoubleFloat(NamedTuple):
  """A value ``hi + lo`` with ``|lo| <= ulp(hi) / 2``, both float32 scalars."""

  hi: jax.Array
  lo: jax.Array


def from_number(x) -> DoubleFloat:
  """Splits a Python number (double) or a float32 array into a DoubleFloat."""
  if isinstance(x, (int, float, np.floating, np.integer)):
    hi = np.float32(x)
    lo = np.float32(float(x) - float(hi))
    return DoubleFloat(jnp.asarray(hi), jnp.asarray(lo))
  hi = jnp.asarray(x, jnp.float32)
  return DoubleFloat(hi, jnp.zeros_like(hi))


def constant(x) -> DoubleFloat:
  """A Python number (double) as a DoubleFloat of NumPy float32 scalars, on the host."""
  hi = np.float32(x)
  return DoubleFloat(hi, np.float32(float(x) - float(hi)))


def _on_host(*xs) -> bool:
  return all(isinstance(x, (np.generic, np.ndarray)) for x in xs)


def _rounded(x):
  # NumPy rounds every operation: only traced values need the barrier.
  return x if _on_host(x) else rounded(x)


def _zeros_like(x):
  return np.zeros_like(x) if _on_host(x) else jnp.zeros_like(x)


def to_float32(x: DoubleFloat) -> jax.Array:
  return x.hi + x.lo


def _two_sum(a, b) -> DoubleFloat:
  s = _rounded(a + b)
  bb = s - a
  err = (a - (s - bb)) + (b - bb)
  return DoubleFloat(s, err)


def _fast_two_sum(a, b) -> DoubleFloat:
  s = _rounded(a + b)
  return DoubleFloat(s, b - (s - a))


def _split(a):
  if _on_host(a):
    high = (np.asarray(a, np.float32).view(np.uint32) & _HIGH_BITS_MASK).view(np.float32)
    return high[()], a - high[()]
  bits = jax.lax.bitcast_convert_type(a, jnp.uint32) & _HIGH_BITS_MASK
  high = jax.lax.bitcast_convert_type(bits, jnp.float32)
  return high, a - high


def _two_product(a, b) -> DoubleFloat:
  p = _rounded(a * b)
  a_hi, a_lo = _split(a)
  b_hi, b_lo = _split(b)
  err = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
  return DoubleFloat(p, err)


def add(x: DoubleFloat, y: DoubleFloat) -> DoubleFloat:
  s = _two_sum(x.hi, y.hi)
  t = _two_sum(x.lo, y.lo)
  s = _fast_two_sum(s.hi, s.lo + t.hi)
  return _fast_two_sum(s.hi, s.lo + t.lo)


def negate(x: DoubleFloat) -> DoubleFloat:
  return DoubleFloat(-x.hi, -x.lo)


def multiply(x: DoubleFloat, y: DoubleFloat) -> DoubleFloat:
  p = _two_product(x.hi, y.hi)
  return _fast_two_sum(p.hi, p.lo + (x.hi * y.lo + x.lo * y.hi))


def divide(x: DoubleFloat, y: DoubleFloat) -> DoubleFloat:
  q1 = x.hi / y.hi
  r = add(x, negate(multiply(DoubleFloat(q1, _zeros_like(q1)), y)))
  q2 = r.hi / y.hi
  r = add(r, negate(multiply(DoubleFloat(q2, _zeros_like(q2)), y)))
  q3 = r.hi / y.hi
  q = _fast_two_sum(q1, q2)
  return add(q, DoubleFloat(q3, _zeros_like(q3)))


def power(base: DoubleFloat, exponent: jax.Array) -> DoubleFloat:
  """``base ** exponent`` for a non-negative int32 exponent, by binary powering.

  The 31 steps run in a loop, which XLA compiles once; for a host ``base`` (from
  :func:`constant`) the squares ``base**(2**k)`` are computed on the host. Unrolled, with
  its scalar operations copied between fusions, they were some 2,500 compiled
  instructions and a quarter of a second of compile time. The host
  squares are rounded at every operation (XLA could contract some into fused
  multiply-adds), which changes their low parts by a few units of 2**-48 and the
  float32 step size ``lr / (1 - b1**t)`` in one of 60 million settings tried, towards
  the Python double (``lr=1, b1=0.999, t=833``).
  """
  exponent = jnp.asarray(exponent, jnp.int32)
  if _on_host(base.hi, base.lo):
    return _power_of_constant(base, exponent)

  def step(bit, carry):
    result, base = carry
    product = multiply(result, base)
    take = ((exponent >> bit) & 1) == 1
    result = DoubleFloat(
      jax.lax.select(take, product.hi, result.hi), jax.lax.select(take, product.lo, result.lo)
    )
    return result, multiply(base, base)

  one = DoubleFloat(jnp.ones_like(base.hi), jnp.zeros_like(base.hi))
  return jax.lax.fori_loop(0, 31, step, (one, base))[0]


def _power_of_constant(base: DoubleFloat, exponent: jax.Array) -> DoubleFloat:
  squares = [base]
  for _ in range(30):
    squares.append(multiply(squares[-1], squares[-1]))
  his = jnp.asarray(np.array([s.hi for s in squares], np.float32))
  los = jnp.asarray(np.array([s.lo for s in squares], np.float32))

  def step(bit, result):
    product = multiply(result, DoubleFloat(his[bit], los[bit]))
    take = ((exponent >> bit) & 1) == 1
    return DoubleFloat(
      jax.lax.select(take, product.hi, result.hi), jax.lax.select(take, product.lo, result.lo)
    )

  one = DoubleFloat(jnp.float32(1), jnp.float32(0))
  return jax.lax.fori_loop(0, 31, step, one)
