"""Record paddle.amp.GradScaler around paddle.optimizer.Adamax (kind "grad_scaler").

On the CPU Paddle turns GradScaler into a no-op with a warning ("AmpScaler can only be
enabled on CUDAPlace, XPUPlace and CustomPlace"), and scale() disables it again outside
float16 autocast. This script records what it does where it is active: the scaler is built
with its place check answered "GPU" (only while __init__ runs) and the AMP dtype set to
float16, and everything after that is Paddle's own code on the CPU: scale() (the loss times
the float32 scale tensor), the legacy check_finite_and_unscale kernel inside step(), the
optimizer skipping its update when found_inf is set, and update()'s Python rule on the
scale tensor.

Rerun (see _common.py for the venv; Paddle 3.3.1 needs numpy<2.4 here: its update() prints
float() of the 1-element scale tensor, which NumPy 2.4 refuses):
    /work/venvs/paddle/bin/python gen_grad_scaler.py
Writes tests/golden/paddle/amp_<case>.npz.

float32 params w (12, 7), b (5,), s () (gen_trajectories.py's problem()), closed loop:
loss = sum_k sum(p_k * g_k) with g_k the NumPy float32 gradient from the current params,
so backward of scaler.scale(loss) gives exactly float32(g * scale). Spikes: w[0, 1] = 5e4
on steps 1 to 8 (it overflows once scaled by 2**113 and above, not by 2**112), a NaN at
b[1] on step 150, an inf at w[3, 3] on steps 203 and 204 (two in a row). Each step:
scaler.scale(loss).backward(); scaler.step(opt); scaler.update(); opt.clear_grad().

Cases:
  adamax_2e116         init_loss_scaling=2**116, incr_every_n_steps=20,
                       decr_every_n_nan_or_inf=2, ratios 2.0 / 0.5
  adamax_odd_ratios    init_loss_scaling=3 * 2**112, incr_ratio=1.7, decr_ratio=0.3,
                       incr_every_n_steps=20, decr_every_n_nan_or_inf=1 (a scale that is no
                       power of two: pins the unscale and the ratio products' rounding)
"""

import sys
from unittest import mock

import numpy as np

from _common import VERSION, paddle, save
from gen_trajectories import BETA1, BETA2, EPS, SHAPES, problem

from paddle.amp import grad_scaler
from paddle.amp.auto_cast import amp_global_state

T = 300
KEYS = ("w", "b", "s")
OPT_KW = dict(learning_rate=0.02, beta1=BETA1, beta2=BETA2, epsilon=EPS)
SPIKES = {t: ("w", (0, 1), 5e4) for t in range(1, 9)}
SPIKES.update({150: ("b", (1,), float("nan")), 203: ("w", (3, 3), float("inf")),
               204: ("w", (3, 3), float("inf"))})
CASES = {
    "adamax_2e116": dict(init_loss_scaling=2.0**116, incr_ratio=2.0, decr_ratio=0.5,
                         incr_every_n_steps=20, decr_every_n_nan_or_inf=2),
    "adamax_odd_ratios": dict(init_loss_scaling=3.0 * 2.0**112, incr_ratio=1.7, decr_ratio=0.3,
                              incr_every_n_steps=20, decr_every_n_nan_or_inf=1),
}


class _GpuPlace:
    """Answers the place check in AmpScaler.__init__ as a GPU place would."""

    def is_gpu_place(self):
        return True


class _TracerOnGpu:
    _expected_place = _GpuPlace()


def active_grad_scaler(**kwargs):
    with mock.patch.object(grad_scaler, "_dygraph_tracer", lambda: _TracerOnGpu()):
        scaler = paddle.amp.GradScaler(**kwargs)
    assert scaler.is_enable() and scaler.is_use_dynamic_loss_scaling()
    # scale() keeps dynamic loss scaling only for float16 autocast.
    amp_global_state().amp_dtype = "float16"
    return scaler


