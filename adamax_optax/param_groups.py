"""Parameter names and per-parameter hyperparameters (MXNet multipliers, groups).

A parameter's *index* is its position in ``jax.tree_util.tree_leaves(params)`` and its
*name* is its pytree path joined with ``"/"`` (dict keys, attribute names, sequence
indices), e.g. ``"Dense_0/kernel"``. :func:`grouped` runs one transformation per distinct
set of hyperparameters, the way MXNet's ``lr_mult`` and framework parameter groups do;
:func:`with_param_groups` reads PyTorch-style ``param_groups`` lists into it.
"""

import dataclasses
import numbers
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import Literal

import jax
import jax.numpy as jnp
import optax

from adamax_optax._typing import Params


def _key_name(key) -> str:
  for attr in ("key", "name", "idx"):
    if hasattr(key, attr):
      return str(getattr(key, attr))
  return str(key)


def _is_box(key) -> bool:
  """The ``.value`` attribute of a box such as ``nnx.Variable`` or ``nn.Partitioned``."""
  return isinstance(key, jax.tree_util.GetAttrKey) and key.name == "value"


def leaf_names(params, is_leaf: Callable | None = None) -> list[str]:
  """The names of the leaves of ``params``, in ``tree_leaves`` order.

  A trailing ``.value`` attribute (Flax's ``nnx.Variable`` and ``nn.Partitioned`` boxes)
  is left out, so a parameter has the same name whether its tree holds boxes or arrays
  (``nnx.Optimizer`` initializes on the one and updates on the other). ``is_leaf`` is
  :func:`jax.tree.leaves`' (to name empty nodes such as ``optax.MaskedNode`` too).
  """
  paths = jax.tree_util.tree_flatten_with_path(params, is_leaf=is_leaf)[0]
  return [
    "/".join(_key_name(k) for k in (path[:-1] if path and _is_box(path[-1]) else path))
    for path, _ in paths
  ]


def per_leaf_values(
  option: str,
  values: Mapping | None,
  names: list[str],
  default: Callable[[int, str], float] = lambda index, name: 1.0,
) -> list:
  """MXNet's lookup for each leaf: by index, then by name, else ``default``.

  Raises a ValueError naming ``option`` for an index out of range or an unknown name.
  """
  values = dict(values or {})
  for key in values:
    if isinstance(key, bool) or not isinstance(key, (int, str)):
      raise TypeError(f"{option} keys must be int indices or str names, got {key!r}.")
    if isinstance(key, int) and not 0 <= key < len(names):
      raise ValueError(
        f"{option} has index {key}, but there are {len(names)} parameters "
        f"(indices 0 to {len(names) - 1})."
      )
    if isinstance(key, str) and key not in names:
      raise ValueError(f"{option} names unknown parameter {key!r}; known names: {names}.")
  out = []
  for index, name in enumerate(names):
    if index in values:
      out.append(values[index])
    elif name in values:
      out.append(values[name])
    else:
      out.append(default(index, name))
  return out


def grouped(
  build: Callable[[Hashable], optax.GradientTransformation],
  labels: Callable[[Params], list[Hashable]],
) -> optax.GradientTransformation:
  """One transformation per label, each on its own leaves (like :func:`optax.partition`).

  ``labels(params)`` gives one hashable label per leaf, in ``tree_leaves`` order; it must
  depend only on the tree's structure and leaf names, never on values, so that it can be
  recomputed from the gradients inside ``update``. ``build(label)`` makes the
  transformation of that label's leaves.
  """

  def partition(tree):
    leaf_labels = labels(tree)
    unique = sorted(set(leaf_labels), key=repr)
    ids = {label: str(i) for i, label in enumerate(unique)}
    label_tree = jax.tree.unflatten(jax.tree.structure(tree), [ids[label] for label in leaf_labels])
    return optax.partition({ids[label]: build(label) for label in unique}, label_tree)

  def init_fn(params):
    return partition(params).init(params)

  def update_fn(updates, state, params=None, **extra_args):
    return partition(updates).update(updates, state, params, **extra_args)

  return optax.GradientTransformationExtraArgs(init_fn, update_fn)


