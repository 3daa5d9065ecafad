"""Build QQ NT-format databases from invented messages: for tests, bench and the demo.

Everything follows shared/qq-nt-format.md: the 1024-byte `QQ_NT DB` header,
SQLCipher 4 with QQ's settings, numbered columns, and 40800 bodies made of
flat elements. Nothing here reads real data.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path
from typing import Callable, Iterable, Mapping

from qing.decrypt import HEADER_SIZE, apply_cipher
from qing.protowire import field, message

MESSAGE_COLUMNS = {  # column -> SQL type, as the client creates them
    40001: "INTEGER PRIMARY KEY", 40002: "INTEGER", 40003: "INTEGER", 40010: "INTEGER",
    40011: "INTEGER", 40012: "INTEGER", 40013: "INTEGER", 40020: "TEXT", 40021: "TEXT",
    40027: "INTEGER", 40030: "INTEGER", 40033: "INTEGER", 40041: "INTEGER", 40050: "INTEGER",
    40058: "INTEGER", 40090: "TEXT", 40093: "TEXT", 40100: "INTEGER", 40800: "BLOB",
    40850: "INTEGER", 40900: "BLOB",
}

_FIRST_ELEMENT_ID = 7600000000000000001
_element_ids = itertools.count(_FIRST_ELEMENT_ID)


def restart_element_ids() -> None:
    """Number elements from the start again: the same messages then give the same bytes."""
    global _element_ids
    _element_ids = itertools.count(_FIRST_ELEMENT_ID)


def qq_header(hmac: str | None = "HMAC_SHA1", rand: str = "6tPaJ9GP", created: int = 1700000000) -> bytes:
    """The plaintext header QQ NT puts before the SQLCipher file."""
    info = message((2, rand), (3, "1.0.0.1"), (4, hmac) if hmac else None, (5, created))
    head = b"SQLite header 3\x00".ljust(0x20, b"\x00") + b"QQ_NT DB" + len(info).to_bytes(4, "little") + info
    return head.ljust(HEADER_SIZE, b"\x00")


def write_encrypted(path: Path, key: str, fill: Callable, *, hmac: str = "HMAC_SHA1",
                    header: bool = True, header_hmac: str | None = "same",
                    wal_fill: Callable | None = None) -> None:
    """Write an encrypted QQ NT database at `path` filled by `fill(conn)`.

    With `wal_fill`, the database is in WAL mode and what `wal_fill(conn)`
    writes stays only in `path`-wal, as when QQ is running.
    """
    import sqlcipher3

    work = path.with_name(path.name + ".build")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    db = work / "db"
    conn = sqlcipher3.connect(str(db))
    try:
        apply_cipher(conn, key, hmac)
        if wal_fill:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA wal_autocheckpoint = 0")
        fill(conn)
        conn.commit()
        if wal_fill:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            wal_fill(conn)
            conn.commit()
            shutil.copyfile(f"{db}-wal", f"{path}-wal")
        body = db.read_bytes()  # with wal_fill: read while open, so the WAL is not checkpointed into it
    finally:
        conn.close()
        shutil.rmtree(work, ignore_errors=True)
    prefix = qq_header(hmac if header_hmac == "same" else header_hmac) if header else b""
    path.write_bytes(prefix + body)


def create_message_tables(conn, tables: Iterable[str] = ("c2c_msg_table", "group_msg_table"),
                          columns: Mapping[int, str] = MESSAGE_COLUMNS) -> None:
    for table in tables:
        cols = ", ".join(f'"{number}" {sqltype}' for number, sqltype in columns.items())
        conn.execute(f"CREATE TABLE {table} ({cols})")


def insert_rows(conn, table: str, rows: Iterable[Mapping[int, object]]) -> None:
    """Insert rows given as {column number: value}; all rows share the first row's columns."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    names = list(first)
    columns = ", ".join(f'"{n}"' for n in names)
    sql = f'INSERT INTO {table} ({columns}) VALUES ({", ".join("?" * len(names))})'
    conn.executemany(sql, (tuple(r[n] for n in names) for r in itertools.chain([first], rows)))


