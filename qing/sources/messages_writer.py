"""Writing contract-1 records (messages.jsonl, or WeClone's CSV layout): one writer for every source."""

from __future__ import annotations

import contextlib
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson

from qing.errors import QingError
from qing.files import open_private
from qing.sources import weclone
from qing.sources.options import OUTPUT_FORMATS as FORMATS


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise QingError(f"unknown --format {fmt!r}; use {' or '.join(FORMATS)}.")


@contextlib.contextmanager
def writer(path: Path, fmt: str, zone: ZoneInfo | None):
    """A function writing a list of records to `path` (created private) in `fmt`."""
    check_format(fmt)
    if fmt == "csv":
        with open_private(path, "w", encoding="utf-8", newline="") as out:
            yield weclone.Writer(out, zone).write
        return
    with open_private(path, "wb") as out:
        yield lambda records: _write_jsonl(out, records)


def _write_jsonl(out, records: list[dict]) -> None:
    """Write contract-1 records (non-empty dicts) as JSON lines, each exactly orjson.dumps(record) and a newline.

    One orjson call for the whole list costs far less than one per record. orjson writes a list of dicts as
    `[{"..},{"..}]`, no spaces, and a newline inside a string as an escape, so after turning every `},{"` into
    `}\n{"` each raw newline stands for a `},{"` replaced. Each of the len - 1 joins is one; any other (a
    string ending in `},{`, a nested list of objects) makes the count differ, and then, as when the list cannot
    be written at all, each record is written alone.
    """
    if not records:
        return
    try:
        whole = orjson.dumps(records)
    except orjson.JSONEncodeError:
        whole = b""
    lines = whole.replace(b'},{"', b'}\n{"')
    if whole.startswith(b"[{") and lines.count(b"\n") == len(records) - 1 and all(records):
        out.write(memoryview(lines)[1:-1])  # without the brackets, and not copied
        out.write(b"\n")
        return
    dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    out.write(b"".join([dumps(r, option=newline) for r in records]))
