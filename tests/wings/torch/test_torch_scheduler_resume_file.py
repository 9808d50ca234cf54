"""PyTorch runs resumed from the script's own checkpoint file, scheduler included, bit for bit.

Golden files (made by tests/golden/generate/torch/gen_plateau_resume.py, torch 2.13.0+cpu):
tests/golden/torch/plateau_resume.npz, a closed-loop run of ``torch.optim.Adamax`` (two
groups, a model whose parameter order is not its names' sorted order) with
``ReduceLROnPlateau(mode="min", factor=0.3, patience=3, cooldown=2, threshold=1e-3)``
stepped once per epoch of 4 updates with a validation loss, and
tests/golden/torch/checkpoints/plateau_resume_cut.pt, ``torch.save({"model", "optimizer",
"scheduler"})`` after update 196, the scheduler holding 3 bad epochs, which fresh PyTorch
objects loaded and continued for 200 updates. Reductions and cooldowns come before the cut
and after it.

From the file alone (two lines: the model's params, then ``load_state`` with the
keywords :func:`from_torch_checkpoint_file` reads) the preset must continue PyTorch's run,
its params, moments and rate after every update; the saved epoch's loss must not count
again; and a file that does not fit the optimizer must be refused, naming both.

Count-driven schedulers (tests/golden/generate/torch/gen_scheduler_resume.py: the same
model and gradient, 60 updates, the file saved after update 26): ``StepLR`` stepped once
per epoch of 4 updates (its ``last_epoch``, 6, is not the optimizer's step; the cut falls
mid-epoch) and ``MultiStepLR`` (milestones saved as a ``collections.Counter``) resume from
the step, the file's scheduler state checked against the optimizer's.
"""

import functools
import json
import math
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from harness import first_bit_difference, run_scheduled, scheduled_stepper

from adamax_optax import load_state
from adamax_optax.torch.checkpoint import (
  from_torch_checkpoint_file,
  from_torch_model_file,
  from_torch_optimizer_file,
  from_torch_scheduler_file,
  load,
  save,
)
from adamax_optax.torch.optim import Adamax, lr_scheduler
from adamax_optax.torch.optim.lr_scheduler import (
  MultiStepLR,
  ReduceLROnPlateau,
  StepLR,
  get_last_lr,
)

GOLDEN = pathlib.Path(__file__).parents[2] / "golden" / "torch"
CHECKPOINT = GOLDEN / "checkpoints" / "plateau_resume_cut.pt"
COUNT_DRIVEN = ["resume_steplr_per_epoch", "resume_multisteplr"]


@functools.cache
def _recording(name):
  with np.load(GOLDEN / f"{name}.npz") as data:  # read once: an npz decompresses at each access
    return {key: data[key] for key in data.files}


def recording(name="plateau_resume"):
  """The arrays (a copy of the dict, its arrays shared) and the meta (a fresh copy)."""
  data = dict(_recording(name))
  return data, json.loads(str(data["meta"]))


def template(meta):
  """Zero params, nested as a JAX model holds them: ``fc1/weight`` is PyTorch's ``fc1.weight``."""
  data, _ = recording(meta["case"])
  params = {}
  for name in meta["param_order"]:
    module, leaf = name.split(".")
    params.setdefault(module, {})[leaf] = np.zeros_like(data[f"param/{name}"][0])
  return params


def optimizer(meta, **changes):
  """The preset built as the script built its optimizer and scheduler."""
  groups = [
    {
      "params": [name.replace(".", "/") for name in group["params"]],
      "lr": group["lr"],
      "weight_decay": group["weight_decay"],
    }
    for group in meta["groups"]
  ]
  if "scheduler" not in changes:
    saved = meta["scheduler"]
    changes["scheduler"] = getattr(lr_scheduler, saved["class"])(**saved["kwargs"])
  scheduler = changes.pop("scheduler")
  every = changes.pop("every", meta["every"])
  return Adamax(groups, lr=meta["lr"], lr_scheduler=scheduler, lr_scheduler_every=every)


def flat(params):
  """PyTorch's dotted name -> array."""
  return {
    f"{module}.{leaf}": np.asarray(value)
    for module, leaves in params.items()
    for leaf, value in leaves.items()
  }


def gradients(data, params, t):
  """The recording's gradient at update ``t`` (0 first), in NumPy float32 as it was made."""
  grads = {}
  for name, p in flat(params).items():
    g = data[f"a/{name}"] * (p - data[f"target/{name}"]) + data[f"noise/{name}"][t]
    grads.setdefault(name.split(".")[0], {})[name.split(".")[1]] = g.astype(np.float32)
  return grads


