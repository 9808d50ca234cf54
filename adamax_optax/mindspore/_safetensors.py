"""The safetensors file format with NumPy: read and write, no dependency.

A file is an 8-byte little-endian header length, a JSON header, then the raw bytes of
every tensor: the header maps each name to ``{"dtype", "shape", "data_offsets": [begin,
end]}`` (offsets into the data that follows) and may hold ``"__metadata__"``, a dict of
strings. Nothing but JSON and raw little-endian numbers is read, so a file cannot run code.

Writing follows the reference implementation, so a file written here is byte for byte the
one ``safetensors.numpy.save_file`` writes for the same tensors: tensors ordered by dtype
(widest first, in the library's order) then name, the header padded with spaces to a
multiple of 8 bytes.

Reference: https://github.com/huggingface/safetensors (format description in README).
"""

import json
import os
import struct
from collections.abc import Mapping

import jax.numpy as jnp
import numpy as np

from adamax_optax.checkpoint._reading import array_bytes, charge

# The library's dtype order (its Dtype enum); the writer puts the last one first.
_DTYPES = {
  "BOOL": np.dtype(np.bool_),
  "U8": np.dtype(np.uint8),
  "I8": np.dtype(np.int8),
  "I16": np.dtype("<i2"),
  "U16": np.dtype("<u2"),
  "F16": np.dtype("<f2"),
  "BF16": np.dtype(jnp.bfloat16),
  "I32": np.dtype("<i4"),
  "U32": np.dtype("<u4"),
  "F32": np.dtype("<f4"),
  "F64": np.dtype("<f8"),
  "I64": np.dtype("<i8"),
  "U64": np.dtype("<u8"),
}
_RANK = {name: i for i, name in enumerate(_DTYPES)}
_MAX_HEADER = 100_000_000  # the reference reader's limit


def _name_of(dtype: np.dtype) -> str:
  little = dtype.newbyteorder("<")
  for name, candidate in _DTYPES.items():
    if candidate == little:
      return name
  raise ValueError(
    f"safetensors stores {sorted(_DTYPES)}; got an array of dtype {dtype}: cast it first."
  )


def read(data: bytes) -> tuple[dict[str, np.ndarray], dict[str, str]]:
  """``(tensors, metadata)`` from the bytes of a safetensors file (arrays are copies)."""
  if len(data) < 8:
    raise ValueError("Not a safetensors file: fewer than 8 bytes.")
  (size,) = struct.unpack("<Q", data[:8])
  if size > min(_MAX_HEADER, len(data) - 8):
    raise ValueError(
      f"the header claims {size} bytes, {len(data) - 8} follow: truncated, or not a "
      "safetensors file."
    )
  try:
    header = json.loads(data[8 : 8 + size].decode("utf-8"))
  except (UnicodeDecodeError, json.JSONDecodeError) as e:
    raise ValueError(f"Not a safetensors file: the header is not JSON ({e}).") from e
  if not isinstance(header, dict):
    raise ValueError("Not a safetensors file: the header is not a JSON object.")
  metadata = header.pop("__metadata__", None) or {}
  body = data[8 + size :]
  tensors = {}
  for name, info in header.items():
    try:
      dtype, shape, (begin, end) = _DTYPES[info["dtype"]], info["shape"], info["data_offsets"]
    except (KeyError, TypeError, ValueError) as e:
      raise ValueError(
        f"safetensors entry {name!r}: expected a dtype in {sorted(_DTYPES)}, a shape and "
        f"data_offsets, got {info!r}."
      ) from e
    nbytes = array_bytes(shape, dtype.itemsize, f"safetensors entry {name!r}")
    if not all(isinstance(x, int) for x in (begin, end)):
      raise ValueError(f"safetensors entry {name!r}: data_offsets {[begin, end]} are not ints.")
    if not 0 <= begin <= end <= len(body) or end - begin != nbytes:
      raise ValueError(
        f"safetensors entry {name!r}: offsets {[begin, end]} do not hold {shape} "
        f"{info['dtype']} values within the {len(body)} data bytes."
      )
    charge(nbytes, f"safetensors entry {name!r}")
    tensors[name] = np.frombuffer(body[begin:end], dtype).reshape(shape).copy()
  return tensors, metadata


def dumps(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> bytes:
  """The bytes of a safetensors file holding ``tensors`` (and string ``metadata``)."""
  arrays = {name: np.asarray(value) for name, value in tensors.items()}
  kinds = {name: _name_of(a.dtype) for name, a in arrays.items()}
  order = sorted(arrays, key=lambda n: (-_RANK[kinds[n]], n))
  header, chunks, offset = {}, [], 0
  if metadata:
    header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
  for name in order:
    raw = arrays[name].astype(arrays[name].dtype.newbyteorder("<"), copy=False).tobytes()
    header[name] = {
      "dtype": kinds[name],
      "shape": list(arrays[name].shape),
      "data_offsets": [offset, offset + len(raw)],
    }
    chunks.append(raw)
    offset += len(raw)
  text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
  text += b" " * (-len(text) % 8)
  return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def load(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
  with open(path, "rb") as f:
    return read(f.read())


def save(path: str | os.PathLike, tensors: Mapping, metadata: Mapping | None = None) -> None:
  with open(path, "wb") as f:
    f.write(dumps(tensors, metadata))


__all__ = ["dumps", "load", "read", "save"]
