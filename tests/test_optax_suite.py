"""optax's own test suite, run with our optimizers in place of ``optax.adamax``.

At test time the installed optax's shipped test modules (``_src/alias_test.py``,
``_src/transform_test.py``, ``_src/sharding_test.py`` and ``contrib/_common_test.py``)
are executed afresh, once per optimizer of ours, with that optimizer substituted where
the module looks ``adamax`` up (``alias.adamax``, ``transform.scale_by_adamax``, or
``optax.adamax`` while the sharding module builds its table). Every adamax case is kept
with optax's own assertions and tolerances; every other case is left out. Presets whose
keyword is ``lr`` are wrapped to take ``learning_rate``. Nothing of optax's is copied.

The sharding module skips its tests when ``jax.__version__ < '0.7.2'``, a string
comparison that is true for jax 0.10.2; it is given a version string that compares as
versions do, so the tests run. They need 8 devices, which optax gets by setting
``XLA_FLAGS`` before JAX starts; here JAX has long started, so they run in a process of
their own with 8 host devices (:func:`test_optax_sharding_suite_on_8_devices`).
"""

import contextlib
import functools
import importlib.util
import inspect
import os
import pathlib
import subprocess
import sys
import types

import optax
import pytest
import started_early
from harness import PRESETS
from optax._src import transform as optax_transform

import adamax_optax as ax

pytestmark = pytest.mark.slow  # optax's own suites, about 2.5 minutes

pytest.importorskip("absl.testing.parameterized")
pytest.importorskip("sklearn")
pytest.importorskip("scipy")

OPTAX_DIR = pathlib.Path(optax.__file__).parent


def taking_learning_rate(factory, keyword):
  """``factory`` with its learning rate under optax's keyword and annotation."""
  if keyword == "learning_rate":
    return factory

  def optimizer(*args, **kwargs) -> optax.GradientTransformation:
    bound = signature.bind(*args, **kwargs)
    arguments = dict(bound.arguments)
    arguments[keyword] = arguments.pop(
      "learning_rate", signature.parameters["learning_rate"].default
    )
    return factory(**arguments)

  # The preset's own signature with its rate renamed, as inject_hyperparams reads it.
  signature = inspect.signature(factory)
  signature = signature.replace(
    parameters=[
      p.replace(name="learning_rate", annotation=optax.ScalarOrSchedule) if p.name == keyword else p
      for p in signature.parameters.values()
    ]
  )
  optimizer.__signature__ = signature
  optimizer.__name__ = factory.__name__
  return optimizer


# What stands in for optax.adamax (and optax.adamaxw where we have one).
SUBSTITUTES = {
  name: {"adamax": taking_learning_rate(factory, keyword)}
  for name, (factory, keyword) in PRESETS.items()
}
# MXNet 1.x has no epsilon: at an exact optimum its faithful 0/0 is NaN (tested in its
# own suite); optax's convergence tests run it in its safe mode.
SUBSTITUTES["mxnet1"]["adamax"] = functools.partial(ax.mxnet1_adamax, safe=True)
SUBSTITUTES["adamax"]["adamaxw"] = ax.adamaxw
# Their 16-bit updates in the params' dtype (updates_in_param_dtype=True): every optax case
# passes, those of the documented exception below included.
for name in ("torch", "mindspore_nn"):
  factory, keyword = PRESETS[name]
  in_param_dtype = functools.partial(factory, updates_in_param_dtype=True)
  functools.update_wrapper(in_param_dtype, factory)
  SUBSTITUTES[f"{name}_param_dtype"] = {"adamax": taking_learning_rate(in_param_dtype, keyword)}


class Version(str):
  """A version string that compares as a version, not as text ('0.10.2' > '0.7.2')."""

  def _key(self, other):
    parse = lambda v: tuple(int(p) for p in str(v).split(".")[:3] if p.isdigit())
    return parse(self), parse(other)

  def __lt__(self, other):
    a, b = self._key(other)
    return a < b


def substituted(module, **overrides):
  """A stand-in for ``module`` whose attributes ``overrides`` replace."""
  stand_in = types.ModuleType(module.__name__)
  stand_in.__dict__.update(vars(module))
  stand_in.__dict__.update(overrides)
  return stand_in


