"""Bench `qing export --format csv` (WeClone's CSV layout) against the jsonl export of the same database.

Generates N invented messages (default 100,000) over C chats with bench_data_path's mix of elements, decrypts
them once, then times the whole `qing export` command, in a subprocess, writing jsonl and writing csv (a file of
all chats in older versions, a folder of chat folders since), the median of --repeat runs each. Prints the figures;
not a test. Usage: python bench/bench_export_csv.py [--messages N] [--chats C] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from bench_data_path import KEY, generate
from measure import print_machine_speed, repeat

ROOT = Path(__file__).resolve().parents[1]


def csv_rows(path: Path) -> int:
    """Data rows (lines after each header; the generated messages hold no newline) of a CSV file or folder."""
    files = [path] if path.is_file() else sorted(path.rglob("*.csv"))
    total = 0
    for file in files:
        with open(file, "rb") as f:
            total += sum(1 for _ in f) - 1
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each timing; the median is shown")
    parser.add_argument("--workdir", type=Path, default=Path(__file__).parent / "out-csv")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()

    print_machine_speed()
    work = args.workdir
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db, plain = work / "nt_msg.db", work / "nt_msg.plain.db"
    started = time.perf_counter()
    generate(db, args.messages, args.chats)
    env = dict(os.environ, QING_KEY=KEY, PYTHONPATH=str(ROOT))  # this checkout's qing, not an installed one
    qing = [sys.executable, "-m", "qing"]
    repeat(qing + ["decrypt", str(db), "-o", str(plain)], 1, env)
    print(f"generated {args.messages:,} messages in {args.chats} chats ({time.perf_counter() - started:.1f} s)")

    for fmt, out in (("jsonl", work / "messages.jsonl"), ("csv", work / "csv")):
        runs = repeat(qing + ["export", str(plain), "--format", fmt, "-o", str(out), "--force"], args.repeat, env)
        rows = csv_rows(out) if fmt == "csv" else sum(1 for _ in open(out, "rb"))
        print(f"qing export --format {fmt:5} (command): {runs.median:6.2f} s  {rows / runs.median:8,.0f} messages/s "
              f"(best {rows / runs.best:,.0f})  peak RSS {runs.peak_total:.0f} MB  ({rows:,} rows)")
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
