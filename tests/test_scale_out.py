"""Data parallel, sharded and multi-process training, each in processes of its own
(the device count and the distributed runtime are fixed when jax starts)."""

import os
import pathlib
import socket
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import started_early

pytestmark = pytest.mark.slow  # 8 devices and two processes

SCRIPTS = pathlib.Path(__file__).parent / "scripts"


def run_script(name, *args, env=None, timeout=300):
  return subprocess.run(
    [sys.executable, str(SCRIPTS / name), *args],
    check=True,
    capture_output=True,
    text=True,
    timeout=timeout,
    env={**os.environ, **(env or {})},
  )


def data_parallel_on_8_devices():
  return run_script(
    "data_parallel.py", env={"XLA_FLAGS": "--xla_force_host_platform_device_count=8"}
  )


@started_early.mark(data_parallel_on_8_devices)
def test_pmap_data_parallel_and_fsdp_sharded_state_on_8_cpu_devices():
  result = started_early.outcome(data_parallel_on_8_devices)
  assert result.stdout.count("single device on the full batch") == 4, result.stdout
  assert result.stdout.count("state sharded like the params") == 4, result.stdout


def _free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def two_processes_and_one():
  """The final params of the two processes training together, and of one alone."""
  script = str(SCRIPTS / "multi_process.py")
  port = _free_port()
  with tempfile.TemporaryDirectory() as directory:
    directory = pathlib.Path(directory)
    outs = [directory / f"p{i}.npz" for i in range(2)]
    # Their output goes to files: run in the background, they have no test's capture.
    logs = [directory / f"p{i}.log" for i in range(2)]
    procs = []
    for i in range(2):
      with logs[i].open("w") as log:
        command = [sys.executable, script, str(i), "2", str(port), str(outs[i])]
        procs.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
    try:
      for proc, log in zip(procs, logs, strict=True):
        assert proc.wait(timeout=240) == 0, log.read_text()[-3000:]
    finally:
      for proc in procs:
        if proc.poll() is None:
          proc.kill()
    single = directory / "single.npz"
    run_script("multi_process.py", "0", "1", "0", str(single))
    return [dict(np.load(p)) for p in (*outs, single)]


@started_early.mark(two_processes_and_one)
def test_two_processes_train_like_one():
  first, second, single = started_early.outcome(two_processes_and_one)
  for k in single:
    np.testing.assert_array_equal(first[k], second[k], err_msg=k)  # replicas agree exactly
    np.testing.assert_allclose(first[k], single[k], rtol=1e-5, atol=1e-6, err_msg=k)
