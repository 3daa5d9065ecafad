"""Time and peak memory of `qing.gguf.convert` on a synthetic ~1.4 GB Qwen3 checkpoint, and of llama.cpp's converter.

    python bench/bench_gguf.py [--llama-cpp DIR] [--layers 8] [--hidden 2048] [--outtype f16] [--keep DIR]

The checkpoint (bf16, random weights, Qwen3 vocabulary size, tied embeddings like Qwen3-1.7B, two shards) is
written straight to safetensors a slice at a time, so building it needs little memory. Each converter runs in
its own process; its peak RSS is the kernel's (getrusage of a fresh parent), its time the wall clock.
Targets: peak RSS <= 25% of the checkpoint size; time within 1.5x of llama.cpp's convert_hf_to_gguf.py.

llama.cpp's converter recognises a BPE pre-tokenizer by the hash of a tokenized test string, which the
tiny bench tokenizer does not have: it is run with that check answered "qwen2" (what qing reads from the
tokenizer's split regex), nothing else changed. With --compare both outputs are checked tensor by tensor.
"""

from __future__ import annotations

import argparse
import json
import math
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import print_machine_speed  # noqa: E402

PEAK = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
        "stderr=subprocess.PIPE); sys.stderr.buffer.write(p.stderr[-2000:] if p.returncode else b''); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)")
NATIVE = "import sys; from pathlib import Path; from qing.model.gguf import convert; " \
         "convert(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], force=True)"
LLAMA_CPP = ("import runpy, sys; ckpt = sys.argv.pop(1); sys.path[:0] = [ckpt, ckpt + '/gguf-py']; "
             "from conversion import base; base.TextModel.get_vocab_base_pre = lambda self, tok: 'qwen2'; "
             "sys.argv[0] = ckpt + '/convert_hf_to_gguf.py'; runpy.run_path(sys.argv[0], run_name='__main__')")


def bf16_rows(rng, rows: int, cols: int):
    import numpy as np

    w = rng.standard_normal((rows, cols), dtype=np.float32) * np.float32(0.02)
    return (w.view(np.uint32) >> 16).astype(np.uint16)


