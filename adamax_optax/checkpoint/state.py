"""Reading and writing the Adamax moments of any preset's state.

Every optimizer in this package keeps its Adamax moments in one or more
:class:`ScaleByAdamaxState` nodes (one per parameter group), somewhere inside chains,
partitions, master-weight and skip wrappers. :func:`moments` gathers them into trees
shaped like the params; :func:`load_state` builds a state holding given moments, so a run
can move between frameworks (see each wing's ``checkpoint`` module). optax's own
:func:`optax.adamax` and :func:`optax.adamaxw` keep theirs in an
:class:`optax.ScaleByAdamState` (``count``, ``mu``, ``nu``), read and written here too, so
a run can move from optax to a preset and back.
"""

import functools
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from adamax_optax import _double_float as df
from adamax_optax._rounding import rounded
from adamax_optax._typing import OptState
from adamax_optax.master_weights import MultiPrecisionState
from adamax_optax.param_groups import leaf_names
from adamax_optax.scale_by_adamax import ScaleByAdamaxState
from adamax_optax.schedules import PlateauState, plateau_counters
from adamax_optax.validation import is_python_int
from adamax_optax.weight_decay import WeightDecayScheduleState

# optax.adamax's state; optax.adam shares the type, and its nu (a second moment) would be
# read as if it were the infinity norm: pass Adamax states only.
_MOMENT_TYPES = (ScaleByAdamaxState, optax.ScaleByAdamState)
_STATE_TYPES = (*_MOMENT_TYPES, MultiPrecisionState)
_is_masked = lambda x: isinstance(x, optax.MaskedNode)


def _adamax_states(opt_state, types=_MOMENT_TYPES) -> list:
  is_moments = lambda x: isinstance(x, types)
  found = [s for s in jax.tree.leaves(opt_state, is_leaf=is_moments) if is_moments(s)]
  if not found:
    raise ValueError(
      "opt_state holds no Adamax moments (no ScaleByAdamaxState, nor optax.adamax's "
      "ScaleByAdamState, inside it)."
    )
  return found


def _merge(trees: list) -> Any:
  """One tree from per-group trees whose other groups' leaves are MaskedNode."""

  def pick(*leaves):
    present = [leaf for leaf in leaves if not _is_masked(leaf)]
    return present[0] if present else optax.MaskedNode()

  return jax.tree.map(pick, *trees, is_leaf=_is_masked)


def moments(opt_state) -> tuple[Any, Any, int]:
  """The first moment ``m``, the infinity norm ``u`` and the step of an Adamax state.

  Args:
    opt_state: the state of any optimizer of this package, of :func:`optax.adamax` or
      :func:`optax.adamaxw` (or of a chain holding one).

  Returns:
    ``(mu, nu, step)``: ``mu`` and ``nu`` are pytrees shaped like the params, ``step`` is
    the number of updates applied so far (an int; with MXNet's ``begin_num_update`` it
    includes the updates done before).

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax import moments, torch_adamax
    >>> opt = torch_adamax()
    >>> w = jnp.ones(2)
    >>> _, state = opt.update(jnp.array([1.0, -2.0]), opt.init(w), w)
    >>> mu, nu, step = moments(state)
    >>> print(mu, nu, step)
    [ 0.1 -0.2] [1. 2.] 1
  """
  states = _adamax_states(opt_state)
  counts = {int(s.count) for s in states}
  if len(counts) != 1:
    raise ValueError(f"The parameter groups are at different steps: {sorted(counts)}.")
  return _merge([s.mu for s in states]), _merge([s.nu for s in states]), counts.pop()


def _first_b1(opt, params) -> jax.Array:
  """beta1 as the state stores its running power: one zero-gradient step from a fresh
  state leaves ``b1_power = f32(beta1)`` in every group."""
  return _b1_powers(opt, jax.tree.map(jnp.zeros_like, params), opt.init(params), params)


@functools.partial(jax.jit, static_argnums=0)
def _b1_powers(opt, grads, state, params):
  """The ``b1_power`` of each group after ``opt.update``. Only the powers come out, so
  the leaves' arithmetic is dead code, removed before XLA compiles; compiled once per
  optimizer (the static ``opt`` keys jit's cache)."""
  # A plateau scheduler's update takes the metric; the first update never reads it.
  extra = {"value": 0.0} if _plateau_states(state) else {}
  _, state = opt.update(grads, state, params, **extra)
  return [s.b1_power for s in _adamax_states(state, ScaleByAdamaxState)]


def _plateau_states(opt_state) -> list[PlateauState]:
  is_plateau = lambda x: isinstance(x, PlateauState)
  return [s for s in jax.tree.leaves(opt_state, is_leaf=is_plateau) if is_plateau(s)]


#: What a plateau scheduler's saved state holds, by PyTorch's names (Paddle and
#: MindSpore use the same), and ``reductions``: the times it has lowered the rate.
PLATEAU_KEYS = ("best", "num_bad_epochs", "cooldown_counter", "reductions")


