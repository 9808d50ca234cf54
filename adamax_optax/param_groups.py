"""Parameter names and per-parameter hyperparameters (MXNet multipliers, groups).

A parameter's *index* is its position in ``jax.tree_util.tree_leaves(params)`` and its
*name* is its pytree path joined with ``"/"`` (dict keys, attribute names, sequence
indices), e.g. ``"Dense_0/kernel"``. :func:`grouped` runs one transformation per distinct
set of hyperparameters, the way MXNet's ``lr_mult`` and framework parameter groups do.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping

import jax
import optax


def _key_name(key) -> str:
  for attr in ("key", "name", "idx"):
    if hasattr(key, attr):
      return str(getattr(key, attr))
  return str(key)


def leaf_names(params) -> list[str]:
  """The names of the leaves of ``params``, in ``tree_leaves`` order."""
  paths = jax.tree_util.tree_flatten_with_path(params)[0]
  return ["/".join(_key_name(k) for k in path) for path, _ in paths]


def per_leaf_values(
  option: str,
  values: Mapping | None,
  names: list[str],
  default: Callable[[int, str], float] = lambda index, name: 1.0,
) -> list:
  """MXNet's lookup for each leaf: by index, then by name, else ``default``.

  Raises a ValueError naming ``option`` for an index out of range or an unknown name.
  """
  values = dict(values or {})
  for key in values:
    if isinstance(key, bool) or not isinstance(key, (int, str)):
      raise TypeError(f"{option} keys must be int indices or str names, got {key!r}.")
    if isinstance(key, int) and not 0 <= key < len(names):
      raise ValueError(
        f"{option} has index {key}, but there are {len(names)} parameters "
        f"(indices 0 to {len(names) - 1})."
      )
    if isinstance(key, str) and key not in names:
      raise ValueError(f"{option} names unknown parameter {key!r}; known names: {names}.")
  out = []
  for index, name in enumerate(names):
    if index in values:
      out.append(values[index])
    elif name in values:
      out.append(values[name])
    else:
      out.append(default(index, name))
  return out


def grouped(
  build: Callable[[Hashable], optax.GradientTransformation],
  labels: Callable[[optax.Params], list[Hashable]],
) -> optax.GradientTransformation:
  """One transformation per label, each on its own leaves (like :func:`optax.partition`).

  ``labels(params)`` gives one hashable label per leaf, in ``tree_leaves`` order; it must
  depend only on the tree's structure and leaf names, never on values, so that it can be
  recomputed from the gradients inside ``update``. ``build(label)`` makes the
  transformation of that label's leaves.
  """

  def partition(tree):
    leaf_labels = labels(tree)
    unique = sorted(set(leaf_labels), key=repr)
    ids = {label: str(i) for i, label in enumerate(unique)}
    label_tree = jax.tree.unflatten(jax.tree.structure(tree), [ids[label] for label in leaf_labels])
    return optax.partition({ids[label]: build(label) for label in unique}, label_tree)

  def init_fn(params):
    return partition(params).init(params)

  def update_fn(updates, state, params=None):
    return partition(updates).update(updates, state, params)

  return optax.GradientTransformation(init_fn, update_fn)


__all__ = ["grouped", "leaf_names", "per_leaf_values"]
