"""``load_state`` continues an optimizer with a plateau scheduler bit for bit.

A run is cut after update ``n``; the scheduler's saved state is what a framework's file
holds there (its bookkeeping after ``scheduler.step(metric)`` for the last epoch), the
moments those of the run; the resumed run must then equal the uncut one at every update,
its rate and its parameters, without reading the saved epoch's metric twice.
"""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from golden_data import read_recording

from adamax_optax import _double_float as df
from adamax_optax import load_state, moments
from adamax_optax.paddle.optimizer import Adamax as PaddleAdamax
from adamax_optax.paddle.optimizer import lr as paddle_lr
from adamax_optax.schedules import metric_value
from adamax_optax.torch.optim import Adamax
from adamax_optax.torch.optim.lr_scheduler import ReduceLROnPlateau, get_last_lr

GOLDEN = pathlib.Path(__file__).parent / "golden"
UPDATES = 1000


def torch_case(every):
  data = read_recording(GOLDEN / "torch" / "sched_plateau_min_rel.npz")
  meta = json.loads(str(data["meta"]))
  scheduler = ReduceLROnPlateau(**meta["scheduler_kwargs"])
  groups = [{"params": [f"p{g}"], "lr": group["lr"]} for g, group in enumerate(meta["groups"])]
  opt = Adamax(groups, lr=0.002, lr_scheduler=scheduler, lr_scheduler_every=every)
  params = {f"p{g}": jnp.full((2,), 0.5 + g) for g in range(len(groups))}
  return opt, scheduler, params, data["metric"]


def paddle_case(every):
  data = read_recording(GOLDEN / "paddle" / "sched_reduce_on_plateau.npz")
  meta = json.loads(str(data["meta"]))
  scheduler = paddle_lr.ReduceOnPlateau(**meta["scheduler_kwargs"])
  opt = PaddleAdamax(learning_rate=scheduler, lr_scheduler_every=every)
  return opt, scheduler, {"w": jnp.full((2,), 0.5)}, data["metric"]


def stepper(opt):
  @jax.jit
  def step(params, state, value):
    # Closed loop: the gradient is the parameters themselves.
    updates, state = opt.update(params, state, params, value=value)
    return optax.apply_updates(params, updates), state

  return step


def metric_at(metric, t):
  """The value passed to update ``t`` (0 first): the metric measured after the one before."""
  return metric_value(metric[t - 1] if t else metric[0])


def saved_scheduler(scheduler, state, metric, n, every):
  """The scheduler's state as a framework's file holds it after update ``n``: its step
  for the epoch ending at ``n`` has read that epoch's metric, which our state reads
  only at the next update."""
  if n % every == 0:
    state = scheduler.advance(state, df.DoubleFloat(*map(jnp.asarray, metric_value(metric[n - 1]))))
  best = float(np.float64(state.best.hi) + np.float64(state.best.lo))
  return {
    "best": best,
    "num_bad_epochs": int(state.num_bad_epochs),
    "cooldown_counter": int(state.cooldown_counter),
    "reductions": int(state.reductions),
  }


@pytest.mark.parametrize(
  ("case", "every", "cut"),
  [(torch_case, 1, 305), (torch_case, 4, 700), (torch_case, 4, 702), (paddle_case, 1, 330)],
)
def test_a_resumed_plateau_run_equals_the_uncut_run(case, every, cut):
  opt, scheduler, params, metric = case(every)
  step = stepper(opt)
  state = opt.init(params)
  uncut = []
  for t in range(UPDATES):
    if t == cut:
      saved = (params, moments(state), saved_scheduler(scheduler, state, metric, t, every))
    params, state = step(params, state, metric_at(metric, t))
    uncut.append((params, state.reductions, opt.learning_rates(state)))
  reductions = [int(r) for _, r, _ in uncut]
  assert reductions[cut - 1] > 0 and reductions[-1] > reductions[cut], "reductions on both sides"

  params, (mu, nu, _), plateau = saved
  state = load_state(opt, params, mu=mu, nu=nu, step=cut, plateau=plateau)
  for t in range(cut, UPDATES):
    params, state = step(params, state, metric_at(metric, t))
    want_params, _, want_rates = uncut[t]
    assert opt.learning_rates(state) == want_rates, f"rate after update {t + 1}"
    for name in params:
      got, want = np.asarray(params[name]), np.asarray(want_params[name])
      assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), (t + 1, name)


def test_load_state_without_bookkeeping_starts_a_fresh_plateau_at_the_step():
  opt, _, params, _ = torch_case(1)
  mu = jax.tree.map(jnp.zeros_like, params)
  state = load_state(opt, params, mu=mu, nu=mu, step=5)
  assert int(state.count) == 5 and int(state.reductions) == 0
  assert get_last_lr(opt, state) == [0.01, 0.003, 0.05]


@pytest.mark.parametrize(
  ("plateau", "message"),
  [
    ({"best": 1.0}, "plateau must be a mapping with exactly the keys"),
    (
      {"best": 1.0, "num_bad_epochs": -1, "cooldown_counter": 0, "reductions": 0},
      r"plateau\['num_bad_epochs'\] must be an int >= 0",
    ),
    (
      {"best": "low", "num_bad_epochs": 0, "cooldown_counter": 0, "reductions": 0},
      r"plateau\['best'\] must be a number",
    ),
  ],
)
def test_bad_plateau_bookkeeping_is_refused(plateau, message):
  opt, _, params, _ = torch_case(1)
  mu = jax.tree.map(jnp.zeros_like, params)
  with pytest.raises(ValueError, match=message):
    load_state(opt, params, mu=mu, nu=mu, step=5, plateau=plateau)


def test_plateau_bookkeeping_for_an_optimizer_without_a_plateau_is_refused():
  opt = Adamax({"w": jnp.ones(1)}, lr=0.1)
  zeros = {"w": jnp.zeros(1)}
  plateau = {"best": 1.0, "num_bad_epochs": 0, "cooldown_counter": 0, "reductions": 0}
  with pytest.raises(ValueError, match="has no plateau scheduler"):
    load_state(opt, {"w": jnp.ones(1)}, mu=zeros, nu=zeros, step=5, plateau=plateau)


def test_a_wrapped_optimizer_resumes_with_the_cadence_given_and_refuses_to_guess_it():
  opt, _, params, _ = torch_case(4)
  chained = optax.chain(optax.identity(), opt)  # the chain loses the preset's attributes
  mu = jax.tree.map(jnp.zeros_like, params)
  plateau = {"best": 1.0, "num_bad_epochs": 2, "cooldown_counter": 0, "reductions": 1}
  with pytest.raises(ValueError, match="pass lr_scheduler_every="):
    load_state(chained, params, mu=mu, nu=mu, step=26, plateau=plateau)
  with pytest.raises(ValueError, match="built with lr_scheduler_every=4"):
    load_state(opt, params, mu=mu, nu=mu, step=26, plateau=plateau, lr_scheduler_every=2)

  direct = load_state(opt, params, mu=mu, nu=mu, step=26, plateau=plateau)
  wrapped = load_state(
    chained, params, mu=mu, nu=mu, step=26, plateau=plateau, lr_scheduler_every=4
  )
  assert int(direct.count) == int(wrapped[1].count) == 26 % 4
  assert jax.tree.all(jax.tree.map(lambda a, b: bool(jnp.array_equal(a, b)), direct, wrapped[1]))
