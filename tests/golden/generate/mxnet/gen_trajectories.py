"""Golden closed-loop Adamax trajectories of MXNet (mx.optimizer.Adamax through mx.optimizer.Updater).

Rerun (from /work/main), venvs as in gen_schedules.py
(`pip install mxnet==1.9.1` / `pip install mxnet==2.0.0b1`, then `pip install 'numpy<1.24'`):
    /work/venvs/mxnet1/bin/python tests/golden/generate/mxnet/gen_trajectories.py
    /work/venvs/mxnet2/bin/python tests/golden/generate/mxnet/gen_trajectories.py
Optional arguments: case names to run only those.
Writes tests/golden/mxnet/mxnet{1,2}_traj_<case>.npz (kind "trajectory", T = 300).

Parameters w (12, 7), b (5,), s () are optimizer indices 0, 1, 2
and are updated in that order each step with `updater(i, grad_i, weight_i)`.
Gradient (closed loop, computed in NumPy float32 from the framework's current params):
    g = a * (p - target) + noise[t]          (float32 ops, in this order)
then at special steps: ZERO_STEP all-zero, SUB_STEPS all elements = sign * SUB,
HUGE_STEP every 5th element = sign * HUGE; elements with a == 0 (and noise 0) stay 0
always. For float16 / bfloat16 cases g is computed from float32(p) in float32,
multiplied by `grad_scale[t-1]` and cast to the param dtype (float16: numpy cast; bfloat16: MXNet's own
astype from float32); the grad stored is the one fed, read back from the MXNet array.
For the clip cases, mx.gluon.utils.clip_global_norm(grads, MAX_NORM) is applied to the fed
gradients before every step: grad_<k> is before, clipped_<k> after clipping.

Stored per param k: grad_<k> (T, *shape), param_<k>, m_<k>, u_<k> (T+1, *shape); float16 and
bfloat16 arrays as raw uint16 bits with the suffix _bits; master_<k> float32 (T+1) in
multi-precision float16 cases; a_<k>, target_<k>. `lr` float64 (T, 2): the lr (scheduler
value * lr_mult, Python float) used by the update of group 0 = {w, s} and group 1 = {b};
`step_size` float64 (T, 2) = lr / (1 - beta1**t). Clip cases: `total_norm` float32 (T,), the
value clip_global_norm returned.
"""
import copy
import json
import sys
import warnings

import numpy as np
import mxnet as mx

from common import save, capture_lrs, make_updater, MAJOR

mx.util.set_np_shape(True)       # 0-d arrays (param s) need numpy shape semantics in 1.x
warnings.simplefilter("ignore")

T = 300
SHAPES = {"w": (12, 7), "b": (5,), "s": ()}
BF16 = np.dtype([("bfloat16", np.uint16)])
ZERO_STEP = 30
SUB_STEPS = (60, 61)
HUGE_STEP = 90
LR_MULT = {1: 2.0}              # b gets lr_mult 2.0
GROUPS = [{"name": "g0", "params": ["w", "s"], "indices": [0, 2], "lr_mult": 1.0},
          {"name": "g1", "params": ["b"], "indices": [1], "lr_mult": 2.0}]

SCHED_CLS = {"factor": mx.lr_scheduler.FactorScheduler,
             "cosine": mx.lr_scheduler.CosineScheduler,
             "poly": mx.lr_scheduler.PolyScheduler}


def make_problem(shapes, seed):
    rng = np.random.default_rng(seed)
    prob = {}
    for k, shp in shapes.items():
        n = int(np.prod(shp))
        a = rng.uniform(0.5, 2.0, n).astype(np.float32)
        tgt = rng.normal(0, 1, n).astype(np.float32)
        init = (rng.normal(0, 1, n) + np.where(rng.random(n) < 0.5, -0.5, 0.5)).astype(np.float32)
        noise = (0.1 * rng.normal(0, 1, (T, n))).astype(np.float32)
        if n > 1:                       # always-zero-gradient elements
            a[0] = 0.0
            noise[:, 0] = 0.0
        sign = np.where(rng.random((T, n)) < 0.5, -1.0, 1.0).astype(np.float32)
        u01 = rng.uniform(0.5, 1.0, (T, n)).astype(np.float32)
        prob[k] = dict(shape=shp, u01=u01.reshape((T,) + shp), a=a.reshape(shp), target=tgt.reshape(shp),
                       init=init.reshape(shp), noise=noise.reshape((T,) + shp),
                       sign=sign.reshape((T,) + shp), zero_mask=(a == 0).reshape(shp))
    return prob


