"""The files ``paddle.save`` writes (``.pdparams``, ``.pdopt``), read and written with NumPy
alone, never running their code.

``paddle.save`` pickles dicts of NumPy arrays (a tensor as a ``(name, ndarray)`` pair).
They are read by :func:`adamax_optax.checkpoint._restricted_pickle.restricted_loads`
allowing only NumPy's arrays, scalars and dtypes, ``OrderedDict`` and ``tuple``.

The module needs only NumPy (the recording script loads it inside Paddle's own environment
to check that Paddle takes what it writes).
"""

import os
import pickle
from collections.abc import Mapping

import numpy as np

from adamax_optax.checkpoint._reading import reading
from adamax_optax.checkpoint._restricted_pickle import (
  CONTAINERS,
  Constructor,
  numpy_globals,
  restricted_loads,
)


def _paddle_globals() -> dict:
  return {
    **numpy_globals(),
    **CONTAINERS,
    "builtins.tuple": Constructor("builtins.tuple", lambda items=(): tuple(items)),
  }


def load(path) -> object:
  """What ``paddle.save`` wrote to ``path``, tensors as NumPy arrays (``paddle.load``
  without Paddle and without running code from the file).

  Raises:
    FileNotFoundError: no file at ``path``.
    UnsafePickleError: the file names a function or class that is not a NumPy array
      (it is never called). A ``CheckpointError``.
    CheckpointError: a ``ValueError`` naming the file and the problem (truncated,
      damaged, not a pickle), chained to the low-level error.
  """
  path = os.fspath(path)
  with open(path, "rb") as f, reading(path, "Paddle checkpoint"):
    obj = restricted_loads(f.read(), path, _paddle_globals())

  def tensors(x):
    if isinstance(x, dict):
      return {k: tensors(v) for k, v in x.items()}
    if isinstance(x, list):
      return [tensors(v) for v in x]
    if isinstance(x, tuple):
      if len(x) == 2 and isinstance(x[0], str) and isinstance(x[1], np.ndarray):
        return x[1]
      return tuple(tensors(v) for v in x)
    return x

  return tensors(obj)


def save(obj, path) -> None:
  """``paddle.save(obj, path)`` for dicts of NumPy arrays and numbers; ``paddle.load``
  reads it."""
  with open(path, "wb") as f:
    pickle.dump(_plain(obj), f, protocol=4)


def _plain(x):
  """Only dicts, lists, tuples, numbers, strings and NumPy arrays, so the pickle names no
  global but NumPy's reconstruction."""
  if isinstance(x, (np.ndarray, np.generic)):
    if x.dtype.hasobject:
      raise TypeError("cannot write an object array into a checkpoint.")
    return np.asarray(x)
  if isinstance(x, Mapping):
    return {_plain(k): _plain(v) for k, v in x.items()}
  if isinstance(x, (list, tuple)):
    return type(x)(_plain(v) for v in x)
  if x is None or isinstance(x, (bool, int, float, str)):
    return x
  raise TypeError(f"cannot write a {type(x).__name__} into a checkpoint.")


__all__ = ["load", "save"]
