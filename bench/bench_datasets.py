"""Would Hugging Face `datasets` tokenize finetune's samples as fast and as light as today's lists? Not a test.

Today (qing.model.training_rows.encode_samples): the samples are a list, chat_format.encode_many renders them and sends
the stretches of 2,000 samples at a time to the fast tokenizer in one batched call (no attention masks), and the
(ids, labels) come back as lists. The convention instead: Dataset.from_list(samples).map(encode, batched=True,
num_proc=P), and the columns read back as lists for packing. Each way runs in a process of its own (its peak RSS,
worker processes included, is measured), in turns, with the tiny tokenizer of qing.fixtures.tiny_model; both must
give the same ids and labels. Also prints the start-up cost of `import datasets` (python -X importtime).
Usage: python bench/bench_datasets.py [--samples 5000 20000 50000] [--rounds R] [--num-proc 1 2]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from measure import print_machine_speed, timed  # noqa: E402

WORDS = ("在吗 在的 今天 吃什么 我也不知道 你定吧 哈哈哈 明天见 好的 晚安 周末 爬山 下雨了 改天吧 作业 写完了没 "
         "还没呢 救命 笔记 发我 收到 谢谢 最近 怎么样 挺好的 有点忙 图书馆 见 [微笑] ok lol").split()
SYSTEM = "你是小晴，正在和朋友聊天。用小晴平时说话的语气和习惯回复。"


def make_samples(count: int, seed: int = 5) -> list[list[dict]]:
    """Chat samples shaped like qing clean's: a system prompt, 1-8 exchanges of a few words to a few sentences."""
    rng = random.Random(seed)
    say = lambda: "".join(rng.choice(WORDS) for _ in range(rng.choice((1, 2, 3, 5, 8, 20))))  # noqa: E731
    samples = []
    for _ in range(count):
        messages = [{"role": "system", "content": SYSTEM}]
        for _ in range(rng.randint(1, 8)):
            messages += [{"role": "user", "content": say()}, {"role": "assistant", "content": say()}]
        samples.append(messages)
    return samples


def child(way: str, count: int, num_proc: int, tokenizer_dir: str, out: str) -> None:
    """One way of tokenizing, in this process: prints seconds (after imports and the samples are made)."""
    started = time.perf_counter()
    from transformers import AutoTokenizer

    from qing.model import chat_format as chat

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    eot = chat.end_of_turn(tokenizer)
    samples = make_samples(count)
    if way == "datasets":
        import datasets
    imported = time.perf_counter()
    if way == "lists":
        encoded = chat.encode_many(tokenizer, samples, eot)
    else:
        datasets.disable_progress_bars()

        def encode(batch):
            pairs = chat.encode_many(tokenizer, batch["messages"], eot)
            return {"input_ids": [ids for ids, _ in pairs], "labels": [labels for _, labels in pairs]}

        data = datasets.Dataset.from_list([{"messages": m} for m in samples])
        data = data.map(encode, batched=True, num_proc=num_proc if num_proc > 1 else None,
                        remove_columns=["messages"])
        encoded = list(zip(data["input_ids"], data["labels"]))  # make_rows packs lists
        encoded = [(list(ids), list(labels)) for ids, labels in encoded]
    seconds = time.perf_counter() - imported
    Path(out).write_text(f"{seconds} {imported - started} "
                         f"{hashlib.sha256(pickle.dumps(encoded)).hexdigest()} {sum(len(i) for i, _ in encoded)}")


def import_seconds(module: str, code: str | None = None) -> float:
    """Cumulative import time of MODULE while running CODE (default: import MODULE) by python -X importtime, median
    of 3; 0 when CODE does not import it."""
    runs = []
    for _ in range(3):
        err = subprocess.run([sys.executable, "-X", "importtime", "-c", code or f"import {module}"],
                             capture_output=True, text=True, check=True).stderr
        if not re.search(rf"\|\s*{re.escape(module)}$", err, re.M):
            return 0.0
        line = [x for x in err.splitlines() if re.search(rf"\|\s*{re.escape(module)}$", x)][-1]
        runs.append(int(line.split("|")[1]) / 1e6)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, nargs="+", default=[5_000, 20_000, 50_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--num-proc", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        way, count, num_proc, tokenizer_dir, out = args.child
        return child(way, int(count), int(num_proc), tokenizer_dir, out)
    print_machine_speed()
    for module in ("transformers", "datasets"):
        print(f"import {module}: {import_seconds(module):.2f} s (python -X importtime, cumulative)")
    print(f"of `from transformers import Trainer`, datasets (imported by it whenever installed): "
          f"{import_seconds('datasets', 'from transformers import Trainer'):.2f} s")
    from qing.fixtures import tiny_model

    ways = [("lists", 1)] + [("datasets", p) for p in args.num_proc]
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer_dir = Path(tmp) / "tokenizer"
        tiny_model.train_tokenizer().save_pretrained(tokenizer_dir)
        env = {**os.environ, "HF_DATASETS_CACHE": str(Path(tmp) / "cache")}
        for count in args.samples:
            results: dict[tuple, list] = {w: [] for w in ways}
            for r in range(args.rounds):
                for way, num_proc in (ways if r % 2 == 0 else ways[::-1]):
                    out = Path(tmp) / "out.txt"
                    cmd = [sys.executable, __file__, "--child", way, str(count), str(num_proc), str(tokenizer_dir),
                           str(out)]
                    wall, peak, _ = timed(cmd, env)
                    seconds, startup, digest, tokens = out.read_text().split()
                    results[(way, num_proc)].append((float(seconds), float(startup), wall, peak, digest))
            digests = {run[4] for runs in results.values() for run in runs}
            print(f"{count:,} samples ({int(tokens):,} tokens), median of {args.rounds}; same ids and labels: "
                  f"{len(digests) == 1}")
            for (way, num_proc), runs in results.items():
                name = f"datasets num_proc={num_proc}" if way == "datasets" else way
                med = lambda i: statistics.median(run[i] for run in runs)  # noqa: E731
                print(f"  {name:22} tokenize {med(0):6.2f} s  imports+setup {med(1):5.2f} s  "
                      f"whole process {med(2):6.2f} s  peak RSS {max(run[3] for run in runs):5.0f} MB")


if __name__ == "__main__":
    main()
