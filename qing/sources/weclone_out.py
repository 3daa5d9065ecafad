"""`qing export --format csv`: contract-1 records as WeClone's dataset/csv, ready for its make-dataset step.

WeClone (its data/qa_generator.py) reads every entry of dataset/csv as a chat's folder and every *.csv in it, in
the order of the first row number in the file name (PyWxDump's `<id>_<start>_<end>.csv`). So each chat gets a
folder named as WeClone's own data names them - the friend's or group's shown name, made safe for every file
system - and `room_name` is that folder's name, as WeClone looks relations up by it. The file in it is named after
the chat id (`c2c%3A20001_0_398.csv`), so that `qing export` reads the folder back to the same chat ids.
"""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import operator
import os
import re
import shutil
import unicodedata
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

from qing.errors import QingError
from qing.files import open_private, private_dir, refuse_foreign_files, work_dir_beside
from qing.i18n import _
from qing.sources import weclone

VOICE_WITHOUT_TRANSCRIPT = "[语音]"
NAME_WAIT = 10_000  # records of a one-to-one chat held back until the friend's name shows (my messages come first)
MAX_NAME_BYTES = 120  # of a folder name in UTF-8: a file in it must still fit in 255 bytes
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')  # refused by Windows (and / everywhere)
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {f"{d}{n}" for d in ("COM", "LPT")
                                                                 for n in "123456789¹²³"}
_CHAT, _TIME = operator.itemgetter("chat"), operator.itemgetter("time")
_FIELDS = operator.itemgetter("id", "kind", "is_me", "sender_name", "sender", "text")


def safe_name(name: str) -> str:
    """NAME as a folder name every file system takes ('' when nothing of it is left): the characters Windows
    refuses become '_'; leading and trailing dots and spaces go (Windows drops trailing ones; a leading dot hides
    the folder); a reserved device name (CON, com1.txt) gets a '_'; at most MAX_NAME_BYTES of UTF-8."""
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", name)).strip(". \t")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        name = name.encode("utf-8")[:MAX_NAME_BYTES].decode("utf-8", "ignore").rstrip(". \t")
    if name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED:
        name = "_" + name
    return name


class Names:
    """Folder names given so far; a name taken (compared as Windows and macOS do: case and Unicode form aside) is
    made distinct with the chat's id, then with a number."""

    def __init__(self):
        self.taken: set[str] = set()

    def give(self, wanted: str, chat: str) -> str:
        """A safe name for CHAT, from WANTED (or its id when nothing of WANTED is left), not given before."""
        base = safe_name(wanted) or safe_name(id_name(chat)) or "chat"
        ident = _parts(chat)[1]
        candidates = itertools.chain([base, safe_name(f"{base} ({ident})")],
                                     (safe_name(f"{base} ({n})") for n in itertools.count(2)))
        for name in candidates:
            if name and _folded(name) not in self.taken:
                self.taken.add(_folded(name))
                return name
        raise AssertionError("unreachable")


