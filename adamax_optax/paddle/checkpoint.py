"""Adamax state to and from ``paddle.optimizer.Adamax``: the ``.pdopt`` and ``.pdparams``
files ``paddle.save`` writes, read and written without Paddle.

From a run's files to a state of :func:`adamax_optax.paddle_adamax`:

.. code-block:: python

  params = from_paddle_model_file("model.pdparams", params)
  mu, nu, step = from_paddle_optimizer_file("opt.pdopt", params, model="model.pdparams")
  state = adamax_optax.load_state(opt, params, mu=mu, nu=nu, step=step)

Paddle keys its accumulators by each parameter's internal name (``linear_0.w_0_moment_0``,
``..._inf_norm_0``, ``..._beta1_pow_acc_0``); the layer's ``.pdparams`` maps its
structured names (``fc.weight``, the leaf ``fc/weight``) to those internal names. The step
is recovered from ``beta1_pow_acc``, the float32 running product of beta1 (which holds
``beta1 ** (t + 1)`` after ``t`` updates). Files are read
by a restricted unpickler that runs no code from them.
"""

import os
import re
from collections.abc import Mapping

import jax
import numpy as np

from adamax_optax.checkpoint._converters import (
  checked_shape,
  params_by_name,
  running_power,
  single_step,
  steps_of_power,
  to_numpy,
  tree,
)
from adamax_optax.checkpoint._reading import CheckpointError, interpreting
from adamax_optax.checkpoint._restricted_pickle import UnsafePickleError
from adamax_optax.paddle._paddle_save import load, save
from adamax_optax.param_groups import leaf_names

NAME_TABLE = "StructuredToParameterName@@"
_ACCUMULATOR = re.compile(r"^(?P<param>.+)_(?P<kind>moment|inf_norm|beta1_pow_acc)_(?P<n>\d+)$")


def _structured(name: str) -> str:
  return name.replace(".", "/")


def internal_names(model, params) -> dict[str, str]:
  """``{leaf name: Paddle's internal parameter name}`` from a layer's ``state_dict`` (a
  ``.pdparams`` file or its dict), through its ``StructuredToParameterName@@`` table."""
  state = load(model) if isinstance(model, (str, os.PathLike)) else model
  where = model if isinstance(model, (str, os.PathLike)) else "model"
  with interpreting(where, "layer state_dict"):
    if NAME_TABLE not in state:
      raise ValueError(
        f"{where} has no '{NAME_TABLE}' table (not a paddle.save'd layer state_dict): pass "
        "names= {leaf name: internal parameter name} instead."
      )
    table = {_structured(k): v for k, v in state[NAME_TABLE].items()}
    missing = [n for n in leaf_names(params) if n not in table]
    if missing:
      raise ValueError(
        f"the model's state_dict has no parameters {missing}; it holds {sorted(table)}."
      )
    return {n: table[n] for n in leaf_names(params)}


def from_paddle_model_file(path, params):
  """``params`` with each leaf read from a layer's ``.pdparams`` file by structured name
  (Paddle's ``fc.weight`` is the leaf ``fc/weight``), cast to the leaf's dtype.

  Raises:
    FileNotFoundError: no file at ``path``.
    CheckpointError: a ``ValueError`` naming the file: it cannot be read (see
      :func:`~adamax_optax.paddle._paddle_save.load`), a parameter is missing from it or
      its shape differs.
  """
  state = load(path)
  with interpreting(path, "layer state_dict"):
    by_name = {_structured(k): v for k, v in state.items() if k != NAME_TABLE}

    def read(name, shape):
      if name not in by_name:
        raise ValueError(f"{path} has no parameter {name!r}; it holds {sorted(by_name)}.")
      return checked_shape(to_numpy(by_name[name]), shape, name, str(path))

    return params_by_name(params, read, cast_to_leaf_dtype=True)


