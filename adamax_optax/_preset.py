"""The one pipeline every preset and the alias go through.

A preset checks its framework's keywords with its framework's messages, normalizes them
into a :class:`PresetSettings` (the group defaults, the per-group overrides, the
scheduler, ``skip_nonfinite``) and a ``build(group_settings)`` making one group's chain,
and calls :func:`assemble`, which fixes the order for all of them:

1. groups: ``build`` for every parameter group (:func:`with_param_groups`);
2. the scheduler: a count-driven one's per-group tables put into the groups' settings
   before they are built, or a plateau scheduler around the whole (:func:`on_plateau`);
3. the preset's stages (wrappers such as master weights or tree checks), the rounding of
   the gradients at entry (:func:`rounding_at_entry`), then the skip of non-finite steps,
   inside the plateau (see :func:`assemble` for why);
4. the common :func:`finish`: gradient and state checks, one compiled ``update``.

Example:
  >>> import jax.numpy as jnp, optax
  >>> from adamax_optax._preset import PresetSettings, assemble
  >>> settings = PresetSettings(framework="example", defaults={"lr": 0.5})
  >>> opt = assemble(lambda group: optax.sgd(group["lr"]), settings)
  >>> print(opt.update(jnp.ones(2), opt.init(jnp.ones(2)), jnp.ones(2))[0])
  [-0.5 -0.5]
"""

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import optax

from adamax_optax._leaves import (
  SparseRows,
  check_shapes_match,
  is_sparse,
  is_trained,
  python_numbers_as_arrays,
)
from adamax_optax._rounding import rounded
from adamax_optax.checkpoint.state import _adamax_states, _merge
from adamax_optax.exact_apply import new_value_updates, param_dtype_updates
from adamax_optax.nonfinite import skip_nonfinite as skipping
from adamax_optax.param_groups import (
  Ungrouped,
  check_ungrouped,
  is_framework_params,
  leaf_names,
  read_framework_params,
  with_param_groups,
)
from adamax_optax.schedules import (
  ExactSchedule,
  PlateauScheduler,
  Together,
  exact_table,
  on_plateau,
)
from adamax_optax.validation import check_bool, check_every, check_int, check_scheduled_lrs


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


STRUCTURE_SHOWN_UP_TO = 600  # characters of an expected state's tree in a message


def _moment_shapes(state) -> dict[str, tuple | None] | None:
  """Each parameter's name and the shape of its first moment in ``state`` (None for a
  parameter without moments, one no group trains); None if the state holds no Adamax
  moments (it is not an optimizer state at all)."""
  try:
    found = _adamax_states(state)
  except ValueError:
    return None
  mu = _merge([s.mu for s in found])
  is_masked = lambda x: isinstance(x, optax.MaskedNode)
  shapes = [None if is_masked(m) else jnp.shape(m) for m in jax.tree.leaves(mu, is_leaf=is_masked)]
  return dict(zip(leaf_names(mu, is_leaf=is_masked), shapes, strict=True))


def _params_changed(held: dict[str, tuple | None], expected: dict[str, tuple | None]) -> str:
  """What differs between the parameters a state was built for and the current ones."""
  added = [name for name in expected if name not in held]
  removed = [name for name in held if name not in expected]
  reshaped = [
    f"{name!r} from {held[name]} to {expected[name]}"
    for name in expected
    if held.get(name) is not None and expected[name] is not None and held[name] != expected[name]
  ]
  changes = []
  if added:
    changes.append(f"added {added}")
  if removed:
    changes.append(f"removed {removed}")
  if reshaped:
    changes.append("reshaped " + ", ".join(reshaped))
  return "; ".join(changes)


