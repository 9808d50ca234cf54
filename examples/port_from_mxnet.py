"""A Gluon training configuration carried over to JAX line by line.

The MXNet original (Gluon)::

    schedule = mx.lr_scheduler.FactorScheduler(step=200, factor=0.7, base_lr=0.004,
                                               warmup_steps=50, warmup_begin_lr=0.0005)
    trainer = gluon.Trainer(net.collect_params(), "adamax", {
        "learning_rate": 0.004, "wd": 1e-4, "rescale_grad": 1.0 / batch_size,
        "clip_gradient": 5.0, "lr_scheduler": schedule})
    net.collect_params(".*bias").setattr("wd_mult", 0.0)    # no decay on biases
    net.collect_params(".*output.*").setattr("lr_mult", 0.5)

Here the same knobs keep their MXNet names; parameters are named by their pytree path
(``hidden_0/kernel``, ..., ``output/bias``).
The gradient is a *sum* over the batch, as Gluon's ``loss.backward()`` produces, and
``rescale_grad`` turns it into the mean, exactly as in MXNet.
"""

from __future__ import annotations

import jax

import adamax_optax
from adamax_optax.mxnet.lr_scheduler import FactorScheduler

if __package__:  # python -m examples.NAME
  from examples import _digits
else:  # python examples/NAME.py, which puts this folder on sys.path
  import _digits


def build_optimizer(params):
  names = adamax_optax.param_groups.leaf_names(params)
  schedule = FactorScheduler(
    step=200, factor=0.7, base_lr=0.004, warmup_steps=50, warmup_begin_lr=0.0005
  )
  return adamax_optax.mxnet_adamax(
    learning_rate=0.004,
    wd=1e-4,
    rescale_grad=1.0 / _digits.BATCH_SIZE,
    clip_gradient=5.0,
    lr_scheduler=schedule,
    wd_mult={name: 0.0 for name in names if name.endswith("bias")},
    lr_mult={name: 0.5 for name in names if name.startswith("output")},
  )


def main(epochs: int = 20) -> _digits.Run:
  """Trains ``epochs`` epochs; returns the first and last batch loss and the held-out accuracy."""
  summed_loss = lambda params, x, y: _digits.cross_entropies(params, x, y).sum()  # backward()
  opt = build_optimizer(_digits.init_mlp(jax.random.key(0)))
  return _digits.train(opt, summed_loss, epochs, "port from mxnet", label="summed loss")


if __name__ == "__main__":
  main()
