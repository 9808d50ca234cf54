"""MXNet's learning-rate schedulers as jittable callables of MXNet's update count.

MXNet calls a scheduler with ``num_update``, the number of updates *including* the
current one (1 on the first step, plus ``begin_num_update``); optax schedules see 0
first. These classes take MXNet's count and MXNet's keyword names, and compute in
float32 under ``jax.jit``. MXNet's own scheduler objects are stateful; these closed
forms give the same values for the increasing counts an optimizer produces.

Warmup (every scheduler): for ``num_update < warmup_steps`` the rate is
``warmup_begin_lr + (base_lr - warmup_begin_lr) * num_update / warmup_steps``
(``warmup_mode="linear"``) or ``warmup_begin_lr`` (``"constant"``).
"""

import dataclasses
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp

from adamax_optax.validation import check_range


@dataclasses.dataclass(frozen=True)
class _Scheduler:
  """Shared warmup handling; subclasses define ``_after_warmup``."""

  base_lr: float = 0.01
  warmup_steps: int = 0
  warmup_begin_lr: float = 0.0
  warmup_mode: str = "linear"

  def __post_init__(self):
    check_range("base_lr", self.base_lr)
    check_range("warmup_begin_lr", self.warmup_begin_lr)
    _check_int("warmup_steps", self.warmup_steps, 0)
    if self.warmup_begin_lr > self.base_lr:
      raise ValueError(
        f"warmup_begin_lr ({self.warmup_begin_lr}) must not exceed base_lr ({self.base_lr})."
      )
    if self.warmup_mode not in ("linear", "constant"):
      raise ValueError(f"warmup_mode must be 'linear' or 'constant', got {self.warmup_mode!r}.")

  def with_base_lr(self, base_lr: float):
    """A copy with another ``base_lr`` (MXNet's optimizer overrides it this way)."""
    return dataclasses.replace(self, base_lr=base_lr)

  def __call__(self, num_update: jax.typing.ArrayLike) -> jax.Array:
    n = jnp.asarray(num_update, jnp.float32)
    if self.warmup_mode == "linear":
      warmup = self.warmup_begin_lr + (self.base_lr - self.warmup_begin_lr) * n / max(
        self.warmup_steps, 1
      )
    else:
      warmup = jnp.full_like(n, self.warmup_begin_lr)
    return jnp.where(n < self.warmup_steps, warmup, self._after_warmup(n)).astype(jnp.float32)

  def _after_warmup(self, n: jax.Array) -> jax.Array:
    raise NotImplementedError


def _check_int(name: str, value, low: int) -> None:
  if isinstance(value, bool) or not isinstance(value, int) or value < low:
    raise ValueError(f"{name} must be an int >= {low}, got {value!r}.")


@dataclasses.dataclass(frozen=True)
class FactorScheduler(_Scheduler):
  """``base_lr * factor ** floor((num_update - 1) / step)``, never below ``stop_factor_lr``.

  Example:
    >>> from adamax_optax import FactorScheduler
    >>> print(FactorScheduler(step=2, factor=0.5, base_lr=1.0)(5))
    0.25
  """

  step: int = 1
  factor: float = 1.0
  stop_factor_lr: float = 1e-8

  def __post_init__(self):
    super().__post_init__()
    _check_int("step", self.step, 1)
    check_range("factor", self.factor, 0.0, 1.0)
    check_range("stop_factor_lr", self.stop_factor_lr, 0.0)

  def _after_warmup(self, n):
    decays = jnp.maximum(jnp.floor((n - 1) / self.step), 0)
    return jnp.maximum(self.base_lr * self.factor**decays, self.stop_factor_lr)


@dataclasses.dataclass(frozen=True)
class MultiFactorScheduler(_Scheduler):
  """``base_lr * factor ** k``, ``k`` the number of milestones in ``step`` below num_update.

  Example:
    >>> from adamax_optax import MultiFactorScheduler
    >>> print(round(float(MultiFactorScheduler(step=(3, 6), factor=0.1, base_lr=1.0)(7)), 6))
    0.01
  """

  step: Sequence[int] = (1,)
  factor: float = 1.0

  def __post_init__(self):
    super().__post_init__()
    object.__setattr__(self, "step", tuple(self.step))
    if not self.step:
      raise ValueError("step must list at least one milestone.")
    for i, milestone in enumerate(self.step):
      _check_int(f"step[{i}]", milestone, 1)
      if i and milestone <= self.step[i - 1]:
        raise ValueError(f"step must be strictly increasing, got {list(self.step)}.")
    check_range("factor", self.factor, 0.0, 1.0)

  def _after_warmup(self, n):
    passed = sum((n > milestone).astype(jnp.float32) for milestone in self.step)
    return self.base_lr * self.factor**passed


@dataclasses.dataclass(frozen=True)
class _DecayToFinal(_Scheduler):
  max_update: int = 1
  final_lr: float = 0.0

  def __post_init__(self):
    super().__post_init__()
    _check_int("max_update", self.max_update, 1)
    check_range("final_lr", self.final_lr)
    if self.warmup_steps > self.max_update:
      raise ValueError(
        f"warmup_steps ({self.warmup_steps}) must not exceed max_update ({self.max_update})."
      )

  def _progress(self, n):
    """Fraction of the decay done, in [0, 1]; held at 1 after ``max_update``."""
    span = max(self.max_update - self.warmup_steps, 1)
    return jnp.clip((jnp.minimum(n, self.max_update) - self.warmup_steps) / span, 0.0, 1.0)


@dataclasses.dataclass(frozen=True)
class PolyScheduler(_DecayToFinal):
  """``final_lr + (base_lr - final_lr) * (1 - progress) ** pwr`` up to ``max_update``.

  Example:
    >>> from adamax_optax import PolyScheduler
    >>> print(PolyScheduler(max_update=10, base_lr=1.0, pwr=2)(5))
    0.25
  """

  pwr: float = 2.0

  def __post_init__(self):
    super().__post_init__()
    check_range("pwr", self.pwr, 0.0)

  def _after_warmup(self, n):
    return self.final_lr + (self.base_lr - self.final_lr) * (1 - self._progress(n)) ** self.pwr


@dataclasses.dataclass(frozen=True)
class CosineScheduler(_DecayToFinal):
  """``final_lr + (base_lr - final_lr) * (1 + cos(pi * progress)) / 2`` to ``max_update``.

  Example:
    >>> from adamax_optax import CosineScheduler
    >>> print(round(float(CosineScheduler(max_update=10, base_lr=1.0)(5)), 6))
    0.5
  """

  def _after_warmup(self, n):
    cosine = (1 + jnp.cos(math.pi * self._progress(n))) / 2
    return self.final_lr + (self.base_lr - self.final_lr) * cosine


__all__ = ["CosineScheduler", "FactorScheduler", "MultiFactorScheduler", "PolyScheduler"]