def _restored_plateau(node: PlateauState, plateau, step: int, every: int) -> PlateauState:
  """``node`` with the scheduler's bookkeeping ``plateau`` and the count of ``step``."""
  if plateau is None:
    return node._replace(count=jnp.asarray(step, node.count.dtype))
  if not isinstance(plateau, Mapping) or set(plateau) != set(PLATEAU_KEYS):
    raise ValueError(
      f"plateau must be a mapping with exactly the keys {list(PLATEAU_KEYS)} (the "
      f"scheduler's best metric, bad epochs, cooldown left and reductions made), got "
      f"{sorted(plateau) if isinstance(plateau, Mapping) else type(plateau).__name__}."
    )
  for key in PLATEAU_KEYS[1:]:
    value = plateau[key]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
      raise ValueError(f"plateau[{key!r}] must be an int >= 0, got {value!r}.")
  best = plateau["best"]
  if isinstance(best, bool) or not isinstance(best, (int, float, np.floating, np.integer)):
    raise ValueError(f"plateau['best'] must be a number (the best metric), got {best!r}.")
  # The bookkeeping holds the metric of the last epoch boundary at or before ``step``,
  # which the update at that boundary would otherwise read once more: the count
  # restarts at the boundary, so the next read is that of the next epoch.
  count = step % every
  return node._replace(
    count=jnp.asarray(count, node.count.dtype),
    best=df.from_number(float(best)),
    counters=plateau_counters(*(plateau[key] for key in PLATEAU_KEYS[1:])),
  )


def _running_power(b1, step: int) -> jax.Array:
  """``b1`` multiplied into 1 ``step`` times in float32, as the state keeps it.

  The product is sequential (each multiplication rounds), so it is replayed; it stops
  early once it reaches 0 (after about 900 steps for beta1 = 0.9) or stays at 1. It runs
  in XLA, as the preset's update computes it (on the CPU a subnormal product flushes to
  0); a framework file's product is NumPy's, :func:`._converters.running_power`.
  """

  def cond(carry):
    i, p = carry
    return (i < step) & (p != 0) & (p != 1)

  def body(carry):
    i, p = carry
    return i + 1, rounded(p * b1)

  first = rounded(jnp.float32(1) * b1)
  run = lambda b1: jax.lax.while_loop(cond, body, (jnp.int32(1), first))[1]
  return jnp.float32(1) if step == 0 else jax.jit(run)(b1)


def _check_norm_not_negative(nu, params) -> None:
  """The infinity norm is a maximum of absolute values: a negative entry means the
  wrong array was passed (the first moment, or a model weight)."""
  for name, v in zip(leaf_names(params), jax.tree.leaves(nu), strict=True):
    if isinstance(v, jax.core.Tracer):
      continue  # inside a traced function the values are not known
    values = np.asarray(v, np.float64) if np.isrealobj(v) else np.abs(np.asarray(v))
    negative = np.flatnonzero(values.reshape(-1) < 0)
    if negative.size:
      index = np.unravel_index(negative[0], np.shape(v))
      raise ValueError(
        f"nu, the infinity norm (a maximum of |g|), must be >= 0, but parameter {name!r} has "
        f"a negative entry, {float(values[index])} at index {tuple(int(i) for i in index)} "
        f"({negative.size} in all): was the first moment, or a weight, passed as nu? Pass "
        "the norm (PyTorch's exp_inf, the second state of MXNet and MindSpore, Keras's norm)."
      )


def _plateau_every(opt, given) -> int:
  """The updates per plateau step: ``given``, else the preset's own; never a guess, since a
  wrong cadence restarts the epoch at the wrong update."""
  kept = getattr(opt, "lr_scheduler_every", None)
  if given is None:
    if kept is None:
      raise ValueError(
        "opt has a plateau scheduler but does not say how many updates make a scheduler "
        "step (a preset wrapped in optax.chain loses it): pass lr_scheduler_every= the "
        "value the optimizer was built with (1 when the scheduler steps every update)."
      )
    return kept
  if not is_python_int(given) or given < 1:
    raise ValueError(f"lr_scheduler_every must be an int >= 1, got {given!r}.")
  if kept is not None and kept != given:
    raise ValueError(
      f"lr_scheduler_every={given} but opt was built with lr_scheduler_every={kept}: "
      "leave it out, or build the optimizer with the run's cadence."
    )
  return given


