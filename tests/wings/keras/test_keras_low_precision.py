"""keras_adamax on float16 and bfloat16 variables, bit for bit (Keras 3.15, JAX backend).

Keras casts every hyperparameter to the variable's dtype, the bias correction's beta_1
and step count included (1 - power(cast(beta_1), cast(t))): bfloat16's beta_2 0.999 is
1.0, and step counts round above 256. Recordings: 300 eager steps with decoupled weight
decay, zero, subnormal and near-overflow gradients (keras_traj_lowprec_*.npz).
"""

import json

import golden_data
import jax.numpy as jnp
import numpy as np
import pytest

from adamax_optax import keras_adamax, moments

FILES = ["keras_traj_lowprec_f16", "keras_traj_lowprec_f16_eps1e-4", "keras_traj_lowprec_bf16"]


@pytest.mark.parametrize("name", FILES)
def test_trajectory_bit_for_bit(name):
  path = golden_data.GOLDEN_DIR / "keras" / f"{name}.npz"
  meta = json.loads(str(np.load(path)["meta"]))
  opt = keras_adamax(**meta["optimizer_kwargs"])
  difference = golden_data.first_difference(
    opt, path, ["w", "b", "s"], jnp.dtype(meta["dtype"]), moments
  )
  assert difference is None, f"{name}: {difference}"


def test_bias_correction_uses_16bit_beta_1_and_step():
  """After one step m = 0.1 g; Keras divides by 1 - f16(0.99) = 0.00977, not 0.01."""
  w = jnp.zeros(1, jnp.float16)
  g = jnp.ones(1, jnp.float16)
  opt = keras_adamax(learning_rate=1.0, beta_1=0.99, epsilon=0.0)
  updates, _ = opt.update(g, opt.init(w), w)
  m = np.float16(np.float16(0.01) * np.float16(1.0))
  bc = np.float16(1) - np.float16(0.99)
  assert updates[0] == -np.float16(m / bc)
  assert updates.dtype == jnp.float16
