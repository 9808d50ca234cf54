"""Parameter names, groups and per-leaf lookups."""

import jax.numpy as jnp
import optax
import pytest

from adamax_optax.param_groups import group_labels, leaf_names, with_param_groups

PARAMS = {"dense": {"kernel": jnp.ones((3, 2)), "bias": jnp.ones(2)}, "scale": [jnp.ones(1)]}


def test_leaf_names_join_the_pytree_path():
  assert leaf_names(PARAMS) == ["dense/bias", "dense/kernel", "scale/0"]


def test_labels_by_name_by_callable_and_single_string():
  groups = [
    {"params": "scale/0"},
    {"params": lambda name, leaf: leaf.ndim == 2},
  ]
  assert group_labels(groups)(PARAMS) == [-1, 1, 0]


def test_each_group_gets_its_settings_and_the_rest_the_defaults():
  built = []

  def build(settings):
    built.append(settings)
    return optax.scale(settings["factor"])

  opt = with_param_groups(
    build, {"factor": 1.0}, [{"params": ["dense/kernel"], "factor": 3.0}], lambda s: None
  )
  updates, _ = opt.update(PARAMS, opt.init(PARAMS))
  assert float(updates["dense"]["kernel"][0, 0]) == 3.0
  assert float(updates["dense"]["bias"][0]) == 1.0
  assert {"factor": 3.0} in built and {"factor": 1.0} in built


@pytest.mark.parametrize(
  ("groups", "error", "match"),
  [
    ({"params": ["a"]}, TypeError, "must be a list of dicts"),
    (["a"], TypeError, r"param_groups\[0\] must be a dict"),
    ([{"factor": 2.0}], ValueError, r"param_groups\[0\] has no 'params'"),
    ([{"params": [1, 2]}], TypeError, "list of parameter names or a callable"),
    ([{"params": ["a"], "lr": 1.0}], ValueError, r"unknown keys \['lr'\]; allowed"),
  ],
)
def test_malformed_groups(groups, error, match):
  with pytest.raises(error, match=match):
    with_param_groups(lambda s: optax.identity(), {"factor": 1.0}, groups, lambda s: None)


def test_check_errors_name_the_group():
  def check(settings):
    if settings.get("factor", 1.0) < 0:
      raise ValueError("factor must be >= 0")

  with pytest.raises(ValueError, match=r"param_groups\[1\]: factor must be >= 0"):
    with_param_groups(
      lambda s: optax.identity(),
      {"factor": 1.0},
      [{"params": ["a"]}, {"params": ["b"], "factor": -1.0}],
      check,
    )
