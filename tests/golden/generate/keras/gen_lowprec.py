"""Golden Keras 3 (JAX backend) Adamax trajectories with float16 / bfloat16 variables,
kind "trajectory", 300 steps, eager `opt.apply`, constant learning_rate=0.02 (held by Keras
in a float32 variable, cast to the variable dtype inside update_step), weight_decay=0.004.

Variables are `keras.Variable(init.astype(dtype), dtype=dtype)`; the gradients are fed in the
variable dtype (computed in float32 NumPy from the current params, rounded to the dtype).
Params, m (`momentum`), u (`norm`) and grads are stored as raw bits (uint16, key suffix
`_bits`; view them as numpy float16 / ml_dtypes.bfloat16); meta["dtype"] names the dtype.
Cases:
  f16:        float16,  epsilon=1e-8 (rounds to 0 in float16: 0/0 = NaN where u == 0)
  f16_eps1e-4: float16, epsilon=1e-4
  bf16:       bfloat16, epsilon=1e-8
Awkward steps: zero gradient (step 40), subnormal of the dtype (step 80: 1e-6 in float16,
1e-40 in bfloat16), near overflow (step 120: 6e4 in float16, 1e38 in bfloat16).

Rerun (CPU only, a minute):
    python3 -m venv /work/venvs/keras
    /work/venvs/keras/bin/pip install keras jax jaxlib numpy
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu /work/venvs/keras/bin/python gen_lowprec.py
"""
import sys

from _common import base_meta, save
from _problem import PROBLEM_NOTES, run

T = 300
CASES = {
    "f16": ("float16", 1e-8, dict(huge=6e4, subnormal=1e-6)),
    "f16_eps1e-4": ("float16", 1e-4, dict(huge=6e4, subnormal=1e-6)),
    "bf16": ("bfloat16", 1e-8, dict(huge=1e38, subnormal=1e-40)),
}


def main(names):
    for name in names:
        dtype, eps, pkw = CASES[name]
        okw = dict(learning_rate=0.02, beta_1=0.9, beta_2=0.999, epsilon=eps, weight_decay=0.004)
        problem_kw = dict(T=T, dtype=dtype, grad_scale=1.0, seed=0, **pkw)
        out = run(okw, mode="eager", **problem_kw)
        meta = base_meta(
            f"lowprec_{name}", "trajectory",
            scheduler=None, scheduler_kwargs=None,
            optimizer_kwargs=okw,
            groups=[{"params": ["w", "b", "s"], "weight_decay": 0.004}],
            dtype=dtype, mode="eager", problem=problem_kw,
            notes=(f"eager opt.apply per step; variables, gradients, m and u in {dtype} "
                   "(stored as raw uint16 bits, keys *_bits); lr (float32) is the value of the "
                   "float32 learning_rate variable passed to update_step, which casts it to the "
                   "variable dtype. " + PROBLEM_NOTES),
        )
        save(f"keras_traj_lowprec_{name}.npz", meta, **out)


if __name__ == "__main__":
    main(sys.argv[1:] or list(CASES))
