"""Worker processes for the data steps: a spawn pool whose workers report progress through shared memory."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Callable

from qing.errors import QingError

SLOTS = 64  # jobs per pool that can report progress
_progress = None  # in a worker: the shared array, one slot per job


def _init(shared) -> None:
    global _progress
    _progress = shared


def start_pool(workers: int):
    """(pool, shared progress array); the workers start at once, so their imports overlap with the caller's work.

    spawn, not fork: rich's refresh thread may be running in the parent.
    """
    context = multiprocessing.get_context("spawn")
    shared = context.Array("q", SLOTS, lock=False)
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init, initargs=(shared,))
    for _ in range(workers):
        pool.submit(int)
    return pool, shared


def shares(workers: int) -> list[float]:
    """Jobs' shares of an input, in order: one big job per worker (80% in all), then smaller ones that go to
    whichever worker is free first, so that one slowed down (on a shared machine) holds the others up less.
    Each job's result is handed over and joined on its own, so the small jobs are few."""
    return [0.8 / workers] * workers + [0.1, 0.05, 0.03, 0.02]


def report(slot: int, done: int) -> None:
    """In a worker: how much of its job is done (rows, bytes: the caller's unit)."""
    _progress[slot] = done


def collect(futures: list[Future], shared, progress: Callable[[int], None],
            ready: Callable[[int, object], None] | None = None) -> list:
    """Results in submission order, reporting the summed progress of all jobs while they run.

    ready(i, result), if given, is called for each job in order as soon as it and all before it are done,
    so the caller can use the first results while later jobs run.
    """
    pending, given = futures, 0
    try:
        while pending:
            _, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            progress(sum(shared[:len(futures)]))
            while ready and given < len(futures) and futures[given].done():
                ready(given, futures[given].result())
                given += 1
        return [f.result() for f in futures]
    except BrokenProcessPool:
        raise QingError("a worker process died (out of memory, or killed); run again with --workers 1.") from None
