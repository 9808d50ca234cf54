"""Golden Keras 3 (JAX backend) runs of keras.optimizers.LossScaleOptimizer around Adamax,
kind "loss_scale_optimizer", float32, 300 closed-loop steps on w (12, 7), b (5,), s ().

LossScaleOptimizer(Adamax(learning_rate=0.02, beta_1=0.9, beta_2=0.999, epsilon=1e-8),
initial_scale=2**116, dynamic_growth_steps=20). The problem is _problem.py's (grad_scale 1,
huge 1e30, subnormal 1e-40), plus w[0, 1] = 5e4 on steps 1 to 6 (it overflows once
scaled by 2**113 and above, not by 2**112) and a NaN at b[2] on step 150. The gradient
fed at step t is the problem gradient times the current `dynamic_scale` in float32 (what
the gradient of `opt.scale_loss(loss)` is), so the huge step 120 (1e30 * 2**112)
overflows too. No weight decay: every update moves a weight by less than a factor of
two, so the replay adds updates exactly.

    jit:       `opt.stateless_apply` inside `jax.jit` (model.fit's step) -> keras_lso_jit.npz,
               and with initial_scale=3 * 2**112 -> keras_lso_odd_scale_jit.npz
    stateless: `opt.stateless_apply` called outside `jax.jit`: checked to give the same
               bits as jit (not saved; it takes about two minutes)
The eager `opt.apply` does not run on the JAX backend in Keras 3.15.1: its `ops.cond`
(a `jax.lax.cond`) assigns variables inside the branches and fails with
UnexpectedTracerError at the first call.

Arrays: grad_<k> (300, *shape) as fed; param_<k>, m_<k>, u_<k> (301, *shape); and
(301,) dynamic_scale (float32), step_counter (int), iterations (the inner optimizer's).

Rerun (CPU only, about three minutes):
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu /work/venvs/keras/bin/python gen_loss_scale_optimizer.py \
        [lso_jit lso_odd_scale_jit]
"""
import sys

import numpy as np

from _common import base_meta, jax, keras, save
from _problem import KEYS, PROBLEM_NOTES, SHAPES, make_grad, problem

T = 300
ADAMAX = dict(learning_rate=0.02, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
LSO = dict(initial_scale=2.0**116, dynamic_growth_steps=20)
# A scale that is no power of two: dividing by it differs from multiplying by 1/scale.
LSO_ODD = dict(initial_scale=3.0 * 2.0**112, dynamic_growth_steps=20)
SPIKES = {t: ("w", (0, 1), 5e4) for t in range(1, 7)}
SPIKES[150] = ("b", (2,), float("nan"))


def gradient(t, params, prob, scale):
    g = make_grad(t, params, prob, 1.0, 1e30, 1e-40, np.float32)
    spike = SPIKES.get(t)
    if spike is not None:
        g[spike[0]][spike[1]] = np.float32(spike[2])
    with np.errstate(over="ignore", invalid="ignore"):
        return {k: (g[k] * np.float32(scale)).astype(np.float32) for k in KEYS}


def run(mode, lso):
    prob = problem(0, T)
    vars_ = [keras.Variable(prob[0][k], dtype="float32", name=k) for k in KEYS]
    inner = keras.optimizers.Adamax(**ADAMAX)
    opt = keras.optimizers.LossScaleOptimizer(inner, **lso)
    opt.build(vars_)
    index = {id(v): i for i, v in enumerate(opt.variables)}
    m_i = [index[id(v)] for v in inner._m]
    u_i = [index[id(v)] for v in inner._u]
    scale_i = index[id(opt.dynamic_scale)]
    counter_i = index[id(opt.step_counter)]
    iterations_i = index[id(inner._iterations)]

    rec = {}
    for k in KEYS:
        rec[f"grad_{k}"] = np.zeros((T,) + SHAPES[k], np.float32)
        for prefix in ("param_", "m_", "u_"):
            rec[prefix + k] = np.zeros((T + 1,) + SHAPES[k], np.float32)
        rec[f"param_{k}"][0] = prob[0][k]
    rec["dynamic_scale"] = np.zeros(T + 1, np.float32)
    rec["step_counter"] = np.zeros(T + 1, np.int64)
    rec["iterations"] = np.zeros(T + 1, np.int64)
    rec["dynamic_scale"][0] = lso["initial_scale"]

    def train_step(opt_vars, train_vars, grads):
        return opt.stateless_apply(opt_vars, grads, train_vars)

    if mode == "jit":
        train_step = jax.jit(train_step)
    opt_values = [v.value for v in opt.variables]
    train_values = [v.value for v in vars_]

    for t in range(1, T + 1):
        current = {k: np.asarray(x) for k, x in zip(KEYS, train_values)}
        scale = np.asarray(opt_values[scale_i])
        g = gradient(t, current, prob, scale)
        grads = [g[k] for k in KEYS]
        train_values, opt_values = train_step(
            opt_values, train_values, [jax.numpy.asarray(x) for x in grads])
        params = [np.asarray(x) for x in train_values]
        values = [np.asarray(x) for x in opt_values]
        for j, k in enumerate(KEYS):
            rec[f"grad_{k}"][t - 1] = g[k]
            rec[f"param_{k}"][t] = params[j]
            rec[f"m_{k}"][t] = values[m_i[j]]
            rec[f"u_{k}"][t] = values[u_i[j]]
        rec["dynamic_scale"][t] = values[scale_i]
        rec["step_counter"][t] = values[counter_i]
        rec["iterations"][t] = values[iterations_i]
    return rec


def record(name, lso, check_outside_jit):
    rec = run("jit", lso)
    if check_outside_jit:
        outside_jit = run("stateless", lso)
        for key, values in rec.items():
            assert values.tobytes() == outside_jit[key].tobytes(), f"jit and stateless differ: {key}"
    meta = base_meta(
        name, "loss_scale_optimizer", mode="jit", T=T, param_order=KEYS,
        wrapper="keras.optimizers.LossScaleOptimizer", wrapper_kwargs=lso,
        optimizer_kwargs=ADAMAX,
        spikes={str(t): [k, list(i), v] for t, (k, i, v) in SPIKES.items()},
        notes=PROBLEM_NOTES + " grad_<k>[t-1] = the problem gradient (plus the spikes) "
        "times dynamic_scale[t-1] in float32, the gradient of the scaled loss; "
        "dynamic_scale[t], step_counter[t] = opt.dynamic_scale, opt.step_counter after "
        "update t; iterations[t] = the inner Adamax's iterations (a skipped step leaves "
        "it).")
    save(f"keras_{name}.npz", meta, **rec)
    skipped = [t for t in range(1, T + 1) if rec["iterations"][t] == rec["iterations"][t - 1]]
    print(name, "skipped", skipped, "scale exponents",
          np.log2(rec["dynamic_scale"][[0, 5, 6, 30, 60, 300]]).tolist())


def main(only):
    if not only or "lso_jit" in only:
        record("lso_jit", LSO, check_outside_jit=True)
    if not only or "lso_odd_scale_jit" in only:
        record("lso_odd_scale_jit", LSO_ODD, check_outside_jit=False)

if __name__ == "__main__":
    main(sys.argv[1:])
