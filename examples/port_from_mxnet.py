"""A Gluon training configuration carried over to JAX line by line.

The MXNet original (Gluon)::

    schedule = mx.lr_scheduler.FactorScheduler(step=200, factor=0.7, base_lr=0.004,
                                               warmup_steps=50, warmup_begin_lr=0.0005)
    trainer = gluon.Trainer(net.collect_params(), "adamax", {
        "learning_rate": 0.004, "wd": 1e-4, "rescale_grad": 1.0 / batch_size,
        "clip_gradient": 5.0, "lr_scheduler": schedule})
    net.collect_params(".*bias").setattr("wd_mult", 0.0)    # no decay on biases
    net.collect_params(".*output.*").setattr("lr_mult", 0.5)

Here the same knobs keep their MXNet names; parameters are named by their pytree path.
The gradient is a *sum* over the batch, as Gluon's ``loss.backward()`` produces, and
``rescale_grad`` turns it into the mean, exactly as in MXNet.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from sklearn.datasets import load_digits

import adamax_optax

BATCH_SIZE = 64


def build_optimizer(params):
  names = adamax_optax.param_groups.leaf_names(params)
  schedule = adamax_optax.FactorScheduler(
    step=200, factor=0.7, base_lr=0.004, warmup_steps=50, warmup_begin_lr=0.0005
  )
  return adamax_optax.mxnet_adamax(
    learning_rate=0.004,
    wd=1e-4,
    rescale_grad=1.0 / BATCH_SIZE,
    clip_gradient=5.0,
    lr_scheduler=schedule,
    wd_mult={name: 0.0 for name in names if name.endswith("bias")},
    lr_mult={name: 0.5 for name in names if name.startswith("output")},
  )


def main():
  digits = load_digits()
  x = jnp.asarray(digits.data / 16.0, jnp.float32)
  y = jnp.asarray(digits.target)
  keys = jax.random.split(jax.random.key(0), 2)
  params = {
    "hidden": {"weight": 0.1 * jax.random.normal(keys[0], (64, 64)), "bias": jnp.zeros(64)},
    "output": {"weight": 0.1 * jax.random.normal(keys[1], (64, 10)), "bias": jnp.zeros(10)},
  }
  opt = build_optimizer(params)
  state = opt.init(params)

  def forward(params, xb):
    hidden = jax.nn.relu(xb @ params["hidden"]["weight"] + params["hidden"]["bias"])
    return hidden @ params["output"]["weight"] + params["output"]["bias"]

  def summed_loss(params, xb, yb):
    return optax.softmax_cross_entropy_with_integer_labels(forward(params, xb), yb).sum()

  @jax.jit
  def step(params, state, xb, yb):
    loss, grads = jax.value_and_grad(summed_loss)(params, xb, yb)
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state, loss / BATCH_SIZE

  rng = np.random.default_rng(0)
  steps_per_epoch = len(x) // BATCH_SIZE
  for epoch in range(10):
    order = rng.permutation(len(x))
    for i in range(steps_per_epoch):
      batch = order[i * BATCH_SIZE : (i + 1) * BATCH_SIZE]
      params, state, loss = step(params, state, x[batch], y[batch])
    print(f"epoch {epoch}: last batch loss {float(loss):.4f}")
  accuracy = float(jnp.mean(jnp.argmax(forward(params, x), -1) == y))
  print(f"train accuracy {accuracy:.2%}")
  return accuracy


if __name__ == "__main__":
  main()
