"""Adamax state to and from ``paddle.optimizer.Adamax``: the ``.pdopt`` and ``.pdparams``
files ``paddle.save`` writes, read and written without Paddle.

From a run's files to a state of :func:`adamax_optax.paddle_adamax`, built with the run's
arguments (its scheduler constructed afresh, as a Paddle script builds it before
``set_state_dict``):

.. code-block:: python

  opt = Adamax(learning_rate=lr.ReduceOnPlateau(0.02, factor=0.3, patience=3))
  params = from_paddle_model_file("model.pdparams", params)
  state = state_from_paddle_optimizer_file(opt, "opt.pdopt", params, model="model.pdparams")

:func:`state_from_paddle_optimizer_file` also reads the scheduler's state Paddle saves under
``"LR_Scheduler"`` (:func:`scheduler_state`): a ``ReduceOnPlateau``'s ``best``,
``num_bad_epochs``, ``cooldown_counter`` and ``last_lr`` continue in the state, any other
scheduler's ``last_epoch`` and ``last_lr`` are checked against the optimizer's at the
file's step. The moments alone: ``mu, nu, step = from_paddle_optimizer_file(...)`` and
:func:`adamax_optax.load_state`.

Paddle keys its accumulators by each parameter's internal name (``linear_0.w_0_moment_0``,
``..._inf_norm_0``, ``..._beta1_pow_acc_0``); the layer's ``.pdparams`` maps its
structured names (``fc.weight``, the leaf ``fc/weight``) to those internal names. The step
is recovered from ``beta1_pow_acc``, the float32 running product of beta1 (which holds
``beta1 ** (t + 1)`` after ``t`` updates). Files are read
by a restricted unpickler that runs no code from them.
"""

import os
import re
from collections.abc import Mapping

import jax
import numpy as np

from adamax_optax.checkpoint._converters import (
  checked_shape,
  params_by_name,
  running_power,
  single_step,
  steps_of_power,
  to_numpy,
  tree,
)
from adamax_optax.checkpoint._reading import CheckpointError, interpreting
from adamax_optax.checkpoint._restricted_pickle import UnsafePickleError
from adamax_optax.checkpoint.state import load_state
from adamax_optax.paddle._paddle_save import load, save
from adamax_optax.paddle.optimizer.lr import LambdaDecay, LRScheduler, ReduceOnPlateau
from adamax_optax.param_groups import leaf_names
from adamax_optax.validation import is_python_int

NAME_TABLE = "StructuredToParameterName@@"
#: Where ``Optimizer.state_dict()`` puts its learning-rate scheduler's ``state_dict()``.
LR_SCHEDULER = "LR_Scheduler"
#: What ``ReduceOnPlateau.state_dict()`` holds (every other scheduler: the last two).
PLATEAU_KEYS = ("cooldown_counter", "best", "num_bad_epochs", "last_epoch", "last_lr")
_ACCUMULATOR = re.compile(r"^(?P<param>.+)_(?P<kind>moment|inf_norm|beta1_pow_acc)_(?P<n>\d+)$")


def _structured(name: str) -> str:
  return name.replace(".", "/")


def internal_names(model, params) -> dict[str, str]:
  """``{leaf name: Paddle's internal parameter name}`` from a layer's ``state_dict`` (a
  ``.pdparams`` file or its dict), through its ``StructuredToParameterName@@`` table."""
  state = load(model) if isinstance(model, (str, os.PathLike)) else model
  where = model if isinstance(model, (str, os.PathLike)) else "model"
  with interpreting(where, "layer state_dict"):
    if NAME_TABLE not in state:
      raise ValueError(
        f"{where} has no '{NAME_TABLE}' table (not a paddle.save'd layer state_dict): pass "
        "names= {leaf name: internal parameter name} instead."
      )
    table = {_structured(k): v for k, v in state[NAME_TABLE].items()}
    missing = [n for n in leaf_names(params) if n not in table]
    if missing:
      raise ValueError(
        f"the model's state_dict has no parameters {missing}; it holds {sorted(table)}."
      )
    return {n: table[n] for n in leaf_names(params)}


