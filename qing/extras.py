"""What qing imports from other projects, and which pip extra brings each: one table for the CLI's "install the
X extra" sentence and for `qing doctor`; tests/test_cli.py checks it against pyproject.toml."""

from __future__ import annotations

from typing import NamedTuple


class Package(NamedTuple):
    module: str
    """The name qing imports."""
    distribution: str
    """The name pip installs."""
    extra: str | None
    """The extra of pyproject.toml that brings it; None: a core dependency, always installed."""
    needed_for: str
    checked: bool = True
    """doctor lists it (the others come with a package it lists)."""


PACKAGES = (
    Package("typer", "typer", None, "every command"),
    Package("rich", "rich", None, "every command"),
    Package("dotenv", "python-dotenv", None, "reading .env"),
    Package("sqlcipher3", "sqlcipher3", None, "decrypt, export"),
    Package("google.protobuf", "protobuf", None, "export"),
    Package("orjson", "orjson", None, "export, clean"),
    Package("msgspec", "msgspec", None, "clean"),
    Package("openai", "openai", "llm", "clean-llm"),
    Package("torch", "torch", "train", "finetune, infer"),
    Package("transformers", "transformers", "train", "finetune, infer"),
    Package("peft", "peft", "train", "finetune, infer"),
    Package("accelerate", "accelerate", "train", "finetune"),
    Package("bitsandbytes", "bitsandbytes", "train", "--quant 4bit / 8bit", checked=False),  # doctor's GPU check
    Package("liger_kernel", "liger-kernel", "train", "fast finetune on CUDA", checked=False),  # doctor's GPU check
    Package("modelscope", "modelscope", "train", "model downloads from ModelScope"),
    Package("huggingface_hub", "huggingface-hub", "train", "model downloads from Hugging Face", checked=False),
    Package("safetensors", "safetensors", "train", "finetune, infer", checked=False),
    Package("gguf", "gguf", "gguf", "gguf"),
    Package("llama_cpp", "llama-cpp-python", "gguf", "quantize, GGUF chat"),
    Package("matplotlib", "matplotlib", "plot", "clean --plot, loss.png (also in the train extra)", checked=False),
)


def extra_of(module: str) -> str | None:
    """The extra that brings MODULE (a dotted name or its top package), or None when no extra does."""
    top = module.split(".")[0]
    return next((p.extra for p in PACKAGES if p.module.split(".")[0] == top), None)


def install_hint(extra: str) -> str:
    from qing.i18n import _

    return _("pip install 'qing[{extra}]' (or -e \".[{extra}]\" in the repo)").format(extra=extra)
