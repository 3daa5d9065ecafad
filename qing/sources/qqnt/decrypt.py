"""`qing decrypt`: a QQ NT SQLCipher database (plus its WAL) -> a plain SQLite file.

See shared/qq-nt-format.md section 1. The input and its WAL are only read:
the encrypted body is copied (header stripped) next to the output, opened
there with each HMAC candidate in turn, and exported with sqlcipher_export
into a temporary file that is renamed onto the output when verified.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from qing.errors import QingError
from qing.files import atomic_output, check_output, copy_into, human_size, removed_after, require_input, work_dir_beside
from qing.i18n import _
from qing.sources.options import HMACS
from qing.sources.qqnt.protowire import WireError, iter_fields

HEADER_SIZE = 1024  # QQ NT's plaintext header before the SQLCipher file
PAGE_SIZE = 4096
QQ_SIGNATURE = b"QQ_NT DB"
PLAIN_SQLITE = b"SQLite format 3\x00"
WAL_MAGICS = (b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83")
WAL_HEADER, WAL_FRAME_HEADER = 32, 24


@dataclass
class NtFile:
    """What the first bytes of an encrypted database say about it."""

    path: Path
    offset: int                 # where the SQLCipher data starts: 1024 with the QQ header, else 0
    header_hmac: str | None     # 'sha1' / 'sha256' / 'sha512' when header field 4 names one
    rand: str | None            # header field 2 (Android key derivation)
    size: int


@dataclass
class DecryptResult:
    output: Path
    hmac: str
    qq_header: bool
    wal_frames: int
    tables: dict[str, int] = field(default_factory=dict)
    bytes_in: int = 0
    seconds: float = 0.0


def apply_cipher(conn, key: str, hmac: str) -> None:
    """QQ NT's SQLCipher settings (qq-nt-format.md section 1)."""
    conn.execute("PRAGMA cipher_log_level = NONE")  # wrong-HMAC attempts would print to stderr
    conn.execute("PRAGMA key = '{}'".format(key.replace("'", "''")))
    conn.execute("PRAGMA cipher_page_size = 4096")
    conn.execute("PRAGMA kdf_iter = 4000")
    conn.execute(f"PRAGMA cipher_hmac_algorithm = {hmac}")
    conn.execute("PRAGMA cipher_kdf_algorithm = PBKDF2_HMAC_SHA512")


def is_plain_sqlite(path: Path) -> bool:
    """Whether the file starts as a plain (unencrypted) SQLite database does."""
    with open(path, "rb") as f:
        return f.read(16) == PLAIN_SQLITE


def inspect(path: Path) -> NtFile:
    """Classify the input file, raising a one-sentence error for what cannot be decrypted."""
    require_input(path, _("database"))
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(HEADER_SIZE)
    if head.startswith(PLAIN_SQLITE):
        raise QingError(_("{path} is already a plain SQLite database; give it to `qing export` directly.").format(
            path=path))
    if head[0x20:0x28] == QQ_SIGNATURE:
        hmac, rand = _header_fields(head)
        if size < HEADER_SIZE + PAGE_SIZE or (size - HEADER_SIZE) % PAGE_SIZE:
            raise QingError(_("{path} is truncated ({size} bytes is not a 1024-byte header plus whole 4096-byte "
                              "pages); copy it again while QQ is closed.").format(path=path, size=size))
        return NtFile(path, HEADER_SIZE, hmac, rand, size)
    if size == 0:
        raise QingError(_("{path} is empty; copy the database again while QQ is closed.").format(path=path))
    if size < PAGE_SIZE or size % PAGE_SIZE:
        raise QingError(_("{path} is not a QQ NT or SQLCipher database: it has no QQ_NT DB header and its size "
                          "({size} bytes) is not a whole number of 4096-byte pages.").format(path=path, size=size))
    return NtFile(path, 0, None, None, size)


def _header_fields(head: bytes) -> tuple[str | None, str | None]:
    """HMAC name (field 4) and rand (field 2) from the header protobuf; tolerant of junk."""
    length = int.from_bytes(head[0x28:0x2C], "little")
    info = head[0x2C:0x2C + min(length, HEADER_SIZE - 0x2C)]
    hmac = rand = None
    try:
        for number, wire, value in iter_fields(info):
            if wire != 2:
                continue
            text = value.decode("ascii", "replace")
            if number == 4:
                hmac = text.upper().replace("HMAC_", "").lower() if text else None
            elif number == 2:
                rand = text
    except WireError:
        pass
    return (hmac if hmac in HMACS else None), rand


