"""``paddle.regularizer``'s mirror: ``L1Decay`` and ``L2Decay``, and ``ParamAttr``'s
per-parameter learning rate, regularizer and ``need_clip``.

Paddle adds a regularizer's term to the gradient before the Adamax step (after
``grad_clip``): ``g + coeff * p`` (``L2Decay``, what a float ``weight_decay`` means) or
``g + coeff * sign(p)`` (``L1Decay``), the term rounded to float32 before the addition.
Where a parameter's regularizer comes from: its ``ParamAttr`` when the optimizer gets a
plain parameter list, its group's ``weight_decay`` when it gets groups (a group without
one, or with ``None``, takes the optimizer's), else the optimizer's ``weight_decay``.
"""

import dataclasses
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import optax

from adamax_optax._leaves import SparseRows, is_sparse, is_trained
from adamax_optax.param_groups import leaf_names
from adamax_optax.validation import check_range, is_python_number, require_params
from adamax_optax.weight_decay import add_decayed_weights


def _check_coeff(cls: str, coeff) -> None:
  if not is_python_number(coeff) or isinstance(coeff, bool):
    raise TypeError(f"{cls}(coeff) takes a float, got {coeff!r}.")
  check_range(f"{cls}.coeff", coeff, 0.0)


@dataclasses.dataclass(frozen=True)
class L2Decay:
  r"""Paddle's ``L2Decay(coeff)``: :math:`g \leftarrow g + \mathrm{f32}(c\, p)`.

  The same as a float ``weight_decay=coeff``.

  Example:
    >>> from adamax_optax.paddle import regularizer
    >>> from adamax_optax.paddle.optimizer import Adamax
    >>> opt = Adamax(learning_rate=0.01, weight_decay=regularizer.L2Decay(1e-4))
  """

  coeff: float = 0.0

  def __post_init__(self):
    _check_coeff("L2Decay", self.coeff)

  def stage(self, mask=None) -> optax.GradientTransformation:
    """The transformation adding this term to the gradients ``mask`` selects."""
    return add_decayed_weights(self.coeff, mask)


@dataclasses.dataclass(frozen=True)
class L1Decay:
  r"""Paddle's ``L1Decay(coeff)``: :math:`g \leftarrow g + c\, \mathrm{sign}(p)`.

  The term is :math:`\pm c` in float32 (and +0 for a zero parameter, as Paddle's
  ``scale(sign(p), c, bias=0.0)`` gives).

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.paddle.regularizer import L1Decay
    >>> p = jnp.array([2.0, -3.0, 0.0])
    >>> print(L1Decay(0.5).stage().update(jnp.zeros(3), None, p)[0])
    [ 0.5 -0.5  0. ]
  """

  coeff: float = 0.0

  def __post_init__(self):
    _check_coeff("L1Decay", self.coeff)

  def stage(self, mask=None) -> optax.GradientTransformation:
    """The transformation adding this term to the gradients ``mask`` selects."""
    return _add_l1_decay(self.coeff, mask)


Regularizer = L1Decay | L2Decay


def _add_l1_decay(coeff: float, mask) -> optax.GradientTransformation:
  def update_fn(updates, state, params=None):
    require_params(params)

    def leaf(g, w, decays):
      if is_sparse(g):  # only the touched rows, as for L2
        return SparseRows(g.indices, leaf(g.values, w[g.indices], decays))
      if not (decays and is_trained(g) and is_trained(w)):
        return g
      # Paddle's scale(sign(p), c, bias=0.0): exact, and +0 (not -0) for p = -0.0.
      term = jnp.sign(w) * jnp.asarray(coeff, g.dtype)
      term = jnp.where(term == 0, jnp.zeros_like(term), term)
      return (g + term).astype(g.dtype)

    flags = jax.tree.map(lambda _: True, params) if mask is None else mask(params)
    return jax.tree.map(leaf, updates, params, flags, is_leaf=is_sparse), state

  return optax.GradientTransformation(lambda params: optax.EmptyState(), update_fn)


