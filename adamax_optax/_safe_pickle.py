"""Framework checkpoint files read and written with NumPy alone, never running their code.

PyTorch, MXNet and Paddle save with :mod:`pickle`, which can call any Python function
named in the file. The reader here is a restricted unpickler: the only globals a file may
name are those of an allow-list, each mapped to a NumPy reconstruction (a tensor, an
array, an ``OrderedDict``); anything else (``os.system``, ``builtins.eval``, a class with
a ``__reduce__`` payload) is refused before it is called, with an error naming it.
Containers come back as plain ``dict``, ``list`` and ``tuple`` holding NumPy arrays.

Formats:

* PyTorch's zip archive (``torch.save``, the default since 1.6): ``data.pkl`` refers to
  raw storages ``data/<key>`` through persistent ids; tensors are rebuilt as strided
  views of them (:func:`load_torch_file`, :func:`save_torch_file`).
* MXNet's binary NDArray (``NDArray::Save``, inside pickled NDArrays and ``.params``
  files; :func:`load_mxnet_params`, :func:`save_mxnet_params`) and the pickles of
  ``Trainer.save_states`` (:func:`load_mxnet_states`, :func:`save_mxnet_states`).
* Paddle's ``paddle.save`` pickles of NumPy arrays (:func:`load_paddle_file`,
  :func:`save_paddle_file`).

The module needs only NumPy (the recording scripts load it by path inside the framework's
own environment to check that the framework takes what it writes).
"""

import io
import os
import pickle
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Mapping

import numpy as np

_HINT = (
  "only tensors, arrays, containers and a framework's optimizer record are allowed; if you "
  "trust this file, load it with its framework and pass NumPy arrays instead."
)


class UnsafePickleError(pickle.UnpicklingError):
  """A checkpoint names a global outside the allow-list (it is never called)."""


class _Constructor:
  """An allowed global: calling it reconstructs data; the file cannot modify it."""

  def __init__(self, name: str, build: Callable):
    self.name, self._build = name, build

  def __call__(self, *args, **kwargs):
    return self._build(*args, **kwargs)

  def __setstate__(self, state):
    raise UnsafePickleError(f"refusing to modify the allowed global '{self.name}'.")

  def __repr__(self):
    return f"<allowed {self.name}>"


class _Pending:
  """An object that ``BUILD`` completes (NumPy arrays, dtypes, MXNet NDArrays, records);
  replaced by its ``value`` once the file is read."""

  value = None


class _Record(_Pending):
  """A framework object kept as the dict of its attributes (e.g. MXNet's optimizer)."""

  def __init__(self, type_name: str):
    self.type_name = type_name

  def __setstate__(self, state):
    if isinstance(state, tuple) and len(state) == 2:  # (__dict__, slots)
      state = {**(state[0] or {}), **(state[1] or {})}
    if not isinstance(state, dict):
      raise UnsafePickleError(f"{self.type_name}: unexpected state {type(state).__name__}.")
    self.value = Record(self.type_name, state)


class Record(dict):
  """The attributes of a pickled framework object, e.g. MXNet's optimizer; ``type_name``
  is the class the file named."""

  def __init__(self, type_name: str, attributes: Mapping):
    super().__init__(attributes)
    self.type_name = type_name

  def __repr__(self):
    return f"Record({self.type_name!r}, {dict.__repr__(self)})"


def _resolve(obj, seen=None):
  """Placeholders replaced by their values; containers rebuilt as dict, list, tuple."""
  seen = {} if seen is None else seen
  key = id(obj)
  if key in seen:
    return seen[key]
  if isinstance(obj, _Pending):
    if obj.value is None:
      raise UnsafePickleError(f"{type(obj).__name__} was never completed by the file.")
    out = _resolve(obj.value, seen)
  elif isinstance(obj, Record):
    out = Record(obj.type_name, {})
    seen[key] = out
    out.update({k: _resolve(v, seen) for k, v in obj.items()})
    return out
  elif isinstance(obj, dict):
    out = {}
    seen[key] = out
    out.update({_resolve(k, seen): _resolve(v, seen) for k, v in obj.items()})
    return out
  elif isinstance(obj, list):
    out = []
    seen[key] = out
    out.extend(_resolve(v, seen) for v in obj)
    return out
  elif isinstance(obj, tuple):
    out = tuple(_resolve(v, seen) for v in obj)
  else:
    out = obj
  seen[key] = out
  return out


