"""`qing export` from other tools' exports: recognise the input, read it, write contract 1.

QQ NT databases go to qing.export; the other readers (see shared/other-sources.md)
yield contract-1 records, in lists, that are written here in (chat, time) order, so
every later step works unchanged.
"""

from __future__ import annotations

import itertools
import operator
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from qing import parallel
from qing.config import time_zone
from qing.errors import QingError
from qing.files import copy_into, refuse_input_as_output
from qing.i18n import _
from qing.sources import messages_writer as records
from qing.sources import qce, telegram, weclone
from qing.sources.batches import in_lists
from qing.sources.qqnt.decrypt import HEADER_SIZE, PAGE_SIZE, PLAIN_SQLITE, QQ_SIGNATURE


def _supported() -> str:
    """What qing reads, for the sentences that say so."""
    return _("QQ NT databases (nt_msg.db, plain or with --key), QQ Chat Exporter JSON or chunked JSONL folders, "
             "WeClone CSV (WeClone, WeFlow, PyWxDump) and Telegram Desktop result.json")


@dataclass
class OtherSummary:
    output: Path
    source: str
    messages: int = 0
    kinds: Counter = field(default_factory=Counter)
    owners: dict = field(default_factory=dict)  # chat -> [messages, of them the owner's]
    seconds: float = 0.0
    workers: int = 1
    first: tuple | None = None  # (chat, time) of the first and the last record written
    last: tuple | None = None

    def add(self, other: "OtherSummary") -> None:
        self.messages += other.messages
        self.kinds.update(other.kinds)
        for chat, (count, mine) in other.owners.items():
            counts = self.owners.setdefault(chat, [0, 0])
            counts[0] += count
            counts[1] += mine


def detect(path: Path) -> str:
    """The format of `path`, recognised by its content."""
    if path.is_dir():
        return "qce" if (path / "manifest.json").is_file() else "folder"
    with open(path, "rb") as f:
        head = f.read(HEADER_SIZE + 64)
    if head.startswith(PLAIN_SQLITE) or head[0x20:0x28] == QQ_SIGNATURE:
        return "qq-nt"
    text = head.decode("utf-8", "replace")
    if weclone.looks_like(text):
        return "weclone-csv"
    start = text.lstrip("\ufeff \t\r\n")
    if start.startswith("{") and qce.looks_like(text):
        return "qce"
    if start.startswith("{") and telegram.looks_like(text):
        return "telegram"
    if b"\x00" in head and path.stat().st_size % PAGE_SIZE == 0:
        return "qq-nt"  # a SQLCipher file without the QQ header: random-looking bytes in whole pages
    raise QingError(_("{path} is not an export qing can read; it reads {supported}.").format(
        path=path, supported=_supported()))


def export_other(path: Path, output: Path, source: str, *, tz: str, me: str | None = None, fmt: str = "jsonl",
                 force: bool = False, workers: int | None = None,
                 on_chat: Callable[[str, int, int], None] | None = None,
                 progress: Callable[[int], None] | None = None) -> OtherSummary:
    """Export a non-QQ-NT input to contract 1 (jsonl) or WeClone CSV.

    A big QCE chunked folder or WeClone CSV is read by `workers` processes (default: one per core, at most 4),
    in jobs of chunk runs or byte ranges (one big job each, then a few small ones for whichever is free first);
    the parts are joined in order as they come, or everything is sorted when they are not in order.
    """
    started = time.perf_counter()
    records.check_format(fmt)
    zone = time_zone(tz)
    refuse_input_as_output(output, path)
    records.check_output(output, fmt, force)
    if source == "folder":
        parts = folder_exports(path)
        read = lambda: itertools.chain.from_iterable(_reader(p, s, me, zone)() for p, s in parts)  # noqa: E731
    else:
        read = _reader(path, source, me, zone)
    summary = OtherSummary(output, source)
    with records.output(output, fmt, force) as tmp:
        try:
            processes, cut = _jobs(path, source, workers) if fmt == "jsonl" else (0, list)
            if processes:
                if source == "qce":
                    qce.prepare(path, me)  # the owner question is answered (or asked) once, here
                summary = _parallel(_part, processes, lambda: [(path, source, me, zone, job) for job in cut()], tmp,
                                    summary, progress)
            else:
                _write_in_order(read(), tmp, fmt, zone, summary, True, progress)
        except _OutOfOrder:
            records.restart(tmp)
            summary, ranks = OtherSummary(output, source), {}
            every = itertools.chain.from_iterable(read())
            ordered = sorted(enumerate(every), key=lambda ir: (ranks.setdefault(ir[1]["chat"], len(ranks)),
                                                                 ir[1]["time"], ir[0]))
            _write_in_order(in_lists(r for _index, r in ordered), tmp, fmt, zone, summary, False, progress)
        if not summary.messages:
            raise QingError(_("{path} holds no messages.").format(path=path))
    for chat, (count, mine) in summary.owners.items():
        if on_chat:
            on_chat(chat, count, mine)
    summary.seconds = time.perf_counter() - started
    return summary


