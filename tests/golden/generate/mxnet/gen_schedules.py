"""Golden learning-rate schedules of MXNet's mx.lr_scheduler.* seen through mx.optimizer.Adamax.

Rerun (from /work/main), once per MXNet version:
    python3 -m venv /work/venvs/mxnet1 && /work/venvs/mxnet1/bin/pip install mxnet==1.9.1 \
        && /work/venvs/mxnet1/bin/pip install 'numpy<1.24'
    python3 -m venv /work/venvs/mxnet2 && /work/venvs/mxnet2/bin/pip install mxnet==2.0.0b1 \
        && /work/venvs/mxnet2/bin/pip install 'numpy<1.24'
    /work/venvs/mxnet1/bin/python tests/golden/generate/mxnet/gen_schedules.py
    /work/venvs/mxnet2/bin/python tests/golden/generate/mxnet/gen_schedules.py
Writes tests/golden/mxnet/mxnet{1,2}_sched_<case>.npz (kind "schedule", N = 10000).

Each file holds
  lr         float64 (N, 1): the lr (scheduler value * lr_mult, a Python float) that
             Adamax update t (1-based, row t-1) really used, captured by wrapping the
             optimizer instance's _get_lrs while driving the real loop
             `updater = mx.optimizer.get_updater(opt); updater(0, grad, weight)`
             on a float32 weight of shape (1,).
  lr_direct  float64 (N,): a *fresh* scheduler built with the same kwargs, called directly
             as sched(begin_num_update + t) for t = 1..N (what the optimizer passes when
             nothing else mutates the scheduler). Stored ONLY when it differs from lr[:, 0];
             meta["direct_equals_optimizer"] says which (true => identical, not stored).
(The step size Adamax then hands to the kernel is lr / (1 - beta1**t) in Python doubles,
t = begin_num_update + number of updates of this index; it is checked, not stored.)
"""
import copy
import logging

import mxnet as mx
import numpy as np
from common import capture_lrs, make_updater, save

N = 10000
BETA1 = 0.9

SCHED = {
    "factor": mx.lr_scheduler.FactorScheduler,
    "multifactor": mx.lr_scheduler.MultiFactorScheduler,
    "poly": mx.lr_scheduler.PolyScheduler,
    "cosine": mx.lr_scheduler.CosineScheduler,
}
CLS_NAME = {
    "factor": "mxnet.lr_scheduler.FactorScheduler",
    "multifactor": "mxnet.lr_scheduler.MultiFactorScheduler",
    "poly": "mxnet.lr_scheduler.PolyScheduler",
    "cosine": "mxnet.lr_scheduler.CosineScheduler",
}
OMIT = "OMITTED"   # marker: learning_rate not passed to Adamax at all (its default 0.002 applies)

