"""Golden learning-rate schedules from real Keras 3 (JAX backend), kind "schedule".

For every case, N = 10000 optimizer updates of keras.optimizers.Adamax(learning_rate=<schedule>)
on a tiny dummy float32 variable (shape (1,), constant gradient 0.1) are run in three ways;
all values are float32 (Keras evaluates the schedules in float32 because
`ops.convert_to_tensor(initial_learning_rate)` is float32 with jax_enable_x64 off):

  lr        (N, 1)  [(1000, 1) for the ops.cond schedules, see below] eager: `opt.apply([g], [v])` once per step; the value is the
                    `learning_rate` argument that Adamax.update_step received (hook in
                    _common.RecordingAdamax). For the schedules without `ops.cond` it is also
                    checked to equal `opt.learning_rate` read just before each apply.
  lr_jit    (N, 1)  the model.fit path: `opt.stateless_apply(opt_vars, grads, vars)` inside
                    `jax.jit`, the lr returned from inside the jitted function (same hook).
  lr_direct (M, 1)  `sched(step)` called eagerly with a Python int step, at the steps
                    `direct_steps` (int64, (M,)); all N steps except for the schedules that use
                    `ops.cond` (CosineDecay with warmup, CosineDecayRestarts), where each eager
                    call compiles a new XLA program (~50 ms), so a subset is taken.
                    Not stored when it equals `lr` bit for bit at all N steps (meta
                    "lr_direct_equals_lr": true).
Row t-1 is the lr used by update t (1-based); update t sees `opt.iterations == t-1`, so
row t-1 == sched(t-1).

Rerun (CPU only; ~1 h in all, mostly the ops.cond cases):
    python3 -m venv /work/venvs/keras
    /work/venvs/keras/bin/pip install keras jax jaxlib numpy
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu /work/venvs/keras/bin/python gen_schedules.py [case ...]
Writes ../../keras/keras_sched_<case>.npz.
"""
import sys
import time

from _common import RecordingAdamax, base_meta, f32, jax, keras, np, save

N = int(__import__("os").environ.get("GOLDEN_N", 10000))
S = keras.optimizers.schedules
OPT_KW = dict(beta_1=0.9, beta_2=0.999, epsilon=1e-8)

CASES = {}


def case(name, cls, uses_cond=False, **kw):
    CASES[name] = (cls, kw, uses_cond)


for stair in (False, True):
    for ds in (41, 7):
        for rate in (0.3, 0.97):
            case(
                f"exp_ds{ds}_r{rate}_{'stair' if stair else 'smooth'}",
                "ExponentialDecay",
                initial_learning_rate=0.02, decay_steps=ds, decay_rate=rate, staircase=stair,
            )
case("piecewise", "PiecewiseConstantDecay",
     boundaries=[7, 41, 300], values=[0.02, 0.01, 0.005, 0.001])
for power in (0.5, 2.0):
    for cyc in (False, True):
        case(f"poly_p{power}_{'cycle' if cyc else 'nocycle'}", "PolynomialDecay",
             initial_learning_rate=0.02, decay_steps=300, end_learning_rate=0.0005,
             power=power, cycle=cyc)
for stair in (False, True):
    case(f"invtime_{'stair' if stair else 'smooth'}", "InverseTimeDecay",
         initial_learning_rate=0.02, decay_steps=41, decay_rate=0.5, staircase=stair)
case("cosine_nowarmup", "CosineDecay",
     initial_learning_rate=0.02, decay_steps=300, alpha=0.005)
case("cosine_warmup", "CosineDecay", uses_cond=True,
     initial_learning_rate=0.0, decay_steps=259, alpha=0.005,
     warmup_target=0.02, warmup_steps=41)
case("restarts_fd41", "CosineDecayRestarts", uses_cond=True,
     initial_learning_rate=0.02, first_decay_steps=41, t_mul=2.0, m_mul=0.9, alpha=0.01)
case("restarts_fd7", "CosineDecayRestarts", uses_cond=True,
     initial_learning_rate=0.02, first_decay_steps=7, t_mul=2.0, m_mul=0.9, alpha=0.01)
# extras (run last): the non-geometric restarts branch and a warmup from a nonzero lr
case("restarts_fd41_tmul1", "CosineDecayRestarts", uses_cond=True,
     initial_learning_rate=0.02, first_decay_steps=41, t_mul=1.0, m_mul=0.9, alpha=0.01)
case("cosine_warmup_from_0p001", "CosineDecay", uses_cond=True,
     initial_learning_rate=0.001, decay_steps=259, alpha=0.005,
     warmup_target=0.02, warmup_steps=41)

# The ops.cond schedules are slow in eager mode (every eager call traces and compiles a new
# XLA program for the lax.cond, ~50-200 ms): their eager optimizer loop runs N_EAGER_COND
# steps, and sched(step) is called directly on a subset that reaches N - 1.
N_EAGER_COND = min(N, 1000)
DIRECT_SUBSET = np.array(sorted(
    s for s in set(range(0, N_EAGER_COND, 5)) | set(range(N_EAGER_COND, N, 53))
    | {7, 8, 21, 22, 40, 41, 42, 48, 49, 50, 104, 105, 122, 123, 216, 217, 286, 287,
       299, 300, 301, 440, 441, 614, 615, 888, 889, 1270, 1271, 1784, 1785, 2582, 2583,
       3576, 3577, 5206, 5207, 7160, 7161, N - 1}
    if s < N))


