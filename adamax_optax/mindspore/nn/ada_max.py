"""MindSpore's ``mindspore.nn.AdaMax``, exactly: ``mindspore_nn_adamax``.

Epsilon in the denominator, a float32 running product of beta1, ``loss_scale``, no
decay for ``beta`` and ``gamma`` parameters. Every knob is here under MindSpore's
keyword names, with MindSpore 2.10's validation messages.
"""

from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from adamax_optax import arithmetic as arith
from adamax_optax._leaves import SparseRows, is_sparse, is_trained, reject_sparse
from adamax_optax._preset import (
  PresetSettings,
  assemble,
  framework_groups,
  stage_if,
  takes_framework_params,
  with_common_keyword_docs,
  with_param_order,
)
from adamax_optax.param_groups import Ungrouped, checking_trees, group_labels, leaf_names
from adamax_optax.rescale import rescale
from adamax_optax.scale_by_adamax import scale_by_adamax
from adamax_optax.schedules import ExactSchedule
from adamax_optax.validation import (
  check_framework_rule,
  check_numeric,
  is_concrete_number,
  is_integer_number,
  is_static_one,
  is_static_zero,
  renamed_keywords,
)
from adamax_optax.weight_decay import add_decayed_weights

_NN_LR_TYPES = "int, float, Tensor, Iterable or LearningRateSchedule"


def _nn_float(name: str, value) -> None:
  """MindSpore's ``check_value_type(name, value, [float])``."""
  if is_integer_number(value):
    raise TypeError(
      f"For 'AdaMax', the type of '{name}' should be 'float', but got type "
      f"'{type(value).__name__}'."
    )
  check_numeric(name, value)


def _nn_learning_rate(learning_rate) -> optax.ScalarOrSchedule:
  """A number, a schedule, or a per-step list (MindSpore's dynamic learning rate)."""
  if callable(learning_rate):
    return learning_rate
  per_step = _is_dynamic(learning_rate)  # not callable here: a per-step list
  if isinstance(learning_rate, bool) or learning_rate is None or isinstance(learning_rate, str):
    raise TypeError(
      f"For 'Optimizer', the argument 'learning_rate' must be {_NN_LR_TYPES}, "
      f"but got {type(learning_rate)}."
    )
  values = list(learning_rate) if per_step else [learning_rate]
  if per_step and not values:
    raise ValueError("learning_rate, a per-step list, must not be empty.")
  for value in values:
    check_framework_rule(
      "learning_rate",
      value,
      lambda v: v < 0.0,
      f"For 'AdaMax', the 'learning rate' must be float and must >= 0, but got '{value}' "
      f"with type '{type(value).__name__}'.",
    )
  if not per_step:
    return learning_rate
  # Step t uses entry t (MindSpore gathers from the list as a float32 Tensor); past the
  # end the last entry is kept (MindSpore raises there: the list must cover the run).
  table = np.asarray(values, np.float64).astype(np.float32)
  return ExactSchedule(table, "learning_rate list")


def _is_dynamic(learning_rate) -> bool:
  """A schedule or a per-step list (MindSpore's dynamic learning rate)."""
  if callable(learning_rate):
    return True
  if isinstance(learning_rate, (np.ndarray, jax.Array)):
    return np.ndim(learning_rate) == 1
  return isinstance(learning_rate, Sequence) and not isinstance(learning_rate, str)


def _as_dynamic_fixed(lr):
  """A fixed lr in an optimizer with a dynamic one: MindSpore's ``f32(f32(lr + 1) - 1)``."""
  if isinstance(lr, jax.core.Tracer) or (isinstance(lr, jax.Array) and not is_concrete_number(lr)):
    one = jnp.float32(1.0)
    return (jnp.asarray(lr, jnp.float32) + one) - one
  one = np.float32(1.0)
  return float((np.float32(lr) + one) - one)


def _quantize_fixed_group_lrs(learning_rate, param_groups):
  """With a dynamic lr in any group, every fixed group lr is rounded through ``+1 -1``."""
  if not param_groups or not isinstance(param_groups, Sequence):
    return learning_rate, param_groups
  if not all(isinstance(g, Mapping) for g in param_groups):
    return learning_rate, param_groups  # with_param_groups reports the malformed entry
  effective = [g.get("lr", learning_rate) for g in param_groups]
  if not any(_is_dynamic(lr) for lr in effective):
    return learning_rate, param_groups
  groups = [
    {**g, "lr": _as_dynamic_fixed(g["lr"])} if "lr" in g and not _is_dynamic(g["lr"]) else g
    for g in param_groups
  ]
  if not _is_dynamic(learning_rate):
    learning_rate = _as_dynamic_fixed(learning_rate)
  return learning_rate, groups


