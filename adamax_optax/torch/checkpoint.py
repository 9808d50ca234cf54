"""Adamax state to and from ``torch.optim.Adamax``'s ``state_dict()`` (as NumPy dicts).

The moments go through :func:`adamax_optax.moments` and :func:`adamax_optax.load_state`:

.. code-block:: python

  mu, nu, step = from_torch_state_dict(torch_opt.state_dict(), params)  # as NumPy
  state = adamax_optax.load_state(opt, params, mu=mu, nu=nu, step=step)
"""

from collections.abc import Mapping

import jax
import numpy as np

from adamax_optax._checkpoint import ordered, single_step, to_numpy, tree


def from_torch_state_dict(state_dict: Mapping, params, *, order=None):
  """``(mu, nu, step)`` from ``torch.optim.Adamax(...).state_dict()``.

  Args:
    state_dict: ``{"state": {index: {"step", "exp_avg", "exp_inf"}}, "param_groups":
      [...]}``; tensors or arrays. PyTorch numbers the parameters through its groups in
      order.
    params: the params (for structure, dtypes and names).
    order: the leaf names in PyTorch's parameter order (default: ``tree_leaves`` order).
  """
  positions = ordered(params, order)
  entries = state_dict["state"]
  leaves = jax.tree.leaves(params)
  mu, nu, steps = [None] * len(leaves), [None] * len(leaves), []
  for index, position in enumerate(positions):
    if index not in entries:
      raise ValueError(f"state_dict['state'] has no entry for parameter index {index}.")
    entry = entries[index]
    mu[position] = to_numpy(entry["exp_avg"]).reshape(np.shape(leaves[position]))
    nu[position] = to_numpy(entry["exp_inf"]).reshape(np.shape(leaves[position]))
    steps.append(int(to_numpy(entry["step"])))
  return tree(params, mu), tree(params, nu), single_step(steps, "state_dict")


def to_torch_state_dict(mu, nu, step: int, *, order=None, param_groups=None) -> dict:
  """A ``state_dict`` that ``torch.optim.Adamax.load_state_dict`` accepts (as NumPy).

  Convert the arrays with ``torch.from_numpy`` first. ``param_groups`` should be your
  PyTorch optimizer's own ``state_dict()["param_groups"]`` (PyTorch takes the
  hyperparameters from it); by default one group holding every parameter.
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


__all__ = ["from_torch_state_dict", "to_torch_state_dict"]
