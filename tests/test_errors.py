"""Errors that say what to do: the mistakes a porting user makes first."""

import jax.numpy as jnp
import numpy as np
import optax
import pytest
from harness import PRESETS

import adamax_optax as ax


@pytest.mark.parametrize(
  "make, message",
  [
    (lambda: ax.torch_adamax(learning_rate=0.1), r"torch_adamax\(\) takes lr=, not learning_rate="),
    (lambda: ax.mindspore_adamax(learning_rate=0.1), r"takes lr=, not learning_rate="),
    (lambda: ax.keras_adamax(lr=0.1), r"keras_adamax\(\) takes learning_rate=, not lr="),
    (lambda: ax.keras_adamax(beta1=0.9), r"takes beta_1=, not beta1="),
    (lambda: ax.mxnet_adamax(lr=0.1), r"takes learning_rate=, not lr="),
    (lambda: ax.mxnet_adamax(weight_decay=0.1), r"takes wd=, not weight_decay="),
    (lambda: ax.paddle_adamax(lr=0.1), r"takes learning_rate=, not lr="),
    (lambda: ax.mindspore_nn_adamax(lr=0.1), r"takes learning_rate=, not lr="),
    (lambda: ax.adamax(lr=0.1), r"adamax\(\) takes learning_rate=, not lr="),
  ],
)
def test_another_frameworks_keyword_names_the_right_one(make, message):
  with pytest.raises(TypeError, match=message):
    make()


@pytest.mark.parametrize(
  "make",
  [lambda params: ax.keras_adamax(params), lambda params: ax.torch_adamax(lr=params)],
  ids=["keras_adamax(params)", "torch_adamax(lr=params)"],
)
def test_params_given_as_the_learning_rate_point_to_init(make):
  # torch_adamax(params) takes them as PyTorch's Adamax does (tests/test_framework_params.py);
  # where the learning rate gets them, the message says where they go.
  params = {"w": jnp.ones((64, 64)), "b": jnp.zeros(64)}
  with pytest.raises(TypeError, match=r"pass them to opt.init\(params\)") as error:
    make(params)
  assert len(str(error.value)) < 300  # the tree is not printed


def test_an_mxnet_schedule_given_as_learning_rate_points_to_lr_scheduler():
  with pytest.raises(TypeError, match="a schedule goes to lr_scheduler="):
    ax.mxnet_adamax(learning_rate=optax.cosine_decay_schedule(0.1, 10))


def test_betas_as_an_array_pair_are_accepted():
  params = jnp.ones(3)
  a, b = ax.torch_adamax(betas=jnp.array([0.8, 0.99])), ax.torch_adamax(betas=(0.8, 0.99))
  ua = a.update(jnp.ones(3), a.init(params), params)[0]
  ub = b.update(jnp.ones(3), b.init(params), params)[0]
  np.testing.assert_array_equal(ua, ub)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_params_passed_as_the_state_say_what_to_pass(name):
  factory, lr_name = PRESETS[name]
  opt = factory(**{lr_name: 0.01})
  params = {"w": jnp.ones(2)}
  with pytest.raises(ValueError, match=r"pass the state from opt.init\(params\)"):
    opt.update(params, params, params)
