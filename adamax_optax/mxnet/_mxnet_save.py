"""MXNet's files, read and written with NumPy alone, never running their code.

* The binary NDArray format (``NDArray::Save``), inside pickled NDArrays and in the
  ``.params`` files of ``nd.save`` and 1.x's ``save_parameters`` (2.0's is a ``.npz``):
  :func:`load_parameters`, :func:`save_parameters`.
* The pickles of ``Trainer.save_states``: the updater's states (NDArrays) and the
  optimizer, kept as a :class:`Record` of its attributes: :func:`load_states`,
  :func:`save_states`. They are read by
  :func:`adamax_optax.checkpoint._restricted_pickle.restricted_loads` allowing only
  NDArrays, MXNet's optimizer and schedulers, and ``bytearray`` copies of bytes.

The module needs only NumPy (the recording script loads it inside MXNet's own environment
to check that MXNet takes what it writes).
"""

import io
import os
import struct
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
  Build,
  Call,
  Constructor,
  Global,
  New,
  Pending,
  Record,
  UnsafePickleError,
  dumps,
  record_class,
  restricted_loads,
)

_ND_V2, _ND_V3, _ND_LIST = 0xF993FAC9, 0xF993FACA, 0x112
_MX_DTYPES = {
  0: np.float32,
  1: np.float64,
  2: np.float16,
  3: np.uint8,
  4: np.int32,
  5: np.int8,
  6: np.int64,
  7: np.bool_,
}
_MX_FLAG = {np.dtype(v): k for k, v in _MX_DTYPES.items()}


class _Reader:
  def __init__(self, raw: bytes, source: str):
    self.raw, self.pos, self.source = raw, 0, source

  def take(self, fmt: str):
    size = struct.calcsize(fmt)
    if self.pos + size > len(self.raw):
      raise CheckpointError(f"{self.source}: truncated MXNet NDArray data.")
    values = struct.unpack_from(fmt, self.raw, self.pos)
    self.pos += size
    return values if len(values) > 1 else values[0]

  def bytes(self, n: int) -> bytes:
    if n < 0 or self.pos + n > len(self.raw):
      raise CheckpointError(f"{self.source}: truncated MXNet NDArray data.")
    out = self.raw[self.pos : self.pos + n]
    self.pos += n
    return out


def _read_ndarray(r: _Reader) -> np.ndarray:
  """One ``NDArray::Save`` record (V2 legacy shapes, V3 NumPy shapes, dense only)."""
  magic = r.take("<I")
  if magic not in (_ND_V2, _ND_V3):
    raise CheckpointError(
      f"{r.source}: not an MXNet NDArray (magic {magic:#x}): an unsupported version "
      "(pre-1.0 format?) or damaged."
    )
  stype = r.take("<i")
  if stype != 0:
    raise CheckpointError(f"{r.source}: sparse NDArrays (storage type {stype}) are not supported.")
  ndim = r.take("<i")
  if ndim < 0 or (magic == _ND_V2 and ndim == 0):
    return None  # an NDArray without data
  shape = tuple(r.take(f"<{ndim}q")) if ndim > 1 else ((r.take("<q"),) if ndim else ())
  r.take("<ii")  # context: device type and id
  flag = r.take("<i")
  if flag not in _MX_DTYPES:
    raise CheckpointError(f"{r.source}: unsupported MXNet dtype flag {flag}.")
  dtype = np.dtype(_MX_DTYPES[flag])
  nbytes = array_bytes(shape, dtype.itemsize, "an NDArray")
  raw = r.bytes(nbytes)  # checks the bytes are there before anything is allocated
  charge(nbytes, f"an NDArray of shape {shape}")
  return np.frombuffer(raw, dtype.newbyteorder("<")).reshape(shape)


def _write_ndarray(array, out: list, version: int) -> None:
  """``NDArray::Save``: 2.0 (NumPy shape semantics) loads only V3, 1.x only V2."""
  array = np.asarray(array, order="C")
  if array.dtype not in _MX_FLAG:
    raise TypeError(f"MXNet has no dtype {array.dtype}.")
  if version < 2 and array.ndim == 0:
    raise ValueError("MXNet 1.x has no 0-d arrays: reshape the value to (1,).")
  out.append(struct.pack("<Iii", _ND_V3 if version >= 2 else _ND_V2, 0, array.ndim))
  out.append(struct.pack(f"<{array.ndim}q", *array.shape))
  out.append(struct.pack("<iii", 1, 0, _MX_FLAG[array.dtype]))
  out.append(array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes())


