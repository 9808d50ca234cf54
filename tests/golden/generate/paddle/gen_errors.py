"""What the real PaddlePaddle (CPU) does for low-precision Adamax and a few failure cases.

Writes ../../paddle/errors.json: a list of {"case", "code", "outcome", "error_type", "error"} where
`code` is the exact user code that was run, `outcome` is "raised" or "ran" (with a short
description of what happened when it ran).

Rerun (CPU wheel, recorded with paddlepaddle 3.3.1):

    python3 -m venv /work/venvs/paddle
    /work/venvs/paddle/bin/pip install paddlepaddle numpy
    cd /work/main/tests/golden/generate/paddle
    /work/venvs/paddle/bin/python gen_errors.py
"""

from __future__ import annotations

import json
import os
import textwrap

import numpy as np

from _common import OUT_DIR, VERSION, paddle

PRELUDE = textwrap.dedent("""
    import numpy as np, paddle
    paddle.set_device('cpu')
    def param(dtype, shape=(3,)):
        return paddle.create_parameter(list(shape), dtype,
            default_initializer=paddle.nn.initializer.Constant(0.5))
""")

CASES = {
    "float16_params": """
p = param('float16')
opt = paddle.optimizer.Adamax(learning_rate=0.01, parameters=[p])
# float32 loss through a cast (CPU has no float16 `multiply` kernel); p.grad is float16
(p.astype('float32') * paddle.to_tensor(np.array([0.1, -0.2, 0.3], 'float32'))).sum().backward()
assert p.grad.dtype == paddle.float16
opt.step()
result = dict(p=p.numpy().view(np.uint16).tolist())
""",
    "bfloat16_params": """
p = param('bfloat16')
opt = paddle.optimizer.Adamax(learning_rate=0.01, parameters=[p])
(p.astype('float32') * paddle.to_tensor(np.array([0.1, -0.2, 0.3], 'float32'))).sum().backward()
assert p.grad.dtype == paddle.bfloat16
opt.step()
result = dict(p=p.numpy().view(np.uint16).tolist())
""",
    "multi_precision_kwarg": """
p = param('float16')
opt = paddle.optimizer.Adamax(learning_rate=0.01, parameters=[p], multi_precision=True)
""",
    "float16_params_forced_multi_precision_attr": """
# not a public API: set the private flag the constructor hard-codes to False
p = param('float16')
opt = paddle.optimizer.Adamax(learning_rate=0.01, parameters=[p])
opt._multi_precision = True
(p.astype('float32') * paddle.to_tensor(np.array([0.1, -0.2, 0.3], 'float32'))).sum().backward()
opt.step()
result = dict(p=p.numpy().view(np.uint16).tolist(),
              master=opt._master_weights[p.name].numpy().tolist())
""",
    "float64_params": """
p = param('float64')
opt = paddle.optimizer.Adamax(learning_rate=0.01, parameters=[p])
(p * paddle.to_tensor(np.array([0.1, -0.2, 0.3], 'float64'))).sum().backward()
opt.step()
result = dict(p=p.numpy().tolist(), lr_dtype=str(opt._global_learning_rate().dtype),
              moment_dtype=str(opt._accumulators['moment'][p.name].dtype),
              beta1_pow_dtype=str(opt._accumulators['beta1_pow_acc'][p.name].dtype))
""",
    "global_norm_clip_with_0d_param": """
s = param('float32', ())
w = param('float32', (3,))
opt = paddle.optimizer.Adamax(learning_rate=0.01, parameters=[w, s],
                              grad_clip=paddle.nn.ClipGradByGlobalNorm(clip_norm=1.0))
((w * 2.0).sum() + s * 3.0).backward()
opt.step()
""",
    "beta1_1.0": "paddle.optimizer.Adamax(learning_rate=0.01, parameters=[param('float32')], beta1=1.0)",
    "beta2_1.0": "paddle.optimizer.Adamax(learning_rate=0.01, parameters=[param('float32')], beta2=1.0)",
    "epsilon_negative": "paddle.optimizer.Adamax(learning_rate=0.01, parameters=[param('float32')], epsilon=-1e-8)",
    "learning_rate_int": "paddle.optimizer.Adamax(learning_rate=1, parameters=[param('float32')])",
    "learning_rate_negative": "paddle.optimizer.Adamax(learning_rate=-0.01, parameters=[param('float32')])",
    "onecycle_step_past_total": """
s = paddle.optimizer.lr.OneCycleLR(max_learning_rate=0.02, total_steps=3)
for _ in range(4):
    s.step()
""",
}


def main():
    records = []
    for name, code in CASES.items():
        code = textwrap.dedent(code).strip("\n")
        env: dict = {}
        rec = {"case": name, "code": code}
        try:
            exec(PRELUDE + code, env)  # noqa: S102 - generator script, fixed code above
            rec["outcome"] = "ran"
            if "result" in env:
                rec["result"] = env["result"]
        except Exception as e:  # noqa: BLE001 - recorded verbatim
            rec["outcome"] = "raised"
            rec["error_type"] = type(e).__name__
            rec["error"] = str(e)
        print(name, rec["outcome"], rec.get("error_type", ""), str(rec.get("error", rec.get("result", "")))[:300])
        records.append(rec)
    out = {"framework": "paddle", "version": VERSION, "device": "cpu", "records": records}
    path = os.path.join(OUT_DIR, "errors.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
