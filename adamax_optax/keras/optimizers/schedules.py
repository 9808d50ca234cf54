"""``keras.optimizers.schedules``'s mirror: Keras 3's learning-rate schedules, bit for bit.

Each class takes Keras's arguments (names, order, defaults) and is an optax schedule
``count -> float32 lr``: Keras calls its schedule with ``optimizer.iterations`` (0 on the
first update), which is optax's count. ``jit_compile`` picks Keras's eager values
(``False``) or those of its compiled ``model.fit`` (``True``); the default follows the
optimizer. The two modes, and what else a port meets: :doc:`/porting/keras` (Schedulers).

Each formula is written once, in Keras's order, as calls on an evaluator ``ops``
(``ops.div(step, decay_steps)``, ``ops.cond(...)``); the mode picks the evaluator:
:class:`_PlainOps` writes each call as the plain ``jax.numpy`` operation, which XLA
rewrites as in Keras's train step, :class:`_EagerOps` the same operation made opaque and
rounded.

Reference: https://keras.io/api/optimizers/learning_rate_schedules/ (Keras 3.15).
"""

import contextlib
import copy
import inspect
import itertools
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from adamax_optax._rounding import rounded
from adamax_optax.validation import check_range

_F32 = jnp.float32


def _mode(jit_compile) -> bool | None:
  """``jit_compile`` as given: ``None`` (follow the optimizer; eager when called alone),
  else a bool."""
  return None if jit_compile is None else bool(jit_compile)


@jax.jit
def _multiply_add(a, b, c):
  """``a * b + c``, compiled: XLA contracts it into a fused multiply-add, also when
  called eagerly (inside a trace the jit is inlined, and contracted there)."""
  return a * b + c


class _PlainOps:
  """Keras's operations written plainly, in Keras's order, for ``jit_compile=True``.

  XLA then rewrites them as it does inside Keras's jitted train step (reciprocals,
  fused multiply-adds, ``sqrt``). Constants are concrete float32 arrays, so an operation
  on constants alone is computed as the formula is traced, as in Keras. :class:`_EagerOps`
  is the same evaluator with every operation made opaque and rounded.
  """

  def v(self, x) -> jax.Array:
    """``x`` (a number or an array) as a float32 array."""
    if isinstance(x, jax.Array):
      return x
    return jnp.asarray(x, _F32)

  def _done(self, x: jax.Array) -> jax.Array:
    """Where every operation's result goes: as it is here, rounded in :class:`_EagerOps`."""
    return x

  def add(self, a, b):
    return self._done(self.v(a) + self.v(b))

  def sub(self, a, b):
    return self._done(self.v(a) - self.v(b))

  def mul(self, a, b):
    return self._done(self.v(a) * self.v(b))

  def div(self, a, b):
    return self._done(self.v(a) / self.v(b))

  def pow(self, a, b):
    return self._done(jax.lax.pow(self.v(a), self.v(b)))

  def minimum(self, a, b):
    return self._done(jnp.minimum(self.v(a), self.v(b)))

  def floor(self, a):
    return self._done(jnp.floor(self.v(a)))

  def ceil(self, a):
    return self._done(jnp.ceil(self.v(a)))

  def cos(self, a):
    return self._done(jnp.cos(self.v(a)))

  def log(self, a):
    return self._done(jnp.log(self.v(a)))

  def where(self, condition, a, b):
    # A select rounds nothing: a number stays a plain constant, in both modes.
    return jnp.where(condition, a, b)

  def multiply_add(self, a, b, c):
    """Keras's ``a * b + c``."""
    return self.v(a) * self.v(b) + self.v(c)

  def subtract_product(self, c, a, b):
    """Keras's ``c - a * b``."""
    return self.v(c) - self.v(a) * self.v(b)

  def divide_subtract(self, a, b: float, c):
    """Keras's ``a / b - c`` for a constant ``b``, as XLA compiles it in Keras's train
    step: one fused multiply-add, ``fma(a, float32(1 / b), -c)``."""
    reciprocal = np.float32(1.0) / np.float32(b)
    # A product of its own (the reciprocal hidden from common-subexpression elimination,
    # which would otherwise share ``a / b`` with its other readers) makes XLA fuse it.
    own = a * (reciprocal + a * jnp.float32(0.0))
    return own + rounded(-self.v(c))

  def cond(self, condition, on_true: Callable, on_false: Callable):
    """Keras's ``ops.cond``: each branch is a function of an evaluator."""
    return jax.lax.cond(condition, lambda: on_true(self), lambda: on_false(self))


