"""Every Python snippet of the README runs alone, as a reader copies it into a fresh interpreter.

Each block carries its own imports: the quick test checks that every name a block reads is
one it binds itself (or a builtin); the slow one runs each block in a Python process of its
own, from the repository root, several at a time.

A block right after an ``<!-- not run: reason -->`` comment is left out (it needs
hardware a test machine does not have); there must be a reason.
"""

import builtins
import os
import pathlib
import re
import subprocess
import symtable
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import started_early

ROOT = pathlib.Path(__file__).parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(r"(<!-- not run: (?P<reason>[^>]+?) -->\n)?```python\n(?P<code>.*?)```", re.S)
# Each block imports jax in its own process; two at a time keep a 2-core machine usable.
PARALLEL_PROCESSES = 2
BLOCK_TIMEOUT_S = 300


def blocks():
  return [(m["code"], m["reason"]) for m in BLOCK.finditer(README.read_text())]


def run_blocks():
  return [(index, code) for index, (code, reason) in enumerate(blocks()) if reason is None]


def names_read_but_not_bound(code, index):
  """Global names the block reads without binding them (not counting builtins)."""
  module = symtable.symtable(code, f"README.md python block {index}", "exec")
  bound = {symbol.get_name() for symbol in module.get_symbols() if symbol.is_assigned()}
  bound |= {symbol.get_name() for symbol in module.get_symbols() if symbol.is_imported()}
  read = set()
  tables = [module]
  while tables:
    table = tables.pop()
    tables.extend(table.get_children())
    for symbol in table.get_symbols():
      reads_a_global = table is module or symbol.is_global()
      if reads_a_global and symbol.is_referenced():
        read.add(symbol.get_name())
  return sorted(name for name in read - bound if not hasattr(builtins, name))


def test_the_readme_has_a_quick_start_that_runs():
  """The README is a landing page: its one runnable block is the quick start (the other
  examples live on the pages under docs/, run by test_docs.py)."""
  assert sum(reason is None for _, reason in blocks()) >= 1


def test_the_readme_is_a_landing_page_under_200_lines():
  lines = README.read_text().count("\n")
  assert lines < 200, f"README.md has {lines} lines; move the detail to a page under docs/"


def relative_links(page):
  """The targets of a Markdown page's links to repository files (not web addresses, not
  anchors of the page itself), with any anchor cut off."""
  targets = re.findall(r"\]\(([^)\s]+)\)", page.read_text())
  return [t.split("#")[0] for t in targets if not t.startswith(("http:", "https:", "#"))]


def test_every_relative_link_of_the_readme_reaches_a_file():
  links = relative_links(README)
  assert any(link.startswith("docs/") for link in links)
  missing = [link for link in links if not (ROOT / link).exists()]
  assert not missing, f"README.md links to files that do not exist: {missing}"


@pytest.mark.parametrize("index, code", run_blocks(), ids=lambda value: str(value)[:3])
def test_every_snippet_binds_the_names_it_reads(index, code):
  missing = names_read_but_not_bound(code, index)
  assert not missing, f"README python block {index} reads {missing} without importing them:\n{code}"


def test_the_name_check_finds_a_missing_import():
  assert names_read_but_not_bound("import jax\nx = jnp.ones(3)\ndef f():\n  return optax\n", 0) == [
    "jnp",
    "optax",
  ]


def run_alone(code):
  return subprocess.run(
    [sys.executable, "-c", code],
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=BLOCK_TIMEOUT_S,
    env={**os.environ, "PYTHONPATH": str(ROOT)},
  )


def run_each_alone(codes):
  """Each code in a fresh interpreter of its own, several at a time."""
  with ThreadPoolExecutor(PARALLEL_PROCESSES) as pool:
    return list(pool.map(run_alone, codes))


@pytest.mark.slow
@started_early.mark(run_each_alone, tuple(code for _, code in run_blocks()))
def test_every_snippet_runs_alone_in_a_fresh_interpreter():
  indexed = run_blocks()
  results = started_early.outcome(run_each_alone, tuple(code for _, code in indexed))
  failures = [
    f"README python block {index} failed (exit {result.returncode}):\n{code}\n"
    f"{result.stderr[-3000:]}"
    for (index, code), result in zip(indexed, results, strict=True)
    if result.returncode != 0
  ]
  assert not failures, "\n\n".join(failures)