def _folded(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def _parts(chat: str) -> tuple[str, str]:
    """(type, id) of a chat id: ('c2c', '20001') of c2c:20001 and qce:c2c:20001, ('group', ...) likewise, ('', id)
    for the rest (wechat:<room>)."""
    head, _colon, rest = chat.partition(":")
    if head in ("c2c", "group"):
        return head, rest
    kind, _colon, ident = rest.partition(":")
    return (kind, ident) if kind in ("c2c", "group") and ident else ("", rest or chat)


def fixed_name(chat: str) -> str | None:
    """The shown name of a chat that needs no message to name it (a group's: the records do not carry group names,
    so its number, as 群123456, or the name its id holds), or None for a one-to-one chat (its friend's name)."""
    kind, _ident = _parts(chat)
    return None if kind == "c2c" else id_name(chat)


def id_name(chat: str) -> str:
    """A name made of the chat's id: a number as 群123456 or 好友20001 (a bare number would read as one in pandas,
    and names nobody), other ids as they are."""
    kind, ident = _parts(chat)
    if not ident.lstrip("-").isdigit():
        return ident
    return f"群{ident}" if kind == "group" else f"好友{ident}"


def friend_name(records: list[dict]) -> str | None:
    """The name the first message of the other side shows, if one of RECORDS has one."""
    return next((r["sender_name"].strip() for r in records if not r["is_me"] and (r["sender_name"] or "").strip()),
                None)


def _voice_type(text: str) -> str:
    """A voice message's type_name: its transcript is what was said, and WeClone keeps text (语音 is a cut)."""
    return "文本" if text != VOICE_WITHOUT_TRANSCRIPT and text.strip() else "语音"


class FolderWriter:
    """Writes contract-1 records, in chat order, into FOLDER (empty, private) in WeClone's layout.

    Rows are formatted here into a chat's buffer; one thread of its own makes the folders and files and writes the
    buffers (making a folder and a file mostly waits on the disk: the wait overlaps the work on the next rows).
    """

    FLUSH = 1 << 22  # characters of a chat's rows held before they are handed to the disk thread

    def __init__(self, folder: Path, zone: ZoneInfo):
        self.folder, self.zone = folder, zone
        self.names = Names()
        self.rows = 0  # rows written before the open chat: `id` runs on over the whole export, as PyWxDump's does
        self.chat: str | None = None
        self.pending: list[dict] = []  # the open chat's records while its name is awaited
        self.buffer = self.csv = self.path = self.room = None
        self.written = 0  # rows of the open chat written
        self.created = False  # its file made (by the disk thread)
        self.local_time = _LocalTime(zone)
        self.disk = ThreadPoolExecutor(1)
        self.done: list[Future] = []

    def write(self, records: list[dict]) -> None:
        for chat, run in itertools.groupby(records, _CHAT):
            run = list(run)
            if chat != self.chat:
                self._end_chat()
                self.chat = chat
                name = fixed_name(chat)
                if name is not None:
                    self._open(name)
            if self.buffer is None:
                self.pending += run
                name = friend_name(run)
                if name is None and len(self.pending) < NAME_WAIT:
                    continue
                self._open(name or id_name(chat))
                run, self.pending = self.pending, []
            self._write_rows(run)
            if self.buffer.tell() >= self.FLUSH:
                self._hand_over()

    def close(self) -> None:
        """End the last chat (after the last write) and wait for the disk thread."""
        self._end_chat()
        self.disk.shutdown()
        self._check(wait=True)

    def abandon(self) -> None:
        """Stop the disk thread, so that nothing is written into the folder after this."""
        self.disk.shutdown(cancel_futures=True)

    def _open(self, name: str) -> None:
        self.room = self.names.give(name, self.chat)
        self.path = self.folder / self.room / f"{weclone.chat_file_stem(self.chat)}.csv.part"
        self.buffer = io.StringIO(newline="")
        self.csv = weclone.csv_writer(self.buffer)
        self.written = 0
        self.created = False

    def _write_rows(self, records: list[dict]) -> None:
        types, room, times = weclone.KIND_TO_TYPE, self.room, self.local_time.many(map(_TIME, records))
        rows = [[i, msg_id, types[kind] if kind != "voice" else _voice_type(text), 1 if mine else 0,
                 name or str(sender or ""), room, text, r.get("src", ""), when]
                for i, r, when in zip(itertools.count(self.rows + self.written + 1), records, times)
                for msg_id, kind, mine, name, sender, text in (_FIELDS(r),)]
        self.csv.writerows(rows)
        self.written += len(records)

    def _hand_over(self, rename: Path | None = None) -> None:
        """Give the chat's buffered rows to the disk thread (the first time: with its folder to make)."""
        self._check()
        self.done.append(self.disk.submit(_append, self.path, self.buffer.getvalue(), not self.created, rename))
        self.created = True
        self.buffer.seek(0)
        self.buffer.truncate()

    def _check(self, wait: bool = False) -> None:
        """Raise what went wrong in the disk thread (a full disk) here."""
        for future in [f for f in self.done if wait or f.done()]:
            self.done.remove(future)
            future.result()

    def _end_chat(self) -> None:
        if self.chat is None:
            return
        if self.buffer is None:  # the chat ended before its friend's name showed
            run, self.pending = self.pending, []
            self._open(friend_name(run) or id_name(self.chat))
            self._write_rows(run)
        end = self.rows + self.written
        self._hand_over(self.path.with_name(f"{weclone.chat_file_stem(self.chat)}_{self.rows}_{end}.csv"))
        self.rows, self.chat, self.buffer = end, None, None


def _append(path: Path, text: str, create: bool, rename: Path | None) -> None:
    """In the disk thread: write TEXT to PATH (made, in a folder made, when CREATE), then rename it to RENAME."""
    if create:
        private_dir(path.parent)
    with open_private(path, "wb" if create else "ab") as f:
        f.write(text.encode("utf-8"))
    if rename:
        path.rename(rename)


_MINUTES_SECONDS = [f"{m:02d}:{sec:02d}" for m in range(60) for sec in range(60)]  # seconds into an hour -> "MM:SS"


class _LocalTime:
    """Unix seconds -> 'YYYY-MM-DD HH:MM:SS' in a zone, at a few dict look-ups a row: the zone is consulted once
    per hour of time (its offset, when it holds for the whole hour and is whole minutes), a date formatted once per
    local hour."""

    def __init__(self, zone: ZoneInfo):
        self.zone = zone
        self.offsets: dict[int, int | None] = {}  # UTC hour -> the zone's offset in seconds through it (None: not one)
        self.hours: dict[int, str] = {}  # local hour (seconds // 3600) -> "YYYY-MM-DD HH:"

    def many(self, times: Iterable[int]) -> list[str]:
        """The local time of each of TIMES (one loop for a batch: calls cost more than the look-ups)."""
        offsets, hours, texts = self.offsets, self.hours, []
        for seconds in times:
            hour = seconds // 3600
            offset = offsets.get(hour, False)
            if offset is False:
                offset = self._offset(hour)
            if offset is None:
                texts.append(datetime.fromtimestamp(seconds, self.zone).strftime("%Y-%m-%d %H:%M:%S"))
                continue
            local = seconds + offset
            start = hours.get(local // 3600)
            if start is None:
                start = self._hour(seconds, local)
            texts.append(start + _MINUTES_SECONDS[local % 3600])
        return texts

    def _hour(self, seconds: int, local: int) -> str:
        if len(self.hours) >= 4096:  # years of hours: start again, so memory stays flat
            self.hours.clear()
            self.offsets.clear()
        start = self.hours[local // 3600] = datetime.fromtimestamp(seconds, self.zone).strftime("%Y-%m-%d %H:")
        return start

    def _offset(self, hour: int) -> int | None:
        first, last = (datetime.fromtimestamp(hour * 3600 + s, self.zone).utcoffset() for s in (0, 3599))
        offset = int(first.total_seconds()) if first == last and first.total_seconds() % 60 == 0 else None
        self.offsets[hour] = offset
        return offset


# --- the output folder -------------------------------------------------------------------------------------------

def check_output(path: Path, force: bool) -> None:
    """Refuse what --format csv must not write to, before any work: a file, a name ending .csv (a folder is
    written), a folder that holds something (without --force), or anything qing did not write (with it)."""
    if path.suffix.lower() == ".csv":
        raise QingError(_("--format csv writes a folder with one folder per chat (WeClone's dataset/csv), not one "
                          "file; give a folder with -o, e.g. -o {folder} or -o dataset/csv.").format(
            folder=path.with_suffix("")))
    if path.exists() and not path.is_dir():
        raise QingError(_("output {path} is a file; --format csv writes a folder: give one with -o.").format(
            path=path))
    if path.is_dir() and any(path.iterdir()):
        if not force:
            raise QingError(_("output folder {path} is not empty; pass --force to replace what qing wrote there, or "
                              "-o for another folder.").format(path=path))
        refuse_foreign_files(path, (), "qing export", _written_by_qing)


def _written_by_qing(entry: Path) -> bool:
    """A chat folder as FolderWriter writes it: a folder holding only files named after our chat ids."""
    if entry.is_symlink() or not entry.is_dir():
        return False
    files = list(entry.iterdir())
    return bool(files) and all(f.is_file() and weclone.written_by_qing(f.name) for f in files)


@contextlib.contextmanager
def atomic_folder(path: Path, force: bool = False) -> Iterator[Path]:
    """Yield a private empty folder beside PATH; it replaces PATH when the block ends well, and is removed when it
    raises (Ctrl+C included), leaving PATH as it was."""
    check_output(path, force)
    if path.name in ("", ".."):  # `-o .` has no name to put a work folder beside
        path = path.resolve()
    work = work_dir_beside(path)
    try:
        yield work
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            _remove(old)
            os.replace(path, old)
            os.replace(work, path)
            _remove(old)
        else:
            os.replace(work, path)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _remove(folder: Path) -> None:
    """Remove FOLDER and all in it, its folders by several threads: removing a file mostly waits on the disk (a
    disk mounted with online discard waits milliseconds), and the waits of threads overlap - 8 to 10 times faster
    for an export's chat folders."""
    if not folder.exists():
        return
    with ThreadPoolExecutor(8) as pool:
        pool.map(functools.partial(shutil.rmtree, ignore_errors=True),
                 [e.path for e in os.scandir(folder) if e.is_dir(follow_symlinks=False)])
    shutil.rmtree(folder)