def write_safetensors(path: Path, tensors: list[tuple[str, tuple[int, ...]]], seed: int) -> int:
    """Random bf16 tensors (norms = 1.0), written a slice at a time; returns the file size."""
    import numpy as np

    rng = np.random.default_rng(seed)
    header, offset = {}, 0
    for name, shape in tensors:
        n = math.prod(shape) * 2
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        for name, shape in tensors:
            if len(shape) == 1:
                f.write(np.full(shape, 0x3F80, dtype=np.uint16).tobytes())  # bf16 1.0
                continue
            step = max(1, (16 << 20) // (4 * shape[1]))
            for r in range(0, shape[0], step):
                f.write(bf16_rows(rng, min(step, shape[0] - r), shape[1]).tobytes())
    return path.stat().st_size


def build_checkpoint(out: Path, layers: int, hidden: int, vocab: int = 151936) -> int:
    """A Qwen3-shaped bf16 checkpoint in two shards plus the tiny tokenizer; returns its size in bytes."""
    from qing.fixtures.tiny_model import train_tokenizer

    heads, kv_heads, head_dim, inter = hidden // 128, max(1, hidden // 256), 128, 3 * hidden
    config = {"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": hidden,
              "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kv_heads,
              "head_dim": head_dim, "intermediate_size": inter, "vocab_size": vocab, "rms_norm_eps": 1e-6,
              "max_position_embeddings": 40960, "rope_theta": 1000000.0, "tie_word_embeddings": True,
              "bos_token_id": 0, "eos_token_id": 2, "torch_dtype": "bfloat16", "hidden_act": "silu"}
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(config, indent=2))
    train_tokenizer().save_pretrained(out)

    def layer(i):
        p = f"model.layers.{i}."
        return [(p + "input_layernorm.weight", (hidden,)), (p + "post_attention_layernorm.weight", (hidden,)),
                (p + "self_attn.q_proj.weight", (heads * head_dim, hidden)),
                (p + "self_attn.k_proj.weight", (kv_heads * head_dim, hidden)),
                (p + "self_attn.v_proj.weight", (kv_heads * head_dim, hidden)),
                (p + "self_attn.o_proj.weight", (hidden, heads * head_dim)),
                (p + "self_attn.q_norm.weight", (head_dim,)), (p + "self_attn.k_norm.weight", (head_dim,)),
                (p + "mlp.gate_proj.weight", (inter, hidden)), (p + "mlp.up_proj.weight", (inter, hidden)),
                (p + "mlp.down_proj.weight", (hidden, inter))]

    half = layers // 2
    shards = [[("model.embed_tokens.weight", (vocab, hidden))] + [t for i in range(half) for t in layer(i)],
              [t for i in range(half, layers) for t in layer(i)] + [("model.norm.weight", (hidden,))]]
    weight_map, size = {}, 0
    for k, tensors in enumerate(shards):
        name = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
        size += write_safetensors(out / name, tensors, seed=k)
        weight_map.update({t: name for t, _ in tensors})
    (out / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    return size


def measure(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of CMD run in its own process."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", PEAK, *cmd], stdout=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    kb, rc = proc.stdout.split()[-2:]
    if rc != "0":
        sys.exit(f"{' '.join(cmd[:3])} failed (exit {rc})")
    return seconds, int(kb) / 1024


def compare(a: Path, b: Path) -> str:
    import numpy as np
    from gguf import GGUFReader

    ra, rb = GGUFReader(str(a)), GGUFReader(str(b))
    ta, tb = {t.name: t for t in ra.tensors}, {t.name: t for t in rb.tensors}
    if ta.keys() != tb.keys():
        return f"different tensors: {sorted(ta.keys() ^ tb.keys())}"
    bad = [n for n in ta if ta[n].tensor_type != tb[n].tensor_type
           or not np.array_equal(np.asarray(ta[n].data).view(np.uint8), np.asarray(tb[n].data).view(np.uint8))]
    return "identical tensors" if not bad else f"{len(bad)} tensors differ, e.g. {bad[:3]}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llama-cpp", type=Path, help="a llama.cpp checkout: also time its convert_hf_to_gguf.py")
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--hidden", type=int, default=2048)
    ap.add_argument("--outtype", default="f16")
    ap.add_argument("--runs", type=int, default=2, help="runs of each converter; the best time is reported")
    ap.add_argument("--compare", action="store_true", help="check both outputs hold the same tensors")
    ap.add_argument("--keep", type=Path, help="build the checkpoint here and keep it (reused when present)")
    args = ap.parse_args()

    print_machine_speed()
    with tempfile.TemporaryDirectory(prefix="bench-gguf-") as tmp:
        model = args.keep or Path(tmp) / "model"
        started = time.perf_counter()
        if (model / "model.safetensors.index.json").exists():
            size = sum(p.stat().st_size for p in model.glob("*.safetensors"))
        else:
            size = build_checkpoint(model, args.layers, args.hidden)
        print(f"checkpoint: {size / 2**30:.2f} GiB bf16 Qwen3 ({args.layers} layers, hidden {args.hidden}, "
              f"vocab 151936, 2 shards), built in {time.perf_counter() - started:.1f} s")
        size_mb = size / 2**20
        ours_out, theirs_out = Path(tmp) / "qing.gguf", Path(tmp) / "llama-cpp.gguf"
        runs = {}
        for label, cmd in [("qing.model.gguf.convert", [sys.executable, "-c", NATIVE, str(model), str(ours_out),
                                                  args.outtype])] + (
                [("llama.cpp convert_hf_to_gguf.py", [sys.executable, "-c", LLAMA_CPP, str(args.llama_cpp),
                                                      str(model), "--outfile", str(theirs_out), "--outtype",
                                                      args.outtype])] if args.llama_cpp else []):
            results = [measure(cmd) for _ in range(args.runs)]
            best, peak = min(r[0] for r in results), max(r[1] for r in results)
            runs[label] = best
            print(f"{label:34s} best {best:6.1f} s of {args.runs} ({size / 2**20 / best:5.0f} MB/s), "
                  f"peak RSS {peak:7.0f} MB = {100 * peak / size_mb:4.1f}% of the checkpoint")
        if args.llama_cpp:
            ratio = runs["qing.model.gguf.convert"] / runs["llama.cpp convert_hf_to_gguf.py"]
            print(f"time qing / llama.cpp: {ratio:.2f}x (target <= 1.5x)")
            if args.compare:
                print(f"outputs: {compare(ours_out, theirs_out)}")


if __name__ == "__main__":
    main()
