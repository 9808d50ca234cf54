"""The Adamax moment and step computation as an optax transformation."""

import functools
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from adamax_optax import _double_float as df
from adamax_optax import arithmetic as arith
from adamax_optax._leaves import (
  SparseRows,
  check_shapes_match,
  is_sparse,
  is_trained,
  keep_rows,
)
from adamax_optax._rounding import computed_once, rounded
from adamax_optax._typing import Updates
from adamax_optax.fused import check_fused, fused_leaf_updates
from adamax_optax.schedules import DoubleConstant, ExactSchedule, exact_table, is_exact
from adamax_optax.validation import check_adamax_hyperparameters, check_range, scheduled_value


class ScaleByAdamaxState(NamedTuple):
  """State of :func:`scale_by_adamax`.

  Attributes:
    count: number of updates applied so far, int32, saturating at its maximum.
    mu: first moment ``m``, a pytree like the params.
    nu: exponentially weighted infinity norm ``u``, a pytree like the params.
    b1_power: float32 running product ``b1**count`` (read by the ``float32_product``
      bias correction and kept by every mode so that all states share one type).
  """

  count: jax.Array
  mu: Updates
  nu: Updates
  b1_power: jax.Array


def _is_python_number(x) -> bool:
  return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _one_minus_b1(b1, precision: str):
  if precision == "float64" and _is_python_number(b1):
    return 1.0 - float(b1)
  return jnp.float32(1) - jnp.asarray(b1, jnp.float32)


def _scalar(x, dtype):
  """A hyperparameter in the computation's dtype: Python numbers stay weakly typed (so
  they round once, from the double, to that dtype); arrays are cast, so a float32 value
  does not promote a float16 computation."""
  return x if _is_python_number(x) else jnp.asarray(x).astype(dtype)


def _is_16bit(dtype) -> bool:
  return jnp.issubdtype(dtype, jnp.floating) and jnp.finfo(dtype).bits == 16


def _zeros_like_params(params, dtype=None):
  """Zeros shaped, typed and sharded like ``params``.

  ``jnp.zeros_like`` does not read its argument, so under ``jax.jit`` XLA has no
  sharding to give the zeros and places them on one device; computing them from the
  params (``|p| * 0``, with non-finite params mapped to 0) makes the state inherit each
  param's sharding, as FSDP-style training needs. It costs one read of the params, once.
  """

  def zeros(p):
    if isinstance(p, jax.ShapeDtypeStruct) or not is_trained(p):
      return jnp.zeros(p.shape, dtype if dtype and is_trained(p) else p.dtype)
    return _zeros_from(p, dtype=jnp.dtype(dtype or jnp.result_type(p)))

  return jax.tree.map(zeros, params)


@functools.partial(jax.jit, static_argnames="dtype")
def _zeros_from(p, *, dtype):
  """``0`` shaped and sharded like ``p`` (traced once per shape, for models of many leaves)."""
  p = jnp.asarray(p)
  return jnp.where(jnp.isfinite(p), jnp.abs(p) * 0, 0).astype(dtype)


def check_state_dtype(name: str, dtype) -> np.dtype | None:
  """``None`` or a floating dtype (``mu_dtype``, ``nu_dtype``)."""
  if dtype is None:
    return None
  try:
    dtype = jnp.dtype(dtype)
  except TypeError as error:
    raise TypeError(f"{name} must be a floating dtype or None, got {dtype!r}.") from error
  if not jnp.issubdtype(dtype, jnp.floating):
    raise ValueError(f"{name} must be a floating dtype (e.g. jnp.bfloat16), got {dtype}.")
  return dtype


def _learning_rate_at(learning_rate, count):
  if learning_rate is None:
    return 1.0
  if callable(learning_rate):
    return scheduled_value("learning_rate", learning_rate, count)
  return learning_rate


# Longest table of :func:`_bias_correction_table` (256 KiB): b1 up to about 0.99944.
_MAX_TABLE_STEPS = 1 << 16


