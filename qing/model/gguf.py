"""Hugging Face model directory -> GGUF, with an Ollama Modelfile beside it (qing.model.modelfile writes it;
qing.model.quantize quantizes the GGUF).

`convert` is a native converter built on the `gguf` package for the architectures qing fine-tunes
(Qwen2, Qwen3, Llama with a byte-level BPE tokenizer). It reads safetensors a slice of rows at a
time and writes each slice as soon as it is converted, so its memory stays near a few tens of MB
whatever the model's size. Other architectures go through a llama.cpp checkout's
`convert_hf_to_gguf.py` when one is given with `llama_cpp`. The tokenizer's part of the file is
qing.model.gguf_tokenizer's.

Every output is written under a temporary name beside its final path and renamed when complete.
"""

from __future__ import annotations

import json
import math
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from qing.errors import QingError
from qing.files import atomic_output, check_output, human_size, load_json_object
from qing.i18n import _
from qing.model.gguf_tokenizer import add_tokenizer, pre_tokenizer
from qing.model.modelfile import (  # noqa: F401 (read as gguf.X)
    gguf_chat_template,
    ollama_template,
    template_kind,
    write_modelfile,
)
from qing.model.options import OUTTYPES
from qing.model.run import Run, is_run

# HF architecture -> (gguf MODEL_ARCH name, undo llama's q/k rotary permutation)
NATIVE_ARCHS = {
    "Qwen2ForCausalLM": ("QWEN2", False),
    "Qwen3ForCausalLM": ("QWEN3", False),
    "LlamaForCausalLM": ("LLAMA", True),
}

GGUF_MAGIC = b"GGUF"
_CHUNK_BYTES = 32 << 20  # float32 bytes converted at a time
_SAFETENSORS_DTYPES = {"BF16": ("<u2", 2), "F16": ("<f2", 2), "F32": ("<f4", 4)}

Progress = Callable[[int, int], None]  # (bytes written, bytes in all)


# --------------------------------------------------------------------------- convert


def convert(model_dir: Path, out: Path, outtype: str = "f16", *, llama_cpp: Path | None = None, force: bool = False,
            progress: Progress | None = None) -> Path:
    """Convert the Hugging Face model in MODEL_DIR to the GGUF file OUT; return OUT.

    outtype: f16, bf16, q8_0 or f32 (1-D tensors and norms stay f32, as in llama.cpp).
    Architectures without a native converter need `llama_cpp`, a llama.cpp checkout.
    """
    model_dir, out = Path(model_dir), Path(out)
    outtype = outtype.lower()
    if outtype not in OUTTYPES:
        raise QingError(_("unknown --outtype {outtype!r}; choose one of {choices}.").format(
            outtype=outtype, choices=", ".join(OUTTYPES)))
    config = _read_config(model_dir)
    check_output(out, force)
    arch = (config.get("architectures") or ["?"])[0]
    if arch in NATIVE_ARCHS:
        tokenizer = load_json_object(model_dir / "tokenizer.json", "tokenizer.json",
                               missing=_("{model_dir} has no tokenizer.json; save the tokenizer beside the model "
                                         "(tokenizer.save_pretrained).").format(model_dir=model_dir))
        pre = pre_tokenizer(tokenizer)
        if pre is not None:
            return _convert_native(model_dir, out, outtype, config, tokenizer, pre, force, progress)
    if llama_cpp is None and arch not in NATIVE_ARCHS:
        raise QingError(_("architecture {arch} has no native converter (qing converts {archs}); pass --llama-cpp "
                          "DIR (a llama.cpp checkout) to use its convert_hf_to_gguf.py.").format(
            arch=arch, archs=", ".join(NATIVE_ARCHS)))
    if llama_cpp is None:
        raise QingError(_("the tokenizer of {model_dir} is not a byte-level BPE with a pre-tokenizer qing knows "
                          "(Qwen2/Qwen3/Llama-3 style); pass --llama-cpp DIR (a llama.cpp checkout) to use its "
                          "convert_hf_to_gguf.py.").format(model_dir=model_dir))
    return convert_with_llama_cpp(model_dir, out, outtype, llama_cpp, force=force)


