"""Bench the QQ NT data path: decrypt and export of a generated encrypted nt_msg.db.

Generates N invented messages (default 1,000,000) over C chats with a realistic
mix of elements, encrypts them as QQ NT does (header + SQLCipher 4), then times:
  - SQLCipher's own speed: sqlcipher_export of the stripped file, nothing else;
  - `qing decrypt` (in a subprocess, whole command) -> MB/s;
  - `qing export` of the plain database (in a subprocess) -> messages/s and peak RSS.
Each timing is the median of --repeat runs (this machine is noisy). Prints the
figures; not a test. Usage: python bench/bench_data_path.py [--messages N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

from measure import print_machine_speed, repeat

from qing.fixtures import qqnt_db as nb

KEY = "#8benchKey0000@u"
OWNER = 10001
WORDS = ("今天 明天 我们 你 好的 哈哈哈 吃饭 了吗 下班 学校 作业 考试 周末 电影 游戏 真的 不是 可以 "
         "没事 谢谢 晚安 早 嗯嗯 在吗 好啊 算了 等我 马上 到了 ok lol 666").split()


def body_for(rng: random.Random, msg_id: int, seq_by_chat: list[int]):
    roll = rng.random()
    say = "".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12)))
    if roll < 0.70:
        return nb.body(nb.text(say)), 2
    if roll < 0.80:
        return nb.body(nb.text(say), nb.face(rng.randint(0, 200), "微笑" if rng.random() < 0.5 else None)), 2
    if roll < 0.86:
        return nb.body(nb.picture(animated=rng.random() < 0.3)), 2
    if roll < 0.90:
        return nb.body(nb.market_face("[贴贴]")), 17
    if roll < 0.95 and seq_by_chat:
        target = rng.choice(seq_by_chat[-50:])
        return nb.body(nb.reply(target, OWNER, 0, None, say[:8]), nb.text(say)), 9
    if roll < 0.97:
        return nb.body(nb.voice(say if rng.random() < 0.5 else "")), 6
    if roll < 0.98:
        return nb.body(nb.recall_tip()), 5
    return nb.body(nb.video()), 7


def generate(path: Path, messages: int, chats: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    per_chat = messages // chats

    def rows():
        msg_id = 0
        for c in range(chats):
            peer = 20000 + c
            when = 1_600_000_000 + rng.randint(0, 10_000_000)
            seqs: list[int] = []
            for i in range(per_chat if c < chats - 1 else messages - per_chat * (chats - 1)):
                msg_id += 1
                when += rng.choice((3, 10, 40, 600, 7200))
                sent = rng.random() < 0.45
                body, msg_type = body_for(rng, msg_id, seqs)
                seqs.append(i + 1)
                yield nb.message_row(msg_id, peer_uin=peer, sender_uin=OWNER if sent else peer, sent=sent,
                                     when=when, elements=body, seq=i + 1, msg_type=msg_type, nickname=f"友{c}")

    def fill(conn):
        nb.create_message_tables(conn)
        nb.insert_rows(conn, "c2c_msg_table", rows())

    nb.write_encrypted(path, KEY, fill)


def sqlcipher_baseline(encrypted: Path, work: Path) -> float:
    """Seconds SQLCipher alone takes to export the stripped file to plaintext."""
    import sqlcipher3

    stripped, plain = work / "stripped.db", work / "baseline.plain.db"
    with open(encrypted, "rb") as f:
        f.seek(nb.HEADER_SIZE)
        stripped.write_bytes(f.read())
    plain.unlink(missing_ok=True)
    started = time.perf_counter()
    conn = sqlcipher3.connect(str(stripped))
    nb.apply_cipher(conn, KEY, "HMAC_SHA1")
    conn.execute("ATTACH DATABASE ? AS plain KEY ''", (str(plain),))
    conn.execute("SELECT sqlcipher_export('plain')").fetchone()
    conn.execute("DETACH DATABASE plain")
    conn.close()
    seconds = time.perf_counter() - started
    stripped.unlink()
    plain.unlink()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--workdir", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timing; the median is shown")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()

    print_machine_speed()
    work = args.workdir
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db = work / "nt_msg.db"
    started = time.perf_counter()
    generate(db, args.messages, args.chats)
    size_mb = db.stat().st_size / 1e6
    print(f"generated {args.messages:,} messages in {args.chats} chats: {size_mb:.0f} MB encrypted "
          f"({time.perf_counter() - started:.1f} s)")

    base = statistics.median(sqlcipher_baseline(db, work) for _ in range(args.repeat))
    print(f"SQLCipher alone (sqlcipher_export):     {base:6.2f} s  {size_mb / base:6.1f} MB/s")

    from qing.sources.qqnt.decrypt import decrypt

    def in_process() -> float:
        started = time.perf_counter()
        decrypt(db, KEY, work / "inprocess.plain.db", force=True)
        return time.perf_counter() - started

    seconds = statistics.median(in_process() for _ in range(args.repeat))
    (work / "inprocess.plain.db").unlink()
    print(f"qing.sources.qqnt.decrypt.decrypt() in process:      {seconds:6.2f} s  {size_mb / seconds:6.1f} MB/s  "
          f"({seconds / base:.2f}x SQLCipher alone's time: + header strip copy, fsync, check)")

    env = dict(os.environ, QING_KEY=KEY)
    qing = [sys.executable, "-m", "qing"]
    plain = work / "nt_msg.plain.db"
    runs = repeat(qing + ["decrypt", str(db), "-o", str(plain), "--force"], args.repeat, env)
    seconds, rss = runs.median, runs.peak_total
    print(f"qing decrypt (whole command):           {seconds:6.2f} s  {size_mb / seconds:6.1f} MB/s  "
          f"peak RSS {rss:.0f} MB  ({seconds / base:.2f}x SQLCipher alone's time)")

    out = work / "messages.jsonl"
    for workers in ("0", "1"):
        runs = repeat(qing + ["export", str(plain), "-o", str(out), "--workers", workers, "--force"], args.repeat, env)
        seconds, best, rss, one = runs.median, runs.best, runs.peak_total, runs.peak_largest
        with open(out, "rb") as f:
            lines = sum(1 for _ in f)
        print(f"qing export --workers {workers} (command):  {seconds:6.2f} s  {lines / seconds:8,.0f} messages/s "
              f"(best {lines / best:,.0f})  peak RSS {rss:.0f} MB in all, {one:.0f} MB largest process  "
              f"({lines:,} lines, {out.stat().st_size / 1e6:.0f} MB)")
    with sqlite3.connect(plain) as conn:
        assert conn.execute("SELECT count(*) FROM c2c_msg_table").fetchone()[0] == args.messages
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
