"""Golden run of MXNet Gluon's Trainer with Adamax: trainer.step(batch_size) each batch.

Rerun (from the repository root), venvs as in gen_bert_clip.py:
    /work/venvs/gluon-mx2/bin/python tests/golden/generate/mxnet/gen_gluon_trainer.py
    /work/venvs/gluon-mx1/bin/python tests/golden/generate/mxnet/gen_gluon_trainer.py
Writes tests/golden/mxnet/mxnet{2,1}_gluon_trainer.npz.

Parameters w (7, 5), b (5,), s (1,) as gluon.Parameter, in that order, with
b.lr_mult = 2 and s.wd_mult = 0; gluon.Trainer(params, "adamax", {"learning_rate": 0.01,
"wd": 0.01}). Each epoch has 200 samples: 8 batches of 24 and a short last batch of 8. The
loss of a batch is the sum over its samples of 0.5 * a * (p - x_i)**2 (autograd.record,
loss.backward()), so the gradient grows with the batch and trainer.step(batch_size)
rescales it by 1 / batch_size. 4 epochs (36 steps); after epoch 2,
trainer.set_learning_rate(0.005).

Stored: grad_<k> (36, *shape) as backward left them (read before the step), param_<k> (37, *shape) (initial, then
after each step), batch_size (36,), lr (36,) the trainer's learning_rate at each step.
"""
import warnings

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon

from common import MAJOR, save

warnings.simplefilter("ignore")
if MAJOR >= 2:
    mx.npx.set_np()
    array = mx.np.array
else:
    array = mx.nd.array

SHAPES = {"w": (7, 5), "b": (5,), "s": (1,)}  # 0-d: 2.0's initializers fail on it
EPOCHS, SAMPLES, BATCH = 4, 200, 24
OPTIMIZER_PARAMS = {"learning_rate": 0.01, "wd": 0.01}


def main():
    rng = np.random.default_rng(24)
    a = {k: rng.uniform(0.5, 2.0, s).astype(np.float32) for k, s in SHAPES.items()}
    target = {k: rng.normal(0, 1, s).astype(np.float32) for k, s in SHAPES.items()}
    init = {k: rng.normal(0, 1, s).astype(np.float32) for k, s in SHAPES.items()}
    samples = {k: (target[k] + 0.3 * rng.normal(0, 1, (SAMPLES,) + s)).astype(np.float32)
               for k, s in SHAPES.items()}
    params = {}
    for k, shape in SHAPES.items():
        p = gluon.Parameter(k, shape=shape, dtype="float32")
        p.initialize(mx.init.Zero())
        p.set_data(array(init[k]))
        params[k] = p
    params["b"].lr_mult = 2.0
    params["s"].wd_mult = 0.0
    trainer = gluon.Trainer(params, "adamax", dict(OPTIMIZER_PARAMS))
    rec = {f"{what}_{k}": [] for what in ("grad", "param") for k in SHAPES}
    for k in SHAPES:
        rec[f"param_{k}"].append(params[k].data().asnumpy().copy())
    batch_sizes, lrs = [], []
    for epoch in range(EPOCHS):
        if epoch == 2:
            trainer.set_learning_rate(0.005)
        for start in range(0, SAMPLES, BATCH):
            stop = min(start + BATCH, SAMPLES)
            with autograd.record():
                loss = None
                for k in SHAPES:
                    x = array(samples[k][start:stop])
                    term = (0.5 * array(a[k]) * (params[k].data() - x) ** 2).sum()
                    loss = term if loss is None else loss + term
            loss.backward()
            for k in SHAPES:  # before the step: 2.0's Adamax rescales the gradient in place
                rec[f"grad_{k}"].append(params[k].grad().asnumpy().copy())
            trainer.step(stop - start)
            batch_sizes.append(stop - start)
            lrs.append(trainer.learning_rate)
            for k in SHAPES:
                rec[f"param_{k}"].append(params[k].data().asnumpy().copy())
    arrays = {name: np.stack(values) for name, values in rec.items()}
    arrays["batch_size"] = np.array(batch_sizes, np.int32)
    arrays["lr"] = np.array(lrs, np.float64)
    meta = dict(kind="gluon_trainer", trainer="mxnet.gluon.Trainer", optimizer="adamax",
                optimizer_params=OPTIMIZER_PARAMS, lr_mult={"b": 2.0}, wd_mult={"s": 0.0},
                params={k: list(s) for k, s in SHAPES.items()}, epochs=EPOCHS,
                samples=SAMPLES, batch=BATCH, set_learning_rate={"epoch": 2, "lr": 0.005},
                notes=__doc__)
    save("gluon_trainer", arrays, meta)
    print("steps", len(batch_sizes), "final", {k: params[k].data().asnumpy().ravel()[:2] for k in SHAPES})


if __name__ == "__main__":
    main()