def from_paddle_model_file(path, params):
  """``params`` with each leaf read from a layer's ``.pdparams`` file by structured name
  (Paddle's ``fc.weight`` is the leaf ``fc/weight``), cast to the leaf's dtype.

  Raises:
    FileNotFoundError: no file at ``path``.
    CheckpointError: a ``ValueError`` naming the file: it cannot be read (see
      :func:`~adamax_optax.paddle._paddle_save.load`), a parameter is missing from it or
      its shape differs.
  """
  state = load(path)
  with interpreting(path, "layer state_dict"):
    by_name = {_structured(k): v for k, v in state.items() if k != NAME_TABLE}

    def read(name, shape):
      if name not in by_name:
        raise ValueError(f"{path} has no parameter {name!r}; it holds {sorted(by_name)}.")
      return checked_shape(to_numpy(by_name[name]), shape, name, str(path))

    return params_by_name(params, read, cast_to_leaf_dtype=True)


def from_paddle_state_dict(
  state_dict: Mapping,
  params,
  *,
  names: Mapping[str, str],
  beta1=0.9,
  step=None,
  source="state_dict",
):
  """``(mu, nu, step)`` from ``paddle.optimizer.Adamax(...).state_dict()``.

  Args:
    state_dict: the accumulators ``<name>_moment_0``, ``<name>_inf_norm_0`` and
      ``<name>_beta1_pow_acc_0``; tensors or arrays.
    params: the params (structure, names, shapes).
    names: ``{leaf name: Paddle's internal parameter name}`` (see :func:`internal_names`).
    beta1: the optimizer's beta1 (default 0.9), to count the steps in ``beta1_pow``.
    step: the step, when ``beta1_pow`` cannot tell it (it reaches 0 after about 900 steps
      with beta1 0.9); checked against ``beta1_pow`` otherwise.
    source: how errors name the state dict.
  """
  found = {}
  for key, value in state_dict.items():
    match = _ACCUMULATOR.match(key)
    if match:
      found[(match["param"], match["kind"])] = value
  leaves = jax.tree.leaves(params)
  mu, nu, steps = [], [], []
  for name, leaf in zip(leaf_names(params), leaves, strict=True):
    internal = names[name]
    values = {}
    for kind in ("moment", "inf_norm", "beta1_pow_acc"):
      if (internal, kind) not in found:
        raise ValueError(
          f"{source} has no '{internal}_{kind}_0' for parameter {name!r}; it holds "
          f"{sorted(k for k in state_dict if k != NAME_TABLE)}."
        )
      values[kind] = to_numpy(found[(internal, kind)])
    where = f"{source}['{internal}_*']"
    mu.append(checked_shape(values["moment"], np.shape(leaf), name, where))
    nu.append(checked_shape(values["inf_norm"], np.shape(leaf), name, where))
    power = float(values["beta1_pow_acc"].reshape(-1)[0])
    # Paddle starts the accumulator at beta1 and multiplies after each update: after
    # t updates it holds beta1 ** (t + 1), the power the next update will use.
    if step is None:
      steps.append(steps_of_power(power, beta1, f"{where} of {name!r}") - 1)
      if steps[-1] < 0:
        raise ValueError(f"{where}: beta1_pow {power!r} is 1, not a power Paddle stores.")
    elif running_power(beta1, step + 1) != np.float32(power):
      raise ValueError(
        f"{where}: beta1_pow {power!r} is not beta1={beta1} to the power step + 1 with "
        f"step={step}; check step= and beta1=."
      )
  step = single_step(steps, source) if step is None else int(step)
  return tree(params, mu), tree(params, nu), step


def _internal_names(params, model, names) -> Mapping[str, str]:
  if names is not None:
    return names
  if model is None:
    raise ValueError(
      "Paddle keys the optimizer state by internal parameter names: pass model= (the "
      "layer's .pdparams file) or names={leaf name: internal name}."
    )
  return internal_names(model, params)


def from_paddle_optimizer_file(path, params, *, model=None, names=None, beta1=0.9, step=None):
  """``(mu, nu, step)`` from an ``Adamax.state_dict()`` saved by ``paddle.save`` (``.pdopt``).

  ``model`` (the layer's ``.pdparams`` file or ``state_dict``) or ``names`` (``{leaf
  name: internal name}``) maps the params to Paddle's internal names; ``beta1`` and
  ``step`` as in :func:`from_paddle_state_dict`. The scheduler's state in the file is not
  read: :func:`state_from_paddle_optimizer_file` reads it too.

  Raises:
    FileNotFoundError: no file at ``path`` (or ``model``).
    CheckpointError: a ``ValueError`` naming the file: it cannot be read (see
      :func:`~adamax_optax.paddle._paddle_save.load`), or it holds no accumulators of
      ``params`` (e.g. a ``.pdparams`` given as the ``.pdopt``), or they do not fit.
  """
  names = _internal_names(params, model, names)
  state_dict = load(path)
  with interpreting(path, "paddle.optimizer.Adamax state_dict"):
    return from_paddle_state_dict(
      state_dict, params, names=names, beta1=beta1, step=step, source=str(path)
    )


