"""Golden Adamax trajectories from MindSpore: schedules, low precision, loss scale, clipping.

Rerun (a few minutes in all):
    python3 -m venv /work/venvs/mindspore
    /work/venvs/mindspore/bin/pip install mindspore==2.10.0 "numpy<2"
    /work/venvs/mindspore/bin/python tests/golden/generate/mindspore/gen_trajectories.py [case ...]

Writes tests/golden/mindspore/ms_traj_<case>.npz (kind "trajectory"), T = 300 steps.
Closed loop: the gradient at step t is computed in NumPy float32 from the optimizer's current
params (read back after step t-1): g = a * (p - target) + noise[t-1] (a, target, noise, p0 from
numpy.random.default_rng(SEED); elements with a == 0 also get noise 0, so their gradient is
always exactly 0), then cast to the parameter dtype and fed. Step ZERO_STEP: all gradients 0;
SUBNORMAL_STEPS: gradients ~1e-40 (float32; float16: ~1e-6, bfloat16: ~1e-40); HUGE_STEP:
~1e30 (float16: ~6e4). Everything fed is recorded as grad_<k>.
Float16/bfloat16 arrays are stored as raw bits (uint16, key suffix _bits).
"""

import os
import sys

import numpy as np

import _common as C

C.setup()

import mindspore as ms  # noqa: E402
from mindspore import Parameter, Tensor, nn, ops  # noqa: E402
from mindspore.experimental.optim import Adamax  # noqa: E402
from mindspore.experimental.optim import lr_scheduler as L  # noqa: E402

T = int(os.environ.get("GOLDEN_T", 300))
SEED = 20240601
ZERO_STEP = 40
SUBNORMAL_STEPS = (90, 91)
HUGE_STEP = 260
SHAPES = {"w": (12, 7), "b": (5,), "s": (), "s1": (1,), "big": (64, 33), "c": (6, 16)}
# c: a second dimension divisible by 16, the only shape nn's grad_centralization touches.
# nn.AdaMax (the ApplyAdaMax CPU kernel) rejects 0-d parameters ("For 'ApplyAdaMax', the dimension
# of 'var' must be at least 1-D, but got scalar or None."), so its cases use s1 of shape (1,).
MS_DTYPES = {"float32": ms.float32, "float16": ms.float16, "bfloat16": ms.bfloat16}


def problem(keys, seed=SEED):
  rng = np.random.default_rng(seed)
  prob = {}
  for k in keys:
    shape = SHAPES[k]
    a = rng.uniform(0.5, 2.0, shape).astype(np.float32)
    mask = rng.uniform(size=shape) < 0.15
    if k == "big":  # only the first 66 elements (row-major) get gradients: keeps the file small
      mask = np.arange(int(np.prod(shape))).reshape(shape) >= 66
    a = np.where(mask, np.float32(0), a).astype(np.float32)
    target = rng.normal(size=shape).astype(np.float32)
    noise = (0.1 * rng.normal(size=(T,) + shape)).astype(np.float32)
    noise = np.where(mask, np.float32(0), noise).astype(np.float32)
    p0 = (0.5 * rng.normal(size=shape)).astype(np.float32)
    prob[k] = {"a": np.asarray(a), "target": np.asarray(target), "noise": noise,
               "p0": np.asarray(p0), "rng_sign": rng.uniform(0.5, 1.0, shape).astype(np.float32)}
  return prob


def to_f32(t):
  """A MindSpore tensor (any float dtype) as a float32 NumPy copy (exact for f16/bf16)."""
  return C.read(t.astype(ms.float32)) if t.dtype != ms.float32 else C.read(t)


def bits(x32, dtype):
  """Raw 16-bit pattern of float32 values that are exactly representable in `dtype`."""
  if dtype == "float16":
    return np.asarray(x32, np.float16).view(np.uint16)
  u = np.asarray(x32, np.float32).view(np.uint32)
  return (u >> 16).astype(np.uint16)


