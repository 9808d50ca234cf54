"""Adamax state to and from MXNet's updater states (``Updater.get_states``), as NumPy."""

from collections.abc import Mapping

import jax
import numpy as np

from adamax_optax._checkpoint import single_step, to_numpy, tree


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
    mu.append(to_numpy(mean).reshape(np.shape(leaf)))
    nu.append(to_numpy(var).reshape(np.shape(leaf)))
    masters.append(None if master is None else to_numpy(master).reshape(np.shape(leaf)))
    steps.append(int(update_counts[index]))
  master_weights = None
  if any(m is not None for m in masters):
    master_weights = tree(
      params, [m if m is not None else np.asarray(p) for m, p in zip(masters, leaves, strict=True)]
    )
  return tree(params, mu), tree(params, nu), single_step(steps, "update_counts"), master_weights


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


__all__ = ["from_mxnet_states", "to_mxnet_states"]
