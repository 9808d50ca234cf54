"""Pickles read without running their code, and written naming only the globals asked for.

PyTorch, MXNet and Paddle save with :mod:`pickle`, which can call any Python function
named in the file. :func:`restricted_loads` is a restricted unpickler: the only globals a
file may name are those of an allow-list, each mapped to a NumPy reconstruction (a tensor,
an array, an ``OrderedDict``); anything else (``os.system``, ``builtins.eval``, a class with
a ``__reduce__`` payload) is refused before it is called, with an error naming it.
Containers come back as plain ``dict``, ``list`` and ``tuple`` holding NumPy arrays.

This module knows no framework: each wing's file format (``adamax_optax.torch._torch_save``,
``adamax_optax.mxnet._mxnet_save``, ``adamax_optax.paddle._paddle_save``) passes its own
allow-list of :class:`Constructor` values, built from the pieces here (NumPy's own pickles,
``OrderedDict``, objects kept as a :class:`Record` of their attributes). :func:`dumps` is a
minimal protocol 2/3 writer for files that must name a framework's globals without the
framework (:class:`Global`, :class:`Call`, :class:`New`, :class:`Build`, :class:`Persistent`).

The module needs only NumPy (the recording scripts load it inside the framework's own
environment to check that the framework takes what it writes).
"""

import io
import pickle
import pickletools
import struct
from collections import OrderedDict
from collections.abc import Callable, Mapping

import numpy as np

from adamax_optax.checkpoint._reading import CheckpointError, array_bytes, charge, reading

_HINT = (
  "only tensors, arrays, containers and a framework's optimizer record are allowed; if you "
  "trust this file, load it with its framework and pass NumPy arrays instead."
)


class UnsafePickleError(CheckpointError, pickle.UnpicklingError):
  """A checkpoint names a global outside the allow-list (it is never called); a
  :class:`~adamax_optax.checkpoint._reading.CheckpointError` and a
  ``pickle.UnpicklingError``."""


class Constructor:
  """An allowed global: calling it reconstructs data; the file cannot modify it."""

  def __init__(self, name: str, build: Callable):
    self.name, self._build = name, build

  def __call__(self, *args, **kwargs):
    return self._build(*args, **kwargs)

  def __setstate__(self, state):
    raise UnsafePickleError(f"refusing to modify the allowed global '{self.name}'.")

  def __repr__(self):
    return f"<allowed {self.name}>"


class Pending:
  """An object that ``BUILD`` completes (NumPy arrays, dtypes, a framework's arrays, records);
  replaced by its ``value`` once the file is read."""

  value = None


class _Record(Pending):
  """A framework object kept as the dict of its attributes (e.g. an optimizer)."""

  def __init__(self, type_name: str):
    self.type_name = type_name

  def __setstate__(self, state):
    if isinstance(state, tuple) and len(state) == 2:  # (__dict__, slots)
      state = {**(state[0] or {}), **(state[1] or {})}
    if not isinstance(state, dict):
      raise UnsafePickleError(f"{self.type_name}: unexpected state {type(state).__name__}.")
    self.value = Record(self.type_name, state)


class Record(dict):
  """The attributes of a pickled framework object, e.g. an optimizer; ``type_name``
  is the class the file named."""

  def __init__(self, type_name: str, attributes: Mapping):
    super().__init__(attributes)
    self.type_name = type_name

  def __repr__(self):
    return f"Record({self.type_name!r}, {dict.__repr__(self)})"


def record_class(type_name: str) -> type:
  """An allowed global standing in for the class ``type_name``: an object of it that the
  file creates (``NEWOBJ`` calls ``cls.__new__(cls)``) and completes (``BUILD``) comes back
  as a :class:`Record` of its attributes."""

  def new(cls, *args, **kwargs):
    record = object.__new__(cls)
    _Record.__init__(record, type_name)
    return record

  def ignore_arguments(self, *args, **kwargs):
    pass

  short_name = type_name.rpartition(".")[2]
  return type(short_name, (_Record,), {"__new__": new, "__init__": ignore_arguments})


def _resolve(obj, seen=None):
  """Placeholders replaced by their values; containers rebuilt as dict, list, tuple."""
  seen = {} if seen is None else seen
  key = id(obj)
  if key in seen:
    return seen[key]
  if isinstance(obj, Pending):
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


# Opcodes that store into the memo at an index the file gives.
_MEMO_PUTS = {"PUT", "BINPUT", "LONG_BINPUT"}
# Sets: no checkpoint holds one, protocols 2 and 3 build them through the global
# builtins.set (outside every allow-list), and an empty set is the largest object one byte
# of pickle makes (about 220 bytes), so protocol 4's set opcodes are refused too.
_SET_OPCODES = {"EMPTY_SET", "ADDITEMS", "FROZENSET"}


