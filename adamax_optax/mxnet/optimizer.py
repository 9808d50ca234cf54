"""MXNet's Adamax, exactly: ``mxnet_adamax`` (MXNet 2.0) and ``mxnet1_adamax`` (1.x).

Every MXNet knob is here, under MXNet's keyword names; the arithmetic comes from the
package's building blocks.
"""

from collections.abc import Callable, Mapping
from typing import Literal

import jax
import numpy as np
import optax

from adamax_optax import arithmetic
from adamax_optax._leaves import trained_only
from adamax_optax._preset import PresetSettings, assemble, stage_if, with_common_keyword_docs
from adamax_optax.master_weights import multi_precision as with_master_weights
from adamax_optax.mxnet.lr_scheduler import _Scheduler
from adamax_optax.param_groups import grouped, leaf_names, per_leaf_values
from adamax_optax.rescale import rescale
from adamax_optax.scale_by_adamax import scale_by_adamax
from adamax_optax.schedules import is_exact
from adamax_optax.validation import (
  check_adamax_hyperparameters,
  check_range,
  is_concrete_number,
  is_static_one,
  is_static_zero,
  renamed_keywords,
)
from adamax_optax.weight_decay import add_decayed_weights

_DEFAULT_LR_WITHOUT_SCHEDULER = 0.01


def _base_schedule(learning_rate, lr_scheduler, begin_num_update) -> float | Callable:
  """MXNet's rule: the scheduler (its base_lr set to learning_rate), else learning_rate.

  A scheduler of :mod:`adamax_optax.mxnet.lr_scheduler` becomes the exact table of the
  doubles MXNet's would return from ``begin_num_update + 1`` on; another callable is
  called with MXNet's count, ``count + 1``.
  """
  if lr_scheduler is None:
    return _DEFAULT_LR_WITHOUT_SCHEDULER if learning_rate is None else learning_rate
  if not callable(lr_scheduler):
    raise TypeError(f"lr_scheduler must be callable, got {type(lr_scheduler).__name__}.")
  if isinstance(lr_scheduler, _Scheduler):
    if isinstance(begin_num_update, jax.core.Tracer):
      raise TypeError(
        "begin_num_update must be a concrete int with an MXNet scheduler (its rates are "
        "evaluated on the host), got a traced value."
      )
    if learning_rate is not None:
      if not is_concrete_number(learning_rate):
        raise TypeError(
          "learning_rate must be a concrete number (or None) with an MXNet scheduler: it "
          f"becomes the scheduler's base_lr on the host, got {type(learning_rate).__name__}."
        )
      learning_rate = float(learning_rate)
    return lr_scheduler.exact_schedule(int(np.asarray(begin_num_update)), learning_rate)
  # MXNet calls its scheduler with the count including this update; optax passes the
  # count before it, and the state's count already starts at begin_num_update.
  return lambda count: lr_scheduler(count + 1)


def _scaled(schedule, multiplier):
  if multiplier == 1.0:
    return schedule
  if is_exact(schedule):
    return schedule.scaled(multiplier)  # lr * lr_mult in double on the host, as MXNet
  if callable(schedule):
    return lambda count: schedule(count) * multiplier
  return schedule * multiplier  # a Python double product, as MXNet computes it


def _check_multipliers(option: str, values: Mapping | None) -> None:
  if values is None:
    return
  if not isinstance(values, Mapping):
    raise TypeError(f"{option} must be a dict of index or name -> number, got {values!r}.")
  for key, value in values.items():
    check_range(f"{option}[{key!r}]", value, 0.0)


