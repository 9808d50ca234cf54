"""Closed-loop Paddle Adamax runs driven by a scheduler, recorded for issue 23.

Rerun (CPU wheel, recorded with paddlepaddle 3.3.1, numpy 2.3.5):

    python3 -m venv /work/venvs/paddle
    /work/venvs/paddle/bin/pip install paddlepaddle numpy
    cd tests/golden/generate/paddle
    /work/venvs/paddle/bin/python gen_scheduled_runs.py                  # both cases
    /work/venvs/paddle/bin/python gen_scheduled_runs.py cyclic_triangular2

Both runs use the closed-loop noisy quadratic of :func:`gradient`: the gradient of update
t is computed in NumPy float32 from the parameters Paddle holds, ``a * (p - target) +
noise(t)`` with ``noise(t)`` a window of one stored vector (``noise_<k>[t : t + size]``),
so a test recomputes it from its own parameters with the recorded arrays alone. It is fed
through autograd as the gradient of ``sum(p * g)``. The loop is Paddle's:

    g = gradient(p, t); (p * g).sum().backward()
    lr[t] = opt.get_lr()          # the scheduler's double, before the update
    opt.step(); opt.clear_grad()
    scheduler.step()              # scheduler.step(metric[t]) for ReduceOnPlateau

``cyclic_triangular2`` writes ../../paddle/traj_cyclic_triangular2.npz: CyclicLR(0.001,
0.02, step_size_up=41, step_size_down=3, mode="triangular2") over 500 updates, params
w (64, 33), b (5,), s () created in that order. Per update: ``lr`` (float64), ``lr_kernel``
(the float32 rate the kernel got), ``beta1_pow`` (float32, after the update), and after
each update the params, ``moment`` and ``inf_norm`` of b and s (``param_<k>``, ``m_<k>``,
``u_<k>``, row 0 the initial values). For w (2112 values: every step would be 12 MB) the
full arrays are kept every ``SNAPSHOT_EVERY`` updates and at the last (``w_steps`` gives the
updates, 0 the initial values), and for every update a SHA-256 digest of the float32 bytes
of its param, moment and inf_norm (``digest_w`` uint8 (T + 1, 3, 32)). After update 250
``paddle.save`` writes ``opt.state_dict()`` (CyclicLR's ``last_epoch`` and ``last_lr``
under ``"LR_Scheduler"``) and ``layer.state_dict()`` to
../../paddle/checkpoints/cyclic_triangular2.pdopt and .pdparams.

``plateau_resume`` writes ../../paddle/checkpoints/plateau.pdopt, plateau.pdparams and
plateau_resume.npz: ReduceOnPlateau(0.02, mode="min", factor=0.3, patience=3, cooldown=2)
over params w (4, 3), b (3,), s (); the metric (``metric``, float64, one per epoch) improves
and stalls by turns and goes to ``scheduler.step`` after each update.
``plateau_every3_resume`` (plateau_every3.*) steps the scheduler after every 3 updates
(an epoch) instead, and is saved one update into an epoch. After update ``cut`` (the first
update >= the case's ``min_cut`` after which ``patience`` bad epochs are pending and no
cooldown runs; the rate has been reduced before) ``paddle.save`` writes
``opt.state_dict()`` (the scheduler's state under ``"LR_Scheduler"``) and
``layer.state_dict()``; the run goes on ``more`` updates. A fresh layer, ReduceOnPlateau
and Adamax then load the two files (``set_state_dict``) and make the same updates; the
script asserts they equal the uncut run bit for bit. The npz holds the uncut run
(``param_<k>``, ``m_<k>``, ``u_<k>`` row 0 initial, ``lr``, ``lr_kernel``, ``beta1_pow``,
and the scheduler after each update: ``best`` (NaN before the first metric),
``num_bad_epochs``, ``cooldown_counter``, ``last_lr``) and the resumed run
(``resumed_*``, row 0 the first update after the cut).
"""

import hashlib
import os
import pathlib
import sys
from typing import NamedTuple

import numpy as np
from _common import OUT_DIR, capture_param_lr, paddle, save

SNAPSHOT_EVERY = 25
CHECKPOINTS = pathlib.Path(OUT_DIR) / "checkpoints"


def problem(seed: int, shapes: dict, steps: int) -> dict:
  """Per parameter: initial values, curvature ``a``, ``target`` and the noise vector."""
  rng = np.random.default_rng(seed)
  out = {}
  for k, shape in shapes.items():
    size = int(np.prod(shape, dtype=np.int64))
    out[k] = {
      "p0": rng.standard_normal(shape).astype(np.float32),
      "a": rng.uniform(0.1, 2.0, shape).astype(np.float32),
      "target": rng.standard_normal(shape).astype(np.float32),
      "noise": (0.1 * rng.standard_normal(size + steps)).astype(np.float32),
    }
  return out


