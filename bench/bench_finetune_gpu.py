"""Bench `qing finetune` on a CUDA GPU without downloading anything: tokens/s, peak memory and MFU.

Builds a random model of a real shape on the GPU (Qwen3-8B by default, 8.19B parameters; the tiny byte-level
tokenizer of qing.tinymodel) and saves it once, writes a dataset of invented chats, then trains each of --runs
in its own process, so that each peak memory is its own:

  qing-4bit, qing-8bit, qing-none   `qing finetune` with its defaults and that --quant
  qing-4bit-noliger, ...            the same with --no-liger (and so one row per micro-step)
  qing-4bit-sdpa, ...               the same with SDPA's dense mask instead of qing.attention for packed rows
  recipe-4bit, recipe-8bit          the original project's recipe: HF Trainer, bitsandbytes, one sample per
                                    micro-step (no packing, DataCollatorForSeq2Seq), peft's
                                    prepare_model_for_kbit_training, LoRA r16 on the 7 projections, gradient
                                    checkpointing

Every run steps the optimizer after each micro-step (a LoRA's optimizer step costs well under 1% of a micro-step)
so that micro-steps can be timed one by one; qing's runs keep their automatic rows per micro-step. tokens/s is
the steady state: the tokens fed over the micro-steps after --warmup ones (Triton compiles and autotunes in the
first). MFU = 6 x parameters x tokens/s over the bf16 matmul rate measured at the start of this run.
A run named profile (with --profile) prints a torch.profiler table of qing's 4bit micro-step.
--cap-gib 22.5 caps every run's CUDA memory as a 24 GB card would (torch's per-process memory fraction, which
qing's automatic batch size reads too); a run named NAME:22.5 is capped alone.
Not a test. Usage:
  python bench/bench_finetune_gpu.py [--shape 8b|0.6b] [--runs qing-4bit:22.5,recipe-4bit,...] [--cap-gib 22.5]
                                     [--steps 6] [--json results.json] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHAPES = {  # Qwen3's published configurations
    "8b": dict(hidden_size=4096, num_hidden_layers=36, num_attention_heads=32, num_key_value_heads=8, head_dim=128,
               intermediate_size=12288, tie_word_embeddings=False),
    "0.6b": dict(hidden_size=1024, num_hidden_layers=28, num_attention_heads=16, num_key_value_heads=8, head_dim=128,
                 intermediate_size=3072, tie_word_embeddings=True),
}
RUNS = "qing-4bit:22.5,recipe-4bit,profile,qing-none,recipe-8bit,qing-4bit-noliger"  # NAME[:cap in GiB for that run]
LINES = ["今天下午我们去图书馆复习吧", "好的好的，几点？", "哈哈哈哈哈", "明天见", "周末去爬山吗？", "下雨了，改天吧",
         "你作业写完了没", "还没呢，救命", "晚安", "早啊"]


def build(tmp: Path, shape: str) -> tuple[Path, Path, int]:
    """A random model of SHAPE saved in bf16, and a dataset; returns (model dir, dataset dir, parameters)."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen3Config

    from qing.fixtures import tiny_model as tinymodel

    model_dir = tmp / f"qwen3-{shape}-random"
    tokenizer = tinymodel.train_tokenizer()
    config = Qwen3Config(vocab_size=151936, max_position_embeddings=40960, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, **SHAPES[shape])
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    parameters = sum(p.numel() for p in model.parameters())
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    del model
    torch.cuda.empty_cache()
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
    return model_dir, data, parameters


def matmul_tflops() -> float:
    """The bf16 rate of an 8192^3 matrix product on random data: the ceiling MFU is taken against."""
    import torch

    a, b = (torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16) for _ in range(2))
    for _ in range(3):
        a @ b
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(10):
        a @ b
    end.record()
    torch.cuda.synchronize()
    return 10 * 2 * 8192**3 / (start.elapsed_time(end) / 1e3) / 1e12


class Clock:
    """Wall time and tokens fed after each micro-step; the steady-state rate leaves the first `warmup` out."""

    def __init__(self, warmup: int):
        self.warmup, self.marks = warmup, []

    def mark(self, tokens: int) -> None:
        import torch

        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self.marks.append((time.perf_counter(), tokens))

    def tokens_per_second(self) -> float:
        (t0, n0), (t1, n1) = self.marks[self.warmup - 1], self.marks[-1]
        return (n1 - n0) / (t1 - t0)


