"""Writing contract-1 records (messages.jsonl, or WeClone's dataset/csv folder): one writer for every source."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson

from qing.errors import QingError
from qing.files import atomic_output, open_private
from qing.files import check_output as check_file_output
from qing.i18n import _
from qing.sources import weclone_out
from qing.sources.options import OUTPUT_FORMATS as FORMATS


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise QingError(_("unknown --format {format!r}; use one of: {choices}.").format(format=fmt,
                                                                                         choices=", ".join(FORMATS)))


def check_output(path: Path, fmt: str, force: bool) -> None:
    """Refuse an output that `fmt` must not write to (a file for jsonl, a folder for csv), before any work."""
    check_format(fmt)
    if fmt == "csv":
        weclone_out.check_output(path, force)
    else:
        check_file_output(path, force)


@contextlib.contextmanager
def output(path: Path, fmt: str, force: bool = False):
    """A private temporary file (jsonl) or folder (csv) beside `path` to write into: it replaces `path` when the
    block ends well, and is removed when the block raises, leaving `path` as it was."""
    check_format(fmt)
    with (weclone_out.atomic_folder if fmt == "csv" else atomic_output)(path, force) as tmp:
        yield tmp


def restart(tmp: Path) -> None:
    """Empty the temporary output of `output` (its folder's chat folders), to write it again."""
    if tmp.is_dir():
        for entry in tmp.iterdir():
            shutil.rmtree(entry)


@contextlib.contextmanager
def writer(path: Path, fmt: str, zone: ZoneInfo | None):
    """A function writing lists of records to `path` (created private) in `fmt`: for csv, `path` is an empty
    folder, and the records come in chat order."""
    check_format(fmt)
    if fmt == "csv":
        folder = weclone_out.FolderWriter(path, zone)
        try:
            yield folder.write
        except BaseException:
            folder.abandon()
            raise
        folder.close()
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
