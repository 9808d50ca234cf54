"""Adamax state to and from MXNet: updater states (``Updater.get_states``), the files of
``Trainer.save_states`` and ``save_parameters``, read and written without MXNet.

From a run's files to a state of :func:`adamax_optax.mxnet_adamax` (or
:func:`adamax_optax.mxnet1_adamax`):

.. code-block:: python

  params = from_mxnet_params_file("net.params", params)
  mu, nu, step, masters = from_mxnet_states_file("trainer.states", params)
  state = adamax_optax.load_state(opt, params, mu=mu, nu=nu, step=step, master_weights=masters)

MXNet's parameter index is the position in the Trainer's parameter list; by default the
position in ``tree_leaves(params)``, or the position of each name in ``order``. Files are
read by a restricted unpickler that runs no code from them.
"""

from collections.abc import Mapping

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
from adamax_optax.mxnet._mxnet_save import (
  Record,
  load_parameters,
  load_states,
  save_parameters,
  save_states,
)
from adamax_optax.param_groups import leaf_names


def from_mxnet_states(states: Mapping, update_counts: Mapping, params, *, order=None):
  """``(mu, nu, step, master_weights)`` from MXNet's updater states.

  Args:
    states: ``updater.states`` (what ``Updater.get_states`` pickles): index -> ``(mean,
      var)``, or ``(master_weight, (mean, var))`` with ``multi_precision``; NDArrays or
      arrays. MXNet's ``var`` is Adamax's infinity norm ``u``.
    update_counts: ``optimizer._index_update_count``: index -> updates done.
    params: the params.
    order: the leaf names in MXNet's index order (default: ``tree_leaves`` order).

  Returns:
    ``master_weights`` is None unless the states carry float32 master copies.

  Raises:
    ValueError: an index is missing, or a state's shape differs from its parameter's
      (naming both).
  """
  leaves = jax.tree.leaves(params)
  names = leaf_names(params)
  positions = ordered(params, order)
  mu, nu, masters = [None] * len(leaves), [None] * len(leaves), [None] * len(leaves)
  steps = []
  for index, position in enumerate(positions):
    if index not in states:
      raise ValueError(f"states has no entry for parameter index {index}.")
    entry = states[index]
    master = None
    if len(entry) == 2 and isinstance(entry[1], (tuple, list)):
      master, entry = entry
    mean, var = entry
    shape, name, where = np.shape(leaves[position]), names[position], f"states[{index}]"
    mu[position] = checked_shape(to_numpy(mean), shape, name, where)
    nu[position] = checked_shape(to_numpy(var), shape, name, where)
    if master is not None:
      masters[position] = checked_shape(to_numpy(master), shape, name, where)
    if index not in update_counts:
      raise ValueError(f"update_counts has no entry for parameter index {index}.")
    steps.append(int(update_counts[index]))
  master_weights = None
  if any(m is not None for m in masters):
    master_weights = tree(
      params, [m if m is not None else np.asarray(p) for m, p in zip(masters, leaves, strict=True)]
    )
  return tree(params, mu), tree(params, nu), single_step(steps, "update_counts"), master_weights


def from_mxnet_states_file(path, params, *, order=None, update_counts=None):
  """``(mu, nu, step, master_weights)`` from a ``Trainer.save_states`` file.

  The update counts come from the optimizer saved with the states (``Trainer`` saves it);
  for a file holding the states alone, pass ``update_counts`` (index -> count).

  Example:
    >>> import os, tempfile
    >>> import numpy as np
    >>> from adamax_optax.mxnet.checkpoint import from_mxnet_states_file, save_states
    >>> states = {0: (np.ones(2, np.float32), np.full(2, 2, np.float32))}
    >>> path = os.path.join(tempfile.mkdtemp(), "trainer.states")
    >>> save_states(path, states)
    >>> mu, nu, step, _ = from_mxnet_states_file(path, {"w": np.zeros(2)}, update_counts={0: 3})
    >>> print(mu["w"], nu["w"], step)
    [1. 1.] [2. 2.] 3

  Raises:
    FileNotFoundError: no file at ``path``.
    CheckpointError: a ``ValueError`` naming the file: it cannot be read (see
      :func:`load_states`), or what it holds does not fit ``params``.
    UnsafePickleError: the file names a global outside MXNet's arrays and optimizer.
  """
  states, optimizer = load_states(path)
  with interpreting(path, "Trainer.save_states file"):
    if update_counts is None:
      if optimizer is None:
        raise ValueError(
          f"{path} holds the states without the optimizer, so without the update counts: "
          "pass update_counts={index: count} (MXNet's optimizer._index_update_count)."
        )
      update_counts = optimizer["_index_update_count"]
    return from_mxnet_states(states, update_counts, params, order=order)


