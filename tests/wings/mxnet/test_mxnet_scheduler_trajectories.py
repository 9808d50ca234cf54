"""mxnet_adamax / mxnet1_adamax with MXNet's schedulers: recorded 300-step runs, bit for bit.

Golden layout (tests/golden/mxnet/README.md): grad_<k>[t - 1] is fed at step t;
param_<k>[t], m_<k>[t], u_<k>[t] hold the values after step t (index 0: initial). The
parameter ``b`` has ``lr_mult`` 2. Gradients at steps 60 and 61 are subnormal (+-1e-40),
which XLA on the CPU flushes to zero; with the weight decay added they change nothing, and
no recorded param, m or u is subnormal, so everything is compared exactly.
"""

import json
import pathlib

import numpy as np
import pytest
from golden_data import read_recording
from harness import replay_recording

import adamax_optax
from adamax_optax.mxnet import lr_scheduler, optimizer
from adamax_optax.mxnet.optimizer import mxnet1_adamax, mxnet_adamax

GOLDEN = pathlib.Path(__file__).parents[2] / "golden" / "mxnet"
KEYS = ("w", "b", "s")
CASES = [
  "mxnet1_traj_factor_warm7",
  "mxnet2_traj_factor_warm7",
  "mxnet1_traj_cosine_override",
  "mxnet2_traj_cosine_override",
  "mxnet2_traj_poly_clip_rescale",
]


def first_mismatch(got, want):
  bad = np.argwhere(np.asarray(got) != np.asarray(want))
  return None if bad.size == 0 else (bad[0].tolist(), got[tuple(bad[0])], want[tuple(bad[0])])


@pytest.mark.parametrize("name", CASES)
def test_scheduled_trajectory_bit_for_bit(name):
  data = read_recording(GOLDEN / f"{name}.npz")
  meta = json.loads(str(data["meta"]))
  scheduler = getattr(lr_scheduler, meta["scheduler"].rsplit(".", 1)[1])
  factory = mxnet1_adamax if name.startswith("mxnet1") else mxnet_adamax
  sched = scheduler(**meta["scheduler_kwargs"])
  opt = factory(**meta["optimizer_kwargs"], lr_scheduler=sched, lr_mult={"b": 2.0})
  # The rates of group {w, s} and of b (lr_mult 2, multiplied in double), as the preset
  # resolves them, are the recorded doubles.
  base = optimizer._base_schedule(meta["optimizer_kwargs"]["learning_rate"], sched, 0)
  for group, mult in enumerate((1.0, 2.0)):
    table = optimizer._scaled(base, mult)
    rates = np.array([table.value_at(c) for c in range(meta["n_steps"])])
    np.testing.assert_array_equal(rates, data["lr"][:, group])
  for t, params, state in replay_recording(opt, data, KEYS, meta["n_steps"]):
    mu, nu, count = adamax_optax.moments(state)
    assert count == t
    for label, got in (("param", params), ("m", mu), ("u", nu)):
      for k in KEYS:
        diff = first_mismatch(np.asarray(got[k]), data[f"{label}_{k}"][t])
        assert diff is None, f"{name}: {label}_{k} differs after step {t} at {diff}"