def _mxnet(
  version: int,
  learning_rate,
  beta1,
  beta2,
  epsilon,
  *,
  rescale_grad,
  clip_gradient,
  wd,
  lr_scheduler,
  lr_mult,
  wd_mult,
  param_idx2name,
  begin_num_update,
  multi_precision,
  skip_nonfinite,
  mu_dtype=None,
  nu_dtype=None,
  use_fused_step=False,
  safe=False,
  rescale_stage: optax.GradientTransformation | None = None,
) -> optax.GradientTransformation:
  """MXNet's Adamax of ``version`` 1 or 2; ``rescale_stage``, where given, multiplies the
  gradients in place of ``rescale_grad`` (Gluon's Trainer: by ``1 / batch_size``)."""
  if learning_rate is not None:
    if callable(learning_rate):
      raise TypeError(
        "learning_rate must be a number (or None); a schedule goes to lr_scheduler=, as in "
        "MXNet: lr_scheduler=adamax_optax.mxnet.lr_scheduler.CosineScheduler(...) or any "
        "callable of MXNet's update count."
      )
    check_range("learning_rate", learning_rate)
  check_adamax_hyperparameters(beta1, beta2, epsilon, names=("beta1", "beta2", "epsilon"))
  check_range("rescale_grad", rescale_grad)
  if clip_gradient is not None:
    check_range("clip_gradient", clip_gradient, 0.0, low_open=True)
  check_range("wd", wd, 0.0)
  _check_multipliers("lr_mult", lr_mult)
  _check_multipliers("wd_mult", wd_mult)
  if param_idx2name is not None and not isinstance(param_idx2name, Mapping):
    raise TypeError(f"param_idx2name must be a dict of index -> name, got {param_idx2name!r}.")
  if not isinstance(begin_num_update, (jax.Array, np.ndarray)):  # arrays: checked downstream
    if isinstance(begin_num_update, bool) or not isinstance(begin_num_update, int):
      raise TypeError(f"begin_num_update must be an int, got {begin_num_update!r}.")
    if not 0 <= begin_num_update < 2**31 - 1:
      raise ValueError(f"begin_num_update must be in [0, 2**31 - 1), got {begin_num_update}.")
  schedule = _base_schedule(learning_rate, lr_scheduler, begin_num_update)
  idx2name = dict(param_idx2name or {})

  def names_of(tree) -> list[str]:
    names = leaf_names(tree)
    return [idx2name.get(i, name) for i, name in enumerate(names)]

  def default_wd_mult(index, name):
    # MXNet 1.x: with param_idx2name, only *_weight and *_gamma parameters decay.
    if version == 1 and index in idx2name and not name.endswith(("_weight", "_gamma")):
      return 0.0
    return 1.0

  def labels(tree):
    names = names_of(tree)
    lrs = per_leaf_values("lr_mult", lr_mult, names)
    wds = per_leaf_values("wd_mult", wd_mult, names, default_wd_mult)
    return [(float(lr), float(w)) for lr, w in zip(lrs, wds, strict=True)]

  def build(label=(1.0, 1.0)):
    lr_multiplier, wd_multiplier = label
    scaled = rescale_stage
    if scaled is None:
      scaled = stage_if(not is_static_one(rescale_grad), lambda: rescale(rescale_grad))
    clip = stage_if(clip_gradient is not None, lambda: trained_only(optax.clip(clip_gradient)))
    if version == 1:  # 1.x decays before clipping, and always (NaN spreads via w*0)
      stages = [scaled, add_decayed_weights(wd * wd_multiplier), clip]
    else:
      decay = stage_if(
        not is_static_zero(wd * wd_multiplier),
        lambda: add_decayed_weights(wd * wd_multiplier),
      )
      stages = [scaled, clip, decay]
    stages.append(
      scale_by_adamax(
        beta1,
        beta2,
        epsilon if version == 2 else 0.0,
        eps_placement="denominator" if version == 2 else "none",
        arithmetic=arithmetic.MXNET if version == 2 else arithmetic.MXNET1,
        learning_rate=_scaled(schedule, lr_multiplier),
        initial_count=begin_num_update,
        zero_norm="skip" if safe else "nan",
        mu_dtype=mu_dtype,
        nu_dtype=nu_dtype,
        fused=use_fused_step,
      )
    )
    return optax.chain(*stages)

  # MXNet has no parameter groups: its per-parameter multipliers group the leaves inside
  # the one chain, and its scheduler is folded into the step size (_base_schedule).
  uniform = not lr_mult and not wd_mult and not (version == 1 and idx2name)
  settings = PresetSettings(framework="MXNet", skip_nonfinite=skip_nonfinite)
  return assemble(
    lambda _: build() if uniform else grouped(build, labels),
    settings,
    stages=[with_master_weights] if multi_precision else [],
  )


