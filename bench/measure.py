"""Timing and memory of a command and all its worker processes, for the bench scripts."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass


def tree_rss_mb(root: int) -> tuple[float, float]:
    """(sum, largest) resident memory in MB of `root` and its descendants, from /proc (cheap: no full scan)."""
    sizes, todo = [], [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as f:
                sizes.append(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20)
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                todo += [int(child) for child in f.read().split()]
        except (OSError, ValueError):
            continue
    return sum(sizes), max(sizes, default=0.0)


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, float]:
    """Run a command; return (wall seconds, peak total RSS MB of its process tree, peak single process MB).

    RSS is sampled every 50 ms over the command and all its worker processes.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_sum = peak_one = 0.0
    while proc.poll() is None:
        total, largest = tree_rss_mb(proc.pid)
        peak_sum, peak_one = max(peak_sum, total), max(peak_one, largest)
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd[2:4])} failed: {proc.stderr.read().decode()[-800:]}")
    return seconds, peak_sum, peak_one


def cpu_reference() -> float:
    """Seconds for a fixed pure-Python loop: tells how fast this (shared, noisy) machine is right now."""
    started = time.perf_counter()
    total = 0
    for i in range(20_000_000):
        total += i
    return time.perf_counter() - started


@dataclass
class Runs:
    """Repeated runs of one command: median and best seconds, peak RSS (all processes, largest one)."""

    median: float
    best: float
    peak_total: float
    peak_largest: float


def repeat(cmd: list[str], times: int, env: dict | None = None) -> Runs:
    runs = [timed(cmd, env) for _ in range(times)]
    return Runs(statistics.median(r[0] for r in runs), min(r[0] for r in runs), max(r[1] for r in runs),
                max(r[2] for r in runs))


def print_machine_speed() -> None:
    print(f"machine speed now: a 20M-step Python loop takes {cpu_reference():.2f} s (compare runs by it)")
