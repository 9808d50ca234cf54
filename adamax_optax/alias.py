"""``adamax``: the general alias assembling the chain from the building blocks."""

from collections.abc import Callable
from typing import Any, Literal

import jax
import optax

from adamax_optax import arithmetic as arith
from adamax_optax._leaves import trained_only
from adamax_optax._preset import PresetSettings, assemble, stage_if
from adamax_optax._typing import Params
from adamax_optax.rescale import rescale
from adamax_optax.scale_by_adamax import scale_by_adamax
from adamax_optax.validation import (
  check_adamax_hyperparameters,
  check_range,
  is_static_zero,
  renamed_keywords,
)
from adamax_optax.weight_decay import add_decayed_weights


@renamed_keywords(lr="learning_rate")
def adamax(
  learning_rate: optax.ScalarOrSchedule,
  b1: jax.typing.ArrayLike = 0.9,
  b2: jax.typing.ArrayLike = 0.999,
  eps: jax.typing.ArrayLike = 1e-8,
  *,
  eps_placement: arith.EpsPlacement = "max_grad",
  gradient_scale: jax.typing.ArrayLike | None = None,
  clip_value: jax.typing.ArrayLike | None = None,
  weight_decay: jax.typing.ArrayLike = 0.0,
  weight_decay_mask: Any | Callable[[Params], Any] | None = None,
  mask: Any | Callable[[Params], Any] | None = None,
  mu_dtype: jax.typing.DTypeLike | None = None,
  nu_dtype: jax.typing.DTypeLike | None = None,
  fused: bool | Literal["interpret"] = False,
  skip_nonfinite: bool = False,
) -> optax.GradientTransformation:
  r"""Adamax with optional gradient rescaling, elementwise clipping and L2 weight decay.

  The chain is ``rescale -> clip -> add_decayed_weights -> scale_by_adamax`` with the
  learning rate folded into the last stage (as ``scale_by_learning_rate`` would apply it,
  but with no buffer between stages). A stage whose option is left at its default (no
  scale, no clip, a weight decay of exactly 0) computes nothing but keeps its place in
  the chain as a stateless :func:`optax.identity`, so the state has one tree structure
  whatever the values (that of ``optax.inject_hyperparams(adamax)`` included).
  With :math:`\tilde g_t = \mathrm{clip}(s\,g_t, -c, c) + \lambda w_{t-1}`:

  .. math::

    m_t = \beta_1 m_{t-1} + (1-\beta_1)\tilde g_t, \quad
    u_t = \max(\beta_2 u_{t-1}, |\tilde g_t| + \epsilon), \quad
    w_t = w_{t-1} - \alpha_t \frac{m_t}{(1-\beta_1^t)\, u_t}

  (epsilon as ``eps_placement`` says; see :func:`scale_by_adamax`). With its defaults
  it computes exactly what :func:`optax.adamax` computes, bit for bit under ``jax.jit``;
  its state is another tree (the placeholders, and :class:`ScaleByAdamaxState` where
  optax has ``ScaleByAdamState``): an ``optax.adamax`` state, from a run or a
  checkpoint, moves over with :func:`moments` and :func:`load_state` (second example).

  Args:
    learning_rate: a float or an optax schedule (called with 0 on the first step).
    b1: first-moment decay, in [0, 1). Default 0.9.
    b2: infinity-norm decay, in [0, 1]. Default 0.999.
    eps: epsilon, >= 0. Default 1e-8.
    eps_placement: ``"none"``, ``"denominator"``, ``"max_grad"`` (default) or
      ``"max_norm"``.
    gradient_scale: optional factor applied to the gradient first (MXNet's
      ``rescale_grad``).
    clip_value: optional bound > 0 for elementwise clipping to ``[-c, c]``.
    weight_decay: coupled L2 rate, >= 0 (a number or a pytree of per-leaf rates).
      Default 0 (no stage).
    weight_decay_mask: optional pytree or callable selecting the leaves to decay.
    mask: the same, under the name :func:`optax.adamaxw` and
      :func:`optax.add_decayed_weights` give it (pass one of the two).
    mu_dtype: optional dtype of the first moment in the state.
    nu_dtype: optional dtype of the infinity norm in the state.
    fused: one update over all the leaves of a dtype: a Pallas kernel on GPU and TPU,
      the same trajectory; on the CPU the unfused loops, measured fastest (see
      :mod:`adamax_optax.fused`). ``"interpret"`` runs the kernel in the Pallas
      interpreter.
    skip_nonfinite: leave params and state unchanged on a step whose gradients hold NaN
      or inf, counting it (see :func:`skip_nonfinite`). Default False: NaN spreads.

  Returns:
    An :class:`optax.GradientTransformation`.

  Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from adamax_optax import adamax
    >>> opt = adamax(learning_rate=0.003, clip_value=1.0, weight_decay=1e-4)
    >>> params = jnp.array([1.0, 2.0, 3.0])
    >>> state = opt.init(params)
    >>> for _ in range(3):
    ...   updates, state = opt.update(jax.grad(lambda p: (p**2).sum())(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(params)
    [0.99099994 1.9909999  2.991     ]

    A run of :func:`optax.adamax` continued here:

    >>> from adamax_optax import load_state, moments
    >>> theirs = optax.adamax(0.003)
    >>> _, their_state = theirs.update(params, theirs.init(params), params)
    >>> mu, nu, step = moments(their_state)
    >>> state = load_state(adamax(0.003), params, mu=mu, nu=nu, step=step)
    >>> print(step, moments(state)[0])
    1 [0.09909999 0.1991     0.2991    ]

  References:
    Kingma & Ba, 2015, *Adam: A Method for Stochastic Optimization*, section 7.1
    (https://arxiv.org/abs/1412.6980).
  """
  check_range("learning_rate", learning_rate, 0.0, allow_schedule=True)
  check_adamax_hyperparameters(b1, b2, eps)
  if clip_value is not None:
    check_range("clip_value", clip_value, 0.0, low_open=True)
  if weight_decay is None:
    raise TypeError("weight_decay must be a number or a pytree of numbers, got None.")
  if mask is not None and weight_decay_mask is not None:
    raise TypeError(
      "adamax() got both mask= and weight_decay_mask=, two names of one argument: pass one."
    )
  if mask is None:
    mask = weight_decay_mask
  for rate in jax.tree.leaves(weight_decay):
    check_range("weight_decay", rate, 0.0)
  stages = [
    stage_if(gradient_scale is not None, lambda: rescale(gradient_scale)),
    stage_if(clip_value is not None, lambda: trained_only(optax.clip(clip_value))),
    stage_if(
      not is_static_zero(weight_decay),
      lambda: add_decayed_weights(weight_decay, mask),
    ),
  ]
  # The learning rate goes into the Adamax stage: -(lr * direction), what a separate
  # scale_by_learning_rate computes, without an update buffer between two stages.
  stages.append(
    scale_by_adamax(
      b1,
      b2,
      eps,
      eps_placement=eps_placement,
      learning_rate=learning_rate,
      mu_dtype=mu_dtype,
      nu_dtype=nu_dtype,
      fused=fused,
    )
  )
  # With no stage before scale_by_adamax this is optax.adamax, bit for bit wherever it
  # stands in a chain: rounding the entry would move what XLA contracts in its arithmetic.
  plain = gradient_scale is None and clip_value is None and is_static_zero(weight_decay)
  settings = PresetSettings(
    framework="optax", skip_nonfinite=skip_nonfinite, round_at_entry=not plain
  )
  return assemble(lambda _: optax.chain(*stages), settings)


