"""Golden Keras 3 (JAX backend) Adamax trajectories for the base-optimizer constructor knobs,
kind "trajectory", float32, 300 steps, eager `opt.apply` per step, w/b/s parameters.

All cases: Adamax(beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.004) plus the knob:
  clipnorm          clipnorm=0.05          (grad_scale 0.01 so per-variable norms cross 0.05;
                                            huge gradients 1e18 so the squared sums stay finite)
  global_clipnorm   global_clipnorm=0.05   (same problem settings)
  global_clipnorm_overflow  global_clipnorm=0.05 with huge gradients 1e30: the global norm
                    overflows to inf at step 120 and every parameter becomes NaN
  clipvalue         clipvalue=0.01         (same problem settings)
  loss_scale        loss_scale_factor=128.0; the gradients fed are 128 * the problem gradient
                    (the gradient of the scaled loss); apply() divides them by 128
  grad_accum        gradient_accumulation_steps=3, learning_rate=ExponentialDecay(0.02,
                    decay_steps=41, decay_rate=0.3, staircase=True) (the schedule sees the
                    raw micro-step counter); acc_<k> holds the accumulators after each call
  ema               use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=7; ema_<k> holds the
                    moving averages after each step
  exclude_b         exclude_from_weight_decay(var_names=["b"]) before the first apply
  constant          learning_rate=0.02 and nothing else (weight_decay=None), 100 steps: the
                    plain compiled step
  recipe_cosine_exclude_global  CosineDecay with warmup + weight decay +
                    exclude_from_weight_decay(["b"]) + global_clipnorm=0.05
  recipe_piecewise_ema  PiecewiseConstantDecay + use_ema (0.99) overwriting every 100 steps
  recipe_poly_clipnorm  PolynomialDecay(power=0.5) + clipnorm=0.05
learning_rate=0.02 (a float32 Keras variable) except for grad_accum and the recipes.

`--jit` records the same cases with `opt.stateless_apply` inside `jax.jit` (the step that
`model.fit` compiles with Keras's default `jit_compile="auto"` on the JAX backend) into
keras_traj_knob_<case>_jit.npz; without it, eager `opt.apply` into keras_traj_knob_<case>.npz.

Rerun (CPU only, a couple of minutes):
    python3 -m venv /work/venvs/keras
    /work/venvs/keras/bin/pip install keras jax jaxlib numpy
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu /work/venvs/keras/bin/python gen_knobs.py [--jit] [case ...]
"""
import sys

from _common import base_meta, keras, save
from _problem import PROBLEM_NOTES, run

T = 300
BASE = dict(beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.004)
CLIP_PROBLEM = dict(grad_scale=0.01, huge=1e18, subnormal=1e-40)
PLAIN_PROBLEM = dict(grad_scale=1.0, huge=1e30, subnormal=1e-40)
SCHED_KW = dict(initial_learning_rate=0.02, decay_steps=41, decay_rate=0.3, staircase=True)

# name: (extra optimizer kwargs, problem kwargs, run kwargs)
CASES = {
    "clipnorm": (dict(learning_rate=0.02, clipnorm=0.05), CLIP_PROBLEM, {}),
    "global_clipnorm": (dict(learning_rate=0.02, global_clipnorm=0.05), CLIP_PROBLEM, {}),
    "clipvalue": (dict(learning_rate=0.02, clipvalue=0.01), CLIP_PROBLEM, {}),
    "loss_scale": (dict(learning_rate=0.02, loss_scale_factor=128.0), PLAIN_PROBLEM,
                   dict(feed_mult=128.0)),
    "grad_accum": (dict(learning_rate="schedule", gradient_accumulation_steps=3),
                   PLAIN_PROBLEM, {}),
    "ema": (dict(learning_rate=0.02, use_ema=True, ema_momentum=0.9,
                 ema_overwrite_frequency=7), PLAIN_PROBLEM, {}),
    "exclude_b": (dict(learning_rate=0.02), PLAIN_PROBLEM, dict(exclude_names=["b"])),
    "global_clipnorm_overflow": (dict(learning_rate=0.02, global_clipnorm=0.05),
                                 dict(grad_scale=0.01, huge=1e30, subnormal=1e-40), {}),
    "constant": (dict(learning_rate=0.02, weight_decay=None), PLAIN_PROBLEM, dict(T=100)),
    # Recipes: knobs combined as training scripts combine them.
    "recipe_cosine_exclude_global": (
        dict(learning_rate=("CosineDecay", dict(
            initial_learning_rate=0.0, decay_steps=259, alpha=0.005, warmup_target=0.02,
            warmup_steps=41)), global_clipnorm=0.05),
        CLIP_PROBLEM, dict(exclude_names=["b"])),
    "recipe_piecewise_ema": (
        dict(learning_rate=("PiecewiseConstantDecay", dict(
            boundaries=[100, 200], values=[0.02, 0.01, 0.005])),
            use_ema=True, ema_momentum=0.99, ema_overwrite_frequency=100),
        PLAIN_PROBLEM, {}),
    "recipe_poly_clipnorm": (
        dict(learning_rate=("PolynomialDecay", dict(
            initial_learning_rate=0.02, decay_steps=250, end_learning_rate=0.001, power=0.5)),
            clipnorm=0.05),
        CLIP_PROBLEM, {}),
}


def main(names, mode="eager"):
    suffix = "_jit" if mode == "jit" else ""
    for name in names:
        extra, pkw, rkw = CASES[name]
        okw = dict(BASE, **extra)
        meta_okw = dict(okw)
        sched_meta = dict(scheduler=None, scheduler_kwargs=None)
        if okw["learning_rate"] == "schedule":
            okw["learning_rate"] = ("ExponentialDecay", SCHED_KW)
        if isinstance(okw["learning_rate"], tuple):
            cls, skw = okw["learning_rate"]
            okw["learning_rate"] = getattr(keras.optimizers.schedules, cls)(**skw)
            meta_okw["learning_rate"] = f"keras.optimizers.schedules.{cls}(**scheduler_kwargs)"
            sched_meta = dict(scheduler=f"keras.optimizers.schedules.{cls}",
                              scheduler_kwargs=skw)
        rkw = dict(rkw)
        problem_kw = dict(T=rkw.pop("T", T), dtype="float32", seed=0, **pkw)
        out = run(okw, mode=mode, **problem_kw, **rkw)
        groups = [{"params": ["w", "s"], "weight_decay": 0.004}, {"params": ["b"], "weight_decay": 0.0}] \
            if "exclude_names" in rkw else [{"params": ["w", "b", "s"], "weight_decay": okw["weight_decay"]}]
        meta = base_meta(
            f"knob_{name}{suffix}", "trajectory", **sched_meta,
            optimizer_kwargs=meta_okw,
            exclude_from_weight_decay=(dict(var_names=rkw["exclude_names"])
                                       if "exclude_names" in rkw else None),
            feed_mult=rkw.get("feed_mult", 1.0),
            groups=groups, dtype="float32", mode=mode, problem=problem_kw,
            notes=(("eager opt.apply per step" if mode == "eager" else
                    "opt.stateless_apply inside jax.jit per step (model.fit's train step)") +
                   " (one Keras optimizer; `groups` only describes "
                   "which variables get weight decay). grad_<k> is exactly what was passed to "
                   "apply(). " + PROBLEM_NOTES),
        )
        save(f"keras_traj_knob_{name}{suffix}.npz", meta, **out)


if __name__ == "__main__":
    args = sys.argv[1:]
    jit = "--jit" in args
    names = [a for a in args if a != "--jit"]
    main(names or list(CASES), mode="jit" if jit else "eager")