@contextlib.contextmanager
def patched(obj, **attributes):
  saved = {name: getattr(obj, name) for name in attributes}
  for name, value in attributes.items():
    setattr(obj, name, value)
  try:
    yield
  finally:
    for name, value in saved.items():
      setattr(obj, name, value)


def execute(relative_path: str, module_name: str, during_import=contextlib.nullcontext):
  """optax's test module at ``relative_path``, executed afresh as ``module_name``."""
  spec = importlib.util.spec_from_file_location(module_name, OPTAX_DIR / relative_path)
  module = importlib.util.module_from_spec(spec)
  flags = os.environ.get("XLA_FLAGS")  # sharding_test sets it at import; keep ours
  try:
    with during_import():
      spec.loader.exec_module(module)
  finally:
    if flags is None:
      os.environ.pop("XLA_FLAGS", None)
    else:
      os.environ["XLA_FLAGS"] = flags
  return module


# The documented exceptions for 16-bit params. torch and mindspore_nn return float32
# updates, so that optax.apply_updates rounds the new weight once, as their frameworks do
# (PyTorch's addcdiv_, MindSpore's ApplyAdaMax): optax's checks of its convention that
# updates have the params' dtype must fail, and only there. paddle refuses 16-bit params,
# as Paddle's CPU kernel does: every 16-bit case must fail with that refusal.
FLOAT32_UPDATES_FOR_16BIT = {"torch", "mindspore_nn"}
REFUSES_16BIT = {"paddle"}


def expecting_the_documented_failure(method, is_the_expected_failure):
  """optax's case run as it is, passing only if it fails, each time (in any subtest
  too), by ``is_the_expected_failure(error)``: the documented exception, nothing else."""

  @functools.wraps(method)
  def case(self, *args, **kwargs):
    failures = []

    @contextlib.contextmanager
    def recording_subtest(*args, **kwargs):
      try:
        yield
      except Exception as error:
        failures.append(error)

    with patched(self, subTest=recording_subtest):
      try:
        method(self, *args, **kwargs)
      except Exception as error:
        failures.append(error)
    assert failures, "optax's case passed: the documented exception no longer holds"
    unexpected = [e for e in failures if not is_the_expected_failure(e)]
    assert not unexpected, unexpected

  return case


def is_the_16bit_refusal(error) -> bool:
  """paddle_adamax's early refusal of 16-bit params (Paddle's CPU kernel has none)."""
  return isinstance(error, TypeError) and "no float16 or bfloat16 kernel" in str(error)


def documented_16bit_exception(name: str):
  """For preset ``name``, a function of an optax case giving the check of its expected
  failure (see :data:`FLOAT32_UPDATES_FOR_16BIT`), or None for a case that must pass."""
  if name in REFUSES_16BIT:
    return lambda attribute, method: (
      is_the_16bit_refusal if "float16" in getattr(method, "__x_params_repr__", "") else None
    )
  if name in FLOAT32_UPDATES_FOR_16BIT:
    return float32_update_exception
  return lambda attribute, method: None


def refused_in_sharding_suite(attribute, method):
  """optax's sharding cases that build float16 params, for a preset refusing them."""
  return is_the_16bit_refusal if attribute.startswith("test_state_sharding_type") else None


def float32_update_exception(attribute, method):
  """The check of optax's case that float32 updates for 16-bit params fail, or None."""
  params = getattr(method, "__x_params_repr__", "")
  if attribute.startswith("test_preserve_dtype") and "bfloat16" in params:
    return lambda e: (
      isinstance(e, AssertionError) and "dtype('float32') != dtype(bfloat16)" in str(e)
    )
  if attribute.startswith("test_state_shape_dtype_shard_stability") and "float16" in params:
    # Its lax.cond pairs the update with the params, so their dtypes must agree.
    return lambda e: isinstance(e, TypeError) and "branches must have equal output types" in str(e)
  return None


