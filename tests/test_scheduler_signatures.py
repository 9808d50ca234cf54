"""Every scheduler of every wing shows all its keywords: ``inspect.signature`` and ``help``
list each argument by name (no ``**kwargs`` or ``*args`` hiding one), and the annotations
resolve with ``typing.get_type_hints``."""

import inspect
import typing

import pytest

from adamax_optax.keras.optimizers import schedules as keras_schedules
from adamax_optax.mindspore.experimental.optim import lr_scheduler as mindspore_schedulers
from adamax_optax.mindspore.nn import dynamic_lr, learning_rate_schedule
from adamax_optax.mxnet import lr_scheduler as mxnet_schedulers
from adamax_optax.paddle.optimizer import lr as paddle_schedulers
from adamax_optax.torch.optim import lr_scheduler as torch_schedulers

WING_MODULES = (
  torch_schedulers,
  mindspore_schedulers,
  paddle_schedulers,
  mxnet_schedulers,
  keras_schedules,
  learning_rate_schedule,
  dynamic_lr,
)


def public_schedulers():
  """``(qualified name, class or function)`` for every public class and function a wing
  module defines (its schedulers, their bases, MindSpore's dynamic_lr lists)."""
  found = []
  for module in WING_MODULES:
    for name, value in vars(module).items():
      defined_here = getattr(value, "__module__", None) == module.__name__
      if name.startswith("_") or not defined_here:
        continue
      if inspect.isclass(value) or inspect.isfunction(value):
        found.append((f"{module.__name__}.{name}", value))
  return found


SCHEDULERS = public_schedulers()


def test_every_wing_has_schedulers():
  modules = {name.rsplit(".", 1)[0] for name, _ in SCHEDULERS}
  assert modules == {module.__name__ for module in WING_MODULES}
  assert len(SCHEDULERS) >= 50


@pytest.mark.parametrize(("name", "scheduler"), SCHEDULERS, ids=[n for n, _ in SCHEDULERS])
def test_signature_shows_every_keyword(name, scheduler):
  hidden = [
    parameter.name
    for parameter in inspect.signature(scheduler).parameters.values()
    if parameter.kind in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
  ]
  assert hidden == [], f"{name} hides arguments behind {hidden}"


@pytest.mark.parametrize(("name", "scheduler"), SCHEDULERS, ids=[n for n, _ in SCHEDULERS])
def test_annotations_resolve(name, scheduler):
  function = scheduler.__init__ if inspect.isclass(scheduler) else scheduler
  if function is object.__init__:
    return
  hints = typing.get_type_hints(function)
  annotated = {
    parameter.name
    for parameter in inspect.signature(function).parameters.values()
    if parameter.annotation is not inspect.Parameter.empty
  }
  assert annotated <= set(hints), name


def test_mindspore_keywords_are_visible():
  parameters = inspect.signature(mindspore_schedulers.StepLR).parameters
  assert parameters["initial_lr"].kind is inspect.Parameter.KEYWORD_ONLY
  assert parameters["horizon"].kind is inspect.Parameter.KEYWORD_ONLY
  schedule = mindspore_schedulers.StepLR(step_size=2, gamma=0.5, initial_lr=0.1, horizon=8)
  assert float(schedule(2)) == pytest.approx(0.05)