def grad_f32(pr, p32, t, sub, huge, ovf=None):
    """float32 gradient for step t (1-based) from float32 params p32 (before any grad_scale).
    ovf = (steps, value): at those steps every element is sign * value * U(0.5, 1)."""
    g = pr["a"] * (p32 - pr["target"]) + pr["noise"][t - 1]
    g = np.asarray(g, np.float32)
    if t == ZERO_STEP:
        g = np.zeros_like(g)
    elif t in SUB_STEPS:
        g = (pr["sign"][t - 1] * np.float32(sub)).astype(np.float32)
    elif t == HUGE_STEP:
        flat = g.reshape(-1).copy()
        sg = pr["sign"][t - 1].reshape(-1)
        flat[::5] = sg[::5] * np.float32(huge)
        g = flat.reshape(g.shape)
    if ovf is not None and t in ovf[0]:
        g = (pr["sign"][t - 1] * np.float32(ovf[1]) * pr["u01"][t - 1]).astype(np.float32)
    g = np.where(pr["zero_mask"], np.float32(0), g).astype(np.float32)
    return g


def to_nd(x32, dtype):
    if dtype == "float32":
        return mx.nd.array(np.asarray(x32, np.float32), dtype="float32")
    if dtype == "float16":
        return mx.nd.array(np.asarray(x32, np.float32).astype(np.float16), dtype="float16")
    return mx.nd.array(np.asarray(x32, np.float32), dtype="float32").astype(BF16)


def read(nd):
    """Return (array to store, float32 view). Low precision -> uint16 bits."""
    if nd.dtype == np.float32:
        a = nd.asnumpy().copy()
        return a, a
    if nd.dtype == np.float16:
        a = nd.asnumpy().copy()
        return a.view(np.uint16), a.astype(np.float32)
    raw = nd.asnumpy()                                    # bfloat16 (structured dtype)
    bits = raw.reshape(-1).view(np.uint16).reshape(raw.shape).copy()
    f32 = (bits.reshape(-1).astype(np.uint32) << 16).view(np.float32).reshape(raw.shape)
    return bits, f32