def android_key(uid: str, rand: str) -> str:
    """The Android passphrase: md5hex(md5hex(uid) + rand), rand being header field 2."""
    inner = hashlib.md5(uid.encode()).hexdigest()
    return hashlib.md5((inner + rand).encode()).hexdigest()


def key_from_uid(path: Path, uid: str) -> str:
    """Derive an Android database's key from the account's uid (u_...) and the file's header."""
    rand = inspect(path).rand
    if not rand:
        raise QingError(_("{path} has no QQ NT header with a rand field, so --uid cannot derive its key (it works "
                          "for Android databases); pass --key instead.").format(path=path))
    return android_key(uid.strip(), rand)


def candidates(nt: NtFile, hmac: str) -> list[str]:
    """HMAC algorithms to try, in order: the header's first, then SHA1, SHA512, SHA256."""
    if hmac != "auto":
        return [hmac]
    order = list(HMACS)
    if nt.header_hmac:
        order.remove(nt.header_hmac)
        order.insert(0, nt.header_hmac)
    return order


def wal_of(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def _wal_offset(wal: Path) -> int | None:
    """Where the WAL proper starts in the -wal file (0, or 1024 behind a QQ header); None if absent/empty."""
    try:
        size = wal.stat().st_size
        if size == 0:
            return None
        with open(wal, "rb") as f:
            head = f.read(HEADER_SIZE + 4)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise QingError(_("cannot read the WAL file {wal} ({reason}); it holds the newest messages, so fix its "
                          "permissions and try again.").format(wal=wal, reason=e.strerror)) from None
    if head[:4] in WAL_MAGICS:
        return 0
    if head[HEADER_SIZE:HEADER_SIZE + 4] in WAL_MAGICS:
        return HEADER_SIZE
    raise QingError(_("{wal} beside the database is not a SQLite WAL file, so the newest messages in it cannot be "
                      "read; copy it again with the database while QQ is closed, or move it away to decrypt without "
                      "it.").format(wal=wal))


def _copy_from(src: Path, dst: Path, offset: int) -> None:
    """Copy src[offset:] to a new file dst."""
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        fin.seek(offset)
        copy_into(fin, fout)


def open_encrypted(copy: Path, key: str, algorithms: list[str]):
    """Open the stripped copy with the first algorithm that works; return (connection, algorithm)."""
    import sqlcipher3

    for algorithm in algorithms:
        conn = sqlcipher3.connect(str(copy))
        try:
            apply_cipher(conn, key, HMACS[algorithm])
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn, algorithm
        except sqlcipher3.DatabaseError:
            conn.close()
    size = copy.stat().st_size
    if size % PAGE_SIZE or size < 2 * PAGE_SIZE:
        raise QingError(_("the database is damaged or cut short ({size:,} bytes after its header: not whole "
                          "{page}-byte pages of a database); copy it again while QQ is closed.").format(
            size=size, page=PAGE_SIZE))
    if key_authenticates_a_page(copy, key, algorithms):
        raise QingError(_("the key is right, but the database's first page is damaged, so it cannot be opened; "
                          "copy it again while QQ is closed."))
    tried = ", ".join(HMACS[a] for a in algorithms)
    raise QingError(_("the key does not open this database with {tried} (PBKDF2_HMAC_SHA512, 4000 iterations, "
                      "4096-byte pages): check the key (16 characters on desktop, 32 hex characters on Android), or "
                      "the file is not a QQ NT database.").format(tried=tried))


def key_authenticates_a_page(copy: Path, key: str, algorithms: list[str]) -> bool:
    """Whether KEY authenticates the second page of the stripped database COPY under one of ALGORITHMS - SQLCipher
    4's page HMAC, checked with hashlib: then the key is right, and a database that will not open is damaged in its
    first page (the salt itself aside, which every page's keys come from)."""
    import hmac as hmac_lib

    with open(copy, "rb") as f:
        head = f.read(2 * PAGE_SIZE)
    if len(head) < 2 * PAGE_SIZE:
        return False
    salt, page = head[:16], head[PAGE_SIZE:]
    cipher_key = hashlib.pbkdf2_hmac("sha512", key.encode("utf-8"), salt, 4000, 32)
    mac_key = hashlib.pbkdf2_hmac("sha512", cipher_key, bytes(b ^ 0x3A for b in salt), 2, 32)
    for algorithm in algorithms:
        size = hashlib.new(algorithm).digest_size
        data_end = PAGE_SIZE - 16 - (size + 15) // 16 * 16  # the reserve: IV, then the HMAC rounded up to 16
        mac = hmac_lib.new(mac_key, page[:data_end + 16] + (2).to_bytes(4, "little"), algorithm).digest()
        if hmac_lib.compare_digest(mac, page[data_end + 16:data_end + 16 + size]):
            return True
    return False


def _check_space(directory: Path, size: int) -> None:
    """Decrypting needs room for a stripped copy of the input and for the output, each about its size."""
    needed, free = 2 * size + (16 << 20), shutil.disk_usage(directory).free
    if free < needed:
        raise QingError(_("not enough disk space in {directory}: decrypting needs about {needed} free, there is "
                          "{free}; free some space or choose another -o.").format(
            directory=directory, needed=human_size(needed), free=human_size(free)))


def default_output(path: Path) -> Path:
    return Path.cwd() / f"{path.stem}.plain.db"


def decrypt(path: Path, key: str, output: Path | None = None, hmac: str = "auto",
            force: bool = False) -> DecryptResult:
    """Decrypt `path` (and the WAL beside it) into a plain SQLite file at `output`."""
    started = time.perf_counter()
    if not key:
        raise QingError(_("the database key is empty; pass --key, set QING_KEY, or type it at the prompt."))
    if hmac != "auto" and hmac not in HMACS:
        raise QingError(_("unknown --hmac {hmac!r}; use auto, sha1, sha256 or sha512.").format(hmac=hmac))
    nt = inspect(path)
    output = output or default_output(path)
    if output.resolve() in (path.resolve(), wal_of(path).resolve()):
        raise QingError(_("the output path is the input; choose another with -o."))
    check_output(output, force)
    wal = wal_of(path)
    wal_offset = _wal_offset(wal)
    output.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _check_space(output.parent, nt.size + (wal.stat().st_size if wal_offset is not None else 0))
    with removed_after(work_dir_beside(output)) as work:
        copy = work / "encrypted.db"
        _copy_from(path, copy, nt.offset)
        wal_frames = 0
        if wal_offset is not None:
            _copy_from(wal, wal_of(copy), wal_offset)
            wal_frames = max(0, (wal_of(copy).stat().st_size - WAL_HEADER) // (WAL_FRAME_HEADER + PAGE_SIZE))
        conn, algorithm = open_encrypted(copy, key, candidates(nt, hmac))
        try:
            with atomic_output(output, force) as tmp:
                _export_plain(conn, tmp)
                tables = _verify_plain(tmp)
        finally:
            conn.close()
    return DecryptResult(output, HMACS[algorithm], nt.offset > 0, wal_frames, tables,
                         nt.size, time.perf_counter() - started)


def _export_plain(conn, target: Path) -> None:
    import sqlcipher3

    try:
        conn.execute("ATTACH DATABASE ? AS plain KEY ''", (str(target),))
        conn.execute("PRAGMA plain.journal_mode = OFF")  # the whole file is renamed into place only when done
        conn.execute("PRAGMA plain.synchronous = OFF")
        conn.execute("SELECT sqlcipher_export('plain')").fetchone()
        conn.execute("DETACH DATABASE plain")
    except sqlcipher3.DatabaseError as e:
        reason = _("the disk is full") if "full" in str(e) else _("SQLCipher said: {error}").format(error=e)
        raise QingError(_("decrypting failed while writing the plain database ({reason}); the database may be "
                          "damaged or the disk full.").format(reason=reason)) from None


def _verify_plain(target: Path) -> dict[str, int]:
    """Open the result with stdlib sqlite3, make it a rollback-journal file, and count table rows."""
    conn = sqlite3.connect(target)
    try:
        if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            conn.execute("PRAGMA journal_mode = DELETE")
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    except sqlite3.DatabaseError as e:
        raise QingError(_("the decrypted database does not open as plain SQLite ({reason}); the input may be "
                          "damaged.").format(reason=e)) from None
    finally:
        conn.close()
