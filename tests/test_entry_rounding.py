"""Every preset computes the same bits whatever optax stage precedes it.

Under one ``jax.jit`` XLA would contract an upstream multiply (``optax.scale``, a clip's
scaling, ``optax.MultiSteps``' mean) into the preset's first addition. The reference here
computes the upstream result in a jitted program of its own, so it reaches the preset
rounded, then runs the preset alone: the bits must be the same. The alias is included
with weight decay (a stage of its own before the Adamax step); without one it is
:func:`optax.adamax`, bits included, wherever it stands.
"""

import jax
import numpy as np
import optax
import pytest
from harness import PRESETS, assert_same_bits

import adamax_optax as ax

DECAY = {  # each preset's own weight-decay keyword, so its decay stage is in the chain
  "adamax": {"weight_decay": 0.1},
  "mxnet": {"wd": 0.1},
  "mxnet1": {"wd": 0.1},
  "mindspore": {"weight_decay": 0.1},
  "mindspore_nn": {"weight_decay": 0.1},
  "torch": {"weight_decay": 0.1},
  "keras": {"weight_decay": 0.1},
  "paddle": {"weight_decay": 0.1},
}
STEPS = 6

UPSTREAM = {  # name -> (the stage before the preset, MultiSteps' k or None)
  "scale": (lambda: optax.scale(1 / 3), None),
  "clip_by_global_norm": (lambda: optax.clip_by_global_norm(1.0), None),  # always clips here
  "multi_steps": (optax.identity, 3),
  "multi_steps_of_scale": (lambda: optax.scale(1 / 3), 2),
}


def preset(name):
  factory, lr_name = PRESETS[name]
  return factory(**{lr_name: 0.01}, **DECAY[name])


def problem():
  rng = np.random.default_rng(15)
  params = {
    "w": rng.normal(size=(8, 5)).astype(np.float32),
    "b": rng.normal(size=(5,)).astype(np.float32),
  }
  grads = [
    {k: (3 * rng.normal(size=v.shape)).astype(np.float32) for k, v in params.items()}
    for _ in range(STEPS)
  ]
  return params, grads


def jitted_step(opt):
  @jax.jit
  def step(params, state, grads):
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  return step


@pytest.mark.parametrize("upstream", sorted(UPSTREAM))
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_bits_do_not_depend_on_the_stage_before_it(name, upstream):
  make_upstream, k = UPSTREAM[upstream]
  params, grads = problem()
  chained = optax.chain(make_upstream(), preset(name))
  whole = optax.MultiSteps(chained, k) if k else chained
  whole_step = jitted_step(whole)
  whole_state = whole.init(params)
  whole_params = params

  # The reference: the upstream's output in its own program (MultiSteps of the upstream
  # alone emits the scaled mean at every k-th step, exactly: it multiplies it by 1),
  # then the preset on its own, at the steps where MultiSteps emits.
  alone = preset(name)
  up = optax.MultiSteps(make_upstream(), k) if k else make_upstream()
  up_update = jax.jit(up.update)
  up_state, ref_state, ref_params = up.init(params), alone.init(params), params
  ref_step = jitted_step(alone)
  for t, g in enumerate(grads, start=1):
    whole_params, whole_state = whole_step(whole_params, whole_state, g)
    entering, up_state = up_update(g, up_state, ref_params)
    if not k or t % k == 0:
      ref_params, ref_state = ref_step(ref_params, ref_state, jax.device_get(entering))
    assert_same_bits(whole_params, ref_params, f"{'param'} at step {t}")
    mu, nu, _ = ax.moments(whole_state)
    ref_mu, ref_nu, _ = ax.moments(ref_state)
    assert_same_bits(mu, ref_mu, f"{'m'} at step {t}")
    assert_same_bits(nu, ref_nu, f"{'u'} at step {t}")


@pytest.mark.parametrize("upstream", sorted(UPSTREAM))
def test_plain_alias_is_optax_adamax_wherever_it_stands(upstream):
  """With no stage of its own before the Adamax step the alias does not round its entry:
  it computes optax.adamax's bits after any upstream stage, contractions included."""
  make_upstream, k = UPSTREAM[upstream]
  params, grads = problem()
  runs = []
  for adamax in (ax.adamax(0.01), optax.adamax(0.01)):
    chained = optax.chain(make_upstream(), adamax)
    opt = optax.MultiSteps(chained, k) if k else chained
    step, state, p = jitted_step(opt), opt.init(params), params
    history = []
    for g in grads:
      p, state = step(p, state, g)
      history.append(p)
    runs.append(history)
  for t, (ours, theirs) in enumerate(zip(*runs, strict=True), start=1):
    assert_same_bits(ours, theirs, f"{'param'} at step {t}")
