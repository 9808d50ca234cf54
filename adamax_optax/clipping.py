r"""Gradient clipping as each framework computes it: by value, by norm, by global norm.

The frameworks agree on what clipping means and disagree on every rounding: how the
squared norm is summed, whether the total is a sum of squares or a norm of per-tensor
norms, and how the scale factor is formed. With :math:`n` the norm and :math:`c` the
threshold, in float32:

====================  =================================================================
``scaling``           clipped gradient
====================  =================================================================
``"torch"``           :math:`g \cdot \min(c \cdot \mathrm{rcp}(n + 10^{-6}),\ 1)`
                      (PyTorch's ``clip_grad_norm_``; always multiplies, also by 1)
``"mxnet"``           :math:`g \cdot \min(c / (n + 10^{-8}),\ 1)`
                      (``gluon.utils.clip_global_norm``)
``"mxnet2"``          the same, with subnormal results flushed to (signed) zero, as
                      MXNet 2.0's CPU kernels run; for a float16 :math:`g` the factor
                      is rounded to float16 first (``arr *= scale.item()``)
``"mindspore"``       :math:`(g \cdot c) / (n \text{ if } n \ge c \text{ else } c)`
                      (``ops.clip_by_global_norm``: below the threshold :math:`(g c)/c`,
                      which may differ from :math:`g` by an ulp)
``"paddle"``          :math:`g \cdot (c / \max(n, c))` (``ClipGradByGlobalNorm``)
``"paddle_norm"``     :math:`g \cdot (1 \text{ if } n \le c \text{ else } c / n)`
                      (``ClipGradByNorm``'s ``clip_by_norm`` kernel)
``"keras"``           :math:`(g \cdot c) \cdot (1 / \max(n, c))` (Keras's ``clipnorm``:
                      XLA computes its division by the norm as this multiply; for a
                      0-d tensor a true division :math:`(g c) / \max(n, c)`)
``"keras_compiled"``  :math:`g \cdot (c \cdot (1 / \max(n, c)))` (Keras's ``clipnorm`` in
                      the step ``model.fit`` compiles: XLA gathers the two scalar
                      factors into one; for a 0-d tensor as ``"keras"``)
``"keras_global"``    :math:`g \cdot (c \cdot \min(1/n, 1/c) + (n - n))`
                      (Keras's ``global_clipnorm``: NaN everywhere when :math:`n` is not
                      finite)
``"keras_global_``    the same, its product left unrounded for the next stage's
``compiled"``         ``g - m`` (the step ``model.fit`` compiles, where XLA contracts
                      the two into a fused multiply-add; so does ``"keras_compiled"``)
``"optax"``           :math:`g` if :math:`n < c` else :math:`(g / n)\, c`
                      (:func:`optax.clip_by_global_norm`)
====================  =================================================================

Every stage here is stateless (:class:`optax.EmptyState`) and jit-safe; put it in an
:func:`optax.chain` before an optimizer, or pass it to a preset that clips inside
(Keras's ``clipnorm``, Paddle's ``grad_clip``). The wings name them as the frameworks do
(``adamax_optax.torch.nn.utils.clip_grad_norm_`` and so on).

The order of a float32 sum changes its last bits, and so the clipped gradients. The
``order`` of a norm says how the squares of one tensor are summed: ``"xla"`` (XLA's own
reduction of the rounded squares, fastest; Keras's run eagerly on the JAX backend),
``"xla_fused"`` (the squares contracted into XLA's reduction, as in a step that
``model.fit`` compiles), ``"sequential"`` (left to right),
``"pytorch"`` (PyTorch 2's CPU kernel), ``"eigen"`` (Eigen's, in Paddle's CPU kernels;
see :func:`sum_of_squares`), ``"float64"`` (accumulated in double precision and rounded
once, as MindSpore's CPU ``ReduceSum``), ``"onednn"`` (oneDNN's AVX-512 reduction, which
MXNet 2.0's CPU ``square(x).sum()`` runs for float32), ``"openblas"`` (OpenBLAS's
Haswell/Zen ``sdot`` kernel, MXNet 1.x's ``dot(x, x)``), ``"kahan"`` (MXNet 2.0's own CPU
reduction, which its float16 ``square(x).sum()`` runs: squares and result in the tensor's
dtype, the sum compensated in float32) or an int ``L``, a power of two: ``L`` running
float32 lanes (element ``i`` goes to lane ``i mod L``, the tail padded with zeros) then
summed by halving, as a SIMD loop does. Every order but ``"xla"``, ``"xla_fused"`` and
``"float64"`` loops over the tensor: fast on the CPU, slow on GPU and TPU. A global norm
also takes a function of a leaf returning its order (MXNet 2.0 sums float16 arrays with
its own kernel and float32 ones with oneDNN's), and a global-norm stage can take its norm
from a replaceable function, ``norm_fn(leaves) -> scalar``.

The global norm adds the tensors' results one after the other, so the order of the
tensors changes its last bit too. By default it is ``jax.tree.leaves`` order, which
sorts a dict's keys (``fc1.bias`` before ``fc1.weight``); the frameworks add in their
parameter order (``model.parameters()``, a network's parameter list). Give that order
as ``param_order``: the parameter names (the "/"-joined pytree paths, see
:func:`~adamax_optax.param_groups.leaf_names`) in the framework's order, or the
parameters themselves in that order (a dict in insertion order, a list of
``(name, array)`` pairs, a list of group dicts), or a preset's ``opt.param_order``
(see :func:`leaves_in_order`).
"""

