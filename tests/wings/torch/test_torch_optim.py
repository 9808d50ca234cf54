"""torch_adamax: golden trajectories, NumPy replays, PyTorch's validation messages.

With the optional ``torch`` extra installed, it is also compared with the real
``torch.optim.Adamax`` on cases no golden file covers.
"""

import json

import golden_data
import jax
import jax.numpy as jnp
import numpy as np
import numpy_reference as ref
import optax
import pytest
from harness import assert_bitwise, extreme_gradients, random_problem, replay_numpy, replay_ours

from adamax_optax import torch_adamax


@pytest.mark.parametrize("name", golden_data.golden_names("torch"))
def test_golden_trajectories_bit_for_bit(name):
  want = golden_data.trajectory(name)
  kwargs = {k: v for k, v in want.meta["kwargs"].items() if k != "foreach"}
  got = golden_data.replay(torch_adamax(**kwargs), golden_data.case_of(name, "torch"))
  assert golden_data.compare(got, want) == len(golden_data.KEYS)


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.3, 0.5)])
def test_extreme_gradients_match_replay(betas):
  params = {"w": np.array([1.0, -1.0, 0.5, 2.0, 0.0, -3.0, 1e-3, 7.0], np.float32)}
  grads = extreme_gradients()
  kwargs = dict(lr=0.01, weight_decay=0.1, betas=betas)
  want = replay_numpy(ref.torch_step, params, grads, w=kwargs)
  assert_bitwise(replay_ours(torch_adamax(**kwargs), params, grads), want)


def test_maximize_with_weight_decay_and_groups_match_replay():
  params, grads = random_problem(0, ("conv/kernel", "conv/bias", "head"))
  opt = torch_adamax(
    lr=0.01,
    weight_decay=0.05,
    maximize=True,
    param_groups=[
      {"params": ["conv/bias"], "lr": 0.1, "weight_decay": 0.0, "betas": (0.8, 0.99)},
      {"params": lambda name, leaf: name == "head", "eps": 1e-3, "maximize": False},
    ],
  )
  base = dict(lr=0.01, weight_decay=0.05, maximize=True)
  per_key = {
    "conv/kernel": base,
    "conv/bias": dict(base, lr=0.1, weight_decay=0.0, betas=(0.8, 0.99)),
    "head": dict(base, eps=1e-3, maximize=False),
  }
  want = replay_numpy(
    lambda w, g, m, u, t, **kw: ref.torch_step(w, g, m, u, t, **kw), params, grads, **per_key
  )
  assert_bitwise(replay_ours(opt, params, grads), want)


def _complex_replay(params, grads, **kwargs):
  """PyTorch's view_as_real: the real and imaginary parts as separate real tensors."""
  parts = {}
  for part in ("real", "imag"):
    p = {k: getattr(v, part).copy() for k, v in params.items()}
    gs = [{k: getattr(v, part).copy() for k, v in g.items()} for g in grads]
    parts[part] = replay_numpy(ref.torch_step, p, gs, **{k: kwargs for k in params})
  return {k: (parts["real"][k] + 1j * parts["imag"][k]).astype(np.complex64) for k in params}


def test_complex_parameters_are_pairs_of_reals():
  rng = np.random.default_rng(1)
  params = {"z": (rng.normal(size=6) + 1j * rng.normal(size=6)).astype(np.complex64)}
  grads = [
    {"z": (rng.normal(size=6) + 1j * rng.normal(size=6)).astype(np.complex64)} for _ in range(8)
  ]
  assert_bitwise(
    replay_ours(torch_adamax(lr=0.01), params, grads), _complex_replay(params, grads, lr=0.01)
  )


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.25, 0.9)])
def test_float16_follows_pytorchs_float32_opmath(betas):
  params, grads = random_problem(2, ("a", "b"), dtype=np.float16)
  kwargs = dict(betas=betas, weight_decay=0.01)
  want = replay_numpy(
    ref.torch_step, params, grads, **{k: dict(kwargs, dtype=np.float16) for k in params}
  )
  assert_bitwise(replay_ours(torch_adamax(**kwargs), params, grads), want)


def test_schedule_sees_count_zero_first_and_array_lr():
  params, grads = random_problem(4, ("w",), steps=5)
  schedule = lambda count: 0.01 * 0.5**count
  want = {"w": params["w"].copy()}
  m = u = np.zeros_like(want["w"])
  for t, g in enumerate(grads, start=1):
    want["w"], m, u = ref.torch_step(
      want["w"], g["w"], m, u, t, lr=float(np.float32(0.01 * 0.5 ** (t - 1)))
    )
  assert_bitwise(replay_ours(torch_adamax(lr=schedule), params, grads), want)
  one_element = replay_ours(torch_adamax(lr=jnp.array([0.01])), params, grads)
  np.testing.assert_allclose(
    one_element["w"], replay_ours(torch_adamax(lr=0.01), params, grads)["w"], rtol=1e-6
  )


def test_inject_hyperparams_matches_plain_and_follows_changes():
  params, grads = random_problem(5, ("w",), steps=4)
  injected = optax.inject_hyperparams(torch_adamax)(lr=0.01, weight_decay=0.1)
  plain = torch_adamax(lr=0.01, weight_decay=0.1)
  np.testing.assert_allclose(
    replay_ours(injected, params, grads)["w"], replay_ours(plain, params, grads)["w"], rtol=1e-6
  )
  p = jnp.asarray(params["w"])
  state = injected.init(p)
  state.hyperparams["lr"] = jnp.asarray(0.0)
  updates, _ = jax.jit(injected.update)(jnp.asarray(grads[0]["w"]), state, p)
  np.testing.assert_array_equal(updates, 0.0)