def adamax_cases_only(test_class, name: str, selects, exception=lambda attribute, method: None):
  """A subclass of optax's ``test_class`` keeping the cases ``selects(method)`` picks;
  ``exception(attribute, method)`` gives a case's documented failure, if it has one."""
  kept = {}
  for attribute in dir(test_class):
    if attribute.startswith("test"):
      method = getattr(test_class, attribute)
      kept[attribute] = method if selects(attribute, method) else None
      expected = kept[attribute] and exception(attribute, method)
      if expected:
        kept[attribute] = expecting_the_documented_failure(method, expected)
  assert any(kept.values()), f"no adamax case found in {test_class.__name__}"
  return type(name, (test_class,), kept)


def by_params(*opt_names):
  wanted = tuple(f"opt_name='{n}'" for n in opt_names)
  return lambda attribute, method: any(
    w in getattr(method, "__x_params_repr__", "") for w in wanted
  )


def by_suffix(*opt_names):
  return lambda attribute, method: attribute.endswith(tuple(f"_{n}" for n in opt_names))


SHARDING_PROCESS = "ADAMAX_OPTAX_OPTAX_SHARDING_SUITE"  # set in the 8-device process


def build_suites(sharding: bool):
  """The adamax cases of optax's suites: the sharding ones, or all the others."""
  classes = {}
  for name, substitutes in SUBSTITUTES.items():
    names = tuple(substitutes)
    tag = "".join(part.title() for part in name.split("_"))
    if sharding:
      sharding_test = execute(
        "_src/sharding_test.py",
        f"optax_sharding_test_{name}",
        lambda substitutes=substitutes: patched(optax, **substitutes),
      )
      version = Version(sharding_test.jax.__version__)
      sharding_test.jax = substituted(sharding_test.jax, __version__=version)
      classes[f"TestOptaxShardingSuite{tag}"] = adamax_cases_only(
        sharding_test.ShardingTest,
        f"ShardingTest{tag}",
        by_suffix(*names),
        exception=refused_in_sharding_suite if name in REFUSES_16BIT else lambda a, m: None,
      )
      continue

    alias_test = execute("_src/alias_test.py", f"optax_alias_test_{name}")
    alias_test.alias = substituted(alias_test.alias, **substitutes)
    classes[f"TestOptaxAliasSuite{tag}"] = adamax_cases_only(
      alias_test.AliasTest,
      f"AliasTest{tag}",
      by_params(*names),
      exception=documented_16bit_exception(name),
    )

    common_test = execute("contrib/_common_test.py", f"optax_contrib_common_test_{name}")
    common_test.alias = substituted(common_test.alias, **substitutes)
    classes[f"TestOptaxContribSuite{tag}"] = adamax_cases_only(
      common_test.ContribTest,
      f"ContribTest{tag}",
      by_params(*names),
      exception=documented_16bit_exception(name),
    )

  if sharding:
    return classes
  transform_test = execute(  # its case table holds the function itself
    "_src/transform_test.py",
    "optax_transform_test_adamax",
    lambda: patched(optax_transform, scale_by_adamax=ax.scale_by_adamax),
  )
  classes["TestOptaxTransformSuite"] = adamax_cases_only(
    transform_test.TransformTest, "TransformTestAdamax", by_suffix("adamax")
  )
  return classes


globals().update(build_suites(sharding=os.environ.get(SHARDING_PROCESS) == "1"))


def the_sharding_suite_on_8_devices():
  environment = {
    **os.environ,
    SHARDING_PROCESS: "1",
    "XLA_FLAGS": "--xla_force_host_platform_device_count=8",
    "JAX_PLATFORMS": "cpu",
  }
  return subprocess.run(
    [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", __file__, "-k", "Sharding"],
    env=environment,
    capture_output=True,
    text=True,
    timeout=900,
  )


# (In that process the skip keeps it from starting another: started_early honours it.)
@pytest.mark.skipif(os.environ.get(SHARDING_PROCESS) == "1", reason="this is that process")
@started_early.mark(the_sharding_suite_on_8_devices)
def test_optax_sharding_suite_on_8_devices():
  run = started_early.outcome(the_sharding_suite_on_8_devices)
  summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
  assert run.returncode == 0 and " passed" in summary and "failed" not in summary, (
    run.stdout[-4000:] + run.stderr[-2000:]
  )
