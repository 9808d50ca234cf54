"""Real Paddle ``ReduceOnPlateau`` runs resumed from their ``.pdopt``, bit for bit.

tests/golden/paddle/checkpoints/ (gen_scheduled_runs.py): ``Adamax(learning_rate=
ReduceOnPlateau(0.02, factor=0.3, patience=3, cooldown=2))`` on a closed-loop noisy
quadratic, with ``scheduler.step(metric)`` after each update (``plateau.*``) or after
every 3 updates (``plateau_every3.*``, saved one update into an epoch), saved with 3 bad
epochs pending (the next bad one reduces the rate) and continued; a fresh layer,
scheduler and optimizer loaded the files and made the same updates. The gradients are
recomputed from our own params, as Paddle's run computed them from its own.
"""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from harness import first_bit_difference

import adamax_optax as ax
from adamax_optax.checkpoint import CheckpointError
from adamax_optax.paddle import checkpoint as ckpt
from adamax_optax.paddle.optimizer import Adamax, get_lr, lr
from adamax_optax.schedules import metric_value

FILES = pathlib.Path(__file__).parents[2] / "golden" / "paddle" / "checkpoints"
OPTIMIZER, MODEL = FILES / "plateau.pdopt", FILES / "plateau.pdparams"
RUNS = ("plateau", "plateau_every3")
KEYS = ("w", "b", "s")
KIND = ("param", "m", "u")


def recording(stem="plateau"):
  data = np.load(FILES / f"{stem}_resume.npz")
  return {k: data[k] for k in data.files if k != "meta"}, json.loads(str(data["meta"]))


def template():
  data, _ = recording()
  return {k: np.zeros_like(data[f"param_{k}"][0]) for k in KEYS}


def plateau_optimizer(meta, **kwargs):
  scheduler = lr.ReduceOnPlateau(**meta["scheduler_kwargs"])
  kwargs.setdefault("lr_scheduler_every", meta["every"])
  return Adamax(learning_rate=scheduler, **kwargs)


def closed_loop_gradients(data, params, t):
  """The recording's gradients of update ``t + 1`` at ``params``, in NumPy float32."""
  grads = {}
  for k in KEYS:
    p = np.asarray(params[k])
    noise = data[f"{k}_noise"][t : t + p.size].reshape(p.shape)
    grads[k] = np.asarray(data[f"{k}_a"] * (p - data[f"{k}_target"]) + noise, np.float32)
  return grads


def stepper(opt):
  @jax.jit
  def step(params, state, grads, value):
    updates, state = opt.update(grads, state, params, value=value)
    return optax.apply_updates(params, updates), state

  return step


