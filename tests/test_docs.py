"""The documentation site's guides: every Python block runs alone, and the API reference lists
every public name.

The guides are the Markdown pages under ``docs/``. As for the README (``test_readme.py``,
whose helpers these tests use), each block carries its own imports and runs in a Python
process of its own from the repository root; a block after an
``<!-- not run: reason -->`` comment is left out.
"""

import importlib
import pathlib
import types

import pytest
import started_early
from test_readme import (
  BLOCK,
  names_read_but_not_bound,
  relative_links,
  run_alone,
  run_each_alone,
)

import adamax_optax

ROOT = pathlib.Path(__file__).parents[1]
DOCS = ROOT / "docs"
BUILD = DOCS / "_build"


def guides():
  return sorted(page for page in DOCS.rglob("*.md") if BUILD not in page.parents)


def guide_blocks():
  """(page, index within the page, code) of every block that runs."""
  found = []
  for page in guides():
    matches = BLOCK.finditer(page.read_text())
    for index, match in enumerate(matches):
      if match["reason"] is None:
        found.append((page.relative_to(ROOT).as_posix(), index, match["code"]))
  return found


def block_id(value):
  return value if isinstance(value, str) and value.startswith("docs/") else str(value)[:3]


def test_the_guides_have_blocks():
  """The pages that carry runnable examples, the README's former sections among them."""
  pages = {page for page, _, _ in guide_blocks()}
  with_examples = {
    "docs/jax_users.md",
    "docs/porting/pytorch.md",
    "docs/porting/mxnet.md",
    "docs/building_blocks.md",
    "docs/presets.md",
    "docs/clipping.md",
    "docs/schedules.md",
    "docs/training.md",
    "docs/checkpoints.md",
  }
  assert with_examples <= pages, sorted(with_examples - pages)


def test_every_relative_link_of_a_page_reaches_a_file():
  """A page links another page or a figure relatively, so that the link works on GitHub and
  in the built site alike."""
  broken = []
  for page in guides():
    for link in relative_links(page):
      drawn_at_build = link.startswith("figures/generated/")  # conf.py's draw_figures
      if link and not drawn_at_build and not (page.parent / link).exists():
        broken.append(f"{page.relative_to(ROOT)} -> {link}")
  assert not broken, broken


@pytest.mark.parametrize("page, index, code", guide_blocks(), ids=block_id)
def test_every_block_binds_the_names_it_reads(page, index, code):
  missing = names_read_but_not_bound(code, index)
  assert not missing, f"{page} python block {index} reads {missing} without importing them"


@pytest.mark.slow
@started_early.mark(run_each_alone, tuple(code for _, _, code in guide_blocks()))
def test_every_block_runs_alone_in_a_fresh_interpreter():
  found = guide_blocks()
  results = started_early.outcome(run_each_alone, tuple(code for _, _, code in found))
  failures = [
    f"{page} python block {index} failed (exit {result.returncode}):\n{code}\n"
    f"{result.stderr[-3000:]}"
    for (page, index, code), result in zip(found, results, strict=True)
    if result.returncode != 0
  ]
  assert not failures, "\n\n".join(failures)


def test_the_api_reference_lists_every_top_level_name():
  listed = (DOCS / "api" / "index.rst").read_text()
  missing = [name for name in adamax_optax.__all__ if f"``{name}``" not in listed]
  assert not missing, f"docs/api/index.rst does not list {missing}"


def test_the_api_reference_documents_every_package():
  """Every package that exports more than its submodules has an automodule directive (its
  implementation files are documented through it)."""
  pages = "".join(page.read_text() for page in (DOCS / "api").glob("*.rst"))
  documented = set()
  for line in pages.splitlines():
    if line.startswith(".. automodule:: "):
      documented.add(line.removeprefix(".. automodule:: ").strip())
  undocumented = []
  for path in sorted((ROOT / "adamax_optax").rglob("__init__.py")):
    module = importlib.import_module(".".join(path.parent.relative_to(ROOT).parts))
    exported = [getattr(module, name) for name in getattr(module, "__all__", [])]
    only_submodules = all(isinstance(value, types.ModuleType) for value in exported)
    if not only_submodules and module.__name__ not in documented:
      undocumented.append(module.__name__)
  assert not undocumented, f"no API page has an automodule for {undocumented}"


@pytest.mark.slow
def test_the_epsilon_figure_script_draws_a_png(tmp_path):
  """The script the site's build runs for the epsilon-placement figure (about 7 s)."""
  figure = tmp_path / "eps_placements.png"
  script = DOCS / "figures" / "eps_placements.py"
  result = run_alone(
    f"import runpy, sys\nsys.argv = ['eps_placements.py', {str(figure)!r}]\n"
    f"runpy.run_path({str(script)!r}, run_name='__main__')\n"
  )
  assert result.returncode == 0, result.stderr[-3000:]
  assert figure.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
