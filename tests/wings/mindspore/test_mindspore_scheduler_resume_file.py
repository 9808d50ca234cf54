"""MindSpore runs resumed from the script's own checkpoint file, scheduler included, bit for bit.

Golden files (made by tests/golden/generate/mindspore/gen_scheduler_resume.py, MindSpore 2.10.0,
CPU): tests/golden/mindspore/ms_resume_{steplr,plateau}.npz, closed-loop runs of
``mindspore.experimental.optim.Adamax`` (two groups) with ``StepLR(step_size=41, gamma=0.3)``
stepped after every update, and ``ReduceLROnPlateau(factor=0.3, patience=3, cooldown=2,
threshold=1e-3)`` stepped once per epoch of 4 updates with a validation loss; and
tests/golden/mindspore/checkpoints/ms_resume_<case>_cut.ckpt, ``ms.save_checkpoint(optimizer,
path, append_dict=...)`` at the cut, the group rates and the scheduler's Parameters appended
(``save_checkpoint(optimizer)`` saves none of them). MindSpore's own resume restoring them
(``restored_*``) equals its uncut run; one that does not (``fresh_*``) restarts the scheduler.

From the file alone the preset must continue MindSpore's run (params, moments and rate after
every update, under ``jax.jit``); the saved epoch's loss must not count again; a file that
does not fit the optimizer must be refused, naming both values.
"""

import functools
import json
import math
import pathlib

import jax.numpy as jnp
import numpy as np
import optax
import pytest
from harness import first_bit_difference, run_scheduled, scheduled_stepper

from adamax_optax import load_state, mindspore_adamax
from adamax_optax.mindspore import checkpoint as ms_ckpt
from adamax_optax.mindspore.experimental.optim import lr_scheduler
from adamax_optax.mindspore.experimental.optim.lr_scheduler import get_last_lr

GOLDEN = pathlib.Path(__file__).parents[2] / "golden" / "mindspore"
CASES = ["steplr", "plateau"]


@functools.cache
def _recording(case):
  with np.load(GOLDEN / f"ms_resume_{case}.npz") as data:  # read once
    return {key: data[key] for key in data.files}


def recording(case):
  """The arrays (a copy of the dict, its arrays shared) and the meta (a fresh copy)."""
  data = dict(_recording(case))
  return data, json.loads(str(data["meta"]))


def checkpoint(meta):
  return GOLDEN / "checkpoints" / meta["checkpoint"]


def names(meta):
  return [name for group in meta["groups"] for name in group["params"]]


def template(data, meta):
  return {name: np.zeros_like(data[f"param/{name}"][0]) for name in names(meta)}


def optimizer(meta, **changes):
  """The preset built as the script built its optimizer and scheduler."""
  if "scheduler" not in changes:
    saved = meta["scheduler"]
    changes["scheduler"] = getattr(lr_scheduler, saved["class"])(**saved["kwargs"])
  return mindspore_adamax(
    lr=meta["optimizer_lr"],
    param_groups=changes.pop("groups", meta["groups"]),
    lr_scheduler=changes.pop("scheduler"),
    lr_scheduler_every=changes.pop("every", meta["every"]),
    lr_scheduler_start=changes.pop("start", 0),
  )


def gradients(data, params, t):
  """The recording's gradient at update ``t`` (0 first), in NumPy float32 as it was made."""
  return {
    k: data[f"a/{k}"] * (np.asarray(p) - data[f"target/{k}"]) + data[f"noise/{k}"][t]
    for k, p in params.items()
  }


def validation_loss(data, params):
  """The recording's loss: ``math.fsum`` is correctly rounded, so it is the script's double."""
  terms = []
  for k, p in params.items():
    d = np.asarray(p, np.float64) - (data[f"target/{k}"] + data[f"target_val/{k}"]).astype(
      np.float64
    )
    terms.extend(np.ravel(data[f"a_val/{k}"].astype(np.float64) * d * d).tolist())
  return math.fsum(terms)


@functools.cache
def stepper(opt):
  return scheduled_stepper(opt)


