"""Worker processes for the data steps: a spawn pool whose workers, and the calling process, take jobs in turn
and report progress through shared memory."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Callable

from qing.errors import QingError
from qing.i18n import _

SLOTS = 64  # jobs per pool that can report progress
_NEXT = SLOTS  # the shared array's item after the slots: the next job nobody has taken (share())
_progress = None  # in a worker, and in the caller while share() runs its jobs: the shared array
_show: Callable[[], None] | None = None  # in the caller while share() runs its jobs: shows the progress
_worker = False  # whether this process is a pool's worker


def _init(shared, parent: int) -> None:
    global _progress, _worker
    _progress, _worker = shared, True
    # the calling process handles Ctrl+C, SIGTERM and a closed terminal (and then kills the workers): a worker
    # that took them too would print its own traceback above the caller's one sentence
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """A worker whose parent was killed outright (SIGKILL: no clean-up) would wait for jobs forever: end it. PARENT
    comes from the parent itself: it may have died while this worker was still starting."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def close(pool) -> None:
    """Shut POOL down; call it in a `finally`. When an exception is on its way out (an error, Ctrl+C, SIGTERM), the
    workers are killed first: nothing they would still make is used, and they ignore the signals themselves."""
    if sys.exc_info()[0] is not None:
        _kill(pool)
    pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _signals_held():
    """Yield a list that Ctrl+C, SIGTERM and SIGHUP arriving in the block are added to instead of acting (Python runs
    its signal handlers in the main thread only, so in any other thread nothing is held)."""
    held: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield held
        return
    saved = {}
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            number = getattr(signal, name)
            if (handler := signal.getsignal(number)) is not None:  # None: a handler not set from Python
                saved[number] = handler
                signal.signal(number, lambda signum, frame: held.append(signum))
    try:
        yield held
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def _kill(pool) -> None:
    for process in list((getattr(pool, "_processes", None) or {}).values()):  # private; stable in 3.8-3.13
        with contextlib.suppress(Exception):
            process.kill()


def start_pool(workers: int):
    """(pool, shared progress array); the workers start at once, so their imports overlap with the caller's work.

    spawn, not fork: rich's refresh thread may be running in the parent.
    """
    context = multiprocessing.get_context("spawn")
    # a signal while a worker is being started would leave it half-started, reading start-up data from a pipe this
    # process no longer writes (a traceback on the terminal): signals wait until all are started, then act
    with _signals_held() as held:
        shared = context.Array("q", SLOTS + 1)  # progress of each job, then _NEXT; its lock guards _NEXT
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init, initargs=(shared, os.getpid()))
        for _count in range(workers):
            pool.submit(int)
    try:
        if held:
            signal.raise_signal(held[0])  # its handler runs now: Ctrl+C's KeyboardInterrupt, the CLI's Stopped
    except BaseException:
        _kill(pool)
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    return pool, shared


def shares(workers: int) -> list[float]:
    """Jobs' shares of an input, in order: one big job per process (80% in all), then smaller ones that go to
    whichever process is free first, so that one slowed down (on a shared machine) holds the others up less.
    Each job's result is handed over and joined on its own, so the small jobs are few."""
    return [0.8 / workers] * workers + [0.1, 0.05, 0.03, 0.02]


def in_worker() -> bool:
    """Whether this is one of a pool's worker processes."""
    return _worker


def report(slot: int, done: int) -> None:
    """In a job: how much of it is done (rows, bytes: the caller's unit)."""
    _progress[slot] = done
    if _show:
        _show()


def share(pool, shared, job: Callable, jobs: list[tuple], progress: Callable[[int], None],
          ready: Callable[[int, object], None] | None = None) -> list:
    """[job(slot, *jobs[slot]) for each slot], run by the pool's workers and by this process too, each taking
    the next job nobody has taken yet: this process starts at once, while the workers are still starting, and
    its results need no handing over. progress(done) gets the summed progress of all jobs while they run.

    ready(slot, result), if given, is called for each job in order as soon as it and all before it are done
    (also between this process's jobs), so the caller can use the first results while later jobs run.

    job must be a module-level function (the workers import it) that reports with report(slot, done).
    """
    global _progress, _show
    count, given = len(jobs), 0
    pending = {pool.submit(_take_and_run, job, jobs) for _job in jobs}
    results: dict[int, object] = {}

    def gather(timeout: float) -> None:
        nonlocal pending, given
        done, pending = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
        for future in done:
            if (taken := future.result()) is not None:
                results[taken[0]] = taken[1]
        while given in results:
            if ready:
                ready(given, results[given])
            given += 1

    _progress, _show = shared, lambda: progress(sum(shared[:count]))
    try:
        while (slot := _take(shared, count)) is not None:
            results[slot] = job(slot, *jobs[slot])
            gather(0)
        _progress = _show = None
        while given < count:
            gather(0.2)
            progress(sum(shared[:count]))
        return [results[slot] for slot in range(count)]
    except BaseException as e:
        with shared.get_lock():
            shared[_NEXT] = count  # the workers take no more
        if isinstance(e, BrokenProcessPool):
            raise QingError(_("a worker process died (out of memory, or killed); run again with --workers "
                              "1.")) from None
        raise
    finally:
        _progress = _show = None


def _take(shared, count: int) -> int | None:
    """The next job nobody has taken, now taken; None when all are."""
    with shared.get_lock():
        slot = shared[_NEXT]
        if slot >= count:
            return None
        shared[_NEXT] = slot + 1
    return slot


def _take_and_run(job: Callable, jobs: list[tuple]) -> tuple[int, object] | None:
    """In a worker: (slot, result) of the next job nobody has taken, or None when all are."""
    slot = _take(_progress, len(jobs))
    return None if slot is None else (slot, job(slot, *jobs[slot]))
