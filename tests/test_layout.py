"""The package's architecture: a framework-free core, one wing per framework.

The rule: the core imports no wing, no wing imports another wing, and nothing imports a
real framework. A wing is a folder named after its framework (``adamax_optax/torch/``, ...);
the core is every other module but the package's front door, ``adamax_optax/__init__.py``,
which gathers the public API, the presets of every wing included.
"""

import ast
import pathlib
import re
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


def wing_modules(wing: str) -> set[str]:
  """The public modules and packages right under a wing (``checkpoint``, ``optim``, ...)."""
  folder = PACKAGE / wing
  names = {path.stem for path in folder.glob("*.py")} | {
    path.parent.name for path in folder.glob("*/__init__.py")
  }
  return {name for name in names if not name.startswith("_")}


@pytest.mark.parametrize("wing", WINGS)
def test_the_package_docstring_lists_every_module_of_each_wing(wing):
  """``help(adamax_optax)`` is where a user looks first: each wing's line names each of its
  modules (``keras``'s ``checkpoint`` was missing)."""
  import adamax_optax

  after = adamax_optax.__doc__.split(f"* :mod:`adamax_optax.{wing}`:")[1]
  lines = re.split(r"\n\* |\n\n", after)[0]  # up to the next wing or the paragraph's end
  missing = sorted(name for name in wing_modules(wing) if f"``{name}" not in lines)
  assert not missing, f"adamax_optax's docstring does not name {wing}'s {missing}"


def test_the_typing_marker_and_the_license_are_packaged():
  import tomllib

  project = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
  assert "py.typed" in project["tool"]["setuptools"]["package-data"]["adamax_optax"]
  assert (PACKAGE / "py.typed").is_file()
  assert project["project"]["license"] == "Apache-2.0"
  assert project["project"]["license-files"] == ["LICENSE"]
  license_text = (PACKAGE.parent / "LICENSE").read_text()
  assert license_text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
  assert project["project"]["authors"] and project["project"]["urls"]