def run(case, *, dtype="float32", sched=None, opt_kwargs, seed, shapes=None,
        sub=1e-40, huge=1e30, scale=None, ovf=None, clip_max_norm=None, notes=""):
    shapes = dict(shapes or SHAPES)
    keys = list(shapes)
    prob = make_problem(shapes, seed)
    sched_obj = None
    kw = dict(opt_kwargs)
    if sched is not None:
        sched_obj = SCHED_CLS[sched[0]](**copy.deepcopy(sched[1]))
        kw["lr_scheduler"] = sched_obj
    opt = mx.optimizer.Adamax(**kw)
    opt.set_lr_mult(dict(LR_MULT))
    log = capture_lrs(opt)
    upd = make_updater(opt)
    mp = bool(opt_kwargs.get("multi_precision", False)) and dtype == "float16"

    weights = [to_nd(prob[k]["init"], dtype) for k in keys]
    rec = {}
    for k in keys:
        shp = shapes[k]
        for name in ("param", "m", "u") + (("master",) if mp else ()):
            rec[name + "_" + k] = []
        rec["grad_" + k] = []
        if clip_max_norm is not None:
            rec["clipped_" + k] = []

    def snapshot(first):
        for i, k in enumerate(keys):
            st, p32 = read(weights[i])
            rec["param_" + k].append(st)
            if first:
                if mp:
                    rec["master_" + k].append(weights[i].astype("float32").asnumpy())
                zero = np.zeros(shapes[k], np.float32)
                zs = zero if dtype == "float32" else np.zeros(shapes[k], np.uint16)
                zm = zero if (dtype == "float32" or mp) else zs
                rec["m_" + k].append(zm)
                rec["u_" + k].append(zm)
            else:
                state = upd.states[i]
                if mp:
                    master, (mean, var) = state
                    rec["master_" + k].append(master.asnumpy().copy())
                else:
                    mean, var = state
                rec["m_" + k].append(read(mean)[0])
                rec["u_" + k].append(read(var)[0])

    snapshot(True)
    lr = np.empty((T, 2), np.float64)
    step_size = np.empty((T, 2), np.float64)
    total_norm = np.empty((T,), np.float32)
    n_idx = len(keys)
    for t in range(1, T + 1):
        grads = []
        for i, k in enumerate(keys):
            p32 = read(weights[i])[1]
            g32 = grad_f32(prob[k], p32, t, sub, huge, ovf)
            if scale is not None:
                g32 = (g32 * np.float32(scale[t - 1])).astype(np.float32)
            gnd = to_nd(g32, dtype)
            rec["grad_" + k].append(read(gnd)[0])
            grads.append(gnd)
        if clip_max_norm is not None:
            total_norm[t - 1] = np.float32(mx.gluon.utils.clip_global_norm(grads, clip_max_norm))
            for i, k in enumerate(keys):
                rec["clipped_" + k].append(read(grads[i])[0])
        del log[:]
        for i in range(n_idx):
            upd(i, grads[i], weights[i])
        assert [e[0] for e in log] == [[i] for i in range(n_idx)], log
        used = [e[1][0] for e in log]
        for gi, grp in enumerate(GROUPS):
            vals = {used[i] for i in grp["indices"] if i < n_idx}
            assert len(vals) == 1, (t, vals)
            lr[t - 1, gi] = vals.pop()
            tt = opt._index_update_count[grp["indices"][0]]
            step_size[t - 1, gi] = lr[t - 1, gi] / (1. - opt.beta1 ** tt)
        snapshot(False)

    arrays = {}
    for name, lst in rec.items():
        arr = np.stack(lst)
        if arr.dtype == np.uint16:
            name = name + "_bits"
        arrays[name] = arr
    for k in keys:
        arrays["a_" + k] = prob[k]["a"]
        arrays["target_" + k] = prob[k]["target"]
    arrays["lr"] = lr
    arrays["step_size"] = step_size
    if clip_max_norm is not None:
        arrays["total_norm"] = total_norm
    if scale is not None:
        arrays["grad_scale"] = np.asarray(scale, np.float32)
    okw = dict(opt_kwargs)
    meta = dict(
        kind="trajectory",
        scheduler=("mxnet.lr_scheduler." + SCHED_CLS[sched[0]].__name__) if sched else None,
        scheduler_kwargs=sched[1] if sched else None,
        optimizer="mxnet.optimizer.Adamax",
        optimizer_kwargs=okw,
        lr_mult={"1 (b)": 2.0},
        groups=[g for g in GROUPS],
        params={k: {"shape": list(shapes[k]), "index": i} for i, k in enumerate(keys)},
        dtype=dtype,
        n_steps=T,
        seed=seed,
        special_steps={"zero": ZERO_STEP, "subnormal": list(SUB_STEPS), "huge_every_5th_elem": HUGE_STEP,
                       "sub_value": sub, "huge_value": huge,
                       "near_overflow_steps": list(ovf[0]) if ovf else None,
                       "near_overflow_value": ovf[1] if ovf else None},
        clip_global_norm_max_norm=clip_max_norm,
        notes=("Loop: opt = mx.optimizer.Adamax(**optimizer_kwargs, lr_scheduler=sched); "
               "opt.set_lr_mult({1: 2.0}); updater = mx.optimizer.get_updater(opt); each step "
               "updater(i, grad_i, weight_i) for i = 0, 1, 2 (w, b, s). State keys: "
               "updater.states[i] = (mean, var) -> m_<k>, u_<k>"
               + ("; multi-precision: updater.states[i] = (master_fp32, (mean, var)) -> master_<k>" if mp else "")
               + ". lr[t-1, g] captured by wrapping opt._get_lrs (scheduler value * lr_mult as the update "
               "really used it). " + notes),
    )
    save("traj_" + case, arrays, meta)
    fin = {k: bool(np.all(np.isfinite(read(weights[i])[1]))) for i, k in enumerate(keys)}
    print(case, "finite params:", fin, "lr[0], lr[-1]:", lr[0], lr[-1])