def adamaxw(
  learning_rate: optax.ScalarOrSchedule,
  b1: jax.typing.ArrayLike = 0.9,
  b2: jax.typing.ArrayLike = 0.999,
  eps: jax.typing.ArrayLike = 1e-8,
  weight_decay: jax.typing.ArrayLike = 1e-4,
  mask: Any | Callable[[Params], Any] | None = None,
  *,
  mu_dtype: jax.typing.DTypeLike | None = None,
  nu_dtype: jax.typing.DTypeLike | None = None,
  skip_nonfinite: bool = False,
) -> optax.GradientTransformation:
  r"""Adamax with decoupled weight decay: :func:`optax.adamaxw`, bit for bit.

  .. math::

    m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
    u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon), \quad
    w_t = w_{t-1} - \alpha_t \left(\frac{m_t}{(1-\beta_1^t)\, u_t}
      + \lambda w_{t-1}\right)

  The chain is :func:`scale_by_adamax` (the ``OPTAX`` recipe), the decay added to the
  direction, and :func:`optax.scale_by_learning_rate`, with the operations in optax's
  order, so that under ``jax.jit`` XLA computes the same bits as ``optax.adamaxw``.

  Args:
    learning_rate: a float or an optax schedule (called with 0 on the first step).
    b1: first-moment decay, in [0, 1). Default 0.9.
    b2: infinity-norm decay, in [0, 1]. Default 0.999.
    eps: epsilon, >= 0, added to ``|g|`` inside the max. Default 1e-8.
    weight_decay: :math:`\lambda`, >= 0, multiplied by the learning rate (optax's
      convention, not PyTorch's ``AdamW``): a number, a pytree of per-parameter rates or
      a schedule ``count -> rate`` (called with 0 on the first step, as optax calls it).
      Default 1e-4.
    mask: optional pytree or callable selecting the leaves to decay.
    mu_dtype: optional dtype of the first moment in the state.
    nu_dtype: optional dtype of the infinity norm in the state.
    skip_nonfinite: leave params and state unchanged on a step whose gradients hold NaN
      or inf, counting it (see :func:`skip_nonfinite`).

  Returns:
    An :class:`optax.GradientTransformation`.

  Example:
    >>> import jax.numpy as jnp, optax
    >>> from adamax_optax import adamaxw
    >>> opt = adamaxw(learning_rate=0.1, weight_decay=0.5)
    >>> params = jnp.array([1.0, -2.0])
    >>> updates, _ = opt.update(jnp.zeros(2), opt.init(params), params)
    >>> print(updates)
    [-0.05  0.1 ]

  References:
    Loshchilov & Hutter, 2019, *Decoupled Weight Decay Regularization*
    (https://arxiv.org/abs/1711.05101); Kingma & Ba, 2015, section 7.1.
  """
  check_range("learning_rate", learning_rate, 0.0, allow_schedule=True)
  check_adamax_hyperparameters(b1, b2, eps)
  opt = optax.chain(
    scale_by_adamax(b1, b2, eps, mu_dtype=mu_dtype, nu_dtype=nu_dtype),
    add_decayed_weights(weight_decay, mask, fused=True),
    optax.scale_by_learning_rate(learning_rate),
  )
  # optax.adamaxw's bits wherever it stands, as the plain alias (see adamax above).
  settings = PresetSettings(framework="optax", skip_nonfinite=skip_nonfinite, round_at_entry=False)
  return assemble(lambda _: opt, settings)


__all__ = ["adamax", "adamaxw"]