def value_at(metric, t, every):
  """``value=`` of update ``t + 1``: where ``t`` ends an epoch, the metric Paddle's
  ``scheduler.step`` got after it (epoch ``t // every - 1``); elsewhere it is not read."""
  return metric_value(metric[t // every - 1] if t and t % every == 0 else metric[0])


def run(opt, data, meta, params, state, start, stop):
  """Updates ``start + 1`` to ``stop``; yields ``(t, params, state)`` after update ``t``."""
  step = stepper(opt)
  for t in range(start, stop):
    grads = closed_loop_gradients(data, params, t)
    params, state = step(params, state, grads, value_at(data["metric"], t, meta["every"]))
    yield t + 1, params, state


def recorded(data, t, cut=None):
  """Paddle's params, moments and rate of update ``t``: from the uncut run, or, given the
  ``cut``, from the resumed one (whose row 0 is update ``cut + 1``)."""
  prefix = "" if cut is None else "resumed_"
  if cut is None:
    row, rate_row = t, t - 1  # the uncut run's row 0 holds the initial values
  else:
    row = rate_row = t - 1 - cut
  trees = {f"{kind}_{k}": data[f"{prefix}{kind}_{k}"][row] for kind in KIND for k in KEYS}
  return trees, data[f"{prefix}lr"][rate_row]


def assert_update(opt, want, t, params, state, what):
  """Params, m and u after update ``t`` and its rate equal ``want`` (:func:`recorded`)."""
  trees, rate = want
  mu, nu, _ = ax.moments(state)
  for kind, tree in zip(KIND, (params, mu, nu), strict=True):
    for k in KEYS:
      difference = first_bit_difference(np.asarray(tree[k]), trees[f"{kind}_{k}"])
      assert not difference, f"{what}: {kind}_{k} differs after update {t}: {difference}"
  assert get_lr(opt, state) == rate, f"{what}: the rate of update {t}"


@pytest.mark.parametrize("stem", RUNS)
def test_the_recorded_resume_equals_the_uncut_run(stem):
  data, meta = recording(stem)
  cut, more, every = meta["cut"], meta["more"], meta["every"]
  for t in range(cut + 1, cut + more + 1):
    (uncut, uncut_rate), (resumed, resumed_rate) = recorded(data, t), recorded(data, t, cut)
    assert uncut_rate == resumed_rate and all(np.array_equal(uncut[k], resumed[k]) for k in uncut)
  saved = ckpt.load(FILES / f"{stem}.pdopt")[ckpt.LR_SCHEDULER]
  assert saved == meta["saved_scheduler"] and saved["last_epoch"] == cut // every
  assert saved["num_bad_epochs"] == meta["scheduler_kwargs"]["patience"]
  assert saved["cooldown_counter"] == 0
  reductions = np.flatnonzero(np.diff(data["lr"])) + 2  # the updates a new rate starts at
  assert reductions.min() <= cut < reductions.max(), "reductions before and after the cut"


@pytest.mark.parametrize("stem", RUNS)
def test_the_uncut_run_bit_for_bit(stem):
  data, meta = recording(stem)
  opt = plateau_optimizer(meta)
  initial = {k: jnp.asarray(data[f"param_{k}"][0]) for k in KEYS}
  for t, params, state in run(opt, data, meta, initial, opt.init(initial), 0, len(data["lr"])):
    assert_update(opt, recorded(data, t), t, params, state, "uncut")
    if t > 1:  # Paddle's scheduler after update t - 1: what update t has read
      assert int(state.num_bad_epochs) == data["num_bad_epochs"][t - 2], t
      assert int(state.cooldown_counter) == data["cooldown_counter"][t - 2], t


def resumed_state(opt, stem="plateau"):
  model = FILES / f"{stem}.pdparams"
  params = ckpt.from_paddle_model_file(model, template())
  state = ckpt.state_from_paddle_optimizer_file(opt, FILES / f"{stem}.pdopt", params, model=model)
  return {k: jnp.asarray(v) for k, v in params.items()}, state


@pytest.mark.parametrize("stem", RUNS)
def test_resumed_from_the_pdopt_bit_for_bit(stem):
  data, meta = recording(stem)
  opt = plateau_optimizer(meta)
  start, restored = resumed_state(opt, stem)
  cut = meta["cut"]
  assert ax.moments(restored)[2] == cut
  saved = meta["saved_scheduler"]
  assert int(restored.num_bad_epochs) == saved["num_bad_epochs"]
  assert opt.learning_rates(restored) == [saved["last_lr"]]
  for t, params, state in run(opt, data, meta, start, restored, cut, cut + meta["more"]):
    assert_update(opt, recorded(data, t, cut), t, params, state, "resumed")


def test_reading_the_saved_metric_again_would_differ_from_paddle():
  # The file's scheduler has read the metric of update `cut` (3 bad epochs pending); a
  # state that read it once more would count a 4th and reduce the rate one update early.
  data, meta = recording()
  opt = plateau_optimizer(meta)
  params, state = resumed_state(opt)
  cut = meta["cut"]
  # (A restore that set the plateau's update count to the step, as for the Adamax count,
  # would make the next update read it: due at every count that is a multiple of 1.)
  read_again = state._replace(count=jnp.ones_like(state.count))
  _, _, once = next(run(opt, data, meta, params, state, cut, cut + 1))
  _, _, twice = next(run(opt, data, meta, params, read_again, cut, cut + 1))
  paddle_rate = recorded(data, cut + 1, cut)[1]
  assert get_lr(opt, once) == paddle_rate
  assert int(twice.reductions) == int(once.reductions) + 1
  assert get_lr(opt, twice) != paddle_rate


@pytest.mark.parametrize(
  ("optimizer", "message"),
  [
    (
      lambda meta: Adamax(learning_rate=lr.StepDecay(0.02, step_size=41, gamma=0.3)),
      r"plateau.pdopt\['LR_Scheduler'\] is a ReduceOnPlateau's state .* StepDecay",
    ),
    (
      lambda meta: Adamax(learning_rate=lr.ReduceOnPlateau(0.02, factor=0.5, patience=3)),
      r"\['last_lr'\] is 0.0018, which is no rate of this ReduceOnPlateau",
    ),
    (
      lambda meta: plateau_optimizer(meta, lr_scheduler_every=2),
      r"called scheduler.step\(metric\) 126 times, .* \(lr_scheduler_every=2\) has called it 63",
    ),
    (lambda meta: Adamax(learning_rate=0.02), "but the optimizer has a fixed learning rate"),
  ],
)
def test_an_optimizer_whose_scheduler_does_not_fit_the_file_is_refused(optimizer, message):
  _, meta = recording()
  params = ckpt.from_paddle_model_file(MODEL, template())
  with pytest.raises(CheckpointError, match=message):
    ckpt.state_from_paddle_optimizer_file(optimizer(meta), OPTIMIZER, params, model=MODEL)


def test_a_file_without_a_scheduler_state_or_of_another_kind_is_refused():
  _, meta = recording()
  opt = plateau_optimizer(meta)
  params = template()
  # The Adamax run of gen_checkpoints.py used a fixed rate: no LR_Scheduler saved.
  fixed_rate_run = (FILES / "adamax.pdopt", FILES / "adamax.pdparams")
  with pytest.raises(CheckpointError, match=r"adamax.pdopt has no 'LR_Scheduler'"):
    ckpt.state_from_paddle_optimizer_file(opt, fixed_rate_run[0], params, model=fixed_rate_run[1])
  with pytest.raises(CheckpointError, match=r"plateau.pdparams has no '.*_moment_0'"):
    ckpt.state_from_paddle_optimizer_file(opt, MODEL, params, model=MODEL)


def count_driven_file(path, scheduler_state, step=10):
  """A ``.pdopt`` of zero moments after ``step`` updates with ``scheduler_state``."""
  zeros = {k: np.zeros(3, np.float32) for k in ("w", "b")}
  names = {k: f"linear_0.{k}_0" for k in zeros}
  saved = ckpt.to_paddle_state_dict(zeros, zeros, step, names=names)
  saved[ckpt.LR_SCHEDULER] = scheduler_state
  ckpt.save(saved, path)
  return zeros, names


def test_a_count_driven_schedulers_epoch_and_rate_are_checked(tmp_path):
  path = tmp_path / "step_decay.pdopt"
  scheduler = lr.StepDecay(0.02, step_size=4, gamma=0.5)
  params, names = count_driven_file(path, {"last_epoch": 10, "last_lr": 0.005})
  opt = Adamax(learning_rate=scheduler)
  state = ckpt.state_from_paddle_optimizer_file(opt, path, params, names=names)
  assert ax.moments(state)[2] == 10 and get_lr(opt, state) == 0.005 == scheduler.value_at(10)

  count_driven_file(path, {"last_epoch": 10, "last_lr": 0.01})
  with pytest.raises(CheckpointError, match=r"is 0.01, but .* gives 0.005 at epoch 10"):
    ckpt.state_from_paddle_optimizer_file(opt, path, params, names=names)
  count_driven_file(path, {"last_epoch": 10, "last_lr": 0.005})
  every_two = Adamax(learning_rate=scheduler, lr_scheduler_every=2)
  with pytest.raises(CheckpointError, match=r"\['last_epoch'\] is 10, .* at epoch 5 after"):
    ckpt.state_from_paddle_optimizer_file(every_two, path, params, names=names)
  short = Adamax(learning_rate=lr.StepDecay(0.02, step_size=4, gamma=0.5, horizon=5))
  with pytest.raises(CheckpointError, match=r"past the scheduler's horizon=5"):
    ckpt.state_from_paddle_optimizer_file(short, path, params, names=names)
  count_driven_file(path, {"last_epoch": 10, "last_lr": 0.005, "best": 1.0})
  with pytest.raises(CheckpointError, match=r"is a ReduceOnPlateau's state .* StepDecay"):
    ckpt.state_from_paddle_optimizer_file(opt, path, params, names=names)


def test_scheduler_state_before_the_first_metric():
  plateau = lr.ReduceOnPlateau(0.02)
  saved = {"cooldown_counter": 0, "best": None, "num_bad_epochs": 0, "last_epoch": 0}
  got = ckpt.scheduler_state({**saved, "last_lr": 0.02}, plateau, 0)
  assert got == {"best": np.inf, "num_bad_epochs": 0, "cooldown_counter": 0, "reductions": 0}
  with pytest.raises(ValueError, match=r"has no \['last_lr'\]"):
    ckpt.scheduler_state(saved, plateau, 0)
