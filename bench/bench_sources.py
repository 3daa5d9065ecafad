"""Bench `qing export` of other tools' exports: a 1,000,000-message QCE chunked JSONL folder and a
1,000,000-row WeClone CSV, invented; wall time, messages/s and peak memory of the whole command.
Usage: python bench/bench_sources.py [--messages N] [--repeat R] [--keep]. Not a test.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import sys
import time
from pathlib import Path

import orjson
from measure import print_machine_speed, repeat

WORDS = "今天 明天 我们 你 好的 哈哈哈 吃饭 了吗 下班 学校 作业 考试 周末 电影 游戏 真的 不是 可以".split()


def qce_folder(root: Path, messages: int, per_chunk: int = 50_000) -> Path:
    rng = random.Random(3)
    folder = root / "chat_chunked_jsonl"
    (folder / "chunks").mkdir(parents=True)
    entries, when = [], 1_700_000_000_000
    for index, start in enumerate(range(0, messages, per_chunk), 1):
        lines = []
        for i in range(start, min(messages, start + per_chunk)):
            when += rng.choice((2000, 30000, 600000))
            me = rng.random() < 0.45
            words = "".join(rng.choice(WORDS) for _ in range(rng.randint(1, 8)))
            elements = [{"type": "text", "data": {"text": words}}]
            if rng.random() < 0.1:
                elements.append({"type": "face", "data": {"id": "14", "name": "/微笑"}})
            lines.append(orjson.dumps({
                "id": str(i + 1), "seq": str(i + 1), "timestamp": when, "time": "2024-01-01T00:00:00.000Z",
                "sender": {"uid": "u_me" if me else "u_peer", "uin": "10001" if me else "20002",
                           "name": "我" if me else "小王"},
                "type": "text", "content": {"text": words, "elements": elements}, "recalled": False,
                "system": False}))
        name = f"c{index:06d}.jsonl"
        (folder / "chunks" / name).write_bytes(b"\n".join(lines) + b"\n")
        entries.append({"index": index, "fileName": name, "relativePath": f"chunks/{name}", "count": len(lines)})
    (folder / "manifest.json").write_bytes(orjson.dumps({
        "metadata": {"name": "QQChatExporter"},
        "chatInfo": {"name": "小王", "type": "private", "selfUid": "u_me", "peerUid": "u_peer", "peerUin": "20002"},
        "chunked": {"format": "jsonl", "chunks": entries}}))
    return folder


def weclone_csv(root: Path, messages: int) -> Path:
    rng = random.Random(4)
    path = root / "weclone.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "MsgSvrID", "type_name", "is_sender", "talker", "room_name", "msg", "src", "CreateTime"])
        when = 1_700_000_000
        for i in range(messages):
            when += rng.choice((2, 30, 600))
            t = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(when))
            kind = "图片" if rng.random() < 0.05 else "文本"
            msg = "图片" if kind == "图片" else "".join(rng.choice(WORDS) for _ in range(rng.randint(1, 8)))
            out.writerow([i + 1, 7_000_000_000_000_000_000 + i, kind, rng.randint(0, 1), "wxid_x", "wxid_room",
                          msg, "", t])
    return path


def _kept(workdir: Path, make, messages: int) -> Path:
    """The input `make` writes, made once per size and kept in workdir/<messages>/<make>/ (--keep)."""
    folder = workdir / str(messages) / make.__name__
    done = folder / "made"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        done.write_text(make(folder, messages).name)
    return folder / done.read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(__file__).parent / "out-sources")
    parser.add_argument("--keep", action="store_true",
                        help="keep the inputs in --workdir and use them again next time (same --messages)")
    args = parser.parse_args()
    print_machine_speed()
    if not args.keep:
        shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True, exist_ok=True)
    for name, make in (("QCE chunked JSONL", qce_folder), ("WeClone CSV", weclone_csv)):
        started = time.perf_counter()
        source = _kept(args.workdir, make, args.messages) if args.keep else make(args.workdir, args.messages)
        made = time.perf_counter() - started
        out = args.workdir / "messages.jsonl"
        cmd = [sys.executable, "-m", "qing", "export", str(source), "-o", str(out), "--force"]
        runs = repeat(cmd, args.repeat)
        seconds, peak = runs.median, runs.peak_total
        print(f"{name:18} ({made:.0f} s to make): {seconds:6.2f} s  {args.messages / seconds:,.0f} messages/s  "
              f"peak RSS {peak:.0f} MB")
    if not args.keep:
        shutil.rmtree(args.workdir)


if __name__ == "__main__":
    main()
