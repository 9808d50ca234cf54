"""The README's Python snippets run, in order, in one namespace (as a reader pastes them).

A block right after an ``<!-- not run: reason -->`` comment is left out (it needs
hardware a test machine does not have); there must be a reason.
"""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).parents[1] / "README.md"
BLOCK = re.compile(r"(<!-- not run: (?P<reason>[^>]+?) -->\n)?```python\n(?P<code>.*?)```", re.S)


def blocks():
  return [(m["code"], m["reason"]) for m in BLOCK.finditer(README.read_text())]


def test_the_readme_has_snippets():
  assert sum(reason is None for _, reason in blocks()) >= 5


def test_every_snippet_runs_in_order():
  namespace = {}
  for index, (code, reason) in enumerate(blocks()):
    if reason is not None:
      continue
    try:
      exec(compile(code, f"README.md python block {index}", "exec"), namespace)
    except Exception as error:  # name the block in the failure
      pytest.fail(f"README python block {index} failed: {error!r}\n{code}")
