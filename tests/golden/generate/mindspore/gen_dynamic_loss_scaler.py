"""Record mindspore.amp.DynamicLossScaler around mindspore.experimental.optim.Adamax.

Rerun (see _common.py for the venv; a minute):
    /work/venvs/mindspore/bin/python tests/golden/generate/mindspore/gen_dynamic_loss_scaler.py
Writes tests/golden/mindspore/ms_amp_<case>.npz (kind "dynamic_loss_scaler"), T = 300.

float32 params w (12, 7), b (5,), s () and the closed loop of gen_trajectories.py
(make_grad: zero step 40, subnormal steps 90-91, a 1e30 step 260), plus w[0, 1] = 5e4 on
steps 1 to 6 and a NaN at b[1] on step 150. Each step is MindSpore's functional
mixed-precision loop (CPU, PyNative):
    grads = loss_scaler.scale(grads)        # the gradients of the scaled loss
    is_finite = amp.all_finite(grads)
    if is_finite:
        opt(loss_scaler.unscale(grads))
    loss_scaler.adjust(is_finite)

Cases:
  2e116    DynamicLossScaler(scale_value=2**116, scale_factor=2, scale_window=20)
  factor3  DynamicLossScaler(scale_value=3.0**75, scale_factor=3, scale_window=40): a factor
           that is no power of two pins the float32 division of the backoff, and a scale
           that is none pins the unscale by the float32 reciprocal
  factor3_past_2e126  the same with scale_window=20: the scale passes 2**126 from step
           about 220, where its float32 reciprocal is subnormal
"""

import sys

import numpy as np

import _common as C
from gen_trajectories import make_grad, problem, to_f32

import mindspore as ms  # noqa: E402
from mindspore import Parameter, Tensor, amp  # noqa: E402
from mindspore.experimental.optim import Adamax  # noqa: E402

T = 300
KEYS = ("w", "b", "s")
SHAPES = {"w": (12, 7), "b": (5,), "s": ()}
OPT_KW = dict(lr=0.02, betas=(0.9, 0.999), eps=1e-8)
SPIKES = {t: ("w", (0, 1), 5e4) for t in range(1, 7)}
SPIKES[150] = ("b", (1,), float("nan"))
CASES = {
    "2e116": dict(scale_value=2.0**116, scale_factor=2, scale_window=20),
    "factor3": dict(scale_value=3.0**75, scale_factor=3, scale_window=40),
    "factor3_past_2e126": dict(scale_value=3.0**75, scale_factor=3, scale_window=20),
}


def gradient(prob, k, p, t):
    g = C.read(make_grad(prob, k, p, t, "float32", 1e30))
    g = np.array(g, np.float32, ndmin=0)
    spike = SPIKES.get(t)
    if spike is not None and spike[0] == k:
        g[spike[1]] = np.float32(spike[2])
    return Tensor(g)


def run(case, scaler_kwargs):
    prob = problem(KEYS)
    params = {k: Parameter(Tensor(prob[k]["p0"]), name=k) for k in KEYS}
    opt = Adamax([params[k] for k in KEYS], **OPT_KW)
    scaler = amp.DynamicLossScaler(**scaler_kwargs)
    rec = {}
    for k in KEYS:
        rec["grad_" + k] = np.zeros((T,) + SHAPES[k], np.float32)
        for prefix in ("param_", "m_", "u_"):
            rec[prefix + k] = np.zeros((T + 1,) + SHAPES[k], np.float32)
        rec["param_" + k][0] = prob[k]["p0"]
    rec["scale_value"] = np.zeros(T + 1, np.float32)
    rec["counter"] = np.zeros(T + 1, np.int32)
    rec["step_t"] = np.zeros(T + 1, np.int32)
    rec["scale_value"][0] = C.read(scaler.scale_value)
    for t in range(1, T + 1):
        grads = tuple(gradient(prob, k, to_f32(params[k]), t) for k in KEYS)
        grads = scaler.scale(grads)
        is_finite = amp.all_finite(grads)
        if is_finite:
            opt(scaler.unscale(grads))
        scaler.adjust(is_finite)
        for j, k in enumerate(KEYS):
            rec["grad_" + k][t - 1] = C.read(grads[j])
            rec["param_" + k][t] = to_f32(params[k])
            rec["m_" + k][t] = to_f32(opt.exp_avg[j])
            rec["u_" + k][t] = to_f32(opt.exp_inf[j])
        rec["scale_value"][t] = C.read(scaler.scale_value)
        rec["counter"][t] = C.read(scaler.counter)
        rec["step_t"][t] = C.read(opt.step_t)
    meta = C.meta(
        case, "dynamic_loss_scaler", T=T, keys=list(KEYS),
        optimizer="mindspore.experimental.optim.Adamax",
        optimizer_kwargs={"lr": 0.02, "betas": [0.9, 0.999], "eps": 1e-8},
        loss_scaler="mindspore.amp.DynamicLossScaler", loss_scaler_kwargs=scaler_kwargs,
        spikes={str(t): [k, list(i), v] for t, (k, i, v) in SPIKES.items()},
        notes="grad_<k>[t-1] = the scaled gradient (scaler.scale of the closed-loop float32 "
              "gradient) at step t; param/m/u index 0 = initial, t = after step t; "
              "scale_value[t], counter[t] = the scaler's Parameters after adjust() at step t; "
              "step_t[t] = the optimizer's step count.")
    C.save("ms_amp_" + case, meta=meta, **rec)
    return rec


if __name__ == "__main__":
    C.setup()
    only = sys.argv[1:]
    for name, kwargs in CASES.items():
        if not only or name in only:
            r = run(name, kwargs)
            skipped = [t for t in range(1, T + 1) if r["step_t"][t] == r["step_t"][t - 1]]
            print(name, "skipped", skipped, "log2 scale",
                  np.log2(r["scale_value"][[0, 1, 6, 7, 30, 300]]).round(3).tolist())
