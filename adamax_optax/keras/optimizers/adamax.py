"""Keras 3's Adamax, exactly: ``keras_adamax`` (``keras.optimizers.Adamax``, 3.x).

Keras checks none of Adamax's hyperparameters; this preset rejects the values for which
the update is undefined, naming the argument and the allowed range. The base optimizer's
arguments (clipping, loss scaling, gradient accumulation, moving averages, exclusion
from weight decay) are assembled from :mod:`.base_optimizer`.
"""

from collections.abc import Sequence
from typing import Literal

import jax
import numpy as np
import optax

from adamax_optax import arithmetic as arith
from adamax_optax import clipping
from adamax_optax._preset import (
  PresetSettings,
  assemble,
  stage_if,
  with_common_keyword_docs,
  with_param_order,
)
from adamax_optax.clipping import check_param_order
from adamax_optax.keras.optimizers import base_optimizer as base
from adamax_optax.keras.optimizers import schedules
from adamax_optax.scale_by_adamax import scale_by_adamax
from adamax_optax.validation import (
  check_bool,
  check_range,
  is_concrete_array,
  is_integer_number,
  is_static_zero,
  renamed_keywords,
)
from adamax_optax.weight_decay import add_decoupled_weight_decay


def _check_base_arguments(
  clipnorm,
  clipvalue,
  global_clipnorm,
  use_ema,
  ema_momentum,
  ema_overwrite_frequency,
  loss_scale_factor,
  gradient_accumulation_steps,
  exclude_from_weight_decay,
) -> None:
  """Keras's own checks, with its messages, plus ranges for what Keras leaves unchecked."""
  given = [a is not None for a in (clipnorm, clipvalue, global_clipnorm)]
  if sum(given) > 1:
    raise ValueError(
      "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
      f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
    )
  for name, value in (
    ("clipnorm", clipnorm),
    ("clipvalue", clipvalue),
    ("global_clipnorm", global_clipnorm),
  ):
    if value is not None:
      check_range(name, value, 0.0)  # 0 switches clipping off, as in Keras
  if loss_scale_factor is not None:
    check_range("loss_scale_factor", loss_scale_factor, 0.0, low_open=True)
  steps = _static_int(gradient_accumulation_steps)
  if gradient_accumulation_steps is not None and steps != 0 and not (steps and steps >= 2):
    raise ValueError(
      "`gradient_accumulation_steps` must be an integer >= 2. Received: "
      f"gradient_accumulation_steps={gradient_accumulation_steps} (a Python int: with "
      "optax.inject_hyperparams, list it in static_args)"
    )
  check_bool("use_ema", use_ema)
  if use_ema:
    check_range("ema_momentum", ema_momentum, 0.0, 1.0)
    frequency = _static_int(ema_overwrite_frequency)
    if (
      ema_overwrite_frequency is not None and frequency != 0 and not (frequency and frequency >= 1)
    ):
      raise ValueError(
        "`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
        f"ema_overwrite_frequency={ema_overwrite_frequency} (a Python int: with "
        "optax.inject_hyperparams, list it in static_args)"
      )
  if exclude_from_weight_decay is not None and (
    isinstance(exclude_from_weight_decay, str)
    or not isinstance(exclude_from_weight_decay, Sequence)
    or not all(isinstance(n, str) for n in exclude_from_weight_decay)
  ):
    raise TypeError(
      "exclude_from_weight_decay must be a list of name patterns (Keras's var_names, "
      f"e.g. ['bias']), got {exclude_from_weight_decay!r}."
    )


def _static_int(value) -> int | None:
  """``value`` as a Python int if it is an integer known now (a Python or NumPy int, or a
  concrete integer 0-d array as optax.inject_hyperparams passes it), else None."""
  if is_integer_number(value) and not isinstance(value, (bool, np.bool_)):
    return int(value)
  if (
    is_concrete_array(value)
    and np.ndim(value) == 0
    and np.issubdtype(np.asarray(value).dtype, np.integer)
  ):
    return int(value)
  return None


def _clip(
  clipnorm, clipvalue, global_clipnorm, param_order, compiled: bool
) -> optax.GradientTransformation | None:
  """Keras's ``_clip_gradients``: a value of 0 (or None) means no clipping."""
  on = lambda value: value is not None and not is_static_zero(value)  # arrays: on
  if on(clipnorm):
    if compiled:
      return clipping.clip_by_norm(clipnorm, scaling="keras_compiled", order="xla_fused")
    return clipping.clip_by_norm(clipnorm, scaling="keras")
  if on(global_clipnorm):
    scaling, order = ("keras_global_compiled", "xla_fused") if compiled else ("keras_global", "xla")
    return clipping.clip_by_global_norm(
      global_clipnorm, scaling=scaling, order=order, param_order=param_order
    )
  if on(clipvalue):
    return clipping.clip_by_value(-clipvalue, clipvalue)
  return None


