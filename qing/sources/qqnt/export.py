"""`qing export`: QQ NT message tables -> messages.jsonl (contract 1 of DESIGN.md).

Rows are streamed from SQLite in (chat, time, id) order and written one
line each, so memory stays flat in the database size. Columns are found
through PRAGMA table_info: a column missing in some client version reads as
NULL. Bodies are decoded by field number (qing.elements); a row that cannot
be decoded is counted by cause, never fatal and never silently dropped.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from qing import parallel
from qing.config import time_zone
from qing.errors import QingError
from qing.files import (
    copy_into,
    refuse_input_as_output,
    removed_after,
    require_input,
    work_dir_beside,
)
from qing.i18n import _
from qing.sources import messages_writer as records
from qing.sources.qqnt.body import BadBody, render
from qing.sources.qqnt.decrypt import decrypt, is_plain_sqlite

TABLES = {"c2c_msg_table": "c2c", "group_msg_table": "group"}
SENT_BY_ME = (1, 2)  # sendType: sent from this device / from another of my devices
PARALLEL_FROM = 100_000  # rows; below this, starting worker processes costs more than it saves
BATCH = 4096  # rows fetched, rendered and written at a time
SLICE_SAMPLES = 500  # rows sampled to place the cuts between slices
REPLY_MEMORY = 200_000  # per chat: msgSeq -> msgId of the latest messages, to resolve replies by seq


@dataclass
class Tally:
    """What an export wrote and what it left out; parts add up."""

    rows: int = 0                                        # rows read, written or skipped
    chats: int = 0
    owner_messages: int = 0
    kinds: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)    # rows not written, by cause
    problems: Counter = field(default_factory=Counter)   # rows written with something left out, by cause

    @property
    def messages(self) -> int:
        return sum(self.kinds.values())

    def add(self, other: "Tally") -> None:
        for name in ("rows", "chats", "owner_messages"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("kinds", "skipped", "problems"):
            getattr(self, name).update(getattr(other, name))


def cause(key: str) -> str:
    """A cause counted in Tally.skipped or Tally.problems (an English key) in the user's language, for the
    summary."""
    if key.startswith("unknown element type "):
        return _("unknown element type {number}").format(number=key.rsplit(" ", 1)[1])
    return {
        "bad time": _("bad time"),
        "null body": _("null body"),
        "number body": _("number body"),
        "bad protobuf": _("bad protobuf"),
        "varint body": _("varint body"),
        "empty body": _("empty body"),
        "no elements": _("no elements"),
        "reply target not found": _("reply target not found"),
    }.get(key, key)


@dataclass
class ExportSummary:
    output: Path
    owner: int
    owner_source: str
    tally: Tally
    workers: int = 1
    seconds: float = 0.0


@dataclass
class _Job:
    """One slice of one table, by a range of peers: whole chats, so replies resolve within it."""

    db: str
    table: str
    where: str
    params: dict
    owner: int
    names: dict
    uids: dict
    pictures: bool = False  # records carry `src`, their picture's file name (for WeClone's CSV, not contract 1)


def export(db: Path, output: Path, *, key: str | None = None, hmac: str = "auto", profile: Path | None = None,
           me: int | None = None, groups: bool = False, fmt: str = "jsonl", tz: str = "Asia/Shanghai",
           force: bool = False, workers: int | None = None, progress: Callable[[int, int], None] | None = None,
           on_owner: Callable[[int, str], None] | None = None) -> ExportSummary:
    """Export the messages of `db` (plain, or encrypted with `key`) to `output`.

    Large databases are cut into slices of whole chats exported by `workers`
    processes (default: one per core, at most 4) into part files that are
    joined in order; the result is the same as with one process.
    """
    started = time.perf_counter()
    records.check_format(fmt)
    zone = time_zone(tz)
    require_input(db, _("database"))
    if profile:
        require_input(profile, _("profile database"))
    refuse_input_as_output(output, db, profile)
    records.check_output(output, fmt, force)
    report = progress or (lambda done, total: None)
    # the decrypted copies live in a private directory beside the output, removed on any exit, and by the next run
    # if this process is killed outright
    with removed_after(work_dir_beside(output)) as work:
        plain_db = _plain(db, key, hmac, Path(work) / "nt_msg.plain.db")
        plain_profile = _plain(profile, key, hmac, Path(work) / "profile.plain.db") if profile else None
        conn = _connect(plain_db)
        pool = None
        try:
            tables = _message_tables(conn, db, groups)
            total = sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)
            if workers is None:
                workers = min(os.cpu_count() or 1, 4) if total >= PARALLEL_FROM else 1
            workers = max(1, min(workers, parallel.SLOTS // len(TABLES)))
            if fmt == "csv":
                workers = 1  # its row numbers run across the whole file
            # this process takes jobs too; the workers start while we plan
            pool, shared = parallel.start_pool(workers - 1) if workers > 1 else (None, None)
            owner, source = (me, "--me") if me else (detect_owner(conn, tables), "detected")
            if on_owner:
                on_owner(owner, source)
            names = read_profile_names(plain_profile) if plain_profile else {}
            uids = uid_to_uin(conn)
            jobs = [_Job(str(plain_db), t, where, params, owner, names, uids, fmt == "csv")
                    for t in tables for where, params in _slices(conn, t, workers)]
            with records.output(output, fmt, force) as tmp:
                if pool:
                    tally = _run_parallel(pool, shared, jobs, Path(work), tmp, total, report)
                else:
                    tally = _run_inline(conn, jobs, tmp, fmt, zone, total, report)
            report(total, total)
        finally:
            conn.close()
            if pool:
                parallel.close(pool)
    return ExportSummary(output, owner, source, tally, workers, time.perf_counter() - started)


def _peer_sql(table: str, present: set[str]) -> str:
    """SQL for the chat's peer uin (c2c) or group number, NULL when the row has none."""
    candidates = ["40030"] + (["40027"] if TABLES[table] == "group" else [])  # c2c 40027 is a sort number
    found = [f'nullif("{c}", 0)' for c in candidates if c in present]
    return _first_of(found)


