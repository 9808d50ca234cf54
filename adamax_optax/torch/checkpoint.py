"""Adamax state to and from ``torch.optim.Adamax``: its ``state_dict()`` and the files
``torch.save`` writes, read and written without PyTorch.

From a checkpoint file (the optimizer's and the model's ``state_dict``) to a state of
:func:`adamax_optax.torch_adamax`:

.. code-block:: python

  params = from_torch_model_file("model.pt", params)
  mu, nu, step = from_torch_optimizer_file("optimizer.pt", params, model="model.pt")
  state = adamax_optax.load_state(opt, params, mu=mu, nu=nu, step=step)

PyTorch numbers the parameters through its groups in order; the name of each number
comes, first found, from ``order=``, the file's own ``param_names`` (an optimizer built
from ``named_parameters()``), ``param_groups=`` (the groups given to ``torch_adamax``),
the model's ``state_dict`` key order (``model=``, one group), else ``tree_leaves`` order.
Names match the params' "/"-joined names, PyTorch's dotted names too (``fc.weight`` is
``fc/weight``). Files are read by a restricted unpickler that runs no code from them.

A training script's checkpoint, ``torch.save({"model": model.state_dict(), "optimizer":
optimizer.state_dict(), "scheduler": scheduler.state_dict()}, path)``, resumes in two
lines, the scheduler's position included (a ``ReduceLROnPlateau``'s best metric, bad
epochs, cooldown and reductions, read from the file; any other's checked against the
step):

.. code-block:: python

  params = from_torch_model_file("checkpoint.pt", params)
  state = adamax_optax.load_state(opt, params, **from_torch_checkpoint_file(
    "checkpoint.pt", opt, params))

Each reader takes such a dict as well as a bare ``state_dict`` (``entry=`` names the key
where it is not ``"model"``, ``"optimizer"``, ``"scheduler"`` or their
``*_state_dict`` spellings).
"""

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence

import jax
import numpy as np

from adamax_optax._preset import Preset, is_plateau
from adamax_optax.checkpoint._converters import (
  checked_shape,
  ordered,
  params_by_name,
  single_step,
  to_numpy,
  tree,
)
from adamax_optax.checkpoint._reading import CheckpointError, interpreting
from adamax_optax.checkpoint._restricted_pickle import UnsafePickleError
from adamax_optax.checkpoint._schedulers import check_scheduler_position, plateau_reductions
from adamax_optax.param_groups import group_labels, leaf_names
from adamax_optax.schedules import Together
from adamax_optax.torch._torch_save import load, save

#: Where a training script's checkpoint dict keeps each ``state_dict``, tried in this
#: order when the file is not the ``state_dict`` itself (PyTorch's tutorial saves
#: ``model_state_dict`` and ``optimizer_state_dict``; Lightning's ``state_dict`` is a model's).
ENTRIES = {
  "model": ("model", "model_state_dict", "state_dict"),
  "optimizer": ("optimizer", "optimizer_state_dict"),
  "scheduler": ("scheduler", "lr_scheduler", "scheduler_state_dict"),
}


def _tree_of(obj):
  return load(obj) if isinstance(obj, (str, os.PathLike)) else obj


def _entry(tree, part: str, is_whole: Callable[[Mapping], bool], entry, source):
  """The ``part`` ("model", "optimizer" or "scheduler") ``state_dict`` in what a file
  holds: ``tree[entry]`` when ``entry`` is given, else ``tree`` itself when
  ``is_whole(tree)``, else its first entry of :data:`ENTRIES` ``[part]`` holding a dict;
  None when there is none (the caller says what it expected)."""
  if not isinstance(tree, Mapping):
    return None
  if entry is not None:
    if entry not in tree:
      raise CheckpointError(
        f"{source} has no entry {entry!r} (entry=); it holds {sorted(map(str, tree))}."
      )
    return tree[entry]
  if is_whole(tree):
    return tree
  return next((tree[k] for k in ENTRIES[part] if isinstance(tree.get(k), Mapping)), None)


def _is_model_state(tree: Mapping) -> bool:
  return not any(isinstance(v, Mapping) for v in tree.values())


def _is_optimizer_state(tree: Mapping) -> bool:
  return "state" in tree


def _is_scheduler_state(tree: Mapping) -> bool:
  return "_last_lr" in tree


