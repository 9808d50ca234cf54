"""ReduceOnPlateau stepped with float32 metrics, as a script's ``scheduler.step(loss)`` does.

Paddle keeps the metric it is given as ``best`` and compares ``current < best - best *
threshold`` in the metric's own type: a float32 Tensor or ``np.float32`` compares in
float32, a Python float in doubles. Each metric here is picked, from Paddle's own ``best``
after the step before, to fall between the float32 bound and the double bound whenever one
float32 value does, so a replay that compares in the other type takes another branch.

    /work/venvs/paddle/bin/python gen_plateau_float32_metrics.py

writes ../../paddle/plateau_float32_metrics.npz: per case the metric of each step
(``<case>_metrics``, float32) and after it ``last_lr`` (``<case>_lr``), ``best`` as a
double (``<case>_best``), ``num_bad_epochs`` and ``cooldown_counter`` (``<case>_bad``,
``<case>_cooldown``).
"""

from __future__ import annotations

import numpy as np
from _common import save

import paddle

STEPS = 400
CASES = {  # name: (mode, threshold_mode, threshold, metric kind)
  "min_rel_tensor": ("min", "rel", 1e-4, "tensor"),
  "min_rel_numpy": ("min", "rel", 1e-4, "numpy"),
  "min_abs_tensor": ("min", "abs", 3e-7, "tensor"),
  "max_rel_tensor": ("max", "rel", 1e-3, "tensor"),
  "max_abs_numpy": ("max", "abs", 3e-7, "numpy"),
  "min_rel_float": ("min", "rel", 1e-4, "float"),
}


def bounds(best: np.float32, mode: str, threshold_mode: str, threshold: float):
  """Paddle's bound computed in float32 (numpy 2's rules) and in doubles."""
  b32, b64 = np.float32(best), float(best)
  sign = -1.0 if mode == "min" else 1.0
  if threshold_mode == "rel":
    return b32 + np.float32(sign) * (b32 * np.float32(threshold)), b64 + sign * b64 * threshold
  return b32 + np.float32(sign * threshold), b64 + sign * threshold


def next_metric(rng, best, mode, threshold_mode, threshold):
  """A float32 metric that the two comparisons judge differently when one exists, else a
  plainly worse or better one."""
  if best is None or not np.isfinite(float(best)):
    return np.float32(rng.uniform(1.0, 2.0))
  bound32, bound64 = bounds(best, mode, threshold_mode, threshold)
  better = (lambda c, b: c < b) if mode == "min" else (lambda c, b: c > b)
  candidates = [np.float32(bound64)]
  for _ in range(3):
    candidates += [np.nextafter(candidates[-1], np.float32(np.inf), dtype=np.float32)]
    candidates += [np.nextafter(candidates[0], np.float32(-np.inf), dtype=np.float32)]
  split = [c for c in candidates if better(c, bound32) != better(float(c), bound64)]
  if split and rng.uniform() < 0.8:
    return split[rng.integers(len(split))]
  scale = rng.choice([0.9, 1.0, 1.1])
  return np.float32(float(best) * scale)


def run(mode, threshold_mode, threshold, kind, seed):
  rng = np.random.default_rng(seed)
  scheduler = paddle.optimizer.lr.ReduceOnPlateau(
    learning_rate=0.1,
    mode=mode,
    factor=0.9,
    patience=2,
    threshold=threshold,
    threshold_mode=threshold_mode,
    cooldown=1,
  )
  metrics, lrs, bests, bad, cooldown, splits = [], [], [], [], [], 0
  for _ in range(STEPS):
    best = None if scheduler.best is None else np.float32(np.asarray(scheduler.best))
    metric = next_metric(rng, best, mode, threshold_mode, threshold)
    if best is not None and np.isfinite(float(best)):
      bound32, bound64 = bounds(best, mode, threshold_mode, threshold)
      lower = (lambda c, b: c < b) if mode == "min" else (lambda c, b: c > b)
      splits += lower(metric, bound32) != lower(float(metric), bound64)
    given = {
      "tensor": lambda m: paddle.to_tensor(m, dtype="float32"),
      "numpy": lambda m: m,
      "float": float,
    }[kind](metric)
    scheduler.step(given)
    metrics.append(metric)
    lrs.append(float(scheduler.last_lr))
    bests.append(float(np.asarray(scheduler.best)))
    bad.append(scheduler.num_bad_epochs)
    cooldown.append(scheduler.cooldown_counter)
  recorded = {
    "metrics": np.array(metrics, np.float32),
    "lr": np.array(lrs, np.float64),
    "best": np.array(bests, np.float64),
    "bad": np.array(bad, np.int32),
    "cooldown": np.array(cooldown, np.int32),
  }
  return recorded, int(splits)


def main():
  arrays, meta = {}, {"steps": STEPS, "cases": {}}
  for seed, (name, (mode, threshold_mode, threshold, kind)) in enumerate(CASES.items()):
    recorded, splits = run(mode, threshold_mode, threshold, kind, seed)
    arrays |= {f"{name}_{key}": values for key, values in recorded.items()}
    lrs = recorded["lr"]
    meta["cases"][name] = {
      "mode": mode,
      "threshold_mode": threshold_mode,
      "threshold": threshold,
      "metric": kind,
      "learning_rate": 0.1,
      "factor": 0.9,
      "patience": 2,
      "cooldown": 1,
      "split_steps": splits,
      "reductions": int(np.sum(np.diff(lrs) != 0)),
    }
    print(name, meta["cases"][name])
  print(save("plateau_float32_metrics", meta, **arrays))


if __name__ == "__main__":
  main()