def convert_with_llama_cpp(model_dir: Path, out: Path, outtype: str, llama_cpp: Path, *, force: bool = False) -> Path:
    """Run llama.cpp's convert_hf_to_gguf.py from the checkout LLAMA_CPP on MODEL_DIR; return OUT."""
    script = Path(llama_cpp) / "convert_hf_to_gguf.py"
    if not script.is_file():
        raise QingError(_("{llama_cpp} has no convert_hf_to_gguf.py; give --llama-cpp the root of a llama.cpp "
                          "checkout.").format(llama_cpp=llama_cpp))
    with atomic_output(Path(out), force) as tmp:
        cmd = [sys.executable, str(script), str(model_dir), "--outfile", str(tmp), "--outtype", outtype]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
        if proc.returncode != 0:
            last = [line.strip()[:300] for line in proc.stdout.splitlines() if line.strip()][-1:]
            raise QingError(_("llama.cpp's convert_hf_to_gguf.py failed: {reason}; check that the checkout is recent "
                              "and its requirements are installed (pip install -r requirements.txt).").format(
                reason=last[0] if last else _("(no output)")))
    return Path(out)


def _read_config(model_dir: Path) -> dict:
    if not model_dir.is_dir():
        raise QingError(_("{model_dir} is not a directory; give the Hugging Face model directory (with "
                          "config.json).").format(model_dir=model_dir))
    if not (model_dir / "config.json").exists() and (model_dir / "merged" / "config.json").is_file():
        raise QingError(_("{model_dir} is a fine-tuning run, not a model; give its merged model {merged}.").format(
            model_dir=model_dir, merged=model_dir / "merged"))
    config = load_json_object(model_dir / "config.json", _("model config"),
                        missing=_("{model_dir} has no config.json; give a Hugging Face model directory (for a LoRA "
                                  "run, merge the adapter first).").format(model_dir=model_dir))
    if "text_config" in config and "hidden_size" not in config:
        config = {**config, **config["text_config"]}
    return config


# ---- safetensors, read a slice of rows at a time (file reads, not mmap: RSS stays at the slice)


@dataclass
class _Source:
    file: Path
    dtype: str  # BF16 / F16 / F32
    shape: tuple[int, ...]
    offset: int  # absolute byte offset of the data in the file
    nbytes: int


def _safetensors_index(model_dir: Path) -> dict[str, _Source]:
    index = model_dir / "model.safetensors.index.json"
    if index.is_file():
        weight_map = load_json_object(index, _("safetensors index")).get("weight_map") or {}
        files = sorted(set(weight_map.values()))
    else:
        files = sorted(p.name for p in model_dir.glob("*.safetensors"))
    if not files:
        raise QingError(_("{model_dir} has no .safetensors weights; save the model with save_pretrained "
                          "(safe_serialization=True).").format(model_dir=model_dir))
    sources: dict[str, _Source] = {}
    for name in files:
        path = model_dir / name
        if not path.is_file():
            raise QingError(_("weight shard {path} is missing; copy the whole model directory.").format(path=path))
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) != 8:
                raise QingError(_("{path} is not a safetensors file (too short); it may be truncated.").format(
                    path=path))
            (n,) = struct.unpack("<Q", head)
            try:
                header = json.loads(f.read(n))
            except ValueError:
                raise QingError(_("{path} is not a safetensors file (bad header); it may be truncated.").format(
                    path=path)) from None
        start = 8 + n
        size = path.stat().st_size
        for key, meta in header.items():
            if key == "__metadata__":
                continue
            begin, end = meta["data_offsets"]
            if start + end > size:
                raise QingError(_("{path} is shorter than its header says; the download or copy was cut "
                                  "short.").format(path=path))
            if meta["dtype"] not in _SAFETENSORS_DTYPES:
                raise QingError(_("tensor {tensor} in {path} is {dtype}; qing converts BF16, F16 and F32 weights "
                                  "(dequantize the model first, or pass --llama-cpp DIR).").format(
                    tensor=key, path=path, dtype=meta["dtype"]))
            sources[key] = _Source(path, meta["dtype"], tuple(meta["shape"]), start + begin, end - begin)
    return sources


