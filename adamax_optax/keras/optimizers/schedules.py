"""``keras.optimizers.schedules``'s mirror: Keras 3's learning-rate schedules, bit for bit.

Each class takes Keras's arguments (names, order, defaults) and is an optax schedule
``count -> lr``: Keras calls its schedule with the optimizer's ``iterations`` (0 on the
first update), which is optax's count, so ``keras_adamax(learning_rate=ExponentialDecay(...))``
uses at every update the learning rate Keras uses. The value is the learning rate itself
(``initial_learning_rate`` included), in float32, as Keras computes it.

Keras (JAX backend) evaluates a schedule with XLA operations, and two different sets of
bits come out of the same formula:

* **eager** (the default here, ``jit_compile=False``): what Keras computes when the
  optimizer runs eagerly (``optimizer.apply`` outside ``jax.jit``, ``model.fit`` with
  ``jit_compile=False``), and what ``schedule(step)`` returns when called directly. Every
  operation is its own XLA program: correctly rounded division, no fused multiply-add,
  constants never folded. Inside the ``ops.cond`` of ``CosineDecay`` with warmup and of
  ``CosineDecayRestarts`` the branch is compiled, and there ``a * b + c`` is one fused
  multiply-add. Our schedules run inside the caller's jitted step, so they stop XLA's
  rewrites explicitly (every result rounded where it stands, every constant opaque to the
  compiler) and reproduce these values under ``jax.jit``, ``jax.vmap`` or eagerly.
* **jit** (``jit_compile=True``, named after ``model.compile(jit_compile=True)``, Keras's
  default on JAX): what Keras's ``model.fit`` computes, the schedule traced into the
  jitted train step. XLA then multiplies by the reciprocal instead of dividing by a
  constant, merges chains of constant products, contracts ``a * b + c`` into a fused
  multiply-add and turns ``x ** 0.5`` into ``sqrt(x)``, so the values differ from the
  eager ones by 1 to ~150 ulp at some steps (and ``PolynomialDecay(power=0.5)`` without
  ``cycle`` gives NaN from ``decay_steps`` on). This mode writes Keras's operations
  plainly, in Keras's order, and lets XLA make the same rewrites; it reproduces Keras's
  ``model.fit`` values when evaluated like Keras evaluates them, one scalar step inside a
  jitted function on the CPU.

Everything is float32 (Keras with ``jax_enable_x64`` off); the step is cast to float32,
so steps above 2**24 round as they do in Keras. XLA flushes subnormal results to zero on
the CPU, as it does for Keras.

Reference: https://keras.io/api/optimizers/learning_rate_schedules/ (Keras 3.15).
"""

import itertools
import math
import numbers
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from adamax_optax._rounding import rounded
from adamax_optax.validation import check_range

_F32 = jnp.float32


@jax.jit
def _multiply_add(a, b, c):
  """``a * b + c``, compiled: XLA contracts it into a fused multiply-add, also when
  called eagerly (inside a trace the jit is inlined, and contracted there)."""
  return a * b + c


