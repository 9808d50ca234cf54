"""Keras 3's Adamax, exactly: ``keras_adamax`` (``keras.optimizers.Adamax``, 3.x).

Keras checks none of Adamax's hyperparameters; this preset rejects the values for which
the update is undefined, naming the argument and the allowed range.
"""

import jax
import optax

from adamax_optax import arithmetic as arith
from adamax_optax._preset import finish, stage_if
from adamax_optax.scale_by_adamax import scale_by_adamax
from adamax_optax.validation import check_range, renamed_keywords
from adamax_optax.weight_decay import add_decoupled_weight_decay


@renamed_keywords(lr="learning_rate", beta1="beta_1", beta2="beta_2", eps="epsilon")
def keras_adamax(
  learning_rate: optax.ScalarOrSchedule = 0.001,
  beta_1: float = 0.9,
  beta_2: float = 0.999,
  epsilon: float = 1e-7,
  weight_decay: float | None = None,
  *,
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

  Args:
    learning_rate: :math:`\eta`, default 0.001, >= 0: a number or an optax schedule
      (called with Keras's ``iterations``, 0 on the first step).
    beta_1: in [0, 1), default 0.9.
    beta_2: in [0, 1], default 0.999.
    epsilon: >= 0, default 1e-7 (Keras's default, not 1e-8).
    weight_decay: :math:`\lambda` >= 0, or ``None`` (default) for none.
    mu_dtype: optional dtype of m in the state (e.g. ``jnp.bfloat16``, half the memory).
    nu_dtype: optional dtype of u in the state. With either, the step computes in
      float32 and rounds once on store (see :func:`scale_by_adamax`); parity with the
      framework then holds only to that rounding.
    skip_nonfinite: leave params and state unchanged on a step whose gradients hold NaN
      or inf, counting it (see :func:`skip_nonfinite`). Default False: NaN spreads, as in
      the framework.

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

  References:
    Kingma & Ba, 2015, section 7.1; Keras ``keras.optimizers.Adamax``
    (https://keras.io/api/optimizers/adamax/).
  """
  check_range("learning_rate", learning_rate, 0.0, allow_schedule=True)
  check_range("beta_1", beta_1, 0.0, 1.0, high_open=True)
  check_range("beta_2", beta_2, 0.0, 1.0)
  check_range("epsilon", epsilon, 0.0)
  adamax_step = scale_by_adamax(
    beta_1,
    beta_2,
    epsilon,
    eps_placement="denominator",
    arithmetic=arith.KERAS,
    learning_rate=learning_rate,
    mu_dtype=mu_dtype,
    nu_dtype=nu_dtype,
  )
  if weight_decay is not None:
    check_range("weight_decay", weight_decay, 0.0)
  decay = stage_if(
    weight_decay is not None, lambda: add_decoupled_weight_decay(weight_decay, learning_rate)
  )
  return finish(optax.chain(adamax_step, decay), skip_nonfinite=skip_nonfinite)


__all__ = ["keras_adamax"]
