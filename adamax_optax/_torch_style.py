"""The PyTorch-style Adamax chain that ``torch.optim.Adamax`` and MindSpore's
``experimental.optim.Adamax`` (which copies PyTorch's interface) share.

Both wings build their presets from :func:`torch_style_chain`; only the arithmetic
recipe and how the decay is rounded differ.
"""

from collections.abc import Mapping

import jax
import numpy as np
import optax

from adamax_optax import arithmetic as arith
from adamax_optax._preset import stage_if
from adamax_optax.rescale import negate_gradients
from adamax_optax.scale_by_adamax import scale_by_adamax
from adamax_optax.validation import is_static_zero
from adamax_optax.weight_decay import add_decayed_weights


def torch_style_chain(
  settings: Mapping,
  recipe: arith.Arithmetic,
  *,
  fused_decay: bool,
  vector_chunk: int | None = None,
  mu_dtype: jax.typing.DTypeLike | None = None,
  nu_dtype: jax.typing.DTypeLike | None = None,
) -> optax.GradientTransformation:
  """``maximize -> coupled weight decay -> Adamax`` with epsilon inside the max on |g|.

  ``settings`` has PyTorch's keys: ``lr``, ``betas``, ``eps``, ``weight_decay`` and
  ``maximize``. The gradient is negated before the decay is added, and the decay stage
  is left out for a weight decay of exactly 0, as PyTorch and MindSpore do. ``mu_dtype``
  and ``nu_dtype`` are the state dtypes (see :func:`scale_by_adamax`); ``vector_chunk``
  how the decay treats 16-bit leaves (see :func:`add_decayed_weights`).
  """
  b1, b2 = settings["betas"]
  maximize, weight_decay = settings["maximize"], settings["weight_decay"]
  stages = [
    stage_if(
      not (isinstance(maximize, (bool, int)) and not maximize),
      lambda: negate_gradients(maximize),
    ),
    stage_if(
      not is_static_zero(weight_decay),
      lambda: add_decayed_weights(weight_decay, fused=fused_decay, vector_chunk=vector_chunk),
    ),
  ]
  stages.append(
    scale_by_adamax(
      b1,
      b2,
      settings["eps"],
      eps_placement="max_grad",
      arithmetic=recipe,
      learning_rate=settings["lr"],
      mu_dtype=mu_dtype,
      nu_dtype=nu_dtype,
    )
  )
  return optax.chain(*stages)


def check_maximize(maximize) -> None:
  """``maximize`` is a flag: a bool, an int or a 0-d array (traced under jit)."""
  if isinstance(maximize, (bool, int, np.bool_, np.integer)):
    return
  if isinstance(maximize, (np.ndarray, jax.Array)) and np.ndim(maximize) == 0:
    return
  raise TypeError(f"maximize must be a bool, got {type(maximize).__name__}: {maximize!r}.")


__all__ = ["check_maximize", "torch_style_chain"]