def check_state(init, state, params) -> None:
  """``state`` must have the structure and shapes ``init(params)`` gives (checked while
  tracing).

  Catches ``update(grads, params, params)``, states from another optimizer or a restore
  that lost the state's types, and a state built for other params (a parameter added,
  removed or reshaped since ``init``), with a message saying what to pass.
  """
  if params is None:
    return
  expected_state = jax.eval_shape(init, params)
  expected = jax.tree.structure(expected_state)
  same_structure = jax.tree.structure(state) == expected
  if same_structure and all(
    jnp.shape(leaf) == want.shape
    for leaf, want in zip(jax.tree.leaves(state), jax.tree.leaves(expected_state), strict=True)
  ):
    return
  held, wanted = _moment_shapes(state), _moment_shapes(expected_state)
  changed = _params_changed(held, wanted) if held is not None and wanted is not None else ""
  if changed:
    raise ValueError(
      f"update() got a state built for other params: the params changed since opt.init, "
      f"not the optimizer (parameters {changed}). Call opt.init(params) on the new params "
      "(to keep the moments of the parameters that stayed, read them with "
      "adamax_optax.moments(state) and pass them, with zeros for new ones, to "
      "adamax_optax.load_state)."
    )
  if same_structure:  # shapes differ outside the moments: the step's own checks name them
    return
  described = str(expected)
  if len(described) > STRUCTURE_SHOWN_UP_TO:  # a whole model's tree helps nobody: say its size
    described = f"{type(expected_state).__name__} with {expected.num_leaves} leaves"
  raise ValueError(
    f"update() got a state ({type(state).__name__}) that is not this optimizer's: pass the "
    "state from opt.init(params) or from the previous opt.update, as opt.update(grads, state, "
    f"params). Expected a state of structure {described}."
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
  can hand it the touched rows).

  ``param_order`` is the framework's parameter order (names, in the order the
  framework numbers the parameters) where the constructor received the parameters
  (:func:`takes_framework_params`), else None: give it to a checkpoint mapping
  (``order=``) or to a global-norm clip (``param_order=``) whose sum follows it.
  """

  param_order: tuple[str, ...] | None = None
  #: ``learning_rates(opt_state)``: each group's rate for the next update, on the host
  #: (see :func:`learning_rates`); set by :func:`assemble`.
  learning_rates: Callable[[Any], list[float]] | None = None
  #: Updates per scheduler step (``load_state`` continues a plateau's epochs from it).
  lr_scheduler_every: int = 1
  #: The update at which a count-driven scheduler was built (its epoch 0).
  lr_scheduler_start: int = 0
  #: The ``lr_scheduler`` given (several: their :class:`~adamax_optax.schedules.Together`),
  #: or None; a wing's checkpoint reader checks a saved scheduler against it.
  lr_scheduler: Any = None
  #: ``rates_at(position)``: each group's rate at a scheduler position, the Adamax step
  #: count (a count-driven scheduler) or the reductions made (a plateau); set by
  #: :func:`assemble` with ``learning_rates``, which reads it at the state's position.
  rates_at: Callable[[int], list[float]] | None = None


def adamax_count(opt_state) -> int:
  """The Adamax step count held in a concrete ``opt_state`` (every group holds the same)."""
  return int(_adamax_states(opt_state)[0].count)


def learning_rates(opt, opt_state) -> list[float]:
  """Each parameter group's learning rate for the update after ``opt_state``, as the
  framework's ``group["lr"]`` holds it after the last ``scheduler.step()``: one entry per
  group of ``param_groups`` in their order (one entry where there are none), the exact
  double of a scheduler's table, read on the host from a concrete state.

  A count-driven scheduler's rate is its table at the Adamax step count; a plateau's, its
  table at the reductions made; a rate given as a number is that number, and an optax
  schedule's is its value at the count. (A plateau reads the metric measured after an
  update with the next one, so after update ``n`` its rate is that of update ``n``.)
  """
  reader = getattr(opt, "learning_rates", None)
  if reader is None:
    raise TypeError(
      f"{type(opt).__name__} carries no learning rates to read: the PyTorch, MindSpore "
      "and Paddle presets keep them (get_last_lr(opt, state), Paddle's get_lr(opt, state)); "
      "pass one of those optimizers and its state."
    )
  return reader(opt_state)


def rate_reader(lrs: Sequence, position: Callable[[Any], int]) -> Callable[[Any], list[float]]:
  """``learning_rates`` over the groups' ``lrs`` (tables, numbers or optax schedules),
  each read at ``position(opt_state)`` (``position=int``: a reader of the position itself,
  :attr:`Preset.rates_at`)."""

  def read(opt_state):
    at = position(opt_state)
    rates = []
    for lr in lrs:
      table = exact_table(lr)
      if isinstance(table, ExactSchedule):
        rates.append(table.value_at(at))
      elif callable(lr):
        rates.append(float(lr(at)))
      else:
        rates.append(float(lr))
    return rates

  return read


def rounding_at_entry(opt: optax.GradientTransformation) -> optax.GradientTransformationExtraArgs:
  """``opt`` receiving its gradients rounded where they enter (:func:`rounded_at_entry`).

  Every framework preset has it, inside the skip of non-finite steps (which so reads the
  gradients as they came) and around the preset's other stages; the plain alias, which
  computes what :func:`optax.adamax` computes, does not round them: the select would
  change which product XLA contracts inside optax's unrounded arithmetic.
  """
  inner = optax.with_extra_args_support(opt)

  def update(updates, state, params=None, **extra_args):
    return inner.update(rounded_at_entry(updates), state, params, **extra_args)

  return optax.GradientTransformationExtraArgs(inner.init, update)


def finish(opt: optax.GradientTransformation) -> Preset:
  """``opt`` with gradient checks in ``update``, compiled: the last step of :func:`assemble`.

  ``update`` runs as one compiled program even when called eagerly: inside ``jax.jit``
  XLA contracts multiply-adds (PyTorch's lerp, a fused weight decay) that eager
  op-by-op execution would round twice, so compiling the update always makes the eager
  result the jitted one, bit for bit.
  """
  inner = optax.with_extra_args_support(opt)

  def init(params):
    return inner.init(python_numbers_as_arrays(params))

  def checked_update(updates, state, params=None, **extra_args):
    check_gradients(updates, params)
    check_state(inner.init, state, params)
    return inner.update(updates, state, params, **extra_args)

  return Preset(init, jax.jit(checked_update))


Stage = Callable[[optax.GradientTransformation], optax.GradientTransformation]


def takes_framework_params(factory: Callable) -> Callable:
  """``factory`` also called as the framework's constructor: parameters first.

  ``factory`` has a keyword ``params``; called with a first positional argument that
  :func:`~adamax_optax.param_groups.is_framework_params` takes for parameters (a dict,
  a list of groups, pairs or arrays, an iterator), that argument becomes ``params``
  and the rest stay in their places, so ``Adamax(params, 1e-3)`` and
  ``Adamax(params, lr=1e-3)`` read as PyTorch's do, while ``Adamax(1e-3)`` and
  ``Adamax(lr=1e-3)`` keep meaning the learning rate.
  """

  @functools.wraps(factory)
  def wrapped(*args, **kwargs):
    if args and is_framework_params(args[0]):
      if "params" in kwargs:
        raise TypeError(
          f"{factory.__name__}() got the parameters twice: as its first argument and as "
          "params=; pass them once."
        )
      kwargs["params"], args = args[0], args[1:]
    return factory(*args, **kwargs)

  return wrapped


def framework_groups(
  params, param_groups, *, argument: str = "params"
) -> tuple[Sequence[Mapping] | None, tuple[str, ...] | None]:
  """The groups and the framework's parameter order from a constructor's parameters.

  ``params`` as :func:`~adamax_optax.param_groups.read_framework_params` reads it, or
  None (the groups are then ``param_groups`` and the order unknown). Both at once are
  refused: the groups come from one of them.
  """
  if params is None:
    return param_groups, None
  if param_groups is not None:
    raise ValueError(
      f"pass the groups once: either in {argument}= (a list of group dicts) or in "
      "param_groups=, not both."
    )
  read = read_framework_params(params, argument)
  return read.param_groups, read.order


def with_param_order(opt: Preset, order: Sequence[str] | None) -> Preset:
  """``opt`` (a :class:`Preset`) carrying ``order`` as its ``param_order``."""
  opt.param_order = None if order is None else tuple(order)
  return opt


@dataclasses.dataclass(frozen=True, kw_only=True)
class PresetSettings:
  """A preset's keywords, checked and normalized: what :func:`assemble` needs.

  Attributes:
    framework: the framework's name, for messages (``"PyTorch"``).
    defaults: every group setting's value for the optimizer as a whole (PyTorch's
      ``lr``, ``betas``, ...); ``build`` gets these, overridden by a group's own.
    param_groups: the framework's parameter groups (the per-group overrides), or None.
    check_group: checks one group's overrides with the framework's messages.
    group_keys: the keys a group may set; None: every key of ``defaults``.
    ungrouped: ``"train"`` or ``"frozen"``, see :func:`with_param_groups`.
    build_ungrouped: builds the chain of the parameters in no group from ``defaults``
      (Paddle's per-parameter attributes); None: ``build(defaults)``.
    lr_scheduler: None, a count-driven scheduler with ``tabulate_groups(lrs, every,
      beta1)`` (per-group lr tables, and beta1 tables where it cycles ``betas[0]``),
      or a :class:`~adamax_optax.schedules.PlateauScheduler` (one table per group's
      ``lr``; Paddle's ``ReduceOnPlateau``, with its ``base_lr``: one rate,
      ``defaults["lr"]``, that the groups scale).
    lr_scheduler_every: updates per ``scheduler.step()``.
    lr_scheduler_start: the update count at which a count-driven scheduler was built:
      its epoch 0 is that update (a script that resumes and builds its scheduler
      afresh); the rate before it is the scheduler's first.
    skip_nonfinite: skip steps whose gradients hold NaN or inf.
    round_at_entry: round the incoming gradients (see :func:`rounding_at_entry`).
    exact_apply: return the updates as :class:`~adamax_optax.NewValue` leaves (see
      :mod:`adamax_optax.exact_apply`), made right after the groups, so that every
      stage around them sees and keeps that form.
    updates_in_param_dtype: return each update in its parameter's dtype
      (:func:`~adamax_optax.exact_apply.param_dtype_updates`), made at the same place.
  """

  framework: str
  defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)
  param_groups: Sequence[Mapping] | None = None
  check_group: Callable[[dict], None] = lambda overrides: None
  group_keys: Sequence[str] | None = None
  ungrouped: Ungrouped = "train"
  build_ungrouped: Callable[[dict], optax.GradientTransformation] | None = None
  lr_scheduler: Any = None
  lr_scheduler_every: int = 1
  lr_scheduler_start: int = 0
  skip_nonfinite: bool = False
  round_at_entry: bool = True
  exact_apply: bool = False
  updates_in_param_dtype: bool = False


def is_plateau(scheduler) -> bool:
  """Whether ``scheduler`` follows a metric (``update(..., value=metric)``)."""
  return isinstance(scheduler, PlateauScheduler)


def scheduler_and_cadence(scheduler, every, check_one: Callable[[Any], None]) -> tuple[Any, int]:
  """A preset's ``lr_scheduler`` and ``lr_scheduler_every``, checked, as
  :attr:`PresetSettings.lr_scheduler` and :attr:`PresetSettings.lr_scheduler_every`.

  ``scheduler`` is None, one scheduler, or a list of schedulers built on the same
  optimizer in that order and each stepped after every ``every[i]`` updates (one int:
  the same for all), in list order where several are due: what a script that builds
  ``LinearLR`` and ``StepLR`` on one optimizer and steps one per update and the other
  per epoch does. A list becomes one :class:`~adamax_optax.schedules.Together` stepped
  every ``gcd(every)`` updates. ``check_one`` checks each scheduler (the wing's kinds).
  """
  if not isinstance(scheduler, (list, tuple)):
    if scheduler is not None:
      check_one(scheduler)
    return scheduler, check_every(every)
  if not scheduler:
    raise ValueError("lr_scheduler is an empty list; give at least one scheduler, or None.")
  for each in scheduler:
    check_one(each)
    if is_plateau(each):
      raise ValueError(
        f"lr_scheduler: {type(each).__name__} follows a metric and cannot be stepped with "
        "other schedulers here; pass it alone as lr_scheduler=."
      )
  cadences = every if isinstance(every, (list, tuple)) else [every] * len(scheduler)
  if len(cadences) != len(scheduler):
    raise ValueError(
      f"lr_scheduler_every has {len(cadences)} entries but lr_scheduler has "
      f"{len(scheduler)} schedulers; give one int per scheduler, or one int for all."
    )
  cadences = [check_every(cadence) for cadence in cadences]
  table_step = math.gcd(*cadences)
  together = Together(scheduler, [cadence // table_step for cadence in cadences])
  return together, table_step


def plateau_over_groups(
  scheduler,
  defaults: dict,
  param_groups,
  build: Callable[[dict, list | None], optax.GradientTransformation],
  *,
  every: int,
  framework: str,
) -> tuple[optax.GradientTransformationExtraArgs, list[ExactSchedule]]:
  """:func:`on_plateau` for a preset with PyTorch-style parameter groups, and the rate
  tables of the framework's groups (indexed by the reductions made).

  ``scheduler`` is a :class:`~adamax_optax.schedules.PlateauScheduler` (its ``min_lr`` a
  number or one per group); ``build(defaults, groups)`` makes the preset with each
  group's ``lr`` set. Parameters in no group get a table of their own from the default
  ``lr``, floored at the smallest ``min_lr``.
  """
  check_scheduled_lrs(defaults, param_groups, framework)
  groups = list(param_groups or [])
  lrs = [float(g.get("lr", defaults["lr"])) for g in groups]
  tables = scheduler.reduction_tables(lrs) if groups else []
  min_lr = scheduler.min_lr
  floor = min(min_lr) if isinstance(min_lr, (list, tuple)) else min_lr
  (own,) = scheduler.reduction_tables([float(defaults["lr"])], [floor])

  def rebuild(rates):
    settings = [{**g, "lr": rate} for g, rate in zip(groups, rates, strict=False)]
    return build({**defaults, "lr": rates[-1]}, settings or None)

  opt = on_plateau(
    rebuild,
    [*tables, own],
    scheduler.advance,
    initial_best=scheduler.initial_best(),
    every=every,
  )
  return opt, (tables if groups else [own])


def _tabulated(scheduler, settings: PresetSettings) -> tuple[dict, list | None]:
  """The defaults and groups with each group's ``lr`` replaced by its table, and its
  ``betas[0]`` too where the scheduler cycles it.

  The scheduler acts on the groups in order, each from its own ``lr``, as PyTorch's and
  MindSpore's do; parameters in no group form one more group of their own, from the
  default ``lr``. Where the scheduler takes per-group lists with no entry for ungrouped
  parameters, using such a parameter raises an error saying so.
  """
  check_scheduled_lrs(settings.defaults, settings.param_groups, settings.framework)

  def tabulated(groups: list[dict]) -> list[dict]:
    lrs = [float(group["lr"]) for group in groups]
    lr_tables, beta1_tables = scheduler.tabulate_groups(lrs, settings.lr_scheduler_every)
    start = settings.lr_scheduler_start
    for index, group in enumerate(groups):
      group["lr"] = lr_tables[index].delayed(start)
      if beta1_tables is not None:
        group["betas"] = (beta1_tables[index].delayed(start), group["betas"][1])
    return groups

  defaults = dict(settings.defaults)
  if not settings.param_groups:
    (defaults,) = tabulated([defaults])
    return defaults, settings.param_groups
  groups = tabulated([{**defaults, **group} for group in settings.param_groups])
  try:
    (defaults,) = tabulated([defaults])
  except ValueError as error:

    def ungrouped(count, error=error):
      raise ValueError(
        f"A parameter is in no param_group, but the lr_scheduler needs one entry per "
        f"group ({error}); put every parameter in a group."
      )

    defaults = {**defaults, "lr": ungrouped}
  return defaults, groups


def assemble(
  build: Callable[[dict], optax.GradientTransformation],
  settings: PresetSettings,
  *,
  stages: Sequence[Stage] = (),
) -> Preset:
  """The preset from ``build`` (one group's chain from its settings), in the fixed order:
  groups, scheduler tables or plateau, the updates as new values (where
  ``settings.exact_apply``), ``stages``, the rounding at entry (where
  ``settings.round_at_entry``), the skip of non-finite steps, then :func:`finish`.

  With ``skip_nonfinite`` and a plateau scheduler the skip sits inside the plateau: a
  skipped step leaves the Adamax state and the params as they were, but it still counts
  as an update for ``lr_scheduler_every``, and the metric passed at a due update is
  still read. That is what a framework user's loop does: PyTorch's ``GradScaler``
  skips ``optimizer.step()`` on inf gradients, and the loop calls
  ``scheduler.step(metric)`` at the end of the epoch all the same; the epoch boundaries
  stay where the user's batch counter puts them. (Outside, a skip would drop that
  epoch's metric and shift every later boundary by one update.) The state is then an
  :class:`~adamax_optax.schedules.PlateauState` whose ``inner`` is a
  :class:`~adamax_optax.SkipNonfiniteState`, for every preset. A count-driven
  scheduler's position is the Adamax step count, which a skipped step holds: its rate
  does not move on a skipped step.

  Args:
    build: makes one group's chain from its settings (``settings.defaults`` overridden
      by the group's keys, a scheduler's tables put in).
    settings: the preset's normalized keywords.
    stages: wrappers applied, in order, to the grouped chain (tree checks, master
      weights, ...).

  Returns:
    A :class:`Preset`.
  """
  check_bool("skip_nonfinite", settings.skip_nonfinite)
  check_bool("exact_apply", settings.exact_apply)
  check_bool("updates_in_param_dtype", settings.updates_in_param_dtype)
  if settings.exact_apply and settings.updates_in_param_dtype:
    raise ValueError(
      "exact_apply=True and updates_in_param_dtype=True are two forms of the updates: "
      "pass one (exact_apply's new values already have the params' dtypes)."
    )
  check_ungrouped(settings.ungrouped)
  build_ungrouped = settings.build_ungrouped

  def optimizer(defaults, param_groups):
    opt = with_param_groups(
      build,
      defaults,
      param_groups,
      settings.check_group,
      ungrouped=settings.ungrouped,
      build_ungrouped=None if build_ungrouped is None else lambda: build_ungrouped(defaults),
      keys=settings.group_keys,
    )
    if settings.exact_apply:
      opt = new_value_updates(opt)
    if settings.updates_in_param_dtype:
      opt = param_dtype_updates(opt)
    for stage in stages:
      opt = stage(opt)
    if settings.round_at_entry:
      opt = rounding_at_entry(opt)
    return skipping(opt) if settings.skip_nonfinite else opt

  scheduler, every = settings.lr_scheduler, settings.lr_scheduler_every
  start = check_int("lr_scheduler_start", settings.lr_scheduler_start, 0)
  if start and (scheduler is None or is_plateau(scheduler)):
    raise ValueError(
      f"lr_scheduler_start={start} delays a count-driven lr_scheduler, but the optimizer has "
      f"{'a metric-driven one' if scheduler is not None else 'none'}: a plateau scheduler "
      "built afresh restarts through load_state(plateau=...); leave lr_scheduler_start at 0."
    )
  defaults, param_groups = dict(settings.defaults), settings.param_groups
  # Each group's rate source (a number, schedule or table) and what indexes the tables.
  position = adamax_count
  if scheduler is None:
    opt = optimizer(defaults, param_groups)
    # (A preset that holds its rate under another name, e.g. MXNet's, has no reader.)
    lrs = _framework_group_lrs(defaults, param_groups) if "lr" in defaults else None
  elif not is_plateau(scheduler):
    defaults, param_groups = _tabulated(scheduler, settings)
    opt = optimizer(defaults, param_groups)
    lrs = _framework_group_lrs(defaults, param_groups)
  elif hasattr(scheduler, "base_lr"):  # Paddle's plateau: the optimizer's one rate

    def at_rate(rate):
      return optimizer({**defaults, "lr": rate}, param_groups)

    at_rate(scheduler.base_lr)  # checks the groups now, not at init
    opt = scheduler.optimizer(at_rate, every=every)
    lrs, position = scheduler.reduction_tables([scheduler.base_lr]), _reductions
  else:  # a plateau with one table per group's lr
    optimizer(defaults, param_groups)  # checks the groups now, not at init
    opt, lrs = plateau_over_groups(
      scheduler, defaults, param_groups, optimizer, every=every, framework=settings.framework
    )
    position = _reductions
  opt = finish(opt)
  opt.learning_rates = None if lrs is None else rate_reader(lrs, position)
  opt.rates_at = None if lrs is None else rate_reader(lrs, int)
  opt.lr_scheduler = scheduler
  opt.lr_scheduler_every = every
  opt.lr_scheduler_start = start
  return opt


def _framework_group_lrs(defaults: dict, param_groups) -> list:
  """The ``lr`` of each of the framework's groups (the defaults' where there are none)."""
  if not param_groups:
    return [defaults["lr"]]
  return [group.get("lr", defaults["lr"]) for group in param_groups]


def _reductions(opt_state) -> int:
  """The reductions a plateau scheduler made, from its concrete state."""
  return int(opt_state.reductions)


COMMON_KEYWORDS = """\
mu_dtype: optional dtype of m in the state (e.g. ``jnp.bfloat16``, half the memory).
nu_dtype: optional dtype of u in the state. With either, the step computes in
  float32 and rounds once on store (see :func:`scale_by_adamax`); parity with the
  framework then holds only to that rounding.
skip_nonfinite: leave params and state unchanged on a step whose gradients hold NaN
  or inf, counting it (see :func:`skip_nonfinite`). Default False: NaN spreads, as in
  the framework. A plateau scheduler still counts a skipped step and reads its
  metric (see :func:`adamax_optax._preset.assemble`).
"""
"""The docs of the keywords every framework preset takes, written once: a preset's
docstring holds the line ``{COMMON_KEYWORDS}`` where :func:`with_common_keyword_docs`
puts them."""

_PLACEHOLDER = "{COMMON_KEYWORDS}"


def with_common_keyword_docs(factory: Callable) -> Callable:
  """``factory`` with :data:`COMMON_KEYWORDS` in its docstring, at the line holding
  ``{COMMON_KEYWORDS}`` and indented as that line, so ``help()`` shows them in place."""
  doc = factory.__doc__
  if doc is None:  # python -OO strips docstrings
    return factory
  line = next(line for line in doc.splitlines() if line.strip() == _PLACEHOLDER)
  indent = line[: len(line) - len(line.lstrip())]
  text = "\n".join(indent + entry for entry in COMMON_KEYWORDS.splitlines())
  factory.__doc__ = doc.replace(line, text)
  return factory


__all__ = [
  "COMMON_KEYWORDS",
  "Preset",
  "PresetSettings",
  "assemble",
  "check_gradients",
  "check_state",
  "finish",
  "framework_groups",
  "is_plateau",
  "rounded_at_entry",
  "rounding_at_entry",
  "stage_if",
  "takes_framework_params",
  "with_common_keyword_docs",
  "with_param_order",
]
