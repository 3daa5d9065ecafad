"""The base model: where it comes from (a local directory, or an id fetched from ModelScope or Hugging Face), how it
is loaded on this machine's device (quantized or not), and merging a run's adapter into it."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import shutil
from pathlib import Path

from qing.errors import QingError
from qing.files import private_files
from qing.i18n import _
from qing.model import packed_attention
from qing.model.options import DEFAULT_MODEL, QUANTS, SOURCES  # noqa: F401 (read as base_model.X)
from qing.model.run import Run

log = logging.getLogger(__name__)
# bitsandbytes (>= 0.46) also runs 4-bit / 8-bit layers on the CPU, far too slowly for real training; users get
# unquantized CPU training, and the tests set this to run the real QLoRA path (quantize, prepare, LoRA) on the CPU.
QUANTIZE_ON_CPU = False
PACKED_ATTENTION = True
"""Packed rows on CUDA without flash-attn use qing.attention (PyTorch's varlen FlashAttention) instead of SDPA."""


def is_model_dir(path: Path) -> bool:
    return (path / "config.json").is_file()


def resolve(model: str, source: str = "modelscope", models_dir: Path = Path("models")) -> Path:
    """A local model directory for MODEL: the directory itself, or a download (resumed if cut short)."""
    path = Path(model).expanduser()
    if path.exists():
        if not is_model_dir(path):
            raise QingError(_("{path} is not a model directory (no config.json in it).").format(path=path))
        return path
    looks_like_id = model.count("/") == 1 and not model.startswith((".", "/", "~")) and os.sep == "/"
    if not looks_like_id:
        raise QingError(_("model {model} is neither a directory nor a model id like Qwen/Qwen3-8B-Base.").format(
            model=model))
    if source not in SOURCES:
        raise QingError(_("unknown --source {source!r}; use modelscope or hf.").format(source=source))
    target = models_dir / model
    if is_model_dir(target) and not any(target.rglob("*.incomplete")):
        return target
    log.info("downloading %s from %s into %s", model, source, target)  # the hub's own bars show the progress
    return _download(model, source, target)


def _download(model: str, source: str, target: Path) -> Path:
    created = [p for p in (target, *target.parents) if not p.exists()]
    target.mkdir(parents=True, exist_ok=True)
    try:
        return _fetch(model, source, target)
    except QingError:
        for path in created:  # nothing came: leave no empty model directories behind
            with contextlib.suppress(OSError):
                path.rmdir()
        raise


def _fetch(model: str, source: str, target: Path) -> Path:
    patterns = ["*.json", "*.safetensors", "*.txt", "*.model", "*.jinja", "*.tiktoken", "*.py"]
    try:
        if source == "modelscope":
            from modelscope import snapshot_download

            _quiet("modelscope")
            snapshot_download(model, local_dir=str(target), allow_patterns=patterns)
        else:
            from huggingface_hub import snapshot_download

            _quiet("huggingface_hub")
            snapshot_download(model, local_dir=str(target), allow_patterns=patterns)
    except ImportError as e:
        raise QingError(_("downloading from {source} needs the train extra: pip install 'qing[train]' "
                          "({module}).").format(source=source, module=e.name)) from None
    except Exception as e:  # the hubs raise many types: not found, no network, refused
        name = type(e).__name__
        if "RepositoryNotFound" in name or "404" in str(e) or "not exist" in str(e).lower():
            raise QingError(_("model {model} was not found on {source}; check the id, or try --source "
                              "{other}.").format(model=model, source=source,
                                                 other="hf" if source == "modelscope" else "modelscope")) from None
        raise QingError(_("could not download {model} from {source} ({error}): check the network, or download it "
                          "yourself and pass its directory to --model. A rerun resumes the download.").format(
            model=model, source=source, error=name)) from None
    if not is_model_dir(target):
        raise QingError(_("the download of {model} from {source} holds no config.json; is it a model id?").format(
            model=model, source=source))
    return target


def _quiet(prefix: str) -> None:
    """The hubs' own retry warnings stay out of the output (our error says what failed) unless debugging."""
    if log.isEnabledFor(logging.DEBUG):
        return
    for name in list(logging.root.manager.loggerDict):
        if name.startswith(prefix):
            logging.getLogger(name).setLevel(logging.ERROR)


def compute_dtype():
    """bf16 where the GPU has it, else fp16 on CUDA, fp32 on CPU."""
    import torch

    if torch.cuda.is_available():
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def quantization_config(quant: str):
    import torch
    from transformers import BitsAndBytesConfig

    if quant == "4bit":
        return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                  bnb_4bit_compute_dtype=compute_dtype() if torch.cuda.is_available() else None)
    if quant == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    return None


def load_base(model_dir: Path, quant: str, for_training: bool = True, packed: bool = False):
    """The base model on this machine's device, quantized as asked where CUDA allows it; PACKED: it will train on
    packed rows, whose samples then get attention of their own without a dense mask."""
    import torch
    from transformers import AutoModelForCausalLM

    if quant not in QUANTS:
        raise QingError(_("unknown --quant {quant!r}; use one of: {choices}.").format(quant=quant,
                                                                                     choices=", ".join(QUANTS)))
    kwargs = {"dtype": compute_dtype()}
    if torch.cuda.is_available() and importlib.util.find_spec("flash_attn") is not None:
        kwargs["attn_implementation"] = "flash_attention_2"  # packed rows run as variable-length batches: no mask
    elif packed and PACKED_ATTENTION and packed_attention.available():
        kwargs["attn_implementation"] = packed_attention.register()
    if quant != "none" and (torch.cuda.is_available() or QUANTIZE_ON_CPU):
        try:
            import bitsandbytes  # noqa: F401
        except ImportError:
            raise QingError(_("--quant 4bit/8bit needs bitsandbytes: pip install bitsandbytes, or use --quant "
                              "none.")) from None
        kwargs["quantization_config"] = quantization_config(quant)
        kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", 0)) if torch.cuda.is_available() else "cpu"}
    try:
        model = AutoModelForCausalLM.from_pretrained(model_dir, **kwargs)
    except ValueError as e:
        raise QingError(_("transformers cannot load the model in {model_dir} ({reason}).").format(
            model_dir=model_dir, reason=str(e).splitlines()[0][:160])) from None
    if torch.cuda.is_available() and "device_map" not in kwargs:
        model.to(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}")
    if for_training:
        model.config.use_cache = False
    return model


def merge_adapter(run: Run, force: bool = False) -> Path:
    """OUT/merged: the adapter merged into a fresh copy of the base in its own 16-bit dtype (never 4-bit)."""
    import torch
    from peft import PeftModel
    from transformers import AutoConfig, AutoModelForCausalLM

    from qing.model import chat_format as chat

    adapter = run.adapter
    if adapter is None:
        raise run.unfinished()
    final, tmp = run.folder / "merged", run.folder / ".merged.part"
    if final.exists() and not force:
        return final
    base_dir = Path(run.base_model)
    dtype = getattr(AutoConfig.from_pretrained(base_dir), "dtype", None) or torch.bfloat16
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype)
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=dtype)
    tokenizer = chat.load_tokenizer(adapter)
    if len(tokenizer) > base.get_input_embeddings().weight.shape[0]:
        base.resize_token_embeddings(len(tokenizer))
    merged = PeftModel.from_pretrained(base, adapter).merge_and_unload()
    with private_files():
        shutil.rmtree(tmp, ignore_errors=True)
        merged.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    return final