def _model_state(model, entry=None, source="the model state_dict"):
  """A model's ``state_dict`` from a mapping or a file, alone or in a checkpoint dict."""
  tree = _tree_of(model)
  found = _entry(tree, "model", _is_model_state, entry, source)
  return tree if found is None else found


def _torch_name(name: str) -> str:
  return name.replace(".", "/")


def _names_from(candidates: Sequence[str], params) -> list[str]:
  """Leaf names for PyTorch's dotted names, skipping those that are not params
  (a model's buffers)."""
  names = leaf_names(params)
  out = []
  for c in candidates:
    if c in names:
      out.append(c)
    elif _torch_name(c) in names:
      out.append(_torch_name(c))
  return out


def _torch_order(state_dict: Mapping, params, order, param_groups, model) -> list[str]:
  """The leaf name of each PyTorch parameter index."""
  groups = state_dict.get("param_groups", [])
  count = sum(len(g["params"]) for g in groups) if groups else len(leaf_names(params))
  if order is not None:
    return list(order)
  file_names = [n for g in groups for n in g.get("param_names", [])]
  if groups and len(file_names) == count:
    mapped = _names_from(file_names, params)
    return mapped if len(mapped) == count else file_names
  if param_groups is not None:
    labels = group_labels(param_groups)(params)
    names = leaf_names(params)
    out = []
    for i, group in enumerate(param_groups):
      selector = group["params"]
      if callable(selector):
        out.extend(n for n, label in zip(names, labels, strict=True) if label == i)
      else:
        out.extend([selector] if isinstance(selector, str) else selector)
    out.extend(n for n, label in zip(names, labels, strict=True) if label == -1)
    per_group = [labels.count(i) for i in range(len(param_groups))]
    if -1 in labels:  # the rest: torch_adamax's default group, after the listed ones
      per_group.append(labels.count(-1))
    in_file = [len(g["params"]) for g in groups]
    if groups and per_group != in_file:
      raise ValueError(
        f"param_groups holds {per_group} parameters per group, the file's groups {in_file}: "
        "pass the groups in the order the PyTorch optimizer got them."
      )
    return out
  if model is not None:
    if len(groups) > 1:
      raise ValueError(
        f"the optimizer has {len(groups)} parameter groups, so the model's key order does "
        "not give PyTorch's parameter order: pass param_groups= (the groups given to "
        "torch_adamax, in PyTorch's order) or order=."
      )
    return _names_from(list(_model_state(model)), params)
  return leaf_names(params)


def from_torch_state_dict(
  state_dict: Mapping, params, *, order=None, param_groups=None, model=None, source="state_dict"
):
  """``(mu, nu, step)`` from ``torch.optim.Adamax(...).state_dict()``.

  Args:
    state_dict: ``{"state": {index: {"step", "exp_avg", "exp_inf"}}, "param_groups":
      [...]}``; tensors or arrays. PyTorch numbers the parameters through its groups in
      order.
    params: the params (for structure, dtypes and names).
    order: the leaf names in PyTorch's parameter order, e.g. ``opt.param_order`` of
      ``adamax_optax.torch.optim.Adamax(params, ...)`` given the parameters (and
      groups) the PyTorch optimizer was given.
    param_groups: the ``param_groups`` given to ``torch_adamax`` (names listed in the
      order the PyTorch optimizer's groups held them): the order is their concatenation.
    model: the model's ``state_dict`` (a mapping or a ``torch.save`` file): with one
      group, the order is its key order (buffers skipped).
    source: how errors name the state dict.

  Raises:
    CheckpointError: a ``ValueError``: ``state_dict`` is not an optimizer's (a model's
      ``state_dict`` has no ``"state"``).
    ValueError: an entry's shape differs from its parameter's (naming both), an index is
      missing, or the groups disagree.
  """
  if not isinstance(state_dict, Mapping) or "state" not in state_dict:
    held = sorted(map(str, state_dict))[:8] if isinstance(state_dict, Mapping) else None
    raise CheckpointError(
      f"{source} is not an optimizer's state_dict: it has no 'state' entry (it holds "
      f"{held if held is not None else 'a ' + type(state_dict).__name__}). A model's "
      "state_dict is read with from_torch_model_file (or passed as model=); here give "
      "torch.save(optimizer.state_dict(), path)."
    )
  names = _torch_order(state_dict, params, order, param_groups, model)
  positions = ordered(params, names)
  entries = state_dict["state"]
  leaves = jax.tree.leaves(params)
  mu, nu, steps = [None] * len(leaves), [None] * len(leaves), []
  for index, position in enumerate(positions):
    if index not in entries:
      raise ValueError(f"{source}['state'] has no entry for parameter index {index}.")
    entry = entries[index]
    where = f"{source}['state'][{index}]"
    shape = np.shape(leaves[position])
    mu[position] = checked_shape(to_numpy(entry["exp_avg"]), shape, names[index], where)
    nu[position] = checked_shape(to_numpy(entry["exp_inf"]), shape, names[index], where)
    steps.append(int(to_numpy(entry["step"]).reshape(-1)[0]))
  return tree(params, mu), tree(params, nu), single_step(steps, source)


