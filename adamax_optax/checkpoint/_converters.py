"""What the wings' checkpoint converters share: leaf order, NumPy views, shape checks
naming the parameter, entries read by name, params read from a model file by name, one
step, and the float32 running power of beta1 (Paddle stores the step only as that power).
Each wing reads and writes its framework's files itself; the restricted unpickler they
share is :mod:`adamax_optax.checkpoint._restricted_pickle`.

Each framework numbers or names its parameters its own way; here a parameter's *index*
is its position in ``jax.tree_util.tree_leaves(params)`` and its *name* the "/"-joined
pytree path, unless ``order`` (a list of leaf names, in the framework's order) says
otherwise.
"""

from collections.abc import Callable, Mapping, Sequence

import jax
import numpy as np

from adamax_optax.param_groups import leaf_names


def to_numpy(x) -> np.ndarray:
  """A NumPy array from NumPy, JAX or (without importing them) a torch tensor, an MXNet
  NDArray or a Paddle tensor."""
  if hasattr(x, "asnumpy"):  # MXNet NDArray (has no .cpu())
    return np.asarray(x.asnumpy())
  if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch
    return np.asarray(x.detach().cpu().numpy())
  if not isinstance(x, (np.ndarray, np.generic)) and hasattr(x, "numpy"):  # Paddle
    return np.asarray(x.numpy())
  return np.asarray(x)


def checked_shape(value: np.ndarray, shape: tuple, name: str, where: str) -> np.ndarray:
  """``value`` reshaped to its parameter's ``shape``; a ValueError naming the parameter
  and both shapes when the sizes differ or the value is not the parameter's shape
  (a one-element ``(1,)`` value for a 0-d parameter is accepted)."""
  value = np.asarray(value)
  if value.shape != tuple(shape) and not (value.size == 1 == int(np.prod(shape))):
    raise ValueError(
      f"{where}: parameter {name!r} has shape {tuple(shape)}, but the checkpoint holds "
      f"shape {value.shape}; the checkpoint's parameter order does not match the params "
      "(pass order= or the framework's parameter names)."
    )
  return value.reshape(shape)


def entry(
  entries: Mapping, key: str, shape: tuple, *, label: str, source: str, missing: str, mismatch: str
) -> np.ndarray:
  """``entries[key]`` as a NumPy array of exactly ``shape`` (files that store each
  parameter under a name: MindSpore, Keras). A ValueError names ``label`` (the key, and
  the parameter it is read for) and ``source`` (the file or checkpoint), listing what it
  holds when the key is missing and both shapes when they differ; ``missing`` and
  ``mismatch`` say what to do."""
  if key not in entries:
    raise ValueError(f"The {source} has no {label}; it holds {sorted(entries)}.{missing}")
  value = to_numpy(entries[key])
  if value.shape != tuple(shape):
    raise ValueError(
      f"{label} has shape {value.shape} in the {source}, but the param has shape "
      f"{tuple(shape)}: {mismatch}"
    )
  return value


def params_by_name(params, read: Callable[[str, tuple], np.ndarray], *, cast_to_leaf_dtype: bool):
  """``params`` with each leaf replaced by its value in a model file, found by its name.

  The wing says how a name is found in its framework's file: ``read(name, shape)``
  returns the value saved for the leaf ``name``, checked against the leaf's ``shape``, or
  raises the wing's ValueError. ``cast_to_leaf_dtype`` is the framework's casting rule:

  * True for PyTorch, MXNet and Paddle, whose ``load_state_dict`` / ``load_parameters``
    copy the saved value into the existing parameter: it takes the leaf's dtype;
  * False for MindSpore and Keras, which load the saved variable itself: it keeps the
    file's dtype.

  Example:
    >>> import numpy as np
    >>> saved = {"w": np.arange(2.0)}
    >>> params = params_by_name(
    ...   {"w": np.zeros(2, np.float32)}, lambda name, shape: saved[name], cast_to_leaf_dtype=True
    ... )
    >>> print(params["w"], params["w"].dtype)
    [0. 1.] float32
  """
  values = []
  for name, leaf in zip(leaf_names(params), jax.tree.leaves(params), strict=True):
    value = read(name, np.shape(leaf))
    values.append(value.astype(np.asarray(leaf).dtype) if cast_to_leaf_dtype else value)
  return tree(params, values)


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


def running_power(beta1: float, step: int) -> np.float32:
  """``beta1`` multiplied into 1 ``step`` times, each product rounded to float32 (Paddle's
  ``beta1_pow_acc``, MindSpore ``nn.AdaMax``'s ``beta1_power``; the preset's state replays
  the same product)."""
  b1, power = np.float32(beta1), np.float32(1)
  for _ in range(step):
    following = np.float32(power * b1)
    if following == power:  # 0, 1 or another fixed point: no later product changes it
      break
    power = following
  return power


def steps_of_power(power: float, beta1: float, where: str) -> int:
  """The step count ``t`` whose float32 running product ``beta1**t`` equals ``power``.

  Raises a ValueError when no count gives it, or when the product has stopped changing
  (it reached 0 or a fixed point, so many counts give it): pass the step then.
  """
  b1, target, p, t = np.float32(beta1), np.float32(power), np.float32(1), 0
  while p >= target:
    following = np.float32(p * b1)
    if p == target and following != p:
      return t
    if following == p:  # 0 or a fixed point: every later count gives the same product
      break
    p, t = following, t + 1
  raise ValueError(
    f"{where}: beta1_pow {float(target)!r} does not determine the step for beta1={beta1} "
    "(none gives it, or the product stopped changing); pass step= (e.g. the number of "
    "optimizer steps taken) and beta1= as the optimizer used."
  )


def single_step(steps: list[int], where: str) -> int:
  if len(set(steps)) != 1:
    raise ValueError(f"{where}: the parameters are at different steps {sorted(set(steps))}.")
  return steps[0]


__all__ = [
  "checked_shape",
  "entry",
  "ordered",
  "params_by_name",
  "running_power",
  "single_step",
  "steps_of_power",
  "to_numpy",
  "tree",
]
