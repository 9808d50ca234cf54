"""Adamax state to and from the checkpoints of PyTorch, MXNet, MindSpore and Paddle.

A compatibility facade: each converter lives in its framework's wing
(:mod:`adamax_optax.torch.checkpoint`, :mod:`adamax_optax.mxnet.checkpoint`,
:mod:`adamax_optax.mindspore.checkpoint`, :mod:`adamax_optax.paddle.checkpoint`). NumPy
dicts in and out, or the framework's own files (``torch.save``, ``Trainer.save_states``,
``paddle.save``) read and written without importing the framework or running code from
the file.

The moments go through :func:`adamax_optax.moments` and :func:`adamax_optax.load_state`:

.. code-block:: python

  mu, nu, step = from_torch_state_dict(torch_opt.state_dict(), params)  # as NumPy
  mu, nu, step = from_torch_optimizer_file("optimizer.pt", params, model="model.pt")
  state = adamax_optax.load_state(opt, params, mu=mu, nu=nu, step=step)
"""

from adamax_optax.mindspore.checkpoint import from_mindspore_checkpoint, to_mindspore_checkpoint
from adamax_optax.mxnet.checkpoint import (
  from_mxnet_params_file,
  from_mxnet_states,
  from_mxnet_states_file,
  to_mxnet_states,
  to_mxnet_states_file,
)
from adamax_optax.paddle.checkpoint import (
  from_paddle_model_file,
  from_paddle_optimizer_file,
  from_paddle_state_dict,
  to_paddle_optimizer_file,
  to_paddle_state_dict,
)
from adamax_optax.torch.checkpoint import (
  from_torch_model_file,
  from_torch_optimizer_file,
  from_torch_state_dict,
  to_torch_optimizer_file,
  to_torch_state_dict,
)

__all__ = [
  "from_mindspore_checkpoint",
  "from_mxnet_params_file",
  "from_mxnet_states",
  "from_mxnet_states_file",
  "from_paddle_model_file",
  "from_paddle_optimizer_file",
  "from_paddle_state_dict",
  "from_torch_model_file",
  "from_torch_optimizer_file",
  "from_torch_state_dict",
  "to_mindspore_checkpoint",
  "to_mxnet_states",
  "to_mxnet_states_file",
  "to_paddle_optimizer_file",
  "to_paddle_state_dict",
  "to_torch_optimizer_file",
  "to_torch_state_dict",
]