def from_torch_optimizer_file(
  path, params, *, order=None, param_groups=None, model=None, entry=None
):
  """``(mu, nu, step)`` from an ``Adamax.state_dict()`` file saved by ``torch.save``.

  ``order``, ``param_groups`` and ``model`` (a ``state_dict`` or its file) map PyTorch's
  parameter indices to names, see :func:`from_torch_state_dict`. The file holds the
  ``state_dict`` itself or a checkpoint dict with it under ``entry`` (default: the first
  of ``"optimizer"``, ``"optimizer_state_dict"`` it has).

  Example:
    >>> import os, tempfile
    >>> import numpy as np
    >>> from adamax_optax.torch.checkpoint import from_torch_optimizer_file, save
    >>> state = {"state": {0: {"step": np.float32(3), "exp_avg": np.ones(2, np.float32),
    ...   "exp_inf": np.full(2, 2, np.float32)}}, "param_groups": [{"params": [0]}]}
    >>> path = os.path.join(tempfile.mkdtemp(), "optimizer.pt")
    >>> save(state, path)  # as torch.save(torch_optimizer.state_dict(), path)
    >>> mu, nu, step = from_torch_optimizer_file(path, {"w": np.zeros(2)})
    >>> print(mu["w"], nu["w"], step)
    [1. 1.] [2. 2.] 3

  Raises:
    FileNotFoundError: no file at ``path``.
    CheckpointError: a ``ValueError`` naming the file: it cannot be read (see
      :func:`~adamax_optax.torch._torch_save.load`), it is not an optimizer's
      ``state_dict`` (e.g. a model's), or it does not fit ``params`` (a shape, an index).
    UnsafePickleError: the file names a global that is not a tensor (never called).
  """
  tree = load(path)
  with interpreting(path, "torch.optim.Adamax state_dict"):
    return _moments_and_step(tree, path, params, entry, order, param_groups, model)


def _moments_and_step(tree, path, params, entry, order, param_groups, model):
  """:func:`from_torch_state_dict` of the optimizer's entry of a loaded file (or of the
  whole file, a bare ``state_dict``)."""
  state_dict = _entry(tree, "optimizer", _is_optimizer_state, entry, path)
  return from_torch_state_dict(
    tree if state_dict is None else state_dict,
    params,
    order=order,
    param_groups=param_groups,
    model=model,
    source=str(path),
  )


def from_torch_model_file(path, params, *, entry=None):
  """``params`` with each leaf read from a ``model.state_dict()`` file saved by ``torch.save``
  (or such a dict), by name, cast to the leaf's dtype. A leaf's name is found as it is
  (a flat dict of PyTorch's names, ``{"fc.weight": ...}``) or with "/" read as PyTorch's
  "." (the nested leaf ``fc/weight`` is PyTorch's ``fc.weight``). A checkpoint dict
  holding the model's ``state_dict`` under ``entry`` (default: the first of ``"model"``,
  ``"model_state_dict"``, ``"state_dict"`` it has) is read too.

  Raises:
    FileNotFoundError: no file at ``path``.
    CheckpointError: a ``ValueError`` naming the file: it cannot be read (see
      :func:`~adamax_optax.torch._torch_save.load`), a parameter is missing from it, or
      its shape differs.
  """
  where = str(path) if isinstance(path, (str, os.PathLike)) else "the model state_dict"
  state = _model_state(path, entry, where)
  with interpreting(where, "model state_dict"):
    by_name = {_torch_name(k): v for k, v in state.items()}

    def read(name, shape):
      if name in state:
        return checked_shape(to_numpy(state[name]), shape, name, where)
      if name not in by_name:
        raise ValueError(
          f"{where} has no parameter {name!r} (as {name.replace('/', '.')!r}); it holds "
          f"{sorted(state)}."
        )
      return checked_shape(to_numpy(by_name[name]), shape, name, where)

    return params_by_name(params, read, cast_to_leaf_dtype=True)


