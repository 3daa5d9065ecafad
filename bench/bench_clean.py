"""Bench `qing clean`: a generated 1,000,000-message messages.jsonl through the whole command.

The messages are invented: 300 chats (a few groups), bursts of messages seconds
apart, gaps of minutes to days, faces and stickers, media, recalls, and some
personal data to redact. Prints wall time, messages/s and peak memory of the
command (median of --repeat runs). Not a test.
Usage: python bench/bench_clean.py [--messages N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
from pathlib import Path

import orjson
from measure import print_machine_speed, repeat

OWNER = 10001
WORDS = ("今天 明天 我们 你 好的 哈哈哈 吃饭 了吗 下班 学校 作业 考试 周末 电影 游戏 真的 不是 可以 没事 谢谢 晚安 早 "
         "嗯嗯 在吗 好啊 算了 等我 马上 到了 ok lol 666 [微笑] [捂脸] [动画表情] 哈哈哈哈哈哈哈哈哈哈哈哈").split()
PII = ("我手机13812345678", "邮箱 test.user@example.com", "加我QQ 123456789", "https://example.com/x?y=1")


def generate(path: Path, messages: int, chats: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    per_chat = messages // chats
    msg_id = 0
    with open(path, "wb") as out:
        for c in range(chats):
            group = c % 20 == 0
            chat = f"group:{900000 + c}" if group else f"c2c:{20000 + c}"
            peers = [30000 + c * 10 + k for k in range(6)] if group else [20000 + c]
            when = 1_600_000_000 + rng.randint(0, 10_000_000)
            count = per_chat if c < chats - 1 else messages - per_chat * (chats - 1)
            lines = []
            for _ in range(count):
                msg_id += 1
                when += rng.choice((2, 5, 15, 40, 90, 300, 1200, 4000, 90000))
                is_me = rng.random() < 0.45
                sender = OWNER if is_me else rng.choice(peers)
                roll = rng.random()
                kind, text = "text", "".join(rng.choice(WORDS) for _ in range(rng.randint(1, 10)))
                if roll < 0.06:
                    kind, text = "image", "[图片]"
                elif roll < 0.09:
                    kind, text = "sticker", "[贴贴]"
                elif roll < 0.10:
                    kind, text = "recall", "[撤回了一条消息]"
                elif roll < 0.11:
                    kind, text = "voice", "[语音]"
                elif roll < 0.115:
                    text += rng.choice(PII)
                lines.append(orjson.dumps({
                    "id": msg_id, "chat": chat, "peer": 900000 + c if group else 20000 + c, "sender": sender,
                    "sender_name": "我" if is_me else f"友{sender}", "is_me": is_me, "time": when, "kind": kind,
                    "text": text, "reply_to": None}, option=orjson.OPT_APPEND_NEWLINE))
            out.write(b"".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(__file__).parent / "out-clean")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    print_machine_speed()
    work = args.workdir
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    source = work / "messages.jsonl"
    started = time.perf_counter()
    generate(source, args.messages, args.chats)
    print(f"generated {args.messages:,} messages ({source.stat().st_size / 1e6:.0f} MB) "
          f"in {time.perf_counter() - started:.1f} s")
    for workers in ("0", "1"):
        cmd = [sys.executable, "-m", "qing", "clean", str(source), "-o", str(work / "dataset"), "--force",
               "--groups", "--workers", workers]
        runs = repeat(cmd, args.repeat)
        seconds, best, total, largest = runs.median, runs.best, runs.peak_total, runs.peak_largest
        report = orjson.loads((work / "dataset" / "report.json").read_bytes())
        print(f"qing clean --groups --workers {workers}: {seconds:6.2f} s  {args.messages / seconds:,.0f} messages/s "
              f"(best {args.messages / best:,.0f})  peak RSS {total:.0f} MB in all, {largest:.0f} MB largest "
              f"process; train {report['output']['train']:,}, eval {report['output']['eval']:,}, "
              f"{report['tokens']['total']:,} tokens, redacted {sum(report['pii_redacted'].values()):,}")
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    os.environ.setdefault("COLUMNS", "120")
    main()