def make_grad(prob, k, p32, t, dtype, huge, scale=1.0):
  """The gradient for step t (1-based) as float32 values (already rounded to `dtype`)."""
  pr = prob[k]
  g = (pr["a"] * (p32 - pr["target"]) + pr["noise"][t - 1]).astype(np.float32)
  sign = np.where(pr["a"] == 0, np.float32(0), np.where(g < 0, np.float32(-1), np.float32(1)))
  if t == ZERO_STEP:
    g = np.zeros_like(g)
  elif t in SUBNORMAL_STEPS:
    tiny = {"float32": 1e-40, "float16": 1e-6, "bfloat16": 1e-40}[dtype]
    g = (sign * pr["rng_sign"] * np.float32(tiny)).astype(np.float32)
  elif t == HUGE_STEP:
    g = (sign * pr["rng_sign"] * np.float32(huge)).astype(np.float32)
  g = (np.asarray(g, np.float32) * np.float32(scale)).astype(np.float32)
  g = Tensor(np.asarray(g, np.float32)).astype(MS_DTYPES[dtype])
  return g


def save_traj(case, keys, dtype, rec, meta_fields):
  arrays = {}
  for name, per_key in rec.items():
    if name in ("lr", "weight_decay", "total_norm"):
      continue
    for k in keys:
      v = np.stack(per_key[k]).astype(np.float32)
      if dtype == "float32":
        arrays[f"{name}_{k}"] = v
      else:
        arrays[f"{name}_{k}_bits"] = bits(v, dtype)
  arrays["lr"] = np.array(rec["lr"], np.float32)
  if "weight_decay" in rec:
    arrays["weight_decay"] = np.array(rec["weight_decay"], np.float32)
  if "total_norm" in rec:
    arrays["total_norm"] = np.array(rec["total_norm"], np.float32)
  m = C.meta(case, "trajectory", dtype=dtype, T=T, keys=keys, seed=SEED,
             special_steps={"zero": ZERO_STEP, "subnormal": list(SUBNORMAL_STEPS),
                            "huge": HUGE_STEP}, **meta_fields)
  C.save("ms_traj_" + case, meta=m, **arrays)


def run_loop(keys, params, opt, state_m, state_u, read_lr, dtype, huge, clip=None, scale=1.0):
  """Generic closed loop; state_m/state_u map key -> state Parameter."""
  prob = problem(keys)
  rec = {"grad": {k: [] for k in keys}, "param": {k: [to_f32(params[k])] for k in keys},
         "m": {k: [to_f32(state_m[k])] for k in keys}, "u": {k: [to_f32(state_u[k])] for k in keys},
         "lr": []}
  if clip is not None:
    rec["clipped"] = {k: [] for k in keys}
  for t in range(1, T + 1):
    grads = tuple(make_grad(prob, k, to_f32(params[k]), t, dtype, huge, scale) for k in keys)
    for k, g in zip(keys, grads):
      rec["grad"][k].append(to_f32(g))
    if clip is not None:
      if hasattr(clip, "total_norm"):
        rec.setdefault("total_norm", []).append(float(to_f32(clip.total_norm(grads)).reshape(())))
      grads = tuple(clip(grads))
      for k, g in zip(keys, grads):
        rec["clipped"][k].append(to_f32(g))
    rec["lr"].append(read_lr())
    opt(grads)
    for k in keys:
      rec["param"][k].append(to_f32(params[k]))
      rec["m"][k].append(to_f32(state_m[k]))
      rec["u"][k].append(to_f32(state_u[k]))
  return rec


def init_params(keys, dtype):
  prob = problem(keys)
  return {k: Parameter(Tensor(prob[k]["p0"]).astype(MS_DTYPES[dtype]), name=k) for k in keys}


# --- experimental.optim.Adamax ------------------------------------------------------------

EXP_NOTES = ("mindspore.experimental.optim.Adamax; state: opt.exp_avg (-> m_<k>) and opt.exp_inf "
             "(-> u_<k>), ParameterTuples in parameter order; lr[t-1, g] = "
             "opt.param_groups[g]['lr'] (float32 Parameter) read before update t; each iteration "
             "is `opt(grads); scheduler.step()`.")


