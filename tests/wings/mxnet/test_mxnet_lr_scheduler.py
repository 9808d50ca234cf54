"""MXNet's schedulers against the formulas in MXNet's documentation, under jit."""

import math

import jax
import numpy as np
import pytest

from adamax_optax import CosineScheduler, FactorScheduler, MultiFactorScheduler, PolyScheduler


def values(sched, counts):
  return np.asarray(jax.jit(jax.vmap(sched))(np.asarray(counts, np.int32)))


def test_factor():
  sched = FactorScheduler(step=10, factor=0.5, base_lr=1.0, stop_factor_lr=0.1)
  n = np.arange(1, 60)
  want = np.maximum(1.0 * 0.5 ** ((n - 1) // 10), 0.1)
  np.testing.assert_allclose(values(sched, n), want, rtol=1e-6)


def test_multifactor_with_linear_warmup():
  sched = MultiFactorScheduler(
    step=[5, 9], factor=0.1, base_lr=1.0, warmup_steps=3, warmup_begin_lr=0.4
  )
  n = np.arange(1, 14)
  want = [0.4 + 0.6 * k / 3 if k < 3 else 1.0 * 0.1 ** sum(k > s for s in (5, 9)) for k in n]
  np.testing.assert_allclose(values(sched, n), want, rtol=1e-6)


def test_poly_and_cosine_hold_final_lr_after_max_update():
  poly = PolyScheduler(
    max_update=20,
    base_lr=1.0,
    pwr=2,
    final_lr=0.1,
    warmup_steps=4,
    warmup_mode="constant",
    warmup_begin_lr=0.05,
  )
  cosine = CosineScheduler(max_update=20, base_lr=1.0, final_lr=0.1)
  n = np.arange(1, 30)
  want_poly = [0.05 if k < 4 else 0.1 + 0.9 * (1 - (min(k, 20) - 4) / 16) ** 2 for k in n]
  want_cos = [0.1 + 0.9 * (1 + math.cos(math.pi * min(k, 20) / 20)) / 2 for k in n]
  np.testing.assert_allclose(values(poly, n), want_poly, rtol=1e-5)
  np.testing.assert_allclose(values(cosine, n), want_cos, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
  "build, message",
  [
    (lambda: FactorScheduler(step=0), "step must be an int >= 1"),
    (lambda: FactorScheduler(step=2, factor=1.5), r"factor must be in \[0.0, 1.0\]"),
    (lambda: MultiFactorScheduler(step=[5, 3]), "step must be strictly increasing"),
    (lambda: PolyScheduler(max_update=0), "max_update must be an int >= 1"),
    (lambda: CosineScheduler(max_update=5, warmup_steps=9), "warmup_steps .9. must not exceed"),
    (lambda: FactorScheduler(base_lr=0.1, warmup_begin_lr=0.5), "warmup_begin_lr .0.5. must not"),
    (lambda: FactorScheduler(warmup_mode="cubic"), "warmup_mode must be 'linear' or 'constant'"),
  ],
)
def test_invalid_arguments(build, message):
  with pytest.raises(ValueError, match=message):
    build()
