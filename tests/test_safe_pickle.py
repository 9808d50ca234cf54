"""The restricted unpickler (adamax_optax.checkpoint._restricted_pickle) refuses every global
outside its allow-list without calling it, in each wing's file reader."""

import os
import pickle
import subprocess
import zipfile

import numpy as np
import pytest

from adamax_optax.checkpoint import UnsafePickleError
from adamax_optax.mxnet import checkpoint as mxnet_checkpoint
from adamax_optax.paddle import checkpoint as paddle_checkpoint
from adamax_optax.torch import checkpoint as torch_checkpoint


class Payload:
  """Unpickling this with a plain unpickler would call ``function(*args)``."""

  def __init__(self, function, *args):
    self.function, self.args = function, args

  def __reduce__(self):
    return self.function, self.args


def payloads(marker):
  command = f"touch {marker}"
  return {
    "os.system": Payload(os.system, command),
    "builtins.eval": Payload(eval, f"open({str(marker)!r}, 'w')"),
    "builtins.exec": Payload(exec, f"open({str(marker)!r}, 'w')"),
    "subprocess.check_call": Payload(subprocess.check_call, ["touch", str(marker)]),
    "nested in a dict": {"state": {0: {"exp_avg": [1, Payload(os.system, command)]}}},
  }


def write_torch(path, data_pkl: bytes):
  with zipfile.ZipFile(path, "w") as archive:
    archive.writestr("archive/data.pkl", data_pkl)
    archive.writestr("archive/version", "3\n")


def readers(tmp_path, blob: bytes):
  """Each reader, with a file whose pickle is ``blob``."""
  write_torch(tmp_path / "evil.pt", blob)
  (tmp_path / "evil.states").write_bytes(blob)
  (tmp_path / "evil.pdopt").write_bytes(blob)
  return {
    "torch": lambda: torch_checkpoint.load(tmp_path / "evil.pt"),
    "mxnet": lambda: mxnet_checkpoint.load_states(tmp_path / "evil.states"),
    "paddle": lambda: paddle_checkpoint.load(tmp_path / "evil.pdopt"),
  }


@pytest.mark.parametrize("kind", list(payloads("x")))
@pytest.mark.parametrize("protocol", [2, 4])
def test_malicious_pickles_are_refused_without_running(tmp_path, kind, protocol):
  marker = tmp_path / "pwned"
  blob = pickle.dumps(payloads(marker)[kind], protocol=protocol)
  for framework, read in readers(tmp_path, blob).items():
    with pytest.raises(
      UnsafePickleError, match=r"refusing to load '[\w.]+\.(system|eval|exec|check_call)'"
    ):
      read()
    assert not marker.exists(), framework


def test_the_error_names_the_global_and_the_file(tmp_path):
  blob = pickle.dumps(Payload(os.system, "true"), protocol=2)
  (tmp_path / "x.pdparams").write_bytes(blob)
  with pytest.raises(UnsafePickleError) as info:
    paddle_checkpoint.load(tmp_path / "x.pdparams")
  message = str(info.value)
  assert f"'{os.system.__module__}.system'" in message and "x.pdparams" in message
  assert "not a tensor/array" in message


def test_an_allowed_global_cannot_be_modified_by_build(tmp_path):
  # GLOBAL collections.OrderedDict, then BUILD with a state: would set attributes on it.
  blob = b"\x80\x02ccollections\nOrderedDict\n}X\x03\x00\x00\x00fooK\x01sb."
  write_torch(tmp_path / "t.pt", blob)
  with pytest.raises(UnsafePickleError, match="refusing to modify"):
    torch_checkpoint.load(tmp_path / "t.pt")


def test_a_storage_type_cannot_be_modified_by_build(tmp_path):
  blob = b"\x80\x02ctorch\nFloatStorage\n}X\x05\x00\x00\x00dtypeX\x01\x00\x00\x00Osb."
  write_torch(tmp_path / "t.pt", blob)
  with pytest.raises(UnsafePickleError, match="refusing to modify"):
    torch_checkpoint.load(tmp_path / "t.pt")