def _check_nn_weight_decay(weight_decay) -> None:
  if callable(weight_decay):  # a schedule: MindSpore's Cell, dynamic weight decay
    return
  if isinstance(weight_decay, bool) or not (
    isinstance(weight_decay, (int, float, np.number, np.ndarray, jax.Array))
  ):
    raise TypeError(
      "For 'Optimizer', the argument 'Weight_decay' must be int, float or Cell."
      f"but got {type(weight_decay)}"
    )
  check_framework_rule(
    "weight_decay",
    weight_decay,
    lambda v: v < 0.0,
    f"For 'AdaMax', the 'weight_decay' must be float and must >= 0, but got '{weight_decay}' "
    f"with type '{type(weight_decay).__name__}'.",
  )


def _check_nn_group(settings: Mapping) -> None:
  if "lr" in settings:
    _nn_learning_rate(settings["lr"])
  if "weight_decay" in settings:
    _check_nn_weight_decay(settings["weight_decay"])
  if "grad_centralization" in settings and not isinstance(settings["grad_centralization"], bool):
    raise TypeError(
      "For 'Optimizer', the 'gradients_centralization' must be bool type, but got "
      f"{type(settings['grad_centralization'])}."
    )


def _dynamic_decay(schedule, loss_scale, mask) -> optax.GradientTransformation:
  """MindSpore's dynamic weight decay: the rate at update ``t`` (``count`` = t - 1, the
  ``global_step`` before its increment) is ``f32(schedule(count)) * f32(loss_scale)``."""
  scale = jnp.float32(loss_scale)

  def init_fn(params):
    del params
    return optax.ScaleByScheduleState(count=jnp.zeros([], jnp.int32))

  def update_fn(updates, state, params=None):
    rate = jnp.asarray(schedule(state.count), jnp.float32) * scale
    updates, _ = add_decayed_weights(rate, mask).update(updates, optax.EmptyState(), params)
    return updates, optax.ScaleByScheduleState(count=optax.safe_increment(state.count))

  return optax.GradientTransformation(init_fn, update_fn)


def _centralize_gradients() -> optax.GradientTransformation:
  r"""MindSpore's ``grad_centralization``: :math:`g - \mathrm{mean}(g)` over every axis but
  the first, for gradients of two or more dimensions whose second is a multiple of 16;
  any other gradient passes unchanged (MindSpore's rule)."""

  def centralize(g):
    if is_sparse(g):  # MindSpore centralizes a RowTensor's rows
      return SparseRows(g.indices, centralize(g.values))
    if not is_trained(g) or g.ndim < 2 or g.shape[1] % 16:
      return g
    return (g - jnp.mean(g, axis=tuple(range(1, g.ndim)), keepdims=True)).astype(g.dtype)

  def update_fn(updates, state, params=None):
    del params
    return jax.tree.map(centralize, updates, is_leaf=is_sparse), state

  return optax.GradientTransformation(lambda params: optax.EmptyState(), update_fn)


def _split_order_params(param_groups):
  """``param_groups`` without MindSpore's ``{"order_params": [...]}`` entries, and the
  names those list (the last one, as MindSpore keeps)."""
  if not param_groups or not isinstance(param_groups, Sequence):
    return param_groups, None
  groups, order = [], None
  for i, group in enumerate(param_groups):
    if not (isinstance(group, Mapping) and "order_params" in group):
      groups.append(group)
      continue
    if len(group) > 1:
      raise ValueError(
        f"param_groups[{i}]: For 'Optimizer', the order params dict in group parameters "
        f"should only include the 'order_params' key, but got {sorted(group)}."
      )
    names = group["order_params"]
    if isinstance(names, (str, Mapping)) or not (
      isinstance(names, Sequence) and all(isinstance(n, str) for n in names)
    ):
      raise TypeError(
        f"param_groups[{i}]['order_params'] must be a list of parameter names, got {names!r}."
      )
    order = list(names)
  return groups, order