# (case, scheduler kind, scheduler kwargs, Adamax kwargs, note)
CASES = [
    # ---- FactorScheduler, lr given equal to base_lr (no override) ----
    ("factor_s41_f0.3", "factor", dict(step=41, factor=0.3, base_lr=0.01), dict(learning_rate=0.01),
     "decays every 41 updates by 0.3 until clamped at the default stop_factor_lr 1e-8 (below base_lr)"),
    ("factor_s47_f0.97", "factor", dict(step=47, factor=0.97, base_lr=0.01), dict(learning_rate=0.01), ""),
    ("factor_s55_f0.97", "factor", dict(step=55, factor=0.97, base_lr=0.01), dict(learning_rate=0.01), ""),
    ("factor_s61_f0.97", "factor", dict(step=61, factor=0.97, base_lr=0.01), dict(learning_rate=0.01), ""),
    ("factor_s82_f0.3", "factor", dict(step=82, factor=0.3, base_lr=0.01), dict(learning_rate=0.01), ""),
    ("factor_s7_f0.97", "factor", dict(step=7, factor=0.97, base_lr=0.01), dict(learning_rate=0.01),
     "reaches stop_factor_lr 1e-8 (default) late in the run"),
    ("factor_s41_f0.97_stop1e-3", "factor", dict(step=41, factor=0.97, stop_factor_lr=1e-3, base_lr=0.01),
     dict(learning_rate=0.01), "stop_factor_lr below base_lr, reached and then held"),
    ("factor_s41_f0.97_stop0.05", "factor", dict(step=41, factor=0.97, stop_factor_lr=0.05, base_lr=0.01),
     dict(learning_rate=0.01), "stop_factor_lr ABOVE base_lr: first decay clamps the lr UP to 0.05"),
    ("factor_s41_f0.3_warm41_linear", "factor",
     dict(step=41, factor=0.3, base_lr=0.01, warmup_steps=41, warmup_begin_lr=0.001, warmup_mode="linear"),
     dict(learning_rate=0.01), ""),
    ("factor_s41_f0.97_warm41_constant", "factor",
     dict(step=41, factor=0.97, base_lr=0.01, warmup_steps=41, warmup_begin_lr=0.001, warmup_mode="constant"),
     dict(learning_rate=0.01), ""),
    ("factor_s41_f0.97_stop1e-3_warm41", "factor",
     dict(step=41, factor=0.97, stop_factor_lr=1e-3, base_lr=0.01, warmup_steps=41, warmup_begin_lr=0.0),
     dict(learning_rate=0.01), ""),
    ("factor_base_below_stop", "factor", dict(step=41, factor=0.97, stop_factor_lr=0.01, base_lr=0.001),
     dict(learning_rate=0.001), "base_lr < stop_factor_lr: lr is base_lr until the first decay, then jumps UP to stop_factor_lr"),
    ("factor_adamax_default_lr", "factor", dict(step=41, factor=0.97, base_lr=0.01), dict(learning_rate=OMIT),
     "Adamax(lr_scheduler=sched) without learning_rate: Adamax's default learning_rate=0.002 overwrites sched.base_lr"),
    ("factor_adamax_lr_none", "factor", dict(step=41, factor=0.97, base_lr=0.01), dict(learning_rate=None),
     "Adamax(learning_rate=None, lr_scheduler=sched): the scheduler's base_lr is kept"),
    # ---- MultiFactorScheduler ----
    ("multifactor_7_41_300_f0.3_warm5", "multifactor",
     dict(step=[7, 41, 300], factor=0.3, base_lr=0.01, warmup_steps=5, warmup_begin_lr=0.001),
     dict(learning_rate=0.01), ""),
    ("multifactor_7_41_300_f0.3_warm41", "multifactor",
     dict(step=[7, 41, 300], factor=0.3, base_lr=0.01, warmup_steps=41, warmup_begin_lr=0.001),
     dict(learning_rate=0.01), "warmup longer than the first milestone: milestone 7 is applied at num_update 41"),
    # ---- PolyScheduler ----
    ("poly_pwr2_warm41", "poly",
     dict(max_update=5000, base_lr=0.01, pwr=2, final_lr=1e-4, warmup_steps=41, warmup_begin_lr=0.0),
     dict(learning_rate=0.01), ""),
    ("poly_pwr0.5_warm41", "poly",
     dict(max_update=5000, base_lr=0.01, pwr=0.5, final_lr=1e-4, warmup_steps=41, warmup_begin_lr=0.001),
     dict(learning_rate=0.01), ""),
    # ---- CosineScheduler ----
    ("cosine_warm41", "cosine",
     dict(max_update=5000, base_lr=0.02, final_lr=1e-4, warmup_steps=41, warmup_begin_lr=0.0),
     dict(learning_rate=0.02), ""),
    ("cosine_warm41_constant", "cosine",
     dict(max_update=5000, base_lr=0.02, final_lr=1e-4, warmup_steps=41, warmup_begin_lr=0.001,
          warmup_mode="constant"),
     dict(learning_rate=0.02), ""),
    # ---- optimizer learning_rate differs from scheduler base_lr (override) ----
    ("override_cosine", "cosine",
     dict(max_update=5000, base_lr=0.02, final_lr=1e-4, warmup_steps=41, warmup_begin_lr=0.0),
     dict(learning_rate=0.002), "optimizer sets sched.base_lr=0.002 but warmup_final_lr and base_lr_orig stay 0.02"),
    ("override_factor", "factor",
     dict(step=41, factor=0.97, base_lr=0.02, warmup_steps=41, warmup_begin_lr=0.001),
     dict(learning_rate=0.002), "warmup ramps towards 0.02 (warmup_final_lr), then the decay starts from 0.002"),
    ("override_multifactor", "multifactor",
     dict(step=[7, 41, 300], factor=0.3, base_lr=0.02, warmup_steps=5, warmup_begin_lr=0.001),
     dict(learning_rate=0.002), ""),
    ("override_poly", "poly",
     dict(max_update=5000, base_lr=0.02, pwr=2, final_lr=1e-4, warmup_steps=41, warmup_begin_lr=0.0),
     dict(learning_rate=0.002), ""),
    # ---- begin_num_update (first call past / near the end of the horizon) ----
    ("poly_begin6000", "poly", dict(max_update=5000, base_lr=0.01, pwr=2, final_lr=1e-4),
     dict(learning_rate=0.01, begin_num_update=6000), "first call is past max_update: base_lr is returned forever"),
    ("poly_begin6000_override", "poly", dict(max_update=5000, base_lr=0.01, pwr=2, final_lr=1e-4),
     dict(learning_rate=0.002, begin_num_update=6000), ""),
    ("cosine_begin6000", "cosine", dict(max_update=5000, base_lr=0.02, final_lr=1e-4, warmup_steps=41),
     dict(learning_rate=0.02, begin_num_update=6000), "first call is past max_update: base_lr is returned forever"),
    ("cosine_begin6000_override", "cosine", dict(max_update=5000, base_lr=0.02, final_lr=1e-4, warmup_steps=41),
     dict(learning_rate=0.002, begin_num_update=6000), ""),
    ("cosine_begin4990", "cosine", dict(max_update=5000, base_lr=0.02, final_lr=1e-4, warmup_steps=41),
     dict(learning_rate=0.02, begin_num_update=4990), "starts 10 updates before max_update"),
    ("factor_begin500", "factor", dict(step=41, factor=0.97, base_lr=0.01, warmup_steps=41, warmup_begin_lr=0.001),
     dict(learning_rate=0.01, begin_num_update=500), "while-loop catches up 12 decays at the first call"),
]