@functools.lru_cache(maxsize=64)
def _bias_corrections(b1: float) -> np.ndarray | None:
  """Python's double ``1 - b1**t`` for ``t = 0, 1, ...`` up to the first ``t`` where it is
  exactly 1.0 (so every later step equals the last entry); None when that takes more
  than ``_MAX_TABLE_STEPS`` steps (b1 closer to 1) or for a b1 outside [0, 1).

  For a numeric b1 the bias correction depends on the step count alone, so the host
  computes it with the frameworks' own double arithmetic and the step looks it up: a
  gather instead of a double-float power in a loop and a double-float division
  (hundreds of compiled instructions, a quarter of a second of XLA time on the CPU),
  and exact where the double-float arithmetic is not.
  """
  if not 0.0 <= b1 < 1.0:
    return None
  doubles = [0.0]  # t = 0 never occurs: the count is incremented before the step
  for t in range(1, _MAX_TABLE_STEPS + 1):
    doubles.append(1.0 - b1 ** float(t))
    if doubles[-1] == 1.0:
      bias_corrections = np.array(doubles)
      bias_corrections.flags.writeable = False
      return bias_corrections
  return None


@functools.lru_cache(maxsize=64)
def _bias_correction_table(b1: float, learning_rate: float | None = None) -> np.ndarray | None:
  """:func:`_bias_corrections` rounded as a step reads them: ``f32(lr / (1 - b1**t))``
  with ``learning_rate``, ``f32(1 - b1**t)`` without (for a float32 division by it).

  A learning rate known only while the step runs (a traced one, a plateau scheduler's
  double) is not tabulated: ``f32(lr / bc)`` needs the double quotient, whose float32
  rounding can hang on its last bits (``f32(0.01) / (1 - 0.9)`` lies within 2**-52 of a
  float32 midpoint), and the double-float division with the double-float power is the
  one tested against the recordings for those. An exact schedule's values are known on
  the host: :func:`_scheduled_step_sizes`.
  """
  bias_corrections = _bias_corrections(b1)
  if bias_corrections is None:
    return None
  if learning_rate is None:
    table = bias_corrections.astype(np.float32)
  else:
    with np.errstate(divide="ignore", invalid="ignore"):  # t = 0: never read
      table = (learning_rate / bias_corrections).astype(np.float32)
  table.flags.writeable = False
  return table


def _scheduled_step_sizes(
  schedule: ExactSchedule, b1: "float | ExactSchedule", lr, t
) -> jax.Array | None:
  """``f32(lr / (1 - b1**t))`` for an exact schedule's double lr at step ``t`` and b1 a
  number or an exact schedule of its own (PyTorch's cycled ``betas[0]``), from one host
  table of the step sizes while ``1 - b1**t < 1`` and the schedule's float32 value
  ``lr`` after (``lr / 1.0``); None when b1 has no table.

  With a b1 schedule the table runs until ``1 - b**t`` is 1.0 for ``b`` its largest
  value, and so for every value it takes from there on (a smaller base, a higher power);
  each entry is ``1 - b1(n) ** (n + 1)`` in Python's double power, as PyTorch computes it.
  """
  if isinstance(b1, ExactSchedule):
    finite = b1.run_values[np.isfinite(b1.run_values)]
    largest = float(finite.max()) if finite.size else 0.0
    bias_corrections = _bias_corrections(largest)
  else:
    bias_corrections = _bias_corrections(b1)
  if bias_corrections is None:
    return None

  def step_sizes():
    counts = np.arange(len(bias_corrections) - 1)  # the counts before steps 1, ..., T
    if isinstance(b1, ExactSchedule):
      powers = [beta ** float(n + 1) for n, beta in enumerate(b1.values_at(counts).tolist())]
      divisors = 1.0 - np.array(powers, np.float64)
    else:
      divisors = bias_corrections[1:]
    with np.errstate(invalid="ignore"):  # a NaN b1 past the scheduler's end
      steps = schedule.values_at(counts) / divisors
    return np.concatenate([[np.inf], steps]).astype(np.float32)

  table = schedule.derived_table(("step_sizes", b1), step_sizes)
  index = jnp.clip(t, 1, len(table) - 1)
  return jnp.where(t < len(table), jnp.asarray(table)[index], lr)


