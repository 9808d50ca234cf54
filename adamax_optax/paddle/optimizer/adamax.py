"""Paddle's Adamax, exactly: ``paddle_adamax`` (``paddle.optimizer.Adamax``, 3.x).

Every knob is here under Paddle's keyword names, with Paddle's validation messages for
the betas and epsilon; the learning rate and weight decay, which Paddle only
type-checks, are also kept finite and non-negative.
"""

from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import optax

from adamax_optax import arithmetic as arith
from adamax_optax._preset import (
  PresetSettings,
  adamax_count,
  assemble,
  framework_groups,
  learning_rates,
  rate_reader,
  stage_if,
  with_common_keyword_docs,
  with_param_order,
)
from adamax_optax.clipping import in_framework_order
from adamax_optax.paddle.optimizer.lr import LRScheduler, ReduceOnPlateau
from adamax_optax.paddle.regularizer import (
  L1Decay,
  L2Decay,
  ParamAttr,
  Regularizer,
  need_clip_mask,
  param_attrs_by_name,
  regularization,
)
from adamax_optax.param_groups import Ungrouped, checking_trees, grouped, leaf_names
from adamax_optax.scale_by_adamax import scale_by_adamax
from adamax_optax.schedules import ExactSchedule
from adamax_optax.validation import (
  check_every,
  check_framework_rule,
  check_range,
  is_integer_number,
  is_python_number,
  is_static_zero,
  renamed_keywords,
)
from adamax_optax.weight_decay import add_decayed_weights


def _check_paddle(settings: Mapping) -> None:
  for name in ("beta1", "beta2"):
    if name in settings:
      check_framework_rule(
        name,
        settings[name],
        lambda v: not 0.0 <= v < 1.0,
        f"Invalid value of {name}, expect {name} in [0,1).",
      )
  if "epsilon" in settings:
    check_framework_rule(
      "epsilon",
      settings["epsilon"],
      lambda v: not v >= 0.0,
      "Invalid value of epsilon, expect epsilon >= 0.",
    )
  weight_decay = settings.get("weight_decay")
  if weight_decay is not None and not isinstance(weight_decay, (L1Decay, L2Decay)):
    check_range("weight_decay", weight_decay, 0.0)


def _check_grad_clip(grad_clip) -> None:
  if grad_clip is not None and not isinstance(grad_clip, optax.GradientTransformation):
    raise TypeError(
      "grad_clip must be a gradient clip such as adamax_optax.paddle.nn.ClipGradByGlobalNorm"
      f"(1.0) (an optax.GradientTransformation) or None, got {grad_clip!r}."
    )


def _check_base_learning_rate(learning_rate) -> None:
  if isinstance(learning_rate, ReduceOnPlateau):
    return
  if is_integer_number(learning_rate):
    raise TypeError(f"learning rate should be float or LRScheduler, got {type(learning_rate)} here")
  check_range("learning_rate", learning_rate, 0.0, allow_schedule=True)


def _decay_stage(weight_decay, mask=None) -> optax.GradientTransformation:
  """A float (``L2Decay``) or regularizer's term added to the gradient; none for
  ``None`` or a static 0."""
  if isinstance(weight_decay, (L1Decay, L2Decay)):
    return weight_decay.stage(mask)
  return stage_if(
    weight_decay is not None and not is_static_zero(weight_decay),
    lambda: add_decayed_weights(weight_decay, mask),
  )


def _by_name(values: dict, default):
  """``labels(tree)``: each leaf's value in ``values`` (by parameter name), else ``default``."""
  return lambda tree: [values.get(name, default) for name in leaf_names(tree)]


def _scaled(learning_rate, multiplier):
  """A group's rate: Paddle multiplies its float32 base rate by the multiplier in float32."""
  if multiplier == 1.0:
    return learning_rate
  factor = jnp.float32(multiplier)
  if callable(learning_rate):
    return lambda count: jnp.asarray(learning_rate(count), jnp.float32) * factor
  return jnp.asarray(learning_rate, jnp.float32) * factor


def _refuse_16bit(tree) -> None:
  """Paddle's CPU Adamax has no float16 or bfloat16 kernel: such params are refused."""
  for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
    dtype = jnp.result_type(leaf)
    if dtype in (jnp.float16, jnp.bfloat16):
      name = jax.tree_util.keystr(path) or "(the single array)"
      raise TypeError(
        f"paddle_adamax: parameter {name} is {dtype}, and Paddle's CPU Adamax has no "
        "float16 or bfloat16 kernel (Paddle raises 'The kernel with key (CPU, ..., "
        "float16) of kernel `adamax` is not registered'), so there is nothing to "
        "reproduce. Keep float32 params, or pass mu_dtype=jnp.float32 and "
        "nu_dtype=jnp.float32 for float32 moments as Paddle's GPU float16 kernel keeps "
        "(computed in float32, stored once; not recorded, so not promised bit for bit)."
      )


