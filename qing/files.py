"""Writing outputs safely: private modes, atomic renames, no overwrite without --force.

Files that hold chat data are created 0600 and directories 0700 (rented GPU
boxes are shared machines). An output is written under a temporary name in
its final directory and renamed only when complete, so an interrupted run
never leaves a half file that looks whole.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from qing.errors import QingError
from qing.i18n import _


def human_size(size: float) -> str:
    """Bytes as people read them: 1.3 GB, 240 MB, 12 KB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}" if unit == "GB" else f"{size / scale:.0f} {unit}"
    return f"{size:.0f} bytes"


def require_input(path: Path, what: str = "") -> Path:
    """Return `path` if it is a readable file, else raise a one-sentence error; WHAT (translated) names the file."""
    what = what or _("input file")
    if not path.exists():
        raise QingError(_("{what} {path} does not exist.").format(what=what, path=path))
    if not path.is_file():
        raise QingError(_("{what} {path} is not a file.").format(what=what, path=path))
    if not os.access(path, os.R_OK):
        raise QingError(_("{what} {path} is not readable; check its permissions.").format(what=what, path=path))
    return path


def load_json_object(path: Path, what: str, missing: str | None = None) -> dict:
    """A whole JSON file that must be an object; one sentence (MISSING, when given, for an absent file) when it is
    absent, cut short or something else. WHAT (translated) names the file: "model config", "QQ Chat Exporter
    export"."""
    import orjson

    if not path.is_file():
        raise QingError(missing or _("{path} does not exist.").format(path=path))
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as e:
        raise QingError(_("{path} is not complete JSON ({reason}); the {what} may be truncated.").format(
            path=path, reason=e, what=what)) from None
    if not isinstance(data, dict):
        raise QingError(_("{path} is not a {what} (not a JSON object).").format(path=path, what=what))
    return data


def refuse_input_as_output(output: Path, *inputs: Path | None) -> None:
    """One sentence when OUTPUT is one of INPUTS (the same file by any path or link), or a directory holding one:
    writing or replacing it would destroy the input."""
    out = output.resolve()
    for given in inputs:
        if given is None:
            continue
        src = given.resolve()
        same = src == out or (src.exists() and out.exists() and os.path.samefile(src, out))
        if same or out in src.parents:
            message = (_("output {output} is the input {input}; choose another output with -o.") if same else
                       _("output {output} holds the input {input}; choose another output with -o."))
            raise QingError(message.format(output=output, input=given))


def refuse_foreign_files(directory: Path, ours: tuple[str, ...], what: str,
                         written: Callable[[Path], bool] | None = None) -> None:
    """--force replaces only what qing wrote: one sentence when DIRECTORY holds an entry that no pattern of OURS
    matches and `written(entry)` does not own (hidden .part leftovers of an interrupted run are ours too)."""
    if not directory.is_dir():
        return
    ours += (".*.part", ".*.old")
    foreign = sorted(p.name for p in directory.iterdir()
                     if not any(fnmatch.fnmatchcase(p.name, o) for o in ours) and not (written and written(p)))
    if foreign:
        shown = ", ".join(foreign[:3]) + (_(" and {count} more").format(count=len(foreign) - 3)
                                          if len(foreign) > 3 else "")
        raise QingError(_("{directory} holds files that {command} did not write ({shown}); --force replaces only its "
                          "own output: choose another directory with -o.").format(directory=directory, command=what,
                                                                                  shown=shown))


def check_output(path: Path, force: bool) -> None:
    """Refuse to overwrite an existing output unless `force`."""
    if path.exists() and not force:
        raise QingError(_("output {path} already exists; pass --force to overwrite it or -o to choose another "
                          "path.").format(path=path))
    if path.is_dir():
        raise QingError(_("output {path} is a directory; give a file path with -o.").format(path=path))


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) as owner-only directories; return it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def open_private(path: Path, mode: str = "w", **kwargs):
    """open() for writing, creating the file readable by its owner only."""
    return open(path, mode, opener=lambda name, flags: os.open(name, flags, 0o600), **kwargs)


@contextlib.contextmanager
def private_files() -> Iterator[None]:
    """Everything created inside (by us or by libraries: checkpoints, adapters) is owner-only."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


@contextlib.contextmanager
def atomic_output(path: Path, force: bool = False) -> Iterator[Path]:
    """Yield a private temporary path beside `path`; rename it onto `path` on success.

    On any exception (Ctrl+C included) the temporary file is removed and
    `path` is left as it was.
    """
    check_output(path, force)
    fd, tmp_name = _beside(path, tempfile.mkstemp)
    os.close(fd)  # mkstemp creates it 0600
    tmp = Path(tmp_name)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        for leftover in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        raise


def work_dir_beside(path: Path) -> Path:
    """A private temporary directory beside `path`, to build an output directory in and rename onto it."""
    return Path(_beside(path, tempfile.mkdtemp))  # mkdtemp creates it 0700


@contextlib.contextmanager
def removed_after(directory: Path) -> Iterator[Path]:
    """Yield DIRECTORY; remove it and all in it however the block ends."""
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _beside(path: Path, make):
    """make(...) of tempfile for a hidden temporary name in path's directory (created private if missing), named
    with this process's id so that a later run can tell it is stale; one sentence when that directory cannot be
    written."""
    try:
        if not path.parent.exists():
            private_dir(path.parent)
        sweep_stale(path.parent)
        return make(prefix=f".{path.name}.{os.getpid()}.", suffix=".part", dir=path.parent)
    except OSError as e:
        raise QingError(_("cannot write in {directory} ({reason}); choose another output with -o.").format(
            directory=path.parent, reason=e.strerror or e)) from None


_TEMPORARY = re.compile(r"\..+\.(\d+)\.[A-Za-z0-9_]+\.part(?:-journal|-wal|-shm)?")


def sweep_stale(directory: Path) -> list[Path]:
    """Remove the temporary files and directories (hidden, ending .part) that a qing process killed outright
    (SIGKILL, a power cut) left in DIRECTORY - decrypted databases and chat data among them -; a process still
    running keeps its own. Returns what was removed."""
    removed = []
    with contextlib.suppress(OSError):
        for entry in directory.iterdir():
            found = _TEMPORARY.fullmatch(entry.name)
            if found and not _alive(int(found.group(1))):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        entry.unlink()
                removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # another user's process: not ours to judge
        return True
    return True


def copy_into(src: BinaryIO, dst: BinaryIO) -> None:
    """Copy the rest of `src` to `dst` at their current positions, in the kernel where possible."""
    dst.flush()
    remaining = os.fstat(src.fileno()).st_size - src.tell()
    try:
        while remaining > 0:
            sent = os.copy_file_range(src.fileno(), dst.fileno(), remaining)
            if sent == 0:
                break
            remaining -= sent
    except (AttributeError, OSError):  # not Linux (macOS, Windows), or an old kernel: plain reads and writes
        src.seek(os.fstat(src.fileno()).st_size - remaining)
        while chunk := src.read(1 << 20):
            dst.write(chunk)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
