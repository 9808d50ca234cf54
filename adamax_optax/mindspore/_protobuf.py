"""The protocol buffers wire format, the little of it that checkpoint files need.

A message is a sequence of fields, each a key ``(field_number << 3) | wire_type`` (a
varint) followed by its value: wire type 0 a varint, 1 eight bytes, 2 a varint length and
that many bytes (strings, bytes, sub-messages, packed repeated scalars), 5 four bytes.
Parsing needs no schema: the caller knows which field numbers it wants and what they hold,
so nothing in a file can make this module build objects or run code. Groups (wire types
3 and 4, deprecated since proto2) are refused.

Reference: https://protobuf.dev/programming-guides/encoding/
"""

from collections.abc import Iterator

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5
_FIXED_SIZES = {FIXED64: 8, FIXED32: 4}
_MAX_VARINT_BYTES = 10  # a 64-bit value in 7-bit groups


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
  """The unsigned varint at ``data[pos:]`` and the position just past it."""
  value = 0
  for i in range(_MAX_VARINT_BYTES):
    if pos + i >= len(data):
      raise ValueError(f"Truncated protobuf data: a varint at byte {pos} runs past the end.")
    byte = data[pos + i]
    value |= (byte & 0x7F) << (7 * i)
    if not byte & 0x80:
      return value, pos + i + 1
  raise ValueError(f"Malformed protobuf data: the varint at byte {pos} is over 10 bytes long.")


def fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
  """``(field_number, wire_type, value)`` for each field of a message, in file order.

  ``value`` is an int for varints and fixed-size fields (unsigned; see :func:`signed64`)
  and the raw bytes for length-delimited fields (decode sub-messages with this function
  again).

  Example:
    >>> list(fields(b"\\x08\\x96\\x01\\x12\\x02hi"))
    [(1, 0, 150), (2, 2, b'hi')]
  """
  data = bytes(data)
  pos = 0
  while pos < len(data):
    start = pos
    key, pos = read_varint(data, pos)
    number, wire_type = key >> 3, key & 7
    if number == 0:
      raise ValueError(f"Malformed protobuf data: field number 0 at byte {start}.")
    if wire_type == VARINT:
      value, pos = read_varint(data, pos)
    elif wire_type == LENGTH_DELIMITED:
      size, pos = read_varint(data, pos)
      if pos + size > len(data):
        raise ValueError(
          f"Truncated protobuf data: field {number} at byte {start} holds {size} bytes, "
          f"only {len(data) - pos} remain."
        )
      value, pos = data[pos : pos + size], pos + size
    elif wire_type in _FIXED_SIZES:
      size = _FIXED_SIZES[wire_type]
      if pos + size > len(data):
        raise ValueError(f"Truncated protobuf data: field {number} at byte {start}.")
      value, pos = int.from_bytes(data[pos : pos + size], "little"), pos + size
    else:
      raise ValueError(
        f"Unsupported protobuf wire type {wire_type} (field {number}, byte {start}): only "
        "varint, fixed 32/64-bit and length-delimited fields are read."
      )
    yield number, wire_type, value


def repeated_varints(wire_type: int, value: int | bytes) -> list[int]:
  """The values of one occurrence of a repeated integer field, packed or not.

  proto2 writes repeated integers one field each (a varint); proto3, or ``packed=true``,
  writes them in one length-delimited field. Parsers must accept both.
  """
  if wire_type == VARINT:
    return [value]
  if wire_type != LENGTH_DELIMITED:
    raise ValueError(f"A repeated integer field has wire type {wire_type}, expected 0 or 2.")
  out, pos = [], 0
  while pos < len(value):
    item, pos = read_varint(value, pos)
    out.append(item)
  return out


def signed64(value: int) -> int:
  """An ``int64`` from its varint (two's complement in 64 bits)."""
  return value - (1 << 64) if value >= 1 << 63 else value


def varint(value: int) -> bytes:
  """The varint encoding of an int in [-2**63, 2**64) (negatives as ``int64`` does)."""
  if not -(1 << 63) <= value < 1 << 64:
    raise ValueError(f"A varint holds a value in [-2**63, 2**64), got {value}.")
  value &= (1 << 64) - 1
  out = bytearray()
  while True:
    byte, value = value & 0x7F, value >> 7
    if value:
      out.append(byte | 0x80)
    else:
      out.append(byte)
      return bytes(out)


def varint_field(number: int, value: int) -> bytes:
  """A varint field (int32, int64, uint64, bool, enum)."""
  return varint(number << 3 | VARINT) + varint(value)


def bytes_field(number: int, value: bytes | str) -> bytes:
  """A length-delimited field: bytes, a string (UTF-8) or an encoded sub-message.

  Example:
    >>> bytes_field(2, "hi") + varint_field(1, 150)
    b'\\x12\\x02hi\\x08\\x96\\x01'
  """
  if isinstance(value, str):
    value = value.encode("utf-8")
  return varint(number << 3 | LENGTH_DELIMITED) + varint(len(value)) + value


__all__ = [
  "bytes_field",
  "fields",
  "read_varint",
  "repeated_varints",
  "signed64",
  "varint",
  "varint_field",
]