@renamed_keywords(lr="learning_rate", eps="epsilon", weight_decay="wd")
@with_common_keyword_docs
def mxnet_adamax(
  learning_rate: float | None = 0.002,
  beta1: float = 0.9,
  beta2: float = 0.999,
  epsilon: float = 1e-8,
  *,
  rescale_grad: float = 1.0,
  clip_gradient: float | None = None,
  wd: float = 0.0,
  lr_scheduler: Callable | None = None,
  lr_mult: Mapping | None = None,
  wd_mult: Mapping | None = None,
  param_idx2name: Mapping | None = None,
  begin_num_update: int = 0,
  multi_precision: bool = False,
  use_fused_step: bool | Literal["interpret"] = False,
  mu_dtype: jax.typing.DTypeLike | None = None,
  nu_dtype: jax.typing.DTypeLike | None = None,
  skip_nonfinite: bool = False,
) -> optax.GradientTransformation:
  r"""MXNet 2.0's ``mx.optimizer.Adamax``, reproduced bit for bit.

  With :math:`t` MXNet's per-parameter count (``begin_num_update`` + steps so far):

  .. math::

    g &\leftarrow \mathrm{clip}(g \cdot \mathrm{rescale\_grad}, \pm\mathrm{clip\_gradient})
          + w \cdot \mathrm{wd} \cdot \mathrm{wd\_mult} \\
    m &\leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
    u \leftarrow \max(\beta_2 u, |g|) \\
    w &\leftarrow w - \frac{\eta\, \mathrm{lr\_mult}}{1 - \beta_1^t}\,\frac{m}{u + \epsilon}

  with the step size computed in double and rounded to float32 once, as MXNet does.

  Args:
    learning_rate: :math:`\eta`, default 0.002. ``None``: the scheduler's rate, or 0.01
      without one. With a scheduler from :mod:`adamax_optax.mxnet.lr_scheduler`, it
      replaces the scheduler's ``base_lr`` as MXNet does (so the default 0.002 does too;
      pass ``None`` to keep the scheduler's): the warmup still ramps to the scheduler's
      own ``base_lr``, a factor schedule then decays from ``learning_rate``, and a poly
      or cosine one ignores it unless ``begin_num_update`` is past its ``max_update``.
    beta1: default 0.9, in [0, 1).
    beta2: default 0.999, in [0, 1].
    epsilon: default 1e-8, >= 0.
    rescale_grad: gradient multiplier, default 1.
    clip_gradient: elementwise bound (> 0) or ``None``.
    wd: coupled weight decay, default 0, >= 0.
    lr_scheduler: a scheduler of :mod:`adamax_optax.mxnet.lr_scheduler` (e.g.
      :class:`FactorScheduler`), whose MXNet values are evaluated on the host in doubles
      and reach the step size ``lr * lr_mult / (1 - beta1**t)`` unrounded, as in MXNet;
      or any callable of MXNet's update count (1 on the first step), called in the
      compiled step.
    lr_mult: per-parameter learning-rate multipliers, keyed by index (position in
      ``tree_leaves(params)``) or name (``param_idx2name``'s, else the "/"-joined path).
    wd_mult: per-parameter weight-decay multipliers, keyed the same way.
    param_idx2name: index -> name, for the name lookups.
    begin_num_update: updates already done; the count and schedule continue from it.
    multi_precision: keep float32 master weights, m and u for float16/bfloat16 weights
      (see :func:`multi_precision`). Without it, float16 weights compute in float16.
    use_fused_step: one update over all the leaves of a dtype (MXNet's flag, which
      MXNet itself rejects for Adamax): a Pallas kernel on GPU and TPU, the same
      trajectory; on the CPU the unfused loops, measured fastest (see
      :mod:`adamax_optax.fused`). ``"interpret"`` runs the kernel in the Pallas
      interpreter.
    {COMMON_KEYWORDS}

  Returns:
    An :class:`optax.GradientTransformation`.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax import mxnet_adamax
    >>> opt = mxnet_adamax(learning_rate=0.01, wd=1e-4, lr_mult={"bias": 2.0})
    >>> params = {"weight": jnp.ones(2), "bias": jnp.zeros(2)}
    >>> updates, state = opt.update(params, opt.init(params), params)
    >>> print(updates["weight"], updates["bias"])
    [-0.01 -0.01] [-0. -0.]

  References:
    Kingma & Ba, 2015, section 7.1; MXNet 2.0 ``mxnet.optimizer.Adamax``.
  """
  return _mxnet(
    2,
    learning_rate,
    beta1,
    beta2,
    epsilon,
    rescale_grad=rescale_grad,
    clip_gradient=clip_gradient,
    wd=wd,
    lr_scheduler=lr_scheduler,
    lr_mult=lr_mult,
    wd_mult=wd_mult,
    param_idx2name=param_idx2name,
    begin_num_update=begin_num_update,
    multi_precision=multi_precision,
    skip_nonfinite=skip_nonfinite,
    mu_dtype=mu_dtype,
    nu_dtype=nu_dtype,
    use_fused_step=use_fused_step,
  )


