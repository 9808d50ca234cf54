"""Haiku: ``hk.transform`` with PyTorch's Adamax (decay off for biases via a group).

python examples/haiku_mlp.py     (or: python -m examples.haiku_mlp)
"""

from __future__ import annotations

import haiku as hk
import jax
import optax

import adamax_optax

if __package__:  # python -m examples.NAME
  from examples import _digits
else:  # python examples/NAME.py, which puts this folder on sys.path
  import _digits


def forward(x):
  return hk.nets.MLP([64, 10])(x)


def main(steps: int = 400) -> _digits.Run:
  """Trains ``steps`` steps; returns the first and last batch loss and the held-out accuracy."""
  data = _digits.load_split()
  net = hk.without_apply_rng(hk.transform(forward))
  params = net.init(jax.random.key(0), data.x_train[:1])
  # Haiku names parameters "mlp/~/linear_0/w" and ".../b".
  opt = adamax_optax.torch_adamax(
    lr=3e-3,
    weight_decay=1e-4,
    param_groups=[{"params": lambda name, leaf: name.endswith("/b"), "weight_decay": 0.0}],
  )
  opt_state = opt.init(params)

  @jax.jit
  def step(params, opt_state, xb, yb):
    def loss_fn(params):
      return optax.softmax_cross_entropy_with_integer_labels(net.apply(params, xb), yb).mean()

    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = opt.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  losses = []
  for batch in _digits.batches(len(data.x_train), steps):
    params, opt_state, loss = step(params, opt_state, data.x_train[batch], data.y_train[batch])
    losses.append(loss)
  predict = lambda x: net.apply(params, x)
  test_accuracy = _digits.accuracy(predict, data.x_test, data.y_test)
  return _digits.report("haiku", [float(v) for v in losses], test_accuracy)


if __name__ == "__main__":
  main()
