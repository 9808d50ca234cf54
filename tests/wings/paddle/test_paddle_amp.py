"""adamax_optax.paddle.amp.GradScaler around paddle_adamax, bit for bit against Paddle 3.3.1.

The recordings (tests/golden/paddle/amp_*.npz, from gen_grad_scaler.py) are 300 closed-loop
float32 steps of paddle.amp.GradScaler with paddle.optimizer.Adamax on the CPU, the
scaler's place check bypassed so that Paddle's own kernels and update() rule run:
  amp_adamax_2e116: init 2**116, incr_every_n_steps=20, decr_every_n_nan_or_inf=2; eight
    overflowing steps in a row halve the scale four times (to 2**112), a lone NaN is
    skipped without a backoff, two infs in a row back off once;
  amp_adamax_odd_ratios: init 3 * 2**112, ratios 1.7 / 0.3: a scale that is no power of
    two pins the float32 unscale and the float32 ratio products.
Params, m, u, beta1_pow, the scale, incr_count and decr_count are compared at every step.
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
from adamax_optax.loss_scaling import DynamicLossScaleState, dynamic_loss_scaling
from adamax_optax.paddle.amp import GradScaler, scale
from adamax_optax.paddle.optimizer import Adamax
from adamax_optax.scale_by_adamax import ScaleByAdamaxState

NAMES = ("amp_adamax_2e116", "amp_adamax_odd_ratios")
KEYS = ("w", "b", "s")


def _load(name):
  data = golden_data.read_recording(golden_data.GOLDEN_DIR / "paddle" / f"{name}.npz")
  return data, json.loads(str(data["meta"]))


def _b1_power(state):
  is_adamax = lambda node: isinstance(node, ScaleByAdamaxState)
  (adamax_state,) = [s for s in jax.tree.leaves(state, is_leaf=is_adamax) if is_adamax(s)]
  return adamax_state.b1_power


def _first_difference(name, **overrides):
  data, meta = _load(name)
  opt = GradScaler(Adamax(**meta["optimizer_kwargs"]), **meta["grad_scaler"])
  if overrides:  # the core rule with one of Paddle's choices changed
    opt = dynamic_loss_scaling_like_paddle(Adamax(**meta["optimizer_kwargs"]), meta, overrides)
  for t, params, state in replay_recording(opt, data, KEYS, meta["T"]):
    mu, nu, _ = moments(state)
    bitwise = {"scale": state.scale}
    # Paddle's beta1_pow after step t is the power its step t + 1 will use: ours times beta1.
    next_b1_power = _b1_power(state) * jnp.float32(meta["optimizer_kwargs"]["beta1"])
    for k in KEYS:
      bitwise[f"beta1_pow_{k}"] = next_b1_power
    for k in KEYS:
      bitwise.update({f"param_{k}": params[k], f"m_{k}": mu[k], f"u_{k}": nu[k]})
    counts = {"incr_count": state.growth_tracker, "decr_count": state.backoff_tracker}
    difference = first_recorded_difference(data, t, bitwise, counts, "Paddle")
    if difference:
      return difference
  return None


@pytest.mark.parametrize("name", NAMES)
def test_recording_bit_for_bit(name):
  difference = _first_difference(name)
  assert difference is None, f"{name}: {difference}"


def dynamic_loss_scaling_like_paddle(optimizer, meta, overrides):
  kwargs = meta["grad_scaler"]
  choices = dict(
    unscale="reciprocal",
    factor_product="float32",
    growth_stops_at_float32_max=False,
    skipped_step_advances_count=True,
  )
  choices.update(overrides)
  return dynamic_loss_scaling(
    optimizer,
    kwargs["init_loss_scaling"],
    kwargs["incr_ratio"],
    kwargs["decr_ratio"],
    kwargs["incr_every_n_steps"],
    backoff_every=kwargs["decr_every_n_nan_or_inf"],
    **choices,
  )


@pytest.mark.parametrize(
  ("name", "override"),
  [
    ("amp_adamax_2e116", {"skipped_step_advances_count": False}),
    ("amp_adamax_odd_ratios", {"unscale": "divide"}),
    ("amp_adamax_odd_ratios", {"factor_product": "double"}),
  ],
)
def test_each_of_paddles_choices_is_pinned_by_a_recording(name, override):
  assert _first_difference(name, **override) is not None


def test_the_recording_backs_off_after_two_bad_steps_in_a_row():
  data, _ = _load("amp_adamax_2e116")
  exponents = np.log2(data["scale"]).astype(int)
  np.testing.assert_array_equal(exponents[:10], [116, 116, 115, 115, 114, 114, 113, 113, 112, 112])
  assert exponents[150] == exponents[151]  # a lone NaN: skipped, no backoff
  assert exponents[204] == exponents[202] - 1  # two infs in a row: one backoff
  skipped = [t for t in range(1, 301) if np.array_equal(data["param_w"][t], data["param_w"][t - 1])]
  assert skipped == [1, 2, 3, 4, 5, 6, 7, 8, 150, 203, 204]


def test_ratio_products_are_float32():
  # Paddle multiplies its float32 scale tensor by f32(ratio); the double product rounds
  # differently for 3 * 0.3.
  opt = GradScaler(optax.identity(), init_loss_scaling=3.0, decr_ratio=0.3)
  _, state = opt.update(jnp.full(1, jnp.inf), opt.init(jnp.zeros(1)))
  assert state.scale == jnp.float32(3.0) * jnp.float32(0.3)
  assert state.scale != np.float32(3.0 * 0.3)


def test_no_floor_below_one_and_growth_to_inf():
  opt = GradScaler(optax.sgd(1.0), init_loss_scaling=1.0)
  w = jnp.zeros(1)
  _, state = opt.update(jnp.full(1, jnp.nan), opt.init(w), w)
  assert float(state.scale) == 0.5
  opt = GradScaler(optax.sgd(1.0), init_loss_scaling=2.0**127, incr_every_n_steps=1)
  _, state = opt.update(jnp.zeros(1), opt.init(w), w)
  assert np.isposinf(float(state.scale))


def test_static_scale_still_unscales_and_skips():
  opt = GradScaler(optax.sgd(1.0), init_loss_scaling=4.0, use_dynamic_loss_scaling=False)
  w = jnp.zeros(1)
  state = opt.init(w)
  updates, state = opt.update(jnp.full(1, 8.0), state, w)
  np.testing.assert_array_equal(updates, [-2.0])
  updates, state = opt.update(jnp.full(1, jnp.inf), state, w)
  np.testing.assert_array_equal(updates, [0.0])
  assert float(state.scale) == 4.0 and int(state.backoff_tracker) == 0


def test_disabled_passes_through_and_defaults():
  w = jnp.ones(1)
  state = GradScaler(optax.sgd(1.0), enable=False).init(w)
  assert scale(jnp.float32(3.0), state) == 3.0
  state = GradScaler(optax.sgd(1.0)).init(w)
  assert isinstance(state, DynamicLossScaleState) and float(state.scale) == 2.0**16


@pytest.mark.parametrize(
  ("kwargs", "match"),
  [
    ({"init_loss_scaling": 0.0}, "init_loss_scaling"),
    ({"incr_ratio": 1.0}, "incr_ratio"),
    ({"decr_ratio": 1.0}, "decr_ratio"),
    ({"incr_every_n_steps": 0}, "incr_every_n_steps"),
    ({"decr_every_n_nan_or_inf": 0}, "decr_every_n_nan_or_inf"),
    ({"use_dynamic_loss_scaling": 1}, "use_dynamic_loss_scaling"),
  ],
)
def test_bad_arguments_name_themselves(kwargs, match):
  with pytest.raises((ValueError, TypeError), match=match):
    GradScaler(optax.sgd(1.0), **kwargs)