QCE_PARALLEL_FROM = 100_000  # messages: below this, starting worker processes costs more than it saves
CSV_PARALLEL_FROM = 8 << 20  # bytes of CSV (~80,000 rows), for the same reason


def _jobs(path: Path, source: str, workers: int | None) -> tuple[int, Callable[[], list]]:
    """(processes, cut): how many processes read, this one included (0: this one alone, without jobs), and
    cut() -> what each job reads: QCE chunk runs, WeClone CSV byte ranges. cut() may take a while (it reads a
    CSV through to find where its records end), so it is called while the workers start."""
    workers = workers or min(os.cpu_count() or 1, 4)
    if workers < 2:
        return 0, list
    if source == "qce":
        jobs = _qce_jobs(path, parallel.shares(workers))
        return (min(workers, len(jobs)) if len(jobs) > 1 else 0), lambda: jobs
    if source == "weclone-csv" and path.stat().st_size >= CSV_PARALLEL_FROM:
        return workers, lambda: weclone.spans(path, parallel.shares(workers))
    return 0, list


def _qce_jobs(path: Path, shares: list[float]) -> list[tuple[int, int, int]]:
    """(first chunk, stop chunk, index of its first message) for each job: runs of whole chunks, about the
    shares of all messages."""
    if not path.is_dir():
        return []
    counts = qce.Chat(path).counts
    if len(counts) < 2 or not all(isinstance(c, int) for c in counts) or sum(counts) < QCE_PARALLEL_FROM:
        return []
    total, jobs, start, done = sum(counts), [], 0, 0
    ends = iter([round(total * end) for end in itertools.accumulate(shares)])
    end = next(ends)
    for i in range(1, len(counts) + 1):
        if i == len(counts) or done + sum(counts[start:i]) >= end:
            jobs.append((start, i, done))
            done += sum(counts[start:i])
            start = i
            while end <= done:  # a chunk bigger than a share covers the next shares too
                end = next(ends, float("inf"))
    return jobs


def _part(slot: int, path: Path, source: str, me: str | None, zone: ZoneInfo, job: tuple,
          out: str) -> OtherSummary:
    """One job's records (in a worker or in this process), written to the part file OUT."""
    summary = OtherSummary(Path(out), source)
    if source == "qce":
        items = qce.read(path, me, chunks=job[:2], first_index=job[2])
    else:
        items = weclone.read(path, zone, span=job)
    _write_in_order(items, Path(out), "jsonl", None, summary, True, lambda n: parallel.report(slot, n))
    return summary


def _parallel(work: Callable, processes: int, cut: Callable[[], list[tuple]], tmp: Path, summary: OtherSummary,
              progress: Callable[[int], None] | None) -> OtherSummary:
    """Run work(slot, *job, part) for each job of cut() in `processes` processes (this one and workers) and join
    the parts in order.

    Raises _OutOfOrder when the parts do not follow each other (the caller then sorts everything).
    """
    pool, shared = parallel.start_pool(processes - 1)  # this process takes jobs too
    parts = []
    try:
        jobs = cut()  # while the workers start
        parts = [tmp.with_name(f"{tmp.name}.{i}") for i in range(len(jobs))]

        def join(i: int, _result) -> None:  # while later jobs run; if the parts turn out not in order, tmp is rewritten
            if i == 0:
                os.replace(parts[0], tmp)  # the first part becomes the output (no copy); the others are appended
                return
            with open(tmp, "ab") as out, open(parts[i], "rb") as f:
                copy_into(f, out)
            parts[i].unlink()

        results = parallel.share(pool, shared, work, [(*job, str(part)) for job, part in zip(jobs, parts)],
                                 progress or (lambda n: None), join)
        _check_joined(results)
        for result in results:
            summary.add(result)
    finally:
        parallel.close(pool)
        for part in parts:
            part.unlink(missing_ok=True)
    summary.workers = min(processes, len(jobs))
    return summary