# --- Schedulers -------------------------------------------------------------------------

#: A saved scheduler's class, known by the keys of its ``state_dict`` (the attributes
#: PyTorch 2.13 keeps): the first entry whose keys it holds. Keys a class shares with a
#: later one (CyclicLR's ``gamma``, ConstantLR's ``total_iters``) put it earlier.
SCHEDULER_KEYS = (
  ("ReduceLROnPlateau", {"mode_worse", "num_bad_epochs"}),
  ("SequentialLR", {"_milestones"}),
  ("ChainedScheduler", {"_schedulers"}),
  ("OneCycleLR", {"_schedule_phases"}),
  ("CyclicLR", {"max_lrs"}),
  ("CosineAnnealingWarmRestarts", {"T_0"}),
  ("CosineAnnealingLR", {"T_max"}),
  ("LinearLR", {"start_factor"}),
  ("PolynomialLR", {"power"}),
  ("ConstantLR", {"factor", "total_iters"}),
  ("MultiStepLR", {"milestones"}),
  ("StepLR", {"step_size"}),
  ("ExponentialLR", {"gamma"}),
  ("LambdaLR or MultiplicativeLR", {"lr_lambdas"}),
)

# ReduceLROnPlateau's arguments that its state_dict keeps under their own names.
_PLATEAU_ARGUMENTS = (
  "mode",
  "threshold_mode",
  "threshold",
  "factor",
  "patience",
  "cooldown",
  "eps",
)


def saved_scheduler_kind(state_dict: Mapping) -> str:
  """The class of PyTorch scheduler whose ``state_dict()`` this is (see
  :data:`SCHEDULER_KEYS`), e.g. ``"StepLR"``."""
  for kind, keys in SCHEDULER_KEYS:
    if keys <= set(state_dict):
      return kind
  return "scheduler of an unknown kind"


def _preset_scheduler(opt):
  if not isinstance(opt, Preset):
    raise TypeError(
      f"opt must be the optimizer made by adamax_optax.torch.optim.Adamax (torch_adamax), "
      f"which carries its lr_scheduler and param_order; got {type(opt).__name__}. With "
      "optax.chain(clip, opt), pass opt here and the chain to load_state."
    )
  return opt.lr_scheduler


def _argument_differences(saved: Mapping, scheduler) -> list[str]:
  """``name: file, here`` for each argument of ``scheduler`` the file keeps otherwise."""
  if is_plateau(scheduler):
    names = list(_PLATEAU_ARGUMENTS)
  else:  # the numbers and names PyTorch keeps under the keyword's own name
    names = [
      f.name
      for f in dataclasses.fields(scheduler)
      if f.name not in ("lr", "horizon", "last_epoch")  # (last_epoch: the file's position)
      and isinstance(getattr(scheduler, f.name), (int, float, str))
    ]
  pairs = [(name, saved[name], getattr(scheduler, name)) for name in names if name in saved]
  if isinstance(saved.get("milestones"), Mapping):  # MultiStepLR's Counter: each with its count
    repeated = sorted(m for m, count in saved["milestones"].items() for _ in range(count))
    pairs.append(("milestones", repeated, sorted(scheduler.milestones)))
  if is_plateau(scheduler) and "min_lrs" in saved:
    min_lr = scheduler.min_lr
    own = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * len(saved["min_lrs"])
    pairs.append(("min_lr", list(saved["min_lrs"]), own))
  return [f"{name}={got!r} in the file, {want!r} here" for name, got, want in pairs if got != want]


def _check_position(saved: Mapping, kind: str, step: int, every: int, source) -> None:
  """The scheduler was stepped once per ``every`` updates, as the preset steps it."""
  last_epoch = saved.get("last_epoch")
  if last_epoch is None:  # ChainedScheduler keeps no count of its own
    return
  check_scheduler_position(last_epoch, kind, step, every, source)