def _read_rows(f, src: _Source, row0: int, row1: int):
    """Rows [row0, row1) of a tensor as float32 (a tensor with no rows is read whole)."""
    import numpy as np

    dtype, size = _SAFETENSORS_DTYPES[src.dtype]
    shape = src.shape or (1,)
    row_elems = math.prod(shape[1:])
    count = (row1 - row0) * row_elems
    raw = np.empty(count, dtype=dtype)
    f.seek(src.offset + row0 * row_elems * size)
    if f.readinto(memoryview(raw).cast("B")) != count * size:
        raise QingError(_("{path} ended early; the download or copy was cut short.").format(path=src.file))
    if src.dtype == "BF16":
        data = (raw.astype(np.uint32) << 16).view(np.float32)
    else:
        data = raw.astype(np.float32, copy=False)
    return data.reshape((row1 - row0, *shape[1:])) if src.shape else data.reshape(())


def _permute(w, n_head: int, n_head_kv: int | None):
    """llama.cpp's LlamaModel.permute: HF's rotary layout (halves) -> GGML's (interleaved pairs)."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


@dataclass
class _Plan:
    name: str  # gguf name
    source: _Source | None
    qtype: object  # GGMLQuantizationType
    shape: tuple[int, ...]
    nbytes: int
    permute: tuple[int, int] | None = None  # (n_head, n_head_kv) for llama q/k
    data: object = None  # a generated tensor (rope_freqs)


def _convert_native(model_dir: Path, out: Path, outtype: str, config: dict, tokenizer: dict, pre: str,
                    force: bool, progress: Progress | None) -> Path:
    import gguf
    import numpy as np

    arch_name, undo_permute = NATIVE_ARCHS[config["architectures"][0]]
    arch = gguf.MODEL_ARCH[arch_name]
    n_layers = int(config["num_hidden_layers"])
    n_head = int(config["num_attention_heads"])
    n_head_kv = int(config.get("num_key_value_heads") or n_head)
    tensor_map = gguf.get_tensor_name_map(arch, n_layers)
    tied = bool(config.get("tie_word_embeddings", False))
    Q = gguf.GGMLQuantizationType
    want = {"f16": Q.F16, "bf16": Q.BF16, "q8_0": Q.Q8_0, "f32": Q.F32}[outtype]
    ftype = {"f16": gguf.LlamaFileType.MOSTLY_F16, "bf16": gguf.LlamaFileType.MOSTLY_BF16,
             "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0, "f32": gguf.LlamaFileType.ALL_F32}[outtype]

    plans: list[_Plan] = []

    def plan(name: str, shape: tuple[int, ...], source=None, permute=None, data=None):
        qtype = want
        if len(shape) <= 1 or name.endswith("_norm.weight"):
            qtype = Q.F32
        elif qtype == Q.Q8_0 and shape[-1] % 32:
            qtype = Q.F16  # as llama.cpp does when a row is not whole Q8_0 blocks
        block, type_size = gguf.GGML_QUANT_SIZES[qtype]
        nbytes = math.prod(shape) // block * type_size
        plans.append(_Plan(name, source, qtype, shape, nbytes, permute, data))

    rope = _rope(config)
    if rope.get("rope_type") == "llama3":
        freqs = _llama3_rope_factors(config, rope)
        plan(gguf.TENSOR_NAMES[gguf.MODEL_TENSOR.ROPE_FREQS] + ".weight", freqs.shape, data=freqs)

    for name, src in _safetensors_index(model_dir).items():
        if name.endswith((".rotary_emb.inv_freq", ".attention.masked_bias", ".attention.bias")):
            continue
        if tied and name == "lm_head.weight":
            continue
        new_name = tensor_map.get_name(name, try_suffixes=(".weight", ".bias"))
        if new_name is None:
            raise QingError(_("tensor {tensor} of {model_dir} has no GGUF name for {arch}; the checkpoint is not a "
                              "plain causal LM (merge LoRA adapters first).").format(
                tensor=name, model_dir=model_dir, arch=arch_name.lower()))
        permute = None
        if undo_permute and name.endswith(("q_proj.weight", "q_proj.bias")):
            permute = (n_head, n_head)
        elif undo_permute and name.endswith(("k_proj.weight", "k_proj.bias")):
            permute = (n_head, n_head_kv)
        plan(new_name, src.shape, source=src, permute=permute)

    embd = next((p for p in plans if p.name == "token_embd.weight"), None)
    if embd is None:
        raise QingError(_("{model_dir} has no token embedding (model.embed_tokens.weight); the weights are "
                          "incomplete.").format(model_dir=model_dir))
    n_vocab = embd.shape[0]

    writer = gguf.GGUFWriter(path=None, arch=gguf.MODEL_ARCH_NAMES[arch])
    writer.add_type(gguf.GGUFType.MODEL)
    run = Run.around(model_dir)  # a run's merged model is named after the run, not "merged"
    writer.add_name((run.folder if run else model_dir).resolve().name)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    writer.add_file_type(ftype)
    _add_hparams(writer, config, rope, n_vocab, arch_name)
    add_tokenizer(writer, model_dir, config, tokenizer, pre, n_vocab)

    for p in plans:
        writer.add_tensor_info(p.name, p.shape, np.dtype(np.float32), p.nbytes, raw_dtype=p.qtype)

    total = sum(p.nbytes for p in plans)
    _check_space(out.parent, total + (16 << 20), _("the GGUF file"))
    done = 0
    with atomic_output(out, force) as tmp:
        try:
            writer.write_header_to_file(path=tmp)
            writer.write_kv_data_to_file()
            writer.write_ti_data_to_file()
            fout = writer.fout[0]
            handles: dict[Path, object] = {}
            try:
                for p in plans:
                    writer.write_padding(fout, fout.tell())
                    written = 0
                    for chunk in _chunks(p, handles):
                        data = gguf.quants.quantize(chunk, p.qtype)
                        data.tofile(fout)
                        written += data.nbytes
                        done += data.nbytes
                        if progress is not None:
                            progress(done, total)
                    if written != p.nbytes:
                        raise QingError(_("tensor {tensor} came out {written} bytes instead of {expected}; the "
                                          "weights do not match config.json.").format(
                            tensor=p.name, written=written, expected=p.nbytes))
                    writer.write_padding(fout, p.nbytes)
            finally:
                for f in handles.values():
                    f.close()
        finally:
            if writer.fout is not None:
                writer.close()
    return out


def _chunks(p: _Plan, handles: dict):
    """The tensor of plan P as float32 arrays of whole rows, a few tens of MB at a time."""
    import numpy as np

    if p.data is not None:
        yield np.asarray(p.data, dtype=np.float32)
        return
    src = p.source
    f = handles.get(src.file)
    if f is None:
        f = handles[src.file] = open(src.file, "rb")
    if len(src.shape) <= 1 or p.permute is not None:
        rows = src.shape[0] if src.shape else 1
        data = _read_rows(f, src, 0, rows)
        if p.permute is not None:
            data = _permute(data, *p.permute)
        yield np.ascontiguousarray(data)
        return
    rows = src.shape[0]
    step = max(1, _CHUNK_BYTES // (4 * math.prod(src.shape[1:])))
    for r in range(0, rows, step):
        yield _read_rows(f, src, r, min(rows, r + step))


def _rope(config: dict) -> dict:
    """The rope parameters, transformers 5 (`rope_parameters`) or 4 (`rope_theta` + `rope_scaling`) style."""
    rope = dict(config.get("rope_parameters") or config.get("rope_scaling") or {})
    if "rope_type" not in rope and "type" in rope:
        rope["rope_type"] = rope["type"]
    if "rope_theta" not in rope and config.get("rope_theta") is not None:
        rope["rope_theta"] = config["rope_theta"]
    return rope


def _llama3_rope_factors(config: dict, rope: dict):
    """llama.cpp's rope_freqs tensor for Llama 3.1+ rope scaling (LlamaModel.generate_extra_tensors)."""
    import numpy as np

    base = rope.get("rope_theta", 10000.0)
    dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    freqs = 1.0 / (base ** (np.arange(0, dim, 2, dtype=np.float32) / dim))
    factor = rope.get("factor", 8.0)
    low, high = rope.get("low_freq_factor", 1.0), rope.get("high_freq_factor", 4.0)
    old_ctx = rope.get("original_max_position_embeddings", 8192)
    factors = []
    for freq in freqs:
        wavelen = 2 * math.pi / freq
        if wavelen < old_ctx / high:
            factors.append(1.0)
        elif wavelen > old_ctx / low:
            factors.append(factor)
        else:
            smooth = (old_ctx / wavelen - low) / (high - low)
            factors.append(1 / ((1 - smooth) / factor + smooth))
    return np.array(factors, dtype=np.float32)


