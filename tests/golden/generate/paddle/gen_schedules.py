"""Golden learning-rate schedules from the real PaddlePaddle (CPU), kind "schedule".

Every paddle.optimizer.lr.LRScheduler is attached to paddle.optimizer.Adamax as a user does
and driven for N = 10000 updates with

    loss = (p * c).sum(); loss.backward()
    lr = opt.get_lr()          # recorded as `lr` (a Python double -> float64)
    opt.step()                 # the float32 lr tensor handed to the kernel is captured
    opt.clear_grad()
    sched.step()               # sched.step(metric[t-1]) for ReduceOnPlateau

Rerun (CPU wheel, recorded with paddlepaddle 3.3.1):

    python3 -m venv /work/venvs/paddle
    /work/venvs/paddle/bin/pip install paddlepaddle numpy
    cd /work/main/tests/golden/generate/paddle
    /work/venvs/paddle/bin/python gen_schedules.py            # all cases
    /work/venvs/paddle/bin/python gen_schedules.py sched_step_41   # one case

Writes ../../paddle/sched_<case>.npz with
  lr         float64 (N, G): opt.get_lr() just before update t (row t-1), i.e. the scheduler's
             Python double, for every group (G = 1 except the multiplier cases, where column g is
             the same base value: the multiplier is applied later, in float32).
  lr_kernel  float32 (N, P): only in the multiplier cases: the float32 lr tensor the adamax
             kernel received for parameter j (captured by wrapping opt._create_param_lr).
             In every other case the script asserts lr_kernel == np.float32(lr) at every step and
             does not store it.
  metric     float64 (N,): ReduceOnPlateau only, the value passed to sched.step after update t.
"""

from __future__ import annotations

import sys

import numpy as np
from _common import VERSION, capture_param_lr, paddle, save

N = 10000
LR = paddle.optimizer.lr


def plateau_metric(n: int) -> np.ndarray:
    """Deterministic metric: periods of 400 steps = 300 strictly decreasing steps (x0.997),
    40 flat steps (longer than patience), 60 noisy steps (seeded); repeated."""
    rng = np.random.default_rng(1234)
    out = np.empty(n, dtype=np.float64)
    m = 1.0
    for t in range(n):
        ph = t % 400
        if ph < 300:
            m = m * 0.997
            out[t] = m
        elif ph < 340:
            out[t] = m
        else:
            out[t] = m * (1.0 + 0.01 * float(rng.standard_normal()))
    return out


