"""MindSpore's ``mindspore.experimental.optim.Adamax``, exactly: ``mindspore_adamax``.

PyTorch's interface, epsilon inside the max, a float32 power for the bias correction.
Every knob is here under MindSpore's keyword names, with MindSpore 2.10's validation
messages. (``mindspore.nn.AdaMax`` is :mod:`adamax_optax.mindspore.nn`.)
"""

from collections.abc import Mapping, Sequence

import jax
import optax

from adamax_optax import arithmetic as arith
from adamax_optax._preset import (
  PresetSettings,
  assemble,
  framework_groups,
  scheduler_and_cadence,
  takes_framework_params,
  with_common_keyword_docs,
  with_param_order,
)
from adamax_optax._torch_style import check_maximize, torch_style_chain
from adamax_optax.mindspore.experimental.optim.lr_scheduler import (
  LRScheduler,
  ReduceLROnPlateau,
)
from adamax_optax.param_groups import Ungrouped
from adamax_optax.validation import (
  check_framework_rule,
  check_pair,
  check_scheduler,
  is_integer_number,
  renamed_keywords,
)

# --- mindspore.experimental.optim.Adamax ---------------------------------------------


def _check_experimental(settings: Mapping) -> None:
  """``experimental.optim.Adamax.__init__``'s checks and messages (2.10)."""
  if "lr" in settings:
    lr = settings["lr"]
    check_framework_rule(
      "lr",
      lr,
      lambda v: v <= 0.0,
      f"For Adamax, the lr must be greater than 0.0, but got {lr}.",
      allow_schedule=True,
    )
  if "eps" in settings:
    eps = settings["eps"]
    check_framework_rule(
      "eps",
      eps,
      lambda v: v <= 0.0,
      f"For Adamax, the eps must be greater than 0.0, but got {eps}.",
    )
  if "weight_decay" in settings:
    wd = settings["weight_decay"]
    check_framework_rule(
      "weight_decay",
      wd,
      lambda v: v < 0.0,
      f"For Adamax, the weight_decay must be greater than or equal to 0.0, but got {wd}.",
    )
  if "betas" in settings:
    for index, beta in enumerate(check_pair("betas", settings["betas"])):
      if is_integer_number(beta):
        raise TypeError(
          f"For 'Adamax', the 'betas[{index}]' must be 'float',  but got '{type(beta).__name__}'."
        )
      check_framework_rule(
        f"betas[{index}]",
        beta,
        lambda v: not 0.0 <= v < 1.0,
        f"For 'Adamax', the 'betas[{index}]' must be in range of [0.0, 1.0), but got {beta} "
        f"with type '{type(beta).__name__}'.",
      )
  if "maximize" in settings:
    check_maximize(settings["maximize"])


