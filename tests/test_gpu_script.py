"""``benchmarks/gpu.py``, the accelerator check, runs on any backend (its dry run here)."""

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT / "benchmarks") not in sys.path:
  sys.path.insert(0, str(ROOT / "benchmarks"))  # as `python benchmarks/gpu.py` does

import gpu  # noqa: E402

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="4">
  <testcase classname="tests.wings.torch.test_torch_optim" name="test_a"/>
  <testcase classname="tests.wings.torch.test_torch_optim" name="test_b">
    <failure message="AssertionError: step 3: param_w[0] is 1.0&#10;more">trace</failure>
  </testcase>
  <testcase classname="tests.test_fused.TestKernel" name="test_c">
    <skipped message="no GPU"/>
  </testcase>
  <testcase classname="tests.test_fused" name="test_d"><error message="boom"/></testcase>
</testsuite></testsuites>
"""


def test_outcomes_counts_each_file_and_quotes_its_first_failure(tmp_path):
  report = tmp_path / "junit.xml"
  report.write_text(JUNIT)
  by_file = gpu.outcomes(report)
  torch = by_file["tests/wings/torch/test_torch_optim.py"]
  assert dict(torch.counts) == {"passed": 1, "failed": 1}
  assert torch.first_failure == "test_b: AssertionError: step 3: param_w[0] is 1.0"
  fused = by_file["tests/test_fused.py"]  # a class inside the module counts for the file
  assert dict(fused.counts) == {"skipped": 1, "failed": 1}
  assert fused.first_failure == "test_d: boom"


def test_trajectory_files_are_the_tests_that_read_the_recordings():
  files = gpu.trajectory_files()
  assert "tests/test_golden_building_blocks.py" in files
  assert "tests/test_fused.py" in files
  for framework in ("keras", "mindspore", "mxnet", "paddle", "torch"):
    assert any(f.startswith(f"tests/wings/{framework}/") for f in files), framework
  assert "tests/test_gpu_script.py" not in files
  assert all((ROOT / f).is_file() for f in files)


@pytest.mark.slow
def test_dry_run_writes_the_trajectories_and_every_table(tmp_path):
  out = tmp_path / "gpu.md"
  done = subprocess.run(
    [sys.executable, "benchmarks/gpu.py", "--dry-run", "--out", str(out)],
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=600,
  )
  assert done.returncode == 0, done.stderr[-3000:]
  text = out.read_text()
  row = next(line for line in text.splitlines() if "test_golden_building_blocks.py" in line)
  passed, failed = (int(cell) for cell in row.split("|")[2:4])
  assert passed > 0 and failed == 0, row
  assert " passed" in text.split("### Recorded trajectories")[1].split("|")[0]
  for section in ("### flat 4K", "### Compile time", "### Exact schedules", "### lazy_rows"):
    assert section in text, section