def cases():
    """name -> (factory(opt params) -> (sched, groups_spec), meta)"""
    C = {}

    def add(name, cls, kwargs, make=None, notes="", lambdas=None):
        C[name] = dict(cls=cls, kwargs=kwargs, make=make, notes=notes, lambdas=lambdas or {})

    add("noam", "NoamDecay", dict(d_model=64, warmup_steps=41, learning_rate=0.5))
    add("piecewise", "PiecewiseDecay",
        dict(boundaries=[7, 41, 300], values=[0.02, 0.01, 0.003, 0.0007]))
    add("natural_exp_0.3", "NaturalExpDecay", dict(learning_rate=0.02, gamma=0.3),
        notes="gamma 0.3: lr underflows (double subnormal, then 0.0; float32 kernel lr reaches 0 much earlier)")
    add("natural_exp_0.0007", "NaturalExpDecay", dict(learning_rate=0.02, gamma=0.0007))
    add("inverse_time", "InverseTimeDecay", dict(learning_rate=0.02, gamma=0.3))
    add("polynomial", "PolynomialDecay",
        dict(learning_rate=0.02, decay_steps=41, end_lr=0.0001, power=1.5, cycle=False))
    add("polynomial_cycle", "PolynomialDecay",
        dict(learning_rate=0.02, decay_steps=41, end_lr=0.0001, power=1.5, cycle=True))
    add("linear_warmup_float", "LinearWarmup",
        dict(learning_rate=0.02, warmup_steps=41, start_lr=0.001, end_lr=0.03),
        notes="wraps a float: after warmup returns the float learning_rate unchanged")
    add("linear_warmup_cosine", "LinearWarmup",
        dict(learning_rate={"scheduler": "paddle.optimizer.lr.CosineAnnealingDecay",
                            "kwargs": dict(learning_rate=0.02, T_max=41, eta_min=0.0001)},
             warmup_steps=41, start_lr=0.0, end_lr=0.02),
        make=lambda: LR.LinearWarmup(LR.CosineAnnealingDecay(learning_rate=0.02, T_max=41, eta_min=0.0001),
                                     warmup_steps=41, start_lr=0.0, end_lr=0.02),
        notes="inner CosineAnnealingDecay is stepped with an explicit epoch -> its _get_closed_form_lr")
    add("linear_warmup_linearlr", "LinearWarmup",
        dict(learning_rate={"scheduler": "paddle.optimizer.lr.LinearLR",
                            "kwargs": dict(learning_rate=0.02, total_steps=41, start_factor=0.25, end_factor=1.0)},
             warmup_steps=41, start_lr=0.0, end_lr=0.005),
        make=lambda: LR.LinearWarmup(LR.LinearLR(learning_rate=0.02, total_steps=41, start_factor=0.25, end_factor=1.0),
                                     warmup_steps=41, start_lr=0.0, end_lr=0.005),
        notes="inner LinearLR has no closed form: step(epoch) sets last_epoch and uses the recursion get_lr")
    add("exponential_0.97", "ExponentialDecay", dict(learning_rate=0.02, gamma=0.97))
    add("exponential_0.3", "ExponentialDecay", dict(learning_rate=0.02, gamma=0.3))
    add("multistep", "MultiStepDecay", dict(learning_rate=0.02, milestones=[7, 41, 300], gamma=0.3))
    add("step_41", "StepDecay", dict(learning_rate=0.02, step_size=41, gamma=0.3))
    add("step_7", "StepDecay", dict(learning_rate=0.02, step_size=7, gamma=0.97))
    add("lambda", "LambdaDecay", dict(learning_rate=0.02, lr_lambda="lambda e: 0.999 ** e"),
        lambdas={"lr_lambda": lambda e: 0.999 ** e})
    add("reduce_on_plateau", "ReduceOnPlateau",
        dict(learning_rate=0.02, mode="min", factor=0.7, patience=20, threshold=0.001,
             threshold_mode="rel", cooldown=5, min_lr=1e-05, epsilon=1e-08))
    add("cosine", "CosineAnnealingDecay", dict(learning_rate=0.02, T_max=41, eta_min=0.0001))
    add("multiplicative", "MultiplicativeDecay",
        dict(learning_rate=0.02, lr_lambda="lambda e: 0.97 if e % 7 == 0 else 1.0"),
        lambdas={"lr_lambda": lambda e: 0.97 if e % 7 == 0 else 1.0})
    add("onecycle_cos", "OneCycleLR", dict(max_learning_rate=0.02, total_steps=10000))
    add("onecycle_linear_3phase", "OneCycleLR",
        dict(max_learning_rate=0.02, total_steps=10000, divide_factor=10.0, end_learning_rate=1e-05,
             phase_pct=0.2, anneal_strategy="linear", three_phase=True))
    for mode, extra in (("triangular", {}), ("triangular2", {}), ("exp_range", dict(exp_gamma=0.9995))):
        add(f"cyclic_{mode}", "CyclicLR",
            dict(base_learning_rate=0.001, max_learning_rate=0.02, step_size_up=41, step_size_down=7,
                 mode=mode, **extra))
    add("linear_lr", "LinearLR", dict(learning_rate=0.02, total_steps=41, start_factor=0.25, end_factor=0.9))
    add("cosine_warm_restarts_1", "CosineAnnealingWarmRestarts",
        dict(learning_rate=0.02, T_0=41, T_mult=1, eta_min=0.0001))
    add("cosine_warm_restarts_2", "CosineAnnealingWarmRestarts",
        dict(learning_rate=0.02, T_0=41, T_mult=2, eta_min=0.0001))
    return C


def make_sched(spec):
    if spec["make"] is not None:
        return spec["make"]()
    kw = dict(spec["kwargs"])
    kw.update(spec["lambdas"])
    return getattr(LR, spec["cls"])(**kw)


def dummy_param(name_value=1.0, attr=None):
    return paddle.create_parameter(
        [3], "float32", attr=attr,
        default_initializer=paddle.nn.initializer.Constant(name_value))