class _Eager:
  """Keras's eager arithmetic inside any trace: one rounding per operation, no rewrites.

  Every constant is made to depend on the step (``c + step * 0``, a value the compiler
  cannot know) and every result passes through :func:`rounded`. XLA and LLVM then
  cannot fold a constant expression (at compile time ``cos``, ``log`` and ``pow`` would
  be the host's, not XLA's kernels), replace a division by a multiply by the reciprocal
  (XLA does so for a constant or broadcast divisor), merge constant factors, turn
  ``pow(x, 0.5)`` into ``sqrt(x)`` or ``pow(x, 2)`` into ``x * x`` (LLVM does so for a
  visible exponent, even one behind a select), or contract a product into a following
  add. The fused multiply-adds of Keras's compiled ``ops.cond`` branches are made by
  :func:`_multiply_add`. Tested under ``jax.jit`` with ``vmap`` and ``scan`` on the CPU.
  A step that is not traced (a Python int, also inside ``jit``) is evaluated eagerly.
  """

  def __init__(self, like: jax.Array):
    # ``step * 0`` is +0 for every finite step, and no compiler may fold it (it would
    # be NaN for a NaN or infinite step).
    self._zero = like * jnp.float32(0.0)

  def v(self, x) -> jax.Array:
    """``x`` (a number or an array) as an opaque float32 array shaped like the step."""
    if isinstance(x, jax.Array):
      return x
    return jnp.float32(x) + self._zero

  def add(self, a, b):
    return rounded(self.v(a) + self.v(b))

  def sub(self, a, b):
    return rounded(self.v(a) - self.v(b))

  def mul(self, a, b):
    return rounded(self.v(a) * self.v(b))

  def div(self, a, b):
    return rounded(self.v(a) / self.v(b))

  def fma(self, a, b, c):
    """``a * b + c`` rounded once, as XLA fuses it inside a compiled ``ops.cond`` branch."""
    return rounded(_multiply_add(self.v(a), self.v(b), self.v(c)))

  def pow(self, a, b):
    return rounded(jax.lax.pow(self.v(a), self.v(b)))

  def unary(self, fn, a):
    return rounded(fn(self.v(a)))

  def minimum(self, a, b):
    return rounded(jnp.minimum(self.v(a), self.v(b)))


def _check_real(name: str, value) -> None:
  if isinstance(value, bool) or not isinstance(value, numbers.Real):
    raise TypeError(f"{name} must be a number, got {type(value).__name__}: {value!r}.")


def _check_finite(name: str, value) -> None:
  _check_real(name, value)
  if not math.isfinite(float(value)):
    raise ValueError(f"{name} must be a finite number, got {value!r}.")


def _check_steps(name: str, value) -> None:
  """Keras's ``decay_steps > 0`` rule, naming the argument and the range."""
  _check_real(name, value)
  check_range(name, value, 0.0, low_open=True)


class LearningRateSchedule:
  """Base class of the schedules: ``schedule(step)`` is the float32 learning rate.

  ``step`` is Keras's ``optimizer.iterations`` (the number of updates already applied),
  which is optax's count: the instances are optax schedules. Subclasses define
  ``_eager(step, ops)`` (Keras's eager arithmetic, with ``ops`` a :class:`_Eager`) and
  ``_jit(step)`` (Keras's operations, plainly, for ``jit_compile=True``).
  """

  jit_compile: bool = False

  def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
    if self.jit_compile:
      return self._jit(jnp.asarray(step))
    if isinstance(step, jax.core.Tracer):
      step = jnp.asarray(step)
      return self._eager(step, _Eager(step.astype(_F32)))
    # A concrete step (a Python int, also inside jit) is evaluated now, op by op, as
    # Keras evaluates it eagerly: traced, XLA would fold it with the host's cos/pow/log.
    with jax.ensure_compile_time_eval():
      step = jnp.asarray(step)
      return self._eager(step, _Eager(step.astype(_F32)))

  def _eager(self, step: jax.Array, ops: _Eager) -> jax.Array:
    raise NotImplementedError

  def _jit(self, step: jax.Array) -> jax.Array:
    raise NotImplementedError

  def get_config(self) -> dict[str, Any]:
    """The constructor's arguments (Keras's ``get_config``, plus ``jit_compile``)."""
    raise NotImplementedError

  @classmethod
  def from_config(cls, config: dict[str, Any]) -> "LearningRateSchedule":
    """A schedule from :meth:`get_config`'s dict (or Keras's own config)."""
    return cls(**config)

  def __repr__(self) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
    return f"{type(self).__name__}({args})"


