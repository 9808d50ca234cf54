"""Shared helpers for the MXNet golden generators (imported by the gen_*.py scripts).

Not run on its own. See the docstring of each gen_*.py script for how to rerun it.
"""
import json
import os

import mxnet as mx
import numpy as np

OUT_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "..", "..", "mxnet"))
MAJOR = int(mx.__version__.split(".")[0])
PREFIX = "mxnet%d_" % MAJOR          # mxnet1_ for 1.9.1, mxnet2_ for 2.0.0b1


def save(case, arrays, meta):
    """Write OUT_DIR/<prefix><case>.npz with a JSON `meta` entry."""
    full = {"framework": "mxnet", "version": mx.__version__, "case": case}
    full.update(meta)
    path = os.path.join(OUT_DIR, PREFIX + case + ".npz")
    np.savez_compressed(path, meta=np.array(json.dumps(full, sort_keys=True)), **arrays)
    print("wrote", path, os.path.getsize(path), "bytes")
    return path


def capture_lrs(opt):
    """Wrap opt._get_lrs on the instance so every value the optimizer's update really
    used (the scheduler value times lr_mult, a Python float) is recorded.
    Returns the list that receives (indices, lrs) tuples."""
    log = []
    orig = opt._get_lrs

    def _get_lrs(indices):
        lrs = orig(indices)
        log.append((list(indices), list(lrs)))
        return lrs

    opt._get_lrs = _get_lrs
    return log


def make_updater(opt):
    return mx.optimizer.get_updater(opt)
