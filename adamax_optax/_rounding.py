"""Control over where XLA may fuse a multiply into a following add.

Inside ``jax.jit``, XLA's CPU and GPU backends contract ``a * b + c`` into one fused
multiply-add, which rounds once instead of twice. MXNet, MindSpore, Paddle and Keras
round the product first, so to reproduce their trajectories bit for bit a product that
feeds an addition must be rounded where it stands. ``rounded`` does that with a select
whose condition XLA cannot fold away (``x == x`` is false for NaN, and the NaN branch
returns NaN), so the value is unchanged and the cost is one compare per element inside
the same fused loop.
"""

import jax
import jax.numpy as jnp


def rounded(x: jax.Array) -> jax.Array:
  """Returns ``x`` rounded to its dtype, never contracted into a later add."""
  return jnp.where(x == x, x, jnp.nan)