def from_mxnet_params_file(path, params, *, names=None):
  """``params`` with each leaf read from a ``save_parameters`` file, by name, cast to the
  leaf's dtype.

  Args:
    path: the file.
    params: the params (structure, names, dtypes).
    names: optional ``{leaf name: name in the file}`` for names that differ (MXNet's
      ``dense0_weight`` or ``0.weight``); a leaf ``fc/weight`` otherwise also matches
      ``fc.weight``.

  Raises:
    FileNotFoundError: no file at ``path``.
    CheckpointError: a ``ValueError`` naming the file: it cannot be read (see
      :func:`load_parameters`), a parameter is missing from it or its shape differs.
  """
  stored = load_parameters(path)
  names = dict(names or {})

  def read(name, shape):
    key = names.get(name, name if name in stored else name.replace("/", "."))
    if key not in stored:
      raise ValueError(f"{path} has no parameter {key!r}; it holds {sorted(stored)}.")
    return checked_shape(stored[key], shape, name, str(path))

  with interpreting(path, "MXNet parameter file"):
    return params_by_name(params, read, cast_to_leaf_dtype=True)


def to_mxnet_states(mu, nu, step: int, master_weights=None, *, order=None):
  """``(states, update_counts)`` in MXNet's layout (see :func:`from_mxnet_states`)."""
  positions = ordered(mu, order)
  mus, nus = jax.tree.leaves(mu), jax.tree.leaves(nu)
  masters = None if master_weights is None else jax.tree.leaves(master_weights)
  states, counts = {}, {}
  for index, position in enumerate(positions):
    pair = (np.asarray(mus[position]), np.asarray(nus[position]))
    if masters is not None:
      pair = (np.asarray(masters[position], np.float32), pair)
    states[index] = pair
    counts[index] = int(step)
  return states, counts


def to_mxnet_states_file(
  path, mu, nu, step: int, master_weights=None, *, optimizer=None, order=None, version=2
) -> None:
  """Write a ``Trainer.load_states`` file holding the moments (and master copies).

  Args:
    path: the file to write.
    mu, nu, step, master_weights: as :func:`adamax_optax.moments` gives them (and the
      state's master copies for ``multi_precision``).
    optimizer: the ``optimizer`` record of a file this Trainer saved before (from
      :func:`load_states`): it is written back with its update counts set to ``step``,
      so MXNet continues the bias correction. Without it only the states are written,
      and MXNet keeps its own optimizer and counts.
    order: the leaf names in MXNet's index order (default ``tree_leaves`` order).
    version: 2 for MXNet 2.0, 1 for 1.x (which has no 0-d arrays: a 0-d value is
      written with shape (1,), as 1.x holds it).
  """
  states, counts = to_mxnet_states(mu, nu, step, master_weights, order=order)
  if version < 2:
    states = jax.tree.map(lambda x: x.reshape(1) if x.ndim == 0 else x, states)
  if optimizer is not None:
    optimizer = Record(optimizer.type_name, optimizer)
    optimizer["_index_update_count"] = counts
    if "_all_index_update_counts" in optimizer:
      optimizer["_all_index_update_counts"] = {0: counts}
    optimizer["num_update"] = max(int(step), int(optimizer.get("begin_num_update", 0)))
  save_states(path, states, optimizer, version=version)


__all__ = [
  "CheckpointError",
  "Record",
  "UnsafePickleError",
  "from_mxnet_params_file",
  "from_mxnet_states",
  "from_mxnet_states_file",
  "load_parameters",
  "load_states",
  "save_parameters",
  "save_states",
  "to_mxnet_states",
  "to_mxnet_states_file",
]