class _Unpickler(pickle.Unpickler):
  def __init__(self, file, source, allowed, persistent_load):
    super().__init__(file)
    self._source, self._allowed, self._persistent = source, allowed, persistent_load

  def find_class(self, module, name):
    key = f"{module}.{name}"
    if key not in self._allowed:
      raise UnsafePickleError(
        f"refusing to load '{key}' from {self._source}: not a tensor/array; {_HINT}"
      )
    return self._allowed[key]

  def persistent_load(self, pid):
    if self._persistent is None:
      raise UnsafePickleError(f"{self._source}: unexpected persistent id {pid!r}.")
    return self._persistent(pid)


def restricted_loads(
  data: bytes,
  source: str,
  allowed: Mapping[str, _Constructor],
  persistent_load: Callable | None = None,
):
  """Unpickle ``data`` allowing only the globals of ``allowed``; NumPy/plain containers."""
  try:
    return _resolve(_Unpickler(io.BytesIO(data), source, allowed, persistent_load).load())
  except UnsafePickleError:
    raise
  except (
    pickle.UnpicklingError,
    EOFError,
    TypeError,
    ValueError,
    AttributeError,
    KeyError,
    IndexError,
    RecursionError,
    struct.error,
  ) as e:
    raise ValueError(f"{source} is not a readable checkpoint: {e!r}") from e


# ---------------------------------------------------------------- NumPy's own pickles


class _PendingDtype(_Pending):
  def __init__(self, spec, align=False, copy=True):
    dtype = np.dtype(spec) if isinstance(spec, str) else None
    if dtype is None or dtype.hasobject or dtype.fields is not None:
      raise UnsafePickleError(f"refusing dtype {spec!r}: only plain numeric dtypes are allowed.")
    self.value = dtype

  def __setstate__(self, state):
    # (version, byte order, subarray, names, fields, elsize, alignment, flags)
    if not isinstance(state, tuple) or len(state) < 5 or any(s is not None for s in state[2:5]):
      raise UnsafePickleError(f"refusing structured or subarray dtype state {state!r}.")
    if state[1] in ("<", ">"):
      self.value = self.value.newbyteorder(state[1])


def _dtype_of(d) -> np.dtype:
  d = d.value if isinstance(d, _PendingDtype) else d
  if not isinstance(d, np.dtype):
    raise UnsafePickleError(f"expected a dtype, got {type(d).__name__}.")
  return d


class _PendingArray(_Pending):
  def __init__(self, cls=None, shape=(0,), typecode=b"b"):
    pass

  def __setstate__(self, state):
    if not isinstance(state, tuple) or len(state) != 5:
      raise UnsafePickleError("refusing an ndarray state of unknown layout.")
    _, shape, dtype, fortran, raw = state
    dtype = _dtype_of(dtype)
    if not isinstance(raw, (bytes, bytearray)):
      raise UnsafePickleError("refusing an ndarray whose data is not raw bytes (object array).")
    shape = tuple(int(n) for n in shape)
    array = np.frombuffer(bytes(raw), dtype, count=int(np.prod(shape, dtype=np.int64)))
    self.value = array.reshape(shape, order="F" if fortran else "C").copy()


def _scalar(dtype, raw=None):
  dtype = _dtype_of(dtype)
  if not isinstance(raw, bytes) or len(raw) != dtype.itemsize:
    raise UnsafePickleError("refusing a NumPy scalar without its raw bytes.")
  return np.frombuffer(raw, dtype)[0]


def _not_callable(name: str):
  def refuse(*args, **kwargs):
    raise UnsafePickleError(f"refusing to call '{name}' (allowed only as a type argument).")

  return refuse


