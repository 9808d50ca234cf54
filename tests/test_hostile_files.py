"""Checkpoint readers under broken and hostile files: mutated real files load or raise a
CheckpointError naming the file, within a memory bound; each kind of damage is named."""

import io
import pickle
import struct
import tracemalloc
import zipfile

import hostile_files
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adamax_optax.checkpoint import CheckpointError, UnsafePickleError
from adamax_optax.keras import checkpoint as keras_ckpt
from adamax_optax.mindspore import checkpoint as ms_ckpt
from adamax_optax.mxnet import checkpoint as mxnet_ckpt
from adamax_optax.paddle import checkpoint as paddle_ckpt
from adamax_optax.torch import checkpoint as torch_ckpt

pytest.importorskip("h5py")

GOLDEN = hostile_files.GOLDEN
TORCH_MODEL = GOLDEN / "torch/checkpoints/adamax_model.pt"
TORCH_OPTIMIZER = GOLDEN / "torch/checkpoints/adamax_optimizer.pt"
TEMPLATE = hostile_files.TEMPLATE


@pytest.mark.parametrize("format_name", list(hostile_files.FORMATS))
@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_mutated_real_files_load_or_raise_a_documented_error_within_the_bound(
  tmp_path_factory, format_name, seed
):
  path = tmp_path_factory.mktemp("mutant") / hostile_files.file_name(format_name)
  hostile_files.warm_up(format_name)
  original = hostile_files.original(format_name)
  path.write_bytes(hostile_files.mutate(original, np.random.default_rng(seed)))
  verdict, detail, _ = hostile_files.outcome(format_name, path)
  assert verdict in ("loaded", "documented"), detail


@pytest.mark.parametrize("format_name", list(hostile_files.FORMATS))
def test_the_real_files_load_within_the_bound(tmp_path, format_name):
  path = tmp_path / hostile_files.file_name(format_name)
  path.write_bytes(hostile_files.original(format_name))
  hostile_files.warm_up(format_name)
  assert hostile_files.outcome(format_name, path)[0] == "loaded"


READERS = {
  "torch": (lambda p: torch_ckpt.load(p), "x.pt"),
  "torch model": (lambda p: torch_ckpt.from_torch_model_file(p, TEMPLATE), "x.pt"),
  "mxnet states": (lambda p: mxnet_ckpt.load_states(p), "x.states"),
  "mxnet params": (lambda p: mxnet_ckpt.load_parameters(p), "x.params"),
  "paddle": (lambda p: paddle_ckpt.load(p), "x.pdopt"),
  "mindspore": (lambda p: ms_ckpt.load_checkpoint(p), "x.ckpt"),
  "safetensors": (lambda p: ms_ckpt.load_checkpoint(p), "x.safetensors"),
  "keras": (lambda p: keras_ckpt.load_weights(p), "x.weights.h5"),
}


@pytest.mark.parametrize("reader", list(READERS))
def test_a_missing_file_raises_file_not_found(tmp_path, reader):
  read, name = READERS[reader]
  with pytest.raises(FileNotFoundError):
    read(tmp_path / name)


TRUNCATED = {
  "torch": ("torch/checkpoints/adamax_optimizer.pt", "x.pt", r"truncated \(a zip archive"),
  "mxnet params": ("mxnet/checkpoints/mxnet1_fp32.params", "x.params", "truncated MXNet"),
  "mxnet states": ("mxnet/checkpoints/mxnet2_fp32.states", "x.states", "truncated"),
  "paddle": ("paddle/checkpoints/adamax.pdopt", "x.pdopt", "truncated"),
  "mindspore": ("mindspore/checkpoints/ms_exp_step5.ckpt", "x.ckpt", "Truncated protobuf"),
  "safetensors": ("mindspore/checkpoints/ms_exp_step5.safetensors", "x.safetensors", "truncated"),
  "keras": ("keras/checkpoints/keras_step5.weights.h5", "x.weights.h5", "truncated"),
}


