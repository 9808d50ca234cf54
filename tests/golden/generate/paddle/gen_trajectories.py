"""Golden Adamax trajectories from the real PaddlePaddle (CPU, float32), kind "trajectory".

Closed loop, T = 300 updates. At update t the gradient is computed in NumPy float32 from the
parameters Paddle currently holds:  g = a * (p - target) + scale[t] * noise[t]  (some elements
have a = 0 and noise = 0, i.e. an always-zero raw gradient), with awkward steps inserted
(t = 5: all-zero gradient; t = 9 and 10: subnormal ~1e-40 gradients; t = 17: a few 1e30 entries
in w). It is fed through the user loop

    loss = sum((p * paddle.to_tensor(g_p)).sum() for p in params); loss.backward()
    lr = opt.get_lr(); opt.step(); opt.clear_grad(); sched.step()

so d loss / d p == g exactly; `grad_<k>` is p.grad read back after backward (what was fed).

Rerun (CPU wheel, recorded with paddlepaddle 3.3.1):

    python3 -m venv /work/venvs/paddle
    /work/venvs/paddle/bin/pip install paddlepaddle numpy
    cd /work/main/tests/golden/generate/paddle
    /work/venvs/paddle/bin/python gen_trajectories.py            # all cases
    /work/venvs/paddle/bin/python gen_trajectories.py traj_step  # one case

Each ../../paddle/traj_<case>.npz holds, for k in w, b, s (, big):
  grad_<k>         float32 (T, *shape)   gradient fed at update t is grad_<k>[t-1] (before clip / decay)
  kernel_grad_<k>  float32 (T, *shape)   the gradient tensor the adamax kernel received (after grad_clip
                                         and the weight-decay regularizer), captured by wrapping
                                         opt._append_optimize_op
  clipped_<k>      float32 (T, *shape)   clipping cases only: output of grad_clip (captured by wrapping
                                         grad_clip._dygraph_clip)
  param_<k>, m_<k>, u_<k>  float32 (T+1, *shape)  index 0 initial (m, u zeros), index t after update t;
                                         m/u are the accumulators 'moment' / 'inf_norm'
  beta1_pow_<k>    float32 (T+1,)        accumulator 'beta1_pow_acc' (index 0: its initial value)
  lr               float64 (T, G)        opt.get_lr() before update t (same base for every group)
  lr_kernel        float32 (T, P)        the float32 lr tensor the kernel received, per parameter
                                         (P in order w, b, s (, big))
"""

from __future__ import annotations

import sys

import numpy as np

from _common import VERSION, capture_param_lr, paddle, save

T = 300
LR = paddle.optimizer.lr
SHAPES = {"w": (12, 7), "b": (5,), "s": (), "big": (64, 33)}
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8


def problem(keys, seed=0):
    """Fixed a, target, initial params, noise[t] and per-step noise scale (all float32)."""
    rng = np.random.default_rng(seed)
    a, target, init, noise = {}, {}, {}, {}
    for k in keys:
        shp = SHAPES[k]
        a[k] = rng.uniform(0.2, 3.0, size=shp).astype(np.float32)
        target[k] = rng.normal(0.0, 1.0, size=shp).astype(np.float32)
        init[k] = rng.normal(0.0, 1.0, size=shp).astype(np.float32)
        noise[k] = rng.normal(0.0, 0.3, size=(T,) + shp).astype(np.float32)
        if k in ("w", "big"):
            flat_a = a[k].reshape(-1)
            flat_n = noise[k].reshape(T, -1)
            for j in (0, 13, 40):  # always-zero raw gradient elements
                flat_a[j] = 0.0
                flat_n[:, j] = 0.0
        if k == "b":
            a[k][2] = 0.0
            noise[k][:, 2] = 0.0
    # noise scale swings between ~0.1 and ~10 so clipping thresholds are crossed both ways
    scale = (10.0 ** np.sin(np.arange(T) / 15.0)).astype(np.float32)
    return a, target, init, noise, scale