def exp_case(case, keys, groups_spec, sched_spec, dtype="float32", huge=1e30, clip=None,
             clip_desc=None, extra_notes=""):
  params = init_params(keys, dtype)
  groups = []
  for gs in groups_spec:
    g = {kk: v for kk, v in gs.items() if kk != "params"}
    g["params"] = [params[k] for k in gs["params"]]
    groups.append(g)
  try:
    opt = Adamax(groups, betas=(0.9, 0.999), eps=1e-8)
  except Exception as e:  # noqa: BLE001
    return record_error(case, dtype, "mindspore.experimental.optim.Adamax", e)
  sched = None
  if sched_spec is not None:
    cls, kw = sched_spec
    if cls == "SequentialLR":
      subs = [getattr(L, s["class"].rsplit(".", 1)[1])(opt, **s["kwargs"]) for s in kw["schedulers"]]
      sched = L.SequentialLR(opt, schedulers=subs, milestones=kw["milestones"])
    else:
      sched = getattr(L, cls)(opt, **kw)
  order = [k for gs in groups_spec for k in gs["params"]]
  idx = {k: i for i, k in enumerate(order)}
  state_m = {k: opt.exp_avg[idx[k]] for k in keys}
  state_u = {k: opt.exp_inf[idx[k]] for k in keys}

  class Stepper:
    def __call__(self, grads):
      by_key = dict(zip(keys, grads))
      opt(tuple(by_key[k] for k in order))
      if sched is not None:
        sched.step()

  def read_lr():
    return [float(C.read(g["lr"])) for g in opt.param_groups]

  try:
    rec = run_loop(keys, params, Stepper(), state_m, state_u, read_lr, dtype, huge, clip=clip)
  except Exception as e:  # noqa: BLE001
    return record_error(case, dtype, "mindspore.experimental.optim.Adamax", e)
  notes = EXP_NOTES + f" Gradients are passed in group order {order}." + extra_notes
  save_traj(case, keys, dtype, rec, {
    "optimizer": "mindspore.experimental.optim.Adamax",
    "optimizer_kwargs": {"betas": [0.9, 0.999], "eps": 1e-8},
    "groups": groups_spec,
    "scheduler": None if sched_spec is None else "mindspore.experimental.optim.lr_scheduler." + sched_spec[0],
    "scheduler_kwargs": None if sched_spec is None else sched_spec[1],
    "clip": clip_desc, "notes": notes})
  return None


# --- nn.AdaMax ------------------------------------------------------------------------------

NN_NOTES = ("mindspore.nn.AdaMax (P.ApplyAdaMax kernel); state: opt.moment1 (-> m_<k>) and "
            "opt.moment2 (-> u_<k>); lr[t-1, j] = opt.get_lr() read before update t (one entry "
            "per parameter, in parameter order, when groups are used; a single column otherwise); "
            "the schedule sees global_step t-1 at update t.")