def _first_of(expressions: list[str]) -> str:
    """SQL for the first non-NULL of `expressions` (NULL when there are none)."""
    return f"coalesce({', '.join(expressions)}, NULL)" if expressions else "NULL"


def _slices(conn: sqlite3.Connection, table: str, count: int) -> list[tuple[str, dict]]:
    """WHERE clauses cutting `table` into about `count` equal slices of whole chats, in peer order.

    The cut points are quantiles of the peers of rows sampled by rowid (B-tree
    look-ups, no table scan); slices need only be about equal.
    """
    peer = _peer_sql(table, _columns(conn, table))
    if count <= 1 or peer == "NULL":
        return [("1", {})]
    low, high = conn.execute(f"SELECT min(rowid), max(rowid) FROM {table}").fetchone()
    if low is None:
        return [("1", {})]
    probe = f"SELECT {peer} FROM {table} WHERE rowid >= ? ORDER BY rowid LIMIT 1"
    step = max(1, (high - low) // SLICE_SAMPLES)
    sample = sorted(p for r in range(low, high + 1, step) for (p,) in conn.execute(probe, (r,)) if p is not None)
    bounds = sorted({sample[len(sample) * i // count] for i in range(1, count)} - {sample[-1]}) if sample else []
    if not bounds:
        return [("1", {})]
    slices = [(f"{peer} IS NULL OR {peer} <= :hi", {"hi": bounds[0]})]
    slices += [(f"{peer} > :lo AND {peer} <= :hi", {"lo": lo, "hi": hi}) for lo, hi in zip(bounds, bounds[1:])]
    slices.append((f"{peer} > :lo", {"lo": bounds[-1]}))
    return slices


def _run_inline(conn, jobs: list[_Job], tmp: Path, fmt: str, zone: ZoneInfo, total: int, report) -> Tally:
    tally = Tally()
    with records.writer(tmp, fmt, zone) as write:
        for job in jobs:
            _write_slice(conn, job, write, tally, lambda rows: report(rows, total))
    return tally


def _job(slot: int, job: _Job, out: str) -> Tally:
    """One slice, in a worker or in this process, written to the part file OUT."""
    tally = Tally()
    conn = _connect(Path(job.db))
    try:
        with records.writer(Path(out), "jsonl", None) as write:
            _write_slice(conn, job, write, tally, lambda rows: parallel.report(slot, rows))
    finally:
        conn.close()
    return tally


def _run_parallel(pool: ProcessPoolExecutor, shared, jobs: list[_Job], work: Path, tmp: Path, total: int,
                  report) -> Tally:
    parts = [work / f"part-{slot:04d}.jsonl" for slot in range(len(jobs))]
    tallies = parallel.share(pool, shared, _job, [(job, str(part)) for job, part in zip(jobs, parts)],
                             lambda done: report(done, total))
    os.replace(parts[0], tmp)  # the first part becomes the output; the others are appended to it
    with open(tmp, "ab") as out:
        for part in parts[1:]:
            with open(part, "rb") as f:
                copy_into(f, out)
            part.unlink()
    tally = Tally()
    for t in tallies:
        tally.add(t)
    return tally


def _plain(path: Path, key: str | None, hmac: str, target: Path) -> Path:
    """The path of a plain SQLite copy of `path`: itself when plain, else decrypted with `key`."""
    if is_plain_sqlite(path):
        return path
    if not key:
        raise QingError(_("{path} is encrypted; pass --key (or set QING_KEY) to read it, or run `qing decrypt` on "
                          "it first.").format(path=path))
    decrypt(path, key, target, hmac)
    return target


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)  # as_uri: Windows paths too
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as e:
        conn.close()
        raise QingError(_("{path} does not open as a SQLite database ({reason}); is it the right file?").format(
            path=path, reason=e)) from None
    return conn


def _message_tables(conn: sqlite3.Connection, db: Path, groups: bool) -> list[str]:
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "c2c_msg_table" not in present:
        raise QingError(_("{db} has no c2c_msg_table, so it is not a QQ NT message database; give the nt_msg.db "
                          "file.").format(db=db))
    return [t for t in TABLES if t in present and (t == "c2c_msg_table" or groups)]


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def detect_owner(conn: sqlite3.Connection, tables: list[str]) -> int:
    """The account owner's uin: the usual sender of sendType 1/2 rows, else the c2c sender who is not the peer."""
    cols = _columns(conn, "c2c_msg_table")
    queries = []
    if {"40013", "40033"} <= cols:
        queries += [f'SELECT "40033" FROM {t} WHERE "40013" IN (1, 2) AND "40033" > 0 LIMIT 20000'
                    for t in tables]
    if {"40030", "40033"} <= cols:
        queries.append('SELECT "40033" FROM c2c_msg_table WHERE "40033" > 0 AND "40033" != "40030" LIMIT 20000')
    for query in queries:
        top = f'SELECT "40033", count(*) AS n FROM ({query}) GROUP BY 1 ORDER BY n DESC LIMIT 1'
        row = conn.execute(top).fetchone()
        if row:
            return int(row[0])
    raise QingError(_("could not tell which QQ number is yours from the messages; pass --me YOUR_QQ_NUMBER."))


def read_profile_names(path: Path) -> dict[int, str]:
    """uin -> the remark I gave them, else their nickname, from profile_info.db."""
    conn = _connect(path)
    try:
        cols = _columns(conn, "profile_info_v6")
        if "1002" not in cols:
            raise QingError(_("{path} has no profile_info_v6 table with uins, so it is not a QQ NT "
                              "profile_info.db.").format(path=path))
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


def _select(table: str, present: set[str]) -> str:
    """One row per message with what the record needs, computed by SQLite where it can be."""
    if "40001" not in present:
        raise QingError(_("{table} has no msgId column (40001); this client version is not supported yet.").format(
            table=table))

    def col(c: str, default: str = "NULL") -> str:
        return f'"{c}"' if c in present else default

    peer = _peer_sql(table, present)
    sent = "(\"40013\" IN (1, 2) OR " if "40013" in present else "("  # sendType: sent by me, from any device
    names = [f"nullif({col(c)}, '')" for c in ("40090", "40093") if c in present]  # group card, nickname
    order = ", ".join(["peer"] + [f'"{c}"' for c in ("40050", "40001") if c in present])
    return (f'SELECT "40001", {col("40003")}, {peer} AS peer, CASE WHEN {peer} IS NULL THEN {col("40021")} END, '
            f'{sent}{col("40033")} = :owner), {col("40033")}, {col("40050", "0")}, '
            f'{_first_of(names)}, {col("40800")} '
            f"FROM {table} WHERE {{where}} ORDER BY {order}")


def _write_slice(conn: sqlite3.Connection, job: _Job, write, tally: Tally, report) -> None:
    """Read one slice in (peer, time, id) order, render each row, write contract-1 records in batches."""
    sql = _select(job.table, _columns(conn, job.table)).format(where=job.where)
    rows = conn.execute(sql, {**job.params, "owner": job.owner})
    prefix, owner, names, uids, pictures = TABLES[job.table], job.owner, job.names, job.uids, job.pictures
    kinds, skipped, problems = tally.kinds, tally.skipped, tally.problems
    last_peer = chat = None
    seqs: dict[int, int] = {}  # msgSeq -> msgId in this chat, the latest REPLY_MEMORY of them
    mine = 0
    while batch := rows.fetchmany(BATCH):
        rows_out = []
        for msg_id, seq, peer, peer_uid, is_me, sender, when, stored_name, blob in batch:
            if type(when) is not int:  # SQLite columns take any type: text where the time should be
                skipped["bad time"] += 1
                continue
            try:
                kind, text, reply_to, reply_seq, picture = render(blob, problems)
            except BadBody as e:
                skipped[e.cause] += 1
                continue
            if peer is None:
                peer = uids.get(peer_uid) or peer_uid or 0
            if peer != last_peer:
                last_peer, chat = peer, f"{prefix}:{peer}"
                tally.chats += 1
                seqs.clear()
            is_me = is_me == 1
            if not sender:
                sender = owner if is_me else (peer if prefix == "c2c" else None)
            if reply_seq and not reply_to:
                reply_to = seqs.get(reply_seq)
                if reply_to is None:
                    problems["reply target not found"] += 1
            if seq:
                seqs[seq] = msg_id
                if len(seqs) > REPLY_MEMORY:
                    for old in list(itertools.islice(seqs, REPLY_MEMORY // 2)):
                        del seqs[old]
            mine += is_me
            kinds[kind] += 1
            rows_out.append({"id": msg_id, "chat": chat, "peer": peer, "sender": sender,
                            "sender_name": names.get(sender) or stored_name, "is_me": is_me, "time": when,
                            "kind": kind, "text": text, "reply_to": reply_to})
            if picture and pictures:
                rows_out[-1]["src"] = picture
        write(rows_out)
        tally.rows += len(batch)
        report(tally.rows)
    tally.owner_messages += mine
