"""Adamax state to and from the checkpoints of PyTorch, MXNet and MindSpore.

Plain NumPy dicts in, plain NumPy dicts out, so no framework is imported. Each framework
numbers or names its parameters its own way; here a parameter's *index* is its position
in ``jax.tree_util.tree_leaves(params)`` and its *name* the "/"-joined pytree path,
unless ``order`` (a list of leaf names, in the framework's order) or ``names`` (leaf name
-> framework name) say otherwise.

The moments go through :func:`adamax_optax.moments` and :func:`adamax_optax.load_state`:

.. code-block:: python

  mu, nu, step = from_torch_state_dict(torch_opt.state_dict(), params)  # as NumPy
  state = adamax_optax.load_state(opt, params, mu=mu, nu=nu, step=step)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import jax
import numpy as np

from adamax_optax.param_groups import leaf_names


def _to_numpy(x) -> np.ndarray:
  """A NumPy array from NumPy, JAX or (without importing it) a torch tensor."""
  if hasattr(x, "detach"):
    x = x.detach().cpu().numpy()
  return np.asarray(x)


def _ordered(params, order: Sequence[str] | None) -> list[int]:
  """Leaf positions in the framework's parameter order."""
  names = leaf_names(params)
  if order is None:
    return list(range(len(names)))
  unknown = [n for n in order if n not in names]
  if unknown or len(order) != len(names) or len(set(order)) != len(order):
    raise ValueError(
      f"order must list each parameter name once; unknown {unknown}, known names {names}."
    )
  return [names.index(n) for n in order]


def _tree(params, leaves: list):
  return jax.tree.unflatten(jax.tree.structure(params), leaves)


def _single_step(steps: list[int], where: str) -> int:
  if len(set(steps)) != 1:
    raise ValueError(f"{where}: the parameters are at different steps {sorted(set(steps))}.")
  return steps[0]


# --- PyTorch ---------------------------------------------------------------------------


def from_torch_state_dict(state_dict: Mapping, params, *, order=None):
  """``(mu, nu, step)`` from ``torch.optim.Adamax(...).state_dict()``.

  Args:
    state_dict: ``{"state": {index: {"step", "exp_avg", "exp_inf"}}, "param_groups":
      [...]}``; tensors or arrays. PyTorch numbers the parameters through its groups in
      order.
    params: the params (for structure, dtypes and names).
    order: the leaf names in PyTorch's parameter order (default: ``tree_leaves`` order).
  """
  positions = _ordered(params, order)
  entries = state_dict["state"]
  leaves = jax.tree.leaves(params)
  mu, nu, steps = [None] * len(leaves), [None] * len(leaves), []
  for index, position in enumerate(positions):
    if index not in entries:
      raise ValueError(f"state_dict['state'] has no entry for parameter index {index}.")
    entry = entries[index]
    mu[position] = _to_numpy(entry["exp_avg"]).reshape(np.shape(leaves[position]))
    nu[position] = _to_numpy(entry["exp_inf"]).reshape(np.shape(leaves[position]))
    steps.append(int(_to_numpy(entry["step"])))
  return _tree(params, mu), _tree(params, nu), _single_step(steps, "state_dict")


def to_torch_state_dict(mu, nu, step: int, *, order=None, param_groups=None) -> dict:
  """A ``state_dict`` that ``torch.optim.Adamax.load_state_dict`` accepts (as NumPy).

  Convert the arrays with ``torch.from_numpy`` first. ``param_groups`` should be your
  PyTorch optimizer's own ``state_dict()["param_groups"]`` (PyTorch takes the
  hyperparameters from it); by default one group holding every parameter.
  """
  positions = _ordered(mu, order)
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


# --- MXNet -----------------------------------------------------------------------------