def gradient(p: np.ndarray, pr: dict, t: int) -> np.ndarray:
  """The closed-loop gradient of update t + 1 (t from 0) at the params ``p``."""
  noise = pr["noise"][t : t + p.size].reshape(p.shape)
  return np.asarray(pr["a"] * (p - pr["target"]) + noise, np.float32)


class Model(paddle.nn.Layer):
  def __init__(self, prob: dict):
    super().__init__()
    for k, pr in prob.items():
      p = self.create_parameter(list(pr["p0"].shape))
      p.set_value(pr["p0"])
      setattr(self, k, p)


def initial_rows(prob: dict) -> dict:
  """Row 0 of ``param_<k>``, ``m_<k>``, ``u_<k>``: the initial params, zero accumulators."""
  return {
    f"{what}_{k}": pr["p0"] if what == "param" else np.zeros_like(pr["p0"])
    for what in ("param", "m", "u")
    for k, pr in prob.items()
  }


def accumulators(model, opt, keys) -> dict:
  """The params and Adamax accumulators after an update, by key, and beta1_pow."""
  state = opt.state_dict()
  out = {}
  for k in keys:
    name = getattr(model, k).name
    out[f"param_{k}"] = getattr(model, k).numpy().copy()
    out[f"m_{k}"] = state[f"{name}_moment_0"].numpy().copy()
    out[f"u_{k}"] = state[f"{name}_inf_norm_0"].numpy().copy()
  first = getattr(model, keys[0]).name
  out["beta1_pow"] = state[f"{first}_beta1_pow_acc_0"].numpy().reshape(()).copy()
  return out


def update(model, opt, prob, t) -> float:
  """One update t + 1: the closed-loop gradient fed, ``get_lr()`` read, ``opt.step()``.
  Returns the rate read."""
  loss = 0
  for k, pr in prob.items():
    param = getattr(model, k)
    loss = loss + (param * paddle.to_tensor(gradient(param.numpy(), pr, t))).sum()
  loss.backward()
  rate = float(opt.get_lr())
  opt.step()
  opt.clear_grad()
  return rate


def kernel_rate(seen: dict) -> np.ndarray:
  """The float32 rate of the last update, the same for every parameter."""
  rates = {float(values[-1]) for values in seen.values()}
  assert len(rates) == 1, rates
  return np.float32(rates.pop())


def digest(*arrays) -> np.ndarray:
  return np.stack([np.frombuffer(hashlib.sha256(a.tobytes()).digest(), np.uint8) for a in arrays])


# ------------------------------------------------------------------- CyclicLR triangular2

CYCLIC_T = 500
CYCLIC_SHAPES = {"w": (64, 33), "b": (5,), "s": ()}
CYCLIC_SAVE_AT = 250  # the .pdopt and .pdparams written after this update
CYCLIC_KWARGS = {
  "base_learning_rate": 0.001,
  "max_learning_rate": 0.02,
  "step_size_up": 41,
  "step_size_down": 3,
  "mode": "triangular2",
}


def cyclic_triangular2():
  with paddle.utils.unique_name.guard():
    cyclic_run()


