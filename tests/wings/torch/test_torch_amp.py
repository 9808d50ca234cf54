"""adamax_optax.torch.amp.GradScaler around torch_adamax, bit for bit against PyTorch 2.13.

The recordings (tests/golden/torch/amp_*.npz, from gen_grad_scaler.py) are 300 closed-loop
float32 steps of torch.amp.GradScaler("cpu", init_scale=2**116, growth_interval=20) with
torch.optim.Adamax: four overflowing steps back the scale off to 2**112, it then grows
every 20 clean steps, and a NaN and an inf gradient skip two more; one run clips with
clip_grad_norm_(1.0) after unscale_. Params, m, u, Adamax's step count, the scale and the
growth tracker are compared at every step.
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
from adamax_optax.torch.amp import GradScaler, scale
from adamax_optax.torch.nn.utils import clip_grad_norm_
from adamax_optax.torch.optim import Adamax

NAMES = ("amp_adamax_2e116", "amp_adamax_2e116_clip")


def _scaler(meta):
  optimizer = Adamax(**meta["optimizer_kwargs"])
  if meta["clip"] is not None:
    optimizer = optax.chain(clip_grad_norm_(meta["clip"]["max_norm"]), optimizer)
  kwargs = meta["grad_scaler"]
  return GradScaler(
    optimizer, kwargs["device"], kwargs["init_scale"], growth_interval=kwargs["growth_interval"]
  )


def _first_difference(name):
  path = golden_data.GOLDEN_DIR / "torch" / f"{name}.npz"
  data = golden_data.read_recording(path)
  meta = json.loads(str(data["meta"]))
  keys = meta["param_order"]
  opt = _scaler(meta)
  for t, params, state in replay_recording(opt, data, keys, meta["T"]):
    mu, nu, count = moments(state)
    bitwise = {"scale": state.scale, "growth_tracker": state.growth_tracker}
    bitwise["step"] = np.float32(count)
    for k in keys:
      bitwise.update({f"param_{k}": params[k], f"m_{k}": mu[k], f"u_{k}": nu[k]})
    difference = first_recorded_difference(data, t, bitwise, {}, "PyTorch")
    if difference:
      return difference
  return None


@pytest.mark.parametrize("name", NAMES)
def test_recording_bit_for_bit(name):
  difference = _first_difference(name)
  assert difference is None, f"{name}: {difference}"


def test_the_recordings_back_off_skip_and_grow():
  data = golden_data.read_recording(golden_data.GOLDEN_DIR / "torch" / "amp_adamax_2e116.npz")
  exponents = np.log2(data["scale"]).astype(int)
  np.testing.assert_array_equal(exponents[:6], [116, 115, 114, 113, 112, 112])
  assert exponents[24] == 113 and exponents[44] == 114  # every 20 clean steps
  skipped = [t for t in range(1, 301) if data["step"][t] == data["step"][t - 1]]
  assert skipped == [1, 2, 3, 4, 150, 203]


def test_a_skipped_step_keeps_the_optimizer_state():
  opt = GradScaler(Adamax(lr=0.1), "cpu", init_scale=4.0, growth_interval=3)
  w = jnp.ones(2)
  state = opt.init(w)
  _, state = opt.update(jnp.array([4.0, -8.0]), state, w)
  before = state.inner
  updates, state = opt.update(jnp.array([jnp.nan, 1.0]), state, w)
  np.testing.assert_array_equal(updates, [0.0, 0.0])
  jax.tree.map(np.testing.assert_array_equal, state.inner, before)
  assert float(state.scale) == 2.0 and int(state.growth_tracker) == 0


def test_growth_stops_below_float32_overflow():
  opt = GradScaler(optax.sgd(1.0), "cpu", init_scale=2.0**127, growth_interval=1)
  w = jnp.zeros(1)
  state = opt.init(w)
  _, state = opt.update(jnp.zeros(1), state, w)
  assert float(state.scale) == 2.0**127 and int(state.growth_tracker) == 0


def test_unscale_multiplies_by_the_float32_inverse():
  # 1/3 is not a power of two: the gradient is multiplied by f32(1/3), not divided by 3.
  opt = dynamic_loss_scaling(optax.identity(), 3.0, 2.0, 0.5, 10)
  g = jnp.float32(1 + 2 * 2**-23)
  updates, _ = opt.update(g, opt.init(g))
  assert updates == g * jnp.float32(1 / 3) and updates != g / 3


def test_a_non_power_of_two_factor_rounds_the_double_product_once():
  opt = dynamic_loss_scaling(optax.identity(), 3.0, 1.1, 0.3, 1)
  w = jnp.zeros(1)
  _, grown = opt.update(jnp.zeros(1), opt.init(w), w)
  _, backed_off = opt.update(jnp.full(1, jnp.inf), opt.init(w), w)
  assert float(grown.scale) == float(np.float32(3.0 * 1.1))
  assert float(backed_off.scale) == float(np.float32(3.0 * 0.3))


def test_disabled_passes_through():
  opt = GradScaler(optax.sgd(1.0), "cpu", enabled=False)
  w = jnp.ones(1)
  state = opt.init(w)
  assert scale(jnp.float32(3.0), state) == 3.0
  updates, state = opt.update(jnp.array([jnp.inf]), state, w)
  assert np.isneginf(updates[0]) and float(state.scale) == 1.0


def test_state_is_named_as_pytorch_names_it():
  state = GradScaler(optax.sgd(1.0), "cpu").init(jnp.ones(1))
  assert isinstance(state, DynamicLossScaleState)
  assert state.scale.dtype == jnp.float32 and float(state.scale) == 2.0**16
  assert state.growth_tracker.dtype == jnp.int32


def test_scale_keeps_a_bfloat16_loss_bfloat16():
  state = GradScaler(optax.sgd(1.0), "cpu", init_scale=2.0**16).init(jnp.ones(1))
  scaled = scale(jnp.bfloat16(0.3), state)
  assert scaled.dtype == jnp.bfloat16 and scaled == jnp.bfloat16(0.3) * 2**16


@pytest.mark.parametrize(
  ("kwargs", "match"),
  [
    ({"init_scale": 0.0}, "init_scale"),
    ({"init_scale": 2.0**128}, "init_scale"),
    ({"growth_factor": 1.0}, "growth_factor"),
    ({"backoff_factor": 1.0}, "backoff_factor"),
    ({"growth_interval": 0}, "growth_interval"),
    ({"growth_interval": 2**31}, "growth_interval"),
    ({"device": "mps"}, "device must be 'cpu' or 'cuda'"),
  ],
)
def test_bad_arguments_name_themselves(kwargs, match):
  with pytest.raises(ValueError, match=match):
    GradScaler(optax.sgd(1.0), **kwargs)


def test_float16_gradients_are_refused_as_in_pytorch():
  opt = GradScaler(optax.sgd(1.0), "cpu")
  w = jnp.ones(1, jnp.float16)
  with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
    opt.update(w, opt.init(w), w)
