"""adamax_optax.mindspore.amp.DynamicLossScaler around mindspore_adamax, bit for bit against
MindSpore 2.10.0 (CPU, PyNative).

The recordings (tests/golden/mindspore/ms_amp_*.npz, from gen_dynamic_loss_scaler.py) are
300 closed-loop float32 steps of MindSpore's functional mixed-precision loop (scale the
gradients, amp.all_finite, unscale and step the optimizer only when finite, adjust) with
mindspore.experimental.optim.Adamax:
  ms_amp_2e116: scale_value=2**116, scale_factor=2, scale_window=20;
  ms_amp_factor3: scale_value=3.0**75, scale_factor=3: the backoff's float32 division and
    the unscale by the float32 reciprocal of a scale that is no power of two;
  ms_amp_factor3_past_2e126: the same with scale_window=20, past 2**126 from step 230,
    where the float32 reciprocal is subnormal (XLA on the CPU would flush it).
Params, m, u, the step count, scale_value and counter are compared at every step.
"""

import json

import golden_data
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from harness import first_recorded_difference, replay_recording

from adamax_optax import moments
from adamax_optax.loss_scaling import dynamic_loss_scaling
from adamax_optax.mindspore.amp import DynamicLossScaler, scale
from adamax_optax.mindspore.experimental.optim import Adamax

NAMES = ("ms_amp_2e116", "ms_amp_factor3", "ms_amp_factor3_past_2e126")
KEYS = ("w", "b", "s")


def _load(name):
  data = golden_data.read_recording(golden_data.GOLDEN_DIR / "mindspore" / f"{name}.npz")
  return data, json.loads(str(data["meta"]))


def _optimizer(meta):
  kwargs = meta["optimizer_kwargs"]
  return Adamax(lr=kwargs["lr"], betas=tuple(kwargs["betas"]), eps=kwargs["eps"])


def _first_difference(name, **overrides):
  data, meta = _load(name)
  kwargs = meta["loss_scaler_kwargs"]
  opt = DynamicLossScaler(_optimizer(meta), **kwargs)
  if overrides:  # the core rule with one of MindSpore's choices changed
    factor = kwargs["scale_factor"]
    choices = dict(unscale="reciprocal", backoff_divisor=factor, min_scale=1.0)
    choices.update(overrides)
    opt = dynamic_loss_scaling(
      _optimizer(meta),
      kwargs["scale_value"],
      factor,
      1.0 / factor,
      kwargs["scale_window"],
      factor_product="float32",
      **choices,
    )
  for t, params, state in replay_recording(opt, data, KEYS, meta["T"], as_tree=list):
    mu, nu, count = moments(state)
    bitwise = {"scale_value": state.scale}
    for j, k in enumerate(KEYS):
      bitwise.update({f"param_{k}": params[j], f"m_{k}": mu[j], f"u_{k}": nu[j]})
    counts = {"counter": state.growth_tracker, "step_t": count}
    difference = first_recorded_difference(data, t, bitwise, counts, "MindSpore")
    if difference:
      return difference
  return None


@pytest.mark.parametrize("name", NAMES)
def test_recording_bit_for_bit(name):
  difference = _first_difference(name)
  assert difference is None, f"{name}: {difference}"


@pytest.mark.parametrize(
  "override", [{"backoff_divisor": None}, {"unscale": "divide"}], ids=["multiply", "divide"]
)
def test_the_factor3_recording_pins_the_division_and_the_reciprocal(override):
  assert _first_difference("ms_amp_factor3", **override) is not None


def test_the_recordings_back_off_skip_and_grow():
  data, _ = _load("ms_amp_2e116")
  exponents = np.log2(data["scale_value"]).astype(int)
  np.testing.assert_array_equal(exponents[:6], [116, 115, 114, 113, 112, 112])
  assert exponents[24] == 113 and exponents[44] == 114  # every 20 finite steps
  steps = data["step_t"]
  assert [t for t in range(1, 301) if steps[t] == steps[t - 1]] == [1, 2, 3, 4, 150, 260]


def test_backoff_stops_at_one_and_growth_below_inf():
  opt = DynamicLossScaler(optax.sgd(1.0), scale_value=2.0, scale_factor=3, scale_window=1)
  w = jnp.zeros(1)
  _, state = opt.update(jnp.full(1, jnp.nan), opt.init(w), w)
  assert float(state.scale) == 1.0
  opt = DynamicLossScaler(optax.sgd(1.0), scale_value=2.0**127, scale_factor=2, scale_window=1)
  _, state = opt.update(jnp.zeros(1), opt.init(w), w)
  assert float(state.scale) == 2.0**127


def test_scale_multiplies_by_the_scale():
  state = DynamicLossScaler(optax.sgd(1.0), 3.0, 2, 10).init(jnp.ones(1))
  assert scale(jnp.float32(0.5), state) == 1.5


@pytest.mark.parametrize(
  ("kwargs", "match"),
  [
    ({"scale_value": 0.5}, "scale_value"),
    ({"scale_factor": 1}, "scale_factor"),
    ({"scale_factor": 2.0}, "scale_factor"),
    ({"scale_window": 0}, "scale_window"),
  ],
)
def test_bad_arguments_name_themselves(kwargs, match):
  arguments = {"scale_value": 2.0**16, "scale_factor": 2, "scale_window": 2000, **kwargs}
  with pytest.raises(ValueError, match=match):
    DynamicLossScaler(optax.sgd(1.0), **arguments)