def load_state(
  opt: optax.GradientTransformation,
  params,
  *,
  mu,
  nu,
  step: int,
  master_weights=None,
  plateau: Mapping | None = None,
  lr_scheduler_every: int | None = None,
) -> OptState:
  """A state of ``opt`` for ``params`` holding the given moments and step.

  Args:
    opt: any optimizer of this package, :func:`optax.adamax` or :func:`optax.adamaxw`
      (or a chain holding one).
    params: the current params.
    mu: the first moment, a pytree like ``params`` (any float dtype; cast to the state's).
    nu: the infinity norm, likewise.
    step: the number of updates already applied (>= 0); bias correction, schedules and
      MindSpore ``nn`` / Paddle's running power of beta1 continue from it.
    master_weights: for ``multi_precision`` optimizers, the float32 master copies (a
      pytree like ``params``); by default the params themselves, upcast.
    plateau: for an optimizer with a plateau scheduler (``ReduceLROnPlateau``,
      ``ReduceOnPlateau``), the scheduler's saved state: ``best`` (the best metric),
      ``num_bad_epochs``, ``cooldown_counter`` and ``reductions`` (how many times it has
      lowered the rate), as the scheduler held them after its last ``step(metric)``
      (what a framework's checkpoint holds). The update at the next epoch boundary then
      reads the next epoch's metric, so the saved epoch's metric is not counted twice.
      ``None`` (default): a scheduler with no metric read yet, continuing from ``step``.
    lr_scheduler_every: the updates per plateau scheduler step, as the optimizer was
      built with. ``None`` (default): read from ``opt`` (a preset keeps it); an optimizer
      wrapped in another transformation (``optax.chain(..., opt)``) has lost it, and
      restoring a plateau state then asks for it.

  Returns:
    The state: ``opt.update`` from it continues the run.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax import load_state, moments, torch_adamax
    >>> opt = torch_adamax()
    >>> w = jnp.ones(2)
    >>> state = load_state(opt, w, mu=jnp.array([0.1, -0.2]), nu=jnp.array([1.0, 2.0]), step=1)
    >>> print(moments(state)[2])
    1
  """
  if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or not 0 <= step < 2**31:
    raise ValueError(f"step must be an int in [0, 2**31), got {step!r}.")
  for name, tree in (("mu", mu), ("nu", nu)):
    if jax.tree.structure(tree) != jax.tree.structure(params):
      raise ValueError(
        f"{name} must have the params' structure {jax.tree.structure(params)}, "
        f"got {jax.tree.structure(tree)}."
      )
    for p, v in zip(jax.tree.leaves(params), jax.tree.leaves(tree), strict=True):
      if jnp.shape(p) != jnp.shape(v):
        raise ValueError(
          f"{name} has a leaf of shape {jnp.shape(v)} for a param of {jnp.shape(p)}."
        )
  _check_norm_not_negative(nu, params)
  initial = opt.init(params)
  holds_power = any(
    isinstance(s, ScaleByAdamaxState) for s in _adamax_states(initial, _MOMENT_TYPES)
  )
  b1_values = iter(_first_b1(opt, params) if holds_power else [])

  def fill(template, values):
    return jax.tree.map(
      lambda t, v: t if _is_masked(t) else jnp.asarray(v, t.dtype).reshape(t.shape),
      template,
      values,
      is_leaf=_is_masked,
    )

  def replace(node):
    if isinstance(node, ScaleByAdamaxState):
      return ScaleByAdamaxState(
        count=jnp.asarray(step, jnp.int32),
        mu=fill(node.mu, mu),
        nu=fill(node.nu, nu),
        b1_power=_running_power(next(b1_values), step),
      )
    if isinstance(node, optax.ScaleByAdamState):
      return optax.ScaleByAdamState(
        count=jnp.asarray(step, jnp.int32), mu=fill(node.mu, mu), nu=fill(node.nu, nu)
      )
    if isinstance(node, MultiPrecisionState):
      masters = params if master_weights is None else master_weights
      master = jax.tree.map(
        lambda m, w: None if m is None else jnp.asarray(w, m.dtype),
        node.master,
        masters,
        is_leaf=lambda x: x is None,
      )
      return MultiPrecisionState(master=master, inner=_walk(node.inner))
    if isinstance(node, optax.ScaleByScheduleState):
      return optax.ScaleByScheduleState(count=jnp.asarray(step, node.count.dtype))
    if isinstance(node, WeightDecayScheduleState):
      return WeightDecayScheduleState(count=jnp.asarray(step, node.count.dtype))
    return node

  counters = (optax.ScaleByScheduleState, WeightDecayScheduleState)

  def _walk(tree):
    return jax.tree.map(replace, tree, is_leaf=lambda x: isinstance(x, (*_STATE_TYPES, *counters)))

  restored = _walk(initial)
  if plateau is not None and not _plateau_states(restored):
    raise ValueError(
      "plateau= was given, but the optimizer has no plateau scheduler; pass it only with "
      "lr_scheduler=ReduceLROnPlateau(...) (Paddle: learning_rate=ReduceOnPlateau(...))."
    )
  every = _plateau_every(opt, lr_scheduler_every) if _plateau_states(restored) else 1
  is_plateau = lambda x: isinstance(x, PlateauState)
  return jax.tree.map(
    lambda node: _restored_plateau(node, plateau, step, every) if is_plateau(node) else node,
    restored,
    is_leaf=is_plateau,
  )


__all__ = ["load_state", "moments"]