def _check_jit_compile(jit_compile) -> bool:
  """Keras's ``jit_compile`` values: True, False, or ``"auto"`` (True on the JAX backend)."""
  if jit_compile == "auto":
    return True
  if not isinstance(jit_compile, bool | np.bool_):
    raise ValueError(
      f'jit_compile must be True, False or "auto", got {jit_compile!r}: "auto" (default) '
      "reproduces model.fit's compiled step, False Keras run eagerly."
    )
  return bool(jit_compile)


@renamed_keywords(lr="learning_rate", beta1="beta_1", beta2="beta_2", eps="epsilon")
@with_common_keyword_docs
def keras_adamax(
  learning_rate: optax.ScalarOrSchedule = 0.001,
  beta_1: float = 0.9,
  beta_2: float = 0.999,
  epsilon: float = 1e-7,
  weight_decay: float | None = None,
  clipnorm: float | None = None,
  clipvalue: float | None = None,
  global_clipnorm: float | None = None,
  use_ema: bool = False,
  ema_momentum: float = 0.99,
  ema_overwrite_frequency: int | None = None,
  loss_scale_factor: float | None = None,
  gradient_accumulation_steps: int | None = None,
  *,
  exclude_from_weight_decay: Sequence[str] | None = None,
  param_order: Sequence[str] | None = None,
  jit_compile: bool | Literal["auto"] = "auto",
  exact_apply: bool = False,
  name: str = "adamax",
  mu_dtype: jax.typing.DTypeLike | None = None,
  nu_dtype: jax.typing.DTypeLike | None = None,
  skip_nonfinite: bool = False,
) -> optax.GradientTransformation:
  r"""Keras 3's ``keras.optimizers.Adamax``, reproduced bit for bit.

  With :math:`t` the 1-based step, all arithmetic in float32 and the bias correction
  :math:`1 - \beta_1^t` a float32 power:

  .. math::

    w &\leftarrow w - (w \lambda)\, \eta \qquad \text{(decoupled decay, first)} \\
    m &\leftarrow m + (g - m)(1 - \beta_1), \qquad u \leftarrow \max(\beta_2 u, |g|) \\
    w &\leftarrow w - \frac{\eta\, m}{(1 - \beta_1^t)(u + \epsilon)}

  The decay uses the learning rate without bias correction, and the Adamax step uses
  the gradient as given (the decay never enters m or u).

  Keras rounds this arithmetic in two ways, and ``jit_compile`` picks one. ``model.fit``
  compiles its train step (``model.compile(jit_compile="auto")``, Keras's default, is
  ``True`` on the JAX backend), and XLA contracts :math:`m + (g - m)(1 - \beta_1)` and
  :math:`w - (w \lambda)\, \eta` into fused multiply-adds, each rounded once; run
  eagerly (``optimizer.apply`` outside ``jax.jit``, ``run_eagerly=True``) every product is
  rounded first. The default follows ``model.fit``.

  Around the step, as Keras's base optimizer does it: the gradients are divided by
  ``loss_scale_factor``, accumulated (``gradient_accumulation_steps``), clipped
  (``clipnorm`` / ``global_clipnorm`` / ``clipvalue``, see
  :mod:`adamax_optax.clipping`), then decayed and stepped; the moving average of the
  params (``use_ema``) follows each call.

  Args:
    learning_rate: :math:`\eta`, default 0.001, >= 0: a number or an optax schedule
      (called with Keras's ``iterations``, 0 on the first step).
    beta_1: in [0, 1), default 0.9.
    beta_2: in [0, 1], default 0.999.
    epsilon: >= 0, default 1e-7 (Keras's default, not 1e-8).
    weight_decay: :math:`\lambda` >= 0, or ``None`` (default) for none.
    clipnorm: clip each gradient tensor to this 2-norm: :math:`(g c) / \max(n, c)`.
    clipvalue: clip every gradient element to :math:`[-v, v]`.
    global_clipnorm: clip all gradients to this global 2-norm:
      :math:`g \cdot (c \min(1/n, 1/c) + (n - n))`, NaN everywhere when :math:`n` is not
      finite (as in Keras). At most one of the three; 0 or ``None`` means none.
    use_ema: keep a moving average of the params in the state (read it with
      :func:`adamax_optax.keras.optimizers.ema_params`, what Keras's
      ``finalize_variable_values`` copies into the model). Default False.
    ema_momentum: the average's momentum, in [0, 1], default 0.99.
    ema_overwrite_frequency: with ``use_ema``, replace the params by their average every
      this many iterations (Keras's count, 1-based); ``None`` (default) never.
    loss_scale_factor: the gradients are of a loss multiplied by this (> 0); they are
      divided by it first. ``None`` (default): no scaling.
    gradient_accumulation_steps: an int >= 2: update every this many calls with the
      mean gradient; in between the params stay as they are. Keras's ``iterations``
      counts calls: the bias correction sees ``calls // steps`` (the updates) and a
      learning-rate schedule is called with the raw call count (``k * steps + steps - 1``
      at update ``k``, 0 first), as in Keras. ``None`` (default): every call updates.
    exclude_from_weight_decay: name patterns (Keras's ``var_names``): a parameter whose
      name (its "/"-joined pytree path, e.g. ``"Dense_0/bias"``) contains a match
      (``re.search``) gets no weight decay.
    param_order: the order ``global_clipnorm`` adds the per-variable sums in: Keras's
      ``model.trainable_variables`` order, as the parameter names (the tree's
      "/"-joined paths) or as the parameters in that order (a dict in insertion order,
      ``(name, array)`` pairs). Default ``tree_leaves`` order, which sorts a dict's keys
      and can move the norm by an ulp (see :mod:`adamax_optax.clipping`). It is also
      ``opt.param_order``.
    jit_compile: keyword-only. ``"auto"`` (default) or True: the arithmetic of the step
      ``model.fit`` compiles; False: Keras run eagerly. A schedule of
      :mod:`adamax_optax.keras.optimizers.schedules` built without its own
      ``jit_compile`` is evaluated in the same mode.
    name: Keras's optimizer name (a string, default ``"adamax"``). Keras uses it to name
      the optimizer's variables; here the state is a pytree and nothing is named, so it
      changes nothing: it is accepted so that a Keras call carries over unchanged.
    {COMMON_KEYWORDS}

  Returns:
    An :class:`optax.GradientTransformation`.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax import keras_adamax
    >>> opt = keras_adamax(learning_rate=0.25, weight_decay=0.5)
    >>> w = jnp.array([1.0, 4.0])
    >>> updates, state = opt.update(jnp.zeros(2), opt.init(w), w)
    >>> print(updates)
    [-0.125 -0.5  ]

    The new weights themselves, set exactly:

    >>> import adamax_optax
    >>> exact = keras_adamax(learning_rate=0.25, weight_decay=0.5, exact_apply=True)
    >>> updates, _ = exact.update(jnp.zeros(2), exact.init(w), w)
    >>> print(adamax_optax.apply_updates(w, updates))
    [0.875 3.5  ]

  References:
    Kingma & Ba, 2015, section 7.1; Keras ``keras.optimizers.Adamax``
    (https://keras.io/api/optimizers/adamax/).
  """
  if not isinstance(name, str):
    raise TypeError(f"name must be a string (Keras's optimizer name), got {name!r}.")
  check_range("learning_rate", learning_rate, 0.0, allow_schedule=True)
  check_range("beta_1", beta_1, 0.0, 1.0, high_open=True)
  check_range("beta_2", beta_2, 0.0, 1.0)
  check_range("epsilon", epsilon, 0.0)
  _check_base_arguments(
    clipnorm,
    clipvalue,
    global_clipnorm,
    use_ema,
    ema_momentum,
    ema_overwrite_frequency,
    loss_scale_factor,
    gradient_accumulation_steps,
    exclude_from_weight_decay,
  )
  compiled = _check_jit_compile(jit_compile)
  check_bool("exact_apply", exact_apply)
  if isinstance(learning_rate, schedules.LearningRateSchedule):
    learning_rate = learning_rate.in_mode(compiled)
  steps = _static_int(gradient_accumulation_steps) or None
  if steps:
    learning_rate = base.accumulation_schedule(learning_rate, steps)
  adamax_step = scale_by_adamax(
    beta_1,
    beta_2,
    epsilon,
    eps_placement="denominator",
    arithmetic=arith.KERAS_COMPILED if compiled else arith.KERAS,
    learning_rate=learning_rate,
    mu_dtype=mu_dtype,
    nu_dtype=nu_dtype,
  )
  if weight_decay is not None:
    check_range("weight_decay", weight_decay, 0.0)
  mask = base.weight_decay_mask(exclude_from_weight_decay) if exclude_from_weight_decay else None
  decay = stage_if(
    weight_decay is not None,
    lambda: add_decoupled_weight_decay(
      weight_decay, learning_rate, mask=mask, fused=compiled, exact_apply=exact_apply
    ),
  )
  param_order = check_param_order(param_order)
  clip = _clip(clipnorm, clipvalue, global_clipnorm, param_order, compiled)
  chain = optax.chain(adamax_step, decay) if clip is None else optax.chain(clip, adamax_step, decay)
  # Keras's base optimizer around the step, innermost first.
  stages = []
  if steps:
    stages.append(lambda opt: base.accumulate_gradients(opt, steps))
  if loss_scale_factor is not None:
    stages.append(lambda opt: optax.chain(base.unscale(loss_scale_factor), opt))
  if use_ema:
    frequency = _static_int(ema_overwrite_frequency) or None
    stages.append(
      lambda opt: base.moving_average(opt, ema_momentum, frequency, steps, compiled=compiled)
    )
  settings = PresetSettings(
    framework="Keras", skip_nonfinite=skip_nonfinite, exact_apply=exact_apply
  )
  return with_param_order(assemble(lambda _: chain, settings, stages=stages), param_order)


__all__ = ["keras_adamax"]