def make_grad(k, t, p, a, target, noise, scale):
    """Gradient for update t (1-based) from the current float32 params p (NumPy, float32)."""
    g = (a[k] * (p - target[k]) + scale[t - 1] * noise[k][t - 1]).astype(np.float32)
    if t == 5:
        g = np.zeros_like(g)
    elif t in (9, 10):
        g = (np.sign(g) * np.float32(1e-40)).astype(np.float32)  # subnormal, sign kept
        if t == 10 and g.ndim:
            g.reshape(-1)[::2] = np.float32(3e-39)
    elif t == 17 and k == "w":
        g = g.copy()
        g.reshape(-1)[[5, 6, 70]] = np.float32(1e30) * np.array([1, -1, 1], np.float32)
    return g


def run(name, keys, build, meta_extra, clip=None, seed=0, l2_coeff=None):
    """build(params dict) -> (opt, sched); returns path written."""
    a, target, init, noise, scale = problem(keys, seed)
    params = {k: paddle.create_parameter(list(SHAPES[k]), "float32", attr=attr_for(meta_extra, k),
                                         default_initializer=paddle.nn.initializer.Assign(init[k]))
              for k in keys}
    for k in keys:
        assert np.array_equal(params[k].numpy(), init[k])
    opt, sched = build(params, clip)
    lr_seen = capture_param_lr(opt)
    kgrad_seen = {k: [] for k in keys}
    name_to_key = {params[k].name: k for k in keys}
    orig_append = opt._append_optimize_op

    def append_wrapper(block, param_and_grad):
        pg = param_and_grad
        if isinstance(pg, dict):  # grouped call passes a dict with 'params': (param, grad)
            pg_t = pg["params"]
        else:
            pg_t = pg
        kgrad_seen[name_to_key[pg_t[0].name]].append(pg_t[1].numpy().copy())
        return orig_append(block, param_and_grad)

    opt._append_optimize_op = append_wrapper
    clipped_seen = {k: [] for k in keys}
    if clip is not None:
        orig_clip = clip._dygraph_clip

        def clip_wrapper(params_grads):
            out = orig_clip(params_grads)
            for p_, g_ in out:
                clipped_seen[name_to_key[p_.name]].append(g_.numpy().copy())
            return out

        clip._dygraph_clip = clip_wrapper

    def state(key, acc):
        d = opt._accumulators.get(acc, {})
        p = params[key]
        return d[p.name].numpy().copy() if p.name in d else None

    rec = {f"{n}_{k}": [] for k in keys for n in ("grad", "param", "m", "u", "beta1_pow")}
    for k in keys:
        rec[f"param_{k}"].append(init[k].copy())
        rec[f"m_{k}"].append(np.zeros(SHAPES[k], np.float32))
        rec[f"u_{k}"].append(np.zeros(SHAPES[k], np.float32))
        rec[f"beta1_pow_{k}"].append(np.float32(BETA1))  # value the accumulator is created with
    ngroups = len(opt._param_groups) if isinstance(opt._param_groups[0], dict) else 1
    lr = np.empty((T, ngroups), np.float64)
    for t in range(1, T + 1):
        feeds = {k: make_grad(k, t, params[k].numpy(), a, target, noise, scale) for k in keys}
        loss = sum((params[k] * paddle.to_tensor(feeds[k])).sum() for k in keys)
        loss.backward()
        for k in keys:
            g = params[k].grad.numpy().copy()
            assert np.array_equal(g.view(np.uint32), feeds[k].view(np.uint32)), (name, t, k)
            rec[f"grad_{k}"].append(g)
        lr[t - 1, :] = float(opt.get_lr())
        opt.step()
        opt.clear_grad()
        sched.step()
        for k in keys:
            rec[f"param_{k}"].append(params[k].numpy().copy())
            rec[f"m_{k}"].append(state(k, "moment"))
            rec[f"u_{k}"].append(state(k, "inf_norm"))
            rec[f"beta1_pow_{k}"].append(state(k, "beta1_pow_acc").reshape(()))
    arrays = {key: np.stack(v).astype(np.float32) for key, v in rec.items()}
    for k in keys:
        kg = np.stack(kgrad_seen[k]).astype(np.float32)
        assert kg.shape == (T,) + SHAPES[k]
        if clip is not None:
            arrays[f"clipped_{k}"] = np.stack(clipped_seen[k]).astype(np.float32)
            assert arrays[f"clipped_{k}"].shape == (T,) + SHAPES[k]
        pre = arrays[f"clipped_{k}"] if clip is not None else arrays[f"grad_{k}"]
        if l2_coeff is not None:
            # L2Decay: kernel grad == float32(g + float32(float32(coeff) * p_before)), checked bit for bit
            decay = (np.float32(l2_coeff[k]) * arrays[f"param_{k}"][:-1]).astype(np.float32)
            expect = (pre + decay).astype(np.float32)
            assert np.array_equal(kg.view(np.uint32), expect.view(np.uint32)), (name, k)
        if k != "w" or l2_coeff is None:  # w's kernel grad is only stored when not checked above
            arrays[f"kernel_grad_{k}"] = kg
    arrays["lr"] = lr
    arrays["lr_kernel"] = np.stack([np.array(lr_seen[params[k].name], np.float32) for k in keys], axis=1)
    meta = dict(
        kind="trajectory",
        dtype="float32",
        param_order=list(keys),
        shapes={k: list(SHAPES[k]) for k in keys},
        problem=("g = a*(p - target) + scale[t-1]*noise[t-1] in float32 NumPy from Paddle's current params, "
                 "rng = np.random.default_rng(%d); per key in order %s: a = U(0.2, 3.0), target = N(0,1), "
                 "init = N(0,1), noise = N(0, 0.3) of shape (T,)+shape, all float32; a=0 and noise=0 at "
                 "flat indices 0, 13, 40 of w/big and index 2 of b; scale = 10**sin(arange(T)/15); "
                 "t=5 all zero; t=9,10 sign(g)*1e-40 (t=10: every other flat entry 3e-39); t=17 w flat "
                 "[5,6,70] = +1e30,-1e30,+1e30. The recorded grad_<k> is authoritative." % (seed, list(keys))),
        state_keys="opt._accumulators['moment' | 'inf_norm' | 'beta1_pow_acc'][param.name]",
        notes_common=("loop: loss.backward(); lr = opt.get_lr(); opt.step(); opt.clear_grad(); sched.step(). "
                      "Parameters created with paddle.create_parameter(..., 'float32'). "
                      "kernel_grad_<k> = gradient given to _C_ops.adamax_ (after grad_clip, then regularizer "
                      "add_n([grad, decay_term])). lr_kernel = float32 lr tensor given to the kernel."),
    )
    meta.update(meta_extra)
    return save(name, meta, **arrays)