import math
from collections.abc import Callable, Sequence
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
import optax

from adamax_optax import _double_float as df
from adamax_optax._leaves import is_sparse, is_trained, reject_sparse
from adamax_optax._rounding import rounded
from adamax_optax.param_groups import leaf_names, read_framework_params
from adamax_optax.validation import check_numeric, check_range, is_python_number

Order = (
  Literal[
    "xla", "xla_fused", "sequential", "pytorch", "eigen", "float64", "onednn", "openblas", "kahan"
  ]
  | int
)
_NAMED_ORDERS = Order.__args__[0].__args__
# Orders whose framework adds the per-tensor sums of a global norm left to right in float32.
_ADDED_IN_ORDER = ("pytorch", "float64", "onednn", "openblas", "kahan")
Combine = Literal["sum_of_squares", "norm_of_norms"]
Scaling = Literal[
  "torch",
  "mxnet",
  "mxnet2",
  "mindspore",
  "paddle",
  "paddle_norm",
  "keras",
  "keras_compiled",
  "keras_global",
  "keras_global_compiled",
  "optax",
]
NormFn = Callable[[list[jax.Array]], jax.Array]


def _check_order(order, per_leaf: bool = False) -> None:
  """Raises for an unknown order; ``per_leaf`` also allows a function of a leaf."""
  if per_leaf and callable(order):
    return
  if isinstance(order, str) and order in _NAMED_ORDERS:
    return
  if isinstance(order, bool) or not isinstance(order, int) or order < 1 or order & (order - 1):
    per_leaf_note = ", or a function of a leaf returning one" if per_leaf else ""
    raise ValueError(
      f"order must be one of {_NAMED_ORDERS} or a lane count that is a power of two "
      f"(8, 16){per_leaf_note}, got {order!r}."
    )


def _check_norm_type(norm_type) -> float:
  check_numeric("norm_type", norm_type)
  p = float(norm_type)
  if not (p > 0 or p == math.inf):
    raise ValueError(f"norm_type must be > 0 or inf (float('inf')), got {norm_type!r}.")
  return p


def _compute_dtype(x: jax.Array):
  return jnp.promote_types(x.dtype, jnp.float32)


def _halving_sum(lanes: jax.Array) -> jax.Array:
  """A SIMD register's horizontal sum: halves added until one lane is left."""
  while lanes.shape[0] > 1:
    half = lanes.shape[0] // 2
    lanes = lanes[:half] + lanes[half:]
  return lanes[0]


_EIGEN_PACKET = 8  # float32 lanes of the AVX builds of Paddle
_EIGEN_LEAF = 1024  # packets per leaf of Eigen's tree reduction


