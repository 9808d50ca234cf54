"""Parameter names, groups and per-leaf lookups."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adamax_optax as ax
from adamax_optax import SparseRows
from adamax_optax.param_groups import frozen, group_labels, leaf_names, with_param_groups

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


def test_build_ungrouped_takes_the_parameters_in_no_group_and_all_without_groups():
  build = lambda settings: optax.scale(settings["factor"])
  ungrouped = lambda: optax.scale(5.0)
  groups = [{"params": ["dense/kernel"], "factor": 3.0}]
  opt = with_param_groups(build, {"factor": 1.0}, groups, lambda s: None, build_ungrouped=ungrouped)
  updates, _ = opt.update(PARAMS, opt.init(PARAMS))
  assert float(updates["dense"]["kernel"][0, 0]) == 3.0
  assert float(updates["dense"]["bias"][0]) == 5.0
  alone = with_param_groups(build, {"factor": 1.0}, None, lambda s: None, build_ungrouped=ungrouped)
  assert float(alone.update(PARAMS, alone.init(PARAMS))[0]["dense"]["kernel"][0, 0]) == 5.0


def test_frozen_ungrouped_parameters_get_zero_updates_and_no_state():
  build = lambda settings: optax.chain(optax.scale(settings["factor"]), optax.trace(0.9))
  groups = [{"params": ["dense/kernel"], "factor": 3.0}]
  opt = with_param_groups(build, {"factor": 1.0}, groups, lambda s: None, ungrouped="frozen")
  state = opt.init(PARAMS)
  updates, state = opt.update(PARAMS, state, PARAMS)
  assert float(updates["dense"]["kernel"][0, 0]) == 3.0
  assert not jnp.any(updates["dense"]["bias"]) and not jnp.any(updates["scale"][0])
  traces = [s for s in jax.tree.leaves(state) if s.ndim]
  assert sorted(t.shape for t in traces) == [(3, 2)]  # only the grouped kernel has a trace
  # Without groups nothing is "ungrouped": every parameter trains with the defaults.
  alone = with_param_groups(build, {"factor": 1.0}, None, lambda s: None, ungrouped="frozen")
  assert float(alone.update(PARAMS, alone.init(PARAMS))[0]["dense"]["bias"][0]) == 1.0


def test_frozen_keeps_sparse_rows_and_integer_parameters_in_their_types():
  grads = {
    "rows": SparseRows(jnp.array([0, 2]), jnp.ones((2, 3))),
    "step": np.zeros((), jax.dtypes.float0),
  }
  params = {"rows": jnp.ones((4, 3)), "step": jnp.array(7, jnp.int32)}
  updates, _ = frozen().update(grads, optax.EmptyState(), params)
  assert isinstance(updates["rows"], SparseRows)
  np.testing.assert_array_equal(updates["rows"].indices, [0, 2])
  assert not jnp.any(updates["rows"].values)
  assert updates["step"].dtype == jnp.int32 and int(updates["step"]) == 0


@pytest.mark.parametrize("value", ["freeze", None, True])
def test_ungrouped_must_be_train_or_frozen(value):
  with pytest.raises(ValueError, match=r"ungrouped must be 'train'.*or 'frozen'"):
    with_param_groups(lambda s: optax.identity(), {}, None, lambda s: None, ungrouped=value)


PRESETS_WITH_UNGROUPED = {  # name -> (factory, its group's learning-rate and decay keywords)
  "torch": (ax.torch_adamax, {"lr": 0.05, "weight_decay": 0.1}),
  "mindspore": (ax.mindspore_adamax, {"lr": 0.05, "weight_decay": 0.1}),
  "mindspore_nn": (ax.mindspore_nn_adamax, {"lr": 0.05, "weight_decay": 0.1}),
  "paddle": (ax.paddle_adamax, {"learning_rate": 2.0, "weight_decay": 0.1}),
}


@pytest.mark.parametrize("ungrouped", ["train", "frozen"])
@pytest.mark.parametrize("name", sorted(PRESETS_WITH_UNGROUPED))
def test_presets_freeze_or_train_the_parameters_in_no_group(name, ungrouped):
  """Frozen: the parameter in no group never moves; the grouped one takes the very bits
  it takes with no other parameter around. Train: it moves as with the constructor's
  values alone."""
  factory, group = PRESETS_WITH_UNGROUPED[name]
  rng = np.random.default_rng(3)
  params = {"w": jnp.asarray(rng.normal(size=(3, 4)), jnp.float32), "b": jnp.ones(4)}
  grads = [jax.tree.map(lambda p: jnp.asarray(rng.normal(size=p.shape), p.dtype), params)]
  grads = grads * 2 + [jax.tree.map(lambda p: 0.5 * p, params)]
  opt = factory(param_groups=[{"params": ["w"], **group}], ungrouped=ungrouped)
  got = run(opt, params, grads)
  want_w = run(factory(param_groups=[{"params": ["w"], **group}]), {"w": params["w"]}, grads)
  np.testing.assert_array_equal(got["w"], want_w["w"])
  if ungrouped == "frozen":
    np.testing.assert_array_equal(got["b"], params["b"])
  else:
    np.testing.assert_array_equal(got["b"], run(factory(), {"b": params["b"]}, grads)["b"])


def run(opt, params, grads):
  state = opt.init(params)

  @jax.jit
  def step(p, state, g):
    updates, state = opt.update({k: g[k] for k in p}, state, p)
    return optax.apply_updates(p, updates), state

  p = params
  for g in grads:
    p, state = step(p, state, g)
  return p
