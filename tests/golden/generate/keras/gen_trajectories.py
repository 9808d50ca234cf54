"""Golden Keras 3 (JAX backend) Adamax trajectories with learning-rate schedules,
kind "trajectory", float32, 300 steps, w/b/s parameters (one group: Keras has no groups).

Cases (each recorded twice: eager `opt.apply` -> keras_traj_<case>_eager.npz, and
`opt.stateless_apply` inside `jax.jit`, the model.fit train-step path -> ..._jit.npz):
  expdecay_stair: ExponentialDecay(0.02, decay_steps=41, decay_rate=0.3, staircase=True)
  cosine_warmup:  CosineDecay(0.0, decay_steps=259, alpha=0.005, warmup_target=0.02,
                  warmup_steps=41)
  restarts:       CosineDecayRestarts(0.01, first_decay_steps=50, t_mul=2.0, m_mul=0.9,
                  alpha=0.001), 600 steps
with Adamax(beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.004) (Keras's decoupled
decay: var -= var*wd*lr before the Adamax step, both in the variable dtype).

Rerun (CPU only, a few minutes):
    python3 -m venv /work/venvs/keras
    /work/venvs/keras/bin/pip install keras jax jaxlib numpy
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu /work/venvs/keras/bin/python gen_trajectories.py
"""
import sys

from _common import base_meta, keras, save
from _problem import PROBLEM_NOTES, run

T = 300
S = keras.optimizers.schedules
OPT_KW = dict(beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.004)
CASES = {
    "expdecay_stair": ("ExponentialDecay", dict(
        initial_learning_rate=0.02, decay_steps=41, decay_rate=0.3, staircase=True)),
    "cosine_warmup": ("CosineDecay", dict(
        initial_learning_rate=0.0, decay_steps=259, alpha=0.005, warmup_target=0.02,
        warmup_steps=41)),
    "restarts": ("CosineDecayRestarts", dict(
        initial_learning_rate=0.01, first_decay_steps=50, t_mul=2.0, m_mul=0.9, alpha=0.001)),
}
STEPS = {"restarts": 600}  # default T otherwise
PROBLEM_KW = dict(T=T, dtype="float32", grad_scale=1.0, huge=1e30, subnormal=1e-40, seed=0)


def main(names):
    for name in names:
        cls, skw = CASES[name]
        for mode in ("eager", "jit"):
            sched = getattr(S, cls)(**skw)
            problem_kw = dict(PROBLEM_KW, T=STEPS.get(name, T))
            out = run(dict(learning_rate=sched, **OPT_KW), mode=mode, **problem_kw)
            meta = base_meta(
                f"{name}_{mode}", "trajectory",
                scheduler=f"keras.optimizers.schedules.{cls}",
                scheduler_kwargs=skw,
                optimizer_kwargs=dict(
                    learning_rate=f"keras.optimizers.schedules.{cls}(**scheduler_kwargs)",
                    **OPT_KW),
                groups=[{"params": ["w", "b", "s"], "weight_decay": 0.004}],
                dtype="float32", mode=mode, problem=problem_kw,
                notes=(("eager: opt.apply(grads, vars) per step. " if mode == "eager" else
                        "jit: new_vars, new_opt_vars = opt.stateless_apply(opt_vars, grads, vars) "
                        "inside jax.jit (as keras' JAX trainer train_step), lr returned from "
                        "inside the jitted function. ") + PROBLEM_NOTES),
            )
            save(f"keras_traj_{name}_{mode}.npz", meta, **out)


if __name__ == "__main__":
    main(sys.argv[1:] or list(CASES))
