"""Writing contract-1 records (messages.jsonl, or WeClone's CSV layout): one writer for every source."""

from __future__ import annotations

import contextlib
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson

from qing import weclone
from qing.errors import QingError
from qing.files import open_private

FORMATS = ("jsonl", "csv")


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
        dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
        yield lambda records: out.write(b"".join([dumps(r, option=newline) for r in records]))
