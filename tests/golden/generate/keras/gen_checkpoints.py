"""Real Keras 3 weight files (.weights.h5 and .keras) holding Adamax's state, and how Keras
continues from them.

Rerun (seconds; CPU only), from this folder:
    python3 -m venv /work/venvs/keras
    /work/venvs/keras/bin/pip install keras jax jaxlib numpy h5py
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu /work/venvs/keras/bin/python gen_checkpoints.py record
    # write adamax_optax's own files (see write_adamax_optax_checkpoints.py), then:
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu /work/venvs/keras/bin/python gen_checkpoints.py verify

`record`: a functional model whose only layer ("params") holds w (4, 3), b (3,), s (),
compiled with keras.optimizers.Adamax(learning_rate=0.02, weight_decay=0.004) (other
arguments default: beta_1 0.9, beta_2 0.999, epsilon 1e-7), trained CKPT_STEP steps with
`opt.apply(grads, model.trainable_variables)` (eager) on a closed-loop noisy quadratic
(g = a * (p - target) + noise in NumPy float32 from the current weights; elements with a == 0
get no noise, so their gradient is always exactly 0), saved with `model.save_weights(...)`
(keras_step5.weights.h5) and `model.save(...)` (keras_step5.keras), then continued CONTINUE
steps: keras_continuation.npz holds `grad_<k>` (CONTINUE, ...) fed at steps 6..15 and
`param_<k>`, `m_<k>` (Adamax `momentum`), `u_<k>` (`norm`) (CONTINUE + 1, ...) at steps 5..15
(index 0 = the saved state), `iterations` (CONTINUE + 1,). It also checks that Keras itself,
loading each file (a fresh compiled model + `load_weights`, or `keras.saving.load_model`),
continues bit for bit the same (meta.self_resume).

`verify` loads adamax_optax_step10.weights.h5, adamax_optax_step10.keras (both written over
the real step-5 files as templates) and adamax_optax_step10_fresh.weights.h5 (written without
a template), written by adamax_optax from its own run continued from the real step-5 file,
the same way, feeds the
recorded gradients of steps 11..15 and compares weights and moments with the recorded
continuation bit for bit; the outcome goes to adamax_optax_resume_checks.json.
"""

import json
import os
import sys

import numpy as np

from _common import keras

OUT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "keras", "checkpoints"))
CKPT_STEP, CONTINUE, RESUME_STEP = 5, 10, 10
SEED = 20261122
SHAPES = {"w": (4, 3), "b": (3,), "s": ()}
KWARGS = {"learning_rate": 0.02, "weight_decay": 0.004}


@keras.saving.register_keras_serializable(package="adamax_optax_golden")
class Params(keras.layers.Layer):
  """Three free weights; the model output only exists so that the model can be built."""

  def build(self, input_shape=None):
    for k, shape in SHAPES.items():
      setattr(self, k, self.add_weight(shape=shape, initializer="zeros", name=k))

  def call(self, x):
    return x * self.s


def build():
  inputs = keras.Input((1,))
  model = keras.Model(inputs, Params(name="params")(inputs))
  opt = keras.optimizers.Adamax(**KWARGS)
  model.compile(optimizer=opt, loss="mse")
  opt.build(model.trainable_variables)
  return model


def problem():
  rng = np.random.default_rng(SEED)
  prob = {}
  for k, shape in SHAPES.items():
    dead = rng.uniform(size=shape) < 0.2
    prob[k] = {
      "a": np.where(dead, 0, rng.uniform(0.5, 2.0, shape)).astype(np.float32),
      "target": rng.normal(size=shape).astype(np.float32),
      "noise": np.where(
        dead, 0, 0.1 * rng.normal(size=(CKPT_STEP + CONTINUE,) + shape)
      ).astype(np.float32),
      "p0": (0.5 * rng.normal(size=shape)).astype(np.float32),
    }
  return prob


def weights(model):
  return {v.name: np.array(v.numpy(), copy=True) for v in model.trainable_variables}


def state(model):
  opt = model.optimizer
  out = {f"param_{k}": v for k, v in weights(model).items()}
  for i, v in enumerate(model.trainable_variables):
    out[f"m_{v.name}"] = np.array(opt._m[i].numpy(), copy=True)
    out[f"u_{v.name}"] = np.array(opt._u[i].numpy(), copy=True)
  out["iterations"] = np.array(opt.iterations.numpy(), copy=True)
  return out


