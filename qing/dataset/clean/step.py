"""The whole step, clean(): options and paths checked; the input made into samples by jobs of whole chats in
worker processes (or grouped in memory when it is not sorted by chat); the samples gathered, deduplicated and
split; the files written into a private work directory and moved into place whole."""

from __future__ import annotations

import gc
import os
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import orjson

from qing import parallel
from qing.dataset.clean.read import _Unsorted, chat_ranges, iter_chats
from qing.dataset.clean.report import _report
from qing.dataset.clean.rules import _check_options, _system_prompt
from qing.dataset.clean.samples import Samples, TokenCounter, process_chat
from qing.dataset.clean.sessions import TextCleaner
from qing.dataset.clean.split import _Dataset, redact_numbers_of_others
from qing.dataset.clean.tally import Tally
from qing.dataset.options import CleanOptions
from qing.errors import QingError
from qing.files import open_private, refuse_foreign_files, refuse_input_as_output, require_input, work_dir_beside
from qing.i18n import _

OUTPUTS = ("train.jsonl", "eval.jsonl", "report.json", "lengths.png")
"""What clean writes in its output directory: --force replaces a directory holding nothing else."""
PARALLEL_FROM_BYTES = 20_000_000  # smaller files: starting worker processes costs more than it saves


@dataclass
class CleanResult:
    output: Path
    report: dict
    seconds: float
    workers: int = 1


def clean(messages: Path, output: Path, opts: CleanOptions, force: bool = False, workers: int | None = None,
          progress: Callable[[int, int], None] | None = None) -> CleanResult:
    """Build DIR/train.jsonl, eval.jsonl and report.json from messages.jsonl.

    A file sorted by chat (as `qing export` writes it) is streamed chat by
    chat, by `workers` processes (default: one per core, at most 4, for files
    over 20 MB) taking jobs of whole chats (parallel.shares); anything else is
    grouped in memory. All ways give the same files.
    """
    started = time.perf_counter()
    _check_options(opts)
    require_input(messages, _("messages file"))
    _refuse_binary(messages)
    refuse_input_as_output(output, messages)
    if output.exists() and not force:
        raise QingError(_("output directory {output} already exists; pass --force to replace it or -o for "
                          "another.").format(output=output))
    if output.exists() and not output.is_dir():
        raise QingError(_("output {output} is a file; give a directory with -o.").format(output=output))
    refuse_foreign_files(output, OUTPUTS, "qing clean")
    if output.name in ("", ".."):  # `-o .` has no name to put a work directory beside
        output = output.resolve()
    count = TokenCounter(opts.tokenizer)  # a bad --tokenizer fails here, before any work
    size = messages.stat().st_size
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if size >= PARALLEL_FROM_BYTES else 1
    tell = progress or _nothing
    work = work_dir_beside(output)  # the files are written here, private, and moved into place whole at the end
    try:
        try:
            data, tally, workers = _make_all(messages, opts, workers, lambda done: tell(done, size), work)
        except _Unsorted:
            for part in work.glob("samples.*"):  # the workers' samples not read back: not part of the output
                part.unlink()
            (made, tally), workers = _make_unsorted(messages, opts), 1
            data = _Dataset(opts.eval_ratio)
            data.add(made)
        tell(size, size)
        if not tally.messages:
            raise QingError(_("{messages} holds no messages; export some with `qing export` first.").format(
                messages=messages))
        if not tally.owner_messages:
            raise QingError(_("none of the messages in {messages} is from the owner (is_me); run `qing export` "
                              "again with --me YOUR_QQ_NUMBER.").format(messages=messages))
        owner = tally.owner_names.most_common(1)[0][0] if tally.owner_names else None
        system = _system_prompt(opts, owner)
        tally.dropped_samples.update(+data.copies)
        redact_numbers_of_others(data.made.line, tally)
        train, evals = data.train, data.evals
        random.Random(opts.seed).shuffle(train)
        result = _report(messages, opts, tally, count, data.made.tokens, train, evals, system)
        _write(work, data.made.line, train, evals, system, result)
        _move_into_place(work, output)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return CleanResult(output, result, time.perf_counter() - started, workers)


def _nothing(*_args):
    pass


def _make_range(messages: Path, start: int, end: int | None, opts: CleanOptions,
                progress: Callable[[int], None] = _nothing) -> tuple[Samples, Tally]:
    tally = Tally()
    return _make_chats(iter_chats(messages, start, end, opts, tally, progress), opts, tally), tally


