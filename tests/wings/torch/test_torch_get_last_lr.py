"""``get_last_lr(opt, state)`` against PyTorch's recorded ``group["lr"]`` per update.

The recordings are ``tests/golden/torch/sched_<case>.npz`` (``gen_schedules.py``): three
groups, ``lr[t]`` read before update ``t + 1``, which ``scheduler.get_last_lr()`` equals
there. Several schedulers on one optimizer: ``test_torch_schedulers_together.py``.
"""

import json
import pathlib

import jax
import jax.numpy as jnp
import optax
import pytest
from golden_data import read_recording

from adamax_optax.torch.optim import Adamax
from adamax_optax.torch.optim.lr_scheduler import (
  CosineAnnealingLR,
  ReduceLROnPlateau,
  StepLR,
  get_last_lr,
)

GOLDEN = pathlib.Path(__file__).parents[2] / "golden" / "torch"
UPDATES = 300


def recorded(name):
  data = read_recording(GOLDEN / f"{name}.npz")
  return data, json.loads(str(data["meta"]))


def optimizer(meta, scheduler):
  groups = [{"params": [f"p{g}"], "lr": group["lr"]} for g, group in enumerate(meta["groups"])]
  return Adamax(groups, lr=meta["optimizer_kwargs"]["lr"], lr_scheduler=scheduler)


def params_of(meta):
  return {f"p{g}": jnp.full((1,), 0.5) for g in range(len(meta["groups"]))}


@pytest.mark.parametrize(
  ("name", "scheduler"),
  [
    ("sched_steplr_7_0.97", StepLR(step_size=7, gamma=0.97, horizon=UPDATES)),
    ("sched_cosine_41_1e-4", CosineAnnealingLR(T_max=41, eta_min=1e-4, horizon=UPDATES)),
  ],
)
def test_get_last_lr_after_each_update_is_pytorchs_group_lr(name, scheduler):
  data, meta = recorded(name)
  opt = optimizer(meta, scheduler)
  params = params_of(meta)
  state = opt.init(params)
  update = jax.jit(opt.update)
  assert get_last_lr(opt, state) == list(data["lr"][0])
  for t in range(1, UPDATES):
    _, state = update(params, state, params)
    assert get_last_lr(opt, state) == list(data["lr"][t]), f"after update {t}"


def test_with_a_plateau_it_is_the_rate_of_the_last_update():
  # The metric measured after update t reaches the optimizer with update t + 1, so
  # after update t the state holds the reductions that set the rate of update t.
  data, meta = recorded("sched_plateau_min_rel")
  kwargs = {k: v for k, v in meta["scheduler_kwargs"].items() if k != "verbose"}
  opt = optimizer(meta, ReduceLROnPlateau(**kwargs))
  params = params_of(meta)
  state = opt.init(params)
  update = jax.jit(opt.update)
  metric, want = data["metric"], data["lr"]
  reduced = 0
  for t in range(2000):
    value = metric[t - 1] if t else 0.0  # (not read at the first update)
    _, state = update(params, state, params, value=jnp.float32(value))
    assert get_last_lr(opt, state) == list(want[t]), f"after update {t + 1}"
    reduced += want[t][0] != want[0][0]
  assert reduced, "the recording reduces the rate within these updates"


def test_a_constant_rate_is_that_rate_for_every_group():
  opt = Adamax([{"params": ["a"], "lr": 0.1}, {"params": ["b"]}], lr=0.02)
  params = {"a": jnp.ones(1), "b": jnp.ones(1)}
  assert get_last_lr(opt, opt.init(params)) == [0.1, 0.02]


def test_an_optimizer_of_another_package_is_refused_with_a_pointer():
  opt = optax.adam(0.1)
  with pytest.raises(TypeError, match="carries no learning rates to read"):
    get_last_lr(opt, opt.init(jnp.ones(1)))
