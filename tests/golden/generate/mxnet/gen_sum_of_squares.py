"""Golden per-array sums of squares of MXNet's CPU kernels, the sums clip_global_norm adds.

Rerun (from the repository root), venvs as in gen_bert_clip.py:
    /work/venvs/gluon-mx2/bin/python tests/golden/generate/mxnet/gen_sum_of_squares.py
    /work/venvs/gluon-mx1/bin/python tests/golden/generate/mxnet/gen_sum_of_squares.py
Writes tests/golden/mxnet/mxnet{2,1}_sum_of_squares.npz.

Float32 arrays of the sizes below (two each, N(0, 1) times a random scale in [0.1, 10]):
2.0's `np.square(x).sum()` (oneDNN's reduction on this CPU) and 1.x's `nd.dot(x, x)`
(OpenBLAS's sdot); on 2.0 also the float16 casts of the same arrays, whose
`np.square(x).sum()` runs MXNet's own loop. Stored: `values` (all arrays concatenated),
`sizes`, `sums` (float32), and on 2.0 `values_fp16`, `sums_fp16`.
"""
import mxnet as mx
import numpy as np

from common import MAJOR, save

SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 84, 96, 100,
         127, 128, 129, 255, 256, 257, 1000, 1024, 2112]


def main():
    rng = np.random.default_rng(0)
    arrays = [(rng.normal(0, 1, n) * rng.uniform(0.1, 10)).astype(np.float32)
              for n in SIZES for _ in range(2)]
    out = {"values": np.concatenate(arrays), "sizes": np.array([x.size for x in arrays])}
    if MAJOR >= 2:
        out["sums"] = np.array([mx.np.square(mx.np.array(x)).sum().item() for x in arrays],
                               np.float32)
        halves = [x.astype(np.float16) for x in arrays]
        out["values_fp16"] = np.concatenate(halves)
        out["sums_fp16"] = np.array(
            [mx.np.square(mx.np.array(h, dtype="float16")).sum().item() for h in halves],
            np.float16)
    else:
        out["sums"] = np.array(
            [mx.nd.dot(mx.nd.array(x), mx.nd.array(x)).asnumpy()[0] for x in arrays],
            np.float32)
    meta = dict(kind="sum_of_squares", sizes=SIZES, notes=__doc__)
    save("sum_of_squares", out, meta)


if __name__ == "__main__":
    main()
