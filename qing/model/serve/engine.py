"""Which engine serves: what to serve (Source), and the choice among llama.cpp, vLLM and transformers
(choose_engine), with the reason said to the user."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from qing.errors import QingError
from qing.i18n import _
from qing.model.options import ENGINES
from qing.model.run import Run


@dataclass
class Source:
    """What to serve: a run directory, a GGUF, a merged model, or a base plus an adapter."""

    run_dir: Path | None = None
    gguf: Path | None = None
    merged: Path | None = None
    adapter: Path | None = None
    model: str | None = None

    def name(self) -> str:
        path = self.run_dir or self.merged or (self.adapter.parent if self.adapter else None)
        if self.gguf is not None:
            return self.gguf.stem
        return path.resolve().name if path else (self.model or "qing").rstrip("/").split("/")[-1]


def choose_engine(engine: str, src: Source, vllm_ready: Callable[[], str | None] | None = None) -> tuple[str, str]:
    """(engine, the reason it was chosen); src.gguf is filled in when llama.cpp serves a run directory's GGUF."""
    if engine not in ENGINES:
        raise QingError(_("unknown --engine {engine!r}; use one of: {engines}.").format(engine=engine,
                                                                                      engines=", ".join(ENGINES)))
    if not (src.run_dir or src.gguf or src.merged or src.model or src.adapter):
        raise QingError(_("give a run directory (qing serve runs/qing), --gguf FILE, --merged DIR, or --model with "
                          "--adapter."))
    run = Run.open(src.run_dir) if src.run_dir else None
    has_weights = bool(src.merged or src.adapter or src.model) or bool(run and (run.merged or run.adapter))
    run_gguf = run.newest_gguf if run and not src.gguf else None
    if engine == "llama.cpp" or (engine == "auto" and (src.gguf or (run_gguf and not has_weights))):
        if src.gguf is None and run_gguf is None:
            raise QingError(_("--engine llama.cpp needs a GGUF: give --gguf FILE, or run `qing gguf RUN_DIR` "
                              "first."))
        if src.gguf is None:
            src.gguf = run_gguf
            why = _("{directory} holds {file} and no adapter").format(directory=src.run_dir, file=run_gguf.name)
        else:
            why = _("--gguf given")
        if engine != "auto":
            why = _("asked for")
        return "llama.cpp", why
    if src.gguf is not None:
        raise QingError(_("--engine {engine} serves Hugging Face weights, not a GGUF; use --engine llama.cpp.").format(
            engine=engine))
    if run is not None and not has_weights:
        raise run.unfinished()
    if engine != "auto":
        return engine, _("asked for")
    missing = (vllm_ready or _vllm_missing)()
    if missing is None:
        return "vllm", _("vLLM is installed and CUDA is present (batched generation for many chats at once)")
    return "transformers", _("{reason}; fine for one user, slow for many").format(reason=missing)


def _vllm_missing() -> str | None:
    """Why vLLM cannot serve here, or None when it can (import vllm works and CUDA is present)."""
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        return _("vLLM is not installed")
    try:
        import torch
    except ImportError:
        return _("torch is not installed")
    return None if torch.cuda.is_available() else _("no CUDA GPU (vLLM needs one)")