def test_a_tensor_reaching_past_its_storage_is_refused(tmp_path):
  path = tmp_path / "t.pt"
  torch_checkpoint.save({"w": np.arange(4, dtype=np.float32)}, path)
  with zipfile.ZipFile(path) as archive:
    pkl = archive.read("t/data.pkl")
  assert b"(K\x04t(K\x01t" in pkl  # size (4,), stride (1,)
  pkl = pkl.replace(b"(K\x04t(K\x01t", b"(K\x40t(K\x01t")  # size (64,)
  with zipfile.ZipFile(path, "w") as archive:
    archive.writestr("t/data.pkl", pkl)
    archive.writestr("t/data/0", np.arange(4, dtype=np.float32).tobytes())
  with pytest.raises(ValueError, match="reads past its storage"):
    torch_checkpoint.load(path)


def test_object_arrays_are_refused(tmp_path):
  path = tmp_path / "o.pdopt"
  path.write_bytes(pickle.dumps({"x": np.array([1, "a"], dtype=object)}, protocol=4))
  with pytest.raises(UnsafePickleError, match="dtype"):
    paddle_checkpoint.load(path)


def test_numpy_pickles_round_trip(tmp_path):
  arrays = {
    "f32": np.arange(6, dtype=np.float32).reshape(2, 3),
    "f16": np.array(1.5, np.float16),
    "fortran": np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)),
    "big_endian": np.arange(3, dtype=">f4"),
    "scalar": np.float32(2.5),
    "pair": ("name", np.ones(2, np.int64)),
  }
  path = tmp_path / "a.pdparams"
  path.write_bytes(pickle.dumps(arrays, protocol=4))
  got = paddle_checkpoint.load(path)
  for k, v in arrays.items():
    want = v[1] if k == "pair" else v
    np.testing.assert_array_equal(got[k], want)
    assert np.asarray(got[k]).dtype == np.asarray(want).dtype, k


def test_a_torch_file_in_the_legacy_format_is_explained(tmp_path):
  path = tmp_path / "old.pt"
  path.write_bytes(pickle.dumps({"a": 1}, protocol=2))
  with pytest.raises(ValueError, match=r"not a torch\.save zip archive"):
    torch_checkpoint.load(path)


def test_allowed_globals_refuse_calls_outside_their_purpose(tmp_path):
  # bytearray(10**12) would allocate a terabyte; numpy.ndarray(...) uninitialized memory.
  for blob in (
    b"\x80\x02c__builtin__\nbytearray\n(\x8a\x06\x00\x10\xa5\xd4\xe8\x00tR.",
    b"\x80\x02cbuiltins\nbytearray\n(\x8a\x06\x00\x10\xa5\xd4\xe8\x00tR.",
    b"\x80\x02cnumpy\nndarray\n(K\x05\x85tR.",
  ):
    (tmp_path / "x.states").write_bytes(blob)
    (tmp_path / "x.pdopt").write_bytes(blob)
    with pytest.raises(UnsafePickleError):
      mxnet_checkpoint.load_states(tmp_path / "x.states")
    with pytest.raises(UnsafePickleError):
      paddle_checkpoint.load(tmp_path / "x.pdopt")


def test_truncated_or_deeply_nested_files_fail_cleanly(tmp_path):
  path = tmp_path / "t.pdopt"
  path.write_bytes(pickle.dumps({"a": np.ones(3)}, protocol=4)[:-20])
  with pytest.raises(ValueError, match="not a readable checkpoint"):
    paddle_checkpoint.load(path)
  depth = 100_000  # lists nested 100,000 deep: each APPEND puts the top list into the next
  path.write_bytes(b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b".")
  with pytest.raises(ValueError, match="RecursionError"):
    paddle_checkpoint.load(path)
