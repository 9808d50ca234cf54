"""Data parallel, sharded and multi-process training, each in processes of its own
(the device count and the distributed runtime are fixed when jax starts)."""

import os
import pathlib
import socket
import subprocess
import sys

import numpy as np
import pytest

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


def test_pmap_data_parallel_and_fsdp_sharded_state_on_8_cpu_devices():
  result = run_script(
    "data_parallel.py", env={"XLA_FLAGS": "--xla_force_host_platform_device_count=8"}
  )
  assert result.stdout.count("single device on the full batch") == 4, result.stdout
  assert result.stdout.count("state sharded like the params") == 4, result.stdout


def _free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def test_two_processes_train_like_one(tmp_path):
  script = str(SCRIPTS / "multi_process.py")
  port = _free_port()
  outs = [tmp_path / f"p{i}.npz" for i in range(2)]
  procs = [
    subprocess.Popen([sys.executable, script, str(i), "2", str(port), str(outs[i])])
    for i in range(2)
  ]
  try:
    for proc in procs:
      assert proc.wait(timeout=240) == 0
  finally:
    for proc in procs:
      if proc.poll() is None:
        proc.kill()
  run_script("multi_process.py", "0", "1", "0", str(tmp_path / "single.npz"))
  first, second, single = (np.load(p) for p in (*outs, tmp_path / "single.npz"))
  for k in single.files:
    np.testing.assert_array_equal(first[k], second[k], err_msg=k)  # replicas agree exactly
    np.testing.assert_allclose(first[k], single[k], rtol=1e-5, atol=1e-6, err_msg=k)
