"""adamax_optax.mxnet.gluon.Trainer against MXNet Gluon's Trainer (2.0.0b1 and 1.9.1).

Golden files: tests/golden/mxnet/mxnet{2,1}_gluon_trainer.npz (made by
tests/golden/generate/mxnet/gen_gluon_trainer.py): 4 epochs of ``trainer.step(24)`` eight
times and ``trainer.step(8)`` once (a short last batch), with ``lr_mult`` 2 for b,
``wd_mult`` 0 for s and ``trainer.set_learning_rate(0.005)`` after epoch 2. The gradients
are the ones MXNet's backward left; every step's parameters are compared bit for bit.
"""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from golden_data import read_recording

from adamax_optax.mxnet.gluon import Trainer
from adamax_optax.mxnet.lr_scheduler import FactorScheduler

GOLDEN = pathlib.Path(__file__).parents[2] / "golden" / "mxnet"
KEYS = ("w", "b", "s")  # Gluon's parameter order
CASES = ["mxnet2_gluon_trainer", "mxnet1_gluon_trainer"]


def load(name):
  data = read_recording(GOLDEN / f"{name}.npz")
  return data, json.loads(str(data["meta"]))


def trainer_of(name, meta, params):
  return Trainer(
    params,
    "adamax",
    meta["optimizer_params"],
    lr_mult=meta["lr_mult"],
    wd_mult=meta["wd_mult"],
    mxnet_version=1 if name.startswith("mxnet1") else 2,
  )


def replay(name, batch_size_of=lambda recorded: recorded):
  """Our parameters after each recorded step (a list per key), and how often the step
  was traced."""
  data, meta = load(name)
  params = {k: jnp.asarray(data[f"param_{k}"][0]) for k in KEYS}
  trainer = trainer_of(name, meta, params)
  state = trainer.init(params)
  traces = []

  def step(trainer):
    @jax.jit
    def run(params, state, grads, batch_size):
      traces.append(batch_size)
      updates, state = trainer.update(grads, state, params, batch_size=batch_size)
      return optax.apply_updates(params, updates), state

    return run

  run = step(trainer)
  got = {k: [] for k in KEYS}
  steps_per_epoch = -(-meta["samples"] // meta["batch"])
  for t in range(data["batch_size"].shape[0]):
    if t == meta["set_learning_rate"]["epoch"] * steps_per_epoch:
      trainer = trainer.set_learning_rate(meta["set_learning_rate"]["lr"])
      run = step(trainer)
    grads = {k: jnp.asarray(data[f"grad_{k}"][t]) for k in KEYS}
    params, state = run(params, state, grads, batch_size_of(int(data["batch_size"][t])))
    for k in KEYS:
      got[k].append(np.asarray(params[k]))
  return data, got, traces


@pytest.mark.parametrize("name", CASES)
def test_gluon_trainer_run_is_mxnet_bit_for_bit(name):
  data, got, traces = replay(name)
  assert sorted(set(data["batch_size"].tolist())) == [8, 24]  # a short last batch
  assert len(traces) == 2  # once per learning rate: a new batch size does not recompile
  for k in KEYS:
    want = data[f"param_{k}"][1:]
    for t, (ours, theirs) in enumerate(zip(got[k], want, strict=True)):
      bad = np.flatnonzero(ours.view(np.uint32).ravel() != theirs.view(np.uint32).ravel())
      assert not bad.size, f"{name}: param_{k} at step {t + 1}, element {bad[0]}"


def test_without_the_batch_rescale_the_run_silently_differs():
  """A port that passes no 1 / batch_size (here batch_size=1 at every step) raises no
  error and trains another curve: the warning of docs/porting/mxnet.md and docs/presets.md."""
  data, got, _ = replay(CASES[0], batch_size_of=lambda recorded: 1)
  assert all(np.isfinite(got[k][-1]).all() for k in KEYS)
  assert not np.array_equal(got["w"][-1], data["param_w"][-1])


def test_update_without_batch_size_names_it():
  params = {"w": jnp.ones(2)}
  trainer = Trainer(params, "adamax")
  with pytest.raises(TypeError, match=r"batch_size=24"):
    trainer.update(params, trainer.init(params), params)


@pytest.mark.parametrize(
  ("kwargs", "error", "match"),
  [
    ({"optimizer": "sgd"}, ValueError, "optimizer must be 'adamax'"),
    ({"optimizer_params": {"momentum": 0.9}}, TypeError, "momentum"),
    ({"lr_mult": {"bias": 2.0}}, ValueError, "lr_mult names parameters not in params"),
    ({"wd_mult": [0.0]}, TypeError, "wd_mult must be a dict"),
    ({"mxnet_version": 3}, ValueError, "mxnet_version must be 1 or 2"),
    ({"optimizer_params": {"epsilon": 1e-8}, "mxnet_version": 1}, TypeError, "epsilon"),
  ],
)
def test_bad_arguments_are_named(kwargs, error, match):
  params = {"w": jnp.ones(2), "b": jnp.zeros(2)}
  with pytest.raises(error, match=match):
    Trainer(params, **{"optimizer": "adamax", **kwargs})


def test_set_learning_rate_keeps_the_state_and_refuses_a_scheduler():
  params = {"w": jnp.ones(2), "b": jnp.zeros(2)}
  trainer = Trainer(params, "adamax", {"learning_rate": 0.01})
  state = trainer.init(params)
  slower = trainer.set_learning_rate(0.005)
  assert slower.learning_rate == 0.005 and slower.param_order == ("w", "b")
  fast, _ = trainer.update(params, state, params, batch_size=1)
  slow, _ = slower.update(params, state, params, batch_size=1)
  np.testing.assert_allclose(slow["w"], fast["w"] / 2, rtol=1e-6)
  scheduled = Trainer(params, "adamax", {"lr_scheduler": FactorScheduler(step=10)})
  with pytest.raises(ValueError, match="lr_scheduler"):
    scheduled.set_learning_rate(0.1)