def _saved_int(saved: Mapping, key: str, source: str) -> int:
  value = saved[key]
  if not is_python_int(value):
    raise ValueError(f"{source}['{LR_SCHEDULER}']['{key}'] must be an int, got {value!r}.")
  return int(value)


def _saved_float(saved: Mapping, key: str, source: str) -> float:
  value = saved[key]
  if isinstance(value, np.ndarray) and value.size == 1:
    value = value.reshape(())[()]
  if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
    raise ValueError(f"{source}['{LR_SCHEDULER}']['{key}'] must be a number, got {value!r}.")
  return float(value)


def _plateau_state(saved: Mapping, scheduler: ReduceOnPlateau, step, every, source) -> dict:
  """``load_state``'s ``plateau=`` from a ``ReduceOnPlateau.state_dict()``."""
  epochs = step // every
  where = f"{source}['{LR_SCHEDULER}']"
  missing = [key for key in PLATEAU_KEYS if key not in saved]
  if missing:
    raise ValueError(
      f"{where} has no {missing}: it is the state of another scheduler than the "
      f"optimizer's ReduceOnPlateau (it holds {sorted(saved)}). Build the optimizer with "
      "the scheduler the run used."
    )
  last_epoch = _saved_int(saved, "last_epoch", source)
  if last_epoch != epochs:
    raise ValueError(
      f"{where}['last_epoch'] is {last_epoch}: the run called scheduler.step(metric) "
      f"{last_epoch} times, but after the file's {step} updates this optimizer "
      f"(lr_scheduler_every={every}) has called it {epochs} times. Pass the run's "
      "lr_scheduler_every (the updates per scheduler.step)."
    )
  last_lr = _saved_float(saved, "last_lr", source)
  if last_lr not in scheduler.levels:
    raise ValueError(
      f"{where}['last_lr'] is {last_lr!r}, which is no rate of this ReduceOnPlateau "
      f"(learning_rate={scheduler.base_lr!r} times factor={scheduler.factor!r} per "
      f"reduction, floored at min_lr={scheduler.min_lr!r}; it starts "
      f"{scheduler.levels[:4]}): build it with the run's learning_rate, factor, min_lr "
      "and epsilon."
    )
  best = saved["best"]
  return {
    # Paddle's best is None before the first metric.
    "best": scheduler.initial_best() if best is None else _saved_float(saved, "best", source),
    "num_bad_epochs": _saved_int(saved, "num_bad_epochs", source),
    "cooldown_counter": _saved_int(saved, "cooldown_counter", source),
    "reductions": scheduler.levels.index(last_lr),
  }


def _check_epoch_state(saved: Mapping, scheduler: LRScheduler, step, every, source) -> None:
  """A count-driven scheduler's ``last_epoch`` and ``last_lr`` against ``scheduler``'s."""
  epochs = step // every
  where = f"{source}['{LR_SCHEDULER}']"
  name = type(scheduler).__name__
  if "best" in saved:
    raise ValueError(
      f"{where} is a ReduceOnPlateau's state (it holds 'best'), but the optimizer's "
      f"scheduler is {name}. Build the optimizer with the scheduler the run used."
    )
  for key in ("last_epoch", "last_lr"):
    if key not in saved:
      raise ValueError(f"{where} has no '{key}' (it holds {sorted(saved)}).")
  last_epoch = _saved_int(saved, "last_epoch", source)
  want_epoch = scheduler.last_epoch + epochs
  if last_epoch != want_epoch:
    raise ValueError(
      f"{where}['last_epoch'] is {last_epoch}, but the optimizer's {name} (constructed at "
      f"epoch {scheduler.last_epoch}) is at epoch {want_epoch} after the file's {step} "
      f"updates (lr_scheduler_every={every}). Build the scheduler as the run did (the same "
      "last_epoch) and pass the run's lr_scheduler_every (updates per scheduler.step())."
    )
  last_lr = _saved_float(saved, "last_lr", source)
  want_lr = scheduler.value_at(epochs)
  if last_lr != want_lr:
    horizon = (
      f" (epoch {want_epoch} is past the scheduler's horizon={scheduler.horizon}: build it "
      "with a larger horizon=)"
      if np.isnan(want_lr)
      else ""
    )
    raise ValueError(
      f"{where}['last_lr'] is {last_lr!r}, but the optimizer's {name} gives {want_lr!r} "
      f"at epoch {want_epoch}{horizon}. Build it with the run's arguments."
    )


