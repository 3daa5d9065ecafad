"""What a run records while it trains: metrics.jsonl (one line per Trainer log, with tokens/s and the time left),
the progress handed to the CLI, and loss.png drawn from them at the end."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from qing.files import open_private


def make_recorder():
    from transformers import TrainerCallback

    class _Recorder(TrainerCallback):
        """metrics.jsonl (one line per log), tokens/s, and progress for the CLI; main process only."""

        def __init__(self, path: Path, progress):
            self.path, self.progress = path, progress
            self.history: list[dict] = []
            self.start = None
            self.start_tokens = 0

        def on_train_begin(self, args, state, control, **kw):
            self.start, self.start_tokens = time.perf_counter(), state.num_input_tokens_seen

        def eval_loss_at(self, step: int) -> float | None:
            return next((h["eval_loss"] for h in reversed(self.history) if h["step"] == step and "eval_loss" in h),
                        None)

        def tokens_per_second(self) -> float:
            return 0.0 if not self.history else self.history[-1].get("tokens_per_second", 0.0)

        def on_log(self, args, state, control, logs=None, **kw):
            if not state.is_world_process_zero or not logs:
                return
            elapsed = time.perf_counter() - (self.start or time.perf_counter())
            tokens = state.num_input_tokens_seen - self.start_tokens
            entry = {"step": state.global_step, "max_steps": state.max_steps, "epoch": round(state.epoch or 0, 3)}
            entry.update({k: v for k, v in logs.items() if isinstance(v, (int, float))})
            entry["tokens"] = tokens
            entry["tokens_per_second"] = round(tokens / elapsed, 1) if elapsed > 0 else 0.0
            done = state.global_step / max(state.max_steps, 1)
            entry["eta_seconds"] = round(elapsed / done - elapsed, 1) if done > 0 else None
            self.history.append(entry)
            with open_private(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")
            if self.progress:
                self.progress(entry)

        def plot(self, path: Path) -> bool:
            """Draw PATH; False when matplotlib is missing."""
            try:
                plot_losses(self.history, path)
            except ImportError:
                return False
            return True

    return _Recorder


def plot_losses(history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [(h["step"], h["loss"]) for h in history if "loss" in h]
    evals = [(h["step"], h["eval_loss"]) for h in history if "eval_loss" in h]
    fig, ax = plt.subplots(figsize=(7, 4))
    for points, label in ((train, "train loss"), (evals, "eval loss")):
        if points:
            ax.plot(*zip(*points), label=label, marker="o" if label.startswith("eval") else None)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.part.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
