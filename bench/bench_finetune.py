"""Bench `qing finetune` data path on the CPU: padding share and trained tokens/s, packing on vs off.

A generated messages.jsonl (the clean bench's invented chats) goes through `qing clean`, then the
samples are tokenized with the tiny model's tokenizer (qing.tinymodel). Prints how much of what
the model is fed is padding for the original project's one-sample-per-row layout and for ours, then
trains a small random Qwen3 for the same number of steps with and without packing and prints
trained tokens/s (tokens in the rows fed, padding excluded). Not a test.
Usage: python bench/bench_finetune.py [--messages N] [--steps S] [--max-length L]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # see tests/conftest.py: 2 spinning OpenMP threads are slower

from bench_clean import generate  # noqa: E402
from measure import print_machine_speed  # noqa: E402

from qing.dataset.samples import read_samples
from qing.fixtures import tiny_model as tinymodel  # noqa: E402
from qing.model import chat_format as chat
from qing.model.finetune import FinetuneOptions, finetune  # noqa: E402
from qing.model.training_rows import encode_samples, make_rows  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=60_000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--max-length", type=int, default=2048)
    args = parser.parse_args()
    print_machine_speed()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = tinymodel.build(tmp / "model", hidden=256, layers=4, heads=4, kv_heads=2, head_dim=64,
                                intermediate=768)
        generate(tmp / "messages.jsonl", args.messages, chats=60)
        subprocess.run([sys.executable, "-m", "qing", "clean", str(tmp / "messages.jsonl"), "-o", str(tmp / "data"),
                        "--tokenizer", str(model), "--max-tokens", str(args.max_length)], check=True,
                       capture_output=True)
        tokenizer = chat.load_tokenizer(model)
        samples = read_samples(tmp / "data" / "train.jsonl")
        encoded, too_long = encode_samples(tokenizer, samples, chat.end_of_turn(tokenizer), args.max_length)
        lengths = [len(ids) for ids, _ in encoded]
        mean = sum(lengths) / len(lengths)
        print(f"{len(encoded):,} samples, {sum(lengths):,} tokens, mean {mean:.0f} tokens, "
              f"max {max(lengths)}, {too_long} longer than {args.max_length}")
        print(f"original layout, one sample per row padded to {args.max_length}: "
              f"padding {1 - mean / args.max_length:.1%} of the positions")
        for batch in (1, 8):
            plain = make_rows(encoded, args.max_length, False, batch, too_long)
            print(f"no packing, batch {batch} padded to its longest sample: padding {plain.padding_share:.1%}, "
                  f"{len(plain.rows):,} rows")
        packed = make_rows(encoded, args.max_length, True, 1, too_long)
        print(f"packing: {len(packed.rows):,} rows of <= {args.max_length}, {packed.fill:.1%} full, "
              f"padding {packed.padding_share:.1%} (rows are concatenated, never padded)")
        for packing in (False, True):
            opts = FinetuneOptions(model=str(model), quant="none", max_steps=args.steps, gradient_accumulation_steps=1,
                                   max_length=args.max_length, packing=packing, logging_steps=args.steps,
                                   eval_steps=10**9, save_steps=10**9, gradient_checkpointing=True)
            result = finetune(tmp / "data", tmp / f"run-{packing}", opts)
            print(f"training {args.steps} steps, packing {'on ' if packing else 'off'}: "
                  f"{result.tokens_per_second:,.0f} tokens/s, {result.seconds:.1f} s")


if __name__ == "__main__":
    main()
