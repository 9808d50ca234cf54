"""The files ``torch.save`` writes, read and written with NumPy alone, never running their code.

PyTorch's zip archive (``torch.save``, the default since 1.6): ``data.pkl`` refers to raw
storages ``data/<key>`` through persistent ids; tensors are rebuilt as strided views of
them. The pickle is read by :func:`adamax_optax.checkpoint._restricted_pickle.restricted_loads`
allowing only storages, tensors, parameters, ``OrderedDict`` and ``Counter`` (read as a
dict: a ``MultiStepLR``'s milestones).

The module needs only NumPy (the recording script loads it inside PyTorch's own
environment to check that PyTorch takes what it writes).
"""

import os
import zipfile
from collections.abc import Mapping

import numpy as np

from adamax_optax.checkpoint._reading import (
  CheckpointError,
  array_bytes,
  charge,
  read_zip_record,
  reading,
)
from adamax_optax.checkpoint._restricted_pickle import (
  CONTAINERS,
  Call,
  Constructor,
  Global,
  Persistent,
  UnsafePickleError,
  dumps,
  restricted_loads,
)

_TORCH_STORAGES = {
  "FloatStorage": np.float32,
  "DoubleStorage": np.float64,
  "HalfStorage": np.float16,
  "LongStorage": np.int64,
  "IntStorage": np.int32,
  "ShortStorage": np.int16,
  "CharStorage": np.int8,
  "ByteStorage": np.uint8,
  "BoolStorage": np.bool_,
}
try:  # bfloat16 needs ml_dtypes (a JAX dependency), absent from the recording venvs
  import ml_dtypes

  _TORCH_STORAGES["BFloat16Storage"] = ml_dtypes.bfloat16
except ImportError:  # pragma: no cover
  pass
_STORAGE_OF = {np.dtype(v): k for k, v in _TORCH_STORAGES.items()}


class _StorageType:
  def __init__(self, name):
    self.name, self.dtype = name, np.dtype(_TORCH_STORAGES[name])

  def __setstate__(self, state):
    raise UnsafePickleError(f"refusing to modify the allowed global 'torch.{self.name}'.")


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, meta=None):
  if not isinstance(storage, np.ndarray) or storage.ndim != 1:
    raise UnsafePickleError("a tensor must be rebuilt from a storage of the archive.")
  size, stride, offset = tuple(map(int, size)), tuple(map(int, stride)), int(offset)
  if len(size) != len(stride) or min((*size, *stride, offset), default=0) < 0:
    raise ValueError(f"invalid tensor layout size={size} stride={stride} offset={offset}.")
  charge(array_bytes(size, storage.itemsize, "a tensor"), f"a tensor of size {size}")
  if 0 in size:
    return np.zeros(size, storage.dtype)
  last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
  if last >= storage.size:  # never read outside the storage
    raise ValueError(f"tensor of size {size} reads past its storage of {storage.size}.")
  item = storage.itemsize
  view = np.lib.stride_tricks.as_strided(
    storage[offset:], size, tuple(s * item for s in stride), writeable=False
  )
  return np.array(view)


def _rebuild_parameter(data, requires_grad=False, hooks=None, state=None):
  return data


def _counter(counts=None):
  """``collections.Counter`` (MultiStepLR keeps its milestones in one) as a plain dict of
  ints: the file may give it nothing else."""
  counts = {} if counts is None else counts
  if not isinstance(counts, dict) or not all(
    isinstance(n, int) and not isinstance(n, bool) for n in counts.values()
  ):
    raise UnsafePickleError("Counter takes a dict of counts here.")
  return dict(counts)


def _torch_globals() -> dict:
  out = {**CONTAINERS, "collections.Counter": Constructor("collections.Counter", _counter)}
  out.update({f"torch.{k}": _StorageType(k) for k in _TORCH_STORAGES})
  for name, build in (
    ("torch._utils._rebuild_tensor_v2", _rebuild_tensor),
    ("torch._utils._rebuild_parameter", _rebuild_parameter),
    ("torch._utils._rebuild_parameter_with_state", _rebuild_parameter),
  ):
    out[name] = Constructor(name, build)
  return out


# The archive's ``version`` record: PyTorch 2.13 writes 3 (tests/golden/torch); a later
# version may change the layout, so it is refused by name rather than read by guess.
_ARCHIVE_VERSIONS = ("1", "2", "3")
# torch.save's legacy format (before 1.6) starts with a pickled magic number.
_LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"
_ZIP_START = b"PK\x03\x04"


def _not_an_archive(path: str, head: bytes) -> CheckpointError:
  if head.startswith(_LEGACY_MAGIC):
    what = "saved in PyTorch's legacy format (before 1.6)"
  elif head.startswith(_ZIP_START):
    what = "truncated (a zip archive without its directory at the end)"
  else:
    what = "legacy format, or not a torch file"
  return CheckpointError(
    f"{path} is not a torch.save zip archive ({what}); re-save it with torch.save in "
    "PyTorch >= 1.6."
  )