def _numpy_globals() -> dict:
  out = {}
  for core in ("numpy.core", "numpy._core"):
    out[f"{core}.multiarray._reconstruct"] = _Constructor("_reconstruct", _PendingArray)
    out[f"{core}.multiarray.scalar"] = _Constructor("scalar", _scalar)
  # Only ever an argument of _reconstruct; calling it would hand out uninitialized memory.
  out["numpy.ndarray"] = _Constructor("numpy.ndarray", _not_callable("numpy.ndarray"))
  out["numpy.dtype"] = _Constructor("numpy.dtype", _PendingDtype)
  return out


def _ordered_dict(*args):
  if args and not isinstance(args[0], (list, tuple)):
    raise UnsafePickleError("OrderedDict takes a list of pairs here.")
  return OrderedDict(*args)


_CONTAINERS = {"collections.OrderedDict": _Constructor("collections.OrderedDict", _ordered_dict)}


# ---------------------------------------------------------------- PyTorch


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


def _torch_globals() -> dict:
  out = {**_CONTAINERS}
  out.update({f"torch.{k}": _StorageType(k) for k in _TORCH_STORAGES})
  for name, build in (
    ("torch._utils._rebuild_tensor_v2", _rebuild_tensor),
    ("torch._utils._rebuild_parameter", _rebuild_parameter),
    ("torch._utils._rebuild_parameter_with_state", _rebuild_parameter),
  ):
    out[name] = _Constructor(name, build)
  return out


def load_torch_file(path) -> object:
  """The object a ``torch.save`` zip file holds, tensors as NumPy arrays, without torch.

  Raises:
    UnsafePickleError: the file names a global outside the allow-list.
    ValueError: not a zip-format torch file (e.g. saved with the legacy format).
  """
  path = os.fspath(path)
  if not zipfile.is_zipfile(path):
    raise ValueError(
      f"{path} is not a torch.save zip archive (legacy format, or not a torch file); "
      "re-save it with torch.save in PyTorch >= 1.6."
    )
  with zipfile.ZipFile(path) as archive:
    pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
    if len(pickles) != 1:
      raise ValueError(f"{path}: expected one data.pkl in the archive, found {pickles}.")
    prefix = pickles[0][: -len("data.pkl")]
    names, storages = set(archive.namelist()), {}

    def persistent_load(pid):
      if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
        raise UnsafePickleError(f"{path}: unexpected persistent id {pid!r}.")
      _, kind, key, _location, numel = pid
      if not isinstance(kind, _StorageType):
        raise UnsafePickleError(f"{path}: storage of unknown type {kind!r}.")
      if key not in storages:
        name = f"{prefix}data/{key}"
        if not isinstance(key, str) or name not in names:
          raise ValueError(f"{path}: the archive has no storage {key!r}.")
        size = int(numel) * kind.dtype.itemsize
        if archive.getinfo(name).file_size != size:  # checked before inflating anything
          raise ValueError(f"{path}: storage {key!r} does not hold {numel} items.")
        raw = archive.read(name)
        storages[key] = np.frombuffer(raw, kind.dtype)
      return storages[key]

    return restricted_loads(archive.read(pickles[0]), path, _torch_globals(), persistent_load)


# A minimal protocol-2 pickle writer: the files must name torch's globals without torch.


class _Global:
  def __init__(self, module: str, name: str):
    self.module, self.name = module, name


class _Call:
  def __init__(self, function: _Global, args: tuple):
    self.function, self.args = function, args


class _New:  # cls.__new__(cls), protocol 2's NEWOBJ
  def __init__(self, cls: _Global):
    self.cls = cls


class _Build:
  def __init__(self, obj, state):
    self.obj, self.state = obj, state


class _Persistent:
  def __init__(self, pid: tuple):
    self.pid = pid


