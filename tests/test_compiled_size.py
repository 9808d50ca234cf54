"""The compiled step stays small: what XLA compiles per leaf, and once per step.

Compile time grows with the instructions of the compiled step, which these tests count
(deterministic, unlike timings; ``benchmarks/run.py`` times them). A scalar that every
leaf's loop reads, such as the double-float step size of MXNet and PyTorch, must be
computed once, not copied into each loop by XLA's fusion.
"""

import re

import jax
import jax.numpy as jnp
import optax
import pytest

import adamax_optax as ax

LR, CLIP, WD = 1e-3, 1.0, 1e-4
# A preset rounds the gradient it receives (a compare and a select, plus the fusion split
# it causes), so that no upstream multiply is contracted into its first add: measured
# 8 instructions a leaf for torch_adamax and 4 for mxnet_adamax. The alias, with no stage
# before its Adamax step, has none (optax's bits).
ENTRY_ROUNDING = {"adamax": 0, "torch_adamax": 8, "mxnet_adamax": 4}


def instructions(opt, leaves: int) -> int:
  params = {f"w{i}": jax.ShapeDtypeStruct((64, 16), jnp.float32) for i in range(leaves)}
  state = jax.eval_shape(opt.init, params)

  def step(params, state, grads):
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  text = jax.jit(step, donate_argnums=(0, 1)).lower(params, state, params).compile().as_text()
  return sum(1 for line in text.splitlines() if re.match(r"\s+(ROOT )?%\S+ = ", line))


def per_leaf_and_fixed(factory) -> tuple[float, float]:
  four, eight = instructions(factory(), 4), instructions(factory(), 8)
  per_leaf = (eight - four) / 4
  return per_leaf, four - 4 * per_leaf


@pytest.mark.parametrize(
  "name, ours, reference",
  [
    ("adamax", lambda: ax.adamax(LR), lambda: optax.adamax(LR)),
    (
      "torch_adamax",
      lambda: ax.torch_adamax(LR, weight_decay=WD),
      lambda: optax.chain(optax.add_decayed_weights(WD), optax.scale_by_adamax(), optax.scale(-LR)),
    ),
  ],
)
def test_no_more_per_leaf_than_optax(name, ours, reference):
  # No rounding barriers in the Adamax arithmetic of these two: what remains per leaf
  # beyond optax's is the rounding at the preset's entry.
  ours_per_leaf, _ = per_leaf_and_fixed(ours)
  reference_per_leaf, _ = per_leaf_and_fixed(reference)
  budget = reference_per_leaf + ENTRY_ROUNDING[name]
  assert ours_per_leaf <= budget, (name, ours_per_leaf, reference_per_leaf)


MXNET_CHAIN = lambda: optax.chain(
  optax.clip(CLIP), optax.add_decayed_weights(WD), optax.scale_by_adamax(), optax.scale(-LR)
)


@pytest.mark.parametrize(
  "name, factory, fixed_budget",
  [
    # A numeric b1: the double step size lr / (1 - b1**t) is read from a host table.
    ("numeric b1", lambda: ax.mxnet_adamax(LR, clip_gradient=CLIP, wd=WD), 100),
    # A traced b1 (inject_hyperparams): computed in float32 pairs, a loop over the 31
    # bits of t (not 62 unrolled multiplications), once per step.
    (
      "traced b1",
      lambda: optax.inject_hyperparams(ax.mxnet_adamax)(LR, clip_gradient=CLIP, wd=WD),
      1000,
    ),
  ],
)
def test_step_size_is_compiled_once_and_small(name, factory, fixed_budget):
  per_leaf, fixed = per_leaf_and_fixed(factory)
  assert fixed < fixed_budget, (name, fixed)
  if name == "numeric b1":  # (traced hyperparameters add conversions to every leaf)
    optax_per_leaf, _ = per_leaf_and_fixed(MXNET_CHAIN)
    # The rounding barriers that reproduce MXNet's separately rounded products cost a
    # compare and a select each, 12 instructions a leaf here, plus the rounding at the
    # preset's entry; the step size costs none.
    budget = optax_per_leaf + 12 + ENTRY_ROUNDING["mxnet_adamax"]
    assert per_leaf <= budget, (name, per_leaf, optax_per_leaf)


def traced_equations_per_leaf(opt) -> float:
  """Equations a leaf adds to the traced step, inside the preset's own ``jax.jit``."""

  def count(leaves):
    params = {f"w{i}": jax.ShapeDtypeStruct((64, 16), jnp.float32) for i in range(leaves)}
    state = jax.eval_shape(opt.init, params)
    jaxpr = jax.make_jaxpr(opt.update)(params, state, params).jaxpr
    while len(jaxpr.eqns) == 1 and "jaxpr" in jaxpr.eqns[0].params:  # the preset's jit
      jaxpr = jaxpr.eqns[0].params["jaxpr"].jaxpr
    return len(jaxpr.eqns)

  return (count(8) - count(4)) / 4