def scheduler_state(saved, scheduler, step: int, *, every: int = 1, source: str = "state_dict"):
  """What a Paddle scheduler's saved state means for resuming ``scheduler`` after ``step``
  updates: ``load_state``'s ``plateau=`` for a ``ReduceOnPlateau``, else ``None``.

  ``saved`` is ``Optimizer.state_dict()["LR_Scheduler"]`` (``None`` when the file has
  none), ``scheduler`` the optimizer's, constructed as the run constructed its own
  (:mod:`adamax_optax.paddle.optimizer.lr`; ``None`` for a fixed rate), stepped once per
  ``every`` updates, as the run's ``scheduler.step()``.

  * ``ReduceOnPlateau``: ``last_lr`` must be one of its rates (the reductions made are
    its index in :attr:`~adamax_optax.paddle.optimizer.lr.ReduceOnPlateau.levels`) and
    ``last_epoch`` (the ``step(metric)`` calls) ``step // every``; returns ``{best,
    num_bad_epochs, cooldown_counter, reductions}``. Paddle saves the scheduler after its
    ``step(metric)`` for the last update, so the state has read that metric already, and
    :func:`~adamax_optax.load_state` makes the next epoch's update read the next one.
  * Any other scheduler: ``last_epoch`` must be the scheduler's at ``step // every`` more
    steps and ``last_lr`` its value there (exactly); returns ``None``.

  Example:
    >>> from adamax_optax.paddle.checkpoint import scheduler_state
    >>> from adamax_optax.paddle.optimizer import lr
    >>> plateau = lr.ReduceOnPlateau(0.02, factor=0.3, patience=3, cooldown=2)
    >>> saved = {"cooldown_counter": 0, "best": 0.11, "num_bad_epochs": 3,
    ...          "last_epoch": 126, "last_lr": 0.0018}
    >>> scheduler_state(saved, plateau, step=126)
    {'best': 0.11, 'num_bad_epochs': 3, 'cooldown_counter': 0, 'reductions': 2}
    >>> scheduler_state({"last_epoch": 3, "last_lr": 0.01}, lr.StepDecay(0.02, 2, 0.5), 3)

  Raises:
    ValueError: naming ``source`` and the entry, when the saved state is not the one of
      ``scheduler`` after ``step`` updates: another kind of scheduler, other arguments,
      another cadence, no scheduler state for a scheduler or one for a fixed rate.
  """
  if not is_python_int(step) or step < 0:
    raise ValueError(f"step must be an int >= 0, got {step!r}.")
  if not is_python_int(every) or every < 1:
    raise ValueError(f"every (the updates per scheduler.step) must be an int >= 1, got {every!r}.")
  if scheduler is None:
    if saved is not None:
      raise ValueError(
        f"{source} holds a learning-rate scheduler's state ('{LR_SCHEDULER}': "
        f"{sorted(saved) if isinstance(saved, Mapping) else saved!r}), but the optimizer "
        "has a fixed learning rate: build it with learning_rate= the run's scheduler "
        "(adamax_optax.paddle.optimizer.lr)."
      )
    return None
  if saved is None:
    if isinstance(scheduler, LambdaDecay):
      return None  # Paddle resumes a LambdaDecay without its state too
    raise ValueError(
      f"{source} has no '{LR_SCHEDULER}' (Paddle saves one when the optimizer's "
      f"learning_rate is a scheduler), but this optimizer's is {type(scheduler).__name__}: "
      "the run used a fixed rate, or the file is not an optimizer's state_dict."
    )
  if not isinstance(saved, Mapping):
    raise ValueError(f"{source}['{LR_SCHEDULER}'] must be a dict, got {type(saved).__name__}.")
  if isinstance(scheduler, ReduceOnPlateau):
    return _plateau_state(saved, scheduler, step, every, source)
  _check_epoch_state(saved, scheduler, step, every, source)
  return None


