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
"""

import os
from collections.abc import Mapping, Sequence

import jax
import numpy as np

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
from adamax_optax.param_groups import group_labels, leaf_names
from adamax_optax.torch._torch_save import load, save


def _tree_of(obj):
  return load(obj) if isinstance(obj, (str, os.PathLike)) else obj


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
    return _names_from(list(_tree_of(model)), params)
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


def from_torch_optimizer_file(path, params, *, order=None, param_groups=None, model=None):
  """``(mu, nu, step)`` from an ``Adamax.state_dict()`` file saved by ``torch.save``.

  ``order``, ``param_groups`` and ``model`` (a ``state_dict`` or its file) map PyTorch's
  parameter indices to names, see :func:`from_torch_state_dict`.

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
  state_dict = load(path)
  with interpreting(path, "torch.optim.Adamax state_dict"):
    return from_torch_state_dict(
      state_dict, params, order=order, param_groups=param_groups, model=model, source=str(path)
    )


def from_torch_model_file(path, params):
  """``params`` with each leaf read from a ``model.state_dict()`` file saved by ``torch.save``
  (or such a dict), by name, cast to the leaf's dtype. A leaf's name is found as it is
  (a flat dict of PyTorch's names, ``{"fc.weight": ...}``) or with "/" read as PyTorch's
  "." (the nested leaf ``fc/weight`` is PyTorch's ``fc.weight``).

  Raises:
    FileNotFoundError: no file at ``path``.
    CheckpointError: a ``ValueError`` naming the file: it cannot be read (see
      :func:`~adamax_optax.torch._torch_save.load`), a parameter is missing from it, or
      its shape differs.
  """
  state = _tree_of(path)
  where = str(path) if isinstance(path, (str, os.PathLike)) else "the model state_dict"
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
  "CheckpointError",
  "UnsafePickleError",
  "from_torch_model_file",
  "from_torch_optimizer_file",
  "from_torch_state_dict",
  "load",
  "save",
  "to_torch_optimizer_file",
  "to_torch_state_dict",
]