def _emit(obj, out: list) -> None:
  if obj is None:
    out.append(b"N")
  elif obj is True or obj is False:
    out.append(b"\x88" if obj else b"\x89")
  elif isinstance(obj, int):
    if 0 <= obj < 256:
      out.append(b"K" + bytes([obj]))
    elif -(2**31) <= obj < 2**31:
      out.append(b"J" + struct.pack("<i", obj))
    else:
      raw = obj.to_bytes((obj.bit_length() + 8) // 8, "little", signed=True)
      out.append(b"\x8a" + bytes([len(raw)]) + raw)
  elif isinstance(obj, float):
    out.append(b"G" + struct.pack(">d", obj))
  elif isinstance(obj, str):
    raw = obj.encode("utf-8")
    out.append(b"X" + struct.pack("<I", len(raw)) + raw)
  elif isinstance(obj, tuple):
    out.append(b"(")
    for v in obj:
      _emit(v, out)
    out.append(b"t")
  elif isinstance(obj, list):
    out.append(b"](")
    for v in obj:
      _emit(v, out)
    out.append(b"e")
  elif isinstance(obj, dict):
    out.append(b"}(")
    for k, v in obj.items():
      _emit(k, out)
      _emit(v, out)
    out.append(b"u")
  elif isinstance(obj, _Global):
    out.append(f"c{obj.module}\n{obj.name}\n".encode())
  elif isinstance(obj, _Call):
    _emit(obj.function, out)
    _emit(tuple(obj.args), out)
    out.append(b"R")
  elif isinstance(obj, bytes):  # protocol 3
    out.append(b"B" + struct.pack("<I", len(obj)) + obj)
  elif isinstance(obj, _New):
    _emit(obj.cls, out)
    out.append(b")\x81")
  elif isinstance(obj, _Build):
    _emit(obj.obj, out)
    _emit(obj.state, out)
    out.append(b"b")
  elif isinstance(obj, _Persistent):
    _emit(obj.pid, out)
    out.append(b"Q")
  else:
    raise TypeError(f"cannot write a {type(obj).__name__} into a checkpoint.")


def _dumps(obj, protocol: int = 2) -> bytes:
  out = [bytes([0x80, protocol])]
  _emit(obj, out)
  out.append(b".")
  return b"".join(out)


def save_torch_file(path, obj) -> None:
  """Write ``obj`` (dicts, lists, tuples, numbers, strings, NumPy arrays as tensors) in
  ``torch.save``'s zip format, for ``torch.load(path, weights_only=True)``."""
  path = os.fspath(path)
  storages: list[np.ndarray] = []

  def convert(x):
    if isinstance(x, (np.ndarray, np.generic)):
      array = np.asarray(x, order="C")
      if array.dtype not in _STORAGE_OF:
        raise TypeError(f"torch has no storage for dtype {array.dtype}.")
      key = str(len(storages))
      storages.append(array.astype(array.dtype.newbyteorder("<"), copy=False))
      storage = _Global("torch", _STORAGE_OF[array.dtype])
      strides, step = [], 1
      for n in reversed(array.shape):
        strides.insert(0, step)
        step *= n
      return _Call(
        _Global("torch._utils", "_rebuild_tensor_v2"),
        (
          _Persistent(("storage", storage, key, "cpu", array.size)),
          0,
          tuple(array.shape),
          tuple(strides),
          False,
          _Call(_Global("collections", "OrderedDict"), ()),
        ),
      )
    if isinstance(x, Mapping):
      return {convert(k): convert(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
      return type(x)(convert(v) for v in x)
    return x

  data = _dumps(convert(obj))
  stem = os.path.splitext(os.path.basename(path))[0] or "archive"
  with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
    archive.writestr(f"{stem}/data.pkl", data)
    archive.writestr(f"{stem}/byteorder", "little")
    for key, array in enumerate(storages):
      archive.writestr(f"{stem}/data/{key}", array.tobytes())
    archive.writestr(f"{stem}/version", "3\n")


# ---------------------------------------------------------------- MXNet

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
      raise ValueError(f"{self.source}: truncated MXNet NDArray data.")
    values = struct.unpack_from(fmt, self.raw, self.pos)
    self.pos += size
    return values if len(values) > 1 else values[0]

  def bytes(self, n: int) -> bytes:
    if n < 0 or self.pos + n > len(self.raw):
      raise ValueError(f"{self.source}: truncated MXNet NDArray data.")
    out = self.raw[self.pos : self.pos + n]
    self.pos += n
    return out


def _read_ndarray(r: _Reader) -> np.ndarray:
  """One ``NDArray::Save`` record (V2 legacy shapes, V3 NumPy shapes, dense only)."""
  magic = r.take("<I")
  if magic not in (_ND_V2, _ND_V3):
    raise ValueError(f"{r.source}: not an MXNet NDArray (magic {magic:#x}; pre-1.0 format?).")
  stype = r.take("<i")
  if stype != 0:
    raise ValueError(f"{r.source}: sparse NDArrays (storage type {stype}) are not supported.")
  ndim = r.take("<i")
  if ndim < 0 or (magic == _ND_V2 and ndim == 0):
    return None  # an NDArray without data
  shape = tuple(r.take(f"<{ndim}q")) if ndim > 1 else ((r.take("<q"),) if ndim else ())
  r.take("<ii")  # context: device type and id
  flag = r.take("<i")
  if flag not in _MX_DTYPES:
    raise ValueError(f"{r.source}: unsupported MXNet dtype flag {flag}.")
  dtype = np.dtype(_MX_DTYPES[flag])
  count = int(np.prod(shape, dtype=np.int64))
  return np.frombuffer(r.bytes(count * dtype.itemsize), dtype.newbyteorder("<")).reshape(shape)


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


class _PendingNDArray(_Pending):
  def __init__(self, handle=None, *args, **kwargs):
    pass

  def __setstate__(self, state):
    handle = state.get("handle") if isinstance(state, dict) else None
    if not isinstance(handle, (bytes, bytearray)):
      raise UnsafePickleError("refusing an NDArray state without its saved bytes.")
    self.value = np.array(_read_ndarray(_Reader(bytes(handle), "a pickled NDArray")))


def load_mxnet_params(path) -> dict:
  """``{name: array}`` from a parameter file: ``nd.save`` / 1.x ``save_parameters``
  (names are ``"0"``, ``"1"``, ... when the file holds a list), or the ``.npz`` that
  2.0's ``save_parameters`` (``npx.savez``) writes."""
  path = os.fspath(path)
  if zipfile.is_zipfile(path):
    with np.load(path, allow_pickle=False) as f:
      return {k: f[k] for k in f.files}
  with open(path, "rb") as f:
    r = _Reader(f.read(), path)
  header, _reserved = r.take("<QQ")
  if header != _ND_LIST:
    raise ValueError(f"{path} is not an MXNet .params / nd.save file (header {header:#x}).")
  arrays = [_read_ndarray(r) for _ in range(r.take("<Q"))]
  names = [r.bytes(r.take("<Q")).decode() for _ in range(r.take("<Q"))]
  if names and len(names) != len(arrays):
    raise ValueError(f"{path}: {len(arrays)} arrays but {len(names)} names.")
  return dict(zip(names or map(str, range(len(arrays))), map(np.array, arrays), strict=True))


def save_mxnet_params(path, arrays: Mapping, *, version: int = 2) -> None:
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
    "mxnet.ndarray.ndarray.NDArray": _Constructor("NDArray", _PendingNDArray),
    "mxnet.numpy.multiarray.ndarray": _Constructor("mxnet.numpy.ndarray", _PendingNDArray),
    "mxnet.numpy.ndarray": _Constructor("mxnet.numpy.ndarray", _PendingNDArray),
    "builtins.bytearray": _Constructor("bytearray", _bytearray),
  }
  for name in _MXNET_RECORDS:
    # NEWOBJ calls cls.__new__(cls): the record type stands in for the class.
    out[name] = type(
      name.rpartition(".")[2], (_Record,), {"__new__": _new_record(name), "__init__": _noinit}
    )
  return out


def _noinit(self, *args, **kwargs):
  pass


def _new_record(name):
  def new(cls, *args, **kwargs):
    record = object.__new__(cls)
    _Record.__init__(record, name)
    return record

  return new


def load_mxnet_states(path) -> tuple[dict, Record | None]:
  """``(states, optimizer)`` from ``Trainer.save_states`` (MXNet 1.x or 2.0) without
  MXNet: ``states`` maps a parameter index to its NumPy state, ``optimizer`` is the
  pickled optimizer's attributes (None if the file holds only the states)."""
  path = os.fspath(path)
  with open(path, "rb") as f:
    obj = restricted_loads(f.read(), path, _mxnet_globals())
  if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[1], (Record, type(None))):
    return obj
  if isinstance(obj, dict):
    return obj, None
  raise ValueError(f"{path}: not a Trainer.save_states file (holds a {type(obj).__name__}).")


def save_mxnet_states(path, states: Mapping, optimizer: Record | None = None, *, version=2):
  """Write a ``Trainer.load_states`` file: ``states`` (index -> NumPy arrays, nested in
  tuples) and, when given, the optimizer's attributes (e.g. its update counts), pickled as
  MXNet ``version`` (1 or 2) pickles them."""

  def convert(x):
    if isinstance(x, (np.ndarray, np.generic)):
      raw: list = []
      _write_ndarray(np.asarray(x), raw, version)
      blob = _Call(_Global("builtins", "bytearray"), (b"".join(raw),))
      ndarray = _Global("mxnet.ndarray.ndarray", "NDArray")  # 2.0's states are NDArrays too
      return _Build(_Call(ndarray, (None,)), {"handle": blob})
    if isinstance(x, Record):
      module, _, name = x.type_name.rpartition(".")
      return _Build(_New(_Global(module, name)), {k: convert(v) for k, v in x.items()})
    if isinstance(x, Mapping):
      return {convert(k): convert(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
      return type(x)(convert(v) for v in x)
    return x

  obj = convert(dict(states)) if optimizer is None else convert((dict(states), optimizer))
  with open(path, "wb") as f:
    f.write(_dumps(obj, protocol=3))


# ---------------------------------------------------------------- Paddle


def _paddle_globals() -> dict:
  return {
    **_numpy_globals(),
    **_CONTAINERS,
    "builtins.tuple": _Constructor("builtins.tuple", lambda items=(): tuple(items)),
  }


def load_paddle_file(path) -> object:
  """What ``paddle.save`` wrote (``.pdparams``, ``.pdopt``): tensors, saved as
  ``(name, ndarray)`` pairs, come back as NumPy arrays."""
  path = os.fspath(path)
  with open(path, "rb") as f:
    obj = restricted_loads(f.read(), path, _paddle_globals())

  def tensors(x):
    if isinstance(x, dict):
      return {k: tensors(v) for k, v in x.items()}
    if isinstance(x, list):
      return [tensors(v) for v in x]
    if isinstance(x, tuple):
      if len(x) == 2 and isinstance(x[0], str) and isinstance(x[1], np.ndarray):
        return x[1]
      return tuple(tensors(v) for v in x)
    return x

  return tensors(obj)


def save_paddle_file(path, obj) -> None:
  """Write ``obj`` (dicts of NumPy arrays and numbers) for ``paddle.load``."""
  with open(path, "wb") as f:
    pickle.dump(_plain(obj), f, protocol=4)


def _plain(x):
  """Only dicts, lists, tuples, numbers, strings and NumPy arrays, so the pickle names no
  global but NumPy's reconstruction."""
  if isinstance(x, (np.ndarray, np.generic)):
    if x.dtype.hasobject:
      raise TypeError("cannot write an object array into a checkpoint.")
    return np.asarray(x)
  if isinstance(x, Mapping):
    return {_plain(k): _plain(v) for k, v in x.items()}
  if isinstance(x, (list, tuple)):
    return type(x)(_plain(v) for v in x)
  if x is None or isinstance(x, (bool, int, float, str)):
    return x
  raise TypeError(f"cannot write a {type(x).__name__} into a checkpoint.")
