"""Where a base model comes from: a local directory, or an id fetched from ModelScope or Hugging Face."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from qing.errors import QingError

log = logging.getLogger(__name__)
SOURCES = ("modelscope", "hf")


def is_model_dir(path: Path) -> bool:
    return (path / "config.json").is_file()


def resolve(model: str, source: str = "modelscope", models_dir: Path = Path("models")) -> Path:
    """A local model directory for MODEL: the directory itself, or a download (resumed if cut short)."""
    path = Path(model).expanduser()
    if path.exists():
        if not is_model_dir(path):
            raise QingError(f"{path} is not a model directory (no config.json in it).")
        return path
    looks_like_id = model.count("/") == 1 and not model.startswith((".", "/", "~")) and os.sep == "/"
    if not looks_like_id:
        raise QingError(f"model {model} is neither a directory nor a model id like Qwen/Qwen3-8B-Base.")
    if source not in SOURCES:
        raise QingError(f"unknown --source {source!r}; use modelscope or hf.")
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
        raise QingError(f"downloading from {source} needs the train extra: pip install 'qing[train]' ({e.name}).") \
            from None
    except Exception as e:  # the hubs raise many types: not found, no network, refused
        name = type(e).__name__
        if "RepositoryNotFound" in name or "404" in str(e) or "not exist" in str(e).lower():
            raise QingError(f"model {model} was not found on {source}; check the id, or try --source "
                            f"{'hf' if source == 'modelscope' else 'modelscope'}.") from None
        raise QingError(f"could not download {model} from {source} ({name}): check the network, or download it "
                        f"yourself and pass its directory to --model. A rerun resumes the download.") from None
    if not is_model_dir(target):
        raise QingError(f"the download of {model} from {source} holds no config.json; is it a model id?")
    return target


def _quiet(prefix: str) -> None:
    """The hubs' own retry warnings stay out of the output (our error says what failed) unless debugging."""
    if log.isEnabledFor(logging.DEBUG):
        return
    for name in list(logging.root.manager.loggerDict):
        if name.startswith(prefix):
            logging.getLogger(name).setLevel(logging.ERROR)