def run(opt, params, state, data, start, stop):
  """Updates ``start`` .. ``stop - 1`` under ``jax.jit``; with a plateau each is given the
  loss of the current params. Per update: the params, the moments and the rates it used."""
  history, _ = run_scheduled(
    opt,
    stepper(opt),
    params,
    state,
    range(start, stop),
    gradient=functools.partial(gradients, data),
    last_lr=get_last_lr,
    metric=functools.partial(validation_loss, data) if "loss" in data else None,
  )
  return history


def first_difference(history, data, start, prefix=""):
  """None, or where the run first leaves the recording (``prefix`` "restored_" or "fresh_":
  MindSpore's resumed run, whose rows start at the cut)."""
  for i, (params, mu, nu, rates) in enumerate(history):
    t = start + i
    row = i if prefix else t
    difference = first_bit_difference(np.array(rates, np.float32), data[f"{prefix}lr"][row])
    if difference:
      return f"update {t + 1}: rates {difference}"
    for key, got in (("param", params), ("m", mu), ("u", nu)):
      for name, value in got.items():
        want = data[f"{prefix}{key}/{name}"][row + 1 if key == "param" else row]
        difference = first_bit_difference(np.asarray(value), want)
        if difference:
          return f"update {t + 1}, {key} {name}: {difference}"
  return None


def resume(case, **changes):
  """The three lines a user writes: the entries' params, then the state from the file."""
  data, meta = recording(case)
  opt = optimizer(meta, **changes)
  path = checkpoint(meta)
  params = ms_ckpt.params_from_mindspore_checkpoint(
    ms_ckpt.load_checkpoint(path), template(data, meta)
  )
  keywords = ms_ckpt.from_mindspore_checkpoint_file(path, opt, params)
  return opt, params, keywords


@functools.cache
def resumed(case):
  opt, params, keywords = resume(case)
  return opt, params, load_state(opt, params, **keywords)


def test_the_recordings_change_the_rate_on_both_sides_of_the_cut():
  for case in CASES:
    data, meta = recording(case)
    changes = np.flatnonzero(np.any(np.diff(data["lr"], axis=0) != 0, axis=1)) + 1
    assert np.any(changes < meta["cut"]) and np.any(changes > meta["cut"]), (case, changes)
  data, meta = recording("plateau")
  epoch = meta["cut"] // meta["every"] - 1
  assert data["wait"][epoch] == 1  # a bad epoch pending at the cut


def test_the_file_holds_what_save_checkpoint_and_append_dict_wrote():
  _, meta = recording("plateau")
  entries = ms_ckpt.load_checkpoint(checkpoint(meta))
  assert {name: f"{v.dtype}{list(v.shape)}" for name, v in entries.items()} == meta["file_entries"]
  # save_checkpoint(optimizer) alone holds neither the rates nor the scheduler's Parameters.
  appended = {"epoch_num", "learning_rate_group_0", "learning_rate_group_1"}
  appended |= {"last_epoch_ReduceLROnPlateau", "best", "wait", "cooldown_counter"}
  assert set(entries) - appended == {
    *names(meta),
    "step_t",
    *(f"{m}.{k}" for m in ("exp_avg", "exp_inf") for k in names(meta)),
  }