ParamSelector = Sequence[str] | str | Callable[[str, object], bool]


def _check_groups(param_groups, allowed: Sequence[str]) -> list[Mapping]:
  if isinstance(param_groups, (Mapping, str)) or not isinstance(param_groups, Sequence):
    raise TypeError(
      f"param_groups must be a list of dicts, each with a 'params' entry, got {param_groups!r}."
    )
  for i, group in enumerate(param_groups):
    if not isinstance(group, Mapping):
      raise TypeError(f"param_groups[{i}] must be a dict, got {type(group).__name__}.")
    if "params" not in group:
      raise ValueError(f"param_groups[{i}] has no 'params' entry.")
    unknown = sorted(set(group) - {"params", *allowed})
    if unknown:
      raise ValueError(
        f"param_groups[{i}] has unknown keys {unknown}; allowed: ['params', "
        f"{', '.join(repr(k) for k in allowed)}]."
      )
    selector = group["params"]
    names = [selector] if isinstance(selector, str) else selector
    if not callable(selector) and not (
      isinstance(names, Sequence) and all(isinstance(n, str) for n in names)
    ):
      raise TypeError(
        f"param_groups[{i}]['params'] must be a list of parameter names or a callable "
        f"(name, leaf) -> bool, got {selector!r}."
      )
  return list(param_groups)


def _selects(selector: ParamSelector, name: str, leaf) -> bool:
  if callable(selector):
    return bool(selector(name, leaf))
  return name in ([selector] if isinstance(selector, str) else selector)


def group_labels(param_groups: Sequence[Mapping]) -> Callable[[Params], list[int]]:
  """``labels(tree)``: each leaf's group index, or -1 for a leaf in no group.

  Raises a ValueError for a name that is not a parameter and for a parameter that two
  groups select (MindSpore and PyTorch refuse that too).
  """

  def labels(tree) -> list[int]:
    names = leaf_names(tree)
    for i, group in enumerate(param_groups):
      selector = group["params"]
      if callable(selector):
        continue
      for name in [selector] if isinstance(selector, str) else selector:
        if name not in names:
          raise ValueError(
            f"param_groups[{i}]['params'] names unknown parameter {name!r}; known names: {names}."
          )
    out = []
    for name, leaf in zip(names, jax.tree.leaves(tree), strict=True):
      hits = [i for i, g in enumerate(param_groups) if _selects(g["params"], name, leaf)]
      if len(hits) > 1:
        raise ValueError(
          f"parameter {name!r} is in more than one group (param_groups indices {hits}); "
          "a parameter may belong to one group only."
        )
      out.append(hits[0] if hits else -1)
    return out

  return labels


def frozen() -> optax.GradientTransformation:
  """Zero updates and no state: the parameters a framework's optimizer was not given.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.param_groups import frozen
    >>> print(frozen().update(jnp.array([2.0, -4.0]), None)[0])
    [0. 0.]
  """

  # Imported here: _leaves names leaves with this module's leaf_names.
  from adamax_optax._leaves import SparseRows, is_sparse

  def update_fn(updates, state, params=None):
    def zero(g, p=None):
      if is_sparse(g):
        return SparseRows(g.indices, jnp.zeros_like(g.values))
      if g.dtype == jax.dtypes.float0:  # an integer parameter: a zero in its own dtype
        return jnp.zeros_like(p) if p is not None else g
      return jnp.zeros_like(g)

    if params is None:
      return jax.tree.map(zero, updates, is_leaf=is_sparse), state
    return jax.tree.map(zero, updates, params, is_leaf=is_sparse), state

  return optax.GradientTransformation(lambda params: optax.EmptyState(), update_fn)


