"""Control over where XLA may fuse a multiply into a following add.

Inside ``jax.jit``, XLA's CPU and GPU backends contract ``a * b + c`` into one fused
multiply-add, which rounds once instead of twice. MXNet, MindSpore, Paddle and Keras
round the product first, so to reproduce their trajectories bit for bit a product that
feeds an addition must be rounded where it stands. ``rounded`` does that with a select
whose condition XLA cannot fold away (``x == x`` is false for NaN, and the NaN branch
returns NaN), so the value is unchanged and the cost is one compare per element inside
the same fused loop.

Compile time grows with the operations a step traces (on the CPU about 0.1 ms of XLA
time each, and tens of microseconds of tracing), and a step has a barrier or more per
leaf, so the barrier is built from ``lax`` primitives: ``jnp.where`` and ``==`` are
nested jitted functions, each a call that XLA inlines one by one.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


@functools.cache
def _nan(dtype: np.dtype) -> np.ndarray | None:
  """A NaN of ``dtype``, or None for dtypes that do not round (integers, bools)."""
  return np.array(np.nan, dtype) if jnp.issubdtype(dtype, jnp.inexact) else None


def rounded(x: jax.Array) -> jax.Array:
  """Returns ``x`` rounded to its dtype, never contracted into a later add."""
  if not hasattr(x, "dtype"):
    x = jnp.asarray(x)
  nan = _nan(x.dtype)
  if nan is None:
    return x
  # full_like, not a bare broadcast: under explicit sharding the NaN takes x's sharding.
  return lax.select(lax.eq(x, x), x, lax.full_like(x, nan))


def computed_once(x: jax.Array) -> jax.Array:
  """Returns the scalar ``x`` unchanged, as a value XLA computes once, not in every reader.

  XLA's fusion copies a cheap scalar computation into each loop that reads it, so a step
  size computed in a few dozen scalar operations and read by the loops of a thousand
  leaves is compiled a thousand times. A producer that ends in an expensive operation,
  such as a division by a value that is not a constant, is not copied: ``x`` is divided
  by a one that XLA cannot fold (``(bits >> (width - 1)) | 1`` of its bits, unsigned, is
  1 for every bit pattern), and ``x / 1`` is ``x`` exactly, NaN, infinities and -0
  included (an integer ``x`` divides exactly too). The cost is one scalar division per
  step. (``jax.lax.optimization_barrier`` does not do this: the CPU backend removes it
  before fusion.) A bool (a comparison read by several results) goes through an int32.
  """
  if x.dtype == jnp.bool_:
    return computed_once(x.astype(jnp.int32)).astype(jnp.bool_)
  width = 8 * jnp.dtype(x.dtype).itemsize
  bits = jax.lax.bitcast_convert_type(x, jnp.dtype(f"uint{width}"))
  one = ((bits >> (width - 1)) | 1).astype(x.dtype)
  return jax.lax.div(x, one)