@renamed_keywords(lr="learning_rate", eps="epsilon", weight_decay="wd")
def mxnet1_adamax(
  learning_rate: float | None = 0.002,
  beta1: float = 0.9,
  beta2: float = 0.999,
  *,
  rescale_grad: float = 1.0,
  clip_gradient: float | None = None,
  wd: float = 0.0,
  lr_scheduler: Callable | None = None,
  lr_mult: Mapping | None = None,
  wd_mult: Mapping | None = None,
  param_idx2name: Mapping | None = None,
  begin_num_update: int = 0,
  multi_precision: bool = False,
  safe: bool = False,
  mu_dtype: jax.typing.DTypeLike | None = None,
  nu_dtype: jax.typing.DTypeLike | None = None,
  skip_nonfinite: bool = False,
) -> optax.GradientTransformation:
  r"""MXNet 1.x's ``mx.optimizer.Adamax`` (1.9.1), reproduced bit for bit.

  .. math::

    g &\leftarrow \mathrm{clip}(g \cdot \mathrm{rescale\_grad}
          + w \cdot \mathrm{wd} \cdot \mathrm{wd\_mult}, \pm\mathrm{clip\_gradient}) \\
    m &\leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
    u \leftarrow \max(\beta_2 u, |g|) \\
    w &\leftarrow w - \frac{\eta\, \mathrm{lr\_mult}}{1 - \beta_1^t}\, m \,/\, u

  Differences from 2.0: weight decay before clipping, no epsilon, and with
  ``param_idx2name`` every parameter whose name does not end in ``_weight`` or
  ``_gamma`` gets ``wd_mult`` 0 unless ``wd_mult`` sets it.

  Without epsilon, a coordinate whose gradient has always been 0 computes 0/0 = NaN, and
  the NaN then spreads through ``w * wd`` (evaluated even for wd = 0) to m and u, as in
  1.x. ``safe=True`` leaves such coordinates unchanged instead: the same numbers wherever
  1.x is finite, and no NaN from 0/0.

  Args: as :func:`mxnet_adamax` (no ``epsilon`` or ``use_fused_step``), plus ``safe``.

  Returns:
    An :class:`optax.GradientTransformation`.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax import mxnet1_adamax
    >>> params = jnp.array([1.0, 1.0])
    >>> for safe in (False, True):
    ...   opt = mxnet1_adamax(safe=safe)
    ...   print(opt.update(jnp.array([1.0, 0.0]), opt.init(params), params)[0])
    [-0.002    nan]
    [-0.002 -0.   ]

  References:
    Kingma & Ba, 2015, section 7.1; MXNet 1.9.1 ``mxnet.optimizer.Adamax``.
  """
  return _mxnet(
    1,
    learning_rate,
    beta1,
    beta2,
    0.0,
    rescale_grad=rescale_grad,
    clip_gradient=clip_gradient,
    wd=wd,
    lr_scheduler=lr_scheduler,
    lr_mult=lr_mult,
    wd_mult=wd_mult,
    param_idx2name=param_idx2name,
    begin_num_update=begin_num_update,
    multi_precision=multi_precision,
    skip_nonfinite=skip_nonfinite,
    mu_dtype=mu_dtype,
    nu_dtype=nu_dtype,
    safe=safe,
  )


Adamax = mxnet_adamax
Adamax1 = mxnet1_adamax
__all__ = ["Adamax", "Adamax1", "mxnet1_adamax", "mxnet_adamax"]