def _reductions_made(opt, saved_rates: list[float], source) -> int:
  """The reductions after which the preset's groups hold ``saved_rates``."""
  reductions = plateau_reductions(opt, saved_rates)
  if reductions is None:
    raise ValueError(
      f"{source}: the saved ReduceLROnPlateau's rates (_last_lr) {saved_rates} are not this "
      f"optimizer's after any number of reductions (from {opt.rates_at(0)}): give each group "
      "the lr the script's optimizer started from, in the script's group order."
    )
  return reductions


def from_torch_scheduler_state(state_dict: Mapping, opt, *, step: int, source="state_dict"):
  """The ``plateau=`` of :func:`~adamax_optax.load_state` from PyTorch's
  ``scheduler.state_dict()``, checked against ``opt``'s scheduler.

  For ``ReduceLROnPlateau``: ``{"best", "num_bad_epochs", "cooldown_counter",
  "reductions"}``, the file's bookkeeping after its last ``scheduler.step(metric)``, with
  ``reductions`` found from the rates the groups hold (``_last_lr``; once every group's
  rate has stopped at its floor, the first reduction that left them there).
  :func:`~adamax_optax.load_state` then reads the next epoch's metric at the next epoch
  boundary: the saved epoch's metric is not counted again. For a count-driven scheduler
  (``StepLR``, ``OneCycleLR``, ...) the preset's position follows the optimizer's step,
  so there is nothing to read and the result is None; the file is checked all the same.

  Checks (each a ``ValueError`` naming the file's value and the optimizer's): the file's
  class is ``opt``'s scheduler's (:func:`saved_scheduler_kind`), the arguments it keeps
  (``mode``, ``threshold``, ``factor``, ``patience``, ``cooldown``, ``min_lr``, ``eps``,
  ``threshold_mode``; ``step_size``, ``gamma``, ``T_max``, ...) are equal, it was stepped
  ``step // opt.lr_scheduler_every`` times (``last_epoch``: a script stepping the
  scheduler once per epoch needs ``lr_scheduler_every`` = its batches per epoch), and for
  a count-driven scheduler its ``_last_lr`` is the preset's rate at ``step``. Several
  schedulers on one optimizer (a list given as ``lr_scheduler``) are not checked.

  Args:
    state_dict: ``scheduler.state_dict()`` (as :func:`load` reads it from a file).
    opt: the optimizer made by :func:`adamax_optax.torch.optim.Adamax` with the script's
      scheduler and cadence (not a chain around it).
    step: the optimizer's step in the same checkpoint (:func:`from_torch_state_dict`).
    source: how errors name the state dict.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.torch.optim import Adamax
    >>> from adamax_optax.torch.optim.lr_scheduler import ReduceLROnPlateau
    >>> from adamax_optax.torch.checkpoint import from_torch_scheduler_state
    >>> opt = Adamax({"w": jnp.ones(2)}, lr=0.1, lr_scheduler=ReduceLROnPlateau(factor=0.5))
    >>> saved = {"mode": "min", "factor": 0.5, "patience": 10, "threshold": 1e-4,
    ...   "threshold_mode": "rel", "cooldown": 0, "eps": 1e-8, "min_lrs": [0],
    ...   "mode_worse": float("inf"), "last_epoch": 30, "_last_lr": [0.05], "best": 0.25,
    ...   "num_bad_epochs": 4, "cooldown_counter": 0}  # scheduler.state_dict()
    >>> from_torch_scheduler_state(saved, opt, step=30)
    {'best': 0.25, 'num_bad_epochs': 4, 'cooldown_counter': 0, 'reductions': 1}

  Raises:
    CheckpointError: ``state_dict`` is not a scheduler's (it has no ``_last_lr``).
    ValueError: a check above fails, or ``opt`` has no scheduler.
    TypeError: ``opt`` is not an optimizer of :mod:`adamax_optax.torch.optim`.
  """
  scheduler = _preset_scheduler(opt)
  if not isinstance(state_dict, Mapping) or not _is_scheduler_state(state_dict):
    held = sorted(map(str, state_dict))[:8] if isinstance(state_dict, Mapping) else None
    raise CheckpointError(
      f"{source} is not a scheduler's state_dict: it has no '_last_lr' entry (it holds "
      f"{held if held is not None else 'a ' + type(state_dict).__name__}). Give "
      "torch.save(scheduler.state_dict(), path), or a checkpoint dict with a 'scheduler' entry."
    )
  kind = saved_scheduler_kind(state_dict)
  if scheduler is None:
    raise ValueError(
      f"{source} holds the state of a {kind}, but the optimizer has no lr_scheduler: build "
      "it with lr_scheduler= the script's scheduler and arguments."
    )
  if isinstance(scheduler, Together):
    return None
  own = type(scheduler).__name__
  if own not in kind.split(" or "):
    raise ValueError(
      f"{source} holds the state of a {kind}, but the optimizer's lr_scheduler is a {own}: "
      "build it with the scheduler the script saved."
    )
  if getattr(scheduler, "last_epoch", -1) != -1:
    raise ValueError(
      f"{source} holds the {kind}'s saved state, but the optimizer's {own} is built with "
      f"last_epoch={scheduler.last_epoch}, as a script rebuilds one without that state: "
      "build it with last_epoch=-1 to continue the saved run."
    )
  differences = _argument_differences(state_dict, scheduler)
  if differences:
    raise ValueError(
      f"{source}: the saved {kind} was built with other arguments than the optimizer's: "
      f"{'; '.join(differences)}. Build the scheduler with the script's arguments."
    )
  _check_position(state_dict, kind, step, opt.lr_scheduler_every, source)
  saved_rates = [float(rate) for rate in state_dict["_last_lr"]]
  if is_plateau(scheduler):
    return {
      "best": float(state_dict["best"]),
      "num_bad_epochs": int(state_dict["num_bad_epochs"]),
      "cooldown_counter": int(state_dict["cooldown_counter"]),
      "reductions": _reductions_made(opt, saved_rates, source),
    }
  if saved_rates != opt.rates_at(step):
    raise ValueError(
      f"{source}: the saved {kind}'s rates (_last_lr) are {saved_rates}, this optimizer's "
      f"after {step} updates {opt.rates_at(step)}: give each group the lr the script's "
      "optimizer started from, in the script's group order."
    )
  return None