def checking_trees(
  opt: optax.GradientTransformation, check: Callable[[Params], None]
) -> optax.GradientTransformationExtraArgs:
  """``opt`` calling ``check(tree)`` on the params at ``init`` and on the updates (at
  trace time under ``jax.jit``): for rules on parameter names that need the tree."""

  def init_fn(params):
    check(params)
    return opt.init(params)

  def update_fn(updates, state, params=None, **extra_args):
    check(updates)
    return optax.with_extra_args_support(opt).update(updates, state, params, **extra_args)

  return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def _is_pair(item) -> bool:
  return isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)


def _join(prefix: str, name: str) -> str:
  return "/".join(part for part in (prefix, name) if part)


def ordered_leaf_names(params, prefix: str = "") -> list[str]:
  """The names of the leaves of ``params`` in the order ``params`` holds them.

  Where :func:`leaf_names` follows ``tree_leaves`` (a dict's keys sorted), this keeps a
  dict's insertion order, as a framework's ordered parameter dict does
  (``model.named_parameters()``, ``net.parameters_dict()``); a list of ``(name, array)``
  pairs gives its names in list order. Other nodes (lists, tuples, dataclasses) keep
  their ``tree_leaves`` order, which is already theirs.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.param_groups import leaf_names, ordered_leaf_names
    >>> params = {"fc1": {"weight": jnp.ones(2), "bias": jnp.ones(2)}}
    >>> ordered_leaf_names(params), leaf_names(params)
    (['fc1/weight', 'fc1/bias'], ['fc1/bias', 'fc1/weight'])
  """
  if isinstance(params, Mapping):
    names = []
    for key, subtree in params.items():
      names.extend(ordered_leaf_names(subtree, _join(prefix, _key_name(key))))
    return names
  if isinstance(params, (list, tuple)) and params and all(_is_pair(item) for item in params):
    return [_join(prefix, name) for name, _ in params]
  return [_join(prefix, name) for name in leaf_names(params)]


def is_framework_params(value) -> bool:
  """Whether a framework-shaped constructor's first argument is its parameters.

  The parameters are a dict (a pytree of arrays, or an ordered name -> array dict), a
  list or tuple of group dicts, of ``(name, array)`` pairs or of arrays, or an iterator
  (``model.named_parameters()``-like). A number, an array, a schedule (a callable) and a
  list of numbers (MindSpore's per-step learning rates) are a learning rate.
  """
  if isinstance(value, Mapping):
    return True
  if isinstance(value, (list, tuple)):
    scalar = lambda x: isinstance(x, numbers.Real) or (hasattr(x, "shape") and not x.shape)
    return not value or not all(scalar(item) for item in value)
  return isinstance(value, Iterator)


@dataclasses.dataclass(frozen=True)
class FrameworkParams:
  """A framework-shaped constructor's parameters, read by :func:`read_framework_params`.

  Attributes:
    order: the parameter names in the order the framework numbers them (the groups'
      names one after the other), or None where a group selects by a callable.
    param_groups: the groups (each ``params`` a list of names, or the callable), or None
      for parameters given as one tree or list.
  """

  order: tuple[str, ...] | None
  param_groups: list[dict] | None


def read_framework_params(params, argument: str = "params") -> FrameworkParams:
  """The order and groups of the parameters handed to a framework-shaped constructor.

  ``params`` is a pytree of arrays (a dict keeps its insertion order, see
  :func:`ordered_leaf_names`), a list of ``(name, array)`` pairs (``init`` then takes
  ``dict(pairs)``), or a list of group dicts whose ``"params"`` is a subtree with the
  full tree's paths, a list of ``(name, array)`` pairs, a list of names, or a callable
  ``(name, leaf) -> bool`` (as in :func:`with_param_groups`); the groups' other keys
  are their settings. An iterator is read once into a list. ``argument`` names the
  argument in errors.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.param_groups import read_framework_params
    >>> params = {"w": jnp.ones(2), "b": jnp.ones(2)}
    >>> read = read_framework_params([{"params": {"w": params["w"]}}, {"params": ["b"]}])
    >>> read.order, read.param_groups
    (('w', 'b'), [{'params': ['w']}, {'params': ['b']}])
  """
  if isinstance(params, Iterator):
    params = list(params)
  if isinstance(params, (list, tuple)) and not params:
    raise ValueError(
      f"{argument} is an empty parameter list; pass the parameters (a pytree, a list of "
      "(name, array) pairs, or a list of group dicts with a 'params' entry)."
    )
  is_groups = isinstance(params, (list, tuple)) and all(isinstance(g, Mapping) for g in params)
  if not is_groups:
    return FrameworkParams(tuple(ordered_leaf_names(params)), None)
  groups, order = [], []
  for index, group in enumerate(params):
    if "params" not in group:  # e.g. MindSpore's {"order_params": [...]}: the preset's own
      groups.append(dict(group))
      continue
    selector = group["params"]
    if isinstance(selector, str):
      names = [selector]
    elif callable(selector):
      names = selector
    elif isinstance(selector, Sequence) and all(isinstance(n, str) for n in selector):
      names = list(selector)
    else:
      names = ordered_leaf_names(selector)
    if not names and not callable(names):
      raise ValueError(f"{argument}[{index}]['params'] holds no parameters.")
    groups.append({**group, "params": names})
    order = None if order is None or callable(names) else [*order, *names]
  return FrameworkParams(None if order is None else tuple(order), groups)