def regularization(regularizer_of: Callable[[str], Regularizer | None], distinct):
  """Each leaf's regularizer term added to its gradient, looked up by parameter name.

  ``distinct`` lists every regularizer ``regularizer_of`` can give (besides ``None``);
  each becomes one stage over the leaves that have it, so a leaf gets exactly one term.
  """

  def mask_for(regularizer):
    def mask(params):
      flags = [regularizer_of(name) == regularizer for name in leaf_names(params)]
      return jax.tree.unflatten(jax.tree.structure(params), flags)

    return mask

  return optax.chain(*(r.stage(mask_for(r)) for r in distinct))


@dataclasses.dataclass(frozen=True)
class ParamAttr:
  """Paddle's ``ParamAttr``, the parts the optimizer reads.

  Give them by parameter name: ``paddle_adamax(param_attrs={"fc/w": ParamAttr(...)})``.

  Attributes:
    learning_rate: multiplier of the optimizer's rate for this parameter (float32
      product, as Paddle), default 1.0. A parameter group's ``learning_rate``
      replaces it (as Paddle's ``_add_param_group`` does).
    regularizer: ``L1Decay``, ``L2Decay`` or ``None`` (default: the optimizer's
      ``weight_decay``). A parameter group's ``weight_decay`` replaces it.
    need_clip: whether ``grad_clip`` clips this parameter's gradient (default True);
      a global-norm clip leaves it out of the norm too.
  """

  learning_rate: float = 1.0
  regularizer: Regularizer | None = None
  need_clip: bool = True

  def __post_init__(self):
    if not is_python_number(self.learning_rate) or isinstance(self.learning_rate, bool):
      raise TypeError(f"ParamAttr.learning_rate takes a float, got {self.learning_rate!r}.")
    check_range("ParamAttr.learning_rate", self.learning_rate, 0.0)
    if self.regularizer is not None and not isinstance(self.regularizer, (L1Decay, L2Decay)):
      raise TypeError(
        "ParamAttr.regularizer must be adamax_optax.paddle.regularizer.L1Decay or L2Decay "
        f"or None, got {self.regularizer!r}."
      )
    if not isinstance(self.need_clip, bool):
      raise TypeError(f"ParamAttr.need_clip must be a bool, got {self.need_clip!r}.")


def param_attrs_by_name(param_attrs: Mapping | None) -> dict[str, ParamAttr]:
  """``param_attrs`` checked: parameter name -> :class:`ParamAttr` (or a dict of its
  fields)."""
  if param_attrs is None:
    return {}
  if not isinstance(param_attrs, Mapping):
    raise TypeError(
      f"param_attrs must be a dict of parameter name -> ParamAttr, got {param_attrs!r}."
    )
  out = {}
  for name, attr in param_attrs.items():
    if not isinstance(name, str):
      raise TypeError(f"param_attrs keys must be parameter names (str), got {name!r}.")
    if isinstance(attr, Mapping):
      unknown = sorted(set(attr) - {"learning_rate", "regularizer", "need_clip"})
      if unknown:
        raise ValueError(
          f"param_attrs[{name!r}] has unknown keys {unknown}; allowed: 'learning_rate', "
          "'regularizer', 'need_clip'."
        )
      attr = ParamAttr(**attr)
    if not isinstance(attr, ParamAttr):
      raise TypeError(
        f"param_attrs[{name!r}] must be a ParamAttr or a dict of its fields, got {attr!r}."
      )
    out[name] = attr
  return out


def need_clip_mask(param_attrs: Mapping[str, ParamAttr]) -> Callable | None:
  """``mask(params)``: a pytree of bools, False where ``ParamAttr.need_clip`` is False;
  ``None`` when every parameter is clipped. For ``optax.masked(grad_clip, mask)``."""
  if all(attr.need_clip for attr in param_attrs.values()):
    return None

  def mask(params):
    names = leaf_names(params)
    flags = [param_attrs[n].need_clip if n in param_attrs else True for n in names]
    return jax.tree.unflatten(jax.tree.structure(params), flags)

  return mask


__all__ = [
  "L1Decay",
  "L2Decay",
  "ParamAttr",
  "Regularizer",
  "need_clip_mask",
  "param_attrs_by_name",
  "regularization",
]