def from_torch_scheduler_file(path, opt, *, step: int, entry=None):
  """:func:`from_torch_scheduler_state` from a file saved by ``torch.save``: the
  ``scheduler.state_dict()`` itself, or a checkpoint dict holding it under ``entry``
  (default: the first of ``"scheduler"``, ``"lr_scheduler"``, ``"scheduler_state_dict"``
  it has). Returns the ``plateau=`` of :func:`~adamax_optax.load_state` (None for a
  count-driven scheduler, whose position follows ``step``).

  Example: an optimizer file and a scheduler file saved apart:

  .. code-block:: python

    mu, nu, step = from_torch_optimizer_file("optimizer.pt", params, order=opt.param_order)
    plateau = from_torch_scheduler_file("scheduler.pt", opt, step=step)
    state = adamax_optax.load_state(opt, params, mu=mu, nu=nu, step=step, plateau=plateau)

  Raises:
    FileNotFoundError: no file at ``path``.
    CheckpointError: a ``ValueError`` naming the file: it cannot be read, it holds no
      scheduler's ``state_dict``, or a check of :func:`from_torch_scheduler_state` fails.
    UnsafePickleError: the file names a global that is not a tensor (never called).
  """
  tree = load(path)
  with interpreting(path, "torch.optim.lr_scheduler state_dict"):
    saved = _entry(tree, "scheduler", _is_scheduler_state, entry, path)
    return from_torch_scheduler_state(
      tree if saved is None else saved, opt, step=step, source=str(path)
    )