@pytest.mark.parametrize(
  "factory",
  [
    lambda: ax.torch_adamax(LR, weight_decay=WD),
    lambda: ax.mxnet_adamax(LR, clip_gradient=CLIP, wd=WD),
    lambda: ax.paddle_adamax(LR, weight_decay=WD),
    lambda: ax.mindspore_adamax(LR, weight_decay=WD),
  ],
)
def test_the_elementwise_rule_is_traced_once_per_leaf_shape(factory):
  # Tracing and lowering cost grows with the equations traced: the Adamax rule is a
  # nested jit traced once for all leaves of a shape, so a leaf adds a call to it (and
  # the other stages' few operations), not its dozens of operations; optax.adamax
  # traces its whole rule for every leaf.
  assert traced_equations_per_leaf(factory()) <= traced_equations_per_leaf(optax.adamax(LR))


def test_a_cycled_b1_compiles_one_lerp_a_leaf():
  # PyTorch's lerp starts from m or from g by |1 - b1| < 0.5. A traced b1 needs both
  # lerps and a select in every leaf; a cycled betas[0] (CyclicLR's default
  # cycle_momentum) is read from a host table, so the host picks the end when every
  # value picks the same one, and a leaf compiles as with a constant b1.
  from adamax_optax.torch.optim.lr_scheduler import CyclicLR

  def cyclic(**momentum):
    return ax.torch_adamax(LR, lr_scheduler=CyclicLR(base_lr=1e-3, max_lr=1e-2, **momentum))

  constant_per_leaf, _ = per_leaf_and_fixed(lambda: ax.torch_adamax(LR))
  assert per_leaf_and_fixed(cyclic)[0] == constant_per_leaf
  # A b1 crossing 0.5 takes either end, as PyTorch does: both lerps stay.
  crossing_per_leaf, _ = per_leaf_and_fixed(lambda: cyclic(base_momentum=0.3, max_momentum=0.9))
  assert crossing_per_leaf > constant_per_leaf


def test_a_plateau_rate_compiles_no_double_float_step_size():
  # The rate after k reductions is read from a host table, and so is its step size
  # lr_k / (1 - b1**t): the float32-pair power (a loop over the bits of t) and division
  # are not compiled.
  from adamax_optax.torch.optim.lr_scheduler import ReduceLROnPlateau

  opt = lambda: ax.torch_adamax(LR, lr_scheduler=ReduceLROnPlateau())
  params = {f"w{i}": jax.ShapeDtypeStruct((64, 16), jnp.float32) for i in range(4)}
  state = jax.eval_shape(opt().init, params)
  text = jax.jit(lambda s, g: opt().update(g, s, g, value=jnp.float32(1.0))).lower(state, params)
  assert "while" not in text.as_text()


@pytest.mark.parametrize("value", [True, False])
def test_computed_once_keeps_a_bool(value):
  from adamax_optax._rounding import computed_once

  assert jax.jit(computed_once)(jnp.asarray(value)).dtype == jnp.bool_
  assert bool(jax.jit(computed_once)(jnp.asarray(value))) is value


def test_a_plateau_compiles_its_metric_compare_once():
  # Whether the metric improved is read by each field of the plateau's state; XLA
  # copied its double-pair compare into each field's computation. Measured on 4 leaves:
  # 367 fixed instructions with ReduceLROnPlateau before, 192 with it computed once and
  # no remainder when the scheduler steps every update (34 with a constant rate).
  from adamax_optax.torch.optim.lr_scheduler import ReduceLROnPlateau

  opt = ax.torch_adamax(LR, lr_scheduler=ReduceLROnPlateau())
  params = {f"w{i}": jax.ShapeDtypeStruct((64, 16), jnp.float32) for i in range(4)}
  state = jax.eval_shape(opt.init, params)

  def step(params, state, grads):
    updates, state = opt.update(grads, state, params, value=jnp.float32(1.0))
    return optax.apply_updates(params, updates), state

  text = jax.jit(step, donate_argnums=(0, 1)).lower(params, state, params).compile().as_text()
  fixed = sum(1 for line in text.splitlines() if re.match(r"\s+(ROOT )?%\S+ = ", line))
  fixed -= 4 * per_leaf_and_fixed(lambda: ax.torch_adamax(LR))[0]
  assert fixed < 250, fixed
