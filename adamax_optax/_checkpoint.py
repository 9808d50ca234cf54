"""What the wings' checkpoint converters share: leaf order, NumPy views, one step.

Each framework numbers or names its parameters its own way; here a parameter's *index*
is its position in ``jax.tree_util.tree_leaves(params)`` and its *name* the "/"-joined
pytree path, unless ``order`` (a list of leaf names, in the framework's order) says
otherwise.
"""

from collections.abc import Sequence

import jax
import numpy as np

from adamax_optax.param_groups import leaf_names


def to_numpy(x) -> np.ndarray:
  """A NumPy array from NumPy, JAX or (without importing it) a torch tensor."""
  if hasattr(x, "detach"):
    x = x.detach().cpu().numpy()
  return np.asarray(x)


def ordered(params, order: Sequence[str] | None) -> list[int]:
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


def tree(params, leaves: list):
  return jax.tree.unflatten(jax.tree.structure(params), leaves)


def single_step(steps: list[int], where: str) -> int:
  if len(set(steps)) != 1:
    raise ValueError(f"{where}: the parameters are at different steps {sorted(set(steps))}.")
  return steps[0]


__all__ = ["ordered", "single_step", "to_numpy", "tree"]