class _StepDecay(LearningRateSchedule):
  """What ``ExponentialDecay`` and ``InverseTimeDecay`` share: Keras gives them one
  signature, and both decay by ``p = step / decay_steps``, floored when ``staircase``."""

  def __init__(
    self,
    initial_learning_rate: float,
    decay_steps: float,
    decay_rate: float,
    staircase: bool = False,
    name: str | None = None,
    *,
    jit_compile: bool = False,
  ):
    _check_finite("initial_learning_rate", initial_learning_rate)
    _check_steps("decay_steps", decay_steps)
    _check_finite("decay_rate", decay_rate)
    self.initial_learning_rate = initial_learning_rate
    self.decay_steps = decay_steps
    self.decay_rate = decay_rate
    self.staircase = bool(staircase)
    self.name = type(self).__name__ if name is None else name
    self.jit_compile = bool(jit_compile)

  def _eager_progress(self, step, ops):
    p = ops.div(step.astype(_F32), self.decay_steps)
    return ops.unary(jnp.floor, p) if self.staircase else p

  def _jit_progress(self, step):
    p = step.astype(_F32) / jnp.asarray(self.decay_steps, _F32)
    return jnp.floor(p) if self.staircase else p

  def get_config(self):
    return dict(
      initial_learning_rate=self.initial_learning_rate,
      decay_steps=self.decay_steps,
      decay_rate=self.decay_rate,
      staircase=self.staircase,
      name=self.name,
      jit_compile=self.jit_compile,
    )