def validation_loss(data, params):
  """The recording's loss: ``math.fsum`` is correctly rounded, so it is the script's double."""
  terms = []
  for name, p in flat(params).items():
    target = (data[f"target/{name}"] + data[f"target_val/{name}"]).astype(np.float64)
    d = p.astype(np.float64) - target
    terms.extend((data[f"a_val/{name}"].astype(np.float64) * d * d).ravel().tolist())
  return math.fsum(terms)


_STEPS = {}


def stepper(opt):
  """One jitted update of ``opt`` (compiled once per optimizer in this module)."""
  if id(opt) not in _STEPS:
    _STEPS[id(opt)] = (opt, scheduled_stepper(opt))
  return _STEPS[id(opt)][1]


def run(opt, params, state, data, start, stop):
  """Updates ``start`` .. ``stop - 1`` under ``jax.jit``; with a plateau each is given
  the loss of the current params. Returns, per update, the params, the moments and the
  rates it used (by PyTorch's dotted names), and the last state."""
  history, state = run_scheduled(
    opt,
    stepper(opt),
    params,
    state,
    range(start, stop),
    gradient=functools.partial(gradients, data),
    last_lr=get_last_lr,
    metric=functools.partial(validation_loss, data) if "loss" in data else None,
  )
  return [(flat(p), flat(mu), flat(nu), rates) for p, mu, nu, rates in history], state


def first_difference(history, data, start, prefix=""):
  """None, or where the run first leaves the recording (``prefix`` "resumed_": its
  resumed part, from update ``start``)."""
  offset = 0 if prefix else start
  for i, (params, mu, nu, rates) in enumerate(history):
    t = start + i
    want = data[f"{prefix}lr"][t - start if prefix else t].tolist()
    if rates != want:
      return f"update {t + 1}: rates {rates} != {want}"
    for key, got in (("param", params), ("exp_avg", mu), ("exp_inf", nu)):
      for name, value in got.items():
        if f"{prefix}{key}/{name}" not in data:  # moments: recorded with the plateau only
          continue
        row = i + offset + (1 if key == "param" and not prefix else 0)
        difference = first_bit_difference(value, data[f"{prefix}{key}/{name}"][row])
        if difference:
          return f"update {t + 1}, {key} {name}: {difference}"
  return None


@pytest.fixture(scope="module")
def resumed():
  """The two lines a user writes, the params, then the state, from the file (once: the
  state takes a few seconds to build)."""
  _, meta = recording()
  opt = optimizer(meta)
  params = from_torch_model_file(CHECKPOINT, template(meta))
  state = load_state(opt, params, **from_torch_checkpoint_file(CHECKPOINT, opt, params))
  return opt, params, state


