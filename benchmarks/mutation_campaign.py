"""Mutation campaign: thousands of mutated real checkpoint files per format, through the readers.

Each format's real file (``tests/golden/<framework>/checkpoints``) is mutated as
``tests/hostile_files.py`` does (byte changes, truncations, inserted or deleted bytes,
extreme length fields, one zip record changed with valid CRCs), mutant ``i`` from the seed
``(seed, i)``, and read by the reader a user calls. Per format it prints the mutants tried
and how many

* loaded;
* raised a documented error (a ``CheckpointError`` naming the file);
* raised anything else, or a ``CheckpointError`` not naming the file (undocumented, with
  examples);
* traced more memory than ``hostile_files.bound`` of the file's size (over bound); the
  worker also runs under ``RLIMIT_AS`` of its size plus 512 MiB, so a larger allocation
  fails with a ``MemoryError`` (counted as undocumented);
* took longer than ``--timeout`` seconds (hang: the worker is killed and restarted past it)
  or killed the worker (crash, e.g. a segfault in h5py).

Usage::

  python benchmarks/mutation_campaign.py                       # 20,000 mutants per format
  python benchmarks/mutation_campaign.py --mutants 2000 --format "paddle .pdopt"
"""

from __future__ import annotations

import argparse
import collections
import json
import pathlib
import resource
import select
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

VERDICTS = ("loaded", "documented", "undocumented", "over bound", "hang", "crash")
_HEADROOM = 512 << 20  # bytes of address space a worker may add once it has imported all


def _limit_address_space() -> None:
  with open("/proc/self/status") as f:
    size_kib = next(int(line.split()[1]) for line in f if line.startswith("VmSize:"))
  limit = size_kib * 1024 + _HEADROOM
  resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def worker(format_name: str, start: int, stop: int, seed: int) -> None:
  """Read mutants ``start`` to ``stop - 1``; one JSON line per mutant on stdout."""
  import hostile_files
  import numpy as np

  original = hostile_files.original(format_name)
  hostile_files.warm_up(format_name)
  folder = pathlib.Path(tempfile.mkdtemp(prefix="mutants-"))
  path = folder / hostile_files.file_name(format_name)
  _limit_address_space()
  for i in range(start, stop):
    path.write_bytes(hostile_files.mutate(original, np.random.default_rng([seed, i])))
    verdict, detail, _ = hostile_files.outcome(format_name, path)
    detail = detail.replace(str(path), "<file>")
    print(json.dumps([i, verdict, detail]), flush=True)
  path.unlink(missing_ok=True)
  folder.rmdir()


def campaign(format_name: str, mutants: int, seed: int, timeout: float):
  """``(counts, examples)`` of one format: a worker reads the mutants; one that hangs or
  dies is replaced, starting past the mutant it was reading."""
  counts, examples = collections.Counter(), collections.defaultdict(list)
  next_mutant = 0
  while next_mutant < mutants:
    command = [sys.executable, __file__, "--worker", format_name, "--seed", str(seed)]
    command += ["--start", str(next_mutant), "--stop", str(mutants)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    # the first mutant also waits for the worker's imports
    deadline = time.monotonic() + timeout + 60
    while True:
      ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
      line = process.stdout.readline() if ready else None
      if line:
        i, verdict, detail = json.loads(line)
        counts[verdict] += 1
        if verdict not in ("loaded", "documented") and len(examples[verdict]) < 3:
          examples[verdict].append(f"mutant {i}: {detail}")
        next_mutant = i + 1
        deadline = time.monotonic() + timeout
        continue
      if line is None:  # no answer within the timeout
        process.kill()
        verdict = "hang"
      else:  # the worker ended
        verdict = "crash" if process.wait() != 0 else None
      process.wait()
      if verdict is not None and next_mutant < mutants:
        counts[verdict] += 1
        examples[verdict].append(f"mutant {next_mutant}: worker exit {process.returncode}")
        next_mutant += 1
      break
  return counts, examples


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--mutants", type=int, default=20_000, help="per format")
  parser.add_argument("--format", action="append", help="only these formats (repeatable)")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--timeout", type=float, default=10.0, help="seconds per mutant")
  parser.add_argument("--worker", help=argparse.SUPPRESS)
  parser.add_argument("--start", type=int, help=argparse.SUPPRESS)
  parser.add_argument("--stop", type=int, help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.worker:
    worker(args.worker, args.start, args.stop, args.seed)
    return

  import hostile_files

  formats = args.format or list(hostile_files.FORMATS)
  print(f"| format | file bytes | tried | {' | '.join(VERDICTS)} | seconds |")
  print("|---|---:|---:|" + "---:|" * (len(VERDICTS) + 1))
  notes = []
  for name in formats:
    began = time.monotonic()
    counts, examples = campaign(name, args.mutants, args.seed, args.timeout)
    size = len(hostile_files.original(name))
    cells = " | ".join(str(counts[v]) for v in VERDICTS)
    seconds = time.monotonic() - began
    print(f"| {name} | {size} | {sum(counts.values())} | {cells} | {seconds:.0f} |", flush=True)
    notes += [f"{name}, {verdict}: {text}" for verdict, texts in examples.items() for text in texts]
  if notes:
    print("\nExamples:")
    print("\n".join(f"- {note}" for note in notes))
  sys.exit(1 if notes else 0)


if __name__ == "__main__":
  main()
