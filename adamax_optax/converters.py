"""Adamax state to and from the checkpoints of PyTorch, MXNet and MindSpore.

A compatibility facade: each converter lives in its framework's wing
(:mod:`adamax_optax.torch.checkpoint`, :mod:`adamax_optax.mxnet.checkpoint`,
:mod:`adamax_optax.mindspore.checkpoint`). Plain NumPy dicts in, plain NumPy dicts out,
so no framework is imported.

The moments go through :func:`adamax_optax.moments` and :func:`adamax_optax.load_state`:

.. code-block:: python

  mu, nu, step = from_torch_state_dict(torch_opt.state_dict(), params)  # as NumPy
  state = adamax_optax.load_state(opt, params, mu=mu, nu=nu, step=step)
"""

from adamax_optax.mindspore.checkpoint import from_mindspore_checkpoint, to_mindspore_checkpoint
from adamax_optax.mxnet.checkpoint import from_mxnet_states, to_mxnet_states
from adamax_optax.torch.checkpoint import from_torch_state_dict, to_torch_state_dict

__all__ = [
  "from_mindspore_checkpoint",
  "from_mxnet_states",
  "from_torch_state_dict",
  "to_mindspore_checkpoint",
  "to_mxnet_states",
  "to_torch_state_dict",
]