def qing_run(model_dir: Path, data: Path, quant: str, liger: bool, sdpa: bool, steps: int, warmup: int) -> dict:
    from qing.model import base_model
    from qing.model.finetune import FinetuneOptions, finetune

    base_model.PACKED_ATTENTION = not sdpa

    clock, notes = Clock(warmup), []
    opts = FinetuneOptions(model=str(model_dir), quant=quant, liger=liger, max_steps=steps + warmup,
                           gradient_accumulation_steps=1, logging_steps=1, eval_steps=10**9, save_steps=10**9)
    finetune(data, data.parent / f"run-{quant}-{liger}", opts, force=True, note=notes.append,
             progress=lambda entry: clock.mark(entry["tokens"]) if "loss" in entry else None)
    return {"tokens_per_second": clock.tokens_per_second(), "rows_per_micro_step": opts.per_device_train_batch_size,
            "start_line": next((n for n in notes if n.startswith("model ")), "")}


def recipe_run(model_dir: Path, data: Path, quant: str, steps: int, warmup: int) -> dict:
    """The original project's QLoRA recipe, written out with the libraries it used."""
    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    from transformers import (
        AutoModelForCausalLM,
        BitsAndBytesConfig,
        DataCollatorForSeq2Seq,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    from qing.dataset.samples import read_samples
    from qing.model import chat_format as chat
    from qing.model.finetune import DEFAULT_TARGETS

    tokenizer = chat.load_tokenizer(model_dir)
    samples = read_samples(data / "train.jsonl")
    rows = [{"input_ids": ids[:2048], "labels": labels[:2048], "attention_mask": [1] * len(ids[:2048])}
            for ids, labels in chat.encode_many(tokenizer, samples, chat.end_of_turn(tokenizer))]
    random.Random(0).shuffle(rows)
    quantization = (BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                       bnb_4bit_compute_dtype=torch.bfloat16) if quant == "4bit"
                    else BitsAndBytesConfig(load_in_8bit=True))
    model = AutoModelForCausalLM.from_pretrained(model_dir, quantization_config=quantization, dtype=torch.bfloat16,
                                                 device_map={"": 0 if torch.cuda.is_available() else "cpu"})
    model.config.use_cache = False
    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True)
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, task_type="CAUSAL_LM",
                                             target_modules=DEFAULT_TARGETS.split(",")))
    clock = Clock(warmup)
    fed = [0]
    collate = DataCollatorForSeq2Seq(tokenizer, padding=True)

    def counting(features):
        fed[0] += sum(len(f["input_ids"]) for f in features)
        return collate(features)

    class Tick(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            clock.mark(fed[0])

    args = TrainingArguments(output_dir=str(data.parent / f"recipe-{quant}"), per_device_train_batch_size=1,
                             gradient_accumulation_steps=1, max_steps=steps + warmup, learning_rate=2e-4,
                             bf16=torch.cuda.is_available(), use_cpu=not torch.cuda.is_available(),
                             gradient_checkpointing=True, logging_steps=10**9, save_strategy="no", report_to="none",
                             remove_unused_columns=False, disable_tqdm=True)
    Trainer(model=model, args=args, train_dataset=rows, data_collator=counting, callbacks=[Tick()]).train()
    return {"tokens_per_second": clock.tokens_per_second(), "rows_per_micro_step": 1}


def profile(model_dir: Path, data: Path, micro_steps: int = 2) -> None:
    """torch.profiler over qing's 4bit micro-steps (the model prepared as finetune prepares it), by device time."""
    import torch
    from torch.profiler import ProfilerActivity

    from qing.dataset.samples import read_samples
    from qing.model import chat_format as chat
    from qing.model.base_model import load_base
    from qing.model.finetune import FinetuneOptions, _with_lora, fused_kernels, micro_batching
    from qing.model.training_rows import Collator, encode_samples, make_rows

    opts = FinetuneOptions(model=str(model_dir))
    tokenizer = chat.load_tokenizer(model_dir)
    encoded, _ = encode_samples(tokenizer, read_samples(data / "train.jsonl"), chat.end_of_turn(tokenizer),
                                opts.max_length)
    rows = make_rows(encoded, opts.max_length, True, 1, 0).rows
    base = load_base(model_dir, "4bit", packed=True)
    fused = fused_kernels(base, opts)
    per_step, _ = micro_batching(opts, base, fused)
    model = _with_lora(base, opts)
    model.train()
    collate = Collator(tokenizer.pad_token_id, packing=True)

    def step(i):
        batch = {k: v.cuda() for k, v in collate(rows[i * per_step:(i + 1) * per_step]).items()}
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(**batch).loss
        loss.backward()
        return batch["input_ids"].numel()

    for i in range(2):
        step(i)
    torch.cuda.synchronize()
    started = time.perf_counter()
    with torch.profiler.profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        tokens = sum(step(2 + i) for i in range(micro_steps))
        torch.cuda.synchronize()
    wall = time.perf_counter() - started
    events = prof.key_averages()
    kernels = [e for e in events if e.device_type.name == "CUDA"]
    busy = sum(e.self_device_time_total for e in kernels) / 1e6
    launches = sum(e.count for e in events if e.key in ("cudaLaunchKernel", "cuLaunchKernel", "cudaLaunchKernelExC"))
    print(f"profile: {micro_steps} micro-steps of {tokens // micro_steps} tokens, Liger {fused}: wall {wall:.2f} s "
          f"(profiler on), GPU busy {busy:.2f} s, {launches / micro_steps:,.0f} kernel launches per micro-step")
    print(events.table(sort_by="self_device_time_total", row_limit=18, max_name_column_width=60))


def child(args) -> None:
    import torch

    if args.cap_gib:
        total = torch.cuda.get_device_properties(0).total_memory
        torch.cuda.set_per_process_memory_fraction(args.cap_gib * 2**30 / total)
    model_dir, data = Path(args.model_dir), Path(args.data)
    if args.child == "profile":
        return profile(model_dir, data)
    kind, quant, *rest = args.child.split("-")
    if kind == "qing":
        result = qing_run(model_dir, data, quant, liger="noliger" not in rest, sdpa="sdpa" in rest, steps=args.steps,
                          warmup=args.warmup)
    else:
        result = recipe_run(model_dir, data, quant, steps=args.steps * 2, warmup=args.warmup + 1)
    result.update(run=args.child, peak_allocated_gib=torch.cuda.max_memory_allocated() / 2**30,
                  peak_reserved_gib=torch.cuda.max_memory_reserved() / 2**30)
    print("RESULT " + json.dumps(result, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", choices=sorted(SHAPES), default="8b")
    parser.add_argument("--runs", default=RUNS)
    parser.add_argument("--steps", type=int, default=6, help="timed micro-steps per qing run (twice that for the "
                                                               "recipe, whose micro-steps hold one sample)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--cap-gib", type=float, default=None)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--budget-s", type=float, default=None, help="skip runs that would start after this")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    import torch

    if not torch.cuda.is_available():
        sys.exit("this bench needs a CUDA GPU; bench/bench_finetune.py measures the CPU side.")
    started = time.perf_counter()
    gpu = torch.cuda.get_device_name()
    peak = matmul_tflops()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir, data, parameters = build(Path(tmp), args.shape)
        print(f"{gpu}: bf16 matmul {peak:.0f} TFLOP/s; random Qwen3 {args.shape}, {parameters / 1e9:.2f}B parameters, "
              f"built in {time.perf_counter() - started:.0f} s; cap {args.cap_gib or 'none'} GiB", flush=True)
        results = []
        runs = [r for r in args.runs.split(",") if args.profile or r != "profile"]
        for spec in runs:
            run, _, cap = spec.partition(":")
            cap = float(cap) if cap else args.cap_gib
            if args.budget_s and time.perf_counter() - started > args.budget_s:
                print(f"{run}: skipped (past --budget-s)", flush=True)
                continue
            begun = time.perf_counter()
            cmd = [sys.executable, __file__, "--child", run, "--model-dir", str(model_dir), "--data", str(data),
                   "--steps", str(args.steps), "--warmup", str(args.warmup)]
            if cap:
                cmd += ["--cap-gib", str(cap)]
            out = subprocess.run(cmd, capture_output=True, text=True)
            lines = out.stdout.splitlines()
            found = [json.loads(line[7:]) for line in lines if line.startswith("RESULT ")]
            if run == "profile":
                print("\n".join(lines) if out.returncode == 0 else out.stderr[-3000:], flush=True)
                continue
            if out.returncode != 0 or not found:
                print(f"{run}: failed\n{out.stderr[-3000:]}", flush=True)
                continue
            r = found[0]
            r["mfu"] = 6 * parameters * r["tokens_per_second"] / (peak * 1e12)
            r["cap_gib"] = cap
            r["seconds"] = round(time.perf_counter() - begun)
            results.append(r)
            print(f"{run}: {json.dumps(r, ensure_ascii=False)}", flush=True)
    print(f"\n{gpu}, random Qwen3 {args.shape} ({parameters / 1e9:.2f}B), cap {args.cap_gib or 'none'} GiB, "
          f"bf16 matmul {peak:.0f} TFLOP/s")
    print(f"{'run':20s} {'cap GiB':>7s} {'tokens/s':>9s} {'rows':>4s} {'peak alloc':>10s} {'reserved':>9s} {'MFU':>6s}")
    for r in results:
        print(f"{r['run']:20s} {r['cap_gib'] or '-':>7} {r['tokens_per_second']:9,.0f} {r['rows_per_micro_step']:4d} "
              f"{r['peak_allocated_gib']:8.1f} G {r['peak_reserved_gib']:7.1f} G {r['mfu']:6.1%}")
    if args.json:
        args.json.write_text(json.dumps({"gpu": gpu, "shape": args.shape, "parameters": parameters,
                                         "matmul_tflops": peak, "cap_gib": args.cap_gib, "runs": results}, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
