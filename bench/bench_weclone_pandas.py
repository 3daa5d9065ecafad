"""Would pandas' C parser read (and write) the WeClone CSV faster than qing's csv-module reader? Not a test.

Reading: `qing export` of bench_sources.py's invented WeClone CSV, whole command (worker processes included),
run in turns with today's qing/ and with a copy of it whose weclone._read goes through pandas.read_csv
(engine="c", every cell kept as text, the same record maker after it); several rounds, the order of the two
alternating, medians compared; the two messages.jsonl must be byte-identical. --tests also runs
tests/test_sources.py's WeClone tests against the pandas copy.
Writing: 1,000,000 contract-1 records as WeClone CSV, qing's csv.writer against DataFrame.to_csv, in process.
Usage: python bench/bench_weclone_pandas.py [--messages N] [--rounds R] [--tests]
"""

from __future__ import annotations

import argparse
import filecmp
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_sources import weclone_csv
from measure import print_machine_speed, timed

ROOT = Path(__file__).resolve().parents[1]

# appended to the copy's qing/sources/weclone.py: replaces _read, keeps everything else
PANDAS_READER = '''

_csv_read = _read
PANDAS_CHUNK = 1 << 16  # rows per DataFrame


def _read(path, zone, span):
    """As _csv_read, through pandas.read_csv(engine="c"). A row that cannot be made into a record is reported by
    _csv_read (pandas does not know a row's physical line)."""
    import pandas as pd
    from itertools import repeat

    parse_time = TimeParser(zone)
    with open(path, encoding="utf-8-sig", newline="") as f:
        header = [c.strip() for c in next(csv.reader([f.readline()]), [])]
    missing = REQUIRED - set(header)
    if missing:
        raise QingError(f"{path} lacks the WeClone CSV column(s) {', '.join(sorted(missing))}; "
                        f"the header must be {','.join(HEADER)} (room_name may be absent).")
    width = len(header)
    column = {name: header.index(name) if name in header else width for name in HEADER}
    chats = _Chats(f"wechat:{path.stem}")
    if span is None:
        source, skip, encoding = path, 1, "utf-8-sig"
    else:
        with open(path, "rb") as f:
            f.seek(span[0])
            source, skip, encoding = io.BytesIO(f.read(span[1] - span[0])), 0, "utf-8"
    record = _record_maker(column, width, chats, parse_time, path, lambda: 0)
    # usecols: a row with more cells than the header is read, not refused; one with fewer is padded with ""
    frames = pd.read_csv(source, header=None, names=range(width), usecols=range(width), skiprows=skip,
                         dtype=object, na_filter=False, keep_default_na=False, skip_blank_lines=True,
                         encoding=encoding, engine="c", chunksize=PANDAS_CHUNK)
    try:
        for frame in frames:
            cells = [frame[i].tolist() for i in range(width)]
            yield from in_lists(map(record, zip(*cells, repeat(""))))  # the "" : a column the file lacks
    except (QingError, pd.errors.ParserError):
        for _ in _csv_read(path, zone, span):  # the csv reader finds the same row and names its line
            pass
        raise
'''


def pandas_copy(tmp: Path) -> Path:
    """A copy of qing/ whose WeClone reader is pandas'; returns the folder to put on PYTHONPATH."""
    tree = tmp / "pandas-tree"
    shutil.copytree(ROOT / "qing", tree / "qing", ignore=shutil.ignore_patterns("__pycache__"))
    with open(tree / "qing" / "sources" / "weclone.py", "a", encoding="utf-8") as f:
        f.write(PANDAS_READER)
    return tree


def read_bench(source: Path, tmp: Path, trees: dict[str, Path], rounds: int) -> None:
    times: dict[str, list[float]] = {name: [] for name in trees}
    peaks: dict[str, float] = dict.fromkeys(trees, 0.0)
    for r in range(rounds):
        order = list(trees) if r % 2 == 0 else list(trees)[::-1]
        for name in order:
            env = {**os.environ, "PYTHONPATH": str(trees[name])}
            cmd = [sys.executable, "-m", "qing", "export", str(source), "-o", str(tmp / f"{name}.jsonl"), "--force"]
            seconds, peak, _ = timed(cmd, env)
            times[name].append(seconds)
            peaks[name] = max(peaks[name], peak)
        print(f"  round {r + 1}: " + ", ".join(f"{n} {times[n][-1]:.2f} s" for n in trees), flush=True)
    for name in trees:
        print(f"read {name:7}: median {statistics.median(times[name]):.2f} s, best {min(times[name]):.2f} s, "
              f"peak RSS (all processes) {peaks[name]:.0f} MB")
    names = list(trees)
    same = filecmp.cmp(tmp / f"{names[0]}.jsonl", tmp / f"{names[1]}.jsonl", shallow=False)
    print(f"messages.jsonl byte-identical: {same}")