def _level_step_sizes(rate: DoubleConstant, b1, t) -> jax.Array | None:
  """``f32(lr / (1 - b1**t))`` for a rate read from a host table at a traced index (a
  plateau scheduler's rate after ``k`` reductions) and a numeric b1, from one host table
  by index and step; None when the rate has no table, b1 has none, or the two together
  exceed ``_MAX_TABLE_STEPS`` entries.

  Each entry is the double ``levels[k] / (1 - b1**t)`` rounded once to float32, as the
  frameworks divide their double rate by their double bias correction (PyTorch's
  ``lr / bias_correction``): the quotient the float32-pair division approximates, with
  no power, no division and no loop compiled. From the step where ``1 - b1**t`` is 1.0
  every entry of a row repeats its last one, so the step index is clipped there.
  """
  if rate.table is None:
    return None
  b1 = float(b1)
  bias_corrections = _bias_corrections(b1)
  levels = rate.table.horizon  # one entry per index; a larger index reads the last one
  if bias_corrections is None or levels * len(bias_corrections) > _MAX_TABLE_STEPS:
    return None

  def step_sizes():
    doubles = rate.table.values_at(np.arange(levels))
    with np.errstate(divide="ignore"):  # t = 0: never read
      table = doubles[:, None] / bias_corrections[None, :]
    return table.astype(np.float32).ravel()

  table = rate.table.derived_table(("level_step_sizes", b1), step_sizes)
  row = jnp.minimum(rate.index, levels - 1)
  column = jnp.clip(t, 1, len(bias_corrections) - 1)
  return jnp.asarray(table)[row * len(bias_corrections) + column]


def _lerp_end(b1: ExactSchedule, complement: ExactSchedule, precision: str) -> bool | None:
  """For a b1 schedule, the end PyTorch's lerp starts from at every step: True when each
  float32 ``c = 1 - b1`` the step reads has ``|c| < 0.5`` (from ``m``), False when none
  has (from ``g``), None when it changes.

  The step reads ``c`` from a table the host holds, so the host picks the branch and
  the compiled step holds one of the two lerps instead of both and a select per leaf.
  A NaN ``c`` (past the end of the table) makes both ends NaN, so it picks neither.
  """
  if precision == "float64":
    complements = complement.run_values.astype(np.float32)
  else:
    complements = np.float32(1) - b1.run_values.astype(np.float32)
  complements = complements[~np.isnan(complements)]
  from_m = np.abs(complements) < 0.5
  if from_m.all():
    return True
  return False if not from_m.any() else None


def _float64_step_size(learning_rate, b1, t, *, float32_divide: bool = False) -> jax.Array:
  """``f32(lr / (1 - b1**t))`` computed as a double would compute it.

  ``learning_rate`` and ``b1`` are numbers, float32 arrays, or :class:`~df.DoubleFloat`
  (an :class:`~adamax_optax.schedules.ExactSchedule`'s double value). With
  ``float32_divide`` the double ``1 - b1**t`` is rounded to float32 and divides the
  float32 ``lr`` in float32 (PyTorch's single-tensor path with a tensor learning rate).

  With a numeric b1 and a numeric lr (or a float32 division) the step reads its value
  from :func:`_bias_correction_table`; otherwise the power and the division are computed
  in float32 pairs.
  """
  if _is_python_number(b1) and (float32_divide or _is_python_number(learning_rate)):
    lr = None if float32_divide else float(learning_rate)
    table = _bias_correction_table(float(b1), lr)
    if table is not None:
      value = jnp.asarray(table)[jnp.clip(t, 1, len(table) - 1)]
      if float32_divide:
        return jnp.asarray(learning_rate, jnp.float32) / rounded(value)
      return value

  def as_pair(x):
    if isinstance(x, df.DoubleFloat):
      return x
    # Numbers stay on the host, so that what depends on numbers alone is not traced.
    return df.constant(x) if _is_python_number(x) else df.from_number(x)

  if jax.config.jax_enable_x64:
    as_double = lambda x: as_pair(x).hi.astype(jnp.float64) + as_pair(x).lo
    bc = 1.0 - as_double(b1) ** jnp.asarray(t, jnp.float64)
    if float32_divide:
      return as_double(learning_rate).astype(jnp.float32) / bc.astype(jnp.float32)
    return (as_double(learning_rate) / bc).astype(jnp.float32)
  bc = df.add(df.constant(1.0), df.negate(df.power(as_pair(b1), t)))
  if float32_divide:
    return df.to_float32(as_pair(learning_rate)) / rounded(df.to_float32(bc))
  return df.to_float32(df.divide(as_pair(learning_rate), bc))


def _once(x):
  """A traced floating scalar as :func:`computed_once` makes it; anything else as it is."""
  if isinstance(x, jax.core.Tracer) and jnp.ndim(x) == 0 and jnp.issubdtype(x.dtype, jnp.floating):
    return computed_once(x)
  return x


