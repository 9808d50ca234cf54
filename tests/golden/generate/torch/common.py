"""Shared helpers for the torch golden generators (meta + saving).

Environment (outside the repository):
    python3 -m venv /work/venvs/torch
    /work/venvs/torch/bin/pip install torch==2.13.0 numpy     # CPU wheel, torch 2.13.0+cpu
Run any generator from this folder, e.g.
    cd tests/golden/generate/torch && /work/venvs/torch/bin/python gen_schedules.py
Outputs go to tests/golden/torch/*.npz.
"""

import json
import os

import numpy as np
import torch

OUT_DIR = os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "torch")
)


def meta_array(**meta):
    base = {"framework": "torch", "version": torch.__version__}
    base.update(meta)
    base.setdefault("cpu_capability", torch.backends.cpu.get_cpu_capability())
    base.setdefault("num_threads", torch.get_num_threads())
    return np.array(json.dumps(base, sort_keys=False))


def save(name, arrays, **meta):
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, name + ".npz")
    np.savez_compressed(path, meta=meta_array(case=name, **meta), **arrays)
    return path


def bits16(t):
    """Raw 16-bit pattern of a float16/bfloat16 tensor as a uint16 numpy array."""
    return t.detach().contiguous().view(torch.int16).numpy().view(np.uint16).copy()