class _PendingNDArray(Pending):
  def __init__(self, handle=None, *args, **kwargs):
    pass

  def __setstate__(self, state):
    handle = state.get("handle") if isinstance(state, dict) else None
    if not isinstance(handle, (bytes, bytearray)):
      raise UnsafePickleError("refusing an NDArray state without its saved bytes.")
    self.value = np.array(_read_ndarray(_Reader(bytes(handle), "a pickled NDArray")))


# The .npy versions np.savez writes (3.0 only for structured dtypes, which MXNet has not).
_NPY_HEADERS = {
  (1, 0): np.lib.format.read_array_header_1_0,
  (2, 0): np.lib.format.read_array_header_2_0,
}


def _read_npz(file, path: str) -> dict:
  """``{name: array}`` of an ``.npz`` (``np.savez``): each ``.npy`` header is checked
  against the bytes that follow it before the array is built (``np.load`` would first
  allocate the shape a header declares)."""
  out = {}
  with zipfile.ZipFile(file) as archive:
    for info in archive.infolist():
      data = io.BytesIO(read_zip_record(archive, info.filename))
      version = np.lib.format.read_magic(data)
      if version not in _NPY_HEADERS:
        raise CheckpointError(f"{path}: unsupported .npy version {version} in {info.filename!r}")
      shape, fortran, dtype = _NPY_HEADERS[version](data)
      if dtype.hasobject:
        raise CheckpointError(f"{path}: {info.filename!r} holds objects, not numbers.")
      nbytes = array_bytes(shape, dtype.itemsize, info.filename)
      raw = data.read()
      if len(raw) != nbytes:
        raise CheckpointError(
          f"{path}: {info.filename!r} declares {nbytes} bytes of {shape} {dtype}, holds "
          f"{len(raw)} (truncated or damaged)."
        )
      array = np.frombuffer(raw, dtype).reshape(shape, order="F" if fortran else "C")
      out[info.filename.removesuffix(".npy")] = array.copy()
  return out


def load_parameters(path) -> dict:
  """``{name: array}`` from a parameter file: ``nd.save`` / 1.x ``save_parameters``
  (names are ``"0"``, ``"1"``, ... when the file holds a list), or the ``.npz`` that
  2.0's ``save_parameters`` (``npx.savez``) writes.

  Raises:
    FileNotFoundError: no file at ``path``.
    CheckpointError: a ``ValueError`` naming the file and the problem (truncated,
      damaged, not a parameter file, an unsupported NDArray version), chained to the
      low-level error.
  """
  path = os.fspath(path)
  with open(path, "rb") as file, reading(path, "MXNet parameter file"):
    if zipfile.is_zipfile(file):
      return _read_npz(file, path)
    file.seek(0)
    r = _Reader(file.read(), path)
    header, _reserved = r.take("<QQ")
    if header != _ND_LIST:
      raise CheckpointError(f"{path} is not an MXNet .params / nd.save file (header {header:#x}).")
    arrays = [_read_ndarray(r) for _ in range(r.take("<Q"))]
    names = [r.bytes(r.take("<Q")).decode() for _ in range(r.take("<Q"))]
    if names and len(names) != len(arrays):
      raise CheckpointError(f"{path}: {len(arrays)} arrays but {len(names)} names.")
    return dict(zip(names or map(str, range(len(arrays))), map(np.array, arrays), strict=True))


def save_parameters(path, arrays: Mapping, *, version: int = 2) -> None:
  """Write ``{name: array}`` as MXNet ``version``'s ``save_parameters`` does: 2.0's
  ``.npz`` (``npx.savez``) or 1.x's ``nd.save`` format (``load_parameters`` reads it)."""
  if version >= 2:
    with open(path, "wb") as f:
      np.savez(f, **{str(k): np.asarray(v) for k, v in arrays.items()})
    return
  out = [struct.pack("<QQQ", _ND_LIST, 0, len(arrays))]
  for array in arrays.values():
    _write_ndarray(np.asarray(array), out, version)
  out.append(struct.pack("<Q", len(arrays)))
  for name in arrays:
    raw = str(name).encode()
    out.append(struct.pack("<Q", len(raw)) + raw)
  with open(path, "wb") as f:
    f.write(b"".join(out))


