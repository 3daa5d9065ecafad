"""`qing export`: QQ NT message tables -> messages.jsonl (contract 1 of DESIGN.md).

Rows are streamed from SQLite in (chat, time, id) order and written one
line each, so memory stays flat in the database size. Columns are found
through PRAGMA table_info: a column missing in some client version reads as
NULL. Bodies are decoded by field number (qing.elements); a row that cannot
be decoded is counted by cause, never fatal and never silently dropped.
"""

from __future__ import annotations

import csv
import sqlite3
import tempfile
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from qing.decrypt import PLAIN_SQLITE, decrypt
from qing.elements import BadBody, render
from qing.errors import QingError
from qing.files import atomic_output, check_output, require_input

TABLES = {"c2c_msg_table": "c2c", "group_msg_table": "group"}
COLUMNS = ["40001", "40003", "40013", "40021", "40027", "40030", "40033", "40050", "40090", "40093", "40800"]
SENT_BY_ME = (1, 2)  # sendType: sent from this device / from another of my devices
REPLY_MEMORY = 200_000  # per chat: msgSeq -> msgId of the latest messages, to resolve replies by seq
WECLONE_TYPES = {
    "text": "文本", "image": "图片", "sticker": "动画表情", "voice": "语音", "video": "视频", "file": "文件",
    "card": "(分享)卡片式链接", "forward": "合并转发的聊天记录", "call": "语音通话", "recall": "消息撤回",
    "system": "系统通知", "redpacket": "未知", "unknown": "未知",
}
WECLONE_HEADER = ["id", "MsgSvrID", "type_name", "is_sender", "talker", "room_name", "msg", "src", "CreateTime"]


@dataclass
class ExportSummary:
    output: Path
    owner: int
    owner_source: str
    messages: int = 0
    chats: int = 0
    kinds: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)    # rows not written, by cause
    problems: Counter = field(default_factory=Counter)   # rows written with something left out, by cause
    owner_messages: int = 0
    seconds: float = 0.0


def export(db: Path, output: Path, *, key: str | None = None, hmac: str = "auto", profile: Path | None = None,
           me: int | None = None, groups: bool = False, fmt: str = "jsonl", tz: str = "Asia/Shanghai",
           force: bool = False, progress: Callable[[int, int], None] | None = None,
           on_owner: Callable[[int, str], None] | None = None) -> ExportSummary:
    """Export the messages of `db` (plain, or encrypted with `key`) to `output`."""
    started = time.perf_counter()
    if fmt not in ("jsonl", "csv"):
        raise QingError(f"unknown --format {fmt!r}; use jsonl or csv.")
    zone = _zone(tz)
    require_input(db, "database")
    if profile:
        require_input(profile, "profile database")
    check_output(output, force)
    output.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(prefix=".qing-export-", dir=output.parent) as work:
        plain_db = _plain(db, key, hmac, Path(work) / "nt_msg.plain.db")
        plain_profile = _plain(profile, key, hmac, Path(work) / "profile.plain.db") if profile else None
        conn = _connect(plain_db)
        try:
            tables = _message_tables(conn, db, groups)
            owner, source = (me, "--me") if me else (detect_owner(conn, tables), "detected")
            if on_owner:
                on_owner(owner, source)
            names = read_profile_names(plain_profile) if plain_profile else {}
            summary = ExportSummary(output, owner, source)
            total = sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)
            with atomic_output(output, force) as tmp, open(tmp, "w", encoding="utf-8", newline="") as out:
                writer = _CsvWriter(out, zone) if fmt == "csv" else _JsonlWriter(out)
                reader = _RowReader(owner, names, uid_to_uin(conn), summary)
                for table in tables:
                    for record in reader.records(conn, table, _columns(conn, table)):
                        writer.write(record)
                        if progress and summary.messages % 20000 == 0:
                            progress(summary.messages + sum(summary.skipped.values()), total)
            if progress:
                progress(total, total)
        finally:
            conn.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise QingError(f"unknown time zone {tz!r}; use an IANA name such as Asia/Shanghai.") from None


def _plain(path: Path, key: str | None, hmac: str, target: Path) -> Path:
    """The path of a plain SQLite copy of `path`: itself when plain, else decrypted with `key`."""
    with open(path, "rb") as f:
        if f.read(16) == PLAIN_SQLITE:
            return path
    if not key:
        raise QingError(f"{path} is encrypted; pass --key (or set QING_KEY) to read it, "
                        f"or run `qing decrypt` on it first.")
    decrypt(path, key, target, hmac)
    return target


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as e:
        conn.close()
        raise QingError(f"{path} does not open as a SQLite database ({e}); is it the right file?") from None
    return conn


