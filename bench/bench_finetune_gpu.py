"""Bench `qing finetune` on a CUDA GPU without downloading anything: tokens/s and peak memory, 4bit vs bf16.

Builds a random Qwen3 of about 0.6B parameters in place (Qwen3-0.6B's shape; weights random, the
tiny trained tokenizer of qing.tinymodel), a dataset of invented chats long enough to fill rows of
--max-length tokens, and trains a LoRA for --steps steps with each --quant, each in its own process
so peak memory is its own. Prints trained tokens/s and peak GPU memory. Run it whenever a GPU is at
hand and put the numbers in the README. Not a test.
Usage: python bench/bench_finetune_gpu.py [--steps 20] [--max-length 2048] [--quants 4bit,none]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

SHAPE = dict(hidden=1024, layers=28, heads=16, kv_heads=8, head_dim=128, intermediate=3072)  # Qwen3-0.6B
LINES = ["今天下午我们去图书馆复习吧", "好的好的，几点？", "哈哈哈哈哈", "明天见", "周末去爬山吗？", "下雨了，改天吧",
         "你作业写完了没", "还没呢，救命", "晚安", "早啊"]


def build(tmp: Path) -> tuple[Path, Path]:
    import torch
    from transformers import AutoModelForCausalLM, Qwen3Config

    from qing import tinymodel

    model_dir = tmp / "qwen3-0.6b-random"
    tokenizer = tinymodel.train_tokenizer()
    config = Qwen3Config(vocab_size=151936, hidden_size=SHAPE["hidden"], num_hidden_layers=SHAPE["layers"],
                         num_attention_heads=SHAPE["heads"], num_key_value_heads=SHAPE["kv_heads"],
                         head_dim=SHAPE["head_dim"], intermediate_size=SHAPE["intermediate"],
                         max_position_embeddings=40960, tie_word_embeddings=True,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    print(f"model: random Qwen3, {sum(p.numel() for p in model.parameters()) / 1e9:.2f}B parameters")
    rng = random.Random(0)
    data = tmp / "data"
    data.mkdir()
    with open(data / "train.jsonl", "w", encoding="utf-8") as f:
        for _ in range(4000):
            turns = [{"role": "system", "content": "你是小晴，正在和朋友聊天。"}]
            for _ in range(rng.randint(2, 12)):
                turns.append({"role": "user", "content": "".join(rng.choices(LINES, k=rng.randint(1, 6)))})
                turns.append({"role": "assistant", "content": "".join(rng.choices(LINES, k=rng.randint(1, 6)))})
            f.write(json.dumps({"messages": turns}, ensure_ascii=False) + "\n")
    return model_dir, data


def one(model_dir: str, data: str, quant: str, steps: int, max_length: int) -> None:
    import torch

    from qing.finetune import FinetuneOptions, finetune

    opts = FinetuneOptions(model=model_dir, quant=quant, max_steps=steps, gradient_accumulation_steps=1,
                           max_length=max_length, logging_steps=steps, eval_steps=10**9, save_steps=10**9)
    torch.cuda.reset_peak_memory_stats()
    result = finetune(Path(data), Path(data).parent / f"run-{quant}", opts)
    peak = torch.cuda.max_memory_allocated() / 2**30
    print(json.dumps({"quant": quant, "tokens_per_second": round(result.tokens_per_second),
                      "peak_gib": round(peak, 2), "steps": result.steps, "gpu": torch.cuda.get_device_name()}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--max-length", type=int, default=2048)
    parser.add_argument("--quants", default="4bit,none")
    parser.add_argument("--one", nargs=3, metavar=("MODEL", "DATA", "QUANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        return one(*args.one, args.steps, args.max_length)
    import torch

    if not torch.cuda.is_available():
        sys.exit("this bench needs a CUDA GPU; bench/bench_finetune.py measures the CPU side.")
    with tempfile.TemporaryDirectory() as tmp:
        model_dir, data = build(Path(tmp))
        for quant in args.quants.split(","):
            out = subprocess.run([sys.executable, __file__, "--one", str(model_dir), str(data), quant, "--steps",
                                  str(args.steps), "--max-length", str(args.max_length)],
                                 capture_output=True, text=True)
            line = out.stdout.strip().splitlines()[-1] if out.returncode == 0 else out.stderr[-800:]
            print(f"--quant {quant:5s} max length {args.max_length}: {line}")


if __name__ == "__main__":
    main()
