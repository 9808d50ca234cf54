"""The constructors shaped like the frameworks' and the frameworks' parameter order
(issue 24, items 1 and 2): parameters handed to the optimizer as the framework takes
them, and global norms summed in the framework's order instead of a dict's sorted keys.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adamax_optax as ax
from adamax_optax import clipping
from adamax_optax.keras.optimizers import Adamax as KerasAdamax
from adamax_optax.mindspore import nn as ms_nn
from adamax_optax.mindspore import ops as ms_ops
from adamax_optax.mindspore.experimental.optim import Adamax as MindSporeAdamax
from adamax_optax.mxnet.gluon.utils import clip_global_norm
from adamax_optax.paddle.nn import ClipGradByGlobalNorm
from adamax_optax.paddle.optimizer import Adamax as PaddleAdamax
from adamax_optax.param_groups import ordered_leaf_names, read_framework_params
from adamax_optax.torch import checkpoint as torch_checkpoint
from adamax_optax.torch.nn.utils import clip_grad_norm_, get_total_norm
from adamax_optax.torch.optim import Adamax as TorchAdamax

# A model whose parameter order is not its names' sorted order: fc1 was built first,
# and every module registers its weight before its bias.
MODEL_ORDER = ["fc1.weight", "fc1.bias", "fc0.weight", "fc0.bias"]
SHAPES = {"fc1.weight": (3, 5), "fc1.bias": (3,), "fc0.weight": (5, 4), "fc0.bias": (5,)}


def model_params(seed: int) -> dict:
  """The parameters in model order (a dict keeps it); the magnitudes vary by powers of
  ten so that the order of the sum shows in the last bit."""
  rng = np.random.default_rng(seed)
  return {
    name: jnp.asarray(rng.standard_normal(SHAPES[name]).astype(np.float32))
    * 10.0 ** int(rng.integers(-2, 3))
    for name in MODEL_ORDER
  }


def assert_trees_equal(a, b):
  jax.tree.map(np.testing.assert_array_equal, a, b)


def one_update(opt, params, grads):
  return opt.update(grads, opt.init(params), params)[0]


# --- item 2: the constructors, exactly as the issue writes them -------------------


def test_torch_adamax_takes_params_first():
  params = model_params(0)
  opt = ax.torch.optim.Adamax(params, lr=1e-3)
  assert isinstance(opt, optax.GradientTransformation)
  assert opt.param_order == tuple(MODEL_ORDER)
  grads = model_params(1)
  expected = one_update(ax.torch_adamax(lr=1e-3), params, grads)
  assert_trees_equal(one_update(opt, params, grads), expected)


def test_mindspore_adamax_takes_params_first():
  params = model_params(0)
  opt = MindSporeAdamax(params, lr=2e-3)
  assert opt.param_order == tuple(MODEL_ORDER)
  grads = model_params(1)
  assert_trees_equal(
    one_update(opt, params, grads), one_update(ax.mindspore_adamax(lr=2e-3), params, grads)
  )


def test_mindspore_nn_adamax_takes_params_first():
  params = {**model_params(0), "bn.gamma": jnp.ones(3)}
  opt = ms_nn.AdaMax(params, learning_rate=1e-2, weight_decay=0.1)
  assert opt.param_order == (*MODEL_ORDER, "bn.gamma")
  grads = jax.tree.map(jnp.ones_like, params)
  expected = one_update(ax.mindspore_nn_adamax(learning_rate=1e-2, weight_decay=0.1), params, grads)
  assert_trees_equal(one_update(opt, params, grads), expected)


def test_paddle_adamax_takes_parameters_as_a_keyword():
  params = model_params(0)
  opt = PaddleAdamax(learning_rate=1e-3, parameters=params)
  assert opt.param_order == tuple(MODEL_ORDER)
  grads = model_params(1)
  expected = one_update(ax.paddle_adamax(learning_rate=1e-3), params, grads)
  assert_trees_equal(one_update(opt, params, grads), expected)


def test_the_old_calls_still_mean_the_learning_rate():
  params, grads = {"w": jnp.ones(3)}, {"w": jnp.full(3, 0.5)}
  assert ax.torch_adamax(0.01).param_order is None
  assert_trees_equal(
    one_update(ax.torch_adamax(0.01, (0.8, 0.9)), params, grads),
    one_update(ax.torch_adamax(lr=0.01, betas=(0.8, 0.9)), params, grads),
  )
  # MindSpore's per-step list of learning rates is a learning rate, not parameters.
  assert_trees_equal(
    one_update(ms_nn.AdaMax([0.1, 0.05]), params, grads),
    one_update(ms_nn.AdaMax(learning_rate=[0.1, 0.05]), params, grads),
  )
  # The parameters first, then PyTorch's positional order: lr, betas.
  assert_trees_equal(
    one_update(TorchAdamax(params, 0.01, (0.8, 0.9)), params, grads),
    one_update(ax.torch_adamax(lr=0.01, betas=(0.8, 0.9)), params, grads),
  )


def test_groups_whose_params_are_subtrees_pairs_or_names():
  params = model_params(0)
  weights = {name: params[name] for name in MODEL_ORDER if name.endswith("weight")}
  biases = [(name, params[name]) for name in MODEL_ORDER if name.endswith("bias")]
  opt = TorchAdamax(
    [{"params": weights, "weight_decay": 0.1}, {"params": biases, "weight_decay": 0.0}], lr=1e-3
  )
  assert opt.param_order == ("fc1.weight", "fc0.weight", "fc1.bias", "fc0.bias")
  by_names = ax.torch_adamax(
    lr=1e-3,
    param_groups=[
      {"params": list(weights), "weight_decay": 0.1},
      {"params": [name for name, _ in biases], "weight_decay": 0.0},
    ],
  )
  grads = model_params(1)
  assert_trees_equal(one_update(opt, params, grads), one_update(by_names, params, grads))
  # The decay reaches the weights only: the groups took effect.
  plain = one_update(ax.torch_adamax(lr=1e-3), params, grads)
  assert not np.array_equal(one_update(opt, params, grads)["fc1.weight"], plain["fc1.weight"])
  np.testing.assert_array_equal(one_update(opt, params, grads)["fc1.bias"], plain["fc1.bias"])


def test_pairs_and_iterators_keep_their_order():
  params = model_params(0)
  pairs = [(name, params[name]) for name in MODEL_ORDER]
  assert TorchAdamax(pairs, lr=1e-3).param_order == tuple(MODEL_ORDER)
  assert TorchAdamax(iter(pairs), lr=1e-3).param_order == tuple(MODEL_ORDER)
  opt = TorchAdamax(pairs, lr=1e-3)
  grads = model_params(1)
  assert_trees_equal(
    one_update(opt, dict(pairs), grads), one_update(ax.torch_adamax(lr=1e-3), params, grads)
  )


def test_nested_dicts_give_their_paths_in_insertion_order():
  params = {"fc1": {"weight": jnp.ones(2), "bias": jnp.ones(1)}, "fc0": {"kernel": jnp.ones(3)}}
  assert ordered_leaf_names(params) == ["fc1/weight", "fc1/bias", "fc0/kernel"]
  assert MindSporeAdamax(params, lr=1e-3).param_order == ("fc1/weight", "fc1/bias", "fc0/kernel")


def test_mindspore_order_params_is_the_order():
  opt = ms_nn.AdaMax(
    [{"params": ["w"]}, {"params": ["b"], "lr": 0.01}, {"order_params": ["b", "w"]}],
    learning_rate=0.02,
  )
  assert opt.param_order == ("b", "w")


@pytest.mark.parametrize(
  "make, message",
  [
    (lambda p: TorchAdamax(p, param_groups=[{"params": ["w"]}]), "pass the groups once"),
    (lambda p: TorchAdamax(p, params=p), "got the parameters twice"),
    (lambda p: TorchAdamax([], lr=1e-3), "params is an empty parameter list"),
    (lambda p: PaddleAdamax(parameters=[]), "parameters is an empty parameter list"),
    (lambda p: TorchAdamax([{"params": []}], lr=1e-3), r"params\[0\]\['params'\] holds no"),
  ],
)
def test_parameters_given_wrongly_are_named(make, message):
  with pytest.raises((TypeError, ValueError), match=message):
    make({"w": jnp.ones(2)})


# --- item 1: the framework's order in every global norm ----------------------------

WING_CLIPS = {
  "torch clip_grad_norm_": (lambda order: clip_grad_norm_(1.0, param_order=order), 7),
  "mindspore clip_by_global_norm": (
    lambda order: ms_ops.clip_by_global_norm(1.0, param_order=order),
    7,
  ),
  "paddle ClipGradByGlobalNorm": (lambda order: ClipGradByGlobalNorm(1.0, param_order=order), 10),
  "mxnet clip_global_norm": (lambda order: clip_global_norm(1.0, param_order=order), 7),
  "core clip_by_global_norm (Keras's scaling)": (
    lambda order: clipping.clip_by_global_norm(1.0, scaling="keras_global", param_order=order),
    7,
  ),
}


@pytest.mark.parametrize("name", sorted(WING_CLIPS))
def test_a_global_norm_clip_sums_in_param_order(name):
  make, seed = WING_CLIPS[name]
  grads = model_params(seed)
  in_model_order = [grads[n] for n in MODEL_ORDER]  # a list keeps the order it is given
  clip = make(MODEL_ORDER)
  expected = jax.jit(make(None).update)(in_model_order, optax.EmptyState())[0]
  clipped = jax.jit(clip.update)(grads, optax.EmptyState())[0]
  assert_trees_equal([clipped[n] for n in MODEL_ORDER], expected)
  # The data are chosen so that the sorted keys' order gives other bits.
  sorted_order = jax.jit(make(None).update)(grads, optax.EmptyState())[0]
  assert any(not np.array_equal(sorted_order[n], clipped[n]) for n in MODEL_ORDER), (
    "the data no longer show the order; pick another seed"
  )


def test_torch_total_norm_in_param_order_is_the_listed_norm():
  grads = model_params(7)
  listed = get_total_norm([grads[n] for n in MODEL_ORDER])
  assert get_total_norm(grads, param_order=MODEL_ORDER) == listed
  assert get_total_norm(grads) != listed  # 5.6618237 against 5.661824
  # The parameters themselves in model order, and the optimizer's order, say the same.
  pairs = [(n, grads[n]) for n in MODEL_ORDER]
  assert get_total_norm(grads, param_order=pairs) == listed
  assert get_total_norm(grads, param_order=TorchAdamax(pairs).param_order) == listed


def test_keras_global_clipnorm_takes_param_order():
  params, grads = model_params(0), model_params(7)
  in_order = KerasAdamax(1e-3, global_clipnorm=1.0, param_order=MODEL_ORDER)
  assert in_order.param_order == tuple(MODEL_ORDER)
  listed = KerasAdamax(1e-3, global_clipnorm=1.0)
  expected = one_update(listed, [params[n] for n in MODEL_ORDER], [grads[n] for n in MODEL_ORDER])
  updates = one_update(in_order, params, grads)
  assert_trees_equal([updates[n] for n in MODEL_ORDER], expected)
  assert not all(
    np.array_equal(a, b)
    for a, b in zip(
      jax.tree.leaves(one_update(listed, params, grads)), jax.tree.leaves(updates), strict=True
    )
  )


def test_paddle_grad_clip_takes_the_optimizers_order():
  params, grads = model_params(0), model_params(10)
  opt = PaddleAdamax(learning_rate=1e-3, parameters=params, grad_clip=ClipGradByGlobalNorm(1.0))
  explicit = ax.paddle_adamax(
    learning_rate=1e-3, grad_clip=ClipGradByGlobalNorm(1.0, param_order=MODEL_ORDER)
  )
  sorted_keys = ax.paddle_adamax(learning_rate=1e-3, grad_clip=ClipGradByGlobalNorm(1.0))
  assert_trees_equal(one_update(opt, params, grads), one_update(explicit, params, grads))
  assert not all(
    np.array_equal(a, b)
    for a, b in zip(
      jax.tree.leaves(one_update(opt, params, grads)),
      jax.tree.leaves(one_update(sorted_keys, params, grads)),
      strict=True,
    )
  )


def test_param_order_must_name_every_parameter():
  grads = model_params(0)
  with pytest.raises(ValueError, match=r"param_order leaves out the parameters \['fc0.bias'\]"):
    clip_grad_norm_(1.0, param_order=MODEL_ORDER[:3]).update(grads, optax.EmptyState())
  with pytest.raises(ValueError, match=r"lists \['fc1.bias'\] more than once"):
    clip_grad_norm_(1.0, param_order=[*MODEL_ORDER, "fc1.bias"])
  with pytest.raises(TypeError, match="param_order must be the parameter names"):
    clip_grad_norm_(1.0, param_order="fc1.weight")


def test_a_per_group_clip_passes_over_other_groups_names():
  grads = model_params(7)
  group = {n: grads[n] for n in ("fc1.bias", "fc0.bias")}
  listed = get_total_norm([grads["fc1.bias"], grads["fc0.bias"]])
  assert get_total_norm(group, param_order=MODEL_ORDER) == listed


def test_the_optimizers_order_maps_pytorch_checkpoint_indices():
  params = model_params(0)
  opt = TorchAdamax(
    [
      {"params": [n for n in MODEL_ORDER if n.endswith("weight")], "weight_decay": 0.1},
      {"params": [n for n in MODEL_ORDER if n.endswith("bias")]},
    ],
    lr=1e-3,
  )
  mu = jax.tree.map(lambda x: x * 2, params)
  state_dict = torch_checkpoint.to_torch_state_dict(mu, params, 3, order=opt.param_order)
  # PyTorch numbers the parameters through the groups: the weights are 0 and 1.
  np.testing.assert_array_equal(state_dict["state"][1]["exp_avg"], mu["fc0.weight"])
  read_mu, _, step = torch_checkpoint.from_torch_state_dict(
    state_dict, params, order=opt.param_order
  )
  assert_trees_equal(read_mu, mu)
  assert step == 3


def test_read_framework_params_keeps_other_group_keys():
  read = read_framework_params([{"params": ["a"], "lr": 0.1}, {"order_params": ["a"]}])
  assert read.param_groups == [{"params": ["a"], "lr": 0.1}, {"order_params": ["a"]}]
  assert read.order == ("a",)


def test_paddle_groups_clip_each_group_in_the_optimizers_order():
  params, grads = model_params(0), model_params(10)
  weights = [n for n in MODEL_ORDER if n.endswith("weight")]
  biases = [n for n in MODEL_ORDER if n.endswith("bias")]
  opt = PaddleAdamax(
    learning_rate=1e-3,
    parameters=[
      {"params": {n: params[n] for n in weights}},
      {"params": biases, "weight_decay": 0.1},
    ],
    grad_clip=ClipGradByGlobalNorm(1.0),
  )
  assert opt.param_order == (*weights, *biases)
  explicit = ax.paddle_adamax(
    learning_rate=1e-3,
    param_groups=[{"params": weights}, {"params": biases, "weight_decay": 0.1}],
    grad_clip=ClipGradByGlobalNorm(1.0, param_order=[*weights, *biases]),
  )
  assert_trees_equal(one_update(opt, params, grads), one_update(explicit, params, grads))