def from_mxnet_states(states: Mapping, update_counts: Mapping, params):
  """``(mu, nu, step, master_weights)`` from MXNet's updater states.

  Args:
    states: ``updater.states`` (what ``Updater.get_states`` pickles): index -> ``(mean,
      var)``, or ``(master_weight, (mean, var))`` with ``multi_precision``. MXNet's
      ``var`` is Adamax's infinity norm ``u``.
    update_counts: ``optimizer._index_update_count``: index -> updates done.
    params: the params; MXNet's index is the position in ``tree_leaves(params)``.

  Returns:
    ``master_weights`` is None unless the states carry float32 master copies.
  """
  leaves = jax.tree.leaves(params)
  mu, nu, masters, steps = [], [], [], []
  for index, leaf in enumerate(leaves):
    if index not in states:
      raise ValueError(f"states has no entry for parameter index {index}.")
    entry = states[index]
    master = None
    if len(entry) == 2 and isinstance(entry[1], (tuple, list)):
      master, entry = entry
    mean, var = entry
    mu.append(_to_numpy(mean).reshape(np.shape(leaf)))
    nu.append(_to_numpy(var).reshape(np.shape(leaf)))
    masters.append(None if master is None else _to_numpy(master).reshape(np.shape(leaf)))
    steps.append(int(update_counts[index]))
  master_weights = None
  if any(m is not None for m in masters):
    master_weights = _tree(
      params, [m if m is not None else np.asarray(p) for m, p in zip(masters, leaves, strict=True)]
    )
  return _tree(params, mu), _tree(params, nu), _single_step(steps, "update_counts"), master_weights


def to_mxnet_states(mu, nu, step: int, master_weights=None) -> tuple[dict, dict]:
  """``(states, update_counts)`` in MXNet's layout (see :func:`from_mxnet_states`)."""
  mus, nus = jax.tree.leaves(mu), jax.tree.leaves(nu)
  masters = None if master_weights is None else jax.tree.leaves(master_weights)
  states, counts = {}, {}
  for index, (m, u) in enumerate(zip(mus, nus, strict=True)):
    pair = (np.asarray(m), np.asarray(u))
    states[index] = pair if masters is None else (np.asarray(masters[index], np.float32), pair)
    counts[index] = int(step)
  return states, counts


# --- MindSpore -------------------------------------------------------------------------

_MINDSPORE_KEYS = {
  # optimizer: (first moment prefix, infinity norm prefix, step entry)
  "experimental": ("exp_avg.", "exp_inf.", "step_t"),
  "nn": ("moment1.", "moment2.", "global_step"),
}


def from_mindspore_checkpoint(entries: Mapping, params, *, names=None, optimizer="experimental"):
  """``(mu, nu, step)`` from a MindSpore checkpoint's entries (``load_checkpoint``).

  Args:
    entries: name -> array: ``exp_avg.<name>``, ``exp_inf.<name>`` and ``step_t`` for
      ``experimental.optim.Adamax``; ``moment1.<name>``, ``moment2.<name>`` and
      ``global_step`` for ``nn.AdaMax``.
    params: the params.
    names: leaf name -> MindSpore parameter name (default: the leaf name).
    optimizer: ``"experimental"`` or ``"nn"``.
  """
  first, second, step_key = _mindspore_keys(optimizer)
  mu, nu = [], []
  for leaf_name, leaf in zip(leaf_names(params), jax.tree.leaves(params), strict=True):
    name = (names or {}).get(leaf_name, leaf_name)
    for prefix in (first, second):
      if prefix + name not in entries:
        raise ValueError(f"entries has no {prefix + name!r}.")
    mu.append(_to_numpy(entries[first + name]).reshape(np.shape(leaf)))
    nu.append(_to_numpy(entries[second + name]).reshape(np.shape(leaf)))
  step = int(np.asarray(_to_numpy(entries[step_key])).reshape(-1)[0])
  return _tree(params, mu), _tree(params, nu), step


def to_mindspore_checkpoint(mu, nu, step: int, *, names=None, optimizer="experimental") -> dict:
  """Checkpoint entries in MindSpore's naming (see :func:`from_mindspore_checkpoint`)."""
  first, second, step_key = _mindspore_keys(optimizer)
  entries = {}
  for leaf_name, m, u in zip(leaf_names(mu), jax.tree.leaves(mu), jax.tree.leaves(nu), strict=True):
    name = (names or {}).get(leaf_name, leaf_name)
    entries[first + name] = np.asarray(m)
    entries[second + name] = np.asarray(u)
  entries[step_key] = np.array([step], np.int32)
  return entries


def _mindspore_keys(optimizer: str) -> tuple[str, str, str]:
  if optimizer not in _MINDSPORE_KEYS:
    raise ValueError(f"optimizer must be one of {sorted(_MINDSPORE_KEYS)}, got {optimizer!r}.")
  return _MINDSPORE_KEYS[optimizer]


__all__ = [
  "from_mindspore_checkpoint",
  "from_mxnet_states",
  "from_torch_state_dict",
  "to_mindspore_checkpoint",
  "to_mxnet_states",
  "to_torch_state_dict",
]
