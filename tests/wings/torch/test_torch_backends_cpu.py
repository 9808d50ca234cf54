"""adamax_optax.torch.backends.cpu.get_cpu_capability: PyTorch's rule, read without PyTorch."""

import pytest

from adamax_optax.torch.backends import cpu
from adamax_optax.torch.optim import Adamax
from adamax_optax.torch.optim import adamax as adamax_module

AVX512_FLAGS = "fpu sse2 avx avx2 fma avx512f avx512dq avx512bw avx512vl"


def _cpuinfo(tmp_path, flags):
  path = tmp_path / "cpuinfo"
  path.write_text(f"processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: {flags}\n\n")
  return path


@pytest.mark.parametrize(
  ("flags", "capability"),
  [
    (AVX512_FLAGS, "AVX512"),
    ("fpu sse2 avx avx2 fma avx512f", "AVX2"),  # AVX-512 without VL/BW/DQ
    ("fpu sse2 avx avx2", "DEFAULT"),  # AVX2 without FMA
    ("fpu sse2 avx", "DEFAULT"),
  ],
)
def test_the_cpu_flags_decide(tmp_path, flags, capability):
  assert cpu.get_cpu_capability(environ={}, cpuinfo=_cpuinfo(tmp_path, flags)) == capability


@pytest.mark.parametrize("value", ["avx512", "avx2", "default"])
def test_the_environment_variable_wins(tmp_path, value):
  environ = {"ATEN_CPU_CAPABILITY": value}
  path = _cpuinfo(tmp_path, AVX512_FLAGS)
  assert cpu.get_cpu_capability(environ=environ, cpuinfo=path) == value.upper()


def test_an_invalid_environment_value_is_ignored_with_a_warning(tmp_path):
  path = _cpuinfo(tmp_path, AVX512_FLAGS)
  with pytest.warns(UserWarning, match="ignoring invalid value for ATEN_CPU_CAPABILITY"):
    capability = cpu.get_cpu_capability(environ={"ATEN_CPU_CAPABILITY": "AVX2"}, cpuinfo=path)
  assert capability == "AVX512"  # PyTorch compares case-sensitively too


def test_unknown_without_x86_flags(tmp_path):
  arm = tmp_path / "cpuinfo"
  arm.write_text("processor\t: 0\nFeatures\t: fp asimd sve\n")
  assert cpu.get_cpu_capability(environ={}, cpuinfo=arm) is None
  assert cpu.get_cpu_capability(environ={}, cpuinfo=tmp_path / "missing") is None


def test_the_preset_takes_this_machines_kernels_by_default(monkeypatch):
  chosen = []
  monkeypatch.setattr(adamax_module.cpu, "get_cpu_capability", lambda: "AVX2")
  real_chain = adamax_module.torch_style_chain

  def recording_chain(*args, vector_chunk, **kwargs):
    chosen.append(vector_chunk)
    return real_chain(*args, vector_chunk=vector_chunk, **kwargs)

  monkeypatch.setattr(adamax_module, "torch_style_chain", recording_chain)
  Adamax(weight_decay=0.1)
  monkeypatch.setattr(adamax_module.cpu, "get_cpu_capability", lambda: None)
  Adamax(weight_decay=0.1)
  assert chosen == [32, 32]


def test_a_cpu_without_avx2_warns(monkeypatch):
  monkeypatch.setattr(adamax_module.cpu, "get_cpu_capability", lambda: "DEFAULT")
  with pytest.warns(UserWarning, match="generic kernels"):
    Adamax(weight_decay=0.1)