def _check_order(order: list[str], param_groups) -> object:
  """``check(tree)``: ``order`` lists every grouped parameter once (MindSpore's rule)."""
  labels = group_labels(param_groups)

  def check(tree):
    grouped_names = [n for n, g in zip(leaf_names(tree), labels(tree), strict=True) if g >= 0]
    if len(order) != len(grouped_names):
      raise ValueError(
        "For 'Optimizer', the length of order parameters must be the same as the length of "
        f"group parameters, but got order parameters' length {len(order)}, group "
        f"parameters' length {len(grouped_names)}."
      )
    missing = sorted(set(grouped_names) - set(order))
    if missing:
      raise ValueError(
        f"order_params leaves out the grouped parameters {missing}; it must list each "
        f"parameter of the groups once: {grouped_names}."
      )

  return check


def _check_nn_betas_eps_loss_scale(beta1, beta2, eps, loss_scale) -> None:
  for name, beta in (("beta1", beta1), ("beta2", beta2)):
    _nn_float(name, beta)
    check_framework_rule(
      name,
      beta,
      lambda v: not 0.0 < v < 1.0,
      f"For 'AdaMax', the '{name}' must be in range of (0.0, 1.0), but got {beta} with type "
      f"'{type(beta).__name__}'.",
    )
  for name, value in (("eps", eps), ("loss_scale", loss_scale)):
    _nn_float(name, value)
    check_framework_rule(
      name,
      value,
      lambda v: v <= 0.0,
      f"For 'AdaMax', the '{name}' must be float and must > 0, but got '{value}' with type "
      f"'{type(value).__name__}'.",
    )


def _not_beta_or_gamma(params) -> object:
  """MindSpore's default decay filter: names containing ``beta`` or ``gamma`` don't decay."""
  flags = ["beta" not in name and "gamma" not in name for name in leaf_names(params)]
  return jax.tree.unflatten(jax.tree.structure(params), flags)


