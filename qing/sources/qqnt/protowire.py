"""Protobuf wire format by hand: reading small messages and writing test databases.

QQ NT stores protobufs without a .proto; we address fields by number. The
hot path of `qing export` uses the compiled parser in `qing.elements`; this
module serves the rest: the file header, the fallback for blobs the fast
parser refuses, and the encoder that builds sample databases.
"""

from __future__ import annotations

from typing import Iterator, Union

Value = Union[int, bytes]


class WireError(ValueError):
    """The bytes are not a well-formed protobuf."""


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise WireError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError("varint longer than 10 bytes")


def iter_fields(buf: bytes) -> Iterator[tuple[int, int, Value]]:
    """Yield (field number, wire type, value) for each field; bytes for wire type 2."""
    pos, end = 0, len(buf)
    while pos < end:
        tag, pos = read_varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise WireError("field number 0")
        if wire == 0:
            value, pos = read_varint(buf, pos)
        elif wire == 2:
            size, pos = read_varint(buf, pos)
            if pos + size > end:
                raise WireError("length-delimited field runs past the end")
            value, pos = buf[pos:pos + size], pos + size
        elif wire == 1:
            value, pos = int.from_bytes(buf[pos:pos + 8], "little"), pos + 8
        elif wire == 5:
            value, pos = int.from_bytes(buf[pos:pos + 4], "little"), pos + 4
        else:
            raise WireError(f"unsupported wire type {wire}")
        if pos > end:
            raise WireError("field runs past the end")
        yield number, wire, value


# --- encoding -----------------------------------------------------------------

def varint(value: int) -> bytes:
    if value < 0:
        value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number: int, value: Value | str) -> bytes:
    """Encode one field: int as varint, str/bytes as length-delimited."""
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    data = value.encode("utf-8") if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def message(*fields: tuple[int, Value | str] | None) -> bytes:
    """Encode (number, value) pairs in order; None entries are skipped."""
    return b"".join(field(n, v) for f in fields if f is not None for n, v in [f])
