"""`qing export`: recognise the input and hand it to its reader - the QQ NT export (qqnt.export) for a database, or
another tool's export (export_other) for the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from qing.errors import QingError
from qing.i18n import _
from qing.sources import export_other
from qing.sources.export_other import OtherSummary
from qing.sources.qqnt.export import ExportSummary


def resolve(path: Path, source: str = "auto") -> str:
    """The format of PATH: SOURCE when given, else recognised by its content (see export_other.detect)."""
    if not path.exists():
        raise QingError(_("input {path} does not exist.").format(path=path))
    if source == "weclone-csv" and path.is_dir():  # WeClone's dataset/csv, or one chat's folder of it
        return "folder"
    return export_other.detect(path) if source == "auto" else source


def export(path: Path, output: Path, source: str, *, key: Callable[[Path], str], hmac: str = "auto",
           profile: Path | None = None, me: int | None = None, groups: bool = False, fmt: str = "jsonl",
           tz: str = "Asia/Shanghai", force: bool = False, workers: int | None = None,
           progress: Callable[[int, int], None] | None = None, counted: Callable[[int], None] | None = None,
           on_owner: Callable[[int, str], None] | None = None, on_chat: Callable[[str, int, int], None] | None = None,
           on_found: Callable[[Path, str], None] | None = None) -> ExportSummary | OtherSummary:
    """Export PATH, in format SOURCE (from `resolve`), to OUTPUT.

    key: asked for the key of an encrypted database (the message database, else the profile) only when one is
    encrypted. A QQ NT database reports progress(rows done, rows) and on_owner; other exports report counted(messages
    read so far), on_chat per chat, and for a folder of exports on_found per export found in it.
    """
    from qing.sources.qqnt.decrypt import is_plain_sqlite
    from qing.sources.qqnt.export import export as export_qq_nt

    if source == "folder" and on_found:
        for found, kind in export_other.folder_exports(path):
            on_found(found, kind)
    if source != "qq-nt":
        return export_other.export_other(path, output, source, tz=tz, me=str(me) if me else None, fmt=fmt,
                                         force=force, workers=workers, on_chat=on_chat, progress=counted)
    encrypted = [p for p in (path, profile) if p and p.is_file() and not is_plain_sqlite(p)]
    return export_qq_nt(path, output, key=key(encrypted[0]) if encrypted else None, hmac=hmac, profile=profile,
                        me=me, groups=groups, fmt=fmt, tz=tz, force=force, workers=workers, progress=progress,
                        on_owner=on_owner)