def from_torch_checkpoint_file(path, opt, params, *, order=None, param_groups=None, model=None):
  """The keywords of :func:`~adamax_optax.load_state` that continue the run a PyTorch
  script saved: ``{"mu", "nu", "step", "plateau"}`` from one ``torch.save`` file.

  The file is ``torch.save({"model": model.state_dict(), "optimizer":
  optimizer.state_dict(), "scheduler": scheduler.state_dict()}, path)`` (the entries
  under any name of :data:`ENTRIES`; the scheduler's may be missing where ``opt`` has no
  plateau scheduler), or a bare optimizer ``state_dict``. The moments and the step come
  from the optimizer's entry (:func:`from_torch_state_dict`; PyTorch's parameter indices
  named by ``order``, by default ``opt.param_order``, else as there), ``plateau`` from the
  scheduler's (:func:`from_torch_scheduler_state`, which also checks a count-driven
  scheduler against the step).

  Args:
    path: the file.
    opt: the optimizer made by :func:`adamax_optax.torch.optim.Adamax`, built as the
      script built its optimizer and scheduler (groups, ``lr_scheduler``,
      ``lr_scheduler_every``).
    params: the params (for structure, dtypes and names); read them from the same
      file with :func:`from_torch_model_file`.
    order, param_groups, model: PyTorch's parameter order, as for
      :func:`from_torch_state_dict` (``model`` by default the file's own model entry).

  Example:

  .. code-block:: python

    opt = Adamax(groups, lr=1e-3, lr_scheduler=ReduceLROnPlateau(factor=0.3, patience=3),
                 lr_scheduler_every=batches_per_epoch)
    params = from_torch_model_file("checkpoint.pt", params)
    state = load_state(opt, params, **from_torch_checkpoint_file("checkpoint.pt", opt, params))

  Raises:
    FileNotFoundError: no file at ``path``.
    CheckpointError: a ``ValueError`` naming the file: it cannot be read, it holds no
      optimizer ``state_dict``, it holds no scheduler state while ``opt`` has a
      ``ReduceLROnPlateau``, or a check fails (see :func:`from_torch_state_dict` and
      :func:`from_torch_scheduler_state`).
    UnsafePickleError: the file names a global that is not a tensor (never called).
    TypeError: ``opt`` is not an optimizer of :mod:`adamax_optax.torch.optim`.
  """
  scheduler = _preset_scheduler(opt)
  tree = load(path)
  with interpreting(path, "PyTorch training checkpoint"):
    if order is None and param_groups is None and model is None:
      order = opt.param_order  # None where opt was not given the parameters
    if model is None:
      model = _entry(tree, "model", _is_model_state, None, path)
    mu, nu, step = _moments_and_step(tree, path, params, None, order, param_groups, model)
    saved = _entry(tree, "scheduler", _is_scheduler_state, None, path)
    if saved is not None:
      plateau = from_torch_scheduler_state(saved, opt, step=step, source=str(path))
    elif is_plateau(scheduler):
      raise CheckpointError(
        f"{path} holds no scheduler state_dict (no entry {list(ENTRIES['scheduler'])}), "
        "which the optimizer's ReduceLROnPlateau needs to continue (its best metric and "
        "bad epochs): save scheduler.state_dict() in the checkpoint, or read it from its "
        "own file with from_torch_scheduler_file."
      )
    else:
      plateau = None
  return {"mu": mu, "nu": nu, "step": step, "plateau": plateau}


def to_torch_state_dict(mu, nu, step: int, *, order=None, param_groups=None) -> dict:
  """A ``state_dict`` that ``torch.optim.Adamax.load_state_dict`` accepts (as NumPy).

  Convert the arrays with ``torch.from_numpy`` first, or write it with
  :func:`to_torch_optimizer_file`. ``param_groups`` should be your PyTorch optimizer's
  own ``state_dict()["param_groups"]`` (PyTorch takes the hyperparameters from it); by
  default one group holding every parameter.
  """
  positions = ordered(mu, order)
  mus, nus = jax.tree.leaves(mu), jax.tree.leaves(nu)
  state = {
    index: {
      "step": np.float32(step),
      "exp_avg": np.asarray(mus[position]),
      "exp_inf": np.asarray(nus[position]),
    }
    for index, position in enumerate(positions)
  }
  groups = param_groups if param_groups is not None else [{"params": list(range(len(mus)))}]
  return {"state": state, "param_groups": list(groups)}


def to_torch_optimizer_file(path, mu, nu, step: int, *, order=None, param_groups=None) -> None:
  """Write :func:`to_torch_state_dict`'s dict as ``torch.save`` does; PyTorch resumes
  with ``opt.load_state_dict(torch.load(path, weights_only=True))``."""
  save(to_torch_state_dict(mu, nu, step, order=order, param_groups=param_groups), path)


__all__ = [
  "ENTRIES",
  "SCHEDULER_KEYS",
  "CheckpointError",
  "UnsafePickleError",
  "from_torch_checkpoint_file",
  "from_torch_model_file",
  "from_torch_optimizer_file",
  "from_torch_scheduler_file",
  "from_torch_scheduler_state",
  "from_torch_state_dict",
  "load",
  "save",
  "saved_scheduler_kind",
  "to_torch_optimizer_file",
  "to_torch_state_dict",
]