def _check_joined(parts: list[OtherSummary]) -> None:
    """Raise _OutOfOrder unless the parts, one after another, keep each chat together and its times rising
    (each part has checked itself): then the joined file equals what one process writes."""
    seen, chat, last = set(), None, None
    for part in parts:
        if part.first is None:
            continue
        if part.first[0] == chat and part.first[1] < last:
            raise _OutOfOrder
        for name in part.owners:  # the part's chats, in order
            if name != chat and name in seen:
                raise _OutOfOrder
            seen.add(name)
            chat = name
        last = part.last[1]


def _reader(path: Path, source: str, me: str | None, zone: ZoneInfo) -> Callable[[], Iterable[list[dict]]]:
    """read() -> the records of `path`, in lists."""
    return {"weclone-csv": lambda: weclone.read(path, zone), "qce": lambda: qce.read(path, me),
            "telegram": lambda: in_lists(telegram.read(path, me, zone))}[source]


def folder_exports(folder: Path) -> list[tuple[Path, str]]:
    """The exports in a folder (files, and QCE chunked folders), each with its format; QQ NT needs its own run.
    Its other folders are WeClone's chat folders (its dataset/csv, as `qing export --format csv` writes it): their
    CSV files come after the rest, in the order WeClone reads them."""
    found, chats = [], []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        try:
            source = detect(entry)
        except QingError:
            continue
        if source in ("qce", "weclone-csv", "telegram"):
            found.append((entry, source))
        elif source == "folder":
            chats += [(csv, "weclone-csv") for csv in sorted(entry.glob("*.csv")) if _is_weclone_csv(csv)]
        elif source == "qq-nt":
            raise QingError(_("{entry} in {folder} is a QQ NT database; export it on its own (it needs --key or "
                              "qing decrypt), then the folder without it.").format(entry=entry, folder=folder))
    found += sorted(chats, key=lambda found: weclone.first_row(found[0].name))
    if not found:
        raise QingError(_("{folder} holds no export qing can read; it reads {supported}.").format(
            folder=folder, supported=_supported()))
    return found


def _is_weclone_csv(path: Path) -> bool:
    try:
        return path.is_file() and detect(path) == "weclone-csv"
    except QingError:
        return False


class _OutOfOrder(Exception):
    pass


_CHAT, _TIME, _KIND, _IS_ME = (operator.itemgetter(key) for key in ("chat", "time", "kind", "is_me"))


def _write_in_order(batches: Iterable[list[dict]], tmp: Path, fmt: str, zone: ZoneInfo, summary: OtherSummary,
                    check: bool, progress: Callable[[int], None] | None) -> None:
    """Write lists of records, counting; with `check`, raise _OutOfOrder unless chats are contiguous and times
    rise. The checks and counts run over each list's runs of one chat with map() (C loops), not per record."""
    done, chat, last = set(), None, None
    with records.writer(tmp, fmt, zone) as write:
        for batch in batches:
            for name, run in itertools.groupby(batch, _CHAT):
                run = list(run)
                if name != chat:
                    if check and name in done:
                        raise _OutOfOrder
                    done.add(chat)
                    chat, last = name, None
                    summary.owners[chat] = [0, 0]
                times = list(map(_TIME, run))
                if check and ((last is not None and times[0] < last) or any(map(operator.lt, times[1:], times))):
                    raise _OutOfOrder
                last = times[-1]
                if summary.first is None:
                    summary.first = (chat, times[0])
                counts = summary.owners[chat]
                counts[0] += len(run)
                counts[1] += sum(map(_IS_ME, run))
                summary.messages += len(run)
                summary.kinds.update(map(_KIND, run))
            write(batch)
            if progress:
                progress(summary.messages)
    if chat is not None:
        summary.last = (chat, last)
