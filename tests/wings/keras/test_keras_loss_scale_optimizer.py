"""LossScaleOptimizer around keras_adamax, bit for bit against Keras 3.15.1 (JAX backend, CPU).

The recording (tests/golden/keras/keras_lso_jit.npz, from gen_loss_scale_optimizer.py) is
300 closed-loop float32 steps of keras.optimizers.LossScaleOptimizer(Adamax(0.02),
initial_scale=2**116, dynamic_growth_steps=20) with ``stateless_apply`` under ``jax.jit``
(model.fit's step; outside jit Keras gives the same bits): four overflowing steps halve
the scale to 2**112, it doubles every 20 finite steps, and a 1e30 gradient and a NaN skip
two more. keras_lso_odd_scale_jit.npz starts from 3 * 2**112, a scale that is no power
of two, and so pins Keras's division by the scale. Params, m, u, the inner iterations,
the scale and the step counter are compared at every step.
"""

import json

import golden_data
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from harness import first_recorded_difference, replay_recording

from adamax_optax import moments
from adamax_optax.keras.optimizers import Adamax, LossScaleOptimizer, scale_loss
from adamax_optax.loss_scaling import dynamic_loss_scaling

KEYS = ("w", "b", "s")
NAMES = ("keras_lso_jit", "keras_lso_odd_scale_jit")
CPU_ONLY = pytest.mark.skipif(
  jax.default_backend() != "cpu", reason="golden values recorded with XLA on the CPU"
)


def _load(name="keras_lso_jit"):
  data = golden_data.read_recording(golden_data.GOLDEN_DIR / "keras" / f"{name}.npz")
  return data, json.loads(str(data["meta"]))


def _first_difference(name, unscale=None):
  data, meta = _load(name)
  inner = Adamax(**meta["optimizer_kwargs"], jit_compile=True)
  opt = LossScaleOptimizer(inner, **meta["wrapper_kwargs"])
  if unscale is not None:  # the core rule with Keras's division swapped
    kwargs = meta["wrapper_kwargs"]
    opt = dynamic_loss_scaling(
      inner,
      kwargs["initial_scale"],
      2.0,
      0.5,
      kwargs["dynamic_growth_steps"],
      unscale=unscale,
      factor_product="float32",
      growth_stops_at_float32_max=False,
    )
  for t, params, state in replay_recording(opt, data, KEYS, meta["T"], as_tree=list):
    mu, nu, count = moments(state)
    bitwise = {"dynamic_scale": state.scale}
    for j, k in enumerate(KEYS):
      bitwise.update({f"param_{k}": params[j], f"m_{k}": mu[j], f"u_{k}": nu[j]})
    counts = {"step_counter": state.growth_tracker, "iterations": count}
    difference = first_recorded_difference(data, t, bitwise, counts, "Keras")
    if difference:
      return difference
  return None


@CPU_ONLY
@pytest.mark.parametrize("name", NAMES)
def test_recording_bit_for_bit(name):
  difference = _first_difference(name)
  assert difference is None, f"{name}: {difference}"


@CPU_ONLY
def test_the_odd_scale_recording_pins_the_division():
  assert _first_difference("keras_lso_odd_scale_jit", unscale="reciprocal") is not None


def test_the_recording_halves_skips_and_doubles():
  data, _ = _load()
  exponents = np.log2(data["dynamic_scale"]).astype(int)
  np.testing.assert_array_equal(exponents[:6], [116, 115, 114, 113, 112, 112])
  assert exponents[24] == 113 and exponents[44] == 114  # every 20 finite steps
  its = data["iterations"]
  assert [t for t in range(1, 301) if its[t] == its[t - 1]] == [1, 2, 3, 4, 120, 150]


def test_divides_by_the_scale():
  # 3 is not a power of two: Keras divides by it; multiplying by f32(1/3) differs here.
  opt = LossScaleOptimizer(optax.identity(), initial_scale=3.0)
  g = jnp.float32(1 + 2 * 2**-23)
  updates, _ = opt.update(g, opt.init(g))
  assert updates == g / jnp.float32(3) and updates != g * jnp.float32(1 / 3)


def test_the_scale_grows_to_inf_as_in_keras():
  opt = LossScaleOptimizer(optax.sgd(1.0), initial_scale=2.0**127, dynamic_growth_steps=1)
  w = jnp.zeros(1)
  _, state = opt.update(jnp.zeros(1), opt.init(w), w)
  assert np.isposinf(float(state.scale))


def test_defaults_and_scale_loss():
  state = LossScaleOptimizer(optax.sgd(1.0)).init(jnp.ones(1))
  assert state.scale.dtype == jnp.float32 and float(state.scale) == 2.0**15
  assert scale_loss(jnp.float32(0.5), state) == 2.0**14
  w = jnp.ones(1)
  opt = LossScaleOptimizer(optax.sgd(1.0), dynamic_growth_steps=3)
  state = opt.init(w)
  for _ in range(3):
    _, state = opt.update(jnp.ones(1), state, w)
  assert float(state.scale) == 2.0**16 and int(state.growth_tracker) == 0


@pytest.mark.parametrize(
  ("kwargs", "match"),
  [
    ({"initial_scale": 0.0}, "initial_scale"),
    ({"initial_scale": 2.0**128}, "initial_scale"),
    ({"dynamic_growth_steps": 0}, "dynamic_growth_steps"),
    ({"dynamic_growth_steps": 2.5}, "dynamic_growth_steps"),
  ],
)
def test_bad_arguments_name_themselves(kwargs, match):
  with pytest.raises(ValueError, match=match):
    LossScaleOptimizer(optax.sgd(1.0), **kwargs)