def import_time(tree: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import pandas"], env=env, check=True)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def write_bench(messages: int, rounds: int) -> None:
    """qing's FolderWriter (csv.writer, a list of rows per batch) against DataFrame.to_csv of the same rows, 4,096
    at a time as the export streams them, into one chat's file."""
    from zoneinfo import ZoneInfo

    import pandas as pd

    from qing.sources import weclone, weclone_out

    zone = ZoneInfo("Asia/Shanghai")
    batch = [{"id": 7_000_000_000_000_000_000 + i, "chat": "wechat:room", "peer": "room", "sender": 20002,
              "sender_name": "小王", "is_me": i % 2 == 0, "time": 1_700_000_000 + 30 * i, "kind": "text",
              "text": "今天吃什么, 我也不知道\"好\"", "reply_to": None} for i in range(4096)]
    batches = messages // len(batch)

    def by_writer(out):
        with tempfile.TemporaryDirectory() as folder:
            writer = weclone_out.FolderWriter(Path(folder), zone)
            for _ in range(batches):
                writer.write(batch)
            writer.close()
            [written] = Path(folder).rglob("*.csv")
            out.write(written.read_bytes().decode("utf-8"))

    def by_pandas(out):
        pd.DataFrame(columns=weclone.HEADER).to_csv(out, index=False, lineterminator="\r\n")
        row = 0
        for _ in range(batches):
            frame = pd.DataFrame({
                "id": range(row + 1, row + 1 + len(batch)), "MsgSvrID": [r["id"] for r in batch],
                "type_name": [weclone.KIND_TO_TYPE[r["kind"]] for r in batch],
                "is_sender": [int(r["is_me"]) for r in batch],
                "talker": [r["sender_name"] or str(r["sender"] or "") for r in batch],
                "room_name": "room", "msg": [r["text"] for r in batch], "src": "",
                "CreateTime": pd.to_datetime([r["time"] for r in batch], unit="s", utc=True).tz_convert(zone)
                .strftime("%Y-%m-%d %H:%M:%S")})
            row += len(batch)
            frame.to_csv(out, index=False, header=False, lineterminator="\r\n")

    results: dict[str, list[float]] = {"csv": [], "pandas": []}
    outputs = {}
    for r in range(rounds):
        for name, write in ((("csv", by_writer), ("pandas", by_pandas)) if r % 2 == 0
                            else (("pandas", by_pandas), ("csv", by_writer))):
            out = io.StringIO(newline="")
            started = time.perf_counter()
            write(out)
            results[name].append(time.perf_counter() - started)
            outputs[name] = out.getvalue()
    for name, runs in results.items():
        print(f"write {name:6}: median {statistics.median(runs):.2f} s for {batches * len(batch):,} rows")
    print(f"written CSV identical: {outputs['csv'] == outputs['pandas']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the input CSV here (made once per size)")
    parser.add_argument("--tests", action="store_true", help="also run the WeClone tests against the pandas copy")
    args = parser.parse_args()
    print_machine_speed()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        keep = args.workdir or tmp
        source = keep / str(args.messages) / "weclone.csv"
        if not source.exists():
            source.parent.mkdir(parents=True, exist_ok=True)
            weclone_csv(source.parent, args.messages)
        trees = {"csv": ROOT, "pandas": pandas_copy(tmp)}
        os.chdir(tmp)  # `python -m` puts the current folder first on the path: it must not hold a qing/
        for name, tree in trees.items():
            check = "import qing.sources.weclone as w; print(hasattr(w, '_csv_read'))"
            found = subprocess.run([sys.executable, "-c", check], env={**os.environ, "PYTHONPATH": str(tree)},
                                   capture_output=True, text=True, check=True).stdout.strip()
            assert found == str(name == "pandas"), f"the {name} run would not import its own qing"
        print(f"import pandas: {import_time(ROOT):.2f} s (median of 5, a process of its own)")
        print(f"{args.messages:,}-row WeClone CSV, {source.stat().st_size / 2**20:.0f} MB, {args.rounds} rounds:")
        read_bench(source, tmp, trees, args.rounds)
        write_bench(args.messages, args.rounds)
        if args.tests:
            env = {**os.environ, "PYTHONPATH": str(trees["pandas"])}
            pytest = Path(sys.executable).with_name("pytest")  # not `python -m`: it would put ROOT first on the path
            subprocess.run([str(pytest), "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_sources.py"),
                            "-k", "weclone or bom or out_of_order or bad_other or lines_in or time_parser"],
                           env=env, cwd=tmp)


if __name__ == "__main__":
    main()