def attr_for(meta_extra, k):
    """The paddle.ParamAttr a case gives parameter k (meta "param_attrs"), else None."""
    spec = meta_extra.get("param_attrs", {}).get(k)
    if spec is None:
        return None
    reg = spec.get("regularizer")
    return paddle.ParamAttr(learning_rate=spec.get("learning_rate", 1.0),
                            regularizer=eval(reg) if reg else None,  # "paddle.regularizer.L1Decay(0.02)"
                            need_clip=spec.get("need_clip", True))


def groups_of(params, second_group_extra, keys=("w", "b", "s")):
    g0 = {"params": [params["w"]] + ([params["s"]] if "s" in params else [])}
    if "big" in params:
        g0["params"].append(params["big"])
    g1 = {"params": [params["b"]], "learning_rate": 2.0}
    g1.update(second_group_extra)
    return [g0, g1]


def adamax(sched, groups, weight_decay, clip=None):
    return paddle.optimizer.Adamax(learning_rate=sched, beta1=BETA1, beta2=BETA2, epsilon=EPS,
                                   parameters=groups, weight_decay=weight_decay, grad_clip=clip)


OPT_KW = dict(beta1=BETA1, beta2=BETA2, epsilon=EPS, weight_decay=0.01)
STEP_KW = dict(learning_rate=0.02, step_size=41, gamma=0.3)
GROUPS_META = [{"params": ["w", "s"]}, {"params": ["b"], "learning_rate": 2.0}]


