"""Shared helpers for the MindSpore golden generators (see the other scripts in this folder).

Setup (outside the repository):
    python3 -m venv /work/venvs/mindspore
    /work/venvs/mindspore/bin/pip install mindspore==2.10.0 "numpy<2"
(MindSpore 2.10.0's C extension is built against NumPy 1.x; with NumPy 2 every tensor op fails.)
"""

import json
import os

import numpy as np

os.environ.setdefault("GLOG_v", "3")  # MindSpore warnings print whole tensors; keep errors only

import mindspore as ms  # noqa: E402

OUT_DIR = os.environ.get("GOLDEN_OUT") or os.path.abspath(
  os.path.join(os.path.dirname(__file__), "..", "..", "mindspore"))
FRAMEWORK = "mindspore"
VERSION = ms.__version__


def setup():
  """CPU, PyNative, as the brief asks; synchronous op launch (same kernels, same numbers, but
  ~10x less CPU than the default asynchronous pipeline for these tiny scalar ops)."""
  ms.set_context(mode=ms.PYNATIVE_MODE, pynative_synchronize=True)
  ms.set_device("CPU")


def meta(case, kind, **fields):
  d = {"framework": FRAMEWORK, "version": VERSION, "case": case, "kind": kind}
  d.update(fields)
  return np.array(json.dumps(d))


def save(name, **arrays):
  os.makedirs(OUT_DIR, exist_ok=True)
  path = os.path.join(OUT_DIR, name + ".npz")
  np.savez_compressed(path, **arrays)
  print(f"wrote {path} ({os.path.getsize(path)} bytes)", flush=True)
  return path


def read(tensor):
  """A copy of a MindSpore tensor's value (asnumpy() may alias the live buffer)."""
  return np.array(tensor.asnumpy(), copy=True)
