"""Worker processes for the data steps: a spawn pool whose workers report progress through shared memory."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor, wait
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


def report(slot: int, done: int) -> None:
    """In a worker: how much of its job is done (rows, bytes: the caller's unit)."""
    _progress[slot] = done


def collect(futures: list[Future], shared, progress: Callable[[int], None]) -> list:
    """Results in submission order, reporting the summed progress of all jobs while they run."""
    pending = futures
    try:
        while pending:
            _, pending = wait(pending, timeout=0.2)
            progress(sum(shared[:len(futures)]))
        return [f.result() for f in futures]
    except BrokenProcessPool:
        raise QingError("a worker process died (out of memory, or killed); run again with --workers 1.") from None
