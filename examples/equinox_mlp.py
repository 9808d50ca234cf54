"""Equinox: ``eqx.filter_jit`` with Keras's Adamax; the model holds non-array leaves
(activation functions, sizes), which ``eqx.filter`` keeps out of the optimizer.

    python examples/equinox_mlp.py     (or: python -m examples.equinox_mlp)
"""

from __future__ import annotations

import equinox as eqx
import jax
import optax

import adamax_optax

if __package__:  # python -m examples.NAME
  from examples import _digits
else:  # python examples/NAME.py, which puts this folder on sys.path
  import _digits


def main(steps: int = 400) -> _digits.Run:
  """Trains ``steps`` steps; returns the first and last batch loss and the held-out accuracy."""
  data = _digits.load_split()
  model = eqx.nn.MLP(64, 10, width_size=64, depth=1, activation=jax.nn.relu, key=jax.random.key(0))
  opt = adamax_optax.keras_adamax(learning_rate=3e-3, weight_decay=1e-4)
  opt_state = opt.init(eqx.filter(model, eqx.is_inexact_array))

  @eqx.filter_jit
  def step(model, opt_state, xb, yb):
    def loss_fn(model):
      return optax.softmax_cross_entropy_with_integer_labels(jax.vmap(model)(xb), yb).mean()

    loss, grads = eqx.filter_value_and_grad(loss_fn)(model)
    params = eqx.filter(model, eqx.is_inexact_array)
    updates, opt_state = opt.update(grads, opt_state, params)
    return eqx.apply_updates(model, updates), opt_state, loss

  losses = []
  for batch in _digits.batches(len(data.x_train), steps):
    model, opt_state, loss = step(model, opt_state, data.x_train[batch], data.y_train[batch])
    losses.append(loss)
  test_accuracy = _digits.accuracy(jax.vmap(model), data.x_test, data.y_test)
  return _digits.report("equinox", [float(v) for v in losses], test_accuracy)


if __name__ == "__main__":
  main()