def run_case(case, kind, skw, okw, note):
    cls = SCHED[kind]
    # (i) direct calls on a fresh scheduler
    begin = okw.get("begin_num_update", 0)
    direct_sched = cls(**copy.deepcopy(skw))
    lr_direct = np.array([direct_sched(begin + t) for t in range(1, N + 1)], dtype=np.float64)

    # (ii) through the optimizer
    sched = cls(**copy.deepcopy(skw))
    kw = dict(beta1=BETA1, beta2=0.999, lr_scheduler=sched)
    kw.update({k: v for k, v in okw.items() if v is not OMIT})
    opt = mx.optimizer.Adamax(**kw)
    after_ctor = dict(base_lr=sched.base_lr, warmup_final_lr=sched.warmup_final_lr,
                      base_lr_orig=getattr(sched, "base_lr_orig", None))
    log = capture_lrs(opt)
    upd = make_updater(opt)
    weight = mx.nd.array([1.0], dtype="float32")
    lr = np.empty((N, 1), np.float64)
    step_size = np.empty((N, 1), np.float64)
    post_read_ok = True
    prop_ok = True
    for t in range(1, N + 1):
        del log[:]
        grad = mx.nd.array([0.1], dtype="float32")
        upd(0, grad, weight)
        assert len(log) == 1 and log[0][0] == [0], log
        lr[t - 1, 0] = log[0][1][0]
        tt = opt._index_update_count[0]
        assert tt == begin + t
        step_size[t - 1, 0] = lr[t - 1, 0] / (1. - BETA1 ** tt)
        # the same value is obtained by reading after the step
        del log[:]
        if opt._get_lr(0) != lr[t - 1, 0]:
            post_read_ok = False
        if opt.learning_rate != lr[t - 1, 0]:
            prop_ok = False
    weight.wait_to_read()
    agree = bool(np.array_equal(lr[:, 0], lr_direct))
    ndiff = int(np.sum(lr[:, 0] != lr_direct))
    okw_json = {k: (v if v is not OMIT else "OMITTED (Adamax default 0.002 applies)") for k, v in okw.items()}
    okw_json.update(beta1=BETA1, beta2=0.999)
    meta = dict(
        kind="schedule",
        scheduler=CLS_NAME[kind],
        scheduler_kwargs=skw,
        optimizer="mxnet.optimizer.Adamax",
        optimizer_kwargs=okw_json,
        groups=[{"index": 0, "shape": [1], "dtype": "float32", "lr_mult": 1.0}],
        n_steps=N,
        begin_num_update=begin,
        direct_equals_optimizer=agree,
        n_rows_direct_differs=ndiff,
        scheduler_state_after_optimizer_ctor=after_ctor,
        scheduler_state_at_end=dict(base_lr=sched.base_lr,
                                    count=getattr(sched, "count", None)),
        read_after_step_equals_used=post_read_ok,
        learning_rate_property_equals_used=prop_ok,
        notes=("lr[t-1] = value returned by opt._get_lrs([0]) inside Adamax.update #t (captured by "
               "wrapping _get_lrs on the instance); loop: updater = mx.optimizer.get_updater(opt); "
               "updater(0, grad, weight) with grad=[0.1] float32, weight=[1.0] float32. "
               "lr_direct[t-1] = fresh_sched(begin_num_update + t) (stored only if it differs from lr[:,0]). Adamax then uses lr / (1 - beta1**t) "
               "in Python doubles (the kernel casts it to the weight dtype). " + note),
    )
    arrays = dict(lr=lr)
    if not agree:
        arrays["lr_direct"] = lr_direct   # stored only where it differs from lr[:, 0]
    save("sched_" + case, arrays, meta)
    print(case, "agree" if agree else "DIFFER(%d rows)" % ndiff, after_ctor)


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.WARNING)
    import sys
    only = sys.argv[1:]
    for c in CASES:
        if only and c[0] not in only:
            continue
        run_case(*c)