def cases():
    base = dict(beta1=0.9, beta2=0.999, wd=0.01)
    if MAJOR >= 2:
        base["epsilon"] = 1e-8
    out = []
    out.append(("factor_warm7", dict(
        sched=("factor", dict(step=41, factor=0.3, base_lr=0.02, warmup_steps=7)),
        opt_kwargs=dict(base, learning_rate=0.02), seed=1,
        notes="FactorScheduler with warmup (linear from 0).")))
    out.append(("cosine_override", dict(
        sched=("cosine", dict(max_update=300, base_lr=0.02, final_lr=1e-4, warmup_steps=41)),
        opt_kwargs=dict(base, learning_rate=0.002), seed=2,
        notes="Adamax learning_rate=0.002 overwrites sched.base_lr, but the cosine uses base_lr_orig=0.02 and "
              "warmup_final_lr=0.02, so the lr actually used is the 0.02 cosine.")))
    if MAJOR >= 2:
        out.append(("poly_clip_rescale", dict(
            sched=("poly", dict(max_update=250, base_lr=0.02, pwr=2, final_lr=1e-4, warmup_steps=20)),
            opt_kwargs=dict(base, learning_rate=0.02, rescale_grad=0.5, clip_gradient=0.1), seed=3,
            notes="rescale_grad 0.5, clip_gradient 0.1, PolyScheduler that ends at 250 (final_lr "
                  "afterwards). 2.x Adamax.step: g = clip(grad*rescale, -c, c) + wd*w.")))
    # clip_global_norm before each step
    tt = np.arange(1, T + 1)
    scale = (10.0 ** (1.2 * np.sin(2 * np.pi * tt / 37.0))).astype(np.float32)
    clip_shapes, clip_note = SHAPES, ""
    if MAJOR < 2:
        # 1.9.1 clip_global_norm does `arr *= scale` with scale of shape (1,); on a 0-d array this
        # raises "MXNetError: Shape inconsistent, Provided = [], inferred shape=[1]" (broadcast_mul
        # out=self), so in 1.x the scalar parameter s is given shape (1,) here.
        clip_shapes = dict(SHAPES, s=(1,))
        clip_note = ("1.9.1: s has shape (1,) because clip_global_norm fails on 0-d arrays "
                     "(MXNetError: Shape inconsistent, Provided = [], inferred shape=[1]). ")
    out.append(("clip_global_norm", dict(
        opt_kwargs=dict(base, learning_rate=0.02), seed=4, scale=scale, clip_max_norm=2.0,
        shapes=clip_shapes,
        notes=clip_note + "Gradient multiplied by grad_scale[t-1] (10**(1.2 sin(2 pi t/37))) so the global norm crosses "
              "max_norm=2.0 both ways; then mx.gluon.utils.clip_global_norm([g_w, g_b, g_s], 2.0) "
              "(check_isfinite default True) in place; the clipped arrays are fed to the updater. "
              "At HUGE_STEP the norm overflows to inf (warning) and the clipped grads become 0 * g.")))
    if MAJOR >= 2:
        lp = dict(base, learning_rate=0.01)
        # float16: per-step scale pushes grads into subnormal (~1e-7) and near-overflow (~3e4..6e4) ranges
        sc16 = np.ones(T, np.float32)
        sc16[100:110] = 1e-6      # steps 101..110: mostly fp16-subnormal gradients
        sc16[200:205] = 1e-9      # steps 201..205: underflow to 0 in fp16
        for mpv in (False, True):
            out.append(("fp16_mp%d" % int(mpv), dict(
                dtype="float16", opt_kwargs=dict(lp, multi_precision=mpv), seed=5, sub=1e-7, huge=6.0e4,
                scale=sc16, ovf=((151, 152, 153), 6.0e4),
                notes="float16 weights and gradients. Gradient computed in float32 from float32(param), times "
                      "grad_scale (1e-6 at steps 101-110: fp16 subnormals; 1e-9 at 201-205: mostly 0), "
                      "then cast to float16 with NumPy (round to nearest even). Steps 151-153: every "
                      "element sign * 6e4 * U(0.5, 1) (near fp16 overflow); step 60/61: +-1e-7 "
                      "(subnormal); step 90: every 5th element +-6e4.")))
        sc_bf = np.ones(T, np.float32)
        sc_bf[100:110] = 1e-38
        sc_bf[150:153] = 1e37
        for mpv in (False, True):
            out.append(("bf16_mp%d" % int(mpv), dict(
                dtype="bfloat16", opt_kwargs=dict(lp, multi_precision=mpv), seed=6, sub=1e-40, huge=1e38,
                scale=sc_bf,
                notes="bfloat16 via MXNet's structured dtype np.dtype([('bfloat16', np.uint16)]); weights "
                      "created as float32 NDArray .astype(bfloat16) (MXNet's cast), gradients likewise. "
                      "multi_precision only acts on float16 in Optimizer.create_state_multi_precision, so "
                      "mp=True is ignored for bfloat16 (state stays bfloat16).")))
    return out


if __name__ == "__main__":
    only = sys.argv[1:]
    for name, kw in cases():
        if only and name not in only:
            continue
        run(name, **kw)