def load(path) -> object:
  """What ``torch.save`` wrote to ``path``, tensors as NumPy arrays (``torch.load``
  without torch and without running code from the file).

  Raises:
    FileNotFoundError: no file at ``path`` (an ``OSError`` when it cannot be opened).
    UnsafePickleError: the file names a function or class that is not a tensor,
      storage or container (it is never called). A ``CheckpointError``.
    CheckpointError: a ``ValueError`` naming the file and the problem: not a zip-format
      torch file (e.g. saved with the legacy format, or a TorchScript archive), truncated,
      damaged (a CRC-32 that does not match, a storage that does not hold its tensor), an
      unsupported archive version; chained to the low-level error.
  """
  path = os.fspath(path)
  with open(path, "rb") as file, reading(path, "PyTorch checkpoint"):
    if not zipfile.is_zipfile(file):
      file.seek(0)
      raise _not_an_archive(path, file.read(len(_LEGACY_MAGIC)))
    with zipfile.ZipFile(file) as archive:
      return _load_archive(archive, path)


def _load_archive(archive: zipfile.ZipFile, path: str) -> object:
  names = archive.namelist()
  pickles = [n for n in names if n.endswith("/data.pkl")]
  if len(pickles) != 1:
    torchscript = any(n.endswith("/constants.pkl") for n in names)
    kind = " (a TorchScript archive: torch.jit.save)" if torchscript else ""
    raise CheckpointError(f"{path}: expected one data.pkl in the archive, found {pickles}{kind}.")
  prefix = pickles[0][: -len("data.pkl")]
  if f"{prefix}version" in names:
    version = read_zip_record(archive, f"{prefix}version").decode("ascii", "replace").strip()
    if version not in _ARCHIVE_VERSIONS:
      raise CheckpointError(
        f"{path}: unsupported torch.save archive version {version!r} (this reader knows "
        f"{list(_ARCHIVE_VERSIONS)})."
      )
  names, storages = set(names), {}

  def persistent_load(pid):
    if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
      raise UnsafePickleError(f"{path}: unexpected persistent id {pid!r}.")
    _, kind, key, _location, numel = pid
    if not isinstance(kind, _StorageType):
      raise UnsafePickleError(f"{path}: storage of unknown type {kind!r}.")
    if key not in storages:
      name = f"{prefix}data/{key}"
      if not isinstance(key, str) or name not in names:
        raise CheckpointError(f"{path}: the archive has no storage {key!r}.")
      size = array_bytes([numel], kind.dtype.itemsize, f"storage {key!r}")
      if archive.getinfo(name).file_size != size:  # checked before inflating anything
        raise CheckpointError(f"{path}: storage {key!r} does not hold {numel} items.")
      storages[key] = np.frombuffer(read_zip_record(archive, name), kind.dtype)
    return storages[key]

  data = read_zip_record(archive, pickles[0])
  return restricted_loads(data, path, _torch_globals(), persistent_load)


def save(obj, path) -> None:
  """``torch.save(obj, path)`` without torch: ``obj`` holds dicts, lists, tuples, numbers,
  strings and NumPy arrays (written as tensors); the file loads with
  ``torch.load(path, weights_only=True)``."""
  path = os.fspath(path)
  storages: list[np.ndarray] = []

  def convert(x):
    if isinstance(x, (np.ndarray, np.generic)):
      array = np.asarray(x, order="C")
      if array.dtype not in _STORAGE_OF:
        raise TypeError(f"torch has no storage for dtype {array.dtype}.")
      key = str(len(storages))
      storages.append(array.astype(array.dtype.newbyteorder("<"), copy=False))
      storage = Global("torch", _STORAGE_OF[array.dtype])
      strides, step = [], 1
      for n in reversed(array.shape):
        strides.insert(0, step)
        step *= n
      return Call(
        Global("torch._utils", "_rebuild_tensor_v2"),
        (
          Persistent(("storage", storage, key, "cpu", array.size)),
          0,
          tuple(array.shape),
          tuple(strides),
          False,
          Call(Global("collections", "OrderedDict"), ()),
        ),
      )
    if isinstance(x, Mapping):
      return {convert(k): convert(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
      return type(x)(convert(v) for v in x)
    return x

  data = dumps(convert(obj))
  stem = os.path.splitext(os.path.basename(path))[0] or "archive"
  with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
    archive.writestr(f"{stem}/data.pkl", data)
    archive.writestr(f"{stem}/byteorder", "little")
    for key, array in enumerate(storages):
      archive.writestr(f"{stem}/data/{key}", array.tobytes())
    archive.writestr(f"{stem}/version", "3\n")


__all__ = ["load", "save"]