def cyclic_run():
  prob = problem(23, CYCLIC_SHAPES, CYCLIC_T)
  model = Model(prob)
  scheduler = paddle.optimizer.lr.CyclicLR(**CYCLIC_KWARGS)
  opt = paddle.optimizer.Adamax(learning_rate=scheduler, parameters=model.parameters())
  seen = capture_param_lr(opt)
  keys = list(CYCLIC_SHAPES)
  rows = {key: [value] for key, value in initial_rows(prob).items()}
  lr, lr_kernel, beta1_pow = [], [], []
  for t in range(CYCLIC_T):
    lr.append(update(model, opt, prob, t))
    lr_kernel.append(kernel_rate(seen))
    scheduler.step()
    after = accumulators(model, opt, keys)
    beta1_pow.append(after.pop("beta1_pow"))
    for key, value in after.items():
      rows[key].append(value)
    if t + 1 == CYCLIC_SAVE_AT:
      CHECKPOINTS.mkdir(parents=True, exist_ok=True)
      paddle.save(opt.state_dict(), str(CHECKPOINTS / "cyclic_triangular2.pdopt"))
      paddle.save(model.state_dict(), str(CHECKPOINTS / "cyclic_triangular2.pdparams"))
  w_steps = sorted({*range(0, CYCLIC_T + 1, SNAPSHOT_EVERY), CYCLIC_T})
  big = {f"{what}_w": np.stack(rows[f"{what}_w"]) for what in ("param", "m", "u")}
  arrays = {
    "digest_w": np.stack(
      [digest(*(big[f"{what}_w"][t] for what in ("param", "m", "u"))) for t in range(CYCLIC_T + 1)]
    ),
    **{key: value[w_steps] for key, value in big.items()},
    "w_steps": np.asarray(w_steps, np.int64),
    **{key: np.stack(value) for key, value in rows.items() if not key.endswith("_w")},
    **{f"{k}_{name}": prob[k][name] for k in keys for name in ("a", "target", "noise")},
    "lr": np.asarray(lr, np.float64),
    "lr_kernel": np.asarray(lr_kernel, np.float32),
    "beta1_pow": np.asarray(beta1_pow, np.float32),
  }
  assert np.array_equal(arrays["lr_kernel"], arrays["lr"].astype(np.float32))
  meta = {
    "kind": "trajectory",
    "scheduler": "paddle.optimizer.lr.CyclicLR",
    "scheduler_kwargs": CYCLIC_KWARGS,
    "optimizer": "paddle.optimizer.Adamax",
    "optimizer_kwargs": {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    "T": CYCLIC_T,
    "shapes": CYCLIC_SHAPES,
    "cycles": 1 + (CYCLIC_T - 1) // (41 + 3),
    "saved_after": CYCLIC_SAVE_AT,
    "gradient": "a * (p - target) + noise[t : t + p.size].reshape(p.shape), float32, "
    "from the params before update t + 1",
    "digest": "sha256 of the float32 bytes of w's param, moment, inf_norm after update t",
    "cpu": "AMD EPYC (AVX-512)",
  }
  print("wrote", save("traj_cyclic_triangular2", meta, **arrays))


# ------------------------------------------------------------ ReduceOnPlateau resumed

PLATEAU_SHAPES = {"w": (4, 3), "b": (3,), "s": ()}
PLATEAU_KWARGS = {"learning_rate": 0.02, "mode": "min", "factor": 0.3, "patience": 3, "cooldown": 2}


class PlateauCase(NamedTuple):
  stem: str  # the files' names: <stem>.pdopt, <stem>.pdparams, <stem>_resume.npz
  every: int  # updates per scheduler.step(metric) (an epoch)
  min_cut: int  # the first update the save may follow
  more: int  # updates after the save


def plateau_metric(steps: int) -> np.ndarray:
  """Improving for 25 to 50 steps (x0.98 each), then stalling for 3 to 11 (slightly worse
  than the last improvement, or equal): reductions, cooldowns and pending bad epochs."""
  rng = np.random.default_rng(2301)
  out, value = [], 1.0
  while len(out) < steps:
    for _ in range(int(rng.integers(25, 51))):
      value *= 0.98
      out.append(value)
    for _ in range(int(rng.integers(3, 12))):
      out.append(value * (1.0 + float(rng.choice([0.0, 0.002, 0.01]))))
  return np.asarray(out[:steps], np.float64)


def plateau_run(prob, metric, start, stop, run, every):
  """Updates ``start + 1`` to ``stop``; after every ``every``-th,
  ``scheduler.step(metric[epoch])`` (epoch 0 first)."""
  model, scheduler, opt, seen = run
  keys = list(prob)
  rows: dict[str, list] = {}
  for t in range(start, stop):
    row = {"lr": update(model, opt, prob, t), "lr_kernel": kernel_rate(seen)}
    if (t + 1) % every == 0:
      scheduler.step(float(metric[(t + 1) // every - 1]))
    row.update(accumulators(model, opt, keys))
    row.update(
      best=float("nan") if scheduler.best is None else float(scheduler.best),
      num_bad_epochs=scheduler.num_bad_epochs,
      cooldown_counter=scheduler.cooldown_counter,
      last_lr=scheduler.last_lr,
    )
    for key, value in row.items():
      rows.setdefault(key, []).append(value)
  return {key: np.asarray(value) for key, value in rows.items()}


def fresh(prob):
  """A new layer, ReduceOnPlateau and Adamax (call inside ``unique_name.guard()``, so the
  parameters and accumulators are named as in a new process)."""
  model = Model(prob)
  scheduler = paddle.optimizer.lr.ReduceOnPlateau(**PLATEAU_KWARGS)
  opt = paddle.optimizer.Adamax(learning_rate=scheduler, parameters=model.parameters())
  return model, scheduler, opt, capture_param_lr(opt)


def uncut_run(prob, metric, case, opt_file, model_file):
  """The run, saved after the first update >= ``case.min_cut`` that leaves ``patience``
  bad epochs pending (one more makes a reduction, so a metric read twice shows) and no
  cooldown, one update into an epoch where epochs are longer than one update, and
  continued ``case.more`` updates: ``(rows, cut, saved scheduler state)``."""
  every = case.every
  into_epoch = min(1, every - 1)
  with paddle.utils.unique_name.guard():
    run = fresh(prob)
    model, scheduler, opt, _ = run
    parts, cut = [plateau_run(prob, metric, 0, case.min_cut, run, every)], case.min_cut

    def pending():
      waiting = scheduler.num_bad_epochs == scheduler.patience and not scheduler.cooldown_counter
      return waiting and cut % every == into_epoch

    while not pending():
      parts.append(plateau_run(prob, metric, cut, cut + 1, run, every))
      cut += 1
    paddle.save(opt.state_dict(), str(opt_file))
    paddle.save(model.state_dict(), str(model_file))
    saved = dict(opt.state_dict()["LR_Scheduler"])
    parts.append(plateau_run(prob, metric, cut, cut + case.more, run, every))
  return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}, cut, saved


def resumed_run(prob, metric, cut, case, opt_file, model_file):
  """A fresh layer, scheduler and optimizer loading the files, then ``case.more`` updates."""
  with paddle.utils.unique_name.guard():
    run = fresh(prob)
    model, _, opt, _ = run
    model.set_state_dict(paddle.load(str(model_file)))
    opt.set_state_dict(paddle.load(str(opt_file)))
    return plateau_run(prob, metric, cut, cut + case.more, run, case.every)


def plateau_resume(case: PlateauCase):
  steps = case.min_cut + 3 * case.more
  prob = problem(2302, PLATEAU_SHAPES, steps)
  metric = plateau_metric(steps // case.every)
  CHECKPOINTS.mkdir(parents=True, exist_ok=True)
  opt_file = CHECKPOINTS / f"{case.stem}.pdopt"
  model_file = CHECKPOINTS / f"{case.stem}.pdparams"
  uncut, cut, saved_scheduler = uncut_run(prob, metric, case, opt_file, model_file)
  resumed = resumed_run(prob, metric, cut, case, opt_file, model_file)
  for key, value in resumed.items():
    want = uncut[key][cut:]
    assert value.dtype == want.dtype and np.array_equal(value, want, equal_nan=True), key

  # Reductions and cooldowns before and after the cut (rows are updates 1, 2, ...).
  reduced = np.flatnonzero(np.diff(uncut["last_lr"])) + 1
  cooling = np.flatnonzero(uncut["cooldown_counter"])
  for name, rows in (("reductions", reduced), ("cooldown", cooling)):
    assert rows.min() < cut - 1 < rows.max(), f"{name} on both sides of the cut: {rows}"

  keys = list(PLATEAU_SHAPES)
  initial = initial_rows(prob)
  arrays = {
    key: np.concatenate([initial[key][None], uncut[key]]) if key in initial else value
    for key, value in uncut.items()
  }
  arrays.update({f"resumed_{key}": value for key, value in resumed.items()})
  arrays.update({f"{k}_{name}": prob[k][name] for k in keys for name in ("a", "target", "noise")})
  arrays["metric"] = metric[: (cut + case.more) // case.every]
  meta = {
    "kind": "trajectory",
    "scheduler": "paddle.optimizer.lr.ReduceOnPlateau",
    "scheduler_kwargs": PLATEAU_KWARGS,
    "optimizer": "paddle.optimizer.Adamax",
    "optimizer_kwargs": {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    "shapes": PLATEAU_SHAPES,
    "every": case.every,
    "cut": cut,
    "more": case.more,
    "saved_scheduler": saved_scheduler,
    "files": [opt_file.name, model_file.name],
    "gradient": "a * (p - target) + noise[t : t + p.size].reshape(p.shape), float32, "
    "from the params before update t + 1",
    "cpu": "AMD EPYC (AVX-512)",
  }
  npz = CHECKPOINTS / f"{case.stem}_resume.npz"
  os.replace(save(f"{case.stem}_resume", meta, **arrays), npz)
  print("wrote", npz, opt_file, model_file, "cut", cut, saved_scheduler)


CASES = {
  "cyclic_triangular2": cyclic_triangular2,
  "plateau_resume": lambda: plateau_resume(PlateauCase("plateau", 1, 120, 200)),
  "plateau_every3_resume": lambda: plateau_resume(PlateauCase("plateau_every3", 3, 180, 300)),
}

if __name__ == "__main__":
  for name in sys.argv[1:] or CASES:
    CASES[name]()
