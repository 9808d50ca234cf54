"""A real Paddle run with ``CyclicLR(mode="triangular2")``, replayed bit for bit.

tests/golden/paddle/traj_cyclic_triangular2.npz (gen_scheduled_runs.py): 500 updates of
``paddle.optimizer.Adamax`` driven by ``CyclicLR(0.001, 0.02, step_size_up=41,
step_size_down=3, mode="triangular2")`` (12 cycles), stepped after each update, on a
closed-loop noisy quadratic over w (64, 33), b (5,), s (). The scheduler here keeps its
default horizon. The gradients are recomputed from our own params, as Paddle's run
computed them from its own. Paddle saved the run after update 250
(checkpoints/cyclic_triangular2.pdopt): resumed from that file, the rest replays too.
"""

import hashlib
import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from harness import first_bit_difference

import adamax_optax as ax
from adamax_optax.checkpoint import CheckpointError
from adamax_optax.paddle import checkpoint as ckpt
from adamax_optax.paddle.optimizer import Adamax, get_lr, lr
from adamax_optax.scale_by_adamax import ScaleByAdamaxState
from adamax_optax.schedules import DEFAULT_HORIZON

GOLDEN = pathlib.Path(__file__).parents[2] / "golden" / "paddle" / "traj_cyclic_triangular2.npz"
KEYS = ("w", "b", "s")
# Paddle's files of the run after update 250.
OPTIMIZER_FILE = GOLDEN.parent / "checkpoints" / "cyclic_triangular2.pdopt"
MODEL_FILE = GOLDEN.parent / "checkpoints" / "cyclic_triangular2.pdparams"


def recording():
  data = np.load(GOLDEN)
  return {k: data[k] for k in data.files if k != "meta"}, json.loads(str(data["meta"]))


def template(meta):
  return {k: np.zeros(shape, np.float32) for k, shape in meta["shapes"].items()}


def closed_loop_gradient(data, key, params, t):
  """The recording's gradient of update ``t + 1`` at ``params[key]``, in NumPy float32."""
  p = np.asarray(params[key])
  noise = data[f"{key}_noise"][t : t + p.size].reshape(p.shape)
  return np.asarray(data[f"{key}_a"] * (p - data[f"{key}_target"]) + noise, np.float32)


def digest(*arrays):
  return np.stack([np.frombuffer(hashlib.sha256(a.tobytes()).digest(), np.uint8) for a in arrays])


def b1_power(state):
  (node,) = [
    s
    for s in jax.tree.leaves(state, is_leaf=lambda x: isinstance(x, ScaleByAdamaxState))
    if isinstance(s, ScaleByAdamaxState)
  ]
  return node.b1_power


def assert_replays(opt, data, params, state, start, stop):
  """Updates ``start + 1`` to ``stop`` from ``(params, state)``, the gradients computed
  from our params; params, moments, rate and beta1's power checked after each."""

  @jax.jit
  def step(params, state, grads):
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  snapshots = {int(t): row for row, t in enumerate(data["w_steps"])}
  for t in range(start, stop):
    assert get_lr(opt, state) == data["lr"][t], f"rate of update {t + 1}"
    grads = {k: closed_loop_gradient(data, k, params, t) for k in KEYS}
    params, state = step(params, state, grads)
    mu, nu, _ = ax.moments(state)
    trees = {"param": params, "m": mu, "u": nu}
    for kind, tree in trees.items():
      for k in ("b", "s"):
        difference = first_bit_difference(np.asarray(tree[k]), data[f"{kind}_{k}"][t + 1])
        assert not difference, f"{kind}_{k} differs after update {t + 1}: {difference}"
      if t + 1 in snapshots:
        want = data[f"{kind}_w"][snapshots[t + 1]]
        difference = first_bit_difference(np.asarray(tree["w"]), want)
        assert not difference, f"{kind}_w differs after update {t + 1}: {difference}"
    ours = digest(*(np.asarray(trees[kind]["w"]) for kind in trees))
    assert np.array_equal(ours, data["digest_w"][t + 1]), (
      f"w's param, moment or inf_norm differs after update {t + 1} (digests; the next "
      f"full snapshot names the element)"
    )
    # Paddle's beta1_pow after an update is the power the next update uses.
    next_power = np.float32(np.asarray(b1_power(state)) * np.float32(0.9))
    assert next_power == data["beta1_pow"][t], f"beta1_pow after update {t + 1}"
  assert get_lr(opt, state) == opt.lr_scheduler.value_at(stop), "the rate after the last"


def test_cyclic_triangular2_at_the_default_horizon_bit_for_bit():
  data, meta = recording()
  scheduler = lr.CyclicLR(**meta["scheduler_kwargs"])
  assert scheduler.horizon == DEFAULT_HORIZON
  opt = Adamax(learning_rate=scheduler)
  steps = meta["T"]
  kernel_rates = np.asarray(jax.jit(jax.vmap(scheduler))(jnp.arange(steps)))
  assert not first_bit_difference(kernel_rates, data["lr_kernel"]), "the float32 rates"
  params = {k: jnp.asarray(data[f"param_{k}"][0]) for k in KEYS}  # w_steps[0] is 0
  assert_replays(opt, data, params, opt.init(params), 0, steps)


def test_resumed_from_paddles_pdopt_bit_for_bit():
  # Paddle saved the run after update 250: CyclicLR's last_epoch and last_lr are checked
  # against the scheduler here, which continues from the optimizer's count.
  data, meta = recording()
  opt = Adamax(learning_rate=lr.CyclicLR(**meta["scheduler_kwargs"]))
  params = ckpt.from_paddle_model_file(MODEL_FILE, template(meta))
  state = ckpt.state_from_paddle_optimizer_file(opt, OPTIMIZER_FILE, params, model=MODEL_FILE)
  saved = meta["saved_after"]
  assert ax.moments(state)[2] == saved
  params = {k: jnp.asarray(v) for k, v in params.items()}
  assert_replays(opt, data, params, state, saved, meta["T"])


def test_a_resume_with_other_cycle_lengths_is_refused():
  _, meta = recording()
  kwargs = {**meta["scheduler_kwargs"], "step_size_down": 4}
  opt = Adamax(learning_rate=lr.CyclicLR(**kwargs))
  with pytest.raises(
    CheckpointError, match=r"\['last_lr'\] is 0.00143.*, but the optimizer's CyclicLR gives"
  ):
    ckpt.state_from_paddle_optimizer_file(opt, OPTIMIZER_FILE, template(meta), model=MODEL_FILE)
