"""A MindSpore training configuration carried over to JAX line by line.

The MindSpore original (``mindspore.experimental.optim``)::

    decay = [p for p in net.trainable_params() if "bias" not in p.name]
    no_decay = [p for p in net.trainable_params() if "bias" in p.name]
    optimizer = Adamax(
        [{"params": decay, "weight_decay": 1e-4},
         {"params": no_decay, "lr": 0.01}],
        lr=0.005, betas=(0.9, 0.999), eps=1e-8, maximize=True)
    scheduler = StepLR(optimizer, step_size=4, gamma=0.5)   # stepped once per epoch
    ...
    log_likelihood, grads = grad_fn(data, label)   # the objective is maximized
    optimizer(grads)

Here the same knobs keep MindSpore's names; parameters are named by their pytree path.
``StepLR`` scales every group's learning rate, so each group's rate becomes the same
staircase schedule of the step count, which ``mindspore_adamax`` calls with 0 first.
"""

from __future__ import annotations

import optax

import adamax_optax

if __package__:  # python -m examples.NAME
  from examples import _digits
else:  # python examples/NAME.py, which puts this folder on sys.path
  import _digits


def step_lr(base_lr: float, steps_per_epoch: int):
  """MindSpore's StepLR(step_size=4, gamma=0.5), stepped per epoch, as an optax schedule."""
  return optax.exponential_decay(
    base_lr, transition_steps=4 * steps_per_epoch, decay_rate=0.5, staircase=True
  )


def build_optimizer(steps_per_epoch: int):
  is_bias = lambda name, leaf: name.endswith("bias")
  return adamax_optax.mindspore_adamax(
    lr=step_lr(0.005, steps_per_epoch),
    betas=(0.9, 0.999),
    eps=1e-8,
    maximize=True,
    param_groups=[
      {"params": lambda name, leaf: not is_bias(name, leaf), "weight_decay": 1e-4},
      {"params": is_bias, "lr": step_lr(0.01, steps_per_epoch)},
    ],
  )


def main(epochs: int = 20) -> _digits.Run:
  """Trains ``epochs`` epochs; returns the first and last batch log-likelihood and the
  held-out accuracy."""
  log_likelihood = lambda params, x, y: -_digits.cross_entropies(params, x, y).mean()
  opt = build_optimizer(_digits.steps_per_epoch())
  return _digits.train(opt, log_likelihood, epochs, "port from mindspore", "log-likelihood")


if __name__ == "__main__":
  main()
