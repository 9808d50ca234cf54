"""The accelerator check: recorded trajectories, step and compile tables, on one device.

    python benchmarks/gpu.py                         # on a GPU: writes benchmarks/results_gpu.md
    python benchmarks/gpu.py --quick                 # the same with run.py's smaller sizes
    python benchmarks/gpu.py --dry-run --out /tmp/gpu.md   # any backend, tiny, a minute or two

Two parts, both on JAX's default backend:

1. Trajectories: every test file that replays a recording of ``tests/golden`` (the
   presets' trajectories, compared bit for bit under ``jax.jit``, the fused kernel
   against the per-leaf step) runs under pytest, and a table counts each file's passed,
   failed and skipped tests and quotes its first failure. The recordings come from the
   frameworks' CPU kernels; a GPU compiles the same programs with its own fusion, so
   this is where a difference would show.
2. Tables: ``run.py``'s step, compile, schedule and lazy-rows tables against
   ``optax.adamax``, the same-stage optax chains and ``torch.optim.Adamax`` (when a torch
   that can use the same device is installed: a CUDA build on a GPU).

``--dry-run`` runs one trajectory file and ``run.py --tiny``: it only shows that the
script works, and its timings mean nothing. Slow tests stay out unless ``--slow``.
"""

from __future__ import annotations

import argparse
import collections
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree

# Two processes use the device one after the other (pytest's, then this one's tables):
# neither may take three quarters of a GPU's memory up front, as JAX does by default.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
# The tables time this checkout's package, as the tests test it (their PYTHONPATH below),
# not whichever adamax_optax is installed.
sys.path.insert(1, str(pathlib.Path(__file__).resolve().parent.parent))

import jax
import run  # benchmarks/run.py, next to this script

REPOSITORY = pathlib.Path(__file__).resolve().parent.parent
DRY_RUN_FILES = ["tests/test_golden_building_blocks.py"]


# How a test file reaches the recordings: tests/golden_data.py, its GOLDEN_DIR, or the path.
READS_RECORDINGS = re.compile(r'golden_data|GOLDEN_DIR|"golden"')


def trajectory_files() -> list[str]:
  """The test files that read the recordings in ``tests/golden``, relative to the root."""
  candidates = [*REPOSITORY.glob("tests/test_*.py"), *REPOSITORY.glob("tests/wings/*/test_*.py")]
  return sorted(
    str(path.relative_to(REPOSITORY))
    for path in candidates
    if READS_RECORDINGS.search(path.read_text())
  )


class FileOutcome:
  def __init__(self):
    self.counts = collections.Counter()
    self.first_failure = ""


def outcomes(junit_xml: pathlib.Path) -> dict[str, FileOutcome]:
  """Per test file (a pytest module path), the counts of a JUnit XML report."""
  by_file: dict[str, FileOutcome] = collections.defaultdict(FileOutcome)
  for case in ElementTree.parse(junit_xml).getroot().iter("testcase"):
    module = case.get("classname", "").split("::")[0]
    # "tests.wings.torch.test_torch_optim.TestX" -> "tests/wings/torch/test_torch_optim.py"
    parts = module.split(".")
    while parts and not parts[-1].startswith("test_"):
      parts.pop()
    outcome = by_file["/".join(parts) + ".py" if parts else module]
    problem = case.find("failure")
    if problem is None:
      problem = case.find("error")
    if problem is not None:
      outcome.counts["failed"] += 1
      if not outcome.first_failure:
        message = (problem.get("message") or "").splitlines()
        outcome.first_failure = f"{case.get('name')}: {message[0] if message else ''}"[:200]
    elif case.find("skipped") is not None:
      outcome.counts["skipped"] += 1
    else:
      outcome.counts["passed"] += 1
  return by_file


def run_trajectories(files: list[str], slow: bool, timeout_s: float) -> list[str]:
  """Runs the files under pytest in a process of their own; the markdown table."""
  with tempfile.TemporaryDirectory() as folder:
    report = pathlib.Path(folder) / "junit.xml"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]  # -q: pyproject
    command += ["--junitxml", str(report), *([] if slow else ["-m", "not slow"]), *files]
    environment = dict(os.environ, PYTHONPATH=str(REPOSITORY))
    print(f"trajectories: pytest on {len(files)} files", file=sys.stderr)
    try:
      finished = subprocess.run(
        command, cwd=REPOSITORY, env=environment, timeout=timeout_s, capture_output=True, text=True
      )
      summary = (finished.stdout.strip().splitlines() or ["(no output)"])[-1]
    except subprocess.TimeoutExpired:
      summary = f"stopped after {timeout_s:.0f} s (--test-timeout); the counts are of what ran"
    by_file = outcomes(report) if report.exists() else {}
  selection = "" if slow else ' -m "not slow"'
  lines = [
    f"### Recorded trajectories on {jax.default_backend()}",
    "",
    f"pytest{selection} over the {len(files)} test files that read `tests/golden`: {summary}",
    "",
    "| test file | passed | failed | skipped | first failure |",
    "|---|---:|---:|---:|---|",
  ]
  for name in files:
    outcome = by_file.get(name, FileOutcome())
    counts = outcome.counts
    failure = outcome.first_failure.replace("|", "\\|")
    lines.append(
      f"| {name} | {counts['passed']} | {counts['failed']} | {counts['skipped']} | {failure} |"
    )
  return [*lines, ""]


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--dry-run", action="store_true", help="one test file, run.py --tiny")
  parser.add_argument("--quick", action="store_true", help="run.py's --quick sizes")
  parser.add_argument("--slow", action="store_true", help="include the tests marked slow")
  parser.add_argument(
    "--only", choices=["trajectories", "tables"], help="one part only (default both)"
  )
  parser.add_argument(
    "--test-timeout", type=float, default=480.0, help="seconds for the pytest part (480)"
  )
  parser.add_argument("--out", type=pathlib.Path, help="markdown file to write")
  args = parser.parse_args(argv)
  backend = jax.default_backend()
  out = args.out or pathlib.Path(__file__).parent / f"results_{backend}.md"
  if backend == "cpu" and not args.dry_run and args.out is None:
    parser.error("JAX runs on the CPU: run.py writes the CPU tables; use --dry-run or --out.")
  lines = [f"Machine: {run.machine()}", ""]
  if args.only in (None, "trajectories"):
    files = DRY_RUN_FILES if args.dry_run else trajectory_files()
    lines += run_trajectories(files, args.slow, args.test_timeout)
  out.write_text("\n".join(lines))
  if args.only in (None, "tables"):
    with tempfile.TemporaryDirectory() as folder:
      tables = pathlib.Path(folder) / "tables.md"
      size = ["--tiny"] if args.dry_run else ["--quick"] if args.quick else []
      run.main([*size, "--out", str(tables)])
      lines += tables.read_text().splitlines()[1:]  # its first line is the machine again
  out.write_text("\n".join(lines) + "\n")
  print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
  main()