def nn_case(case, keys, lr_spec, groups_spec=None, weight_decay=0.0, loss_scale=1.0,
            dtype="float32", huge=1e30, extra_notes=""):
  params = init_params(keys, dtype)

  def build_lr(spec):
    if isinstance(spec, dict):
      return getattr(nn, spec["class"])(**spec["kwargs"])
    return spec

  if groups_spec is None:
    plist = [params[k] for k in keys]
  else:
    plist = []
    for gs in groups_spec:
      if "order_params" in gs:  # {"order_params": [names]}: the optimizer's parameter order
        plist.append({"order_params": [params[k] for k in gs["order_params"]]})
        continue
      g = {kk: (build_lr(v) if kk in ("lr", "weight_decay") else v)
           for kk, v in gs.items() if kk != "params"}
      g["params"] = [params[k] for k in gs["params"]]
      plist.append(g)
  try:
    # A dict weight_decay is a schedule Cell (dynamic weight decay), like a dict lr.
    opt = nn.AdaMax(plist, learning_rate=build_lr(lr_spec), beta1=0.9, beta2=0.999, eps=1e-8,
                    weight_decay=build_lr(weight_decay), loss_scale=loss_scale)
  except Exception as e:  # noqa: BLE001
    return record_error(case, dtype, "mindspore.nn.AdaMax", e)
  order = [p.name for p in opt._parameters]  # noqa: SLF001 - the optimizer's own order
  idx = {k: i for i, k in enumerate(order)}
  state_m = {k: opt.moment1[idx[k]] for k in keys}
  state_u = {k: opt.moment2[idx[k]] for k in keys}

  def stepper(grads):
    by_key = dict(zip(keys, grads))
    opt(tuple(by_key[k] for k in order))

  wd_seen = []

  def read_lr():
    if opt.dynamic_weight_decay:  # the rate(s) decay_weight uses at this update
      wd = opt.get_weight_decay()
      wd_seen.append([float(C.read(x).reshape(())) for x in (wd if isinstance(wd, tuple) else (wd,))])
    lr = opt.get_lr()
    if isinstance(lr, tuple):
      return [float(C.read(x).reshape(())) for x in lr]
    return [float(C.read(lr).reshape(()))]

  try:
    rec = run_loop(keys, params, stepper, state_m, state_u, read_lr, dtype, huge, scale=loss_scale)
  except Exception as e:  # noqa: BLE001
    return record_error(case, dtype, "mindspore.nn.AdaMax", e)
  notes = NN_NOTES + f" Parameter order inside the optimizer: {order}." + extra_notes
  if loss_scale != 1.0:
    notes += (f" loss_scale={loss_scale}: grad_<k> is the gradient AS FED, i.e. already multiplied "
              "by the loss scale (computed in float32, then cast to the param dtype).")
  if wd_seen:
    rec["weight_decay"] = wd_seen
    notes += (" weight_decay[t-1, j] (float32) = opt.get_weight_decay() read before update t: the "
              "schedule Cell at global_step t-1 times float32(loss_scale), per parameter in the "
              "optimizer's order when grouped (a fixed group rate is its float32 Tensor).")
  save_traj(case, keys, dtype, rec, {
    "optimizer": "mindspore.nn.AdaMax",
    "optimizer_kwargs": {"learning_rate": lr_spec, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                         "weight_decay": weight_decay, "loss_scale": loss_scale},
    "groups": groups_spec, "param_order": order, "notes": notes})
  return None


ERRORS = {}


def record_error(case, dtype, opt_name, e):
  text = f"{type(e).__name__}: {e}"
  first = "\n".join(text.split("\n")[:3])
  print(f"[{case}] {opt_name} {dtype} raised: {first}", flush=True)
  head = text.split("\n-----")[0].strip()
  if head.endswith(":"):  # e.g. a bare "RuntimeError: " whose message is in the C++ part
    head = text[:1500]
  ERRORS[case] = {"optimizer": opt_name, "dtype": dtype, "error": head}
  return text


# --- cases ------------------------------------------------------------------------------------

EXP_GROUPS = [{"params": ["w", "s"], "lr": 0.02, "weight_decay": 0.01}, {"params": ["b"], "lr": 0.05}]
EXP_GROUPS_S1 = [{"params": ["w", "s1"], "lr": 0.02, "weight_decay": 0.01}, {"params": ["b"], "lr": 0.05}]
EXP_GROUPS_S1_NOWD = [{"params": ["w", "s1"], "lr": 0.02}, {"params": ["b"], "lr": 0.05}]
EXP_GROUPS_BIG = [{"params": ["w", "s"], "lr": 0.02, "weight_decay": 0.01},
                  {"params": ["b", "big"], "lr": 0.05}]
WARMUP = ("SequentialLR", {
  "schedulers": [
    {"class": "mindspore.experimental.optim.lr_scheduler.LinearLR",
     "kwargs": {"start_factor": 0.1, "end_factor": 1.0, "total_iters": 41}},
    {"class": "mindspore.experimental.optim.lr_scheduler.CosineAnnealingLR",
     "kwargs": {"T_max": 259, "eta_min": 1e-4}}],
  "milestones": [41]})
