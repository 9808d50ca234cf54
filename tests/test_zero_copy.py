"""A jitted step with params and state donated allocates no buffers beyond a few scalars.

``compiled.memory_analysis()`` is deterministic, so this is a test, not a benchmark: XLA
updates params, m and u in place and fuses each stage chain into the step.
"""

import jax
import jax.numpy as jnp
import optax
import pytest

import adamax_optax as ax

PRESETS = {
  "adamax": lambda: ax.adamax(1e-3, gradient_scale=0.5, clip_value=1.0, weight_decay=1e-4),
  "mxnet": lambda: ax.mxnet_adamax(wd=1e-4, clip_gradient=1.0, rescale_grad=0.5),
  "mxnet1": lambda: ax.mxnet1_adamax(wd=1e-4, clip_gradient=1.0),
  "mindspore": lambda: ax.mindspore_adamax(weight_decay=1e-4, maximize=True),
  "mindspore_nn": lambda: ax.mindspore_nn_adamax(weight_decay=1e-4, loss_scale=128.0),
  "torch": lambda: ax.torch_adamax(weight_decay=1e-4),
  "keras": lambda: ax.keras_adamax(weight_decay=1e-4),
  "paddle": lambda: ax.paddle_adamax(weight_decay=1e-4),
}
SCALARS = 1024  # bytes: a few scalars (step sizes, counts), never a leaf-sized buffer


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_donated_step_has_no_temporary_buffers(name):
  opt = PRESETS[name]()
  params = {"w": jnp.ones((512, 256)), "b": jnp.ones(256)}
  state = opt.init(params)

  def step(params, state, grads):
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  compiled = jax.jit(step, donate_argnums=(0, 1)).lower(params, state, params).compile()
  memory = compiled.memory_analysis()
  assert memory.temp_size_in_bytes <= SCALARS, memory
  leaf_bytes = 512 * 256 * 4
  assert memory.alias_size_in_bytes >= 3 * leaf_bytes  # params, m and u updated in place
