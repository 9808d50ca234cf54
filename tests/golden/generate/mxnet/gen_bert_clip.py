"""Golden BERT-style runs of MXNet: gluon.utils.clip_global_norm(grads, 1.0), then the updates.

Rerun (from the repository root), venvs `pip install 'mxnet==2.0.0b1' 'numpy<1.24'` and
`pip install 'mxnet==1.9.1' 'numpy<1.24'` (Python 3.11; no extra system libraries needed):
    /work/venvs/gluon-mx2/bin/python tests/golden/generate/mxnet/gen_bert_clip.py
    /work/venvs/gluon-mx1/bin/python tests/golden/generate/mxnet/gen_bert_clip.py
Writes tests/golden/mxnet/mxnet{1,2}_bert_clip.npz and (2.0) mxnet2_bert_clip_fp16_mp1.npz.

What trainer.update(1) runs: for each parameter i in order, updater(i, grad_i, weight_i)
(rescale_grad 1 / 1). Parameters w (64, 33), b (5,), s () (1.9.1: (1,), its
clip_global_norm fails on 0-d arrays), v (12, 7), in that order; b has lr_mult 2.

Closed loop, and small files: the gradient is a function of the current parameters that the
test recomputes from its own parameters, in float32 NumPy, in this order:
    g = a * (p - target) + noise(t)          then times scale(t) (float32)
with noise(t)[i] = ((7919 i + 104729 t) mod 2003 - 1001) / 10010 and scale(t) = 10 ** (1.2
sin(2 pi t / 37)) (float16 run: 0.25 * 10 ** (0.8 sin(2 pi t / 37))), both computed in
float64 and rounded to float32 once (stored: `grad_scale`). Float16 runs compute g from
float32(p) and cast it to float16 with NumPy. Step 90 multiplies every 7th element by 1e30,
making the norm overflow (1.x and 2.0 warn and clip to 0 * g); not in float16, where 2.0's
compensated sum turns an overflowed square into NaN (inf - inf) unless it is the array's
last, and the NaN scale then makes every parameter NaN.

Stored: a_<k>, target_<k>, init_<k>, grad_scale (T,), total_norm (T,) float32 (the value
clip_global_norm returned), param_<k> every 10 steps (steps 0, 10, ..., 300; float16 as
raw uint16 bits, `_bits`), m_<k>, u_<k> (and master_<k>) after the last step.
"""
import sys
import warnings

import mxnet as mx
import numpy as np

from common import MAJOR, save, make_updater

mx.util.set_np_shape(True)
warnings.simplefilter("ignore")

T = 300
EVERY = 10
HUGE_STEP = 90
SHAPES = {"w": (64, 33), "b": (5,), "s": (), "v": (12, 7)}
if MAJOR < 2:
    SHAPES["s"] = (1,)


def noise(t, n):
    i = np.arange(n, dtype=np.int64)
    return (((7919 * i + 104729 * t) % 2003 - 1001) / 10010.0).astype(np.float32)


def scale_of(t, low_precision):
    if low_precision:
        return np.float32(0.25 * 10.0 ** (0.8 * np.sin(2 * np.pi * t / 37.0)))
    return np.float32(10.0 ** (1.2 * np.sin(2 * np.pi * t / 37.0)))


def gradient(a, target, p32, t, low_precision):
    g = a * (p32 - target) + noise(t, a.size).reshape(a.shape)
    g = (g * scale_of(t, low_precision)).astype(np.float32)
    if t == HUGE_STEP and not low_precision:
        flat = g.reshape(-1).copy()
        flat[::7] *= np.float32(1e30)
        g = flat.reshape(g.shape)
    return g


def run(case, dtype, multi_precision):
    rng = np.random.default_rng(24)
    keys = list(SHAPES)
    a = {k: rng.uniform(0.5, 2.0, SHAPES[k]).astype(np.float32) for k in keys}
    target = {k: rng.normal(0, 1, SHAPES[k]).astype(np.float32) for k in keys}
    init = {k: rng.normal(0, 1, SHAPES[k]).astype(np.float32) for k in keys}
    kwargs = dict(learning_rate=0.01, beta1=0.9, beta2=0.999, wd=0.01)
    if MAJOR >= 2:
        kwargs["epsilon"] = 1e-8
    if multi_precision:
        kwargs["multi_precision"] = True
    opt = mx.optimizer.Adamax(**kwargs)
    opt.set_lr_mult({1: 2.0})
    updater = make_updater(opt)
    weights = [mx.nd.array(init[k].astype(dtype), dtype=dtype) for k in keys]
    low = dtype == "float16"

    def stored(x):
        x = x.asnumpy().copy()
        return x.view(np.uint16) if low else x

    params = {k: [stored(w)] for k, w in zip(keys, weights)}
    total_norm = np.empty(T, np.float32)
    for t in range(1, T + 1):
        grads = []
        for k, w in zip(keys, weights):
            g = gradient(a[k], target[k], w.asnumpy().astype(np.float32), t, low)
            grads.append(mx.nd.array(g.astype(dtype), dtype=dtype))
        total_norm[t - 1] = np.float32(mx.gluon.utils.clip_global_norm(grads, 1.0))
        for i in range(len(keys)):
            updater(i, grads[i], weights[i])
        if t % EVERY == 0:
            for k, w in zip(keys, weights):
                params[k].append(stored(w))
    arrays = {"grad_scale": np.array([scale_of(t, low) for t in range(1, T + 1)]),
              "total_norm": total_norm}
    suffix = "_bits" if low else ""
    for i, k in enumerate(keys):
        arrays[f"a_{k}"], arrays[f"target_{k}"], arrays[f"init_{k}"] = a[k], target[k], init[k]
        arrays[f"param_{k}{suffix}"] = np.stack(params[k])
        state = updater.states[i]
        if multi_precision:
            master, state = state
            arrays[f"master_{k}"] = master.asnumpy()
        arrays[f"m_{k}"] = state[0].asnumpy()
        arrays[f"u_{k}"] = state[1].asnumpy()
    meta = dict(kind="bert_clip", optimizer="mxnet.optimizer.Adamax", optimizer_kwargs=kwargs,
                lr_mult={"1 (b)": 2.0}, clip_global_norm_max_norm=1.0, dtype=dtype,
                params={k: list(SHAPES[k]) for k in keys}, n_steps=T, param_every=EVERY,
                huge_step=HUGE_STEP, notes=__doc__)
    save(case, arrays, meta)
    print(case, "inf norms at steps", [t + 1 for t in np.flatnonzero(~np.isfinite(total_norm))],
          "clipped steps", int(np.sum(total_norm > 1.0)))


if __name__ == "__main__":
    only = sys.argv[1:]
    cases = [("bert_clip", "float32", False)]
    if MAJOR >= 2:
        cases.append(("bert_clip_fp16_mp1", "float16", True))
    for name, dtype, mp in cases:
        if not only or name in only:
            run(name, dtype, mp)