def _message_tables(conn: sqlite3.Connection, db: Path, groups: bool) -> list[str]:
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "c2c_msg_table" not in present:
        raise QingError(f"{db} has no c2c_msg_table, so it is not a QQ NT message database; "
                        f"give the nt_msg.db file.")
    return [t for t in TABLES if t in present and (t == "c2c_msg_table" or groups)]


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def detect_owner(conn: sqlite3.Connection, tables: list[str]) -> int:
    """The account owner's uin: the usual sender of sendType 1/2 rows, else the c2c sender who is not the peer."""
    cols = _columns(conn, "c2c_msg_table")
    queries = []
    if {"40013", "40033"} <= cols:
        queries += [f'SELECT "40033" FROM {t} WHERE "40013" IN (1, 2) AND "40033" > 0 LIMIT 200000'
                    for t in tables]
    if {"40030", "40033"} <= cols:
        queries.append('SELECT "40033" FROM c2c_msg_table WHERE "40033" > 0 AND "40033" != "40030" LIMIT 200000')
    for query in queries:
        row = conn.execute(f"SELECT \"40033\", count(*) AS n FROM ({query}) GROUP BY 1 ORDER BY n DESC LIMIT 1").fetchone()
        if row:
            return int(row[0])
    raise QingError("could not tell which QQ number is yours from the messages; pass --me YOUR_QQ_NUMBER.")


def read_profile_names(path: Path) -> dict[int, str]:
    """uin -> the remark I gave them, else their nickname, from profile_info.db."""
    conn = _connect(path)
    try:
        cols = _columns(conn, "profile_info_v6")
        if "1002" not in cols:
            raise QingError(f"{path} has no profile_info_v6 table with uins, so it is not a QQ NT "
                            f"profile_info.db.")
        remark = '"20009"' if "20009" in cols else "NULL"
        nick = '"20002"' if "20002" in cols else "NULL"
        rows = conn.execute(f'SELECT "1002", {remark}, {nick} FROM profile_info_v6')
        return {int(uin): (r or n) for uin, r, n in rows if uin and (r or n)}
    finally:
        conn.close()


def uid_to_uin(conn: sqlite3.Connection) -> dict[str, int]:
    """nt_uid_mapping_table (uid -> uin), for rows whose uin columns are empty."""
    try:
        return {uid: int(uin) for uid, uin in conn.execute('SELECT "48902", "1002" FROM nt_uid_mapping_table')
                if uid and uin}
    except sqlite3.DatabaseError:
        return {}


class _RowReader:
    """Turns message rows into contract-1 records, counting what it skips."""

    def __init__(self, owner: int, names: dict[int, str], uids: dict[str, int], summary: ExportSummary):
        self.owner, self.names, self.uids, self.summary = owner, names, uids, summary

    def records(self, conn: sqlite3.Connection, table: str, present: set[str]):
        if "40001" not in present:
            raise QingError(f"{table} has no msgId column (40001); this client version is not supported yet.")
        select = ", ".join(f'"{c}"' if c in present else "NULL" for c in COLUMNS)
        order = ", ".join(f'"{c}"' for c in ("40030", "40050", "40001") if c in present)
        prefix = TABLES[table]
        chat = None
        seqs: OrderedDict[int, int] = OrderedDict()
        s = self.summary
        for msg_id, seq, send_type, peer_uid, group_no, peer_uin, sender, when, card, nick, blob in \
                conn.execute(f"SELECT {select} FROM {table} ORDER BY {order}"):
            try:
                r = render(blob, s.problems)
            except BadBody as e:
                s.skipped[e.cause] += 1
                continue
            peer = peer_uin or group_no or self.uids.get(peer_uid) or peer_uid or 0
            if f"{prefix}:{peer}" != chat:
                chat = f"{prefix}:{peer}"
                s.chats += 1
                seqs.clear()
            is_me = send_type in SENT_BY_ME or (sender == self.owner)
            if not sender:
                sender = self.owner if is_me else (peer if prefix == "c2c" else None)
            reply_to = r.reply_id
            if r.reply_seq and not reply_to:
                reply_to = seqs.get(r.reply_seq)
                if reply_to is None:
                    s.problems["reply target not found"] += 1
            if seq:
                seqs[seq] = msg_id
                if len(seqs) > REPLY_MEMORY:
                    seqs.popitem(last=False)
            s.messages += 1
            s.owner_messages += is_me
            s.kinds[r.kind] += 1
            yield {"id": msg_id, "chat": chat, "peer": peer, "sender": sender,
                   "sender_name": self.names.get(sender) or card or nick or None,
                   "is_me": is_me, "time": when or 0, "kind": r.kind, "text": r.text, "reply_to": reply_to}


class _JsonlWriter:
    def __init__(self, out):
        self.out = out

    def write(self, record: dict) -> None:
        self.out.write(orjson.dumps(record).decode())
        self.out.write("\n")


class _CsvWriter:
    """WeClone's CSV layout, so WeClone users can feed our export to it."""

    def __init__(self, out, zone: ZoneInfo):
        self.csv = csv.writer(out)
        self.csv.writerow(WECLONE_HEADER)
        self.zone, self.row = zone, 0

    def write(self, r: dict) -> None:
        self.row += 1
        talker = r["sender_name"] or str(r["sender"] or "")
        local = datetime.fromtimestamp(r["time"], self.zone).strftime("%Y-%m-%d %H:%M:%S")
        self.csv.writerow([self.row, r["id"], WECLONE_TYPES[r["kind"]], int(r["is_me"]), talker, r["chat"],
                           r["text"], "", local])
