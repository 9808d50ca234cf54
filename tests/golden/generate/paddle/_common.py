"""Shared helpers for the Paddle golden generators (not a test module).

Rerun any generator in this folder with the throwaway venv:

    python3 -m venv /work/venvs/paddle
    /work/venvs/paddle/bin/pip install paddlepaddle numpy      # CPU build, recorded with 3.3.1
    cd /work/main/tests/golden/generate/paddle
    /work/venvs/paddle/bin/python gen_<name>.py

Outputs go to ../../paddle/ (i.e. tests/golden/paddle/*.npz).
"""

from __future__ import annotations

import json
import os
import warnings

import numpy as np

warnings.filterwarnings("ignore")

import paddle  # noqa: E402

paddle.set_device("cpu")

OUT_DIR = os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "paddle")
)
FRAMEWORK = "paddle"
VERSION = paddle.__version__


def save(name: str, meta: dict, **arrays) -> str:
    """Write OUT_DIR/<name>.npz with a JSON `meta` entry plus the arrays."""
    os.makedirs(OUT_DIR, exist_ok=True)
    full = {"framework": FRAMEWORK, "version": VERSION, "case": name}
    full.update(meta)
    path = os.path.join(OUT_DIR, name + ".npz")
    np.savez_compressed(path, meta=np.array(json.dumps(full)), **arrays)
    return path


def capture_param_lr(opt):
    """Wrap opt._create_param_lr on the instance so that the learning-rate tensor
    handed to the adamax kernel for each parameter is recorded.

    Returns a dict param_name -> list of float32 values (one per call)."""
    seen: dict[str, list] = {}
    orig = opt._create_param_lr

    def wrapper(param_and_grad):
        lr_t = orig(param_and_grad)
        val = np.asarray(lr_t.numpy())
        assert val.dtype == np.float32 and val.size == 1, (val.dtype, val.shape)
        seen.setdefault(param_and_grad[0].name, []).append(val.reshape(()).copy())
        return lr_t

    opt._create_param_lr = wrapper
    return seen