def create_profile_tables(conn, friends: Iterable[tuple[str, int, str, str]]) -> None:
    """profile_info_v6 rows of (uid, uin, nickname, remark)."""
    conn.execute('CREATE TABLE profile_info_v6 ("1000" TEXT PRIMARY KEY, "1001" TEXT, "1002" INTEGER, '
                 '"20002" TEXT, "20009" TEXT, "20011" TEXT)')
    conn.executemany('INSERT INTO profile_info_v6 VALUES (?, ?, ?, ?, ?, ?)',
                     [(uid, "", uin, nick, remark, "") for uid, uin, nick, remark in friends])


# --- message bodies (column 40800) -------------------------------------------

def body(*elements: bytes) -> bytes:
    return b"".join(field(40800, e) for e in elements)


def _element(etype: int, *fields) -> bytes:
    return message((45001, next(_element_ids)), (45002, etype), *fields)


def text(content: str) -> bytes:
    return _element(1, (45101, content), (45102, 0))


def mention(name: str, uid: str) -> bytes:
    return _element(1, (45101, f"@{name}"), (45102, 2), (45105, uid))


def face(index: int, name: str | None = None) -> bytes:
    return _element(6, (45003, 1), (47601, index), (47602, f"/{name}") if name else None)


def picture(animated: bool = False) -> bytes:
    return _element(2, (45402, "a1b2c3.jpg"), (45405, 52311), (45411, 640), (45412, 480),
                    (45815, "[动画表情]") if animated else None)


def file(name: str = "报告.pdf") -> bytes:
    return _element(3, (45402, name), (45405, 102400))


def voice(transcript: str = "") -> bytes:
    return _element(4, (45402, "voice.amr"), (45923, transcript))


def video(seconds: int = 12) -> bytes:
    return _element(5, (45402, "clip.mp4"), (45410, seconds))


def reply(seq: int, sender_uin: int, msg_time: int, msg_id: int | None, summary: str = "") -> bytes:
    nested = field(40800, text(summary))
    return _element(7, (47402, seq), (47403, sender_uin), (47404, msg_time), (47413, summary),
                    (47416, msg_id) if msg_id else None, (47423, nested))


def recall_tip(uid: str = "u_sender", nickname: str = "某人") -> bytes:
    return _element(8, (45003, 1), (47703, uid), (47704, uid), (47705, nickname), (47713, "撤回了一条消息"))


def grey_tip(subtype: int = 17) -> bytes:
    return _element(8, (45003, subtype), (47713, "戳了戳你"))


def redpacket(title: str = "恭喜发财") -> bytes:
    return _element(9, (48403, message((48443, title))))


def ark(app: str = "com.tencent.miniapp") -> bytes:
    return _element(10, (47901, f'{{"app": "{app}", "prompt": "[分享]"}}'))


def market_face(shown: str = "[贴贴]") -> bytes:
    return _element(11, (80900, shown))


def markdown(content: str) -> bytes:
    return _element(14, (48701, content))


def forward_xml() -> bytes:
    return _element(16, (48602, "<msg serviceID=\"35\"/>"))


def call(summary: str = "通话时长 00:42") -> bytes:
    return _element(21, (48157, summary), (48152, 42000), (48154, 1))


def unknown_element(etype: int = 99) -> bytes:
    return _element(etype, (45999, "?"))


def message_row(msg_id: int, *, peer_uin: int, sender_uin: int, sent: bool, when: int, elements: bytes | None,
                seq: int = 0, chat_type: int = 1, msg_type: int = 2, nickname: str = "",
                card: str = "", peer_uid: str = "", sender_uid: str = "") -> dict[int, object]:
    """One message row in c2c_msg_table / group_msg_table layout."""
    return {
        40001: msg_id, 40002: msg_id % 100000, 40003: seq or msg_id % 1000000, 40010: chat_type,
        40011: msg_type, 40012: 0, 40013: 1 if sent else 0, 40020: sender_uid, 40021: peer_uid,
        40027: peer_uin if chat_type == 2 else 0, 40030: peer_uin, 40033: sender_uin, 40041: 2,
        40050: when, 40058: when - (when + 8 * 3600) % 86400, 40090: card, 40093: nickname, 40100: 0,
        40800: elements, 40850: 0, 40900: None,
    }
