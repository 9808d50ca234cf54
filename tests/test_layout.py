"""The package's architecture: a framework-free core, one wing per framework.

The rule: the core imports no wing, no wing imports another wing, and nothing imports a
real framework. A wing is a folder named after its framework (``adamax_optax/torch/``, ...);
the core is every other module but the package's front door, ``adamax_optax/__init__.py``,
which gathers the public API, the presets of every wing included.
"""

import ast
import pathlib
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).parents[1] / "adamax_optax"
WINGS = ("mxnet", "mindspore", "torch", "keras", "paddle")
FRONT_DOOR = PACKAGE / "__init__.py"


def imported_modules(path: pathlib.Path) -> set[str]:
  names = set()
  for node in ast.walk(ast.parse(path.read_text())):
    if isinstance(node, ast.Import):
      names.update(alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.module:
      names.add(node.module)
      names.update(f"{node.module}.{alias.name}" for alias in node.names)
  return names


def wing_of(module: str) -> str | None:
  """The wing a dotted module name lies in, None for the core."""
  parts = module.split(".")
  return parts[1] if parts[0] == "adamax_optax" and len(parts) > 1 and parts[1] in WINGS else None


def layer_of(path: pathlib.Path) -> str | None:
  """The wing a file of the package lies in, None for the core."""
  return wing_of(".".join(("adamax_optax", *path.relative_to(PACKAGE).parts)))


@pytest.mark.parametrize(
  "path",
  sorted(p for p in PACKAGE.rglob("*.py") if p != FRONT_DOOR),
  ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_imports_respect_the_layout(path):
  own = layer_of(path)
  for module in imported_modules(path):
    assert module.split(".")[0] not in WINGS, f"{path.name} imports the framework {module}"
    wing = wing_of(module)
    if own is None:
      assert wing is None, f"core module {path.name} imports the wing module {module}"
    else:
      assert wing in (None, own), f"{own} wing imports another wing: {module}"


def test_importing_the_wings_imports_no_framework():
  code = (
    "import sys, adamax_optax, adamax_optax.torch.optim.lr_scheduler, "
    "adamax_optax.paddle.optimizer.lr, adamax_optax.keras.optimizers.schedules, "
    "adamax_optax.mindspore.nn, adamax_optax.mxnet.lr_scheduler; "
    f"print(sorted(set({WINGS!r}) & set(sys.modules)))"
  )
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
  assert out.stdout.strip() == "[]"
