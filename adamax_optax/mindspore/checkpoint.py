"""Adamax state to and from MindSpore checkpoint entries (both optimizers), as NumPy."""

from collections.abc import Mapping

import jax
import numpy as np

from adamax_optax._checkpoint import to_numpy, tree
from adamax_optax.param_groups import leaf_names

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
    mu.append(to_numpy(entries[first + name]).reshape(np.shape(leaf)))
    nu.append(to_numpy(entries[second + name]).reshape(np.shape(leaf)))
  step = int(np.asarray(to_numpy(entries[step_key])).reshape(-1)[0])
  return tree(params, mu), tree(params, nu), step


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


__all__ = ["from_mindspore_checkpoint", "to_mindspore_checkpoint"]
