"""adamax_optax's own Keras weight files, for gen_checkpoints.py verify.

Run with the project's environment (not Keras's), from the repository root, after
gen_checkpoints.py record:
    PYTHONPATH=$PWD /work/venv/bin/python tests/golden/generate/keras/write_adamax_optax_checkpoints.py

Reads the real keras_step5.weights.h5, loads it into keras_adamax(learning_rate=0.02,
weight_decay=0.004), continues to step 10 under jax.jit with the recorded gradients and writes
adamax_optax_step10.weights.h5 and adamax_optax_step10.keras (templates: the real step-5
files) and adamax_optax_step10_fresh.weights.h5 (no template: only the variables written).
tests/wings/keras/test_keras_checkpoint_files.py checks that the library still writes
these values.
"""

import pathlib

import jax
import numpy as np
import optax

from adamax_optax import keras_adamax, load_state, moments
from adamax_optax.keras import checkpoint as keras_ckpt

FILES = pathlib.Path(__file__).parents[2] / "keras" / "checkpoints"
ORDER = ["w", "b", "s"]  # model.trainable_variables
PATHS = {k: f"layers/params/vars/{i}" for i, k in enumerate(ORDER)}

data = np.load(FILES / "keras_continuation.npz")
weights = keras_ckpt.load_weights(FILES / "keras_step5.weights.h5")
params = keras_ckpt.params_from_keras_weights(weights, {k: data[f"param_{k}"][0] for k in ORDER}, paths=PATHS)
mu, nu, step = keras_ckpt.from_keras_weights(weights, params, order=ORDER)
opt = keras_adamax(learning_rate=0.02, weight_decay=0.004, jit_compile=False)  # Keras ran eagerly
state = load_state(opt, params, mu=mu, nu=nu, step=step)
for i in range(5):
  updates, state = jax.jit(opt.update)({k: data[f"grad_{k}"][i] for k in ORDER}, state, params)
  params = optax.apply_updates(params, updates)
mu, nu, step = moments(state)
out = keras_ckpt.to_keras_weights(mu, nu, step, order=ORDER, learning_rate=0.02, params=params, paths=PATHS)
for name, template in [
  ("adamax_optax_step10.weights.h5", "keras_step5.weights.h5"),
  ("adamax_optax_step10.keras", "keras_step5.keras"),
  ("adamax_optax_step10_fresh.weights.h5", None),
]:
  keras_ckpt.save_weights(out, FILES / name, template=template and FILES / template)
  print("wrote", FILES / name)
