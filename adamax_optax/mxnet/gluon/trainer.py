r"""MXNet Gluon's ``Trainer`` driving Adamax: ``Trainer(params, "adamax", {...})``.

Gluon users train with::

  trainer = gluon.Trainer(net.collect_params(), "adamax", {"learning_rate": 0.01, "wd": 1e-4})
  ...
  trainer.step(batch_size)

and ``trainer.step(batch_size)`` sets the optimizer's ``rescale_grad`` to
:math:`s / \mathrm{batch\_size}` before every update (:math:`s` the ``rescale_grad`` of
``optimizer_params``, default 1), a short last batch of an epoch included, so the summed
gradients of a batch become their mean. Here the batch size is an argument of the update::

  trainer = Trainer(params, "adamax", {"learning_rate": 0.01, "wd": 1e-4})
  state = trainer.init(params)
  updates, state = trainer.update(grads, state, params, batch_size=24)

It is traced, so a changing batch size does not compile the step again. A port that
leaves the rescale out (or fixes it to one batch size) trains a different curve and
raises no error: the loss is still a sum over the batch, each update 24 times larger.

``Parameter.lr_mult`` and ``wd_mult`` are dicts here, name -> multiplier, and
``trainer.set_learning_rate(lr)`` returns the trainer with the new rate (see
:meth:`GluonTrainer.set_learning_rate`).
"""

import inspect
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax

from adamax_optax import _double_float as df
from adamax_optax._preset import Preset
from adamax_optax.mxnet.optimizer import _mxnet, mxnet1_adamax, mxnet_adamax
from adamax_optax.param_groups import read_framework_params
from adamax_optax.rescale import rescale
from adamax_optax.validation import check_range

# Gluon's optimizer_params keys that Adamax takes (MXNet 2.0; 1.x has no epsilon).
_OPTIMIZER_KEYS = (
  "learning_rate",
  "beta1",
  "beta2",
  "epsilon",
  "wd",
  "rescale_grad",
  "clip_gradient",
  "lr_scheduler",
  "begin_num_update",
  "multi_precision",
)


def _check_batch_size(batch_size) -> None:
  if batch_size is None:
    raise TypeError(
      "the Gluon Trainer's update needs the batch size, as trainer.step(batch_size) does: "
      "trainer.update(grads, state, params, batch_size=24)."
    )
  if isinstance(batch_size, jax.core.Tracer):
    return
  if isinstance(batch_size, bool) or np.ndim(batch_size) != 0:
    raise TypeError(f"batch_size must be a positive int or a 0-d array, got {batch_size!r}.")
  if not isinstance(batch_size, (jax.Array, np.ndarray)):
    check_range("batch_size", batch_size, 0.0, low_open=True)


def per_batch_rescale(scale: float = 1.0) -> optax.GradientTransformationExtraArgs:
  r"""Multiplies the gradients by :math:`s / \mathrm{batch\_size}`, the batch size an
  argument of ``update`` (``update(grads, state, params, batch_size=24)``), traced.

  As Gluon's ``trainer.step(batch_size)``: the factor is the double ``s / batch_size``
  rounded once to float32 (computed in double-float pairs), and the product is rounded
  where it stands (:func:`~adamax_optax.rescale`).

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.mxnet.gluon.trainer import per_batch_rescale
    >>> stage = per_batch_rescale()
    >>> print(stage.update(jnp.array([6.0, 3.0]), stage.init(None), batch_size=3)[0])
    [2. 1.]
  """
  check_range("rescale_grad", scale)
  scale_pair = df.from_number(float(scale))

  def update_fn(updates, state, params=None, *, batch_size=None, **extra_args):
    del params, extra_args
    _check_batch_size(batch_size)
    batch = jnp.asarray(batch_size, jnp.float32)
    factor = df.to_float32(df.divide(scale_pair, df.DoubleFloat(batch, jnp.zeros_like(batch))))
    return rescale(factor).update(updates, state)

  return optax.GradientTransformationExtraArgs(lambda params: optax.EmptyState(), update_fn)


class GluonTrainer(Preset):
  """What :func:`Trainer` returns: an optax transformation whose ``update`` takes
  ``batch_size=``, with ``param_order`` (the names in the order of ``params``, for
  :func:`~adamax_optax.mxnet.gluon.utils.clip_global_norm`'s ``param_order``),
  ``learning_rate`` and ``set_learning_rate``."""

  learning_rate: float | None = None  # the rate given (MXNet's, without a scheduler)
  set_learning_rate: Callable[[float], "GluonTrainer"]


def _check_multipliers(option: str, values, names: tuple[str, ...]) -> dict:
  if values is None:
    return {}
  if not isinstance(values, Mapping):
    raise TypeError(
      f"{option} must be a dict of parameter name -> multiplier (Gluon's Parameter."
      f"{option}), got {type(values).__name__}."
    )
  unknown = [name for name in values if name not in names]
  if unknown:
    raise ValueError(
      f"{option} names parameters not in params: {unknown[:8]}; the names are "
      f"{list(names)[:8]}{' ...' if len(names) > 8 else ''}."
    )
  return dict(values)


