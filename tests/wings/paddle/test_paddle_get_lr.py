"""``get_lr(opt, state)`` against Paddle's recorded ``opt.get_lr()`` before every update.

The recordings (``tests/golden/paddle/sched_<case>.npz``): ``lr[t]`` is
``float(opt.get_lr())`` read after ``t`` updates and ``t`` scheduler steps.
"""

import inspect
import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from golden_data import read_recording

from adamax_optax.paddle.optimizer import Adamax, get_lr, lr
from adamax_optax.schedules import metric_value

GOLDEN = pathlib.Path(__file__).parents[2] / "golden" / "paddle"
UPDATES = 300


def recorded(name):
  data = read_recording(GOLDEN / f"{name}.npz")
  return data, json.loads(str(data["meta"]))


@pytest.mark.parametrize(
  ("name", "every"),
  [("sched_multistep", 1), ("sched_exponential_0.97", 1), ("sched_multistep", 3)],
)
def test_get_lr_after_each_update_is_paddles(name, every):
  data, meta = recorded(name)
  scheduler_class = getattr(lr, meta["scheduler"].rsplit(".", 1)[1])
  kwargs = dict(meta["scheduler_kwargs"])
  if "horizon" in inspect.signature(scheduler_class).parameters:
    kwargs["horizon"] = UPDATES
  scheduler = scheduler_class(**kwargs)
  opt = Adamax(learning_rate=scheduler, lr_scheduler_every=every)
  params = jnp.ones(1)
  state = opt.init(params)
  update = jax.jit(opt.update)
  want = data["lr"][:, 0]
  assert get_lr(opt, state) == want[0]
  for t in range(1, UPDATES):
    _, state = update(params, state, params)
    assert get_lr(opt, state) == want[t // every], f"after update {t}"


def test_with_reduce_on_plateau_it_is_the_rate_of_the_last_update():
  data, meta = recorded("sched_reduce_on_plateau")
  opt = Adamax(learning_rate=lr.ReduceOnPlateau(**meta["scheduler_kwargs"]))
  params = jnp.ones(1)
  state = opt.init(params)
  update = jax.jit(opt.update)
  metric, want = data["metric"], data["lr"][:, 0]
  for t in range(1500):
    value = metric_value(metric[t - 1] if t else metric[0])  # (not read at the first)
    _, state = update(params, state, params, value=value)
    assert get_lr(opt, state) == want[t], f"after update {t + 1}"
  assert len(np.unique(want[:1500])) > 1, "the recording reduces within these updates"


def test_a_fixed_learning_rate_is_that_number():
  opt = Adamax(learning_rate=0.003)
  assert get_lr(opt, opt.init(jnp.ones(1))) == 0.003