def run_case(name, spec):
    sched = make_sched(spec)
    p = dummy_param()
    opt = paddle.optimizer.Adamax(learning_rate=sched, parameters=[p])
    seen = capture_param_lr(opt)
    c = paddle.to_tensor(np.array([0.5, -1.0, 2.0], dtype=np.float32))
    is_plateau = spec["cls"] == "ReduceOnPlateau"
    metric = plateau_metric(N) if is_plateau else None
    lr = np.empty((N, 1), dtype=np.float64)
    for t in range(N):
        loss = (p * c).sum()
        loss.backward()
        lr[t, 0] = float(opt.get_lr())
        opt.step()
        opt.clear_grad()
        if is_plateau:
            sched.step(float(metric[t]))
        else:
            sched.step()
    kern = np.array(seen[p.name], dtype=np.float32)
    assert kern.shape == (N,)
    if not np.array_equal(kern.view(np.uint32), lr[:, 0].astype(np.float32).view(np.uint32)):
        bad = np.nonzero(kern.view(np.uint32) != lr[:, 0].astype(np.float32).view(np.uint32))[0]
        raise AssertionError(f"{name}: kernel lr != float32(lr) at steps {bad[:10] + 1}")
    extra_notes = ""
    if spec["cls"] == "OneCycleLR":
        try:
            sched.step()
            extra_notes = " One more sched.step() after the 10000th update did NOT raise."
        except Exception as e:  # record the exact error for stepping past total_steps
            extra_notes = (f" After the 10000 recorded updates last_epoch == total_steps; one more "
                           f"sched.step() raises {type(e).__name__}: {e}")
    meta = dict(
        kind="schedule",
        scheduler="paddle.optimizer.lr." + spec["cls"],
        scheduler_kwargs=spec["kwargs"],
        optimizer="paddle.optimizer.Adamax",
        optimizer_kwargs=dict(learning_rate="<the scheduler>", parameters="[p]"),
        groups=[{"params": ["p"]}],
        lambdas_by_name=sorted(spec["lambdas"]),
        notes=("lr[t-1, 0] = float(opt.get_lr()) read just before opt.step() of update t (1-based); "
               "loop: loss.backward(); get_lr(); opt.step(); opt.clear_grad(); sched.step()"
               + ("(metric[t-1])" if is_plateau else "")
               + ". The float32 lr tensor the adamax kernel received (captured by wrapping "
                 "opt._create_param_lr) equals np.float32(lr) at every step (asserted, not stored). "
               + spec["notes"] + extra_notes),
    )
    arrays = dict(lr=lr)
    if is_plateau:
        arrays["metric"] = metric
        meta["metric_recipe"] = ("periods of 400: 300 steps m*=0.997 (m0=1.0), 40 flat, 60 steps "
                                 "m*(1+0.01*rng.standard_normal()) with np.random.default_rng(1234)")
    return save("sched_" + name, meta, **arrays)