class _EagerOps(_PlainOps):
  """Keras's eager arithmetic inside any trace: one rounding per operation, no rewrites.

  Every constant is made to depend on the step (``c + step * 0``, a value the compiler
  cannot know) and every result passes through :func:`rounded`. XLA and LLVM then
  cannot fold a constant expression (at compile time ``cos``, ``log`` and ``pow`` would
  be the host's, not XLA's kernels), replace a division by a multiply by the reciprocal
  (XLA does so for a constant or broadcast divisor), merge constant factors, turn
  ``pow(x, 0.5)`` into ``sqrt(x)`` or ``pow(x, 2)`` into ``x * x`` (LLVM does so for a
  visible exponent, even one behind a select), or contract a product into a following
  add. Inside a ``cond`` branch, which Keras compiles even eagerly, ``a * b + c`` is
  fused (``fused=True``, by :func:`_multiply_add`). Tested under ``jax.jit`` with
  ``vmap`` and ``scan`` on the CPU. A step that is not traced (a Python int, also inside
  ``jit``) is evaluated eagerly.
  """

  def __init__(self, zero: jax.Array, fused: bool = False):
    self._zero = zero
    self._fused = fused

  def v(self, x) -> jax.Array:
    """``x`` (a number or an array) as an opaque float32 array shaped like the step."""
    if isinstance(x, jax.Array):
      return x
    return jnp.float32(x) + self._zero

  def _done(self, x: jax.Array) -> jax.Array:
    return rounded(x)

  def multiply_add(self, a, b, c):
    """Keras's ``a * b + c``: rounded twice, or once in a compiled ``ops.cond`` branch."""
    if self._fused:
      return rounded(_multiply_add(self.v(a), self.v(b), self.v(c)))
    return self.add(self.mul(a, b), c)

  def subtract_product(self, c, a, b):
    """Keras's ``c - a * b``: rounded twice, or once in a compiled ``ops.cond`` branch."""
    if self._fused:
      return rounded(_multiply_add(rounded(-self.v(a)), self.v(b), self.v(c)))
    return self.sub(c, self.mul(a, b))

  def divide_subtract(self, a, b: float, c):
    return self.sub(self.div(a, b), c)

  def cond(self, condition, on_true: Callable, on_false: Callable):
    """Keras's ``ops.cond``: the branch a Python ``condition`` picks, else both, selected."""
    branch_ops = _EagerOps(self._zero, fused=True)
    if isinstance(condition, (bool, np.bool_)):
      return on_true(branch_ops) if condition else on_false(branch_ops)
    return jnp.where(condition, on_true(branch_ops), on_false(branch_ops))


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

  ``step`` is Keras's ``optimizer.iterations``, optax's count. Subclasses define
  ``_learning_rate(step, ops)``, Keras's formula once, with ``ops`` an :class:`_EagerOps`
  (Keras's eager arithmetic) or a :class:`_PlainOps` (``jit_compile=True``).

  A subclass's ``jit_compile`` argument: False, Keras's eager values (``optimizer.apply``
  outside ``jax.jit``, ``schedule(step)`` called directly); True, those of Keras's
  compiled ``model.fit``; None (default), the optimizer's mode, eager when called alone.
  """

  jit_compile: bool | None = None

  def in_mode(self, jit_compile: bool) -> "LearningRateSchedule":
    """This schedule as an optimizer compiled (``True``) or run eagerly (``False``)
    evaluates it; itself when its own ``jit_compile`` was given.

    ``keras_adamax`` calls it with its own ``jit_compile``, so a schedule built with the
    default follows the optimizer's mode, as a Keras schedule follows the train step.
    """
    if self.jit_compile is not None:
      return self
    resolved = copy.copy(self)
    resolved.jit_compile = bool(jit_compile)
    return resolved

  def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
    if self.jit_compile:
      return self._learning_rate(jnp.asarray(step), _PlainOps())
    # A concrete step (a Python int, also inside jit) is evaluated now, op by op, as
    # Keras evaluates it eagerly: traced, XLA would fold it with the host's cos/pow/log.
    if isinstance(step, jax.core.Tracer):
      evaluation = contextlib.nullcontext()
    else:
      evaluation = jax.ensure_compile_time_eval()
    with evaluation:
      step = jnp.asarray(step)
      # ``step * 0`` is +0 for every finite step, and no compiler may fold it (it would
      # be NaN for a NaN or infinite step).
      return self._learning_rate(step, _EagerOps(zero=step.astype(_F32) * jnp.float32(0.0)))

  def _learning_rate(self, step: jax.Array, ops: _PlainOps) -> jax.Array:
    raise NotImplementedError

  def get_config(self) -> dict[str, Any]:
    """The constructor's arguments (Keras's ``get_config``, plus ``jit_compile``)."""
    # Every schedule keeps each constructor argument as the attribute of the same name.
    arguments = inspect.signature(type(self)).parameters
    return {name: getattr(self, name) for name in arguments}

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
    jit_compile: bool | None = None,
  ):
    _check_finite("initial_learning_rate", initial_learning_rate)
    _check_steps("decay_steps", decay_steps)
    _check_finite("decay_rate", decay_rate)
    self.initial_learning_rate = initial_learning_rate
    self.decay_steps = decay_steps
    self.decay_rate = decay_rate
    self.staircase = bool(staircase)
    self.name = type(self).__name__ if name is None else name
    self.jit_compile = _mode(jit_compile)

  def _progress(self, step, ops):
    p = ops.div(step.astype(_F32), self.decay_steps)
    return ops.floor(p) if self.staircase else p


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
    name: Keras's label, default ``"ExponentialDecay"``.
    jit_compile: see :class:`LearningRateSchedule`; default None.

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

  def _learning_rate(self, step, ops):
    p = self._progress(step, ops)
    return ops.mul(self.initial_learning_rate, ops.pow(self.decay_rate, p))


class PiecewiseConstantDecay(LearningRateSchedule):
  r"""Keras's ``PiecewiseConstantDecay``: ``values[i]`` between ``boundaries``.

  ``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
  ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` once
  ``step > boundaries[-1]``, compared on the integer step; Keras's sum of indicator times
  value, in float32.

  Args:
    boundaries: strictly increasing numbers (at least one).
    values: finite or not, one more than ``boundaries``.
    name: Keras's label, default ``"PiecewiseConstant"``.
    jit_compile: accepted; both modes give the same bits.

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
    jit_compile: bool | None = None,
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
    self.jit_compile = _mode(jit_compile)

  def _learning_rate(self, step, ops):
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
    jit_compile: see :class:`LearningRateSchedule`; default None.

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
    jit_compile: bool | None = None,
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
    self.jit_compile = _mode(jit_compile)

  def _learning_rate(self, step, ops):
    s = step.astype(_F32)
    decay_steps = ops.v(self.decay_steps)
    if self.cycle:
      multiplier = ops.where(s == 0, 1.0, ops.ceil(ops.div(s, self.decay_steps)))
      decay_steps = ops.mul(decay_steps, multiplier)
    else:
      s = ops.minimum(s, decay_steps)
    p = ops.div(s, decay_steps)
    delta = ops.sub(self.initial_learning_rate, self.end_learning_rate)
    decayed = ops.pow(ops.sub(1.0, p), self.power)
    return ops.multiply_add(delta, decayed, self.end_learning_rate)


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
    jit_compile: see :class:`LearningRateSchedule`; default None.

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

  def _learning_rate(self, step, ops):
    p = self._progress(step, ops)
    denominator = ops.add(1.0, ops.mul(self.decay_rate, p))
    return ops.div(self.initial_learning_rate, denominator)


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
  the double.

  Args:
    initial_learning_rate: :math:`\eta_0`, a finite number.
    decay_steps: > 0.
    alpha: the floor, as a fraction of the rate decayed from. Default 0.0.
    name: Keras's label, default ``"CosineDecay"``.
    warmup_target: :math:`\eta_w`, or None (default) for no warmup.
    warmup_steps: >= 0, default 0.
    jit_compile: see :class:`LearningRateSchedule`; default None.

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
    jit_compile: bool | None = None,
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
    self.jit_compile = _mode(jit_compile)

  def _learning_rate(self, step, ops):
    s = step.astype(_F32)
    if self.warmup_target is None:
      s = ops.minimum(s, self.decay_steps)
      return self._cosine_decay(s, self.initial_learning_rate, ops)
    warmup_steps = ops.v(self.warmup_steps)
    s = ops.minimum(s, ops.add(self.decay_steps, self.warmup_steps))

    def warmup(ops):
      fraction = ops.div(s, warmup_steps)
      delta = ops.sub(self.warmup_target, self.initial_learning_rate)
      return ops.multiply_add(delta, fraction, self.initial_learning_rate)

    def decay(ops):
      return self._cosine_decay(ops.sub(s, warmup_steps), self.warmup_target, ops)

    return ops.cond(s < warmup_steps, warmup, decay)

  def _cosine_decay(self, s, decay_from, ops):
    fraction = ops.div(s, self.decay_steps)
    cosine = ops.cos(ops.mul(math.pi, fraction))
    decayed = ops.mul(0.5, ops.add(1.0, cosine))
    one_minus_alpha = 1.0 - float(self.alpha)  # a Python double in Keras, then float32
    decayed = ops.multiply_add(one_minus_alpha, decayed, self.alpha)
    return ops.mul(decay_from, decayed)


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

  in float32 (:math:`1 - \alpha` too).

  Args:
    initial_learning_rate: :math:`\eta_0`, a finite number.
    first_decay_steps: > 0, the first period.
    t_mul: > 0, each period's length over the previous one. Default 2.0.
    m_mul: each period's initial rate over the previous one. Default 1.0.
    alpha: the floor, as a fraction of ``initial_learning_rate``. Default 0.0.
    name: Keras's label, default ``"SGDRDecay"``.
    jit_compile: see :class:`LearningRateSchedule`; default None.

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
    jit_compile: bool | None = None,
  ):
    _check_finite("initial_learning_rate", initial_learning_rate)
    _check_steps("first_decay_steps", first_decay_steps)
    _check_real("t_mul", t_mul)
    check_range("t_mul", t_mul, 0.0, low_open=True)
    _check_finite("m_mul", m_mul)
    _check_finite("alpha", alpha)
    self.initial_learning_rate = initial_learning_rate
    self.first_decay_steps = first_decay_steps
    self.t_mul = t_mul
    self.m_mul = m_mul
    self.alpha = alpha
    self.name = name
    self.jit_compile = _mode(jit_compile)

  def _learning_rate(self, step, ops):
    step = step.astype(_F32)
    fraction = ops.div(step, self.first_decay_steps)
    t_mul = ops.v(self.t_mul)

    def geometric(ops):
      one_minus_t = ops.sub(1.0, t_mul)
      log_argument = ops.subtract_product(1.0, fraction, one_minus_t)
      i_restart = ops.floor(ops.div(ops.log(log_argument), ops.log(t_mul)))
      t_pow = ops.pow(t_mul, i_restart)
      sum_r = ops.div(ops.sub(1.0, t_pow), one_minus_t)
      # Keras's ``completed_fraction - sum_r``, with ``completed_fraction = step / first``
      return i_restart, ops.div(ops.divide_subtract(step, self.first_decay_steps, sum_r), t_pow)

    def arithmetic(ops):
      i_restart = ops.floor(fraction)
      return i_restart, ops.sub(fraction, i_restart)

    t_mul_is_one = bool(np.float32(self.t_mul) == 1.0)  # Keras's ops.equal, known now
    i_restart, fraction = ops.cond(t_mul_is_one, arithmetic, geometric)
    m_fac = ops.pow(self.m_mul, i_restart)
    cosine = ops.cos(ops.mul(math.pi, fraction))
    decayed = ops.mul(ops.mul(0.5, m_fac), ops.add(1.0, cosine))
    alpha = ops.v(self.alpha)
    decayed = ops.multiply_add(ops.sub(1.0, alpha), decayed, alpha)
    return ops.mul(self.initial_learning_rate, decayed)


__all__ = [
  "CosineDecay",
  "CosineDecayRestarts",
  "ExponentialDecay",
  "InverseTimeDecay",
  "LearningRateSchedule",
  "PiecewiseConstantDecay",
  "PolynomialDecay",
]
