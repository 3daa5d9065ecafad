"""The run folder of `qing finetune` (runs/<name>/), and the one module that knows its run file.

A run folder holds:

    qing-run.json   what the run is made of: its options, base model directory, dataset, chat template,
                    end-of-turn token, data statistics and, once trained, its result
    checkpoint-*/   resumable Trainer checkpoints (complete once trainer_state.json is written)
    adapter/        the finished LoRA adapter and its tokenizer
    merged/         optional: the adapter merged into a 16-bit copy of the base
    *.gguf          from `qing gguf` / `qing quantize`, with an Ollama Modelfile
    metrics.jsonl, loss.png, eval/

finetune creates and fills it; infer, serve, gguf, quantize and eval open it with `Run.open` (or find the run a
merged model or GGUF file belongs to with `Run.around`) and read what they need through its properties, without
importing the training code.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from qing.errors import QingError
from qing.files import open_private, private_dir, refuse_foreign_files
from qing.i18n import _

RUN_FILE = "qing-run.json"
CONTENTS = (RUN_FILE, "adapter", "merged", "checkpoint-*", "metrics.jsonl", "loss.png", "*.gguf", "Modelfile", "eval")
"""What finetune, gguf, quantize and eval write in a run folder: --force replaces one holding nothing else."""


def is_run(folder: Path) -> bool:
    return (Path(folder) / RUN_FILE).is_file()


def adapter_base(adapter: Path) -> str | None:
    """The base model named in a LoRA adapter's own adapter_config.json (for an adapter given without its run)."""
    try:
        config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise QingError(_("{path} cannot be read as JSON; is {adapter} a LoRA adapter?").format(
            path=adapter / "adapter_config.json", adapter=adapter)) from None
    base = config.get("base_model_name_or_path") if isinstance(config, dict) else None
    return base if isinstance(base, str) and base else None


@dataclass
class Run:
    """One run folder and its run file, read and checked once."""

    folder: Path
    info: dict = field(default_factory=dict)

    @classmethod
    def open(cls, folder: Path, need_model: bool = True) -> Run:
        """The run in FOLDER; one sentence when it is not a run, or its run file is damaged. NEED_MODEL: the run
        file must name its base model directory (everything but reading its system prompt needs it)."""
        folder = Path(folder)
        path = folder / RUN_FILE
        if not path.is_file():
            raise QingError(_("{folder} is not a run directory of `qing finetune` (no {run_file}).").format(
                folder=folder, run_file=RUN_FILE))
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:  # not JSON, or not text at all
            raise QingError(_("{path} is damaged (not JSON); train again, or restore it from a copy.").format(
                path=path)) from None
        if not isinstance(info, dict) or not isinstance(info.get("options", {}), dict) \
                or (need_model and not isinstance(info.get("model_dir"), str)):
            raise QingError(_("{path} is damaged (not the run file `qing finetune` writes); train again, or "
                              "restore it from a copy.").format(path=path))
        return cls(folder, info)

    @classmethod
    def around(cls, path: Path) -> Run | None:
        """The run a model directory or file belongs to: PATH itself or the folder holding it (runs/<name>/merged,
        runs/<name>/model-Q4_K_M.gguf), or None when it came from no run."""
        path = Path(path)
        for folder in (path, path.parent) if path.is_dir() else (path.parent,):
            if is_run(folder):
                return cls.open(folder, need_model=False)
        return None

    @staticmethod
    def prepare(folder: Path, force: bool, resume: bool) -> None:
        """Make FOLDER ready for a new run: refuse an existing one unless RESUME (it must be a run) or FORCE (which
        replaces only a run folder holding nothing but what qing writes)."""
        if resume:
            if not is_run(folder):
                raise QingError(_("--resume needs a run directory; {folder} holds no {run_file}.").format(
                    folder=folder, run_file=RUN_FILE))
            return
        if folder.exists() and any(folder.iterdir()):
            if not force:
                raise QingError(_("output {folder} already exists; pass --resume to continue it, --force to "
                                  "replace it, or -o to choose another directory.").format(folder=folder))
            if not is_run(folder):
                raise QingError(_("{folder} is not a qing run directory; refusing to replace it. Choose another "
                                  "-o.").format(folder=folder))
            refuse_foreign_files(folder, CONTENTS, "qing")
            shutil.rmtree(folder)
        private_dir(folder)

    def save(self) -> None:
        """Write the run file whole (a temporary name, then renamed), owner-only."""
        path = self.folder / RUN_FILE
        tmp = path.with_name(f".{path.name}.part")
        with open_private(tmp, "w", encoding="utf-8") as f:
            json.dump(self.info, f, ensure_ascii=False, indent=2)
        os.replace(tmp, path)

    # --- what the run file says -------------------------------------------------------------

    @property
    def options(self) -> dict:
        """The finetune options the run was made with (FinetuneOptions as a dict)."""
        return self.info.get("options", {})

    @property
    def base_model(self) -> str | None:
        """The base model's local directory, as finetune resolved it."""
        return self.info.get("model_dir")

    @property
    def model_source(self) -> str:
        return self.options.get("source", "modelscope")

    @property
    def models_dir(self) -> Path:
        return Path(self.options.get("models_dir", "models"))

    @property
    def template(self) -> str:
        """auto (the tokenizer's chat template) or chatml, as finetune rendered the samples."""
        return self.info.get("template", "auto")

    @property
    def system_prompt(self) -> str | None:
        return self.options.get("system_prompt") or None

    @property
    def max_length(self) -> int | None:
        return self.options.get("max_length")

    @property
    def dataset(self) -> Path | None:
        return Path(self.info["dataset"]) if self.info.get("dataset") else None

    # --- what the folder holds --------------------------------------------------------------

    @property
    def adapter(self) -> Path | None:
        """adapter/, once finetune has finished writing it."""
        path = self.folder / "adapter"
        return path if (path / "adapter_config.json").is_file() else None

    @property
    def merged(self) -> Path | None:
        path = self.folder / "merged"
        return path if (path / "config.json").is_file() else None

    @property
    def newest_gguf(self) -> Path | None:
        """The newest GGUF file of the run (usually the quantized one), or None."""
        ggufs = sorted(self.folder.glob("*.gguf"), key=lambda p: p.stat().st_mtime)
        return ggufs[-1] if ggufs else None

    def checkpoints(self) -> list[Path]:
        """Complete checkpoints, oldest first. Trainer writes trainer_state.json last, so one without it was cut
        short (a crash while saving) and is passed over."""
        steps = [(int(p.name.split("-")[1]), p) for p in self.folder.glob("checkpoint-*")
                 if p.name.split("-")[1].isdigit() and (p / "trainer_state.json").is_file()]
        return [p for _step, p in sorted(steps)]

    def unfinished(self) -> QingError:
        """The sentence for a run asked for its model before it has one: resume it, or wait for it."""
        if self.checkpoints():
            return QingError(_("{folder} holds no finished adapter: its training stopped before the end; "
                               "`qing finetune DATASET -o {folder} --resume` continues it from its last "
                               "checkpoint.").format(folder=self.folder))
        return QingError(_("{folder} holds no finished adapter yet; wait for `qing finetune` to end (or train it "
                           "again if it was stopped before its first checkpoint).").format(folder=self.folder))