@pytest.mark.parametrize("case", CASES)
def test_the_reader_takes_the_position_from_the_file(case):
  data, meta = recording(case)
  _, params, keywords = resume(case)
  cut, every = meta["cut"], meta["every"]
  assert keywords["step"] == cut
  if case == "steplr":
    assert keywords["plateau"] is None
  else:
    assert keywords["plateau"] == {
      "best": float(data["best"][cut // every - 1]),
      "num_bad_epochs": 1,
      "cooldown_counter": 0,
      "reductions": 6,  # the rate changed six times before the cut
    }
  for name, value in params.items():
    assert not first_bit_difference(value, data[f"param/{name}"][cut]), name


@pytest.mark.parametrize("case", CASES)
def test_resumed_from_mindspores_file_the_run_is_mindspores_bit_for_bit(case):
  data, meta = recording(case)
  opt, params, state = resumed(case)
  cut = meta["cut"]
  history = run(opt, params, state, data, cut, meta["steps"])
  assert (diff := first_difference(history, data, cut, "restored_")) is None, diff
  assert (diff := first_difference(history, data, cut)) is None, diff  # = the uncut run


def test_counting_the_saved_epochs_loss_again_leaves_mindspores_run():
  # The appended bookkeeping holds the loss after the cut already (one bad epoch). Reading it
  # again at the first update after the cut counts a bad epoch MindSpore never counted, and
  # the rate drops an epoch early: the tests above pass only because load_state does not.
  data, meta = recording("plateau")
  opt, params, state = resumed("plateau")
  cut, every = meta["cut"], meta["every"]
  counted_twice = state._replace(count=jnp.asarray(every, state.count.dtype))
  history = run(opt, params, counted_twice, data, cut, cut + 3 * every)
  difference = first_difference(history, data, cut, "restored_")
  assert difference.startswith(f"update {cut + 2 * every + 1}: rates"), difference


def test_mindspores_fresh_scheduler_restarts_and_a_plateau_restart_is_replayed():
  # A script that only calls load_param_into_net builds its scheduler afresh: StepLR's rates
  # go back to each group's lr while Adamax's step goes on, which lr_scheduler_start= the
  # file's step reproduces; a ReduceLROnPlateau starts again from best=inf and its groups'
  # lrs, which load_state's plateau= reproduces.
  data, meta = recording("steplr")
  initial = np.float32([group["lr"] for group in meta["groups"]])
  assert not first_bit_difference(data["fresh_lr"][0], initial)
  assert first_bit_difference(data["restored_lr"][0], initial)
  cut = meta["cut"]
  opt, params, keywords = resume("steplr", start=cut)
  assert keywords["step"] == cut and keywords["plateau"] is None
  history = run(opt, params, load_state(opt, params, **keywords), data, cut, meta["steps"])
  assert (diff := first_difference(history, data, cut, "fresh_")) is None, diff
  with pytest.raises(ValueError, match=f"resumes at step {cut}.*lr_scheduler_start={cut}"):
    resume("steplr", start=cut - 1)
  data, meta = recording("plateau")
  opt, params, keywords = resume("plateau")
  fresh = {"best": math.inf, "num_bad_epochs": 0, "cooldown_counter": 0, "reductions": 0}
  state = load_state(opt, params, **{**keywords, "plateau": fresh})
  cut = meta["cut"]
  history = run(opt, params, state, data, cut, cut + 6 * meta["every"])
  assert (diff := first_difference(history, data, cut, "fresh_")) is None, diff


def rewritten(tmp_path, case, **entries):
  """The case's file with ``entries`` replaced (None: removed), written as MindSpore does."""
  _, meta = recording(case)
  saved = ms_ckpt.load_checkpoint(checkpoint(meta))
  for key, value in entries.items():
    if value is None:
      del saved[key]
    else:
      saved[key] = value
  path = tmp_path / "changed.ckpt"
  ms_ckpt.save_checkpoint(saved, path)
  return path


def test_a_plain_save_checkpoint_file_continues_the_schedule_at_its_step(tmp_path):
  # Without the appended entries there is nothing to check; the state continues the schedule
  # where the uncut run (and MindSpore restoring them) was, not where MindSpore's fresh
  # scheduler restarts it.
  data, meta = recording("steplr")
  appended = ["epoch_num", "learning_rate_group_0", "learning_rate_group_1", "last_epoch_StepLR"]
  path = rewritten(tmp_path, "steplr", **dict.fromkeys(appended))
  opt = optimizer(meta)
  params = ms_ckpt.params_from_mindspore_checkpoint(
    ms_ckpt.load_checkpoint(path), template(data, meta)
  )
  keywords = ms_ckpt.from_mindspore_checkpoint_file(path, opt, params)
  assert keywords["plateau"] is None and keywords["step"] == meta["cut"]
  history = run(opt, params, load_state(opt, params, **keywords), data, meta["cut"], 130)
  assert (diff := first_difference(history, data, meta["cut"])) is None, diff


@pytest.mark.parametrize(
  ("case", "change", "message"),
  [
    (
      "steplr",
      {"groups": [{"params": ["w", "s"], "lr": 0.3, "weight_decay": 0.01}, {"params": ["b"]}]},
      r"rates \(learning_rate_group_<i>\) are \['0.018000001', '0.009000001'\] in the file, but "
      r"this optimizer's after 100 updates are \['0.027000003', '9.000001e-05'\] \(float32\)",
    ),
    (
      "steplr",
      {"scheduler": lr_scheduler.StepLR(step_size=41, gamma=0.5)},
      r"are \['0.018000001', '0.009000001'\] in the file, but .* are \['0.05', '0.025'\]",
    ),
    (
      "steplr",
      {"every": 2},
      r"StepLR was stepped 100 times \(its last_epoch\) in 100 updates, but this optimizer "
      r"steps it once per 2 updates \(50 times\).*lr_scheduler_every=1 fits",
    ),
    (
      "steplr",
      {"scheduler": lr_scheduler.ExponentialLR(gamma=0.3)},
      r"step count of another scheduler \(\['last_epoch_StepLR'\]\), but the optimizer's "
      r"lr_scheduler is a ExponentialLR",
    ),
    (
      "steplr",
      {"groups": [{"params": ["w", "s", "b"], "lr": 0.2}]},
      r"holds the rates of groups \[0, 1\] \(learning_rate_group_<i>\), but this optimizer has "
      r"1 group\(s\)",
    ),
    (
      "plateau",
      {"scheduler": lr_scheduler.ReduceLROnPlateau(factor=0.5, patience=3, cooldown=2)},
      r"rates \(learning_rate_group_<i>\) \['0.00014580003', '7.290002e-05'\] are not this "
      r"optimizer's after any number of reductions \(from \['0.2', '0.1'\]\)",
    ),
    (
      "plateau",
      {"every": 1},
      r"ReduceLROnPlateau was stepped 49 times .* in 196 updates.*lr_scheduler_every=4 fits",
    ),
  ],
)
def test_a_file_that_does_not_fit_the_optimizer_is_refused_naming_both(case, change, message):
  data, meta = recording(case)
  opt = optimizer(meta, **change)
  with pytest.raises(ValueError, match=message) as error:
    ms_ckpt.from_mindspore_checkpoint_file(checkpoint(meta), opt, template(data, meta))
  assert str(checkpoint(meta)) in str(error.value)


def test_a_plateau_file_without_its_bookkeeping_says_what_to_save(tmp_path):
  data, meta = recording("plateau")
  path = rewritten(tmp_path, "plateau", best=None, wait=None, cooldown_counter=None)
  with pytest.raises(ms_ckpt.CheckpointError, match=r"has no \['best', 'wait', 'cooldown_coun"):
    ms_ckpt.from_mindspore_checkpoint_file(path, optimizer(meta), template(data, meta))
  path = rewritten(tmp_path, "plateau", learning_rate_group_0=None, learning_rate_group_1=None)
  with pytest.raises(ValueError, match=r"append_dict=\{p.name: p for p in \[\*optimizer.lrs"):
    ms_ckpt.from_mindspore_checkpoint_file(path, optimizer(meta), template(data, meta))


def test_a_scheduler_in_the_file_but_not_in_the_optimizer_is_refused():
  data, meta = recording("steplr")
  opt = mindspore_adamax(lr=meta["optimizer_lr"], param_groups=meta["groups"])
  with pytest.raises(ValueError, match=r"step count \(\['last_epoch_StepLR'\]\), but the"):
    ms_ckpt.from_mindspore_checkpoint_file(checkpoint(meta), opt, template(data, meta))


def test_a_wrapped_optimizer_is_refused_with_what_to_pass_instead():
  data, meta = recording("steplr")
  chained = optax.chain(optax.identity(), optimizer(meta))
  with pytest.raises(TypeError, match=r"pass opt here and the chain to load_state"):
    ms_ckpt.from_mindspore_checkpoint_file(checkpoint(meta), chained, template(data, meta))


def test_the_entries_reader_checks_its_step():
  _, meta = recording("steplr")
  entries = ms_ckpt.load_checkpoint(checkpoint(meta))
  with pytest.raises(ValueError, match=r"step must be an int >= 0 \(the file's step_t\), got -1"):
    ms_ckpt.from_mindspore_scheduler_entries(entries, optimizer(meta), step=-1)
  assert ms_ckpt.from_mindspore_scheduler_entries(entries, optimizer(meta), step=100) is None