def _traced_once(rule, scalars):
  """``rule(g, m, u, *scalars)`` for each leaf, traced once per leaf shape and dtype.

  A model's leaves repeat a few shapes (a transformer's layers), and tracing the same
  elementwise rule for each costs most of a step's tracing and lowering time. The rule
  is a nested ``jax.jit`` that JAX traces once per shape and lowers once; XLA inlines
  each call before it optimizes, so the compiled step is the same. Python-number scalars
  stay constants of the rule; traced scalars are its arguments. Sparse and untrained
  leaves are traced directly.
  """
  dynamic = [i for i, x in enumerate(scalars) if isinstance(x, jax.Array)]

  @jax.jit
  def dense(g, m, u, touched_rows, *values):
    merged = list(scalars)
    for i, value in zip(dynamic, values, strict=True):
      merged[i] = value
    return rule(g, m, u, *merged, touched_rows=touched_rows)

  def apply(g, m, u, touched_rows=None):
    if is_sparse(g) or not (is_trained(g) and is_trained(m)):
      return rule(g, m, u, *scalars)
    return dense(g, m, u, touched_rows, *(scalars[i] for i in dynamic))

  return apply


class _Pair(NamedTuple):
  update: object
  touched_rows: object


def _row_masks(touched_rows, updates) -> list:
  """``touched_rows`` (a tree of row masks from :func:`~adamax_optax.lazy_rows`) as one
  mask or None per leaf of ``updates``.

  Inside :func:`optax.partition` (parameter groups) ``updates`` holds a
  :class:`optax.MaskedNode` where another group's leaves are, and ``touched_rows``
  still covers every leaf: the masks of the masked leaves are dropped. 0-d leaves and
  sparse ones have none (they are always updated, or carry their rows).
  """
  leaves = jax.tree.leaves(updates, is_leaf=is_sparse)
  if touched_rows is None:
    return [None] * len(leaves)
  masked = lambda x: isinstance(x, optax.MaskedNode) or is_sparse(x)
  try:
    pairs = jax.tree.map(_Pair, updates, touched_rows, is_leaf=masked)
  except ValueError as error:
    raise ValueError(
      "touched_rows must have the structure of the gradients (what lazy_rows passes); "
      f"got {jax.tree.structure(touched_rows)} for {jax.tree.structure(updates)}."
    ) from error
  pairs = jax.tree.leaves(pairs, is_leaf=lambda x: isinstance(x, _Pair))
  return [
    None if is_sparse(p.update) or jnp.ndim(p.update) == 0 else p.touched_rows
    for p in pairs
    if not isinstance(p.update, optax.MaskedNode)
  ]


def _split_complex(fn):
  """Applies a real-valued leaf update to real and imaginary parts separately.

  Complex parameters are treated as pairs of reals, as PyTorch's optimizers do
  (``torch.view_as_real``): each part gets its own infinity norm.
  """

  def wrapped(g, m, u, *scalars, **options):
    if not jnp.iscomplexobj(g):
      return fn(g, m, u, *scalars, **options)
    real = fn(g.real, m.real, u.real, *scalars, **options)
    imag = fn(g.imag, m.imag, u.imag, *scalars, **options)
    return tuple(jax.lax.complex(r, i) for r, i in zip(real, imag, strict=True))

  return wrapped