def _add_hparams(writer, config: dict, rope: dict, n_vocab: int, arch_name: str) -> None:
    import gguf

    def need(key: str):
        if config.get(key) is None:
            raise QingError(_("config.json has no {key}; the model directory is incomplete.").format(key=key))
        return config[key]

    n_head = int(need("num_attention_heads"))
    head_dim = int(config.get("head_dim") or need("hidden_size") // n_head)
    writer.add_vocab_size(n_vocab)
    writer.add_context_length(int(config.get("max_position_embeddings") or 4096))
    writer.add_embedding_length(int(need("hidden_size")))
    writer.add_block_count(int(need("num_hidden_layers")))
    writer.add_feed_forward_length(int(need("intermediate_size")))
    writer.add_head_count(n_head)
    writer.add_head_count_kv(int(config.get("num_key_value_heads") or n_head))
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    if arch_name == "LLAMA":
        writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(float(rope.get("rope_theta", 10000.0)))
    writer.add_layer_norm_rms_eps(float(config.get("rms_norm_eps", 1e-6)))
    rope_type = rope.get("rope_type")
    factor = rope.get("factor")
    if rope_type in (None, "default", "llama3"):
        pass
    elif rope_type == "linear" and factor is not None:
        writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        writer.add_rope_scaling_factor(factor)
    elif rope_type == "yarn" and factor is not None:
        writer.add_rope_scaling_type(gguf.RopeScalingType.YARN)
        writer.add_rope_scaling_factor(factor)
        writer.add_rope_scaling_orig_ctx_len(rope["original_max_position_embeddings"])
    else:
        raise QingError(_("rope scaling {rope_type!r} is not supported by the native converter; pass --llama-cpp "
                          "DIR to use llama.cpp's.").format(rope_type=rope_type))


def _check_space(folder: Path, needed: int, what: str) -> None:
    folder = folder if folder.exists() else folder.parent
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise QingError(_("{folder} has {free} free but {what} needs about {needed}; free some space or write "
                          "elsewhere with -o.").format(folder=folder, free=human_size(free), what=what,
                                                       needed=human_size(needed)))


# --------------------------------------------------------------------------- qing gguf


def to_gguf(model_dir: Path, output: Path | None, outtype: str, *, llama_cpp: Path | None = None, force: bool = False,
            progress: Callable[[int, int], None] | None = None, note: Callable[[str], None] = lambda text: None,
            before_merge: Callable[[], None] = lambda: None) -> tuple[Path, Path, str]:
    """`qing gguf`: a model directory - or a fine-tuning run's merged model, merged first when the run has only its
    adapter - to OUTPUT (default: <dir>/<name>-<outtype>.gguf), with an Ollama Modelfile beside it carrying the
    run's system prompt. Returns (the GGUF, the Modelfile, the name to give `ollama create`)."""
    model_dir = Path(model_dir)
    if is_run(model_dir) and not (model_dir / "config.json").is_file():
        before_merge()
    source = model_dir_of(model_dir, note)
    name = (model_dir if source != model_dir else source).resolve().name
    output = output or (model_dir / f"{name}-{outtype}.gguf")
    check_output(output.parent / "Modelfile", force)  # before the long conversion, not after it
    out = convert(source, output, outtype, llama_cpp=llama_cpp, force=force, progress=progress)
    run = Run.around(source)
    return out, write_modelfile(out, system=run.system_prompt if run else None, force=force), name


def model_dir_of(path: Path, note: Callable[[str], None] = lambda text: None) -> Path:
    """The model directory to convert: PATH itself, or for a `qing finetune` run its merged model (merged first
    when the run has only its adapter)."""
    path = Path(path)
    if not is_run(path) or (path / "config.json").is_file():
        return path
    run = Run.open(path)
    if run.merged:
        return run.merged
    if run.adapter is None:
        raise run.unfinished()
    from qing.model.base_model import merge_adapter

    note(_("{path} holds a LoRA adapter: merging it into a 16-bit copy of its base first ({merged}).").format(
        path=path, merged=path / "merged"))
    return merge_adapter(run)


def require_gguf(path: Path) -> Path:
    """PATH if it is a readable GGUF file (checked by its magic bytes), else a one-sentence error."""
    path = Path(path)
    if not path.is_file():
        raise QingError(_("input {path} does not exist or is not a file.").format(path=path))
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != GGUF_MAGIC:
        raise QingError(_("{path} is not a GGUF file; convert a Hugging Face model first with `qing gguf`.").format(
            path=path))
    return path