class ExponentialDecay(_StepDecay):
  r"""Keras's ``ExponentialDecay``: ``initial_learning_rate * decay_rate ** (step / decay_steps)``.

  .. math::

    p = \frac{\mathrm{step}}{\mathrm{decay\_steps}} \ (\lfloor p \rfloor \text{ if staircase}),
    \qquad \eta = \eta_0 \cdot \mathrm{decay\_rate}^{\,p}

  in float32, ``pow`` being XLA's.

  Args:
    initial_learning_rate: :math:`\eta_0`, a finite number.
    decay_steps: > 0.
    decay_rate: a finite number.
    staircase: if True, ``p`` is floored (the rate drops every ``decay_steps``
      updates). Default False.
    name: Keras's label, default ``"ExponentialDecay"`` (unused by the arithmetic).
    jit_compile: False (default): Keras's eager values; True: the values of Keras's
      jitted ``model.fit`` (see the module docstring).

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from adamax_optax.keras.optimizers.schedules import ExponentialDecay
    >>> schedule = ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5, staircase=True)
    >>> print(jax.jit(jax.vmap(schedule))(jnp.arange(6)))
    [0.1   0.1   0.05  0.05  0.025 0.025]

  References:
    ``keras.optimizers.schedules.ExponentialDecay``
    (https://keras.io/api/optimizers/learning_rate_schedules/exponential_decay/).
  """

  def _eager(self, step, ops):
    p = self._eager_progress(step, ops)
    return ops.mul(self.initial_learning_rate, ops.pow(self.decay_rate, p))

  def _jit(self, step):
    lr0 = jnp.asarray(self.initial_learning_rate, _F32)
    return lr0 * jax.lax.pow(jnp.asarray(self.decay_rate, _F32), self._jit_progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
  r"""Keras's ``PiecewiseConstantDecay``: ``values[i]`` between ``boundaries``.

  ``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
  ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` once
  ``step > boundaries[-1]``. The comparisons are on the integer step (boundaries are
  cast to int32, truncating, as Keras casts them to the step's dtype); the value is
  Keras's sum of indicator times value in float32 (so a NaN or inf value, times 0,
  turns every step NaN, as in Keras).

  Args:
    boundaries: strictly increasing numbers (at least one).
    values: finite or not, one more than ``boundaries``.
    name: Keras's label, default ``"PiecewiseConstant"``.
    jit_compile: accepted for uniformity; both modes give the same bits.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from adamax_optax.keras.optimizers.schedules import PiecewiseConstantDecay
    >>> schedule = PiecewiseConstantDecay([1, 3], [1.0, 0.5, 0.25])
    >>> print(jax.jit(jax.vmap(schedule))(jnp.arange(6)))
    [1.   1.   0.5  0.5  0.25 0.25]

  References:
    ``keras.optimizers.schedules.PiecewiseConstantDecay``
    (https://keras.io/api/optimizers/learning_rate_schedules/piecewise_constant_decay/).
  """

  def __init__(
    self,
    boundaries: Sequence[float],
    values: Sequence[float],
    name: str = "PiecewiseConstant",
    *,
    jit_compile: bool = False,
  ):
    boundaries, values = list(boundaries), list(values)
    if len(boundaries) != len(values) - 1:
      raise ValueError(
        "The length of boundaries should be 1 less than the length of values. Received: "
        f"boundaries={boundaries} of length {len(boundaries)}, and values={values} of "
        f"length {len(values)}."
      )
    if not boundaries:
      raise ValueError("boundaries must hold at least one number, got [].")
    for i, b in enumerate(boundaries):
      _check_finite(f"boundaries[{i}]", b)
    for i, v in enumerate(values):
      _check_real(f"values[{i}]", v)
    if any(b >= c for b, c in itertools.pairwise(boundaries)):
      raise ValueError(f"boundaries must be strictly increasing, got {boundaries}.")
    self.boundaries = boundaries
    self.values = values
    self.name = name
    self.jit_compile = bool(jit_compile)

  def _compute(self, step):
    step = step.astype(jnp.int32)
    bounds = [jnp.int32(math.trunc(b)) for b in self.boundaries]
    vals = [jnp.asarray(v, _F32) for v in self.values]
    # Indicator times value is exact and the sums add zeros to one value: no rounding
    # happens, so any evaluation order gives Keras's bits.
    result = jnp.zeros(step.shape, _F32)
    result = result + (step <= bounds[0]).astype(_F32) * vals[0]
    result = result + (step > bounds[-1]).astype(_F32) * vals[-1]
    for low, high, value in zip(bounds[:-1], bounds[1:], vals[1:-1], strict=True):
      result = result + ((step > low) & (step <= high)).astype(_F32) * value
    return result

  def _eager(self, step, ops):
    return self._compute(step)

  def _jit(self, step):
    return self._compute(step)

  def get_config(self):
    return dict(
      boundaries=self.boundaries, values=self.values, name=self.name, jit_compile=self.jit_compile
    )


class PolynomialDecay(LearningRateSchedule):
  r"""Keras's ``PolynomialDecay``: from ``initial_learning_rate`` to ``end_learning_rate``.

  Without ``cycle``: :math:`s = \min(\mathrm{step}, \mathrm{decay\_steps})`,
  :math:`D = \mathrm{decay\_steps}`; with ``cycle``: :math:`s = \mathrm{step}`,
  :math:`D = \mathrm{decay\_steps} \cdot \lceil \mathrm{step} / \mathrm{decay\_steps}
  \rceil` (1 at step 0). Then

  .. math::

    \eta = (\eta_0 - \eta_{end}) \cdot (1 - s / D)^{\mathrm{power}} + \eta_{end}

  in float32 (the product rounded before the add; ``pow`` XLA's).

  Args:
    initial_learning_rate: :math:`\eta_0`, a finite number.
    decay_steps: > 0.
    end_learning_rate: :math:`\eta_{end}`, default 0.0001.
    power: default 1.0.
    cycle: restart the decay every time the step passes a multiple of ``decay_steps``.
      Default False.
    name: Keras's label, default ``"PolynomialDecay"``.
    jit_compile: False (default): Keras's eager values; True: Keras's jitted
      ``model.fit`` values (where ``power=0.5`` without ``cycle`` is NaN from
      ``decay_steps`` on, as there).

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from adamax_optax.keras.optimizers.schedules import PolynomialDecay
    >>> schedule = PolynomialDecay(1.0, decay_steps=4, end_learning_rate=0.0, power=2.0)
    >>> print(jax.jit(jax.vmap(schedule))(jnp.arange(6)))
    [1.     0.5625 0.25   0.0625 0.     0.    ]

  References:
    ``keras.optimizers.schedules.PolynomialDecay``
    (https://keras.io/api/optimizers/learning_rate_schedules/polynomial_decay/).
  """

  def __init__(
    self,
    initial_learning_rate: float,
    decay_steps: float,
    end_learning_rate: float = 0.0001,
    power: float = 1.0,
    cycle: bool = False,
    name: str = "PolynomialDecay",
    *,
    jit_compile: bool = False,
  ):
    _check_finite("initial_learning_rate", initial_learning_rate)
    _check_steps("decay_steps", decay_steps)
    _check_finite("end_learning_rate", end_learning_rate)
    _check_finite("power", power)
    self.initial_learning_rate = initial_learning_rate
    self.decay_steps = decay_steps
    self.end_learning_rate = end_learning_rate
    self.power = power
    self.cycle = bool(cycle)
    self.name = name
    self.jit_compile = bool(jit_compile)

  def _eager(self, step, ops):
    s = step.astype(_F32)
    decay_steps = ops.v(self.decay_steps)
    if self.cycle:
      multiplier = ops.unary(jnp.ceil, ops.div(s, self.decay_steps))
      multiplier = jnp.where(s == 0, jnp.float32(1.0), multiplier)
      decay_steps = ops.mul(decay_steps, multiplier)
    else:
      s = ops.minimum(s, decay_steps)
    p = ops.div(s, decay_steps)
    delta = ops.sub(self.initial_learning_rate, self.end_learning_rate)
    return ops.add(ops.mul(delta, ops.pow(ops.sub(1.0, p), self.power)), self.end_learning_rate)

  def _jit(self, step):
    lr0 = jnp.asarray(self.initial_learning_rate, _F32)
    end = jnp.asarray(self.end_learning_rate, _F32)
    power = jnp.asarray(self.power, _F32)
    s = step.astype(_F32)
    decay_steps = jnp.asarray(self.decay_steps, _F32)
    if self.cycle:
      multiplier = jnp.where(s == 0, 1.0, jnp.ceil(s / self.decay_steps))
      decay_steps = decay_steps * multiplier
    else:
      s = jnp.minimum(s, decay_steps)
    p = s / decay_steps
    return (lr0 - end) * jax.lax.pow(1 - p, power) + end

  def get_config(self):
    return dict(
      initial_learning_rate=self.initial_learning_rate,
      decay_steps=self.decay_steps,
      end_learning_rate=self.end_learning_rate,
      power=self.power,
      cycle=self.cycle,
      name=self.name,
      jit_compile=self.jit_compile,
    )


class InverseTimeDecay(_StepDecay):
  r"""Keras's ``InverseTimeDecay``: ``initial_learning_rate / (1 + decay_rate * p)``.

  .. math::

    p = \frac{\mathrm{step}}{\mathrm{decay\_steps}} \ (\lfloor p \rfloor \text{ if staircase}),
    \qquad \eta = \frac{\eta_0}{1 + \mathrm{decay\_rate} \cdot p}

  in float32, the product rounded before the add.

  Args:
    initial_learning_rate: :math:`\eta_0`, a finite number.
    decay_steps: > 0.
    decay_rate: a finite number.
    staircase: floor ``p``. Default False.
    name: Keras's label, default ``"InverseTimeDecay"``.
    jit_compile: False (default): Keras's eager values; True: Keras's jitted
      ``model.fit`` values.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from adamax_optax.keras.optimizers.schedules import InverseTimeDecay
    >>> schedule = InverseTimeDecay(1.0, decay_steps=1, decay_rate=1.0)
    >>> print(jax.jit(jax.vmap(schedule))(jnp.arange(4)))
    [1.         0.5        0.33333334 0.25      ]

  References:
    ``keras.optimizers.schedules.InverseTimeDecay``
    (https://keras.io/api/optimizers/learning_rate_schedules/inverse_time_decay/).
  """

  def _eager(self, step, ops):
    p = self._eager_progress(step, ops)
    denominator = ops.add(1.0, ops.mul(self.decay_rate, p))
    return ops.div(self.initial_learning_rate, denominator)

  def _jit(self, step):
    lr0 = jnp.asarray(self.initial_learning_rate, _F32)
    p = self._jit_progress(step)
    denominator = jnp.asarray(1, _F32) + jnp.asarray(self.decay_rate, _F32) * p
    return lr0 / denominator


class CosineDecay(LearningRateSchedule):
  r"""Keras's ``CosineDecay``, with its optional linear warmup.

  Without ``warmup_target`` (default), with :math:`s = \min(\mathrm{step},
  \mathrm{decay\_steps})`:

  .. math::

    c = \tfrac12 \left(1 + \cos\!\left(\pi \frac{s}{\mathrm{decay\_steps}}\right)\right),
    \qquad \eta = \eta_0 \left((1 - \alpha) c + \alpha\right)

  With ``warmup_target`` :math:`\eta_w`: :math:`s = \min(\mathrm{step},
  \mathrm{decay\_steps} + \mathrm{warmup\_steps})`; while :math:`s <
  \mathrm{warmup\_steps}`, :math:`\eta = (\eta_w - \eta_0)\, s / \mathrm{warmup\_steps} +
  \eta_0`, then the cosine above on :math:`s - \mathrm{warmup\_steps}`, from
  :math:`\eta_w`. Float32; ``pi`` is float32's; :math:`1 - \alpha` is rounded from
  the double. Inside Keras's ``ops.cond`` (the warmup form) the two ``a * b + c`` are
  fused multiply-adds even eagerly, and are here.

  Args:
    initial_learning_rate: :math:`\eta_0`, a finite number.
    decay_steps: > 0.
    alpha: the floor, as a fraction of the rate decayed from. Default 0.0.
    name: Keras's label, default ``"CosineDecay"``.
    warmup_target: :math:`\eta_w`, or None (default) for no warmup.
    warmup_steps: >= 0, default 0.
    jit_compile: False (default): Keras's eager values; True: Keras's jitted
      ``model.fit`` values.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from adamax_optax.keras.optimizers.schedules import CosineDecay
    >>> schedule = CosineDecay(0.0, decay_steps=2, warmup_target=1.0, warmup_steps=2)
    >>> print(jnp.round(jax.jit(jax.vmap(schedule))(jnp.arange(6)), 4))
    [0.  0.5 1.  0.5 0.  0. ]

  References:
    ``keras.optimizers.schedules.CosineDecay``
    (https://keras.io/api/optimizers/learning_rate_schedules/cosine_decay/);
    Loshchilov & Hutter, SGDR, 2017; Goyal et al. (warmup), 2017.
  """

  def __init__(
    self,
    initial_learning_rate: float,
    decay_steps: float,
    alpha: float = 0.0,
    name: str = "CosineDecay",
    warmup_target: float | None = None,
    warmup_steps: float = 0,
    *,
    jit_compile: bool = False,
  ):
    _check_finite("initial_learning_rate", initial_learning_rate)
    _check_steps("decay_steps", decay_steps)
    _check_finite("alpha", alpha)
    if warmup_target is not None:
      _check_finite("warmup_target", warmup_target)
    _check_real("warmup_steps", warmup_steps)
    check_range("warmup_steps", warmup_steps, 0.0)
    self.initial_learning_rate = initial_learning_rate
    self.decay_steps = decay_steps
    self.alpha = alpha
    self.name = name
    self.warmup_target = warmup_target
    self.warmup_steps = warmup_steps
    self.jit_compile = bool(jit_compile)

  def _eager(self, step, ops):
    s = step.astype(_F32)
    one_minus_alpha = 1.0 - float(self.alpha)  # a Python double in Keras, then float32
    if self.warmup_target is None:
      s = ops.minimum(s, self.decay_steps)
      fraction = ops.div(s, self.decay_steps)
      cosine = ops.unary(jnp.cos, ops.mul(math.pi, fraction))
      decayed = ops.mul(0.5, ops.add(1.0, cosine))
      decayed = ops.add(ops.mul(one_minus_alpha, decayed), self.alpha)
      return ops.mul(self.initial_learning_rate, decayed)
    total = ops.add(self.decay_steps, self.warmup_steps)
    s = ops.minimum(s, total)
    # Keras's ops.cond: both branches compiled, products fused into the adds.
    fraction = ops.div(s, self.warmup_steps)
    delta = ops.sub(self.warmup_target, self.initial_learning_rate)
    warm = ops.fma(delta, fraction, self.initial_learning_rate)
    fraction = ops.div(ops.sub(s, self.warmup_steps), self.decay_steps)
    cosine = ops.unary(jnp.cos, ops.mul(math.pi, fraction))
    decayed = ops.mul(0.5, ops.add(1.0, cosine))
    decayed = ops.fma(one_minus_alpha, decayed, self.alpha)
    decay = ops.mul(self.warmup_target, decayed)
    return jnp.where(s < ops.v(self.warmup_steps), warm, decay)

  def _jit_decay(self, s, decay_steps, decay_from):
    fraction = s / decay_steps
    cosine_decayed = 0.5 * (1.0 + jnp.cos(jnp.asarray(math.pi, _F32) * fraction))
    decayed = (1 - self.alpha) * cosine_decayed + self.alpha
    return decay_from * decayed

  def _jit(self, step):
    lr0 = jnp.asarray(self.initial_learning_rate, _F32)
    decay_steps = jnp.asarray(self.decay_steps, _F32)
    s = step.astype(_F32)
    if self.warmup_target is None:
      return self._jit_decay(jnp.minimum(s, decay_steps), decay_steps, lr0)
    target = jnp.asarray(self.warmup_target, _F32)
    warmup_steps = jnp.asarray(self.warmup_steps, _F32)
    s = jnp.minimum(s, decay_steps + warmup_steps)

    def warm(s):
      return (target - lr0) * (s / warmup_steps) + lr0

    def decay(s):
      return self._jit_decay(s - warmup_steps, decay_steps, target)

    return jax.lax.cond(s < warmup_steps, warm, decay, s)

  def get_config(self):
    return dict(
      initial_learning_rate=self.initial_learning_rate,
      decay_steps=self.decay_steps,
      alpha=self.alpha,
      name=self.name,
      warmup_target=self.warmup_target,
      warmup_steps=self.warmup_steps,
      jit_compile=self.jit_compile,
    )


class CosineDecayRestarts(LearningRateSchedule):
  r"""Keras's ``CosineDecayRestarts`` (SGDR): cosine decays restarted with longer periods.

  With :math:`f = \mathrm{step} / \mathrm{first\_decay\_steps}`, period ``i`` (0 first)
  and :math:`f_i` the fraction of it completed: for :math:`t_{mul} \ne 1`,
  :math:`i = \lfloor \log(1 - f (1 - t_{mul})) / \log t_{mul} \rfloor` and
  :math:`f_i = (f - (1 - t_{mul}^i)/(1 - t_{mul})) / t_{mul}^i`; for :math:`t_{mul} = 1`,
  :math:`i = \lfloor f \rfloor`, :math:`f_i = f - i`. Then

  .. math::

    c = \tfrac12\, m_{mul}^{\,i} \left(1 + \cos(\pi f_i)\right), \qquad
    \eta = \eta_0 \left((1 - \alpha) c + \alpha\right)

  in float32 (:math:`1 - \alpha` in float32 here; the period computation is Keras's
  ``ops.cond`` branch, with its fused multiply-add).

  Args:
    initial_learning_rate: :math:`\eta_0`, a finite number.
    first_decay_steps: > 0, the first period.
    t_mul: > 0, each period's length over the previous one. Default 2.0.
    m_mul: each period's initial rate over the previous one. Default 1.0.
    alpha: the floor, as a fraction of ``initial_learning_rate``. Default 0.0.
    name: Keras's label, default ``"SGDRDecay"``.
    jit_compile: False (default): Keras's eager values; True: Keras's jitted
      ``model.fit`` values.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from adamax_optax.keras.optimizers.schedules import CosineDecayRestarts
    >>> schedule = CosineDecayRestarts(1.0, first_decay_steps=2, m_mul=0.5)
    >>> lr = jax.jit(jax.vmap(schedule))(jnp.arange(7))
    >>> print(" ".join(f"{x:.4f}" for x in lr.tolist()))
    1.0000 0.5000 0.5000 0.4268 0.2500 0.0732 0.2500

  References:
    ``keras.optimizers.schedules.CosineDecayRestarts``
    (https://keras.io/api/optimizers/learning_rate_schedules/cosine_decay_restarts/);
    Loshchilov & Hutter, SGDR: Stochastic Gradient Descent with Warm Restarts, 2017.
  """

  def __init__(
    self,
    initial_learning_rate: float,
    first_decay_steps: float,
    t_mul: float = 2.0,
    m_mul: float = 1.0,
    alpha: float = 0.0,
    name: str = "SGDRDecay",
    *,
    jit_compile: bool = False,
  ):
    _check_finite("initial_learning_rate", initial_learning_rate)
    _check_steps("first_decay_steps", first_decay_steps)
    _check_real("t_mul", t_mul)
    check_range("t_mul", t_mul, 0.0, low_open=True)
    _check_finite("m_mul", m_mul)
    _check_finite("alpha", alpha)
    self.initial_learning_rate = initial_learning_rate
    self.first_decay_steps = first_decay_steps
    self._t_mul = t_mul
    self._m_mul = m_mul
    self.alpha = alpha
    self.name = name
    self.jit_compile = bool(jit_compile)

  @property
  def _geometric(self) -> bool:
    return bool(np.float32(self._t_mul) != np.float32(1.0))

  def _eager(self, step, ops):
    fraction = ops.div(step.astype(_F32), self.first_decay_steps)
    t_mul = ops.v(self._t_mul)
    if self._geometric:
      one_minus_t = ops.sub(1.0, t_mul)
      # 1 - f * (1 - t_mul), fused in Keras's compiled ops.cond branch
      arg = ops.fma(ops.unary(jnp.negative, fraction), one_minus_t, 1.0)
      i_restart = ops.unary(jnp.floor, ops.div(ops.unary(jnp.log, arg), ops.unary(jnp.log, t_mul)))
      t_pow = ops.pow(t_mul, i_restart)
      sum_r = ops.div(ops.sub(1.0, t_pow), one_minus_t)
      fraction = ops.div(ops.sub(fraction, sum_r), t_pow)
    else:
      i_restart = ops.unary(jnp.floor, fraction)
      fraction = ops.sub(fraction, i_restart)
    m_fac = ops.pow(self._m_mul, i_restart)
    cosine = ops.unary(jnp.cos, ops.mul(math.pi, fraction))
    decayed = ops.mul(ops.mul(0.5, m_fac), ops.add(1.0, cosine))
    alpha = ops.v(self.alpha)
    decayed = ops.add(ops.mul(ops.sub(1.0, alpha), decayed), alpha)
    return ops.mul(self.initial_learning_rate, decayed)

  def _jit(self, step):
    lr0 = jnp.asarray(self.initial_learning_rate, _F32)
    first = jnp.asarray(self.first_decay_steps, _F32)
    alpha = jnp.asarray(self.alpha, _F32)
    t_mul = jnp.asarray(self._t_mul, _F32)
    m_mul = jnp.asarray(self._m_mul, _F32)
    step_f = step.astype(_F32)
    fraction = step_f / first
    reciprocal = np.float32(1.0) / np.float32(self.first_decay_steps)

    def geometric():
      i = jnp.floor(jnp.log(1.0 - fraction * (1.0 - t_mul)) / jnp.log(t_mul))
      sum_r = (1.0 - jax.lax.pow(t_mul, i)) / (1.0 - t_mul)
      # In Keras's train step XLA computes `fraction - sum_r` as one fused multiply-add,
      # fma(step, f32(1 / first_decay_steps), -sum_r); a product of its own (the
      # reciprocal hidden from common-subexpression elimination) makes it fuse here too.
      own = step_f * (reciprocal + step_f * jnp.float32(0.0))
      return i, (own + rounded(-sum_r)) / jax.lax.pow(t_mul, i)

    def arithmetic():
      i = jnp.floor(fraction)
      return i, fraction - i

    i_restart, fraction = jax.lax.cond(t_mul == 1.0, arithmetic, geometric)
    m_fac = jax.lax.pow(m_mul, i_restart)
    cosine_decayed = 0.5 * m_fac * (1.0 + jnp.cos(jnp.asarray(math.pi, _F32) * fraction))
    return lr0 * ((1 - alpha) * cosine_decayed + alpha)

  def get_config(self):
    return dict(
      initial_learning_rate=self.initial_learning_rate,
      first_decay_steps=self.first_decay_steps,
      t_mul=self._t_mul,
      m_mul=self._m_mul,
      alpha=self.alpha,
      name=self.name,
      jit_compile=self.jit_compile,
    )


__all__ = [
  "CosineDecay",
  "CosineDecayRestarts",
  "ExponentialDecay",
  "InverseTimeDecay",
  "LearningRateSchedule",
  "PiecewiseConstantDecay",
  "PolynomialDecay",
]
