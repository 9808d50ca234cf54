"""The one preset pipeline (adamax_optax._preset.assemble), checked across the presets."""

import inspect

import jax.numpy as jnp
import pytest

import adamax_optax as ax
from adamax_optax._preset import COMMON_KEYWORDS
from adamax_optax.mindspore.experimental.optim import lr_scheduler as ms_lr
from adamax_optax.paddle.optimizer import lr as paddle_lr
from adamax_optax.schedules import PlateauState
from adamax_optax.torch.optim import lr_scheduler as torch_lr

EVERY = 2  # updates per scheduler step: a skipped update must still count

# Every preset that takes a plateau scheduler, with one that reduces at every bad metric.
PLATEAU_PRESETS = {
  "torch": lambda skip: ax.torch_adamax(
    lr=0.1,
    lr_scheduler=torch_lr.ReduceLROnPlateau(factor=0.5, patience=0),
    lr_scheduler_every=EVERY,
    skip_nonfinite=skip,
  ),
  "mindspore": lambda skip: ax.mindspore_adamax(
    lr=0.1,
    lr_scheduler=ms_lr.ReduceLROnPlateau(factor=0.5, patience=0),
    lr_scheduler_every=EVERY,
    skip_nonfinite=skip,
  ),
  "paddle": lambda skip: ax.paddle_adamax(
    learning_rate=paddle_lr.ReduceOnPlateau(0.1, factor=0.5, patience=0),
    lr_scheduler_every=EVERY,
    skip_nonfinite=skip,
  ),
}


def _run(opt, nonfinite_at):
  params = {"w": jnp.ones(3, jnp.float32)}
  state = opt.init(params)
  trajectory = []
  for t in range(9):
    grad = jnp.full(3, jnp.nan if t in nonfinite_at else 0.25, jnp.float32)
    metric = float(t)  # worse every time: a reduction at every scheduler step
    updates, state = opt.update({"w": grad}, state, params, value=metric)
    trajectory.append((updates["w"], state))
  return trajectory


@pytest.mark.parametrize("name", sorted(PLATEAU_PRESETS))
def test_a_skipped_step_still_counts_for_the_plateau_scheduler(name):
  """skip_nonfinite sits inside the plateau for every preset: a non-finite step keeps the
  params and moments, but the scheduler counts it and reads the metric at a due update,
  as a PyTorch loop calls scheduler.step(metric) after a GradScaler-skipped step."""
  nonfinite_at = {2, 3, 6}  # 2 and 6 are due updates (multiples of EVERY)
  skipping = _run(PLATEAU_PRESETS[name](True), nonfinite_at)
  finite = _run(PLATEAU_PRESETS[name](False), set())
  for t, ((updates, state), (_, reference)) in enumerate(zip(skipping, finite, strict=True)):
    assert isinstance(state, PlateauState), t
    assert isinstance(state.inner, ax.SkipNonfiniteState), t
    assert int(state.count) == int(reference.count) == t + 1
    assert int(state.reductions) == int(reference.reductions), t
    assert int(state.inner.skipped) == len([s for s in nonfinite_at if s <= t])
    if t in nonfinite_at:
      assert not jnp.any(updates), t
  assert int(skipping[-1][1].reductions) >= 2


@pytest.mark.parametrize(
  "factory",
  [
    ax.torch_adamax,
    ax.mindspore_adamax,
    ax.mindspore_nn_adamax,
    ax.paddle_adamax,
    ax.mxnet_adamax,
    ax.keras_adamax,
  ],
)
def test_the_common_keyword_docs_are_in_every_preset_help(factory):
  doc = inspect.getdoc(factory)
  assert "{COMMON_KEYWORDS}" not in doc
  for line in COMMON_KEYWORDS.splitlines():
    assert line.strip() in doc
  assert doc.index("mu_dtype:") < doc.index("nu_dtype:") < doc.index("skip_nonfinite:")


@pytest.mark.parametrize(
  ("changes", "message"),
  [
    ({"lr_scheduler_start": -1}, r"lr_scheduler_start must be an int >= 0, got -1"),
    ({"lr_scheduler_start": 1.5}, r"lr_scheduler_start must be an int >= 0, got 1.5"),
    (
      {"lr_scheduler": ms_lr.ReduceLROnPlateau(), "lr_scheduler_start": 10},
      r"lr_scheduler_start=10 delays a count-driven lr_scheduler, but the optimizer has a "
      r"metric-driven one.*load_state\(plateau=\.\.\.\)",
    ),
    (
      {"lr_scheduler": None, "lr_scheduler_start": 10},
      r"but the optimizer has none",
    ),
  ],
)
def test_lr_scheduler_start_is_checked(changes, message):
  keywords = {"lr": 0.01, "lr_scheduler": ms_lr.StepLR(step_size=3), **changes}
  with pytest.raises(ValueError, match=message):
    ax.mindspore_adamax(**keywords)


def test_a_scheduler_built_at_a_later_update_starts_there():
  params = {"w": jnp.ones(2)}
  opt = ax.mindspore_adamax(lr=0.1, lr_scheduler=ms_lr.StepLR(step_size=2, gamma=0.5))
  later = ax.mindspore_adamax(
    lr=0.1, lr_scheduler=ms_lr.StepLR(step_size=2, gamma=0.5), lr_scheduler_start=7
  )
  assert later.rates_at(7) == opt.rates_at(0) and later.rates_at(11) == opt.rates_at(4)
  assert later.rates_at(0) == opt.rates_at(0) and later.lr_scheduler_start == 7
  zeros = {"w": jnp.zeros(2)}
  state = ax.load_state(later, params, mu=zeros, nu=zeros, step=9)
  before = ax.load_state(opt, params, mu=zeros, nu=zeros, step=2)
  assert ms_lr.get_last_lr(later, state) == ms_lr.get_last_lr(opt, before)