def _make_chats(chats: Iterable[tuple[str, list]], opts: CleanOptions, tally: Tally) -> Samples:
    clean_text, count, budget = _chat_tools(opts, tally)
    made = Samples()
    gc.disable()  # millions of small objects, no cycles: collections would walk them all again and again
    try:
        for chat, msgs in chats:
            process_chat(chat, msgs, opts, clean_text, count, budget, tally, made)
    finally:
        gc.enable()
    return made


def _make_job(slot: int, messages: Path, start: int, end: int | None, opts: CleanOptions,
              part: Path) -> tuple[Samples, Tally, bool]:
    """One job of _make_all: (samples, tally, whether the samples' lines were packed into `part`) - a worker
    process hands them over in a file, the calling process keeps them."""
    made, tally = _make_range(messages, start, end, opts, lambda offset: parallel.report(slot, offset - start))
    if packed := parallel.in_worker():
        made.pack(part)
    return made, tally, packed


def _make_all(messages: Path, opts: CleanOptions, workers: int, progress,
              work: Path) -> tuple[_Dataset, Tally, int]:
    ranges = chat_ranges(messages, parallel.shares(workers)) if workers > 1 else [(0, None)]
    data, tally = _Dataset(opts.eval_ratio), Tally()
    if len(ranges) == 1:
        made, tally = _make_range(messages, 0, None, opts, progress)
        data.add(made)
        return data, tally, 1

    def ready(slot: int, part: tuple[Samples, Tally, bool]) -> None:  # in order, while later jobs run
        made, part_tally, packed = part
        if both := part_tally.chat_ids & tally.chat_ids:  # a chat in two jobs: the file is not sorted by chat
            raise _Unsorted(next(iter(both)))
        if packed:
            made.unpack(work / f"samples.{slot}")
        data.add(made)
        tally.add(part_tally)

    workers = min(workers, len(ranges))
    pool, shared = parallel.start_pool(workers - 1)  # this process takes jobs too
    try:
        jobs = [(messages, a, b, opts, work / f"samples.{slot}") for slot, (a, b) in enumerate(ranges)]
        parallel.share(pool, shared, _make_job, jobs, progress, ready)
    finally:
        parallel.close(pool)
    return data, tally, workers


def _make_unsorted(messages: Path, opts: CleanOptions) -> tuple[Samples, Tally]:
    """For a file not grouped by chat: gather every chat in memory first (first appearance order)."""
    tally = Tally()
    chats: dict[str, list] = {}
    for chat, msgs in iter_chats(messages, 0, None, opts, tally, grouped=False):
        chats.setdefault(chat, []).extend(msgs)
    return _make_chats(chats.items(), opts, tally), tally


def _chat_tools(opts: CleanOptions, tally: Tally) -> tuple[TextCleaner, TokenCounter, int]:
    """The text cleaner, the token counter and the token budget left for turns by the system prompt."""
    count = TokenCounter(opts.tokenizer)
    system = opts.system_prompt.replace("{owner}", "某" * 12) if opts.system_prompt else None  # the name: unknown yet
    return TextCleaner(opts, tally), count, opts.max_tokens - (count(system) if system else 0)


def _write(work: Path, lines: list[bytes], train: list[int], evals: list[int], system: str | None,
           report: dict) -> None:
    """Write the three files into the private work directory."""
    start = b'{"messages":[' + (orjson.dumps({"role": "system", "content": system}) + b"," if system else b"")
    for name, samples in (("train.jsonl", train), ("eval.jsonl", evals)):
        with open_private(work / name, "wb") as f:
            for at in range(0, len(samples), 4096):  # a few MB at a time: one large buffer costs more to map
                f.write(start + start.join([lines[i] for i in samples[at:at + 4096]]))
    with open_private(work / "report.json", "wb") as f:
        f.write(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))


def _move_into_place(work: Path, output: Path) -> None:
    """Rename the finished work directory to the output, replacing an old one."""
    if output.exists():
        old = output.with_name(f".{output.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        output.rename(old)
        work.rename(output)
        shutil.rmtree(old)
    else:
        work.rename(output)


def _refuse_binary(path: Path) -> None:
    """A database or other binary file given where messages.jsonl belongs (export skipped): say so, not 'line 1 is
    not JSON'."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if head.startswith(b"SQLite format 3\x00") or head[0x20:0x28] == b"QQ_NT DB":
        raise QingError(_("{path} is a database, not messages.jsonl; run `qing export {path}` first (with --key "
                          "if it is encrypted), then clean what it writes.").format(path=path))
    if b"\x00" in head:
        raise QingError(_("{path} is a binary file, not messages.jsonl; `qing export` writes messages.jsonl from "
                          "your database or another tool's export.").format(path=path))
