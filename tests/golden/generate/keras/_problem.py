"""The closed-loop noisy quadratic and the Keras Adamax trajectory runner shared by
gen_trajectories.py, gen_lowprec.py and gen_knobs.py (see those for how to rerun).

Parameters w (12, 7), b (5,), s () seen by the optimizer in the order w, b, s.
Gradient at step t (1-based), computed in NumPy float32 from the framework's current
parameter values (upcast to float32 for float16/bfloat16 variables):
    g = grad_scale * (a * (p - target)) + noise[t]
then awkward steps overwrite parts of it (see `awkward`), then for low-precision variables it
is cast to the variable dtype (round to nearest). The gradient actually fed is recorded.
Elements with a == 0 get noise 0, so their gradient is exactly 0 at every step.
"""
import numpy as np

from _common import RecordingAdamax, f32, jax, keras

SHAPES = {"w": (12, 7), "b": (5,), "s": ()}
KEYS = ["w", "b", "s"]
ZERO_STEP = 40          # every gradient element exactly 0
SUBNORMAL_STEP = 80     # every gradient element +-SUBNORMAL
HUGE_STEP = 120         # w[0, :3] and b[0] get +-HUGE, the rest normal


def problem(seed=0, T=300, noise_std=0.05):
    rng = np.random.default_rng(seed)
    init, a, target, noise = {}, {}, {}, {}
    for k in KEYS:
        shp = SHAPES[k]
        init[k] = rng.normal(0.0, 1.0, shp).astype(np.float32)
        ak = rng.uniform(0.5, 2.0, shp).astype(np.float32)
        target[k] = rng.normal(0.0, 1.0, shp).astype(np.float32)
        nz = rng.normal(0.0, noise_std, (T,) + shp).astype(np.float32)
        if k == "w":  # some always-zero-gradient elements
            ak[1, 2] = 0.0
            ak[5, :2] = 0.0
            nz[:, 1, 2] = 0.0
            nz[:, 5, :2] = 0.0
        if k == "b":
            ak[3] = 0.0
            nz[:, 3] = 0.0
        a[k], noise[k] = ak, nz
    return init, a, target, noise


def make_grad(t, params, prob, grad_scale, huge, subnormal, np_dtype):
    """Gradient for step t (1-based) from the current params (dict of np arrays)."""
    _, a, target, noise = prob
    g = {}
    for k in KEYS:
        p = np.asarray(params[k], np.float32)
        gk = (np.float32(grad_scale) * (a[k] * (p - target[k])) + noise[k][t - 1]).astype(np.float32)
        gk = np.array(gk, np.float32)
        if t == 1:  # subnormal gradients while m == u == 0 (w row 2, b[4])
            if k == "w":
                gk[2, :] = np.float32(subnormal) * np.where(np.arange(7) % 2 == 0, 1, -1).astype(np.float32)
            if k == "b":
                gk[4] = np.float32(subnormal)
        if t == ZERO_STEP:
            gk[...] = 0.0
        elif t == SUBNORMAL_STEP:
            gk = np.where(np.arange(gk.size).reshape(gk.shape) % 2 == 0, 1, -1).astype(np.float32) * np.float32(subnormal)
            gk = np.where(a[k] == 0, np.float32(0), gk).astype(np.float32)
        elif t == HUGE_STEP:
            if k == "w":
                gk[0, :3] = np.float32(huge) * np.array([1, -1, 1], np.float32)
            if k == "b":
                gk[0] = -np.float32(huge)
        g[k] = gk.astype(np_dtype)
    return g


def to_np(x, dtype):
    return np.asarray(x).astype(dtype, copy=True)