def test_the_recording_has_reductions_and_cooldown_on_both_sides_of_the_cut():
  data, meta = recording()
  cut, epoch = meta["cut"], meta["every"]
  changes = np.flatnonzero(np.any(np.diff(data["lr"], axis=0) != 0, axis=1)) + 1
  assert np.any(changes < cut) and np.any(changes > cut), changes
  cooling = (np.flatnonzero(data["cooldown_counter"] > 0) + 1) * epoch
  assert np.any(cooling < cut) and np.any(cooling > cut), cooling
  assert data["num_bad_epochs"][cut // epoch - 1] == 3  # bad epochs pending at the cut


def test_the_reader_takes_the_bookkeeping_from_the_file():
  data, meta = recording()
  opt = optimizer(meta)
  params = from_torch_model_file(CHECKPOINT, template(meta))
  keywords = from_torch_checkpoint_file(CHECKPOINT, opt, params)
  cut, epoch = meta["cut"], meta["every"]
  assert keywords["step"] == cut
  assert keywords["plateau"] == {
    "best": data["best"][cut // epoch - 1],
    "num_bad_epochs": 3,
    "cooldown_counter": 0,
    "reductions": 2,  # the rate changed twice before the cut
  }
  for name, value in flat(params).items():
    assert not first_bit_difference(value, data[f"param/{name}"][cut]), name


def test_resumed_from_pytorchs_file_the_run_is_pytorchs_bit_for_bit(resumed):
  data, meta = recording()
  opt, params, state = resumed
  cut = meta["cut"]
  history, _ = run(opt, params, state, data, cut, meta["steps"])
  assert (diff := first_difference(history, data, cut, "resumed_")) is None, diff
  assert (diff := first_difference(history, data, cut)) is None, diff  # = the uncut run


def test_the_uncut_run_is_pytorchs():
  data, meta = recording()
  opt = optimizer(meta)
  params = template(meta)
  for name in meta["param_order"]:
    module, leaf = name.split(".")
    params[module][leaf] = jnp.asarray(data[f"param/{name}"][0])
  history, _ = run(opt, params, opt.init(params), data, 0, meta["steps"])
  assert (diff := first_difference(history, data, 0)) is None, diff


def test_counting_the_saved_epochs_loss_again_leaves_pytorchs_run(resumed):
  # The file's bookkeeping already holds the loss after update 196. Reading it once more at
  # the first update after the cut makes a fourth bad epoch, so a reduction PyTorch never
  # made: the test above passes only because the reader and load_state do not.
  data, meta = recording()
  opt, params, state = resumed
  cut = meta["cut"]
  counted_twice = state._replace(count=jnp.asarray(meta["every"], state.count.dtype))
  history, _ = run(opt, params, counted_twice, data, cut, cut + 1)
  assert history[0][3] != data["lr"][cut].tolist()
  assert first_difference(history, data, cut).startswith(f"update {cut + 1}: rates")


def test_the_parts_read_from_the_dict_layout_and_from_bare_files(tmp_path):
  _, meta = recording()
  opt = optimizer(meta)
  tree = load(CHECKPOINT)
  save(tree["scheduler"], tmp_path / "scheduler.pt")
  save(tree["optimizer"], tmp_path / "optimizer.pt")
  params = from_torch_model_file(CHECKPOINT, template(meta))
  mu, nu, step = from_torch_optimizer_file(CHECKPOINT, params, order=opt.param_order)
  alone = from_torch_optimizer_file(tmp_path / "optimizer.pt", params, order=opt.param_order)
  assert step == alone[2] == meta["cut"]
  for a, b in zip(jax.tree.leaves((mu, nu)), jax.tree.leaves(alone[:2]), strict=True):
    assert not first_bit_difference(a, b)
  from_file = from_torch_checkpoint_file(CHECKPOINT, opt, params)["plateau"]
  assert from_torch_scheduler_file(tmp_path / "scheduler.pt", opt, step=step) == from_file
  assert from_torch_scheduler_file(CHECKPOINT, opt, step=step) == from_file


def test_entries_under_other_names_are_read_with_entry_and_a_missing_one_is_named(tmp_path):
  _, meta = recording()
  opt = optimizer(meta)
  tree = load(CHECKPOINT)
  renamed = {"net": tree["model"], "opt": tree["optimizer"], "sched": tree["scheduler"]}
  save(renamed, tmp_path / "renamed.pt")
  params = from_torch_model_file(tmp_path / "renamed.pt", template(meta), entry="net")
  mu, nu, step = from_torch_optimizer_file(
    tmp_path / "renamed.pt", params, order=opt.param_order, entry="opt"
  )
  plateau = from_torch_scheduler_file(tmp_path / "renamed.pt", opt, step=step, entry="sched")
  keywords = from_torch_checkpoint_file(CHECKPOINT, opt, params)
  assert (step, plateau) == (keywords["step"], keywords["plateau"])
  for got, want in zip(
    jax.tree.leaves((mu, nu)), jax.tree.leaves((keywords["mu"], keywords["nu"])), strict=True
  ):
    assert not first_bit_difference(got, want)
  with pytest.raises(ValueError, match=r"has no entry 'model' \(entry=\); it holds \['net'"):
    from_torch_model_file(tmp_path / "renamed.pt", template(meta), entry="model")


def test_a_file_without_a_scheduler_state_is_refused_by_the_scheduler_reader():
  _, meta = recording()
  model_only = GOLDEN / "checkpoints" / "adamax_model.pt"
  with pytest.raises(ValueError, match=r"is not a scheduler's state_dict: it has no '_last_lr'"):
    from_torch_scheduler_file(model_only, optimizer(meta), step=meta["cut"])


def a_steplr_state(saved):
  """What ``StepLR(optimizer, step_size=3).state_dict()`` holds (PyTorch 2.13's keys)."""
  return {
    "step_size": 3,
    "gamma": 0.1,
    "base_lrs": [0.1, 0.05],
    "last_epoch": saved["last_epoch"],
    "_step_count": saved["last_epoch"] + 1,
    "_is_initial": False,
    "_get_lr_called_within_step": False,
    "_last_lr": saved["_last_lr"],
  }


def rewritten(tmp_path, **entries):
  tree = load(CHECKPOINT)
  for key, value in entries.items():
    if value is None:
      del tree[key]
    else:
      tree[key] = value
  save(tree, tmp_path / "changed.pt")
  return tmp_path / "changed.pt"


@pytest.mark.parametrize(
  ("case", "message"),
  [
    ("no scheduler", r"holds no scheduler state_dict .*ReduceLROnPlateau needs"),
    ("another scheduler", r"holds the state of a StepLR, but the optimizer's lr_scheduler is a "),
    ("another mode", r"mode='min' in the file, 'max' here"),
    ("another patience", r"patience=3 in the file, 5 here"),
    ("another cadence", r"stepped 49 times .* in 196 updates.*lr_scheduler_every=4 fits"),
    ("other rates", r"not this optimizer's after any number of reductions"),
    ("a count-driven scheduler", r"holds the state of a ReduceLROnPlateau, .* is a StepLR"),
  ],
)
def test_a_file_that_does_not_fit_the_optimizer_is_refused_naming_both(tmp_path, case, message):
  _, meta = recording()
  kwargs = dict(meta["scheduler"]["kwargs"])
  path, opt = CHECKPOINT, None
  if case == "no scheduler":
    path = rewritten(tmp_path, scheduler=None)
  elif case == "another scheduler":
    path = rewritten(tmp_path, scheduler=a_steplr_state(load(CHECKPOINT)["scheduler"]))
  elif case == "another mode":
    opt = optimizer(meta, scheduler=ReduceLROnPlateau(**{**kwargs, "mode": "max"}))
  elif case == "another patience":
    opt = optimizer(meta, scheduler=ReduceLROnPlateau(**{**kwargs, "patience": 5}))
  elif case == "another cadence":
    opt = optimizer(meta, every=1)
  elif case == "other rates":
    meta["groups"][1]["lr"] = 0.03
  elif case == "a count-driven scheduler":
    opt = optimizer(meta, scheduler=StepLR(step_size=3))
  opt = optimizer(meta) if opt is None else opt
  params = from_torch_model_file(CHECKPOINT, template(meta))
  with pytest.raises(ValueError, match=message) as error:
    from_torch_checkpoint_file(path, opt, params)
  assert str(path) in str(error.value)


def test_a_chain_is_refused_with_what_to_pass_instead():
  _, meta = recording()
  opt = optimizer(meta)
  params = from_torch_model_file(CHECKPOINT, template(meta))
  with pytest.raises(TypeError, match=r"pass opt here and the chain to load_state"):
    from_torch_checkpoint_file(CHECKPOINT, optax.chain(optax.identity(), opt), params)


# --- Count-driven schedulers ------------------------------------------------------------


@pytest.mark.parametrize("name", COUNT_DRIVEN)
def test_a_count_driven_scheduler_resumes_from_the_step_bit_for_bit(name):
  data, meta = recording(name)
  opt = optimizer(meta)
  path = GOLDEN / meta["checkpoint"]["file"]
  params = from_torch_model_file(path, template(meta))
  keywords = from_torch_checkpoint_file(path, opt, params)
  assert keywords["step"] == meta["cut"] and keywords["plateau"] is None
  state = load_state(opt, params, **keywords)
  history, _ = run(opt, params, state, data, meta["cut"], meta["steps"])
  assert (diff := first_difference(history, data, meta["cut"])) is None, diff
  changes = np.flatnonzero(np.any(np.diff(data["lr"], axis=0) != 0, axis=1)) + 1
  assert np.any(changes > meta["cut"]), "the rate changes after the cut"


@pytest.mark.parametrize(
  ("name", "change", "message"),
  [
    (
      "resume_steplr_per_epoch",
      {"every": 1},
      r"StepLR was stepped 6 times \(its last_epoch\) in 26 updates.*lr_scheduler_every=4 fits",
    ),
    ("resume_steplr_per_epoch", {"scheduler": StepLR(step_size=4, gamma=0.5)}, "step_size=3"),
    (
      "resume_steplr_per_epoch",
      {"scheduler": StepLR(step_size=3, gamma=0.5, last_epoch=5)},
      "StepLR is built with last_epoch=5, as a script rebuilds one without that state",
    ),
    (
      "resume_multisteplr",
      {"scheduler": MultiStepLR(milestones=[10, 20, 40], gamma=0.5)},
      r"milestones=\[10, 20, 20, 40\] in the file, \[10, 20, 40\] here",
    ),
    ("resume_multisteplr", {"lr": 0.2}, r"rates \(_last_lr\) are \[0.0125, 0.00625\]"),
    (
      "resume_multisteplr",
      {"scheduler": ReduceLROnPlateau()},
      "holds the state of a MultiStepLR, but the optimizer's lr_scheduler is a ReduceLROnPlateau",
    ),
  ],
)
def test_a_count_driven_scheduler_that_does_not_fit_is_refused(name, change, message):
  _, meta = recording(name)
  if "lr" in change:
    meta["groups"][0]["lr"] = change.pop("lr")
  opt = optimizer(meta, **change)
  path = GOLDEN / meta["checkpoint"]["file"]
  params = from_torch_model_file(path, template(meta))
  with pytest.raises(ValueError, match=message):
    from_torch_checkpoint_file(path, opt, params)