def state_from_paddle_optimizer_file(
  opt, path, params, *, model=None, names=None, beta1=0.9, step=None
):
  """A state of ``opt`` continuing the run whose ``Adamax.state_dict()`` is the ``.pdopt``
  file ``path``: its moments and step (:func:`from_paddle_optimizer_file`), and its
  learning-rate scheduler's state (:func:`scheduler_state`), checked against ``opt``'s.

  ``opt`` is a :func:`~adamax_optax.paddle_adamax` optimizer built with the run's
  arguments, its scheduler constructed afresh as the run constructed its own (a Paddle
  script resuming builds them anew, then calls ``set_state_dict``). ``model`` or
  ``names``, ``beta1`` and ``step`` as in :func:`from_paddle_optimizer_file`.

  Example (the run's script built ``ReduceOnPlateau(0.02, factor=0.3, patience=3,
  cooldown=2)`` and saved ``opt.state_dict()`` and ``layer.state_dict()``):

  .. code-block:: python

    from adamax_optax.paddle import checkpoint
    from adamax_optax.paddle.optimizer import Adamax, lr

    opt = Adamax(learning_rate=lr.ReduceOnPlateau(0.02, factor=0.3, patience=3, cooldown=2))
    params = checkpoint.from_paddle_model_file("run.pdparams", params)
    state = checkpoint.state_from_paddle_optimizer_file(
      opt, "run.pdopt", params, model="run.pdparams"
    )
    # then, as the run went on: opt.update(grads, state, params, value=metric)

  Returns:
    The state: ``opt.update`` from it continues the run (with ``ReduceOnPlateau``, the
    next ``value=`` read is the metric of the first epoch after the file's).

  Raises:
    FileNotFoundError: no file at ``path`` (or ``model``).
    CheckpointError: a ``ValueError`` naming the file, as
      :func:`from_paddle_optimizer_file` raises, or when its scheduler state does not
      fit ``opt``'s scheduler (see :func:`scheduler_state`).
  """
  names = _internal_names(params, model, names)
  state_dict = load(path)
  with interpreting(path, "paddle.optimizer.Adamax state_dict"):
    mu, nu, step = from_paddle_state_dict(
      state_dict, params, names=names, beta1=beta1, step=step, source=str(path)
    )
    plateau = scheduler_state(
      state_dict.get(LR_SCHEDULER),
      getattr(opt, "lr_scheduler", None),
      step,
      every=getattr(opt, "lr_scheduler_every", 1),
      source=str(path),
    )
  return load_state(opt, params, mu=mu, nu=nu, step=step, plateau=plateau)


def to_paddle_state_dict(mu, nu, step: int, *, names: Mapping[str, str], beta1=0.9) -> dict:
  """An Adamax ``state_dict`` that ``paddle.optimizer.Adamax.set_state_dict`` accepts
  (as NumPy), keyed by ``names`` (``{leaf name: internal name}`` of the Paddle layer
  that will load it)."""
  power = np.array([running_power(beta1, step + 1)], np.float32)
  out = {}
  for kind, values in (("moment", mu), ("inf_norm", nu), ("beta1_pow_acc", None)):
    for name, value in zip(
      leaf_names(mu), jax.tree.leaves(mu if values is None else values), strict=True
    ):
      out[f"{names[name]}_{kind}_0"] = power.copy() if values is None else np.asarray(value)
  out[NAME_TABLE] = {key: key for key in out}
  return out


def to_paddle_optimizer_file(path, mu, nu, step: int, *, model=None, names=None, beta1=0.9):
  """Write :func:`to_paddle_state_dict`'s dict as ``paddle.save`` does; Paddle resumes
  with ``opt.set_state_dict(paddle.load(path))``. ``model`` (the ``.pdparams`` of the
  layer that will load it) or ``names`` gives the internal names."""
  if names is None:
    if model is None:
      raise ValueError("pass model= (the layer's .pdparams file) or names= (internal names).")
    names = internal_names(model, mu)
  save(to_paddle_state_dict(mu, nu, step, names=names, beta1=beta1), path)


__all__ = [
  "LR_SCHEDULER",
  "NAME_TABLE",
  "PLATEAU_KEYS",
  "CheckpointError",
  "UnsafePickleError",
  "from_paddle_model_file",
  "from_paddle_optimizer_file",
  "from_paddle_state_dict",
  "internal_names",
  "load",
  "save",
  "scheduler_state",
  "state_from_paddle_optimizer_file",
  "to_paddle_optimizer_file",
  "to_paddle_state_dict",
]