def make(cls, kw):
    return getattr(S, cls)(**kw)


def run_eager(cls, kw, check_pre_read, n):
    sched = make(cls, kw)
    opt = RecordingAdamax(learning_rate=sched, **OPT_KW)
    v = keras.Variable(np.ones((1,), np.float32), name="w")
    g = np.full((1,), 0.1, np.float32)
    out = np.empty((n, 1), np.float32)
    for t in range(n):
        assert int(opt.iterations) == t
        pre = f32(opt.learning_rate) if check_pre_read else None
        opt.apply([g], [v])
        out[t, 0] = f32(opt.recorded_lr)
        if check_pre_read:
            assert pre.tobytes() == out[t, 0].tobytes(), (t, pre, out[t, 0])
    return out


def run_jit(cls, kw):
    sched = make(cls, kw)
    opt = RecordingAdamax(learning_rate=sched, **OPT_KW)
    v = keras.Variable(np.ones((1,), np.float32), name="w")
    opt.build([v])
    g = jax.numpy.full((1,), 0.1, jax.numpy.float32)

    @jax.jit
    def train_step(opt_vars, train_vars, grads):
        new_tv, new_ov = opt.stateless_apply(opt_vars, grads, train_vars)
        return new_tv, new_ov, opt.recorded_lr

    ov = [x.value for x in opt.variables]
    tv = [v.value]
    out = np.empty((N, 1), np.float32)
    for t in range(N):
        tv, ov, lr = train_step(ov, tv, [g])
        out[t, 0] = f32(lr)
    return out


def run_direct(cls, kw, steps):
    sched = make(cls, kw)
    return np.array([[f32(sched(int(s)))] for s in steps], np.float32)


def main(names):
    for name in names:
        cls, kw, uses_cond = CASES[name]
        t0 = time.time()
        n_eager = N_EAGER_COND if uses_cond else N
        lr = run_eager(cls, kw, check_pre_read=not uses_cond, n=n_eager)
        lr_jit = run_jit(cls, kw)
        steps = DIRECT_SUBSET if uses_cond else np.arange(N)
        lr_direct = run_direct(cls, kw, steps)
        d_jit = np.flatnonzero(lr.view(np.uint32) != lr_jit[:n_eager].view(np.uint32))
        both = steps[steps < n_eager]
        d_dir = np.flatnonzero(lr[both].view(np.uint32) != lr_direct[steps < n_eager].view(np.uint32))
        # eager-equivalent values at every step known: lr, then sched(step) beyond it
        d_jit_direct = steps[np.flatnonzero(lr_jit[steps].view(np.uint32) != lr_direct.view(np.uint32))]
        notes = (
            "lr: eager opt.apply per step, value of the learning_rate argument Adamax.update_step "
            "received (== opt.learning_rate read just before apply, checked when lr_direct is "
            "complete). lr_jit: opt.stateless_apply inside jax.jit (the model.fit train-step "
            "path), lr returned from inside the jitted function. lr_direct: sched(step) eager, "
            "Python int step, at direct_steps. Row t-1 = update t, which sees iterations == t-1. "
            f"Bit differences: eager vs jit at {len(d_jit)} steps, eager vs direct at "
            f"{len(d_dir)} of the {len(both)} direct steps inside the eager range"
            + (f" (eager loop only {n_eager} steps: ops.cond schedule, see module docstring)"
               if uses_cond else "")
            + ". Dummy variable float32 shape (1,), gradient 0.1."
        )
        meta = base_meta(
            name, "schedule",
            scheduler=f"keras.optimizers.schedules.{cls}",
            scheduler_kwargs=kw,
            optimizer_kwargs=dict(learning_rate=f"keras.optimizers.schedules.{cls}(**scheduler_kwargs)", **OPT_KW),
            groups=[{"params": ["w"]}],
            dtype="float32",
            uses_ops_cond=uses_cond,
            n_steps=N,
            n_steps_eager=n_eager,
            diff_steps_jit_vs_direct=d_jit_direct.tolist()[:200],
            n_diff_jit_vs_direct=int(len(d_jit_direct)),
            diff_steps_eager_vs_jit=d_jit.tolist()[:200],
            n_diff_eager_vs_jit=len(d_jit),
            n_diff_eager_vs_direct=len(d_dir),
            notes=notes,
        )
        arrays = dict(lr=lr, lr_jit=lr_jit)
        if uses_cond or len(d_dir):
            arrays.update(lr_direct=lr_direct, direct_steps=steps.astype(np.int64))
        else:  # identical bits at all N steps: not stored twice
            meta["lr_direct_equals_lr"] = True
        save(f"keras_sched_{name}.npz", meta, **arrays)
        print(f"{name}: {time.time() - t0:.0f}s, eager!=jit at {len(d_jit)} steps "
              f"(first {d_jit[:10].tolist()}), eager!=direct at {len(d_dir)}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or list(CASES))
