"""``torch.backends.cpu.get_cpu_capability()``, decided as PyTorch decides it, without PyTorch.

PyTorch compiles its CPU kernels several times and picks one set when it starts
(ATen's ``compute_cpu_capability``):

1. the ``ATEN_CPU_CAPABILITY`` environment variable, when it is ``avx512``, ``avx2`` or
   ``default`` (any other value is ignored with a warning);
2. else the CPU's flags: AVX-512 VL, BW and DQ with FMA give ``"AVX512"``; AVX2 with FMA
   gives ``"AVX2"``; anything else ``"DEFAULT"``.

Here the flags come from ``/proc/cpuinfo`` (Linux on x86-64: the kernel lists only the
features the operating system has enabled, as PyTorch's cpuinfo checks). Where that
file is missing or lists no x86 flags (macOS, Windows, ARM), the capability is unknown
and :func:`get_cpu_capability` returns ``None``: PyTorch's kernels there were not
recorded.
"""

import os
import pathlib
import warnings

_ENVIRONMENT_VARIABLE = "ATEN_CPU_CAPABILITY"
_CPUINFO = pathlib.Path("/proc/cpuinfo")
_AVX512_FLAGS = frozenset({"avx512vl", "avx512bw", "avx512dq", "fma"})
_AVX2_FLAGS = frozenset({"avx2", "fma"})


def _cpu_flags(cpuinfo: pathlib.Path) -> frozenset[str] | None:
  """The first processor's ``flags`` line of a /proc/cpuinfo file, or None without one."""
  try:
    text = cpuinfo.read_text()
  except OSError:
    return None
  for line in text.splitlines():
    name, _, value = line.partition(":")
    if name.strip() == "flags":
      return frozenset(value.split())
  return None


def get_cpu_capability(
  environ: dict | None = None, cpuinfo: str | os.PathLike | None = None
) -> str | None:
  """The CPU capability PyTorch picks on this machine: ``"AVX512"``, ``"AVX2"``,
  ``"DEFAULT"``, or ``None`` where it cannot be told without PyTorch.

  The rule (ATen's ``compute_cpu_capability``): ``ATEN_CPU_CAPABILITY`` set to
  ``avx512``, ``avx2`` or ``default`` wins; otherwise AVX-512 VL+BW+DQ with FMA is
  ``"AVX512"``, AVX2 with FMA ``"AVX2"``, other x86 CPUs ``"DEFAULT"``.

  Args:
    environ: the environment to read (default ``os.environ``).
    cpuinfo: the file with the CPU's flags (default ``/proc/cpuinfo``).

  Returns:
    PyTorch's name for the kernels it runs, or ``None`` when neither the environment
    variable nor the file tells (a machine that is not Linux on x86-64).

  Example:
    >>> from adamax_optax.torch.backends import cpu
    >>> cpu.get_cpu_capability(environ={"ATEN_CPU_CAPABILITY": "avx2"})
    'AVX2'

  References:
    PyTorch ``torch.backends.cpu.get_cpu_capability`` and ATen's
    ``aten/src/ATen/native/DispatchStub.cpp``.
  """
  environ = os.environ if environ is None else environ
  requested = environ.get(_ENVIRONMENT_VARIABLE)
  if requested is not None:
    if requested in ("avx512", "avx2", "default"):
      return requested.upper()
    warnings.warn(
      f"ignoring invalid value for {_ENVIRONMENT_VARIABLE}: {requested!r} (PyTorch ignores "
      "it too; it takes avx512, avx2 or default).",
      stacklevel=2,
    )
  flags = _cpu_flags(pathlib.Path(cpuinfo) if cpuinfo is not None else _CPUINFO)
  if flags is None:
    return None
  if flags >= _AVX512_FLAGS:
    return "AVX512"
  if flags >= _AVX2_FLAGS:
    return "AVX2"
  if "sse2" in flags:  # an x86 CPU without AVX2: PyTorch's generic kernels
    return "DEFAULT"
  return None


__all__ = ["get_cpu_capability"]