def from_paddle_state_dict(
  state_dict: Mapping,
  params,
  *,
  names: Mapping[str, str],
  beta1=0.9,
  step=None,
  source="state_dict",
):
  """``(mu, nu, step)`` from ``paddle.optimizer.Adamax(...).state_dict()``.

  Args:
    state_dict: the accumulators ``<name>_moment_0``, ``<name>_inf_norm_0`` and
      ``<name>_beta1_pow_acc_0``; tensors or arrays.
    params: the params (structure, names, shapes).
    names: ``{leaf name: Paddle's internal parameter name}`` (see :func:`internal_names`).
    beta1: the optimizer's beta1 (default 0.9), to count the steps in ``beta1_pow``.
    step: the step, when ``beta1_pow`` cannot tell it (it reaches 0 after about 900 steps
      with beta1 0.9); checked against ``beta1_pow`` otherwise.
    source: how errors name the state dict.
  """
  found = {}
  for key, value in state_dict.items():
    match = _ACCUMULATOR.match(key)
    if match:
      found[(match["param"], match["kind"])] = value
  leaves = jax.tree.leaves(params)
  mu, nu, steps = [], [], []
  for name, leaf in zip(leaf_names(params), leaves, strict=True):
    internal = names[name]
    values = {}
    for kind in ("moment", "inf_norm", "beta1_pow_acc"):
      if (internal, kind) not in found:
        raise ValueError(
          f"{source} has no '{internal}_{kind}_0' for parameter {name!r}; it holds "
          f"{sorted(k for k in state_dict if k != NAME_TABLE)}."
        )
      values[kind] = to_numpy(found[(internal, kind)])
    where = f"{source}['{internal}_*']"
    mu.append(checked_shape(values["moment"], np.shape(leaf), name, where))
    nu.append(checked_shape(values["inf_norm"], np.shape(leaf), name, where))
    power = float(values["beta1_pow_acc"].reshape(-1)[0])
    # Paddle starts the accumulator at beta1 and multiplies after each update: after
    # t updates it holds beta1 ** (t + 1), the power the next update will use.
    if step is None:
      steps.append(steps_of_power(power, beta1, f"{where} of {name!r}") - 1)
      if steps[-1] < 0:
        raise ValueError(f"{where}: beta1_pow {power!r} is 1, not a power Paddle stores.")
    elif running_power(beta1, step + 1) != np.float32(power):
      raise ValueError(
        f"{where}: beta1_pow {power!r} is not beta1={beta1} to the power step + 1 with "
        f"step={step}; check step= and beta1=."
      )
  step = single_step(steps, source) if step is None else int(step)
  return tree(params, mu), tree(params, nu), step


def from_paddle_optimizer_file(path, params, *, model=None, names=None, beta1=0.9, step=None):
  """``(mu, nu, step)`` from an ``Adamax.state_dict()`` saved by ``paddle.save`` (``.pdopt``).

  ``model`` (the layer's ``.pdparams`` file or ``state_dict``) or ``names`` (``{leaf
  name: internal name}``) maps the params to Paddle's internal names; ``beta1`` and
  ``step`` as in :func:`from_paddle_state_dict`.

  Raises:
    FileNotFoundError: no file at ``path`` (or ``model``).
    CheckpointError: a ``ValueError`` naming the file: it cannot be read (see
      :func:`~adamax_optax.paddle._paddle_save.load`), or it holds no accumulators of
      ``params`` (e.g. a ``.pdparams`` given as the ``.pdopt``), or they do not fit.
  """
  if names is None:
    if model is None:
      raise ValueError(
        "Paddle keys the optimizer state by internal parameter names: pass model= (the "
        "layer's .pdparams file) or names={leaf name: internal name}."
      )
    names = internal_names(model, params)
  state_dict = load(path)
  with interpreting(path, "paddle.optimizer.Adamax state_dict"):
    return from_paddle_state_dict(
      state_dict, params, names=names, beta1=beta1, step=step, source=str(path)
    )


def to_paddle_state_dict(mu, nu, step: int, *, names: Mapping[str, str], beta1=0.9) -> dict:
  """An Adamax ``state_dict`` that ``paddle.optimizer.Adamax.set_state_dict`` accepts
  (as NumPy), keyed by ``names`` (``{leaf name: internal name}`` of the Paddle layer
  that will load it)."""
  power = np.array([running_power(beta1, step + 1)], np.float32)
  out = {}
  for kind, values in (("moment", mu), ("inf_norm", nu), ("beta1_pow_acc", None)):
    for name, value in zip(
      leaf_names(mu), jax.tree.leaves(mu if values is None else values), strict=True
    ):
      out[f"{names[name]}_{kind}_0"] = power.copy() if values is None else np.asarray(value)
  out[NAME_TABLE] = {key: key for key in out}
  return out


def to_paddle_optimizer_file(path, mu, nu, step: int, *, model=None, names=None, beta1=0.9):
  """Write :func:`to_paddle_state_dict`'s dict as ``paddle.save`` does; Paddle resumes
  with ``opt.set_state_dict(paddle.load(path))``. ``model`` (the ``.pdparams`` of the
  layer that will load it) or ``names`` gives the internal names."""
  if names is None:
    if model is None:
      raise ValueError("pass model= (the layer's .pdparams file) or names= (internal names).")
    names = internal_names(model, mu)
  save(to_paddle_state_dict(mu, nu, step, names=names, beta1=beta1), path)


__all__ = [
  "NAME_TABLE",
  "CheckpointError",
  "UnsafePickleError",
  "from_paddle_model_file",
  "from_paddle_optimizer_file",
  "from_paddle_state_dict",
  "internal_names",
  "load",
  "save",
  "to_paddle_optimizer_file",
  "to_paddle_state_dict",
]