ERRORS = json.loads((golden_data.GOLDEN_DIR / "errors_torch.json").read_text())
ERROR_CASES = {k: v for k, v in ERRORS.items() if isinstance(v, dict)}


def _kwargs(recorded: dict) -> dict:
  kwargs = {}
  for key, text in recorded.items():
    if text.startswith("tensor("):
      kwargs[key] = jnp.array(json.loads(text[len("tensor(") : -1]))
    else:
      kwargs[key] = eval(text)  # the recorded Python literals, e.g. "(1.0, 0.999)"
  return kwargs


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_validation_matches_pytorch(case):
  recorded = ERROR_CASES[case]
  kwargs, result = _kwargs(recorded["kwargs"]), recorded["result"]
  if result.startswith("ok"):
    torch_adamax(**kwargs)
    return
  error_type, message = result.split(": ", 1)
  with pytest.raises({"ValueError": ValueError, "TypeError": TypeError}[error_type]) as info:
    torch_adamax(**kwargs)
  if "not supported between instances" in message:
    # PyTorch's TypeError there is Python's comparison failure; ours names the argument.
    assert next(iter(recorded["kwargs"])) in str(info.value)
  else:
    assert str(info.value) == message


@pytest.mark.parametrize(
  ("kwargs", "match"),
  [
    (dict(lr=float("nan")), "Invalid learning rate: nan"),
    (dict(lr=float("inf")), "lr must be finite"),
    (dict(eps=float("inf")), "eps must be finite"),
    (dict(betas=(0.9,)), "betas must be a pair"),
    (dict(maximize="yes"), "maximize must be a bool"),
    (
      dict(param_groups=[{"params": ["w"], "lr": -1.0}]),
      r"param_groups\[0\]: Invalid learning rate: -1.0",
    ),
    (dict(param_groups=[{"params": ["w"], "momentum": 0.9}]), "unknown keys \\['momentum'\\]"),
  ],
)
def test_more_validation(kwargs, match):
  with pytest.raises((ValueError, TypeError), match=match):
    torch_adamax(**kwargs)


def _torch_trajectory(torch, params, grads, dtype, **kwargs):
  tensors = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
  opt = torch.optim.Adamax(list(tensors.values()), foreach=False, **kwargs)
  for g in grads:
    for k, t in tensors.items():
      t.grad = torch.tensor(g[k])
    opt.step()
  return {k: t.detach().numpy() for k, t in tensors.items()}


@pytest.mark.parametrize("dtype", [np.float32, np.complex64])
@pytest.mark.parametrize(
  "kwargs",
  [
    dict(),
    dict(lr=0.01, weight_decay=0.1, maximize=True),
    dict(eps=0.0, betas=(0.0, 0.5)),
    dict(betas=(0.3, 0.9), weight_decay=0.5),
  ],
)
def test_against_real_pytorch(dtype, kwargs):
  torch = pytest.importorskip("torch")
  rng = np.random.default_rng(7)

  def sample(n):
    x = rng.normal(size=n) * 10.0 ** rng.integers(-5, 5, n)
    if dtype == np.complex64:
      x = x + 1j * rng.normal(size=n)
    return x.astype(dtype)

  params = {"a": sample(64), "b": sample(7)}
  grads = [{k: sample(v.shape[0]) for k, v in params.items()} for _ in range(20)]
  want = _torch_trajectory(torch, params, grads, dtype, **kwargs)
  ours = replay_ours(torch_adamax(**kwargs), params, grads)
  for k in want:
    np.testing.assert_array_equal(ours[k], want[k], err_msg=k)


def test_lr_scheduler_every_is_static_under_inject_hyperparams():
  from adamax_optax.torch.optim.lr_scheduler import StepLR

  injected = optax.inject_hyperparams(torch_adamax)(lr=0.01, weight_decay=0.1)
  assert "lr_scheduler_every" not in injected.init(jnp.ones(2)).hyperparams
  with pytest.raises(ValueError) as info:
    optax.inject_hyperparams(torch_adamax)(lr=0.01, lr_scheduler_every=3).init(jnp.ones(2))
  assert str(info.value) == (
    "lr_scheduler_every must be a Python int (it fixes the scheduler's tables when the "
    "optimizer is built), got an array: Array(3, dtype=int32, weak_type=True). Under "
    "optax.inject_hyperparams, list it in static_args: optax.inject_hyperparams(opt, "
    "static_args=('lr_scheduler', 'lr_scheduler_every'))."
  )
  # As the message says (lr too: a tensor lr with a scheduler is not PyTorch's arithmetic).
  static = ("lr", "lr_scheduler", "lr_scheduler_every")
  kwargs = dict(lr=0.01, lr_scheduler=StepLR(step_size=2, gamma=0.5), lr_scheduler_every=3)
  params, grads = random_problem(6, ("w",), steps=14)
  ours = replay_ours(
    optax.inject_hyperparams(torch_adamax, static_args=static)(**kwargs), params, grads
  )
  assert_bitwise(ours, replay_ours(torch_adamax(**kwargs), params, grads))