Ungrouped = Literal["train", "frozen"]
UNGROUPED = ("train", "frozen")


def check_ungrouped(ungrouped) -> None:
  """``ungrouped`` is ``"train"`` or ``"frozen"``."""
  if not isinstance(ungrouped, str) or ungrouped not in UNGROUPED:
    raise ValueError(
      f"ungrouped must be 'train' (parameters in no group train with the optimizer's own "
      f"values) or 'frozen' (they are not updated, as in the framework), got {ungrouped!r}."
    )


def with_param_groups(
  build: Callable[[dict], optax.GradientTransformation],
  defaults: dict,
  param_groups: Sequence[Mapping] | None,
  check: Callable[[dict], None],
  *,
  ungrouped: Ungrouped = "train",
  build_ungrouped: Callable[[], optax.GradientTransformation] | None = None,
  keys: Sequence[str] | None = None,
) -> optax.GradientTransformation:
  """``build(settings)`` for every parameter group, from a framework's ``param_groups``.

  Each group is a dict with ``params`` (a list of parameter names or a callable
  ``(name, leaf) -> bool``; the leaf is the parameter at ``init`` and the gradient at
  ``update``, so select by name, shape or dtype, never by value) and any of ``keys``
  (by default the keys of ``defaults``); a missing key takes ``defaults``.
  ``check(overrides)`` validates one group's keys; its error is re-raised with the
  group's index in front.

  The parameters in no group (all of them without groups) get ``build_ungrouped()``,
  by default ``build(defaults)``: the optimizer's own values. With groups and
  ``ungrouped="frozen"`` they get zero updates and no state instead (:func:`frozen`),
  as in PyTorch and MindSpore, which update only the parameters they were given.
  """
  check_ungrouped(ungrouped)
  if build_ungrouped is None:
    build_ungrouped = lambda: build(defaults)
  if param_groups is None or (isinstance(param_groups, Sequence) and len(param_groups) == 0):
    return build_ungrouped()
  groups = _check_groups(param_groups, tuple(defaults if keys is None else keys))
  settings = []
  for i, group in enumerate(groups):
    overrides = {k: v for k, v in group.items() if k != "params"}
    try:
      check(overrides)
    except (TypeError, ValueError) as error:
      raise type(error)(f"param_groups[{i}]: {error}") from None
    settings.append({**defaults, **overrides})

  def build_label(label):
    if label >= 0:
      return build(settings[label])
    return frozen() if ungrouped == "frozen" else build_ungrouped()

  return grouped(build_label, group_labels(groups))


__all__ = [
  "UNGROUPED",
  "FrameworkParams",
  "Ungrouped",
  "check_ungrouped",
  "checking_trees",
  "frozen",
  "group_labels",
  "grouped",
  "is_framework_params",
  "leaf_names",
  "ordered_leaf_names",
  "per_leaf_values",
  "read_framework_params",
  "with_param_groups",
]