# Objects kept as their attribute dicts: the optimizer (1.x, 2.0) and its scheduler.
_MXNET_RECORDS = (
  "mxnet.optimizer.optimizer.Adamax",
  "mxnet.optimizer.adamax.Adamax",
  *(
    f"mxnet.lr_scheduler.{name}"
    for name in ("FactorScheduler", "MultiFactorScheduler", "PolyScheduler", "CosineScheduler")
  ),
)


def _bytearray(raw=b"", *args):
  if not isinstance(raw, (bytes, bytearray)) or args:
    raise UnsafePickleError("bytearray is allowed only as a copy of bytes.")
  return bytearray(raw)


def _mxnet_globals() -> dict:
  out = {
    "mxnet.ndarray.ndarray.NDArray": Constructor("NDArray", _PendingNDArray),
    "mxnet.numpy.multiarray.ndarray": Constructor("mxnet.numpy.ndarray", _PendingNDArray),
    "mxnet.numpy.ndarray": Constructor("mxnet.numpy.ndarray", _PendingNDArray),
    "builtins.bytearray": Constructor("bytearray", _bytearray),
  }
  out.update({name: record_class(name) for name in _MXNET_RECORDS})
  return out


def load_states(path) -> tuple[dict, Record | None]:
  """``(states, optimizer)`` of a ``Trainer.save_states`` file (MXNet 1.x or 2.0):
  ``states`` maps each parameter index to NumPy arrays (``(mean, var)``, or ``(master,
  (mean, var))`` with ``multi_precision``); ``optimizer`` is the pickled optimizer's
  attributes as a dict (``_index_update_count``, ``lr``, ...), None if absent.

  Raises:
    FileNotFoundError: no file at ``path``.
    UnsafePickleError: the file names a function or class that is not an NDArray or
      MXNet's optimizer or scheduler (it is never called). A ``CheckpointError``.
    CheckpointError: a ``ValueError`` naming the file and the problem (truncated,
      damaged, not a ``save_states`` file), chained to the low-level error.
  """
  path = os.fspath(path)
  with open(path, "rb") as f, reading(path, "MXNet Trainer.save_states file"):
    obj = restricted_loads(f.read(), path, _mxnet_globals())
    if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[1], (Record, type(None))):
      states, optimizer = obj
    else:
      states, optimizer = obj, None
    if not isinstance(states, dict):
      raise CheckpointError(
        f"{path}: not a Trainer.save_states file (holds a {type(obj).__name__})."
      )
    return states, optimizer


def save_states(path, states: Mapping, optimizer: Record | None = None, *, version: int = 2):
  """Write a file ``Trainer.load_states`` reads: ``states`` (index -> NumPy arrays, nested
  in tuples) and, when given, the optimizer's attributes (e.g. its update counts), pickled
  as MXNet ``version`` (2 or 1) pickles them."""

  def convert(x):
    if isinstance(x, (np.ndarray, np.generic)):
      raw: list = []
      _write_ndarray(np.asarray(x), raw, version)
      blob = Call(Global("builtins", "bytearray"), (b"".join(raw),))
      ndarray = Global("mxnet.ndarray.ndarray", "NDArray")  # 2.0's states are NDArrays too
      return Build(Call(ndarray, (None,)), {"handle": blob})
    if isinstance(x, Record):
      module, _, name = x.type_name.rpartition(".")
      return Build(New(Global(module, name)), {k: convert(v) for k, v in x.items()})
    if isinstance(x, Mapping):
      return {convert(k): convert(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
      return type(x)(convert(v) for v in x)
    return x

  obj = convert(dict(states)) if optimizer is None else convert((dict(states), optimizer))
  with open(path, "wb") as f:
    f.write(dumps(obj, protocol=3))


__all__ = ["Record", "load_parameters", "load_states", "save_parameters", "save_states"]
