"""mindspore.nn.AdaMax's group rules: dynamic weight decay (a schedule Cell), the
``grad_centralization`` and ``order_params`` group keys, replayed against MindSpore's
golden trajectories under ``jax.jit``."""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from golden_data import read_recording
from harness import assert_replays

from adamax_optax import SparseRows
from adamax_optax.mindspore import nn
from adamax_optax.mindspore.nn.ada_max import _centralize_gradients

GOLDEN = pathlib.Path(__file__).resolve().parents[2] / "golden" / "mindspore"


def load(name):
  data = read_recording(GOLDEN / f"{name}.npz")
  return data, json.loads(str(data["meta"]))


def schedule(spec, horizon):
  if isinstance(spec, dict):
    return getattr(nn, spec["class"])(**spec["kwargs"], horizon=horizon)
  return spec


def optimizer_of(meta):
  """The recorded run, rebuilt from its meta alone (a dict lr or weight_decay is a Cell)."""
  steps, kw = meta["T"], meta["optimizer_kwargs"]
  groups = meta["groups"]
  if groups is not None:
    groups = [
      {k: schedule(v, steps) if k in ("lr", "weight_decay") else v for k, v in g.items()}
      for g in groups
    ]
  return nn.AdaMax(
    learning_rate=schedule(kw["learning_rate"], steps),
    beta1=kw["beta1"],
    beta2=kw["beta2"],
    eps=kw["eps"],
    weight_decay=schedule(kw["weight_decay"], steps),
    loss_scale=kw["loss_scale"],
    param_groups=groups,
  )


def replay(name):
  data, meta = load(name)
  return assert_replays(optimizer_of(meta), data, meta["keys"], name, meta["T"])


@pytest.mark.parametrize(
  "name",
  [
    "ms_traj_nn_dynamic_wd",  # ExponentialDecayLR weight decay, loss_scale 4, no groups
    "ms_traj_nn_groups_dynamic_wd_order",  # CosineDecayLR decay in a group, order_params
    "ms_traj_nn_grad_centralization_skipped",  # the key on shapes MindSpore leaves alone
  ],
)
def test_golden_trajectory_bit_for_bit(name):
  assert replay(name) == 300


def test_dynamic_weight_decay_rates_are_the_recorded_float32_rates():
  """The rate decay_weight used at update t: f32(schedule(t - 1)) * f32(loss_scale)."""
  for name, column in (("ms_traj_nn_dynamic_wd", 0), ("ms_traj_nn_groups_dynamic_wd_order", 2)):
    data, meta = load(name)
    groups = meta["groups"]
    spec = meta["optimizer_kwargs"]["weight_decay"] if groups is None else groups[0]["weight_decay"]
    cell = schedule(spec, meta["T"])
    got = jax.jit(jax.vmap(cell))(jnp.arange(meta["T"], dtype=jnp.int32))
    got = np.asarray(got * jnp.float32(meta["optimizer_kwargs"]["loss_scale"]))
    want = data["weight_decay"][:, column]
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), name


def test_grad_centralization_subtracts_the_mean_of_each_row_where_mindspore_does():
  g = jnp.asarray(np.random.default_rng(0).normal(size=(3, 16)), jnp.float32)
  out, _ = _centralize_gradients().update({"c": g, "w": g[:, :7], "b": g[0]}, None)
  np.testing.assert_allclose(out["c"], g - g.mean(axis=1, keepdims=True), rtol=0, atol=1e-6)
  np.testing.assert_allclose(out["c"].sum(axis=1), 0.0, atol=1e-5)
  # A second dimension not a multiple of 16, and one-dimensional gradients: unchanged.
  np.testing.assert_array_equal(out["w"], g[:, :7])
  np.testing.assert_array_equal(out["b"], g[0])
  rows = SparseRows(jnp.array([0, 2]), g[:2])
  sparse, _ = _centralize_gradients().update({"c": rows}, None)
  np.testing.assert_array_equal(sparse["c"].indices, [0, 2])
  np.testing.assert_allclose(sparse["c"].values, g[:2] - g[:2].mean(axis=1, keepdims=True))


def test_grad_centralization_runs_after_the_decay_and_before_the_loss_scale():
  """A (2, 16) parameter: (g + w * wd * s) centralized, then divided by s, then Adamax."""
  w = jnp.asarray(np.random.default_rng(1).normal(size=(2, 16)), jnp.float32)
  g = jnp.asarray(np.random.default_rng(2).normal(size=(2, 16)), jnp.float32)
  on = nn.AdaMax(
    learning_rate=0.01,
    weight_decay=0.1,
    loss_scale=4.0,
    param_groups=[{"params": ["c"], "grad_centralization": True}],
  )
  got = on.update({"c": g}, on.init({"c": w}), {"c": w})[0]["c"]
  decayed = np.asarray(g, np.float64) + np.asarray(w, np.float64) * 0.4
  centered = (decayed - decayed.mean(axis=1, keepdims=True)) / 4.0
  plain = nn.AdaMax(learning_rate=0.01)
  c = jnp.asarray(centered, jnp.float32)
  want = plain.update({"c": c}, plain.init({"c": w}), {"c": w})[0]["c"]
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-9)


def test_mindspore_cpu_has_no_centralization_kernel():
  """Why grad_centralization on a qualifying shape has no golden run: recorded error."""
  errors = json.loads((GOLDEN / "ms_traj_errors.json").read_text())
  assert "Unsupported op [Centralization] on CPU" in errors["nn_grad_centralization"]["error"]


@pytest.mark.parametrize(
  ("groups", "error", "match"),
  [
    ([{"params": ["w"]}, {"order_params": ["w"], "lr": 0.1}], ValueError, "only include"),
    ([{"params": ["w"]}, {"order_params": "w"}], TypeError, "list of parameter names"),
    ([{"params": ["w"], "grad_centralization": 1}], TypeError, "must be bool type"),
  ],
)
def test_bad_group_keys_are_refused(groups, error, match):
  with pytest.raises(error, match=match):
    nn.AdaMax(0.01, param_groups=groups)


@pytest.mark.parametrize(
  ("order", "match"),
  [(["w"], "length of order parameters"), (["w", "s"], "leaves out the grouped parameters")],
)
def test_order_params_must_list_every_grouped_parameter(order, match):
  opt = nn.AdaMax(0.01, param_groups=[{"params": ["w", "b"]}, {"order_params": order}])
  with pytest.raises(ValueError, match=match):
    opt.init({"w": jnp.ones(2), "b": jnp.ones(2), "s": jnp.ones(1)})