def gradient(k, t, p, a, target, noise, noise_scale):
    g = (a[k] * (p - target[k]) + noise_scale[t - 1] * noise[k][t - 1]).astype(np.float32)
    g = np.array(g, np.float32, ndmin=0)
    spike = SPIKES.get(t)
    if spike is not None and spike[0] == k:
        g[spike[1]] = np.float32(spike[2])
    return g


def run(name, scaler_kwargs):
    a, target, init, noise, noise_scale = problem(KEYS)
    params = {k: paddle.create_parameter(list(SHAPES[k]), "float32",
                                         default_initializer=paddle.nn.initializer.Assign(init[k]))
              for k in KEYS}
    opt = paddle.optimizer.Adamax(parameters=[params[k] for k in KEYS], **OPT_KW)
    scaler = active_grad_scaler(**scaler_kwargs)

    def accumulator(k, acc):
        values = opt._accumulators.get(acc, {})
        return values[params[k].name].numpy() if params[k].name in values else None

    rec = {}
    for k in KEYS:
        rec["grad_" + k] = np.zeros((T,) + SHAPES[k], np.float32)
        for prefix in ("param_", "m_", "u_"):
            rec[prefix + k] = np.zeros((T + 1,) + SHAPES[k], np.float32)
        rec["beta1_pow_" + k] = np.full(T + 1, BETA1, np.float32)
        rec["param_" + k][0] = init[k]
    rec["scale"] = np.zeros(T + 1, np.float32)
    rec["incr_count"] = np.zeros(T + 1, np.int32)
    rec["decr_count"] = np.zeros(T + 1, np.int32)
    rec["scale"][0] = scaler._scale.numpy()[0]
    for t in range(1, T + 1):
        feeds = {k: gradient(k, t, params[k].numpy(), a, target, noise, noise_scale)
                 for k in KEYS}
        loss = sum((params[k] * paddle.to_tensor(feeds[k])).sum() for k in KEYS)
        scaler.scale(loss).backward()
        for k in KEYS:
            rec["grad_" + k][t - 1] = params[k].grad.numpy()
        scaler.step(opt)
        scaler.update()
        opt.clear_grad()
        for k in KEYS:
            rec["param_" + k][t] = params[k].numpy()
            for prefix, acc in (("m_", "moment"), ("u_", "inf_norm"),
                                ("beta1_pow_", "beta1_pow_acc")):
                value = accumulator(k, acc)
                if value is not None:
                    rec[prefix + k][t] = value.reshape(rec[prefix + k][t].shape)
        rec["scale"][t] = scaler._scale.numpy()[0]
        rec["incr_count"][t] = scaler._incr_count
        rec["decr_count"][t] = scaler._decr_count
    save("amp_" + name, dict(
        kind="grad_scaler", T=T, param_order=list(KEYS), optimizer="paddle.optimizer.Adamax",
        optimizer_kwargs=OPT_KW, grad_scaler=scaler_kwargs,
        spikes={str(t): [k, list(i), v] for t, (k, i, v) in SPIKES.items()},
        notes="grad_<k>[t-1] = p.grad after backward of scaler.scale(loss) before step t "
              "(float32(g * scale)); param/m/u index 0 = initial, t = after step t; "
              "beta1_pow_<k>[t] = the beta1_pow_acc accumulator (0.9 until created); "
              "scale[t], incr_count[t], decr_count[t] = scaler._scale, _incr_count, "
              "_decr_count after the t-th update(). Recorded with Paddle " + VERSION
              + " on the CPU with the scaler's place check bypassed (see the script)."),
        **rec)
    return rec


if __name__ == "__main__":
    only = sys.argv[1:]
    for name, kwargs in CASES.items():
        if not only or name in only:
            r = run(name, kwargs)
            steps = [t for t in range(1, T + 1)
                     if np.array_equal(r["param_w"][t], r["param_w"][t - 1])]
            print(name, "scales", r["scale"][[0, 1, 2, 5, 9, 30, 151, 205, 300]],
                  "skipped", steps)
