"""adamax_optax's own MindSpore checkpoint files, for gen_checkpoints.py verify.

Run with the project's environment (not MindSpore's), from the repository root, after
gen_checkpoints.py record:
    PYTHONPATH=$PWD /work/venv/bin/python tests/golden/generate/mindspore/write_adamax_optax_checkpoints.py

For each case it reads the real ms_<case>_step5.{ckpt,safetensors}, loads them into the
matching preset, continues to step 10 under jax.jit with the recorded gradients and writes
adamax_optax_<case>_step10.{ckpt,safetensors} with to_mindspore_checkpoint + save_checkpoint.
tests/wings/mindspore/test_mindspore_checkpoint_files.py checks that the library still writes
exactly these bytes.
"""

import json
import pathlib

import jax
import numpy as np
import optax

from adamax_optax import load_state, mindspore_adamax, mindspore_nn_adamax, moments
from adamax_optax.mindspore import checkpoint as ms_ckpt

FILES = pathlib.Path(__file__).parents[2] / "mindspore" / "checkpoints"
SAVED, RESUMED = 5, 10
PRESETS = {
  "exp": lambda: mindspore_adamax(lr=0.02, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
  "nn": lambda: mindspore_nn_adamax(0.02, 0.9, 0.999, 1e-8, weight_decay=0.01),
}
OPTIMIZER = {"exp": "experimental", "nn": "nn"}

for case in ("exp", "nn"):
  data = np.load(FILES / f"ms_{case}_continuation.npz")
  keys = list(json.loads(str(data["meta"]))["shapes"])
  for ext in ("ckpt", "safetensors"):
    entries = ms_ckpt.load_checkpoint(FILES / f"ms_{case}_step5.{ext}")
    params = ms_ckpt.params_from_mindspore_checkpoint(entries, {k: data[f"param_{k}"][0] for k in keys})
    mu, nu, step = ms_ckpt.from_mindspore_checkpoint(entries, params, optimizer=OPTIMIZER[case])
    opt = PRESETS[case]()
    state = load_state(opt, params, mu=mu, nu=nu, step=step)
    for i in range(RESUMED - SAVED):
      updates, state = jax.jit(opt.update)({k: data[f"grad_{k}"][i] for k in keys}, state, params)
      params = optax.apply_updates(params, updates)
    mu, nu, step = moments(state)
    lr = {"learning_rate": 0.02} if case == "nn" else {}  # nn.AdaMax saves its lr too
    out = ms_ckpt.to_mindspore_checkpoint(
      mu, nu, step, params=params, order=keys, optimizer=OPTIMIZER[case], **lr
    )
    ms_ckpt.save_checkpoint(out, FILES / f"adamax_optax_{case}_step10.{ext}")
    print("wrote", FILES / f"adamax_optax_{case}_step10.{ext}")
