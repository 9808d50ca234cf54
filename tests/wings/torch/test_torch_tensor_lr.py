"""torch_adamax with a tensor (array) learning rate, on both of PyTorch's paths.

PyTorch's single-tensor path computes ``lr / (1 - beta1**t)`` as a float32 tensor divided
by a Python float; the foreach path reads ``lr.item()`` and divides in double. The
recordings (traj_tensor_lr_constant_foreach_{False,True}.npz) are 300 closed-loop steps
with two groups, each with its own float32 tensor lr.
"""

import json

import golden_data
import jax.numpy as jnp
import numpy as np
import pytest

from adamax_optax import moments
from adamax_optax.torch.optim import Adamax, lr_scheduler


def _preset(meta, foreach):
  kwargs = {**meta["optimizer_kwargs"], "foreach": foreach}
  kwargs["lr"] = np.float32(kwargs["lr"])
  groups = [{**g, "lr": np.asarray(g["lr"], np.float32)} for g in meta["groups"]]
  return Adamax(**kwargs, param_groups=groups)


@pytest.mark.parametrize("foreach", [False, True])
def test_constant_tensor_lr_bit_for_bit(foreach):
  path = golden_data.GOLDEN_DIR / "torch" / f"traj_tensor_lr_constant_foreach_{foreach}.npz"
  meta = json.loads(str(np.load(path)["meta"]))
  difference = golden_data.first_difference(
    _preset(meta, foreach), path, meta["param_order"], jnp.float32, moments
  )
  assert difference is None, difference


def test_the_two_paths_differ_as_in_pytorch():
  """The single-tensor recording is not what the foreach arithmetic gives."""
  path = golden_data.GOLDEN_DIR / "torch" / "traj_tensor_lr_constant_foreach_False.npz"
  meta = json.loads(str(np.load(path)["meta"]))
  difference = golden_data.first_difference(
    _preset(meta, True), path, meta["param_order"], jnp.float32, moments
  )
  assert difference is not None


def test_tensor_lr_with_a_scheduler_is_refused():
  with pytest.raises(ValueError, match=r"tensor .*lr with lr_scheduler is not reproduced"):
    Adamax(lr=jnp.asarray(0.01), lr_scheduler=lr_scheduler.StepLR(step_size=3))