@takes_framework_params
@renamed_keywords(lr="learning_rate", epsilon="eps")
@with_common_keyword_docs
def mindspore_nn_adamax(
  learning_rate: optax.ScalarOrSchedule | Sequence[float] = 0.001,
  beta1: float = 0.9,
  beta2: float = 0.999,
  eps: float = 1e-8,
  weight_decay: float = 0.0,
  loss_scale: float = 1.0,
  *,
  params=None,
  param_groups: Sequence[Mapping] | None = None,
  ungrouped: Ungrouped = "train",
  exact_apply: bool = False,
  updates_in_param_dtype: bool = False,
  mu_dtype: jax.typing.DTypeLike | None = None,
  nu_dtype: jax.typing.DTypeLike | None = None,
  skip_nonfinite: bool = False,
) -> optax.GradientTransformation:
  r"""MindSpore's ``mindspore.nn.AdaMax`` (2.10), reproduced bit for bit.

  With :math:`p_t = p_{t-1} \beta_1` a float32 running product from :math:`p_0 = 1`,
  :math:`s` the ``loss_scale`` and every scalar rounded to float32:

  .. math::

    g &\leftarrow (w \cdot \lambda s + g) \cdot (1 / s) \\
    m &\leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
    u \leftarrow \max(\beta_2 u, |g|) \\
    w &\leftarrow w - \frac{\eta}{1 - p_t}\, \frac{m}{u + \epsilon}

  Without ``param_groups``, parameters whose name contains ``beta`` or ``gamma`` get no
  weight decay (MindSpore's default filter; names are the "/"-joined pytree paths, so
  Flax's ``BatchNorm`` ``scale`` and ``bias`` are not caught: put them in a group with
  ``weight_decay`` 0). With groups the filter is off and a group decays when its
  ``weight_decay`` is > 0.

  float16 parameters follow MindSpore: the decay (``w * f16(wd * loss_scale)``, added
  to the gradient) and the loss-scale division (``g * f16(1 / loss_scale)``) compute in
  float16; then ``ApplyAdaMax`` computes in float32 on the upcast values and stores m
  and u back in float16. The update of such a leaf is returned in float32, so that
  :func:`optax.apply_updates` rounds the new weight once, as the kernel does (this
  departs from optax's convention that updates have the params' dtype, and wrappers that
  pair the updates with the gradients under a ``lax.cond``, such as
  ``optax.apply_if_finite``, refuse it: ``updates_in_param_dtype`` and ``exact_apply``
  keep the 16-bit dtype). MindSpore's
  CPU kernels refuse bfloat16; here bfloat16 follows the same rule.

  Args:
    learning_rate: :math:`\eta`, default 0.001, >= 0: a number, an optax schedule
      (called with the step count, 0 first) such as the ``LearningRateSchedule`` classes
      of :mod:`adamax_optax.mindspore.nn` (``CosineDecayLR``, ...), or a list with one
      value per step (MindSpore's dynamic learning rate, e.g. from ``cosine_decay_lr``;
      the last value is kept past its end, where MindSpore raises). Groups' ``lr`` take
      the same. With a schedule or list in any group, every fixed group lr (and this one,
      for groups without ``lr``) becomes ``f32(f32(lr + 1) - 1)``, as in MindSpore
      (0.003 -> 0.003000021).
    beta1: float in (0, 1), default 0.9.
    beta2: float in (0, 1), default 0.999.
    eps: float > 0, default 1e-8.
    weight_decay: :math:`\lambda`, coupled L2, default 0, >= 0; or a schedule (MindSpore's
      dynamic weight decay, a ``LearningRateSchedule`` Cell such as
      :class:`~adamax_optax.mindspore.nn.ExponentialDecayLR`, or any optax schedule): the
      rate at update :math:`t` is ``f32(schedule(t - 1)) * f32(loss_scale)``.
    loss_scale: :math:`s`, float > 0, default 1: the factor the loss was multiplied by;
      gradients are divided by it (after the decay, which is scaled by it).
    params: the parameters, as MindSpore's ``AdaMax(params, ...)`` takes them, here or
      as the first positional argument: a pytree (a dict keeps its insertion order, as
      ``net.parameters_dict()``), a list of ``(name, array)`` pairs (then
      ``opt.init(dict(pairs))``), or a list of group dicts whose ``"params"`` is a
      subtree (the full tree's paths), a list of such pairs or a list of names, with any
      of the group keys below (and MindSpore's ``{"order_params": [names]}``). They give
      the groups (instead of ``param_groups``) and ``opt.param_order``: the names in
      MindSpore's parameter order (``order_params`` where given, else the groups'
      parameters one after the other), for a checkpoint mapping and for
      :func:`~adamax_optax.mindspore.ops.clip_by_global_norm`'s ``param_order=``. The
      values are not kept: initialize with ``opt.init(params)`` as usual. A first
      positional argument that is a number, an array, a list of numbers or a schedule
      is ``learning_rate`` (the call ``AdaMax(1e-3)``).
    param_groups: optional list of dicts, each with ``params`` (a list of parameter
      names or a callable ``(name, leaf) -> bool``) and any of ``lr``, ``weight_decay``
      (a number or a schedule) and ``grad_centralization`` (bool, default False: subtract
      the mean over every axis but the first from gradients of two or more dimensions
      whose second is a multiple of 16, after the decay); missing keys take the values
      above. A group ``{"order_params": [names]}`` is MindSpore's order of the
      parameters: it must list every grouped parameter once, and changes nothing else
      (the state is keyed by name).
    ungrouped: what the parameters in no group do when ``param_groups`` is given:
      ``"train"`` (default) with the values above, or ``"frozen"``: no update and no
      state, as in MindSpore, which updates only the parameters handed to it.
    exact_apply: False (default): updates to add with :func:`optax.apply_updates`
      (float32 for 16-bit parameters, see above). True: each trained parameter's
      update is a :class:`~adamax_optax.NewValue` holding the new weight in the
      parameter's dtype (rounded once from float32, as the kernel), to apply with
      :func:`adamax_optax.apply_updates`, exact at every step, the values in the
      params' dtypes. Wrappers that zero the updates (``skip_nonfinite``,
      ``optax.MultiSteps`` between its updates) keep the params; ``optax.apply_updates``
      and wrappers that substitute the gradients for the updates refuse them.
    updates_in_param_dtype: True: the update of a 16-bit parameter is the difference
      ``new - w`` from the kernel's new weight, rounded to 16 bits: plain arrays in the
      params' dtypes, optax's convention, for :func:`optax.apply_updates` and every
      wrapper (``optax.apply_if_finite``, ``optax.transforms.conditionally_transform``).
      The weight is then the kernel's exactly where it moves by at most a factor of two in a
      step, else within an ulp; use ``exact_apply`` for every bit. Default False; not
      with ``exact_apply``.
    {COMMON_KEYWORDS}

  Raises:
    ValueError: MindSpore's message for a negative learning rate or weight decay, a beta
      outside (0, 1), eps <= 0 or loss_scale <= 0, and for NaN or inf.
    TypeError: MindSpore's message for an int beta1, beta2, eps or loss_scale, and for a
      learning rate or weight decay of the wrong type.

  Returns:
    An :class:`optax.GradientTransformation`.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax import mindspore_nn_adamax
    >>> opt = mindspore_nn_adamax(learning_rate=0.01, weight_decay=0.1)
    >>> params = {"conv_weight": jnp.ones(2), "bn_gamma": jnp.ones(2)}
    >>> grads = {"conv_weight": jnp.zeros(2), "bn_gamma": jnp.zeros(2)}
    >>> updates, state = opt.update(grads, opt.init(params), params)
    >>> print(updates["conv_weight"], updates["bn_gamma"])
    [-0.01 -0.01] [-0. -0.]

    MindSpore's own call, the parameters first:

    >>> from adamax_optax.mindspore.nn import AdaMax
    >>> AdaMax(params, learning_rate=0.01).param_order
    ('conv_weight', 'bn_gamma')

  References:
    Kingma & Ba, 2015, section 7.1; MindSpore ``mindspore.nn.AdaMax``.
  """
  _check_nn_group({"lr": learning_rate, "weight_decay": weight_decay})
  param_groups, param_order = framework_groups(params, param_groups)
  if param_groups:
    for i, group in enumerate(param_groups):
      if isinstance(group, Mapping) and "lr" in group:
        try:
          _nn_learning_rate(group["lr"])
        except (TypeError, ValueError) as error:
          raise type(error)(f"param_groups[{i}]: {error}") from None
  param_groups, order = _split_order_params(param_groups)
  if order is not None:  # MindSpore numbers the parameters as order_params lists them
    param_order = order
  learning_rate, param_groups = _quantize_fixed_group_lrs(learning_rate, param_groups)
  defaults = {"lr": learning_rate, "weight_decay": weight_decay, "grad_centralization": False}
  _check_nn_betas_eps_loss_scale(beta1, beta2, eps, loss_scale)
  filter_by_name = not param_groups

  def build(settings):
    weight_decay = settings["weight_decay"]
    mask = _not_beta_or_gamma if filter_by_name else None
    if callable(weight_decay):
      decay = _dynamic_decay(weight_decay, loss_scale, mask)
    else:
      decay = stage_if(
        not is_static_zero(weight_decay),
        lambda: add_decayed_weights(weight_decay * loss_scale, mask),
      )
    # Centralized after the decay, before the loss scale is divided out (MindSpore's order).
    centralize = [_centralize_gradients()] if settings["grad_centralization"] else []
    stages = [
      decay,
      *centralize,
      stage_if(
        not is_static_one(loss_scale),
        lambda: rescale(1.0 / loss_scale),
      ),
    ]
    stages.append(
      scale_by_adamax(
        beta1,
        beta2,
        eps,
        eps_placement="denominator",
        arithmetic=arith.MINDSPORE_NN,
        learning_rate=_nn_learning_rate(settings["lr"]),
        mu_dtype=mu_dtype,
        nu_dtype=nu_dtype,
      )
    )
    return optax.chain(*stages)

  # MindSpore's ApplyAdaMax kernel takes dense gradients only.
  stages = [
    lambda opt: checking_trees(opt, lambda tree: reject_sparse(tree, "mindspore_nn_adamax"))
  ]
  if order is not None:
    stages.append(lambda opt: checking_trees(opt, _check_order(order, param_groups)))
  settings = PresetSettings(
    framework="MindSpore",
    defaults=defaults,
    param_groups=param_groups,
    check_group=_check_nn_group,
    ungrouped=ungrouped,
    skip_nonfinite=skip_nonfinite,
    exact_apply=exact_apply,
    updates_in_param_dtype=updates_in_param_dtype,
  )
  return with_param_order(assemble(build, settings, stages=stages), param_order)


__all__ = ["mindspore_nn_adamax"]