def case_step(name="traj_step"):
    def build(params, clip):
        s = LR.StepDecay(**STEP_KW)
        return adamax(s, groups_of(params, {}), 0.01), s
    return run(name, ("w", "b", "s"), build, dict(
        scheduler="paddle.optimizer.lr.StepDecay", scheduler_kwargs=STEP_KW,
        optimizer="paddle.optimizer.Adamax", optimizer_kwargs=OPT_KW, groups=GROUPS_META,
        notes="weight_decay=0.01 on the optimizer -> L2Decay(0.01) for every group (groups inherit it)."),
        l2_coeff={"w": 0.01, "b": 0.01, "s": 0.01})


def case_warmup_cosine(name="traj_warmup_cosine"):
    inner = dict(learning_rate=0.02, T_max=259, eta_min=0.0001)
    wkw = dict(warmup_steps=41, start_lr=0.0, end_lr=0.02)

    def build(params, clip):
        s = LR.LinearWarmup(LR.CosineAnnealingDecay(**inner), **wkw)
        return adamax(s, groups_of(params, {}), 0.01), s
    return run(name, ("w", "b", "s"), build, dict(
        scheduler="paddle.optimizer.lr.LinearWarmup",
        scheduler_kwargs=dict(learning_rate={"scheduler": "paddle.optimizer.lr.CosineAnnealingDecay",
                                             "kwargs": inner}, **wkw),
        optimizer="paddle.optimizer.Adamax", optimizer_kwargs=OPT_KW,
        groups=GROUPS_META,
        notes="update 1 uses lr 0.0 (start_lr): params unchanged, m/u/beta1_pow still advance. "
              "(No `big` parameter: 300 steps of a (64, 33) float32 tensor do not fit the size budget.)"),
        l2_coeff={"w": 0.01, "b": 0.01, "s": 0.01})


def case_group_wd_none(name="traj_group_wd_none"):
    def build(params, clip):
        s = LR.StepDecay(**STEP_KW)
        return adamax(s, groups_of(params, {"weight_decay": None}), 0.01), s
    return run(name, ("w", "b", "s"), build, dict(
        scheduler="paddle.optimizer.lr.StepDecay", scheduler_kwargs=STEP_KW,
        optimizer="paddle.optimizer.Adamax", optimizer_kwargs=OPT_KW,
        groups=[{"params": ["w", "s"]}, {"params": ["b"], "learning_rate": 2.0, "weight_decay": None}],
        notes=("Group 1 has 'weight_decay': None. _add_param_group uses setdefault, so None stays, "
               "param.regularizer = None; then append_regularization_ops falls back to the optimizer's "
               "regularization (L2Decay(0.01)): b IS still decayed (compare kernel_grad_b with grad_b).")),
        l2_coeff={"w": 0.01, "b": 0.01, "s": 0.01})


def case_group_wd_zero(name="traj_group_wd_zero"):
    def build(params, clip):
        s = LR.StepDecay(**STEP_KW)
        return adamax(s, groups_of(params, {"weight_decay": 0.0}), 0.01), s
    return run(name, ("w", "b", "s"), build, dict(
        scheduler="paddle.optimizer.lr.StepDecay", scheduler_kwargs=STEP_KW,
        optimizer="paddle.optimizer.Adamax", optimizer_kwargs=OPT_KW,
        groups=[{"params": ["w", "s"]}, {"params": ["b"], "learning_rate": 2.0, "weight_decay": 0.0}],
        notes=("Group 1 has 'weight_decay': 0.0 -> L2Decay(0.0): the kernel gets add_n([g, 0.0*p]) = g "
               "(+0.0); this is how a group switches decay off.")),
        l2_coeff={"w": 0.01, "b": 0.0, "s": 0.01})


