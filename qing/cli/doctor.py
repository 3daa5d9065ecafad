"""`qing doctor`: is this machine ready for the job? Each check says what it found and how to fix it.

A check is `ok`, `warn` (a step will be slow or unavailable; the rest works) or `fail` (something
required is missing: the command exits non-zero).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from qing.extras import PACKAGES, Package, install_hint
from qing.i18n import _

# approximate download size of the models users start from, GB (bf16 safetensors)
MODEL_SIZES_GB = {"Qwen/Qwen3-8B-Base": 16.4, "Qwen/Qwen3-8B": 16.4, "Qwen/Qwen3-4B-Base": 8.0, "Qwen/Qwen3-4B": 8.0,
                  "Qwen/Qwen3-1.7B-Base": 4.1, "Qwen/Qwen3-0.6B-Base": 1.5, "Qwen/Qwen2.5-7B-Instruct": 15.2}


@dataclass
class Check:
    name: str
    status: str  # ok, warn, fail
    detail: str
    fix: str = ""


def run_checks(known_keys: set[str], model: str, models_dir: Path, llm_base_url: str | None,
               llama_cpp_dir: Path | None, env_file: Path = Path(".env")) -> list[Check]:
    checks = [_python()]
    checks += [_package(p) for p in PACKAGES if p.checked]
    checks += _gpu()
    checks.append(_disk(model, models_dir))
    checks.append(_llama_cpp(llama_cpp_dir))
    checks.append(_server(llm_base_url))
    checks += _env_keys(env_file, known_keys)
    return checks


def _python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info < (3, 10):
        return Check("python", "fail", f"Python {version}", _("qing needs Python 3.10 or newer."))
    return Check("python", "ok", f"Python {version} ({sys.executable})")


def _package(package: Package) -> Check:
    module, dist, extra, needed_for, _checked = package
    try:
        importlib.import_module(module)
    except Exception as e:  # ImportError, or a broken install raising something else
        return Check(dist, "warn" if extra else "fail", _("not importable ({error}); needed for {needed_for}").format(
            error=type(e).__name__, needed_for=needed_for), install_hint(extra) if extra else f"pip install {dist}")
    try:
        version = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    if dist == "torch" and _major_minor(version) < MIN_TORCH:
        return Check(dist, "warn", _("{version}: older than 2.6, which transformers 5 and accelerate need").format(
            version=version), _("on a GPU box choose an image with torch 2.6 or newer; else pip replaces this torch "
                                "(a CUDA build) with a download of its own"))
    return Check(dist, "ok", f"{version} ({needed_for})")


MIN_TORCH = (2, 6)
"""The oldest torch the train extra works with (pyproject.toml); an older one is replaced when the extra installs."""


def _major_minor(version: str) -> tuple[int, int]:
    parts = [int(p) if p.isdigit() else 0 for p in version.split("+")[0].split(".")[:2]]
    return tuple(parts + [0] * (2 - len(parts)))


def _gpu() -> list[Check]:
    try:
        import torch
    except ImportError:
        return [Check("gpu", "warn", _("torch is not installed, so no GPU check"), "pip install 'qing[train]'")]
    if not torch.cuda.is_available():
        return [Check("gpu", "warn", _("no CUDA GPU: finetune and infer run on the CPU (fine for `qing demo`, far too "
                                       "slow for a real model)"),
                      _("rent a GPU box (an RTX 4090, 24 GB, fits Qwen3-8B QLoRA) or install a CUDA build of torch")),
                Check("bitsandbytes 4-bit", "warn", _("needs CUDA; without it --quant 4bit trains unquantized"),
                      _("on a CUDA machine: pip install bitsandbytes"))]
    checks = []
    for i in range(torch.cuda.device_count()):
        free, total = torch.cuda.mem_get_info(i)
        name = torch.cuda.get_device_name(i)
        status = "ok" if total >= 20e9 else "warn"
        fix = "" if status == "ok" else _("less than 20 GB: use --quant 4bit and --max-length 1024, or a smaller model")
        found = (_("{name}, {total:.1f} GiB ({free:.1f} free), bf16 yes") if torch.cuda.is_bf16_supported() else
                 _("{name}, {total:.1f} GiB ({free:.1f} free), bf16 no"))
        checks.append(Check(f"gpu {i}", status, found.format(name=name, total=total / 2**30, free=free / 2**30), fix))
    checks.append(_bitsandbytes())
    checks.append(_liger())
    return checks


def _liger() -> Check:
    try:
        import liger_kernel  # noqa: F401
    except Exception as e:  # ImportError, or a triton that does not match this torch
        return Check("liger-kernel", "warn", _("not importable ({error}): finetune runs without fused kernels and one "
                                               "row per micro-step, slower").format(error=type(e).__name__),
                     _("pip install liger-kernel (in the train extra)"))
    return Check("liger-kernel", "ok", _("{version} (fused kernels for finetune)").format(
        version=importlib.metadata.version("liger-kernel")))


def _bitsandbytes() -> Check:
    """Quantize a small layer to 4 bits and run it: the check that QLoRA will work."""
    try:
        import bitsandbytes as bnb
        import torch

        layer = bnb.nn.Linear4bit(64, 64, compute_dtype=torch.bfloat16, quant_type="nf4").to("cuda")
        out = layer(torch.randn(2, 64, device="cuda", dtype=torch.bfloat16))
        assert out.shape == (2, 64) and torch.isfinite(out).all()
        return Check("bitsandbytes 4-bit", "ok", _("NF4 layer runs ({version})").format(
            version=importlib.metadata.version("bitsandbytes")))
    except Exception as e:
        return Check("bitsandbytes 4-bit", "warn", _("4-bit does not work here ({error})").format(
            error=type(e).__name__), _("pip install -U bitsandbytes (matching your CUDA), or train with --quant none "
                                       "/ 8bit"))


def _disk(model: str, models_dir: Path) -> Check:
    local = Path(model).expanduser()
    if local.is_dir():
        need_gb = sum(p.stat().st_size for p in local.rglob("*") if p.is_file()) / 1e9 * 1.5
        found = _("{free:.0f} GB free in {folder}; model {model} is local; a merge and a GGUF need about {need:.1f} "
                  "GB more")
    else:
        size = MODEL_SIZES_GB.get(model)
        need_gb = (size or 16.4) * 2.5  # download + merged copy + f16 GGUF (+ quantized)
        found = _("{free:.0f} GB free in {folder}; {model}: about {size} GB to download; with a merged copy and GGUF "
                  "files ~{need:.0f} GB")
    folder = models_dir if models_dir.exists() else Path.cwd()
    free_gb = shutil.disk_usage(folder).free / 1e9
    status = "ok" if free_gb >= need_gb else "warn"
    found = found.format(free=free_gb, folder=folder, model=model, need=need_gb,
                         size=MODEL_SIZES_GB.get(model) or "?")
    return Check(_("disk"), status, found,
                 "" if status == "ok" else _("free some space, or point --models-dir / -o at a bigger disk"))


def _llama_cpp(checkout: Path | None) -> Check:
    if checkout is not None:
        found = [p for p in (checkout / "build" / "bin" / "llama-quantize", checkout / "llama-quantize") if p.is_file()]
        if found:
            return Check("llama.cpp", "ok", _("llama-quantize in {folder}").format(folder=found[0].parent))
        return Check("llama.cpp", "warn", _("{checkout} has no built llama-quantize").format(checkout=checkout),
                     _("build it: cmake -B build && cmake --build build --target llama-quantize"))
    try:
        import llama_cpp

        assert hasattr(llama_cpp, "llama_model_quantize")
        return Check("llama.cpp", "ok", _("llama-cpp-python {version}: quantize and GGUF chat work").format(
            version=llama_cpp.__version__))
    except Exception:
        return Check("llama.cpp", "warn", _("llama-cpp-python is not installed: `qing quantize` cannot run"),
                     _("pip install 'qing[gguf]' (compiles llama.cpp, ~5 min), or pass --llama-cpp DIR"))


def _server(base_url: str | None) -> Check:
    if not base_url:
        return Check(_("llm server"), "ok", _("none configured (only `qing clean-llm` needs one; "
                                              "QING_LLM_BASE_URL)"))
    import json
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(base_url.rstrip("/") + "/models", timeout=3) as response:
            models = [m.get("id") for m in json.loads(response.read()).get("data", [])]
        return Check(_("llm server"), "ok", _("{url} answers; models: {models}").format(
            url=base_url, models=", ".join(map(str, models)) or _("none")))
    except urllib.error.HTTPError as e:
        if e.code == 401:
            return Check(_("llm server"), "ok", _("{url} answers (asks for an API key: QING_LLM_API_KEY)").format(
                url=base_url))
        return Check(_("llm server"), "warn", _("{url} answered HTTP {code}").format(url=base_url, code=e.code),
                     _("check --base-url ends with /v1"))
    except Exception as e:
        return Check(_("llm server"), "warn", _("{url} is not reachable ({error})").format(
            url=base_url, error=type(e).__name__),
                     _("start LM Studio's server / `ollama serve` / vLLM, or fix QING_LLM_BASE_URL"))


def _env_keys(env_file: Path, known: set[str]) -> list[Check]:
    if not env_file.is_file():
        return [Check(".env", "ok", _("no .env here (settings come from flags and the environment)"))]
    from dotenv import dotenv_values

    checks = []
    if os.name == "posix" and env_file.stat().st_mode & 0o077:
        checks.append(Check(_(".env permissions"), "warn", _("{path} is readable by other users and may hold your "
                                                             "database key").format(path=env_file),
                            f"chmod 600 {env_file}"))
    keys = [k for k in dotenv_values(env_file) if k]
    unknown = [k for k in keys if k.startswith("QING_") and k not in known]
    if not unknown:
        return checks + [Check(".env", "ok", _("{count} keys, all recognised").format(count=len(keys)))]
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(key, sorted(known), n=1)
        hints.append(_("{key} (did you mean {close}?)").format(key=key, close=close[0]) if close else key)
    return checks + [Check(".env", "warn", _("unknown keys, most likely typos: {keys}").format(keys=", ".join(hints)),
                           _("fix the names; .env.example lists every key"))]