@renamed_keywords(lr="learning_rate", eps="epsilon")
@with_common_keyword_docs
def paddle_adamax(
  learning_rate: optax.ScalarOrSchedule = 0.001,
  beta1: float = 0.9,
  beta2: float = 0.999,
  epsilon: float = 1e-8,
  weight_decay: float | Regularizer | None = None,
  *,
  parameters=None,
  param_groups: Sequence[Mapping] | None = None,
  grad_clip: optax.GradientTransformation | None = None,
  param_attrs: Mapping[str, ParamAttr] | None = None,
  ungrouped: Ungrouped = "train",
  mu_dtype: jax.typing.DTypeLike | None = None,
  nu_dtype: jax.typing.DTypeLike | None = None,
  skip_nonfinite: bool = False,
  lr_scheduler_every: int = 1,
) -> optax.GradientTransformation:
  r"""Paddle's ``paddle.optimizer.Adamax`` (3.x), reproduced bit for bit.

  With :math:`p_t = p_{t-1} \beta_1` a float32 running product (:math:`p_1 = \beta_1`)
  and every scalar rounded to float32:

  .. math::

    g &\leftarrow g + w \lambda \\
    m &\leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
    u \leftarrow \max(|g|,\; \beta_2 u + \epsilon) \\
    w &\leftarrow w - \frac{\eta}{1 - p_t}\, \frac{m}{u}

  Epsilon is added to the decayed norm, not to :math:`|g|` (the only framework that
  does so). A float ``weight_decay`` is Paddle's ``L2Decay``: coupled, added to the
  gradient, after ``grad_clip`` has clipped the raw gradient.

  Args:
    learning_rate: :math:`\eta`, float >= 0, default 0.001, a scheduler of
      :mod:`adamax_optax.paddle.optimizer.lr` (Paddle's ``paddle.optimizer.lr``: the
      kernel gets ``float32`` of its double, as in Paddle), or any optax schedule (called
      with the step count, 0 first). With ``lr.ReduceOnPlateau``, every update takes a
      metric: ``update(grads, state, params, value=metric)``, the one Paddle's
      ``scheduler.step(metric)`` got after the update before (not read at the first).
    beta1: in [0, 1), default 0.9.
    beta2: in [0, 1), default 0.999.
    epsilon: >= 0, default 1e-8.
    weight_decay: :math:`\lambda` >= 0 (``L2Decay``), a regularizer of
      :mod:`adamax_optax.paddle.regularizer` (``L1Decay(c)``: :math:`g + c\,
      \mathrm{sign}(w)`; ``L2Decay(c)``), or ``None`` (default) for none. In a group,
      ``weight_decay: None`` (or none given) falls back to this value (Paddle's
      regularizer lookup); 0.0 switches decay off.
    parameters: the parameters, as ``paddle.optimizer.Adamax(parameters=...)`` takes
      them (a keyword here: positionally, the fifth argument is ``weight_decay``): a
      pytree (a dict keeps its insertion order, as ``layer.named_parameters()``), a
      list of ``(name, array)`` pairs (then ``opt.init(dict(pairs))``), or a list of
      group dicts whose ``"params"`` is a subtree (the full tree's paths), a list of such
      pairs or a list of names, with any of the group keys below. They give the groups
      (instead of ``param_groups``) and ``opt.param_order``, the names in Paddle's order
      (the groups' parameters one after the other), which a global-norm ``grad_clip``
      built without ``param_order`` then sums in. The values are not kept: initialize
      with ``opt.init(params)`` as usual.
    param_groups: optional list of dicts, each with ``params`` (a list of parameter
      names, the "/"-joined pytree paths, or a callable ``(name, leaf) -> bool``) and any
      of ``learning_rate`` (a multiplier of the base rate, as in Paddle: the float32
      product of the two),
      ``weight_decay``, ``beta1``, ``beta2``, ``epsilon`` and ``grad_clip``.
    param_attrs: optional dict of parameter name -> :class:`~adamax_optax.paddle.ParamAttr`
      (Paddle's per-parameter ``learning_rate`` multiplier, ``regularizer`` and
      ``need_clip``). As in Paddle, a parameter in a group takes the group's
      ``learning_rate`` (else 1.0) and ``weight_decay`` instead of its attribute's.
    ungrouped: what the parameters in no group do when ``param_groups`` is given:
      ``"train"`` (default) as if handed to the optimizer in a plain list (their
      ``param_attrs`` apply), or ``"frozen"``: no update and no state, as in Paddle,
      which updates only the parameters handed to it.
    grad_clip: optional gradient clip applied to the raw gradients before the decay,
      e.g. :func:`adamax_optax.paddle.nn.ClipGradByGlobalNorm` (or any optax
      transformation). As in Paddle it runs once per parameter group, so a global-norm
      clip takes each group's own norm; a group's ``grad_clip`` replaces it there.
    {COMMON_KEYWORDS}
    lr_scheduler_every: updates per ``scheduler.step()`` (default 1, every update): a
      scheduler stepped once an epoch of ``N`` updates takes ``N``; the rate of update
      ``n`` (0 first) is then the scheduler's value ``n // N``, and ``ReduceOnPlateau``
      reads ``value=`` at every ``N``-th update only.

  Raises:
    ValueError: Paddle's message for a beta outside [0, 1) or a negative epsilon
      (``Invalid value of beta1, expect beta1 in [0,1).``); for a negative or non-finite
      learning rate or weight decay, naming it.
    TypeError: for an int learning rate (Paddle takes floats or schedulers) and for
      non-numeric values.

  Returns:
    An :class:`optax.GradientTransformation`, carrying ``lr_scheduler``: the scheduler of
    :mod:`adamax_optax.paddle.optimizer.lr` given as ``learning_rate`` (else None), which
    :func:`adamax_optax.paddle.checkpoint.state_from_paddle_optimizer_file` checks a
    ``.pdopt``'s scheduler state against.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax import paddle_adamax
    >>> opt = paddle_adamax(
    ...   learning_rate=0.01, param_groups=[{"params": ["b"], "learning_rate": 0.5}]
    ... )
    >>> params = {"w": jnp.ones(2), "b": jnp.ones(2)}
    >>> updates, state = opt.update(params, opt.init(params), params)
    >>> print(updates["w"], updates["b"])
    [-0.01 -0.01] [-0.005 -0.005]

    Paddle's own call, the parameters as ``parameters=``:

    >>> from adamax_optax.paddle.optimizer import Adamax
    >>> Adamax(learning_rate=0.01, parameters=[("w", params["w"]), ("b", params["b"])]).param_order
    ('w', 'b')

  References:
    Kingma & Ba, 2015, section 7.1; Paddle ``paddle.optimizer.Adamax``.
  """
  _check_base_learning_rate(learning_rate)
  attrs = param_attrs_by_name(param_attrs)
  defaults = {
    "learning_rate": 1.0,
    "beta1": beta1,
    "beta2": beta2,
    "epsilon": epsilon,
    "weight_decay": weight_decay,
    "grad_clip": grad_clip,
  }
  _check_paddle(defaults)
  _check_grad_clip(grad_clip)
  param_groups, order = framework_groups(
    params=parameters, param_groups=param_groups, argument="parameters"
  )

  def check_group(settings):
    _check_grad_clip(settings.get("grad_clip"))
    if "learning_rate" in settings:
      check_range("learning_rate", settings["learning_rate"], 0.0)
    _check_paddle(settings)

  def adamax_step(settings, learning_rate, multiplier):
    return scale_by_adamax(
      settings["beta1"],
      settings["beta2"],
      settings["epsilon"],
      eps_placement="max_norm",
      arithmetic=arith.PADDLE,
      learning_rate=_scaled(learning_rate, multiplier),
      mu_dtype=mu_dtype,
      nu_dtype=nu_dtype,
    )

  def build(settings, with_attrs=False):
    learning_rate = settings["lr"]  # the base rate, which a group's learning_rate scales
    # A group's ``weight_decay: None`` falls back to the optimizer's (Paddle's
    # regularizer lookup), it does not switch decay off (0.0 does).
    weight_decay = settings["weight_decay"]
    if weight_decay is None:
      weight_decay = defaults["weight_decay"]
    # Paddle clips each group's raw gradients first (parameters whose ParamAttr says
    # need_clip=False are left out), then adds the decay terms.
    clip = in_framework_order(settings["grad_clip"], order)
    if clip is not None and with_attrs and not all(a.need_clip for a in attrs.values()):
      clip = optax.masked(clip, need_clip_mask(attrs))
    stages = [clip] if clip is not None else []
    regularizers = {n: a.regularizer for n, a in attrs.items() if a.regularizer is not None}
    multipliers = {n: a.learning_rate for n, a in attrs.items() if a.learning_rate != 1.0}
    if not with_attrs or not regularizers:
      stages.append(_decay_stage(weight_decay))
    else:
      # A parameter's own regularizer replaces the optimizer's.
      by_name = _by_name(regularizers, None)

      def without_own(params):
        flags = [r is None for r in by_name(params)]
        return jax.tree.unflatten(jax.tree.structure(params), flags)

      own = regularization(regularizers.get, sorted(set(regularizers.values()), key=repr))
      stages.extend([_decay_stage(weight_decay, without_own), own])
    if not with_attrs or not multipliers:
      stages.append(adamax_step(settings, learning_rate, settings["learning_rate"]))
    else:
      stages.append(
        grouped(lambda m: adamax_step(settings, learning_rate, m), _by_name(multipliers, 1.0))
      )
    return optax.chain(*stages)

  def check_attr_names(tree):
    names = leaf_names(tree)
    for name in attrs:
      if name not in names:
        raise ValueError(f"param_attrs names unknown parameter {name!r}; known names: {names}.")

  stages = []
  if attrs:
    stages.append(lambda opt: checking_trees(opt, check_attr_names))
  if mu_dtype is None and nu_dtype is None:
    stages.append(lambda opt: checking_trees(opt, _refuse_16bit))
  plateau = isinstance(learning_rate, ReduceOnPlateau)
  scheduler = learning_rate if plateau or isinstance(learning_rate, LRScheduler) else None
  if isinstance(learning_rate, LRScheduler):
    learning_rate = learning_rate.table  # an ExactSchedule: the kernel takes its doubles
  every = lr_scheduler_every
  # What get_lr reads: the scheduler's doubles at each count (its table stretched by
  # the updates per step), or the rate as given.
  base_rate = learning_rate
  if isinstance(learning_rate, ExactSchedule) and is_python_number(every):
    base_rate = learning_rate.stretched(check_every(every))
  if not plateau and callable(learning_rate) and not (is_python_number(every) and every == 1):
    if is_python_number(every):  # an array (optax.inject_hyperparams) is used as it is
      check_every(every)
    schedule = learning_rate
    learning_rate = lambda count: schedule(
      jnp.asarray(count, jnp.int32) // jnp.asarray(every, jnp.int32)
    )
  # Paddle's learning_rate is the scheduler: a ReduceOnPlateau one is attached by the
  # assembler, any other is the base rate "lr" that the groups' learning_rate scales.
  settings = PresetSettings(
    framework="Paddle",
    defaults={**defaults, "lr": learning_rate},
    param_groups=param_groups,
    check_group=check_group,
    group_keys=tuple(defaults),
    ungrouped=ungrouped,
    build_ungrouped=lambda settings: build(settings, with_attrs=True),
    lr_scheduler=learning_rate if plateau else None,
    lr_scheduler_every=lr_scheduler_every,
    skip_nonfinite=skip_nonfinite,
  )
  opt = assemble(build, settings, stages=stages)
  if not plateau:
    opt.learning_rates = rate_reader([base_rate], adamax_count)
  opt.lr_scheduler = scheduler  # what a checkpoint's scheduler state is checked against
  return with_param_order(opt, order)


def get_lr(optimizer, opt_state) -> float:
  """The learning rate after the last step, as Paddle's ``optimizer.get_lr()`` reports it:
  the scheduler's current rate (``scheduler.last_lr``), a Python float, which the groups'
  and parameters' ``learning_rate`` multipliers then scale; a fixed ``learning_rate`` is
  that number.

  ``optimizer`` is a :func:`paddle_adamax` optimizer, ``opt_state`` its concrete state
  after the updates so far (read on the host, outside ``jax.jit``). With
  ``ReduceOnPlateau``, the rate of the last update: the metric measured after it reaches
  the optimizer with the next update (``value=``).

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.paddle.optimizer import Adamax, get_lr
    >>> from adamax_optax.paddle.optimizer.lr import StepDecay
    >>> opt = Adamax(learning_rate=StepDecay(learning_rate=0.1, step_size=2, gamma=0.5))
    >>> params = jnp.ones(2)
    >>> state = opt.init(params)
    >>> for _ in range(2):
    ...   updates, state = opt.update(params, state, params)
    >>> get_lr(opt, state)
    0.05
  """
  (rate,) = learning_rates(optimizer, opt_state)
  return rate


__all__ = ["get_lr", "paddle_adamax"]