def case_l1(name="traj_l1decay"):
    def build(params, clip):
        s = LR.StepDecay(**STEP_KW)
        return adamax(s, groups_of(params, {}), paddle.regularizer.L1Decay(0.01)), s
    kw = dict(OPT_KW, weight_decay="paddle.regularizer.L1Decay(0.01)")
    return run(name, ("w", "b", "s"), build, dict(
        scheduler="paddle.optimizer.lr.StepDecay", scheduler_kwargs=STEP_KW,
        optimizer="paddle.optimizer.Adamax", optimizer_kwargs=kw, groups=GROUPS_META,
        notes="L1Decay(0.01): kernel grad = add_n([g, scale(sign(p), 0.01)]) (float32)."))


def clip_case(name, clip_factory, clip_desc, extra_notes, keys=("w", "b", "s")):
    def build(params, clip):
        s = LR.StepDecay(**STEP_KW)
        return adamax(s, groups_of(params, {}), 0.01, clip), s
    kw = dict(OPT_KW, grad_clip=clip_desc)
    groups_meta = GROUPS_META if "s" in keys else [{"params": ["w"]}, {"params": ["b"], "learning_rate": 2.0}]
    return run(name, keys, build, dict(
        scheduler="paddle.optimizer.lr.StepDecay", scheduler_kwargs=STEP_KW,
        optimizer="paddle.optimizer.Adamax", optimizer_kwargs=kw, groups=groups_meta,
        notes=("grad_clip is applied to the raw gradient first, then the L2Decay(0.01) term is added. "
               "clipped_<k> = output of grad_clip (captured). " + extra_notes)),
        clip=clip_factory(), l2_coeff={k: 0.01 for k in keys})


def case_clip_value():
    return clip_case("traj_clip_value", lambda: paddle.nn.ClipGradByValue(max=0.05, min=-0.02),
                     "paddle.nn.ClipGradByValue(max=0.05, min=-0.02)",
                     "clip = paddle.clip(g, min, max) per element.")


def case_clip_norm():
    return clip_case("traj_clip_norm", lambda: paddle.nn.ClipGradByNorm(clip_norm=1.0),
                     "paddle.nn.ClipGradByNorm(clip_norm=1.0)",
                     "per-tensor: _C_ops.clip_by_norm(g, 1.0).")


def global_norm_0d_error():
    """ClipGradByGlobalNorm with the 0-d parameter s fails inside Paddle; return the error text."""
    try:
        clip_case("traj_clip_global_norm_with_s", lambda: paddle.nn.ClipGradByGlobalNorm(clip_norm=2.0),
                  "paddle.nn.ClipGradByGlobalNorm(clip_norm=2.0)", "")
    except Exception as e:  # noqa: BLE001 - recorded verbatim
        return f"{type(e).__name__}: {e}"
    return None


def case_clip_global():
    err = global_norm_0d_error()
    return clip_case("traj_clip_global_norm", lambda: paddle.nn.ClipGradByGlobalNorm(clip_norm=2.0),
                     "paddle.nn.ClipGradByGlobalNorm(clip_norm=2.0)",
                     ("Optimizer.step() calls _apply_optimize once per parameter group, and each group's "
                      "grad_clip (the optimizer's, inherited) sees only that group's (param, grad) pairs: the "
                      "global norm is PER GROUP ({w, s} and {b} separately). Non-0-d grads are scaled "
                      "in place (g.multiply_). The 0-d parameter s is left out: with s present opt.step() "
                      "raises (clip factor has shape [1], the 0-d grad is multiplied out of place into shape "
                      "[1], then the adamax kernel rejects it): " + repr(err)), keys=("w", "b"))


PARAM_ATTRS = {
    "w": {"regularizer": "paddle.regularizer.L1Decay(0.02)"},
    "b": {"learning_rate": 2.0, "regularizer": "paddle.regularizer.L2Decay(0.05)"},
    "s": {"learning_rate": 0.5},
}


