"""What every preset and the alias do last: check the gradients, optionally skip bad steps."""

from collections.abc import Callable

import jax
import optax

from adamax_optax._leaves import SparseRows, check_shapes_match, is_sparse, is_trained
from adamax_optax._rounding import rounded
from adamax_optax.nonfinite import skip_nonfinite as skipping


def check_gradients(updates, params) -> None:
  """Gradients must match the params leaf for leaf: structure, shape and dtype.

  Integer and bool params may have float0 gradients (what ``jax.grad`` gives them).
  Raises a ValueError naming the first offending parameter, at trace time.
  """
  if params is None:
    return
  leaves = zip(*check_shapes_match(updates, params, "params", "the parameter"), strict=True)
  for name, g, p in leaves:
    if is_sparse(g):
      g = g.values
    float0_for_untrained = g.dtype == jax.dtypes.float0 and not is_trained(p)
    if g.dtype != p.dtype and not float0_for_untrained:
      raise ValueError(
        f"The gradient of parameter {name!r} has dtype {g.dtype}, but the parameter has "
        f"dtype {p.dtype}; cast the gradients to the params' dtypes (for float32 updates "
        "of low-precision weights, use multi_precision)."
      )


def check_state(init, state, params) -> None:
  """``state`` must have the structure ``init(params)`` gives (checked while tracing).

  Catches ``update(grads, params, params)`` and states from another optimizer or a
  restore that lost the state's types, with a message saying what to pass.
  """
  if params is None:
    return
  expected = jax.tree.structure(jax.eval_shape(init, params))
  if jax.tree.structure(state) != expected:
    got = type(state).__name__
    raise ValueError(
      f"update() got a state ({got}) that is not this optimizer's: pass the state from "
      "opt.init(params) or from the previous opt.update, as opt.update(grads, state, "
      f"params). Expected a state of structure {str(expected)[:200]}."
    )


def stage_if(enabled: bool, build: Callable[[], optax.GradientTransformation]):
  """``build()`` when ``enabled``, else an identity holding the stage's place.

  A chain's state must have one structure whether a hyperparameter is a static default
  that lets a stage be skipped (a weight decay of exactly 0, a scale of 1, no clipping)
  or an array: :func:`optax.inject_hyperparams` passes every numeric argument, defaults
  included, as an array, and a checkpoint of the plain optimizer must restore into the
  injected one. Every optional stage of this package is stateless (``EmptyState``), as
  :func:`optax.identity` is, so the placeholder keeps the structure.
  """
  return build() if enabled else optax.identity()


def rounded_at_entry(updates):
  """``updates`` with every trained leaf rounded to its dtype where it enters the preset.

  Inside one ``jax.jit`` XLA contracts a multiply upstream of the preset (``optax.scale``,
  a clip's scaling, a loss-scale division) with the preset's first addition into one fused
  multiply-add, and the framework's bits are lost; rounding here makes each preset compute
  what it computes on a gradient handed over from another program.
  """

  def entry(g):
    if is_sparse(g):
      return SparseRows(g.indices, rounded(g.values))
    return rounded(g) if is_trained(g) else g

  return jax.tree.map(entry, updates, is_leaf=is_sparse)


class Preset(optax.GradientTransformationExtraArgs):
  """What :func:`finish` returns: an optimizer of this package, whose stages pass extra
  arguments on to :func:`~adamax_optax.scale_by_adamax` (so :func:`~adamax_optax.lazy_rows`
  can hand it the touched rows)."""

  __slots__ = ()


def finish(
  opt: optax.GradientTransformation, *, skip_nonfinite: bool, round_at_entry: bool = True
) -> Preset:
  """``opt`` with gradient checks in ``update``, and skipping of non-finite steps.

  ``update`` runs as one compiled program even when called eagerly: inside ``jax.jit``
  XLA contracts multiply-adds (PyTorch's lerp, a fused weight decay) that eager
  op-by-op execution would round twice, so compiling the update always makes the eager
  result the jitted one, bit for bit. With ``round_at_entry`` (every framework preset)
  the incoming gradients are rounded first (:func:`rounded_at_entry`); the plain alias,
  which computes what :func:`optax.adamax` computes, does not round them: the select
  would change which product XLA contracts inside optax's unrounded arithmetic.
  """
  if not isinstance(skip_nonfinite, bool):
    raise TypeError(f"skip_nonfinite must be a bool, got {skip_nonfinite!r}.")
  inner = optax.with_extra_args_support(opt)

  def checked_update(updates, state, params=None, **extra_args):
    check_gradients(updates, params)
    check_state(inner.init, state, params)
    if round_at_entry:
      updates = rounded_at_entry(updates)
    return inner.update(updates, state, params, **extra_args)

  checked = optax.GradientTransformationExtraArgs(inner.init, checked_update)
  if skip_nonfinite:
    checked = skipping(checked)
  return Preset(checked.init, jax.jit(checked.update))


__all__ = ["Preset", "check_gradients", "check_state", "finish", "rounded_at_entry", "stage_if"]