def run(opt_kwargs, mode="eager", T=300, dtype="float32", grad_scale=1.0, huge=1e30,
        subnormal=1e-40, feed_mult=1.0, exclude_names=None, seed=0):
    """Run Keras Adamax for T steps. mode: "eager" (opt.apply) or "jit"
    (opt.stateless_apply inside jax.jit, as model.fit's train step).
    Returns dict of arrays (params/state in the variable dtype)."""
    import ml_dtypes  # installed with jax

    np_dtype = {"float32": np.float32, "float16": np.float16,
                "bfloat16": ml_dtypes.bfloat16}[dtype]
    prob = problem(seed, T)
    init = prob[0]
    vars_ = [keras.Variable(init[k].astype(np_dtype), dtype=dtype, name=k) for k in KEYS]
    opt = RecordingAdamax(**opt_kwargs)
    if exclude_names:
        opt.exclude_from_weight_decay(var_names=exclude_names)
    opt.build(vars_)
    has_ema = bool(opt.use_ema)

    rec = {f"param_{k}": [to_np(init[k].astype(np_dtype), np_dtype)] for k in KEYS}
    for k in KEYS:
        rec[f"m_{k}"] = [np.zeros(SHAPES[k], np_dtype)]
        rec[f"u_{k}"] = [np.zeros(SHAPES[k], np_dtype)]
        rec[f"grad_{k}"] = []
        if has_ema:
            rec[f"ema_{k}"] = [np.zeros(SHAPES[k], np_dtype)]
        if opt.gradient_accumulation_steps:
            rec[f"acc_{k}"] = [np.zeros(SHAPES[k], np_dtype)]
    rec["lr"] = []
    rec["iterations"] = [0]

    idx = {id(v): i for i, v in enumerate(opt.variables)}
    m_i = [idx[id(v)] for v in opt._m]
    u_i = [idx[id(v)] for v in opt._u]
    ema_i = [idx[id(v)] for v in opt._model_variables_moving_average] if has_ema else None
    acc_i = ([idx[id(v)] for v in opt._accumulated_gradients]
             if opt.gradient_accumulation_steps else None)
    it_i = idx[id(opt._iterations)]

    if mode == "jit":
        @jax.jit
        def train_step(opt_vars, train_vars, grads):
            opt.start_lr_log()
            new_tv, new_ov = opt.stateless_apply(opt_vars, grads, train_vars)
            return new_tv, new_ov, opt.recorded_lr, opt.stop_lr_log()

        ov = [v.value for v in opt.variables]
        tv = [v.value for v in vars_]

    for t in range(1, T + 1):
        if mode == "eager":
            cur = {k: np.asarray(v.numpy()) for k, v in zip(KEYS, vars_)}
        else:
            cur = {k: np.asarray(x) for k, x in zip(KEYS, tv)}
        g = make_grad(t, cur, prob, grad_scale, huge, subnormal, np_dtype)
        if feed_mult != 1.0:  # e.g. loss_scale_factor: feed the gradient of the scaled loss
            g = {k: (g[k].astype(np.float32) * np.float32(feed_mult)).astype(np_dtype) for k in KEYS}
        glist = [g[k] for k in KEYS]
        if mode == "eager":
            opt.start_lr_log()
            opt.apply(glist, vars_)
            lr = opt.recorded_lr
            lr_reads = opt.stop_lr_log()
            params = [v.numpy() for v in vars_]
            allv = [v.numpy() for v in opt.variables]
        else:
            tv, ov, lr, lr_reads = train_step(ov, tv, [jax.numpy.asarray(x) for x in glist])
            params = [np.asarray(x) for x in tv]
            allv = [np.asarray(x) for x in ov]
        rec["lr"].append(f32(lr))
        if opt.weight_decay is not None:
            # reads: one per variable with weight decay (in order w, b, s), then update_step's
            n_wd = len(lr_reads) - 1
            assert f32(lr_reads[-1]).tobytes() == f32(lr).tobytes()
            rec.setdefault("lr_wd", []).append([f32(x) for x in lr_reads[:n_wd]])
        rec["iterations"].append(int(allv[it_i]))
        for j, k in enumerate(KEYS):
            rec[f"grad_{k}"].append(g[k])
            rec[f"param_{k}"].append(to_np(params[j], np_dtype))
            rec[f"m_{k}"].append(to_np(allv[m_i[j]], np_dtype))
            rec[f"u_{k}"].append(to_np(allv[u_i[j]], np_dtype))
            if has_ema:
                rec[f"ema_{k}"].append(to_np(allv[ema_i[j]], np_dtype))
            if acc_i:
                rec[f"acc_{k}"].append(to_np(allv[acc_i[j]], np_dtype))
    out = {}
    for name, lst in rec.items():
        arr = np.stack([np.asarray(x) for x in lst])
        if name == "lr_wd":
            arr = arr.astype(np.float32)
        elif name == "lr":
            arr = arr.astype(np.float32).reshape(T, 1)
        elif name == "iterations":
            arr = arr.astype(np.int64)
        elif dtype != "float32":
            arr = arr.astype(np_dtype).view(np.uint16)
            name = name + "_bits"
        out[name] = arr
    return out


PROBLEM_NOTES = (
    "Closed loop noisy quadratic (tests/golden/generate/keras/_problem.py): "
    "g = grad_scale*(a*(p-target)) + noise[t] in numpy float32 from the current params; "
    "step 1: w[2,:] = subnormal*[1,-1,1,-1,1,-1,1], b[4] = subnormal (while m = u = 0); "
    f"step {ZERO_STEP}: all-zero gradient; step {SUBNORMAL_STEP}: every element +-subnormal "
    f"(alternating sign by flat index, 0 where a == 0); step {HUGE_STEP}: w[0,:3] = huge*[1,-1,1], "
    "b[0] = -huge. a == 0 elements (w[1,2], w[5,0], w[5,1], b[3]) have zero gradient always. "
    "State keys: Adamax `momentum` (opt._m) -> m_<k>, `norm` (opt._u) -> u_<k>, read after each "
    "step. Index 0 of param/m/u is the initial value, index t after update t. lr[t-1] is the "
    "learning_rate argument update_step received at update t; lr_wd[t-1, j] is the lr that "
    "_apply_weight_decay read for the j-th decayed variable (order w, b, s; the schedule is "
    "evaluated anew at every read: under jax.jit these separate evaluations can differ by an "
    "ulp from lr). iterations[t] = opt._iterations after update t."
)
