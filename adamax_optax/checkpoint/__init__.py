"""The Adamax state in and out of this package, and what every wing's file reader shares.

* :func:`moments` and :func:`load_state` (:mod:`adamax_optax.checkpoint.state`) read and
  write the moments and the step of any preset's state, and of :func:`optax.adamax`'s.
* ``_converters``: leaf order, shape checks naming the parameter, params read from a model
  file by name (:func:`~adamax_optax.checkpoint._converters.params_by_name`), the float32
  running power of beta1.
* ``_reading``: :class:`CheckpointError`, the one error every reader raises for a file it
  cannot read (naming the file and the problem), and the bound on the memory a file may
  make a reader allocate.
* ``_restricted_pickle``: a pickle reader that runs no code from the file, given each
  wing's allow-list of globals, and a minimal pickle writer.

Each framework's files are read and written in its wing (``adamax_optax.torch.checkpoint``,
``adamax_optax.mxnet.checkpoint``, ``adamax_optax.mindspore.checkpoint``,
``adamax_optax.paddle.checkpoint``, ``adamax_optax.keras.checkpoint``); nothing here knows
a framework.
"""

from adamax_optax.checkpoint._reading import CheckpointError
from adamax_optax.checkpoint._restricted_pickle import UnsafePickleError
from adamax_optax.checkpoint.state import load_state, moments

__all__ = ["CheckpointError", "UnsafePickleError", "load_state", "moments"]