@pytest.mark.parametrize("reader", list(TRUNCATED))
def test_a_truncated_file_says_so_and_names_the_file(tmp_path, reader):
  source, name, message = TRUNCATED[reader]
  data = (GOLDEN / source).read_bytes()
  path = tmp_path / name
  path.write_bytes(data[: len(data) // 2])
  with pytest.raises(CheckpointError, match=message) as info:
    READERS[reader][0](path)
  assert str(path) in str(info.value)


def test_a_bad_crc_in_a_torch_archive_is_named_and_chained(tmp_path):
  data = bytearray(TORCH_OPTIMIZER.read_bytes())
  with zipfile.ZipFile(TORCH_OPTIMIZER) as archive:
    info = archive.getinfo("adamax_optimizer/data/1")
  # the record's bytes follow its local header: 30 bytes, then its name and extra field
  name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
  data[info.header_offset + 30 + name_length + extra_length + 2] ^= 0xFF
  path = tmp_path / "x.pt"
  path.write_bytes(bytes(data))
  with pytest.raises(CheckpointError, match=r"x\.pt is not a readable .* CRC-32") as error:
    torch_ckpt.load(path)
  assert isinstance(error.value.__cause__, zipfile.BadZipFile)
  assert "Bad CRC-32 for file 'adamax_optimizer/data/1'" in str(error.value)


def test_an_mxnet_name_that_is_not_utf8_is_named_and_chained(tmp_path):
  path = tmp_path / "x.params"
  mxnet_ckpt.save_parameters(path, {"w": np.ones(2, np.float32)}, version=1)
  path.write_bytes(path.read_bytes()[:-1] + b"\xff")
  with pytest.raises(CheckpointError, match=r"x\.params .* not valid UTF-8") as error:
    mxnet_ckpt.load_parameters(path)
  assert isinstance(error.value.__cause__, UnicodeDecodeError)


def test_an_unsupported_torch_archive_version_is_named(tmp_path):
  path = tmp_path / "x.pt"
  torch_ckpt.save({"w": np.ones(2, np.float32)}, path)
  with zipfile.ZipFile(path) as archive:
    records = {name: archive.read(name) for name in archive.namelist()}
  records["x/version"] = b"9\n"
  with zipfile.ZipFile(path, "w") as archive:
    for name, content in records.items():
      archive.writestr(name, content)
  with pytest.raises(CheckpointError, match=r"unsupported torch\.save archive version '9'"):
    torch_ckpt.load(path)


def test_a_legacy_torch_file_is_named_as_legacy(tmp_path):
  path = tmp_path / "old.pt"
  magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)[:-1]
  path.write_bytes(magic + b".")
  with pytest.raises(CheckpointError, match=r"not a torch\.save zip archive \(saved in PyTorch's"):
    torch_ckpt.load(path)


def test_a_model_file_given_to_the_optimizer_reader_says_so():
  message = r"adamax_model\.pt is not an optimizer's state_dict: it has no 'state' entry"
  with pytest.raises(CheckpointError, match=message):
    torch_ckpt.from_torch_optimizer_file(TORCH_MODEL, TEMPLATE)


def test_the_keras_reader_names_a_file_that_is_not_hdf5(tmp_path):
  path = tmp_path / "x.weights.h5"
  path.write_bytes(b"not hdf5 at all" * 10)
  with pytest.raises(CheckpointError, match=r"x\.weights\.h5' is not a Keras weight file"):
    keras_ckpt.load_weights(path)


def test_mindspore_mentions_encryption_only_when_the_file_could_be_encrypted(tmp_path):
  path = tmp_path / "x.ckpt"
  path.write_bytes(np.random.default_rng(0).integers(1, 256, 400).astype(np.uint8).tobytes())
  if path.read_bytes()[0] == 0x0A:
    path.write_bytes(b"\x01" + path.read_bytes()[1:])
  with pytest.raises(CheckpointError, match=r"does not start as one .* encrypted checkpoint"):
    ms_ckpt.load_checkpoint(path)
  data = (GOLDEN / "mindspore/checkpoints/ms_exp_step5.ckpt").read_bytes()
  path.write_bytes(data[:-7])
  with pytest.raises(CheckpointError, match="Truncated") as info:
    ms_ckpt.load_checkpoint(path)
  assert "encrypt" not in str(info.value)


def _peak_while(read) -> int:
  tracemalloc.start()
  try:
    with pytest.raises(CheckpointError) as info:
      read()
  finally:
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
  assert info.value is not None
  return peak


def test_a_pickle_declaring_gigabytes_is_refused_before_allocating(tmp_path):
  path = tmp_path / "x.pdopt"
  for blob in (
    b"\x80\x03B" + struct.pack("<I", 0xFFFFFFF0) + b"abc.",  # BINBYTES of 4 GB
    b"\x80\x04\x8e" + struct.pack("<Q", 1 << 40) + b"abc.",  # BINBYTES8 of 1 TB
    b"\x80\x02X" + struct.pack("<I", 0xFFFFFFF0) + b"abc.",  # BINUNICODE of 4 GB
  ):
    path.write_bytes(blob)
    assert _peak_while(lambda: paddle_ckpt.load(path)) < 1 << 20


def test_a_memo_index_past_the_file_is_refused(tmp_path):
  path = tmp_path / "x.states"
  path.write_bytes(b"\x80\x02]r" + struct.pack("<I", 0xFFFFFFF0) + b".")  # LONG_BINPUT
  with pytest.raises(CheckpointError, match="memo index 4294967280"):
    mxnet_ckpt.load_states(path)


def test_sets_are_refused_in_every_protocol(tmp_path):
  path = tmp_path / "x.pdopt"
  path.write_bytes(pickle.dumps({"a": {1, 2}}, protocol=2))  # through the global set
  with pytest.raises(UnsafePickleError, match=r"refusing to load '__builtin__\.set'"):
    paddle_ckpt.load(path)
  path.write_bytes(pickle.dumps({"a": {1, 2}}, protocol=4))  # through EMPTY_SET
  with pytest.raises(CheckpointError, match=r"x\.pdopt: a set \(EMPTY_SET at byte \d+\)"):
    paddle_ckpt.load(path)


def test_an_array_larger_than_its_bytes_is_refused(tmp_path):
  # A NumPy array pickle whose shape says 10**12 elements over 8 bytes of data.
  blob = pickle.dumps({"x": np.ones(2, np.float32)}, protocol=4)
  blob = blob.replace(b"K\x02\x85", b"\x8a\x06\x00\x10\xa5\xd4\xe8\x00\x85")
  path = tmp_path / "x.pdparams"
  path.write_bytes(blob)
  with pytest.raises(CheckpointError, match=r"x\.pdparams .*holds 8 bytes"):
    paddle_ckpt.load(path)


def test_a_broadcast_torch_tensor_cannot_allocate_past_the_bound(tmp_path):
  path = tmp_path / "t.pt"
  torch_ckpt.save({"w": np.arange(4, dtype=np.float32)}, path)
  with zipfile.ZipFile(path) as archive:
    pkl = archive.read("t/data.pkl")
  # size (10**9,), stride (0,): every element reads element 0 of the 4-element storage
  pkl = pkl.replace(b"(K\x04t(K\x01t", b"(J\x00\xca\x9a;t(K\x00t")
  with zipfile.ZipFile(path, "w") as archive:
    archive.writestr("t/data.pkl", pkl)
    archive.writestr("t/data/0", np.arange(4, dtype=np.float32).tobytes())
  with pytest.raises(CheckpointError, match="declares 4000000000 bytes, more than a"):
    torch_ckpt.load(path)


def test_an_npz_header_declaring_more_than_it_holds_is_refused(tmp_path):
  path = tmp_path / "x.params"
  buffer = io.BytesIO()
  np.lib.format.write_array_header_1_0(
    buffer, {"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**6)}
  )
  with zipfile.ZipFile(path, "w") as archive:
    archive.writestr("w.npy", buffer.getvalue() + b"\x00" * 16)
  assert _peak_while(lambda: mxnet_ckpt.load_parameters(path)) < 1 << 20


def test_a_zip_bomb_record_cannot_inflate_past_the_bound(tmp_path):
  path = tmp_path / "x.params"
  buffer = io.BytesIO()
  np.save(buffer, np.zeros(4 * 10**6, np.float32))  # 16 MB of zeros, a few KB deflated
  with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
    archive.writestr("w.npy", buffer.getvalue())
  with pytest.raises(CheckpointError, match=r"declares 16000128 bytes, more than a \d+-byte"):
    mxnet_ckpt.load_parameters(path)


def test_unsafe_pickles_are_checkpoint_errors_too(tmp_path):
  path = tmp_path / "x.pdopt"
  path.write_bytes(b"\x80\x02cos\nsystem\n.")
  with pytest.raises(UnsafePickleError) as info:
    paddle_ckpt.load(path)
  assert isinstance(info.value, CheckpointError) and isinstance(info.value, pickle.PickleError)


# ---------------------------------------------------------------- readers for real files


def test_a_flat_state_dict_with_dotted_names_reads_into_flat_params(tmp_path):
  path = tmp_path / "model.pt"
  saved = {"fc1.weight": np.ones((2, 3), np.float32), "fc1.bias": np.full(2, 2, np.float32)}
  torch_ckpt.save(saved, path)  # what torch.save(model.state_dict(), path) holds
  flat = {"fc1.weight": np.zeros((2, 3), np.float32), "fc1.bias": np.zeros(2, np.float32)}
  got = torch_ckpt.from_torch_model_file(path, flat)
  np.testing.assert_array_equal(got["fc1.weight"], saved["fc1.weight"])
  nested = torch_ckpt.from_torch_model_file(path, {"fc1": {"weight": flat["fc1.weight"]}})
  np.testing.assert_array_equal(nested["fc1"]["weight"], saved["fc1.weight"])
  with pytest.raises(CheckpointError, match=r"has no parameter 'fc2.weight'"):
    torch_ckpt.from_torch_model_file(path, {"fc2.weight": flat["fc1.weight"]})


def test_a_train_cell_checkpoint_is_read_with_prefix(tmp_path):
  params = {"fc1": {"weight": np.arange(6, dtype=np.float32).reshape(2, 3)}}
  mu = {"fc1": {"weight": np.ones((2, 3), np.float32)}}
  nu = {"fc1": {"weight": np.full((2, 3), 2, np.float32)}}
  names = {"fc1/weight": "fc1.weight"}
  entries = ms_ckpt.to_mindspore_checkpoint(mu, nu, 7, params=params, names=names)
  # a custom train cell holds the network as self.network and the optimizer as self.optimizer
  cell = {("network." if k == "fc1.weight" else "optimizer.") + k: v for k, v in entries.items()}
  path = tmp_path / "cell.ckpt"
  ms_ckpt.save_checkpoint(cell, path)
  loaded = ms_ckpt.load_checkpoint(path)
  assert "optimizer.exp_avg.fc1.weight" in loaded and "optimizer.step_t" in loaded
  with pytest.raises(ValueError, match=r"no 'exp_avg.fc1.weight'.* prefix="):
    ms_ckpt.from_mindspore_checkpoint(loaded, params, names=names)
  got_mu, got_nu, step = ms_ckpt.from_mindspore_checkpoint(
    loaded, params, names=names, prefix="optimizer."
  )
  assert step == 7
  np.testing.assert_array_equal(got_mu["fc1"]["weight"], mu["fc1"]["weight"])
  np.testing.assert_array_equal(got_nu["fc1"]["weight"], nu["fc1"]["weight"])
  got = ms_ckpt.params_from_mindspore_checkpoint(loaded, params, names=names, prefix="network.")
  np.testing.assert_array_equal(got["fc1"]["weight"], params["fc1"]["weight"])
