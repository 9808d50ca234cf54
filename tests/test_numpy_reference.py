"""The NumPy replays themselves reproduce the real frameworks' golden trajectories.

This is what lets the other tests use the replays as the reference for cases no golden
file covers (groups, float16, complex, extreme gradients, ...).
"""

import golden_data
import numpy as np
import numpy_reference as ref
import pytest

F32 = np.float32


def _steps(framework: str, kwargs: dict):
  """A step(w, g, m, u, t, key) for the framework, with the golden file's kwargs."""
  kwargs = {k: v for k, v in kwargs.items() if k not in ("foreach", "groups")}
  if "betas" in kwargs:
    kwargs["betas"] = tuple(kwargs["betas"])
  if framework == "mindspore_nn":
    beta1 = kwargs.get("beta1", 0.9)
    return lambda w, g, m, u, t, key: ref.mindspore_nn_step(
      w, g, m, u, ref.running_power(beta1, t - 1), **kwargs
    )[:3]
  if framework == "paddle":
    beta1 = kwargs.get("beta1", 0.9)
    return lambda w, g, m, u, t, key: ref.paddle_step(
      w, g, m, u, ref.running_power(beta1, t), **kwargs
    )[:3]
  step = {
    "mindspore_exp": ref.mindspore_exp_step,
    "torch": ref.torch_step,
    "keras": ref.keras_step,
    "mxnet2": ref.mxnet2_step,
    "mxnet1": ref.mxnet1_step,
  }[framework]
  if framework.startswith("mxnet"):
    kwargs["lr"] = kwargs.pop("learning_rate", 0.002)
    kwargs.pop("multi_precision", None)
  return lambda w, g, m, u, t, key: step(w, g, m, u, t, **kwargs)


def _group_step(kwargs):
  """mindspore_exp_groups: {w, k: weight_decay 0.01}, {b: lr 0.01}."""
  base = dict(lr=kwargs["lr"], betas=tuple(kwargs["betas"]), eps=kwargs["eps"])
  per_key = {"w": dict(weight_decay=0.01), "k": dict(weight_decay=0.01), "b": dict(lr=0.01)}
  return lambda w, g, m, u, t, key: ref.mindspore_exp_step(
    w, g, m, u, t, **{**base, **per_key[key]}
  )


FRAMEWORKS = ("mxnet1", "mxnet2", "mindspore_exp", "mindspore_nn", "torch", "keras", "paddle")
NAMES = [
  (fw, name)
  for fw in FRAMEWORKS
  for name in golden_data.golden_names(fw)
  if not name.endswith("fp16_mp")
]


@pytest.mark.parametrize(("framework", "name"), NAMES, ids=[n for _, n in NAMES])
def test_replay_matches_golden_bit_for_bit(framework, name):
  want = golden_data.trajectory(name)
  case = golden_data.case_of(name, framework)
  kwargs = want.meta["kwargs"]
  step = _group_step(kwargs) if case == "groups" else _steps(framework, kwargs)
  params0, grads = golden_data.grads(case)
  for key in golden_data.KEYS:
    w = params0[key].astype(np.float32)
    m, u = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, golden_data.STEPS + 1):
      w, m, u = step(w, grads[key][t - 1], m, u, t, key)
      for got, recorded in ((w, want.params), (m, want.m), (u, want.u)):
        np.testing.assert_array_equal(got, recorded[key][t], err_msg=f"{key} step {t}")