def _check_opcodes(data: bytes, source: str) -> None:
  """Walk the opcodes of ``data`` without building anything: a truncated argument (a
  ``BINBYTES`` or ``BINUNICODE`` declaring more bytes than remain), an unknown opcode, a
  set, or a memo index past the opcodes read so far raises before the unpickler could allocate
  what the file declares (CPython allocates a declared length, or grows its memo to a
  declared index, before reading the bytes)."""
  for count, (opcode, argument, position) in enumerate(pickletools.genops(io.BytesIO(data))):
    if opcode.name in _SET_OPCODES:
      raise CheckpointError(
        f"{source}: a set ({opcode.name} at byte {position}); checkpoints hold no sets."
      )
    if opcode.name in _MEMO_PUTS and not 0 <= argument <= count:
      raise CheckpointError(
        f"{source}: damaged pickle: memo index {argument} at byte {position} (only {count} "
        "opcodes come before it)"
      )


def restricted_loads(
  data: bytes,
  source: str,
  allowed: Mapping[str, Constructor],
  persistent_load: Callable | None = None,
):
  """Unpickle ``data`` allowing only the globals of ``allowed``; NumPy/plain containers.

  Raises:
    UnsafePickleError: a global outside ``allowed`` (never called).
    CheckpointError: anything else that keeps ``data`` from being read (truncated,
      damaged, too deeply nested, declaring more than it holds), naming ``source``.
  """
  with reading(source, "checkpoint", file_size=len(data)):
    _check_opcodes(data, source)
    return _resolve(_Unpickler(io.BytesIO(data), source, allowed, persistent_load).load())


# ---------------------------------------------------------------- NumPy's own pickles


class _PendingDtype(Pending):
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


class _PendingArray(Pending):
  def __init__(self, cls=None, shape=(0,), typecode=b"b"):
    pass

  def __setstate__(self, state):
    if not isinstance(state, tuple) or len(state) != 5:
      raise UnsafePickleError("refusing an ndarray state of unknown layout.")
    _, shape, dtype, fortran, raw = state
    dtype = _dtype_of(dtype)
    if not isinstance(raw, (bytes, bytearray)):
      raise UnsafePickleError("refusing an ndarray whose data is not raw bytes (object array).")
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    nbytes = array_bytes(shape, dtype.itemsize, "an ndarray")
    if len(raw) != nbytes:
      raise CheckpointError(f"an ndarray of shape {shape} {dtype} holds {len(raw)} bytes")
    charge(nbytes, f"an ndarray of shape {shape}")
    array = np.frombuffer(bytes(raw), dtype)
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


def numpy_globals() -> dict:
  """The globals NumPy's own pickles of arrays, scalars and dtypes name."""
  out = {}
  for core in ("numpy.core", "numpy._core"):
    out[f"{core}.multiarray._reconstruct"] = Constructor("_reconstruct", _PendingArray)
    out[f"{core}.multiarray.scalar"] = Constructor("scalar", _scalar)
  # Only ever an argument of _reconstruct; calling it would hand out uninitialized memory.
  out["numpy.ndarray"] = Constructor("numpy.ndarray", _not_callable("numpy.ndarray"))
  out["numpy.dtype"] = Constructor("numpy.dtype", _PendingDtype)
  return out


def _ordered_dict(*args):
  if args and not isinstance(args[0], (list, tuple)):
    raise UnsafePickleError("OrderedDict takes a list of pairs here.")
  return OrderedDict(*args)


# The containers a framework's files may hold besides dict, list and tuple.
CONTAINERS = {"collections.OrderedDict": Constructor("collections.OrderedDict", _ordered_dict)}


# ---------------------------------------------------------------- writing
# A minimal pickle writer: the files must name a framework's globals without the framework.


class Global:
  def __init__(self, module: str, name: str):
    self.module, self.name = module, name


class Call:
  def __init__(self, function: Global, args: tuple):
    self.function, self.args = function, args


class New:  # cls.__new__(cls), protocol 2's NEWOBJ
  def __init__(self, cls: Global):
    self.cls = cls


class Build:
  def __init__(self, obj, state):
    self.obj, self.state = obj, state


class Persistent:
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
  elif isinstance(obj, Global):
    out.append(f"c{obj.module}\n{obj.name}\n".encode())
  elif isinstance(obj, Call):
    _emit(obj.function, out)
    _emit(tuple(obj.args), out)
    out.append(b"R")
  elif isinstance(obj, bytes):  # protocol 3
    out.append(b"B" + struct.pack("<I", len(obj)) + obj)
  elif isinstance(obj, New):
    _emit(obj.cls, out)
    out.append(b")\x81")
  elif isinstance(obj, Build):
    _emit(obj.obj, out)
    _emit(obj.state, out)
    out.append(b"b")
  elif isinstance(obj, Persistent):
    _emit(obj.pid, out)
    out.append(b"Q")
  else:
    raise TypeError(f"cannot write a {type(obj).__name__} into a checkpoint.")


def dumps(obj, protocol: int = 2) -> bytes:
  """The pickle of ``obj``: plain values and containers, and the :class:`Global`,
  :class:`Call`, :class:`New`, :class:`Build` and :class:`Persistent` pieces as the
  opcodes they name."""
  out = [bytes([0x80, protocol])]
  _emit(obj, out)
  out.append(b".")
  return b"".join(out)


__all__ = [
  "CONTAINERS",
  "Build",
  "Call",
  "Constructor",
  "Global",
  "New",
  "Pending",
  "Persistent",
  "Record",
  "UnsafePickleError",
  "dumps",
  "numpy_globals",
  "record_class",
  "restricted_loads",
]