def _eigen_leaf(values: jax.Array) -> jax.Array:
  """Eigen's vectorized sum of at most 8192 values: two packet accumulators over pairs of
  packets, one more packet into the first, the two added, then the scalar tail summed
  from 0 and added to the accumulator's halving sum."""
  size, p = values.shape[0], _EIGEN_PACKET
  packets = size // p
  rows = values[: packets * p].reshape(packets, p)
  acc = jnp.zeros(p, values.dtype)
  if packets >= 2:
    pairs = rows[: packets // 2 * 2].reshape(-1, 2, p)
    both = jax.lax.fori_loop(1, pairs.shape[0], lambda i, acc: acc + pairs[i], pairs[0])
    acc = both[0] + rows[-1] + both[1] if packets % 2 else both[0] + both[1]
  elif packets == 1:
    acc = rows[0]
  tail = jnp.zeros((), values.dtype)
  for i in range(packets * p, size):
    tail = tail + values[i]
  return tail + _halving_sum(acc)


def _eigen_tree(size: int, first: int = 0):
  """Eigen's split of ``size`` values starting at index ``first`` into halves at packet
  boundaries, down to leaves of at most 8192: ``(start, length)`` or ``(left, right)``."""
  p = _EIGEN_PACKET
  if size <= p * _EIGEN_LEAF:
    return (first, size)
  split = p * -(-(first + -(-size // 2)) // p)
  left = min(split - first, size)
  if left == size:
    return (_eigen_tree(left, first),)
  return (_eigen_tree(left, first), _eigen_tree(size - left, split))


def _eigen_sum(values: jax.Array) -> jax.Array:
  """Eigen's full sum reduction, as Paddle's CPU kernels run it: the leaves of
  :func:`_eigen_tree` summed by :func:`_eigen_leaf` (those of one length together, so
  the program does not grow with the tensor), then added back up the tree from 0."""
  tree = _eigen_tree(values.shape[0])
  leaves = []

  def collect(node):
    if isinstance(node[0], int):
      leaves.append(node)
    else:
      for child in node:
        collect(child)

  collect(tree)
  sums = {}
  for length in sorted({length for _, length in leaves}):
    starts = np.array([start for start, n in leaves if n == length])
    batch = values[starts[:, None] + np.arange(length)]  # one gather per leaf length
    totals = jax.vmap(_eigen_leaf)(batch)
    for i, start in enumerate(starts.tolist()):
      sums[start] = totals[i]

  def add_up(node):
    if isinstance(node[0], int):
      return sums[node[0]]
    total = jnp.zeros((), values.dtype) + add_up(node[0])  # Eigen's accumulator starts at 0
    return total + add_up(node[1]) if len(node) == 2 else total

  return add_up(tree)


def _wide_sum(values: jax.Array) -> jax.Array:
  """The sum of float32 ``values`` carried in double precision and rounded once, as
  MindSpore's CPU ``ReduceSum`` accumulates: pairwise, in double-float pairs (about 44
  bits), so it equals the double sum's rounding except within about 2**-40 of a float32
  rounding boundary. Vectorized: log2(size) steps, no loop over the elements."""
  pairs = df.DoubleFloat(values, jnp.zeros_like(values))
  while pairs.hi.shape[0] > 1:
    size = pairs.hi.shape[0]
    if size % 2:
      pairs = df.DoubleFloat(*(jnp.append(part, 0) for part in pairs))
    left = df.DoubleFloat(pairs.hi[0::2], pairs.lo[0::2])
    right = df.DoubleFloat(pairs.hi[1::2], pairs.lo[1::2])
    pairs = df.add(left, right)
  total = df.to_float32(df.DoubleFloat(pairs.hi[0], pairs.lo[0]))
  # An overflowing square makes the pairs' error terms NaN (inf - inf): the sum is inf.
  plain = jnp.sum(values)
  return jnp.where(jnp.isfinite(plain), total, plain)


def _in_order(values: jax.Array) -> jax.Array:
  """The few ``values`` added left to right (unrolled)."""
  total = values[0]
  for value in values[1:]:
    total = total + value
  return total


_ONEDNN_LANES = 16  # float32 lanes of oneDNN's AVX-512 (zmm) kernels


def _ymm_sum(lanes: jax.Array, count: int) -> jax.Array:
  """oneDNN's sum of the first ``count`` of 8 lanes: all 8 folded to 4 (``i + i+4``) then
  added left to right; more than 4: each 4-lane half left to right, then the halves."""
  if count == 8:
    return _in_order(lanes[:4] + lanes[4:])
  if count > 4:
    return _in_order(lanes[:4]) + _in_order(lanes[4:count])
  return _in_order(lanes[:count])


def _zmm_sum(lanes: jax.Array, count: int) -> jax.Array:
  """oneDNN's sum of the first ``count`` of 16 lanes: all 16 folded to 8 (``i + i+8``),
  then as :func:`_ymm_sum`; more than 8: each 8-lane half summed, then the halves."""
  if count == 16:
    return _ymm_sum(lanes[:8] + lanes[8:], 8)
  if count > 8:
    return _ymm_sum(lanes[:8], 8) + _ymm_sum(lanes[8:], count - 8)
  return _ymm_sum(lanes[:8], count)


def _onednn_sum(values: jax.Array) -> jax.Array:
  """oneDNN's ``reduction_sum`` (v2.5, AVX-512): 16 running lanes over the whole vectors;
  the tail's horizontal sum added to lane 0; then the lanes' horizontal sum."""
  size, lanes = values.shape[0], _ONEDNN_LANES
  whole, tail = divmod(size, lanes)
  acc = jnp.zeros(lanes, values.dtype)
  if whole:
    rows = values[: whole * lanes].reshape(whole, lanes)
    acc = jax.lax.fori_loop(0, whole, lambda i, acc: acc + rows[i], acc)
  if tail:
    padded = jnp.zeros(lanes, values.dtype).at[:tail].set(values[whole * lanes :])
    acc = acc.at[0].add(_zmm_sum(padded, tail))
  return _zmm_sum(acc, lanes) if whole else acc[0]


def _openblas_sum_of_squares(x: jax.Array) -> jax.Array:
  """OpenBLAS's ``sdot(x, x)`` (0.3.x, Haswell/Zen kernel): 4 registers of 8 float32 lanes
  over whole blocks of 32 elements, by fused multiply-adds; the registers' halves added,
  then the registers pairwise, then a horizontal add; the tail's rounded squares added
  to that in double precision (double-float pairs, see :func:`_wide_sum`), rounded once."""
  size = x.shape[0]
  blocked = size - size % 32
  total = df.DoubleFloat(jnp.zeros((), x.dtype), jnp.zeros((), x.dtype))
  if blocked:
    rows = x[:blocked].reshape(-1, 4, 8)
    # XLA contracts the square into the accumulation: one fused multiply-add per element.
    acc = jax.lax.fori_loop(
      0, rows.shape[0], lambda i, acc: rows[i] * rows[i] + acc, jnp.zeros((4, 8), x.dtype)
    )
    halves = acc[:, :4] + acc[:, 4:]
    four = (halves[0] + halves[1]) + (halves[2] + halves[3])
    total = df.from_number((four[0] + four[1]) + (four[2] + four[3]))
  tail = df.DoubleFloat(jnp.zeros((), x.dtype), jnp.zeros((), x.dtype))
  for i in range(blocked, size):
    tail = df.add(tail, df.DoubleFloat(rounded(x[i] * x[i]), jnp.zeros((), x.dtype)))
  summed = df.to_float32(df.add(tail, total))
  # An overflowing square makes the pairs' error terms NaN (inf - inf): the sum is inf.
  plain = jnp.sum(rounded(jnp.square(x)))
  return jnp.where(jnp.isfinite(plain), summed, plain)


def _kahan_sum(values: jax.Array) -> jax.Array:
  """MXNet's CPU sum reduction: left to right with Kahan's compensation (no guard for
  infinities: after an overflow ``inf - inf`` makes the next sums NaN, as in MXNet)."""

  def add(i, carry):
    total, compensation = carry
    corrected = values[i] - compensation
    updated = total + corrected
    return updated, (updated - total) - corrected

  zero = jnp.zeros((), values.dtype)
  return jax.lax.fori_loop(0, values.shape[0], add, (zero, zero))[0]


def _ordered_sum(values: jax.Array, order: Order) -> jax.Array:
  """The sum of the 1-d float array ``values`` in the given order."""
  if order in ("xla", "xla_fused"):
    return jnp.sum(values)
  if order == "float64":
    return _wide_sum(values)
  if order == "eigen":
    return _eigen_sum(values)
  if order == "onednn":
    return _onednn_sum(values)
  if order == "kahan":
    return _kahan_sum(values)
  lanes = 1 if order == "sequential" else order
  size = values.shape[0]
  rows = max(1, -(-size // lanes))
  padded = jnp.zeros(rows * lanes, values.dtype).at[:size].set(values).reshape(rows, lanes)
  # One row per iteration: XLA may not reassociate a loop-carried float sum.
  acc = jax.lax.fori_loop(1, rows, lambda i, acc: acc + padded[i], padded[0])
  return _halving_sum(acc)


def _pytorch_sum_of_squares(x: jax.Array) -> jax.Array:
  """PyTorch 2's CPU 2-norm kernel (``norm_two`` over the last dimension, float32): 8
  float32 lanes over whole chunks of 8 (squares rounded, then added), the lanes added
  left to right, then the tail of up to 7 elements left to right: its first 4 squared
  and rounded, the rest by fused multiply-adds (as the compiled loop does)."""
  size = x.shape[0]
  full = size - size % 8
  total = jnp.zeros((), x.dtype)
  if full:
    rows = rounded(jnp.square(x[:full])).reshape(-1, 8)
    lanes = jax.lax.fori_loop(1, rows.shape[0], lambda i, acc: acc + rows[i], rows[0])
    total = lanes[0]
    for j in range(1, 8):
      total = total + lanes[j]
  tail = size - full
  unfused = full + tail // 4 * 4
  for i in range(full, unfused):
    total = total + rounded(x[i] * x[i])
  for i in range(unfused, size):
    total = x[i] * x[i] + total  # XLA contracts this into one fused multiply-add
  return total


def sum_of_squares(x: jax.Array, order: Order = "xla") -> jax.Array:
  r""":math:`\sum_i x_i^2` of one tensor in float32 (or wider), summed in ``order``.

  Each square is rounded before it is added (no fused multiply-add), as the frameworks'
  kernels compute it, except where PyTorch's and OpenBLAS's kernels fuse (``order=
  "pytorch"``, ``"openblas"``). With ``order="kahan"`` the squares and the sum are rounded
  to the tensor's own dtype where it is narrower than float32 (MXNet 2.0's float16 ``square
  (x).sum()``: the squares in float16, their sum compensated in float32, rounded to
  float16).

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.clipping import sum_of_squares
    >>> print(sum_of_squares(jnp.array([0.5, 1.5], jnp.float16), order="kahan"))
    2.5
    >>> print(sum_of_squares(jnp.array([3.0, 4.0]), order="onednn"))
    25.0
  """
  _check_order(order)
  x = jnp.asarray(x)
  compute = _compute_dtype(x)
  if x.size == 0:
    return jnp.zeros((), compute)
  if order == "kahan":
    squares = rounded(jnp.square(x)).reshape(-1).astype(compute)
    return _kahan_sum(squares).astype(x.dtype).astype(compute)
  x = x.astype(compute)
  if order == "pytorch":
    return _pytorch_sum_of_squares(x.reshape(-1))
  if order == "openblas":
    return _openblas_sum_of_squares(x.reshape(-1))
  if order == "xla_fused":  # XLA contracts each square into the reduction's addition
    return jnp.sum(jnp.square(x))
  # Square, then flatten: the reduction XLA emits for this form is the one Keras's
  # eager ``sum(square(x))`` runs (reshaping first changes XLA's summation order).
  return _ordered_sum(rounded(jnp.square(x)).reshape(-1), order)


def _max_abs(x: jax.Array) -> jax.Array:
  """``max |x|`` (NaN if any is NaN, 0 if empty), on the bits: a float compare on the CPU
  takes subnormals for 0, an unsigned compare of the magnitudes' bits is exact."""
  uint = jnp.dtype(f"uint{x.dtype.itemsize * 8}")
  magnitude = jax.lax.bitcast_convert_type(x, uint) & jnp.array(jnp.iinfo(uint).max >> 1, uint)
  return jax.lax.bitcast_convert_type(jnp.max(magnitude, initial=0), x.dtype)


def tensor_norm(x: jax.Array, norm_type: float = 2.0, order: Order = "xla") -> jax.Array:
  r"""The ``norm_type``-norm of one tensor: :math:`\sqrt{\sum x_i^2}`, :math:`\max |x_i|`, or
  :math:`(\sum |x_i|^p)^{1/p}` (for other :math:`p`, summed by XLA)."""
  p = _check_norm_type(norm_type)
  x = jnp.asarray(x)
  if p == math.inf:
    return _max_abs(x.astype(_compute_dtype(x)))
  if p == 2.0:
    return jnp.sqrt(sum_of_squares(x, order))
  a = jnp.abs(x.astype(_compute_dtype(x)))
  return jnp.sum(a**p) ** (1.0 / p)


def global_norm(
  leaves: Sequence[jax.Array],
  norm_type: float = 2.0,
  order: Order = "xla",
  combine: Combine = "sum_of_squares",
) -> jax.Array:
  r"""The norm of several tensors taken as one vector.

  ``combine="sum_of_squares"`` adds the per-tensor sums of squares (in ``order`` too;
  left to right in float32 for ``"pytorch"``, ``"float64"``, ``"onednn"``,
  ``"openblas"``, ``"kahan"`` and a per-leaf order, as PyTorch, MindSpore's ``AddN`` and
  MXNet do) and takes one square root (MXNet, MindSpore, Paddle, Keras);
  ``"norm_of_norms"`` takes each tensor's norm first and then the norm of the vector of
  norms, summed in ``order`` (PyTorch's ``clip_grad_norm_``): the extra square roots
  round differently. The
  infinity norm is the largest :math:`|x_i|` either way (NaN if any is NaN).

  ``order`` may also be a function of a leaf returning that leaf's order (called while
  tracing; MXNet 2.0's is ``"kahan"`` for float16 arrays and ``"onednn"`` otherwise).
  """
  p = _check_norm_type(norm_type)
  _check_order(order, per_leaf=True)
  if combine not in ("sum_of_squares", "norm_of_norms"):
    raise ValueError(f"combine must be 'sum_of_squares' or 'norm_of_norms', got {combine!r}.")
  leaves = [jnp.asarray(x) for x in leaves]
  if not leaves:
    return jnp.zeros((), jnp.float32)
  dtype = jnp.result_type(*[_compute_dtype(x) for x in leaves])
  orders = [order(x) if callable(order) else order for x in leaves]
  for leaf_order in orders:
    _check_order(leaf_order)
  # PyTorch, MindSpore and MXNet add the per-tensor results left to right in float32.
  between = "sequential" if callable(order) or order in _ADDED_IN_ORDER else order
  if combine == "norm_of_norms" or p not in (2.0,):
    norms = jnp.stack(
      [tensor_norm(x, p, o).astype(dtype) for x, o in zip(leaves, orders, strict=True)]
    )
    return tensor_norm(norms, p, "sequential" if callable(order) else order)
  squares = jnp.stack(
    [sum_of_squares(x, o).astype(dtype) for x, o in zip(leaves, orders, strict=True)]
  )
  return jnp.sqrt(_ordered_sum(squares, between))


ParamOrder = Sequence[str] | None


def check_param_order(param_order, argument: str = "param_order") -> tuple[str, ...] | None:
  """``param_order`` as a tuple of names, or None (``jax.tree.leaves`` order).

  Takes the names themselves, or the parameters in the framework's order (read by
  :func:`~adamax_optax.param_groups.read_framework_params`: a dict in insertion order,
  ``(name, array)`` pairs, group dicts). Raises for a repeated name.
  """
  if param_order is None:
    return None
  is_names = isinstance(param_order, (list, tuple)) and all(
    isinstance(name, str) for name in param_order
  )
  if isinstance(param_order, str) or not (is_names or hasattr(param_order, "__iter__")):
    raise TypeError(
      f"{argument} must be the parameter names in the framework's order (a list of str), "
      f"or the parameters in that order, got {type(param_order).__name__}."
    )
  names = tuple(param_order) if is_names else read_framework_params(param_order, argument).order
  if names is None:
    raise ValueError(
      f"{argument} comes from groups that select parameters by a callable, which gives no "
      "order; pass the names in the framework's order."
    )
  repeated = sorted({name for name in names if names.count(name) > 1})
  if repeated:
    raise ValueError(f"{argument} lists {repeated} more than once; list each parameter once.")
  return names


def leaves_in_order(tree, param_order: ParamOrder) -> list:
  """The trained leaves of ``tree`` in ``param_order`` (names), or in ``tree_leaves``
  order where it is None: the order a global norm adds them in.

  Names not in ``tree`` are passed over (a per-group clip sees one group's
  parameters); a trained leaf that ``param_order`` leaves out is an error, as its
  place in the sum would be a guess.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.clipping import leaves_in_order
    >>> tree = {"fc1.bias": jnp.zeros(1), "fc1.weight": jnp.ones(2)}
    >>> [x.shape for x in leaves_in_order(tree, ["fc1.weight", "fc1.bias"])]
    [(2,), (1,)]
  """
  leaves = jax.tree.leaves(tree)
  if param_order is None:
    return [x for x in leaves if is_trained(x)]
  by_name = dict(zip(leaf_names(tree), leaves, strict=True))
  listed = set(param_order)
  unlisted = [name for name, x in by_name.items() if name not in listed and is_trained(x)]
  if unlisted:
    raise ValueError(
      f"param_order leaves out the parameters {unlisted[:8]} ({len(unlisted)} in all); "
      "list every parameter, in the framework's order (e.g. the names of "
      "model.named_parameters()); names are the '/'-joined pytree paths, "
      f"such as {next(iter(by_name))!r}."
    )
  return [by_name[name] for name in param_order if name in by_name and is_trained(by_name[name])]


def _ordered_key(x: jax.Array) -> jax.Array:
  """Unsigned integers ordered as the floats ``x`` are (both zeros equal; not for NaN)."""
  uint = jnp.dtype(f"uint{x.dtype.itemsize * 8}")
  sign = jnp.array(1 << (8 * x.dtype.itemsize - 1), uint)
  bits = jax.lax.bitcast_convert_type(x, uint)
  bits = jnp.where(bits & ~sign == 0, jnp.zeros_like(bits), bits)  # -0 is +0
  return jnp.where(bits & sign != 0, ~bits, bits | sign)


def _less(a: jax.Array, b: jax.Array) -> jax.Array:
  """``a < b`` compared on the bits. XLA's CPU code turns a float compare and select of
  the same values into a min or max that flushes subnormals to zero; the frameworks
  pass a subnormal gradient through a clip unchanged."""
  a, b = jnp.broadcast_arrays(a, jnp.asarray(b, a.dtype))
  return (_ordered_key(a) < _ordered_key(b)) & ~jnp.isnan(a) & ~jnp.isnan(b)


def _settled(scalar: jax.Array) -> jax.Array:
  """A scale factor computed once, as written: XLA may not fold its arithmetic into the
  element-wise loop that uses it (where it rewrites divisions and products)."""
  return jax.lax.optimization_barrier(scalar)


def _times(x: jax.Array, factor: jax.Array) -> jax.Array:
  """``x * factor``, with ``x`` itself where the factor is 1: a subnormal gradient times 1
  stays subnormal in the frameworks, where XLA's CPU code may flush it."""
  factor = _settled(factor)
  return jnp.where(factor == 1, x, x * factor)


def _flush_subnormals(x: jax.Array) -> jax.Array:
  """``x`` with subnormal values replaced by a zero of the same sign (flush to zero)."""
  uint = jnp.dtype(f"uint{x.dtype.itemsize * 8}")
  bits = jax.lax.bitcast_convert_type(x, uint)
  sign = jnp.array(1 << (8 * x.dtype.itemsize - 1), uint)
  smallest_normal = jax.lax.bitcast_convert_type(jnp.array(jnp.finfo(x.dtype).tiny, x.dtype), uint)
  return jax.lax.bitcast_convert_type(
    jnp.where(bits & ~sign < smallest_normal, bits & sign, bits), x.dtype
  )


def _divide(x: jax.Array, scalar: jax.Array) -> jax.Array:
  """``x / scalar``, divided: XLA rewrites a division by a broadcast scalar as a multiply
  by its reciprocal, which rounds differently. Dividing by an array that depends on ``x``
  (the scalar, or NaN where ``x`` is NaN, giving NaN as the division would) keeps it."""
  return x / jnp.where(x == x, _settled(scalar), jnp.nan)


def _scale(g: jax.Array, norm: jax.Array, max_norm, scaling: Scaling) -> jax.Array:
  """``g`` clipped by the framework's formula, computed in float32 (or wider)."""
  dtype = jnp.promote_types(_compute_dtype(g), norm.dtype)
  x, n = g.astype(dtype), norm.astype(dtype)
  c = jnp.asarray(max_norm, dtype)
  one = jnp.ones((), dtype)
  if scaling == "torch":  # ``max_norm / t`` is ``t.reciprocal() * max_norm`` in PyTorch
    out = _times(x, jnp.minimum((one / (n + jnp.asarray(1e-6, dtype))) * c, one))
  elif scaling in ("mxnet", "mxnet2"):
    factor = jnp.minimum(c / (n + jnp.asarray(1e-8, dtype)), one)
    if scaling == "mxnet2" and g.dtype == jnp.float16:
      # MXNet 2.0's ``arr *= scale.item()`` casts the scalar to the array's dtype first.
      factor = factor.astype(g.dtype).astype(dtype)
    out = _times(x, factor)
    if scaling == "mxnet2":
      out = _flush_subnormals(out)
  elif scaling == "mindspore":
    out = _divide(rounded(x * c), jnp.where(n >= c, n, c))
  elif scaling == "paddle":
    out = _times(x, c / jnp.maximum(n, c))
  elif scaling == "paddle_norm":
    below = (n <= c).astype(dtype)
    eps = jnp.where(n <= jnp.asarray(1e-30, dtype), jnp.asarray(1e-6, dtype), 0)
    out = _times(x, below + rounded((one - below) * c) / (n + eps))
  elif scaling in ("keras", "keras_compiled"):
    # Keras divides by the (1, ..., 1)-shaped norm with jnp: XLA makes that a multiply by
    # the reciprocal, except for a 0-d tensor (nothing to broadcast): a true division.
    # Compiled with the step, XLA also gathers the two scalar factors into one.
    divisor = jnp.maximum(n, c)
    if x.ndim == 0:
      out = rounded(x * c) / _settled(divisor)
    elif scaling == "keras":
      out = rounded(x * c) * _settled(one / divisor)
    else:
      out = x * _settled(c * (one / divisor))
  elif scaling in ("keras_global", "keras_global_compiled"):
    # Keras computes 1 / clipnorm in Python, as a double rounded once to float32.
    inv_c = 1.0 / max_norm if is_python_number(max_norm) else one / c
    factor = rounded(c * jnp.minimum(one / n, inv_c)) + (n - n)
    # Compiled, a plain product, which XLA contracts into the next stage's ``g - m``.
    out = _times(x, factor) if scaling == "keras_global" else x * _settled(factor)
  else:  # optax
    out = jnp.where(n < c, x, (x / n) * c)
  if scaling in _CONTRACTED:
    return out.astype(g.dtype)
  # The next stage (the optimizer's moment) adds to the result: round the product here.
  return rounded(out).astype(g.dtype)


_SCALINGS = Scaling.__args__
# Compiled with the optimizer's step, as Keras's model.fit compiles it: XLA contracts the
# scaling's multiply into the moment's ``g - m``.
_CONTRACTED = ("keras_compiled", "keras_global_compiled")


def _check_scaling(scaling) -> None:
  if scaling not in _SCALINGS:
    raise ValueError(f"scaling must be one of {_SCALINGS}, got {scaling!r}.")


def _map_trained(fn, updates):
  reject_sparse(updates, "gradient clipping")
  return jax.tree.map(lambda g: fn(g) if is_trained(g) else g, updates, is_leaf=is_sparse)


def clip_by_value(min_value: float | None, max_value: float | None) -> optax.GradientTransformation:
  r"""Clips every gradient element to :math:`[\mathrm{min}, \mathrm{max}]`.

  :math:`\min(\max(g, \mathrm{min}), \mathrm{max})`: with ``min_value > max_value`` every
  element becomes ``max_value`` (PyTorch's ``clamp``, MindSpore, Paddle, Keras); NaN
  stays NaN.
  Either bound may be ``None`` (no bound on that side), not both.

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.clipping import clip_by_value
    >>> print(clip_by_value(-0.5, 1.0).update(jnp.array([-2.0, 0.25, 3.0]), None)[0])
    [-0.5   0.25  1.  ]
  """
  if min_value is None and max_value is None:
    raise ValueError("clip_by_value needs min_value or max_value (or both); got neither.")
  for name, bound in (("min_value", min_value), ("max_value", max_value)):
    if bound is not None:
      check_range(name, bound)

  def clip(g):
    out = g
    if min_value is not None:
      out = jnp.where(_less(out, min_value), jnp.asarray(min_value, g.dtype), out)
    if max_value is not None:
      out = jnp.where(_less(jnp.asarray(max_value, g.dtype), out), max_value, out).astype(g.dtype)
    return out

  def update_fn(updates, state, params=None):
    del params
    return _map_trained(clip, updates), state

  return optax.GradientTransformation(lambda params: optax.EmptyState(), update_fn)


def clip_by_norm(
  max_norm: float, *, scaling: Scaling, order: Order = "xla"
) -> optax.GradientTransformation:
  r"""Clips each gradient tensor by its own 2-norm (Keras's ``clipnorm``, Paddle's
  ``ClipGradByNorm``).

  :math:`n = \sqrt{\sum g_i^2}` per tensor, summed in ``order``, and the tensor scaled by
  ``scaling``'s formula (see the module). For ``"keras"`` a zero norm is taken as 0
  without a square root (Keras's ``where`` guard; the result is the same).

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.clipping import clip_by_norm
    >>> clip = clip_by_norm(1.0, scaling="paddle_norm")
    >>> print(clip.update({"a": jnp.array([3.0, 4.0]), "b": jnp.array([0.5])}, None)[0])
    {'a': Array([0.6, 0.8], dtype=float32), 'b': Array([0.5], dtype=float32)}
  """
  check_range("max_norm", max_norm, 0.0, low_open=True)
  _check_scaling(scaling)
  _check_order(order)

  def clip(g):
    return _scale(g, tensor_norm(g, 2.0, order), max_norm, scaling)

  def update_fn(updates, state, params=None):
    del params
    return _map_trained(clip, updates), state

  return optax.GradientTransformation(lambda params: optax.EmptyState(), update_fn)


class GlobalNormClip(optax.GradientTransformation):
  """What :func:`clip_by_global_norm` returns: a stateless transformation whose
  ``param_order`` is the order its sum follows (None: ``tree_leaves`` order) and whose
  ``in_param_order(names)`` is the same clip summing in that order (a preset that knows
  its parameters' order gives it to a clip built without one)."""

  param_order: tuple[str, ...] | None = None
  in_param_order: Callable[[Sequence[str]], "GlobalNormClip"]


def in_framework_order(clip, param_order: ParamOrder):
  """``clip`` summing in ``param_order`` where it is a :class:`GlobalNormClip` built
  without an order of its own and ``param_order`` is known; else ``clip`` itself."""
  if isinstance(clip, GlobalNormClip) and clip.param_order is None and param_order is not None:
    return clip.in_param_order(param_order)
  return clip


def clip_by_global_norm(
  max_norm: float,
  *,
  scaling: Scaling,
  norm_type: float = 2.0,
  order: Order = "xla",
  combine: Combine = "sum_of_squares",
  norm_fn: NormFn | None = None,
  param_order: ParamOrder = None,
) -> GlobalNormClip:
  r"""Clips all gradients together by their global norm.

  :math:`n` is :func:`global_norm` of the trained leaves with ``norm_type``, ``order``
  and ``combine``, the leaves taken in ``param_order`` (see :func:`leaves_in_order` and
  :func:`check_param_order`; default ``tree_leaves`` order), or ``norm_fn(leaves)``
  when given: a function of that list of leaves returning a scalar, for a norm
  computed elsewhere (across devices, or recorded from a framework). Every leaf is then
  scaled by ``scaling``'s formula (see the module).

  Example:
    >>> import jax.numpy as jnp
    >>> from adamax_optax.clipping import clip_by_global_norm
    >>> clip = clip_by_global_norm(1.0, scaling="paddle")
    >>> print(clip.update({"a": jnp.array([3.0]), "b": jnp.array([4.0])}, None)[0])
    {'a': Array([0.6], dtype=float32), 'b': Array([0.8], dtype=float32)}
  """
  check_range("max_norm", max_norm, 0.0, low_open=True)
  _check_scaling(scaling)
  _check_norm_type(norm_type)
  _check_order(order, per_leaf=True)
  if norm_fn is not None and not callable(norm_fn):
    raise TypeError(f"norm_fn must be a function of the list of leaves, got {norm_fn!r}.")
  param_order = check_param_order(param_order)

  def update_fn(updates, state, params=None):
    del params
    reject_sparse(updates, "gradient clipping")
    leaves = leaves_in_order(updates, param_order)
    if not leaves:
      return updates, state
    if norm_fn is not None:
      norm = jnp.asarray(norm_fn(leaves))
      if norm.ndim:
        norm = norm.reshape(())
    else:
      norm = global_norm(leaves, norm_type, order, combine)
    return _map_trained(lambda g: _scale(g, norm, max_norm, scaling), updates), state

  clip = GlobalNormClip(lambda params: optax.EmptyState(), update_fn)
  clip.param_order = param_order
  clip.in_param_order = lambda names: clip_by_global_norm(
    max_norm,
    scaling=scaling,
    norm_type=norm_type,
    order=order,
    combine=combine,
    norm_fn=norm_fn,
    param_order=names,
  )
  return clip


__all__ = [
  "GlobalNormClip",
  "check_param_order",
  "clip_by_global_norm",
  "clip_by_norm",
  "clip_by_value",
  "global_norm",
  "in_framework_order",
  "leaves_in_order",
  "sum_of_squares",
  "tensor_norm",
]