def Trainer(
  params,
  optimizer: str = "adamax",
  optimizer_params: Mapping | None = None,
  *,
  lr_mult: Mapping | None = None,
  wd_mult: Mapping | None = None,
  mxnet_version: int = 2,
) -> GluonTrainer:
  r"""``mx.gluon.Trainer(params, "adamax", optimizer_params)``, as an optax transformation.

  Each update is MXNet's Adamax (:func:`~adamax_optax.mxnet.optimizer.mxnet_adamax`, or
  :func:`~adamax_optax.mxnet.optimizer.mxnet1_adamax` for ``mxnet_version=1``) on the
  gradients times :math:`s / \mathrm{batch\_size}` (:func:`per_batch_rescale`), which is
  what ``trainer.step(batch_size)`` runs; ``trainer.update(1)`` after a clip is
  ``batch_size=1``.

  Args:
    params: the parameters in Gluon's order (``net.collect_params()``): a dict of name ->
      array in insertion order, or a list of ``(name, array)`` pairs. Only the names and
      their order are kept; pass the arrays to ``init`` as usual.
    optimizer: ``"adamax"`` (any case).
    optimizer_params: Adamax's keywords as Gluon passes them: ``learning_rate``,
      ``beta1``, ``beta2``, ``epsilon`` (2.0), ``wd``, ``rescale_grad`` (:math:`s`,
      default 1), ``clip_gradient``, ``lr_scheduler``, ``begin_num_update``,
      ``multi_precision``.
    lr_mult: Gluon's ``Parameter.lr_mult``, as a dict of name -> multiplier (default 1).
    wd_mult: Gluon's ``Parameter.wd_mult``, the same way (default 1; a Gluon Trainer
      passes no ``param_idx2name``, so 1.x's name rule does not apply).
    mxnet_version: 2 (MXNet 2.0's Adamax) or 1 (1.x's).

  Returns:
    A :class:`GluonTrainer`: ``init(params)``, ``update(grads, state, params,
    batch_size=...)``; ``set_learning_rate(lr)`` returns the trainer with rate ``lr``
    (MXNet's ``trainer.set_learning_rate``): its state carries over unchanged, and the
    rate is a constant of the compiled step, so a new rate compiles the step once more
    (a rate that changes every step belongs in ``lr_scheduler``).

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.mxnet.gluon import Trainer
    >>> params = {"dense0_weight": jnp.ones(2), "dense0_bias": jnp.zeros(2)}
    >>> trainer = Trainer(params, "adamax", {"learning_rate": 0.01}, lr_mult={"dense0_bias": 2.0})
    >>> grads = {"dense0_weight": jnp.full(2, 24.0), "dense0_bias": jnp.full(2, -8.0)}
    >>> updates, state = trainer.update(grads, trainer.init(params), params, batch_size=8)
    >>> print(updates["dense0_weight"], updates["dense0_bias"])
    [-0.01 -0.01] [0.02 0.02]
    >>> trainer.param_order
    ('dense0_weight', 'dense0_bias')

  References:
    MXNet ``gluon.Trainer`` (``step``, ``set_learning_rate``) and ``mx.optimizer.Adamax``.
  """
  if not isinstance(optimizer, str) or optimizer.lower() != "adamax":
    raise ValueError(
      f"optimizer must be 'adamax' (this package is Adamax only), got {optimizer!r}."
    )
  if mxnet_version not in (1, 2):
    raise ValueError(f"mxnet_version must be 1 or 2, got {mxnet_version!r}.")
  optimizer_params = dict(optimizer_params or {})
  unknown = sorted(set(optimizer_params) - set(_OPTIMIZER_KEYS))
  if mxnet_version == 1 and "epsilon" in optimizer_params:
    unknown.append("epsilon (MXNet 1.x's Adamax has none)")
  if unknown:
    raise TypeError(
      f"optimizer_params has keys Adamax does not take: {unknown}; allowed: "
      f"{list(_OPTIMIZER_KEYS)}."
    )
  read = read_framework_params(params, "params")
  if read.param_groups is not None:
    raise TypeError(
      "params must be a dict of name -> array (net.collect_params()) or (name, array) "
      "pairs; Gluon has no parameter groups (use lr_mult / wd_mult)."
    )
  names = read.order
  lr_mults = _check_multipliers("lr_mult", lr_mult, names)
  wd_mults = _check_multipliers("wd_mult", wd_mult, names)
  return _trainer(names, optimizer_params, lr_mults, wd_mults, mxnet_version)


def _trainer(names, optimizer_params, lr_mults, wd_mults, mxnet_version) -> GluonTrainer:
  """The trainer of the checked arguments of :func:`Trainer`."""
  # The defaults are the presets' own, read from their signatures (one copy of them).
  preset = mxnet_adamax if mxnet_version == 2 else mxnet1_adamax
  settings = {
    name: parameter.default
    for name, parameter in inspect.signature(preset).parameters.items()
    if name in _OPTIMIZER_KEYS
  }
  settings.update(optimizer_params)
  scale = settings.pop("rescale_grad")
  opt_learning_rate = settings["learning_rate"]
  opt = _mxnet(
    mxnet_version,
    settings.pop("learning_rate"),
    settings.pop("beta1"),
    settings.pop("beta2"),
    settings.pop("epsilon", 0.0),  # 1.x has no epsilon
    rescale_grad=1.0,
    lr_mult=lr_mults,
    wd_mult=wd_mults,
    param_idx2name=None,
    skip_nonfinite=False,
    rescale_stage=per_batch_rescale(scale),
    **settings,
  )
  trainer = GluonTrainer(opt.init, opt.update)
  trainer.param_order = names
  trainer.learning_rate = opt_learning_rate

  def set_learning_rate(lr: float) -> GluonTrainer:
    if optimizer_params.get("lr_scheduler") is not None:
      raise ValueError(
        "set_learning_rate with an lr_scheduler: the scheduler sets the rate, as in MXNet "
        "(which raises too); change the scheduler instead."
      )
    check_range("learning_rate", lr, 0.0)
    new_params = {**optimizer_params, "learning_rate": lr}
    return _trainer(names, new_params, lr_mults, wd_mults, mxnet_version)

  trainer.set_learning_rate = set_learning_rate
  return trainer


__all__ = ["GluonTrainer", "Trainer", "per_batch_rescale"]
