"""Bench `qing eval`: seconds per 100 eval contexts (tuned + base: fit and one generated reply each).

CPU: the tiny model of the tests (qing.tinymodel), a LoRA trained for a few steps on invented chats,
evaluated on --contexts eval samples. CUDA (when torch sees a GPU): a random Qwen3 of Qwen3-0.6B's
shape (bench_finetune_gpu.build, nothing downloaded), evaluated with the base in bf16 and in 4-bit.
A random or barely trained model never ends its turn, so every reply runs to --max-new-tokens: this is
the worst case of the generation part; a tuned model that ends its turns is faster. Not a test.
Usage: python bench/bench_eval.py [--contexts 100] [--max-new-tokens 128] [--cpu-only]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # see tests/conftest.py: 2 spinning OpenMP threads are slower

from bench_finetune_gpu import LINES  # noqa: E402

from qing.fixtures import tiny_model as tinymodel  # noqa: E402
from qing.model import eval as evaluation
from qing.model.finetune import FinetuneOptions, finetune  # noqa: E402


def write_chats(data: Path, train: int, evals: int) -> Path:
    rng = random.Random(0)
    data.mkdir(parents=True, exist_ok=True)
    for name, count in (("train", train), ("eval", evals)):
        with open(data / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for _ in range(count):
                turns = [{"role": "system", "content": "你是小晴，正在和朋友聊天。"}]
                for _ in range(rng.randint(1, 4)):
                    turns.append({"role": "user", "content": "".join(rng.choices(LINES, k=rng.randint(1, 3)))})
                    turns.append({"role": "assistant", "content": "".join(rng.choices(LINES, k=rng.randint(1, 2)))})
                f.write(json.dumps({"messages": turns}, ensure_ascii=False) + "\n")
    return data


def timed_eval(run: Path, contexts: int, opts: evaluation.EvalOptions) -> dict:
    started = time.perf_counter()
    report = evaluation.evaluate(run, opts=opts)
    seconds = time.perf_counter() - started
    return {"contexts": report["contexts"], "seconds": round(seconds, 1),
            "seconds_per_100_contexts": round(seconds / report["contexts"] * 100, 1),
            "tuned_ppl": round(report["fit"]["tuned"]["perplexity"], 2),
            "base_ppl": round(report["fit"]["base"]["perplexity"], 2),
            "tuned_median_len": report["style"]["length_median"]["tuned"]}


def cpu(tmp: Path, contexts: int, max_new_tokens: int) -> None:
    import torch

    model = tinymodel.build(tmp / "tiny")
    data = write_chats(tmp / "data", 64, contexts)
    opts = FinetuneOptions(model=str(model), quant="none", max_steps=20, gradient_accumulation_steps=1,
                           learning_rate=1e-2, lora_r=8, max_length=256, eval_steps=10**9, save_steps=10**9)
    finetune(data, tmp / "run", opts)
    result = timed_eval(tmp / "run", contexts, evaluation.EvalOptions(max_new_tokens=max_new_tokens, limit=None))
    print(f"CPU tiny Qwen3 ({torch.get_num_threads()} thread(s)), max_new_tokens {max_new_tokens}: "
          f"{json.dumps(result)}")


def cuda(tmp: Path, contexts: int, max_new_tokens: int) -> None:
    import torch
    from bench_finetune_gpu import build

    model_dir, _ = build(tmp)
    data = write_chats(tmp / "gpu-data", 64, contexts)
    opts = FinetuneOptions(model=str(model_dir), quant="none", max_steps=2, gradient_accumulation_steps=1,
                           max_length=1024, eval_steps=10**9, save_steps=10**9)
    finetune(data, tmp / "gpu-run", opts)
    for quant in ("none", "4bit"):
        torch.cuda.reset_peak_memory_stats()
        result = timed_eval(tmp / "gpu-run", contexts, evaluation.EvalOptions(
            max_new_tokens=max_new_tokens, limit=None, quant=quant))
        result["peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        base = "bf16" if quant == "none" else quant
        print(f"CUDA {torch.cuda.get_device_name()} random Qwen3-0.6B shape, base {base}, "
              f"max_new_tokens {max_new_tokens}: {json.dumps(result)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contexts", type=int, default=100)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--cpu-only", action="store_true")
    args = parser.parse_args()
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        cpu(Path(tmp), args.contexts, args.max_new_tokens)
        if torch.cuda.is_available() and not args.cpu_only:
            cuda(Path(tmp), args.contexts, args.max_new_tokens)


if __name__ == "__main__":
    main()