def scale_by_adamax(
  b1: jax.typing.ArrayLike = 0.9,
  b2: jax.typing.ArrayLike = 0.999,
  eps: jax.typing.ArrayLike = 1e-8,
  *,
  eps_placement: arith.EpsPlacement = "max_grad",
  arithmetic: arith.Arithmetic = arith.OPTAX,
  learning_rate: optax.ScalarOrSchedule | None = None,
  initial_count: int = 0,
  zero_norm: Literal["nan", "skip"] = "nan",
  mu_dtype: jax.typing.DTypeLike | None = None,
  nu_dtype: jax.typing.DTypeLike | None = None,
  fused: bool | Literal["interpret"] = False,
) -> optax.GradientTransformation:
  r"""Rescales updates by the Adamax rule, with a chosen epsilon placement and rounding.

  With :math:`g_t` the incoming update, :math:`t` the 1-based step and
  :math:`\alpha_t` the learning rate (1 when ``learning_rate`` is ``None``):

  .. math::

    m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
    \hat\alpha_t = \alpha_t / (1 - \beta_1^t)

  and, by ``eps_placement``:

  =============== ================================================== =====================
  placement       infinity norm :math:`u_t`                          update direction
  =============== ================================================== =====================
  ``none``        :math:`\max(\beta_2 u_{t-1}, |g_t|)`               :math:`m_t / u_t`
  ``denominator`` :math:`\max(\beta_2 u_{t-1}, |g_t|)`               :math:`m_t/(u_t+\epsilon)`
  ``max_grad``    :math:`\max(\beta_2 u_{t-1}, |g_t| + \epsilon)`    :math:`m_t / u_t`
  ``max_norm``    :math:`\max(\beta_2 u_{t-1} + \epsilon, |g_t|)`    :math:`m_t / u_t`
  =============== ================================================== =====================

  ``none`` is the 2015 paper and MXNet 1.x (0/0 = NaN while :math:`u` is 0);
  ``denominator`` is MXNet 2.0, MindSpore ``nn.AdaMax``, Keras and TensorFlow;
  ``max_grad`` is optax, PyTorch and MindSpore ``experimental.optim.Adamax``;
  ``max_norm`` is Paddle.

  Without ``learning_rate`` the output is :math:`+\hat m_t / u_t` (optax's convention:
  follow it with :func:`optax.scale_by_learning_rate`). With ``learning_rate`` the output
  is the descent update :math:`-\hat\alpha_t\, m_t / u_t`, with the learning rate folded
  into the bias correction as ``arithmetic`` says: this is the only way to reproduce
  frameworks that round :math:`\alpha_t / (1 - \beta_1^t)` to float32 as one number.
  Schedules are called with the update count before the step (0 first, as in optax).

  Args:
    b1: decay of the first moment, in [0, 1).
    b2: decay of the infinity norm, in [0, 1].
    eps: the epsilon, >= 0, placed as ``eps_placement`` says (ignored for ``"none"``).
    eps_placement: ``"none"``, ``"denominator"``, ``"max_grad"`` (default, optax's) or
      ``"max_norm"``.
    arithmetic: operation order and rounding, an :class:`adamax_optax.Arithmetic`
      (default :data:`adamax_optax.arithmetic.OPTAX`).
    learning_rate: optional float or optax schedule folded into the step.
    initial_count: updates already applied (MXNet's ``begin_num_update``); bias
      correction and schedules continue from it.
    zero_norm: where the denominator is exactly 0 (only with ``eps_placement="none"`` or
      ``eps=0``, for a coordinate whose gradient has always been 0): ``"nan"`` computes
      0/0 as the paper and MXNet 1.x do; ``"skip"`` leaves the coordinate unchanged.
    mu_dtype: optional dtype of ``m`` in the state (e.g. ``jnp.bfloat16``).
    nu_dtype: optional dtype of ``u`` in the state.
    fused: update all the leaves of a dtype at once (see :mod:`adamax_optax.fused`):
      on GPU and TPU one Pallas kernel over their concatenation; on the CPU, where XLA's
      per-leaf loops measure fastest, the unfused computation. ``"interpret"`` runs the
      Pallas kernel in the Pallas interpreter on any backend (slow; for tests). The
      state is the same as unfused, so the two can be swapped mid-training.

  When either state dtype is given the arithmetic runs in at least float32 and is
  rounded once on store, so a small ``eps`` never underflows. Otherwise it runs in the
  update's dtype with every hyperparameter rounded to it, as MXNet computes float16
  weights in float16.
  Complex leaves are treated as pairs of reals, as in PyTorch.

  Returns:
    An :class:`optax.GradientTransformationExtraArgs` with state
    :class:`ScaleByAdamaxState`. Its ``update`` takes the extra argument
    ``touched_rows`` (what :func:`~adamax_optax.lazy_rows` passes): a tree like the
    gradients of bool masks over axis 0, whose false rows keep m and u and get a zero
    update.

  Example:
    >>> import jax.numpy as jnp, optax
    >>> from adamax_optax import scale_by_adamax
    >>> opt = optax.chain(scale_by_adamax(), optax.scale_by_learning_rate(0.002))
    >>> params = jnp.array([1.0, -2.0])
    >>> updates, state = opt.update(2 * params, opt.init(params))
    >>> print(updates)
    [-0.002  0.002]

  References:
    Kingma & Ba, 2015, *Adam: A Method for Stochastic Optimization*, section 7.1
    (https://arxiv.org/abs/1412.6980).
  """
  if exact_table(learning_rate) is not None:  # a Paddle scheduler hands over its table
    learning_rate = exact_table(learning_rate)
  # A b1 schedule (PyTorch's cycled betas[0]) is checked where it was made.
  check_adamax_hyperparameters(0.0 if is_exact(b1) else b1, b2, eps)
  if learning_rate is not None:
    check_range("learning_rate", learning_rate, 0.0, allow_schedule=True)
  if eps_placement not in arith.EPS_PLACEMENTS:
    raise ValueError(f"eps_placement must be one of {arith.EPS_PLACEMENTS}, got {eps_placement!r}.")
  if zero_norm not in ("nan", "skip"):
    raise ValueError(f"zero_norm must be 'nan' or 'skip', got {zero_norm!r}.")
  if not isinstance(arithmetic, arith.Arithmetic):
    raise TypeError(
      f"arithmetic must be an adamax_optax.Arithmetic, got {type(arithmetic).__name__}."
    )
  if not isinstance(initial_count, jax.core.Tracer):
    is_int = np.issubdtype(np.asarray(initial_count).dtype, np.integer)
    if not is_int or np.ndim(initial_count) or not 0 <= int(initial_count) < 2**31:
      raise ValueError(f"initial_count must be an int in [0, 2**31), got {initial_count!r}.")
  mu_dtype = check_state_dtype("mu_dtype", mu_dtype)
  nu_dtype = check_state_dtype("nu_dtype", nu_dtype)
  upcast = mu_dtype is not None or nu_dtype is not None
  lerp_from_m = None
  if is_exact(b1):
    b1_complement = b1.one_minus()  # 1 - b1 in double, as rounded for the float64 mode
    if isinstance(b1, ExactSchedule) and arithmetic.moment == "fused_lerp":
      lerp_from_m = _lerp_end(b1, b1_complement, arithmetic.one_minus_b1)
  else:
    hyperparameters = (b1, b2, eps, _one_minus_b1(b1, arithmetic.one_minus_b1))
  fused, interpret = check_fused(fused)

  def init_fn(params):
    mu = _zeros_like_params(params, mu_dtype)
    nu = _zeros_like_params(params, nu_dtype)
    count = jnp.asarray(initial_count, jnp.int32)
    if isinstance(b1, ExactSchedule) and not isinstance(initial_count, jax.core.Tracer):
      # The float32 value the compiled lookup gives, read on the host: looked up eagerly,
      # each new table would compile a gather of its own.
      b1_now = jnp.float32(b1.value_at(int(initial_count)))
    elif is_exact(b1):
      b1_now = b1(count)
    else:
      b1_now = jnp.asarray(b1, jnp.float32)
    b1_power = b1_now ** count.astype(jnp.float32)
    return ScaleByAdamaxState(count=count, mu=mu, nu=nu, b1_power=b1_power)

  def update_dtype(dtype):
    """The update's dtype: the leaf's, or float32 where the framework rounds ``w +
    update`` once in float32 (then :func:`optax.apply_updates` does the same)."""
    keeps_dtype = upcast or half_mode(dtype) in ("native", "float32_step")
    return dtype if keeps_dtype else jnp.float32

  def half_mode(dtype) -> str:
    """How a leaf of this dtype computes: the recipe's ``half`` for 16-bit leaves."""
    if upcast or not _is_16bit(dtype):
      return "float32" if upcast else "native"
    return arithmetic.half

  def moment(g, m, b1, one_minus_b1, op):
    c, b1_ = _scalar(one_minus_b1, m.dtype), _scalar(b1, m.dtype)
    if arithmetic.moment == "optax":
      return c * g + b1_ * m
    if arithmetic.moment == "ema":
      return op(op(rounded(m * b1_)) + op(rounded(g * c)))
    if arithmetic.moment == "lerp":
      return op(m + op(rounded((g - m) * c)))
    if arithmetic.moment == "fma_lerp":  # XLA contracts the product into the sum
      return op(m + (g - m) * c)
    # PyTorch's lerp: from the nearer end, one fused multiply-add (XLA contracts these).
    from_m = m + (g - m) * c
    rest = float(np.float32(1) - np.float32(c)) if _is_python_number(c) else 1 - c
    from_g = g - (g - m) * rest
    if _is_python_number(c):
      return op(from_m if abs(c) < 0.5 else from_g)
    if lerp_from_m is not None:  # a b1 schedule whose every 1 - b1 picks the same end
      return op(from_m if lerp_from_m else from_g)
    return op(jnp.where(jnp.abs(c) < 0.5, from_m, from_g))

  def infinity_norm(g, u, b2, eps, op):
    decayed, eps_ = op(u * _scalar(b2, u.dtype)), _scalar(eps, u.dtype)
    if eps_placement == "max_grad":
      return jnp.maximum(op(jnp.abs(g) + eps_), decayed)
    if eps_placement == "max_norm":
      return jnp.maximum(jnp.abs(g), op(rounded(decayed) + eps_))
    return jnp.maximum(decayed, jnp.abs(g))

  def step(m, u, eps, lr, bc, step_size, op):
    """The update for the new moments; positive (a direction) when lr is None."""
    d = op(u + _scalar(eps, u.dtype)) if eps_placement == "denominator" else u
    lr, bc, step_size = (_scalar(x, m.dtype) for x in (lr, bc, step_size))
    form = arithmetic.step
    if form == "optax":  # no rounding forced: XLA contracts what it does in optax.adamax
      update = (m / bc) / d
    elif form == "scale_direction":
      update = op(rounded(op(m / d) * step_size))
    elif form == "scale_moment":
      update = op(op(step_size * m) / d)
    else:
      update = op(op(lr * m) / op(bc * d))
    if zero_norm == "skip":
      update = jnp.where(d == 0, jnp.zeros_like(update), update)
    if learning_rate is None:
      return update
    # optax's scale_by_learning_rate multiplies by -lr; the frameworks subtract the step.
    return -lr * update if form == "optax" else -update

  def real_leaf_update(
    g, m, u, b1, b2, eps, one_minus_b1, lr, bc, step_size, count, touched_rows=None
  ):
    """The elementwise rule, every hyperparameter an argument (the fused kernel's body).

    ``touched_rows`` (from :func:`~adamax_optax.lazy_rows`), a bool per row along axis 0:
    the other rows keep m and u and get a zero update. The step reads the kept moments,
    so that m and u are each written once, in place of the old ones.
    """
    leaf_dtype, mode = g.dtype, half_mode(g.dtype)
    wide = jnp.promote_types(leaf_dtype, jnp.float32)
    dtype = leaf_dtype if mode in ("native", "float32_step") else wide
    identity = lambda x: x
    # An operation computed in float32 whose result is rounded to the leaf's 16 bits.
    to_16bit = lambda x: rounded(x.astype(leaf_dtype)).astype(wide)
    moment_op = to_16bit if mode.startswith("float32_ops") else identity
    to_leaf_dtype = lambda x: jnp.asarray(x, jnp.float32).astype(leaf_dtype).astype(wide)
    if mode.startswith("float32_ops"):
      # PyTorch's ``add_(eps)`` gives the Python number the tensor's 16-bit dtype first.
      eps = to_leaf_dtype(eps)
    if mode == "float32_ops_16bit_scalars":  # the foreach kernels round beta2 too
      b2 = to_leaf_dtype(b2)
    if arithmetic.bias_correction == "leaf_dtype_power":
      bc = 1 - _scalar(b1, dtype) ** jnp.asarray(count).astype(dtype)
    g, m, u = g.astype(dtype), m.astype(dtype), u.astype(dtype)
    m_new = moment(g, m, b1, one_minus_b1, moment_op)
    u_new = infinity_norm(g, u, b2, eps, moment_op)
    if touched_rows is not None:
      m_new, u_new = keep_rows(touched_rows, m_new, m), keep_rows(touched_rows, u_new, u)
    if mode == "float32_step":  # 16-bit moments, read by float32 operations
      as_wide = lambda x: x.astype(wide)
      update = step(as_wide(m_new), as_wide(u_new), eps, lr, bc, step_size, to_16bit)
    else:
      update = step(m_new, u_new, eps, lr, bc, step_size, identity)
    if touched_rows is not None:
      update = keep_rows(touched_rows, update, jnp.zeros_like(update))
    return update, m_new, u_new

  float_leaf_update = _split_complex(real_leaf_update)

  def leaf_update(g, m, u, *scalars, touched_rows=None):
    if is_sparse(g):  # gather the touched rows, update them, scatter them back
      rows = leaf_update(g.values, m[g.indices], u[g.indices], *scalars)
      m = m.at[g.indices].set(rows[1].astype(m.dtype))
      u = u.at[g.indices].set(rows[2].astype(u.dtype))
      return SparseRows(g.indices, rows[0].astype(g.values.dtype)), m, u
    if is_trained(g) and is_trained(m):
      return float_leaf_update(g, m, u, *scalars, touched_rows=touched_rows)
    # Integer and bool leaves (float0 gradients) are not trained: a zero update in the
    # parameter's dtype, and their moments stay 0.
    zero_dtype = m.dtype if g.dtype == jax.dtypes.float0 else g.dtype
    return jnp.zeros(jnp.shape(g), zero_dtype), m, u

  def update_fn(updates, state, params=None, *, touched_rows=None, **extra_args):
    del params, extra_args
    count_inc = optax.safe_increment(state.count)
    lr = _learning_rate_at(learning_rate, state.count)
    if is_exact(b1):  # this update's b1 and 1 - b1 as the recipe rounds it
      b1_now = b1(state.count)
      complement = b1_complement(state.count) if arithmetic.one_minus_b1 == "float64" else None
      hyper = (b1_now, b2, eps, complement if complement is not None else 1 - b1_now)
    else:
      b1_now, hyper = jnp.asarray(b1, jnp.float32), hyperparameters
    b1_power = rounded(state.b1_power * b1_now)
    if arithmetic.bias_correction == "float32_product":
      bc = 1 - b1_power
    else:
      bc = 1 - b1_now ** count_inc.astype(jnp.float32)
    if arithmetic.bias_correction.startswith("float64_power"):
      # An exact schedule's double value, not its float32 rounding (PyTorch, MXNet).
      float32_divide = arithmetic.bias_correction == "float64_power_float32_divide"
      step_size = None
      if isinstance(learning_rate, ExactSchedule) and isinstance(b1, ExactSchedule):
        step_size = _scheduled_step_sizes(learning_rate, b1, lr, count_inc)
      elif isinstance(learning_rate, ExactSchedule) and _is_python_number(b1):
        step_size = _scheduled_step_sizes(learning_rate, float(b1), lr, count_inc)
      elif isinstance(learning_rate, DoubleConstant) and _is_python_number(b1):
        # (A float32 division reads the float32 rate: the double quotient is not needed.)
        step_size = None if float32_divide else _level_step_sizes(learning_rate, b1, count_inc)
      if step_size is None:
        # b1's double, traced only here: a host table above needs none (PyTorch's cycled
        # betas[0] with a cycled lr), and tracing it costs a lookup in each of its tables.
        b1_exact = b1.double_float(state.count) if is_exact(b1) else b1
        exact_lr = learning_rate.double_float(state.count) if is_exact(learning_rate) else lr
        step_size = _float64_step_size(exact_lr, b1_exact, count_inc, float32_divide=float32_divide)
    else:
      step_size = jnp.asarray(lr, jnp.float32) / bc

    grads, treedef = jax.tree.flatten(updates, is_leaf=is_sparse)
    check_shapes_match(updates, state.mu, "state", "its state")
    mus, nus = treedef.flatten_up_to(state.mu), treedef.flatten_up_to(state.nu)
    # Each scalar computed here is read by every leaf's loop: computed once, not copied
    # into each loop (the double-float step size alone is some 35 operations a leaf).
    scalars = tuple(_once(x) for x in (*hyper, lr, bc, step_size, count_inc))
    # The kernel's results, or None for each leaf it leaves to the per-leaf step.
    results = (
      fused_leaf_updates(real_leaf_update, grads, mus, nus, scalars, interpret=interpret)
      if fused and touched_rows is None
      else [None] * len(grads)
    )
    leaf_rule = _traced_once(leaf_update, scalars)
    row_masks = _row_masks(touched_rows, updates)
    results = [
      r if r is not None else leaf_rule(g, m, u, touched)
      for r, g, m, u, touched in zip(results, grads, mus, nus, row_masks, strict=True)
    ]
    new_updates = [
      r[0] if is_sparse(g) or g.dtype == jax.dtypes.float0 else r[0].astype(update_dtype(g.dtype))
      for r, g in zip(results, grads, strict=True)
    ]
    mu = [r[1].astype(m.dtype) for r, m in zip(results, mus, strict=True)]
    nu = [r[2].astype(u.dtype) for r, u in zip(results, nus, strict=True)]
    new_state = ScaleByAdamaxState(
      count=count_inc,
      mu=treedef.unflatten(mu),
      nu=treedef.unflatten(nu),
      b1_power=b1_power.astype(jnp.float32),
    )
    return treedef.unflatten(new_updates), new_state

  return optax.GradientTransformationExtraArgs(init_fn, update_fn)


__all__ = ["ScaleByAdamaxState", "scale_by_adamax"]
