"""qing.parallel.share: jobs taken by the calling process and by pool workers, results in order, errors."""

import os
import signal
import time

import pytest

from qing import parallel
from qing.errors import QingError


def wait_for_a_worker(count: int) -> None:
    """In the calling process: wait until a worker has taken a job too (so both paths run in every test)."""
    deadline = time.monotonic() + 60
    while parallel._progress[parallel._NEXT] < count and time.monotonic() < deadline:
        time.sleep(0.01)


def square(slot: int, x: int) -> tuple[int, int, bool]:
    if slot == 0 and not parallel.in_worker():
        wait_for_a_worker(2)
    parallel.report(slot, x)
    return os.getpid(), x * x, parallel.in_worker()


def fail_in_worker(slot: int, x: int) -> int:
    if parallel.in_worker():
        raise QingError(f"job {slot} failed")
    wait_for_a_worker(2)
    return x


def fail_here(slot: int, x: int) -> int:
    if not parallel.in_worker():
        raise ValueError("here")
    time.sleep(0.2)
    return x


def die_in_worker(slot: int, x: int) -> int:
    if parallel.in_worker():
        os.kill(os.getpid(), signal.SIGKILL)
    wait_for_a_worker(2)
    return x


def test_share_runs_every_job_once_here_and_in_workers_in_order():
    pool, shared = parallel.start_pool(1)
    seen, readied = [], []
    try:
        results = parallel.share(pool, shared, square, [(x,) for x in range(8)], seen.append,
                                 lambda slot, result: readied.append(slot))
    finally:
        pool.shutdown()
    assert [r[1] for r in results] == [x * x for x in range(8)]
    assert readied == list(range(8))
    pids = {pid for pid, _, _ in results}
    assert len(pids) == 2 and os.getpid() in pids  # this process and the worker both took jobs
    assert all(in_worker == (pid != os.getpid()) for pid, _, in_worker in results)
    assert seen and max(seen) <= sum(range(8))
    assert not parallel.in_worker() and parallel._progress is None


@pytest.mark.parametrize("job, error", [(fail_in_worker, QingError), (fail_here, ValueError)])
def test_an_error_in_any_job_stops_the_others_and_is_raised(job, error):
    pool, shared = parallel.start_pool(1)
    try:
        with pytest.raises(error):
            parallel.share(pool, shared, job, [(x,) for x in range(20)], lambda done: None)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    assert shared[parallel._NEXT] == 20 and parallel._progress is None  # no job is left for the workers


def test_a_worker_that_dies_is_one_sentence():
    pool, shared = parallel.start_pool(1)
    try:
        with pytest.raises(QingError, match="a worker process died"):
            parallel.share(pool, shared, die_in_worker, [(x,) for x in range(4)], lambda done: None)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