def step(model, grads):
  model.optimizer.apply([grads[v.name] for v in model.trainable_variables],
                        model.trainable_variables)


def closed_loop_grads(prob, model, t):
  p = weights(model)
  return {k: (prob[k]["a"] * (p[k] - prob[k]["target"]) + prob[k]["noise"][t - 1])
          .astype(np.float32) for k in SHAPES}


def resumed(path, grads):
  if path.endswith(".keras"):
    model = keras.saving.load_model(path)
  else:
    model = build()
    model.load_weights(path)
  states = [state(model)]
  for g in grads:
    step(model, g)
    states.append(state(model))
  return {k: np.stack([s[k] for s in states]) for k in states[0]}


def first_difference(got, want):
  for key in want:
    for i, (a, b) in enumerate(zip(got[key], want[key], strict=True)):
      if a.shape != b.shape or a.tobytes() != b.tobytes():
        return f"{key} differs at index {i}"
  return None


def record():
  prob = problem()
  model = build()
  for k, v in zip(SHAPES, model.trainable_variables):
    v.assign(prob[k]["p0"])
  for t in range(1, CKPT_STEP + 1):
    step(model, closed_loop_grads(prob, model, t))
  os.makedirs(OUT, exist_ok=True)
  files = ["keras_step5.weights.h5", "keras_step5.keras"]
  model.save_weights(os.path.join(OUT, files[0]))
  model.save(os.path.join(OUT, files[1]))
  states, grads = [state(model)], []
  for t in range(CKPT_STEP + 1, CKPT_STEP + CONTINUE + 1):
    g = closed_loop_grads(prob, model, t)
    step(model, g)
    grads.append(g)
    states.append(state(model))
  want = {k: np.stack([s[k] for s in states]) for k in states[0]}
  self_resume = {}
  for name in files:
    diff = first_difference(resumed(os.path.join(OUT, name), grads), want)
    assert diff is None, f"{name}: Keras's own resume: {diff}"
    self_resume[name] = "bit-exact at steps 5..15"
  meta = {
    "framework": "keras", "version": keras.__version__, "backend": keras.backend.backend(),
    "case": "checkpoint", "kind": "checkpoint", "optimizer": "keras.optimizers.Adamax",
    "optimizer_kwargs": KWARGS, "shapes": {k: list(s) for k, s in SHAPES.items()},
    "checkpoint_step": CKPT_STEP, "files": files, "self_resume": self_resume,
    "notes": (
      "Trained in eager mode with opt.apply; saved after step 5 with model.save_weights and "
      "model.save; index 0 of param/m/u/iterations is the saved state, index i after step "
      "5 + i; grad_<k>[i] was fed at step 6 + i. m = opt._m[i] ('momentum'), u = opt._u[i] "
      "('norm'), in the order of model.trainable_variables (w, b, s)."
    ),
  }
  arrays = {f"grad_{k}": np.stack([g[k] for g in grads]) for k in SHAPES}
  path = os.path.join(OUT, "keras_continuation.npz")
  np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays, **want)
  print("wrote", path, files)


def verify():
  data = np.load(os.path.join(OUT, "keras_continuation.npz"))
  offset = RESUME_STEP - CKPT_STEP
  grads = [{k: data[f"grad_{k}"][i] for k in SHAPES} for i in range(offset, CONTINUE)]
  keys = [f"{x}_{k}" for x in ("param", "m", "u") for k in SHAPES] + ["iterations"]
  want = {key: data[key][offset:] for key in keys}
  results_path = os.path.join(OUT, "adamax_optax_resume_checks.json")
  results = {}
  for name in ("adamax_optax_step10.weights.h5", "adamax_optax_step10.keras",
               "adamax_optax_step10_fresh.weights.h5"):
    diff = first_difference(resumed(os.path.join(OUT, name), grads), want)
    results[name] = {
      "framework": f"keras {keras.__version__} ({keras.backend.backend()} backend)",
      "resumed_steps": [RESUME_STEP + 1, CKPT_STEP + CONTINUE],
      "bit_exact": diff is None,
      "first_difference": diff,
    }
    print(name, results[name])
  with open(results_path, "w") as f:
    json.dump(results, f, indent=1, sort_keys=True)
    f.write("\n")


if __name__ == "__main__":
  {"record": record, "verify": verify}[sys.argv[1] if len(sys.argv) > 1 else "record"]()
