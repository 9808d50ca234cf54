"""Import a NumPy-only module of adamax_optax inside a framework's recording environment.

The file formats (``adamax_optax/torch/_torch_save.py``, ``adamax_optax/mxnet/_mxnet_save.py``,
``adamax_optax/paddle/_paddle_save.py`` and the core ``checkpoint/_restricted_pickle.py`` they
use) need only NumPy, but importing them normally runs the ``__init__`` of their packages,
which need JAX. Every package of adamax_optax is registered instead as an empty module whose
``__path__`` is its folder, so Python finds the modules there without running any
``__init__``.
"""

import importlib
import pathlib
import sys
import types

ROOT = pathlib.Path(__file__).resolve().parents[3]


def numpy_only_module(name: str) -> types.ModuleType:
  """The module ``name`` (e.g. ``"adamax_optax.torch._torch_save"``) of this repository."""
  for init in sorted((ROOT / "adamax_optax").rglob("__init__.py")):
    package = ".".join(init.parent.relative_to(ROOT).parts)
    if package not in sys.modules:
      stand_in = types.ModuleType(package)
      stand_in.__path__ = [str(init.parent)]
      sys.modules[package] = stand_in
  return importlib.import_module(name)