@takes_framework_params
@renamed_keywords(learning_rate="lr", beta1="betas", beta2="betas", epsilon="eps")
@with_common_keyword_docs
def mindspore_adamax(
  lr: optax.ScalarOrSchedule = 2e-3,
  betas: tuple[float, float] = (0.9, 0.999),
  eps: float = 1e-8,
  weight_decay: float = 0.0,
  *,
  maximize: bool = False,
  params=None,
  param_groups: Sequence[Mapping] | None = None,
  ungrouped: Ungrouped = "train",
  mu_dtype: jax.typing.DTypeLike | None = None,
  nu_dtype: jax.typing.DTypeLike | None = None,
  skip_nonfinite: bool = False,
  lr_scheduler: LRScheduler | ReduceLROnPlateau | Sequence[LRScheduler] | None = None,
  lr_scheduler_every: int | Sequence[int] | None = None,
  lr_scheduler_start: int | None = None,
) -> optax.GradientTransformation:
  r"""MindSpore's ``mindspore.experimental.optim.Adamax`` (2.10), reproduced bit for bit.

  With :math:`t` the global 1-based step and every scalar rounded to float32:

  .. math::

    g &\leftarrow w \lambda + (\pm g) \\
    m &\leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
    u \leftarrow \max(\beta_2 u,\; |g| + \epsilon) \\
    w &\leftarrow w - \left(\frac{\eta}{1 - \beta_1^{t}}\, m\right) / u

  where :math:`1 - \beta_1` and :math:`\beta_1^t` are computed in float32 (the power
  differs from a double power by up to 2.7e-6 relative, which is why this is not
  :func:`torch_adamax`). The gradient is negated before the decay when ``maximize``;
  the decay is left out for a weight decay of 0.

  Args:
    lr: :math:`\eta`, default 2e-3, > 0: a number, a 0-d array or an optax schedule
      (called with the step count, 0 first).
    betas: :math:`(\beta_1, \beta_2)`, floats in [0, 1), default (0.9, 0.999).
    eps: default 1e-8, > 0.
    weight_decay: :math:`\lambda`, coupled L2, default 0, >= 0.
    maximize: ascend the objective instead of descending it.
    params: the parameters, as MindSpore's ``Adamax(params, ...)`` takes them, here or
      as the first positional argument: a pytree (a dict keeps its insertion order, as
      ``net.parameters_dict()``), a list of ``(name, array)`` pairs (then
      ``opt.init(dict(pairs))``), or a list of group dicts whose ``"params"`` is a
      subtree (the full tree's paths), a list of such pairs or a list of names, with any
      of the group keys below. They give the groups (instead of ``param_groups``) and
      ``opt.param_order``: the names in MindSpore's parameter order (the groups'
      parameters one after the other), for a checkpoint mapping and for
      :func:`~adamax_optax.mindspore.ops.clip_by_global_norm`'s ``param_order=``. The
      values are not kept: initialize with ``opt.init(params)`` as usual. A first
      positional argument that is a number, an array or a schedule is ``lr`` (the call
      ``Adamax(2e-3)``).
    param_groups: optional list of dicts, each with ``params`` (a list of parameter
      names, the "/"-joined pytree paths, or a callable ``(name, leaf) -> bool``) and
      any of ``lr``, ``betas``, ``eps``, ``weight_decay``, ``maximize``; missing keys
      take the values above.
    ungrouped: what the parameters in no group do when ``param_groups`` is given:
      ``"train"`` (default) with the values above, or ``"frozen"``: no update and no
      state, as in MindSpore, which updates only the parameters handed to it.
    {COMMON_KEYWORDS}
    lr_scheduler: optional scheduler from
      :mod:`adamax_optax.mindspore.experimental.optim.lr_scheduler`, acting on every
      group's lr as MindSpore's does when built on this optimizer (``opt(grads);
      scheduler.step()`` each iteration): each group's lr (the group's ``lr``, else
      ``lr``) is its ``initial_lr``; these must then be numbers. With
      ``ReduceLROnPlateau``, pass the metric to every update:
      ``opt.update(grads, state, params, value=metric)``. A list of schedulers is
      several built on this optimizer in that order and stepped in that order (MindSpore
      has no ``ChainedScheduler``; scripts build e.g. ``ConstantLR`` and
      ``ExponentialLR`` on one optimizer and step both), each reading the ``lr`` the
      others left; ``get_last_lr(opt, state)`` of
      :mod:`adamax_optax.mindspore.experimental.optim.lr_scheduler` reads each group's
      current rate.
    lr_scheduler_every: updates per ``scheduler.step()``: ``None`` (default) or 1 steps it
      after every update; the number of batches per epoch steps it once per epoch. With
      a list of schedulers, one int for all or a list with one per scheduler. Python
      ints, static (not a hyperparameter of ``optax.inject_hyperparams``).
    lr_scheduler_start: the update at which ``lr_scheduler`` was built: ``None``
      (default) or 0, the first. A script that resumes with ``load_param_into_net`` and
      builds its scheduler afresh restarts the schedule at each group's lr while
      Adamax's step goes on: pass the resumed step here (the scheduler's epoch 0 is then
      that update). Count-driven schedulers only; a Python int, static.

  Raises:
    ValueError: MindSpore's message for lr <= 0, eps <= 0, weight_decay < 0 or a beta
      outside [0, 1) (e.g. ``For Adamax, the lr must be greater than 0.0, but got
      0.0.``), and for NaN or inf.
    TypeError: MindSpore's message for an int beta; for a non-numeric value, naming it.

  Returns:
    An :class:`optax.GradientTransformation`.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax import mindspore_adamax
    >>> opt = mindspore_adamax(
    ...   lr=0.002,
    ...   param_groups=[{"params": ["w"], "weight_decay": 0.01}, {"params": ["b"], "lr": 0.01}],
    ... )
    >>> params = {"w": jnp.ones(2), "b": jnp.ones(2)}
    >>> updates, state = opt.update(params, opt.init(params), params)
    >>> print(updates["w"], updates["b"])
    [-0.002 -0.002] [-0.01 -0.01]

    MindSpore's own call, the parameters first:

    >>> from adamax_optax.mindspore.experimental.optim import Adamax
    >>> opt = Adamax([{"params": ["w"], "weight_decay": 0.01}, {"params": ["b"]}], lr=0.002)
    >>> opt.param_order
    ('w', 'b')

  References:
    Kingma & Ba, 2015, section 7.1; MindSpore ``mindspore.experimental.optim.Adamax``.
  """
  defaults = {
    "lr": lr,
    "betas": betas,
    "eps": eps,
    "weight_decay": weight_decay,
    "maximize": maximize,
  }
  _check_experimental(defaults)
  param_groups, order = framework_groups(params, param_groups)
  lr_scheduler, lr_scheduler_every = scheduler_and_cadence(
    lr_scheduler,
    lr_scheduler_every,
    lambda scheduler: check_scheduler(
      scheduler,
      (LRScheduler, ReduceLROnPlateau),
      "adamax_optax.mindspore.experimental.optim.lr_scheduler",
      "StepLR(step_size=30)",
    ),
  )
  settings = PresetSettings(
    framework="MindSpore",
    defaults=defaults,
    param_groups=param_groups,
    check_group=_check_experimental,
    ungrouped=ungrouped,
    lr_scheduler=lr_scheduler,
    lr_scheduler_every=lr_scheduler_every,
    lr_scheduler_start=0 if lr_scheduler_start is None else lr_scheduler_start,
    skip_nonfinite=skip_nonfinite,
  )
  opt = assemble(
    lambda group: torch_style_chain(
      group, arith.MINDSPORE, fused_decay=False, mu_dtype=mu_dtype, nu_dtype=nu_dtype
    ),
    settings,
  )
  return with_param_order(opt, order)


__all__ = ["mindspore_adamax"]
