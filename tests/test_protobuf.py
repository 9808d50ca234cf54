"""The protocol buffers wire format reader and writer (adamax_optax.mindspore._protobuf).

The byte strings below are the examples of the format's documentation
(https://protobuf.dev/programming-guides/encoding/); real files written by the protobuf
library are read in tests/wings/mindspore/test_mindspore_checkpoint_files.py.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adamax_optax.mindspore import _protobuf as pb


@pytest.mark.parametrize(
  ("value", "encoded"),
  [
    (0, b"\x00"),
    (1, b"\x01"),
    (150, b"\x96\x01"),
    (2**63 - 1, b"\xff" * 8 + b"\x7f"),
    (2**64 - 1, b"\xff" * 9 + b"\x01"),
    (-1, b"\xff" * 9 + b"\x01"),  # int64 -1: ten bytes, two's complement
    (-2, b"\xfe" + b"\xff" * 8 + b"\x01"),
  ],
)
def test_varints_match_the_specification(value, encoded):
  assert pb.varint(value) == encoded
  decoded, end = pb.read_varint(encoded, 0)
  assert end == len(encoded)
  assert (pb.signed64(decoded) if value < 0 else decoded) == value


def test_documented_messages():
  # "a = 150" in field 1, then the string "testing" in field 2
  data = b"\x08\x96\x01" + b"\x12\x07testing"
  assert list(pb.fields(data)) == [(1, pb.VARINT, 150), (2, pb.LENGTH_DELIMITED, b"testing")]
  assert pb.varint_field(1, 150) + pb.bytes_field(2, "testing") == data
  # fixed-size fields: little-endian
  fixed = b"\x19" + (1).to_bytes(8, "little") + b"\x25" + (7).to_bytes(4, "little")
  assert list(pb.fields(fixed)) == [(3, pb.FIXED64, 1), (4, pb.FIXED32, 7)]


def test_repeated_integers_packed_or_not():
  unpacked = pb.varint_field(4, 3) + pb.varint_field(4, 270)
  packed = pb.bytes_field(4, pb.varint(3) + pb.varint(270))
  assert packed == b"\x22\x03\x03\x8e\x02"  # the documentation's packed example
  for data in (unpacked, packed):
    got = [v for _, w, raw in pb.fields(data) for v in pb.repeated_varints(w, raw)]
    assert got == [3, 270]
  with pytest.raises(ValueError, match="wire type 5, expected 0 or 2"):
    pb.repeated_varints(pb.FIXED32, 3)


@given(
  st.lists(
    st.tuples(
      st.integers(1, 2**29 - 1),
      st.one_of(st.integers(-(2**63), 2**64 - 1), st.binary(max_size=300), st.text(max_size=20)),
    ),
    max_size=8,
  )
)
def test_written_fields_read_back(items):
  data = b"".join(
    pb.varint_field(n, v) if isinstance(v, int) else pb.bytes_field(n, v) for n, v in items
  )
  want = [
    (n, pb.VARINT, v % 2**64)
    if isinstance(v, int)
    else (n, pb.LENGTH_DELIMITED, v.encode() if isinstance(v, str) else v)
    for n, v in items
  ]
  assert list(pb.fields(data)) == want


def test_nested_messages():
  inner = pb.varint_field(1, 4) + pb.varint_field(1, 3) + pb.bytes_field(2, "Float32")
  outer = pb.bytes_field(1, pb.bytes_field(1, "w") + pb.bytes_field(2, inner))
  ((number, wire_type, value),) = pb.fields(outer)
  assert (number, wire_type) == (1, pb.LENGTH_DELIMITED)
  tag, tensor = list(pb.fields(value))
  assert tag[2] == b"w" and list(pb.fields(tensor[2]))[-1] == (2, pb.LENGTH_DELIMITED, b"Float32")


@pytest.mark.parametrize(
  ("data", "message"),
  [
    (b"\x08\x96", "a varint at byte 1 runs past the end"),
    (b"\x08" + b"\xff" * 10 + b"\x01", "over 10 bytes long"),
    (b"\x12\x07test", "field 2 at byte 0 holds 7 bytes, only 4 remain"),
    (b"\x19\x01\x02", "field 3 at byte 0"),
    (b"\x0b\x0c", "wire type 3"),
    (b"\x00\x01", "field number 0"),
  ],
)
def test_malformed_data_is_refused(data, message):
  with pytest.raises(ValueError, match=message):
    list(pb.fields(data))


def test_out_of_range_varints_are_refused():
  with pytest.raises(ValueError, match=r"\[-2\*\*63, 2\*\*64\)"):
    pb.varint(2**64)