COSINE = {"class": "CosineDecayLR", "kwargs": {"min_lr": 1e-4, "max_lr": 0.02, "decay_steps": 300}}
EXPDECAY = {"class": "ExponentialDecayLR",
            "kwargs": {"learning_rate": 0.02, "decay_rate": 0.97, "decay_steps": 7, "is_stair": False}}
NN_GROUPS = [{"params": ["w", "s1"], "lr": EXPDECAY, "weight_decay": 0.01},
             {"params": ["b"], "lr": 0.003}]

WD_STEP = {"class": "ExponentialDecayLR",
           "kwargs": {"learning_rate": 0.05, "decay_rate": 0.5, "decay_steps": 41, "is_stair": True}}
WD_COSINE = {"class": "CosineDecayLR", "kwargs": {"min_lr": 0.001, "max_lr": 0.05, "decay_steps": 300}}
NN_GROUPS_WD_ORDER = [{"params": ["w", "s1"], "weight_decay": WD_COSINE},
                      {"params": ["b"], "lr": 0.02, "weight_decay": 0.02},
                      {"order_params": ["b", "s1", "w"]}]
NN_GROUPS_GC = [{"params": ["w", "c"], "grad_centralization": True, "weight_decay": 0.01},
                {"params": ["b", "s1"]}]
NN_GROUPS_GC_SKIPPED = [{"params": ["w", "s1"], "grad_centralization": True, "weight_decay": 0.01},
                        {"params": ["b"]}]

GLOBAL_NORM = 5.25  # the recorded gradient norm wanders around this level: clipped on some steps, not others


def clip_global(grads):
  return ops.clip_by_global_norm(grads, clip_norm=GLOBAL_NORM)


def global_norm_of(grads):
  """The norm clip_by_global_norm computes: its own square-sum graph per tensor (float32
  ReduceSum of Square, expanded to shape (1,)), AddN, Sqrt, run op by op (PyNative)."""
  from mindspore.ops.function.clip_func import get_square_sum
  return ops.sqrt(ops.addn([get_square_sum(g) for g in grads]))


clip_global.total_norm = global_norm_of


def clip_value(grads):
  return ops.clip_by_value(grads, -0.3, 0.3)


