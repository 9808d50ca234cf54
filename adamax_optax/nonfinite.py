"""Skipping steps whose gradients hold NaN or inf."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from adamax_optax._leaves import is_trained
from adamax_optax._typing import OptState


def all_finite(updates) -> jax.Array:
  """A bool scalar: no floating leaf of ``updates`` holds NaN or inf."""
  checks = [jnp.all(jnp.isfinite(g)) for g in jax.tree.leaves(updates) if is_trained(g)]
  return jnp.all(jnp.stack(checks)) if checks else jnp.asarray(True)


def step_if(take_step, new_updates, new_inner: OptState, old_inner: OptState):
  """The step (updates, state) where ``take_step``, else zero updates and the old state.

  A skipped step leaves the inner state exactly as it was: moments, step count and
  schedule position.
  """
  updates = jax.tree.map(lambda u: jnp.where(take_step, u, jnp.zeros_like(u)), new_updates)
  inner = jax.tree.map(lambda new, old: jnp.where(take_step, new, old), new_inner, old_inner)
  return updates, inner


class SkipNonfiniteState(NamedTuple):
  """State of :func:`skip_nonfinite`.

  Attributes:
    inner: the wrapped transformation's state, as of the last finite step.
    skipped: how many steps were skipped so far (int32, saturating).
  """

  inner: OptState
  skipped: jax.Array


def skip_nonfinite(inner: optax.GradientTransformation) -> optax.GradientTransformationExtraArgs:
  r"""Runs ``inner`` only on steps whose gradients are all finite.

  On a step where any floating gradient element is NaN or :math:`\pm\infty` the update
  is zero and ``inner``'s state stays exactly as it was (moments, step count, schedule
  position), so the params are unchanged; :attr:`SkipNonfiniteState.skipped` counts
  such steps. Unlike :func:`optax.apply_if_finite` it never gives up and applies a bad
  step. Without it, every preset does what its framework does: a NaN or inf gradient
  turns the weight and the moments into NaN for good.

  Args:
    inner: the transformation to protect.

  Returns:
    An :class:`optax.GradientTransformationExtraArgs` with state
    :class:`SkipNonfiniteState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax import skip_nonfinite, torch_adamax
    >>> opt = skip_nonfinite(torch_adamax(lr=0.1))
    >>> w = jnp.ones(2)
    >>> updates, state = opt.update(jnp.array([jnp.nan, 1.0]), opt.init(w), w)
    >>> print(updates, int(state.skipped))
    [0. 0.] 1
  """
  inner = optax.with_extra_args_support(inner)

  def init_fn(params):
    return SkipNonfiniteState(inner=inner.init(params), skipped=jnp.zeros([], jnp.int32))

  def update_fn(updates, state, params=None, **extra_args):
    finite = all_finite(updates)
    new_updates, new_inner = inner.update(updates, state.inner, params, **extra_args)
    new_updates, new_inner = step_if(finite, new_updates, new_inner, state.inner)
    skipped = jnp.where(finite, state.skipped, optax.safe_increment(state.skipped))
    return new_updates, SkipNonfiniteState(inner=new_inner, skipped=skipped)

  return optax.GradientTransformationExtraArgs(init_fn, update_fn)


__all__ = ["SkipNonfiniteState", "skip_nonfinite"]
