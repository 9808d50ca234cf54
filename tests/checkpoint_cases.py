"""Optimizers and a deterministic training loop shared by the checkpoint test and the
process that resumes from its checkpoint."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

import adamax_optax as ax
from adamax_optax.mxnet.lr_scheduler import FactorScheduler


def build(preset: str):
  """(optimizer, initial params) for a preset, with schedules and groups switched on."""
  rng = np.random.default_rng(0)
  params = {"w": rng.normal(size=(4, 3)).astype(np.float32), "b": np.zeros(3, np.float32)}
  if preset == "mxnet_multi_precision":
    params = {k: v.astype(np.float16) for k, v in params.items()}
    opt = ax.mxnet_adamax(
      learning_rate=0.01,
      lr_scheduler=FactorScheduler(step=3, factor=0.5),
      wd=1e-3,
      lr_mult={"b": 2.0},
      multi_precision=True,
    )
  elif preset == "mindspore":
    opt = ax.mindspore_adamax(
      lr=optax.exponential_decay(0.01, 4, 0.5),
      weight_decay=1e-3,
      maximize=False,
      param_groups=[{"params": ["b"], "lr": 0.02}],
    )
  elif preset == "torch_scheduled":  # exact per-group schedules with cycled betas[0]
    opt = ax.torch_adamax(
      lr=0.01,
      weight_decay=1e-3,
      param_groups=[{"params": ["w"]}, {"params": ["b"], "lr": 0.02}],
      lr_scheduler=ax.torch.optim.lr_scheduler.OneCycleLR(
        max_lr=[0.05, 0.02], total_steps=10, horizon=10
      ),
    )
  elif preset == "mindspore_nn":
    opt = ax.mindspore_nn_adamax(learning_rate=[0.01, 0.008, 0.004], weight_decay=1e-3)
  else:
    raise ValueError(preset)
  return opt, {k: jnp.asarray(v) for k, v in params.items()}


def gradient(params, t):
  """A fixed gradient for step t, the same in every process."""
  return {
    k: (jnp.sin(v.astype(jnp.float32) * (t + 1)) + 0.1 * t).astype(v.dtype)
    for k, v in params.items()
  }


def train(opt, params, state, first: int, last: int):
  @jax.jit
  def step(params, state, t):
    updates, state = opt.update(gradient(params, t), state, params)
    return optax.apply_updates(params, updates), state

  for t in range(first, last):
    params, state = step(params, state, t)
  return params, state