def cases():
  wsb = ["w", "b", "s"]
  nnk = ["w", "b", "s1"]
  c = {
    "exp_steplr": lambda: exp_case("exp_steplr", ["w", "b", "s", "big"], EXP_GROUPS_BIG,
                                   ("StepLR", {"step_size": 41, "gamma": 0.3})),
    "exp_warmup_cosine": lambda: exp_case("exp_warmup_cosine", wsb, EXP_GROUPS, WARMUP),
    "nn_cosine": lambda: nn_case("nn_cosine", nnk, COSINE, weight_decay=0.01),
    "nn_groups_dynamic_fixed": lambda: nn_case("nn_groups_dynamic_fixed", nnk, 0.01,
                                               groups_spec=NN_GROUPS),
    "exp_clip_global_norm": lambda: exp_case(
      "exp_clip_global_norm", wsb, EXP_GROUPS, ("StepLR", {"step_size": 41, "gamma": 0.3}),
      clip=clip_global,
      clip_desc={"fn": "mindspore.ops.clip_by_global_norm", "kwargs": {"clip_norm": GLOBAL_NORM},
                 "applied_to": "the tuple of grads (w, b, s) before opt(grads)"},
      extra_notes=f" clipped_<k> = ops.clip_by_global_norm(grads, clip_norm={GLOBAL_NORM})[k], what was fed;"
                  " total_norm[t-1] = the global norm it computed at step t (same ops, see"
                  " global_norm_of)."),
    "exp_clip_value": lambda: exp_case(
      "exp_clip_value", wsb, EXP_GROUPS, None, clip=clip_value,
      clip_desc={"fn": "mindspore.ops.clip_by_value",
                 "kwargs": {"clip_value_min": -0.3, "clip_value_max": 0.3},
                 "applied_to": "the tuple of grads (w, b, s) before opt(grads)"},
      extra_notes=" clipped_<k> = ops.clip_by_value(grads, -0.3, 0.3)[k], what was fed."),
  }
  c["nn_dynamic_wd"] = lambda: nn_case(
    "nn_dynamic_wd", nnk, 0.01, weight_decay=WD_STEP, loss_scale=4.0,
    extra_notes=" weight_decay is a LearningRateSchedule Cell (dynamic weight decay), no groups.")
  c["nn_groups_dynamic_wd_order"] = lambda: nn_case(
    "nn_groups_dynamic_wd_order", nnk, 0.01, groups_spec=NN_GROUPS_WD_ORDER,
    extra_notes=" Group 0's weight_decay is a CosineDecayLR Cell, group 1's a float; a third group "
                "{'order_params': [b, s1, w]} reorders the optimizer's parameters (and state).")
  c["nn_grad_centralization"] = lambda: nn_case(
    "nn_grad_centralization", nnk + ["c"], 0.01, groups_spec=NN_GROUPS_GC,
    extra_notes=" grad_centralization=True on {w, c}; w's second dimension (7) is not a multiple "
                "of 16, so only c's gradient is centralized (inner.Centralization, Ascend only).")
  c["nn_grad_centralization_skipped"] = lambda: nn_case(
    "nn_grad_centralization_skipped", nnk, 0.01, groups_spec=NN_GROUPS_GC_SKIPPED,
    extra_notes=" grad_centralization=True on {w, s1}: w's second dimension (7) is not a multiple "
                "of 16 and s1 has one dimension, so neither is centralized: the key changes nothing.")
  c["exp_bf16_nowd"] = lambda: exp_case(
    "exp_bf16_nowd", nnk, EXP_GROUPS_S1_NOWD, None, dtype="bfloat16", huge=1e30,
    extra_notes=" No weight decay: with weight decay the bfloat16 run fails (AddN has no bfloat16 "
                "CPU kernel; see ms_traj_errors.json, case exp_bf16).")
  c["nn_scalar_param"] = lambda: nn_case("nn_scalar_param", wsb, 0.01)  # records the error
  for dt, huge in (("float16", 6.0e4), ("bfloat16", 1e30)):
    short = {"float16": "fp16", "bfloat16": "bf16"}[dt]
    c[f"exp_{short}"] = (lambda dt=dt, huge=huge, short=short: exp_case(
      f"exp_{short}", nnk, EXP_GROUPS_S1, None, dtype=dt, huge=huge,
      extra_notes=" s1 has shape (1,): a 0-d float16/bfloat16 parameter makes the first call fail "
                  "(see ms_traj_errors.json, case exp_<dtype>_scalar_param)."))
    c[f"exp_{short}_scalar_param"] = (lambda dt=dt, huge=huge, short=short: exp_case(
      f"exp_{short}_scalar_param", wsb, EXP_GROUPS, None, dtype=dt, huge=huge))
    c[f"nn_{short}"] = (lambda dt=dt, huge=huge, short=short: nn_case(
      f"nn_{short}", nnk, 0.01, weight_decay=0.01, dtype=dt, huge=huge))
    c[f"nn_{short}_loss_scale"] = (lambda dt=dt, short=short: nn_case(
      f"nn_{short}_loss_scale", nnk, 0.01, weight_decay=0.01, loss_scale=1024.0, dtype=dt,
      huge=60.0 if dt == "float16" else 1e30))
  return c


def main(argv):
  all_cases = cases()
  for name in argv or list(all_cases):
    all_cases[name]()
  if ERRORS:
    import json
    path = os.path.join(C.OUT_DIR, "ms_traj_errors.json")
    old = {}
    if os.path.exists(path):
      with open(path) as f:
        old = json.load(f)
    old.update(ERRORS)
    with open(path, "w") as f:
      json.dump(old, f, indent=1, sort_keys=True)
    print("wrote", path)


if __name__ == "__main__":
  main(sys.argv[1:])