def case_paramattr(name="traj_paramattr"):
    def build(params, clip):
        s = LR.StepDecay(**STEP_KW)
        return adamax(s, [params[k] for k in ("w", "b", "s")], 0.01), s
    return run(name, ("w", "b", "s"), build, dict(
        scheduler="paddle.optimizer.lr.StepDecay", scheduler_kwargs=STEP_KW,
        optimizer="paddle.optimizer.Adamax", optimizer_kwargs=OPT_KW, groups=[],
        param_attrs=PARAM_ATTRS,
        notes=("No groups: parameters=[w, b, s] (a plain list), each created with "
               "paddle.ParamAttr(**param_attrs[k]). A ParamAttr regularizer replaces the optimizer's "
               "L2Decay(0.01) (w: L1Decay(0.02), b: L2Decay(0.05)); s has none and takes the "
               "optimizer's. ParamAttr learning_rate multiplies the scheduler's rate (b: 2.0, s: 0.5).")))


def case_paramattr_groups(name="traj_paramattr_groups"):
    def build(params, clip):
        s = LR.StepDecay(**STEP_KW)
        groups = [{"params": [params["w"], params["s"]]},
                  {"params": [params["b"]], "learning_rate": 0.5}]
        return adamax(s, groups, 0.01), s
    return run(name, ("w", "b", "s"), build, dict(
        scheduler="paddle.optimizer.lr.StepDecay", scheduler_kwargs=STEP_KW,
        optimizer="paddle.optimizer.Adamax", optimizer_kwargs=OPT_KW,
        groups=[{"params": ["w", "s"]}, {"params": ["b"], "learning_rate": 0.5}],
        param_attrs=PARAM_ATTRS,
        notes=("Same ParamAttrs as traj_paramattr, but the parameters come in groups: "
               "_add_param_group sets every parameter's regularizer to its group's weight_decay "
               "(here the optimizer's L2Decay(0.01), by setdefault) and its optimize_attr "
               "learning_rate to the group's (else 1.0): the ParamAttr values are replaced.")),
        l2_coeff={"w": 0.01, "b": 0.01, "s": 0.01})


def case_need_clip(name="traj_paramattr_need_clip"):
    def build(params, clip):
        s = LR.StepDecay(**STEP_KW)
        return adamax(s, [params["w"], params["b"]], 0.01, clip), s
    kw = dict(OPT_KW, grad_clip="paddle.nn.ClipGradByGlobalNorm(clip_norm=2.0)")
    return run(name, ("w", "b"), build, dict(
        scheduler="paddle.optimizer.lr.StepDecay", scheduler_kwargs=STEP_KW,
        optimizer="paddle.optimizer.Adamax", optimizer_kwargs=kw, groups=[],
        param_attrs={"b": {"need_clip": False}},
        notes=("No groups: parameters=[w, b]; b has ParamAttr(need_clip=False): the global norm is "
               "w's alone, and b's gradient is not scaled (clipped_b == grad_b). Then L2Decay(0.01).")),
        clip=paddle.nn.ClipGradByGlobalNorm(clip_norm=2.0), l2_coeff={"w": 0.01, "b": 0.01})


CASES = {
    "traj_step": case_step,
    "traj_warmup_cosine": case_warmup_cosine,
    "traj_group_wd_none": case_group_wd_none,
    "traj_l1decay": case_l1,
    "traj_clip_value": case_clip_value,
    "traj_clip_norm": case_clip_norm,
    "traj_clip_global_norm": case_clip_global,
    "traj_paramattr": case_paramattr,
    "traj_paramattr_groups": case_paramattr_groups,
    "traj_paramattr_need_clip": case_need_clip,
}


def main(argv):
    print("paddle", VERSION)
    for n in argv[1:] or list(CASES):
        print("wrote", CASES[n](), flush=True)


if __name__ == "__main__":
    main(sys.argv)