def run_multiplier_cases():
    """Parameter groups with a learning_rate multiplier, and ParamAttr(learning_rate=...)."""
    out = []
    kw = dict(learning_rate=0.02, step_size=41, gamma=0.3)
    c = paddle.to_tensor(np.array([0.5, -1.0, 2.0], dtype=np.float32))

    def loop(opt, sched, params, ngroups):
        seen = capture_param_lr(opt)
        lr = np.empty((N, ngroups), dtype=np.float64)
        for t in range(N):
            loss = sum((q * c).sum() for q in params)
            loss.backward()
            lr[t, :] = float(opt.get_lr())
            opt.step()
            opt.clear_grad()
            sched.step()
        kern = np.stack([np.array(seen[q.name], dtype=np.float32) for q in params], axis=1)
        assert kern.shape == (N, len(params))
        return lr, kern

    # (1) parameter groups with multipliers 1.0 (absent), 0.5, 0.3, 2.0
    sched = LR.StepDecay(**kw)
    ps = [dummy_param() for _ in range(4)]
    groups = [{"params": [ps[0]]}, {"params": [ps[1]], "learning_rate": 0.5},
              {"params": [ps[2]], "learning_rate": 0.3}, {"params": [ps[3]], "learning_rate": 2.0}]
    opt = paddle.optimizer.Adamax(learning_rate=sched, parameters=groups)
    lr, kern = loop(opt, sched, ps, 4)
    f32 = lr.astype(np.float32)
    mult = np.array([1.0, 0.5, 0.3, 2.0])
    prod_f32 = (f32 * mult.astype(np.float32)).astype(np.float32)  # float32 x float32 -> float32
    assert np.array_equal(kern.view(np.uint32), prod_f32.view(np.uint32)), "not fl32(fl32(lr)*fl32(m))"
    double_then_round = (lr * mult).astype(np.float32)
    ndiff = int(np.sum(kern.view(np.uint32) != double_then_round.view(np.uint32)))
    out.append(save("sched_groups_multiplier", dict(
        kind="schedule", scheduler="paddle.optimizer.lr.StepDecay", scheduler_kwargs=kw,
        optimizer="paddle.optimizer.Adamax", optimizer_kwargs=dict(learning_rate="<the scheduler>"),
        groups=[{"params": ["p0"]}, {"params": ["p1"], "learning_rate": 0.5},
                {"params": ["p2"], "learning_rate": 0.3}, {"params": ["p3"], "learning_rate": 2.0}],
        notes=("lr[:, g] = float(opt.get_lr()) (the same base double for every group). lr_kernel[:, g] is "
               "the float32 tensor the kernel got for the group's parameter: "
               "float32(float32(lr) * float32(multiplier)) (float32 tensor times Python float; asserted "
               f"bit-exact). float32(lr_double * multiplier) differs from it at {ndiff} of {4 * N} entries."),
    ), lr=lr, lr_kernel=kern))

    # (2) no groups: ParamAttr(learning_rate=2.0) and ParamAttr(learning_rate=0.3)
    sched = LR.StepDecay(**kw)
    ps = [dummy_param(), dummy_param(attr=paddle.ParamAttr(learning_rate=2.0)),
          dummy_param(attr=paddle.ParamAttr(learning_rate=0.3))]
    opt = paddle.optimizer.Adamax(learning_rate=sched, parameters=ps)
    lr, kern = loop(opt, sched, ps, 1)
    mult = np.array([1.0, 2.0, 0.3])
    prod_f32 = (lr.astype(np.float32) * mult.astype(np.float32)).astype(np.float32)
    assert np.array_equal(kern.view(np.uint32), prod_f32.view(np.uint32))
    out.append(save("sched_paramattr_lr", dict(
        kind="schedule", scheduler="paddle.optimizer.lr.StepDecay", scheduler_kwargs=kw,
        optimizer="paddle.optimizer.Adamax",
        optimizer_kwargs=dict(learning_rate="<the scheduler>", parameters="[p0, p1, p2] (no groups)"),
        groups=[{"params": ["p0", "p1 (ParamAttr(learning_rate=2.0))", "p2 (ParamAttr(learning_rate=0.3))"]}],
        notes=("lr[:, 0] = float(opt.get_lr()). lr_kernel[:, j] (j = p0, p1, p2) is the float32 lr tensor "
               "the kernel got: float32(float32(lr) * float32(param.optimize_attr['learning_rate'])), asserted."),
    ), lr=lr, lr_kernel=kern))

    # (3) groups + a ParamAttr(learning_rate=2.0) param: the group value overwrites it
    sched = LR.StepDecay(**kw)
    ps = [dummy_param(), dummy_param(attr=paddle.ParamAttr(learning_rate=2.0)),
          dummy_param(attr=paddle.ParamAttr(learning_rate=2.0))]
    groups = [{"params": [ps[0], ps[1]]}, {"params": [ps[2]], "learning_rate": 0.5}]
    opt = paddle.optimizer.Adamax(learning_rate=sched, parameters=groups)
    attrs_after = [q.optimize_attr["learning_rate"] for q in ps]
    lr, kern = loop(opt, sched, ps, 2)
    lr = lr[:, :2]
    out.append(save("sched_groups_paramattr", dict(
        kind="schedule", scheduler="paddle.optimizer.lr.StepDecay", scheduler_kwargs=kw,
        optimizer="paddle.optimizer.Adamax", optimizer_kwargs=dict(learning_rate="<the scheduler>"),
        groups=[{"params": ["p0", "p1 (ParamAttr(learning_rate=2.0))"]},
                {"params": ["p2 (ParamAttr(learning_rate=2.0))"], "learning_rate": 0.5}],
        notes=("Optimizer._add_param_group sets param.optimize_attr['learning_rate'] = group.get('learning_rate', 1.0), "
               f"overwriting the ParamAttr value: optimize_attr after construction = {attrs_after}. "
               "lr_kernel[:, j] per parameter p0, p1, p2."),
    ), lr=lr, lr_kernel=kern))
    return out


def main(argv):
    C = cases()
    names = argv[1:] or list(C) + ["multipliers"]
    print("paddle", VERSION)
    for n in names:
        if n.startswith("sched_"):
            n = n[len("sched_"):]
        if n == "multipliers":
            for path in run_multiplier_cases():
                print("wrote", path)
            continue
        print("wrote", run_case(n, C[n]), flush=True)


if __name__ == "__main__":
    main(sys.argv)
