"""Shared helpers for the Keras 3 (JAX backend) golden generators in this folder.

Rerun (CPU only), from any directory:
    python3 -m venv /work/venvs/keras
    /work/venvs/keras/bin/pip install keras jax jaxlib numpy
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu /work/venvs/keras/bin/python <script>.py
Recorded with keras 3.15.1, jax/jaxlib 0.10.2, numpy 2.4.6 (jax_enable_x64 off).
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax
import keras
import numpy as np

assert keras.backend.backend() == "jax", "run with KERAS_BACKEND=jax"

OUT_DIR = os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "keras")
)


class RecordingAdamax(keras.optimizers.Adamax):
    """keras.optimizers.Adamax, unchanged, plus a record of the `learning_rate`
    argument that `update_step` received (the lr the update really used).

    Under `jax.jit` the recorded value is a tracer that the jitted function
    returns as an output, so it is the value computed inside the compiled step.
    """

    def update_step(self, gradient, variable, learning_rate):
        # a constant rate arrives as a keras.Variable: record its value (a jitted step returns it)
        self.recorded_lr = keras.ops.convert_to_tensor(learning_rate)
        return super().update_step(gradient, variable, learning_rate)

    # Every read of `opt.learning_rate` (the schedule is re-evaluated at each read: once per
    # variable in `_apply_weight_decay`, once for `_backend_update_step`) is logged in
    # `lr_log` while `lr_log` is a list (set it to [] before an apply, None to stop logging).
    @property
    def learning_rate(self):
        lr = self._get_current_learning_rate()
        log = getattr(self, "lr_log", None)
        if log is not None:
            log.append(keras.ops.convert_to_tensor(lr))
        return lr

    @learning_rate.setter
    def learning_rate(self, value):
        keras.optimizers.Optimizer.learning_rate.fset(self, value)

    def start_lr_log(self):
        object.__setattr__(self, "lr_log", [])

    def stop_lr_log(self):
        log = self.lr_log
        object.__setattr__(self, "lr_log", None)
        return log


def base_meta(case, kind, **extra):
    meta = {
        "framework": "keras",
        "version": keras.__version__,
        "backend": "jax",
        "jax_version": jax.__version__,
        "jax_enable_x64": bool(jax.config.jax_enable_x64),
        "device": "cpu",
        "case": case,
        "kind": kind,
        "optimizer": "keras.optimizers.Adamax",
    }
    meta.update(extra)
    return meta


def save(name, meta, **arrays):
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, name)
    np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)
    print("wrote", path, os.path.getsize(path), "bytes", flush=True)
    return path


def f32(x):
    return np.asarray(x, dtype=np.float32)
