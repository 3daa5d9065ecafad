"""`qing demo`: the whole chain on the built-in sample, one real `qing ...` command per step.

Each step runs as its own process exactly as a user would type it (printed first, so the demo
teaches the commands), in a work directory of its own. By default the model is a tiny one built on
the spot, so the chain runs on a CPU in a few minutes; with a real model on a GPU box it is the
real job on invented data.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from qing.errors import QingError
from qing.fixtures import demo_db as sample
from qing.i18n import _, language

MARKER = ".qing-demo"  # --force replaces only a directory the demo made
FINISHED = "finished\n"  # the marker's text once every step ran: a demo that stopped half-way is simply redone
TINY_TRAINING = ["--quant", "none", "--num-train-epochs", "30", "--gradient-accumulation-steps", "1",
                 "--learning-rate", "5e-3", "--max-length", "512", "--logging-steps", "60", "--eval-steps", "140",
                 "--save-steps", "1000"]


@dataclass
class Step:
    name: str
    args: list[str]
    output: str
    seconds: float = 0.0
    size: int = 0


def prepare(workdir: Path, force: bool, say: Callable[[str], None]) -> None:
    if workdir.exists() and any(workdir.iterdir()):
        marker = workdir / MARKER
        if not marker.is_file():
            raise QingError(_("{workdir} was not made by `qing demo`; refusing to replace it. Choose another "
                              "--workdir.").format(workdir=workdir))
        if marker.read_text() == FINISHED and not force:
            raise QingError(_("{workdir} holds a finished demo; pass --force to run the demo again there, or "
                              "--workdir.").format(workdir=workdir))
        if marker.read_text() != FINISHED:
            say(_("{workdir} holds a demo that stopped half-way: starting it again.").format(workdir=workdir))
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, mode=0o700, exist_ok=True)
    (workdir / MARKER).write_text("made by qing demo\n")


def steps(model: str, tiny: bool, llm_base_url: str | None, llm_model: str | None) -> list[Step]:
    data = "dataset"
    chain = [
        Step("decrypt", ["decrypt", "sample/nt_msg.db", "-o", "nt_msg.plain.db"], "nt_msg.plain.db"),
        Step("decrypt", ["decrypt", "sample/profile_info.db", "-o", "profile_info.plain.db"], "profile_info.plain.db"),
        Step("export", ["export", "nt_msg.plain.db", "--profile", "profile_info.plain.db", "-o", "messages.jsonl"],
             "messages.jsonl"),
        Step("clean", ["clean", "messages.jsonl", "-o", "dataset"] + (["--tokenizer", model] if tiny else []),
             "dataset"),
    ]
    if llm_base_url:
        chain.append(Step("clean-llm", ["clean-llm", "dataset", "-o", "dataset-llm", "--base-url", llm_base_url,
                                        "--model", llm_model or ""], "dataset-llm"))
        data = "dataset-llm"
    chain += [
        Step("finetune", ["finetune", data, "-o", "runs/demo", "--model", model] + (TINY_TRAINING if tiny else []),
             "runs/demo/adapter"),
        Step("infer", ["infer", "runs/demo", "--prompt", "周末去爬山吗？", "--temperature", "0",
                       "--max-new-tokens", "40"], _("(reply above)")),
        Step("gguf", ["gguf", "runs/demo"], "runs/demo/demo-f16.gguf"),
        Step("quantize", ["quantize", "runs/demo/demo-f16.gguf"] + (["--type", "Q8_0"] if tiny else []),
             "runs/demo/demo-Q8_0.gguf" if tiny else "runs/demo/demo-Q4_K_M.gguf"),
    ]
    return chain


def run(workdir: Path, model: str | None = None, llm_base_url: str | None = None, llm_model: str | None = None,
        force: bool = False, say: Callable[[str], None] = print) -> list[Step]:
    """Build the sample in WORKDIR and run every step on it; returns the steps with their times and sizes."""
    prepare(workdir, force, say)
    started = time.perf_counter()
    built = sample.build(workdir / "sample")
    say(_("built-in sample: {count} invented messages of 小晴 and 4 friends, encrypted like QQ NT ({seconds:.1f} s) "
          "-> {folder}").format(count=built.messages, seconds=time.perf_counter() - started, folder=workdir / "sample"))
    tiny = model is None
    if tiny:
        from qing.fixtures import tiny_model as tinymodel

        say(_("model: a tiny random Qwen3 built here (on a GPU box, use --model Qwen/Qwen3-8B-Base for the real "
              "thing) -> tiny-model"))
        tinymodel.build(workdir / "tiny-model")
        model = "tiny-model"
    env = {**os.environ, "QING_KEY": built.key, "QING_LANG": language()}  # each step speaks as the demo does
    say(f"$ cd {shlex.quote(str(workdir))}   # " + _("every step below runs there"))
    say(f"$ export QING_KEY='{built.key}'   # " + _("the sample's key; yours comes from your own QQ (see README)"))
    done = []
    for step in steps(model, tiny, llm_base_url, llm_model):
        say(f"$ qing {shlex.join(step.args)}")
        began = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "qing", *step.args], cwd=workdir, env=env)
        step.seconds = time.perf_counter() - began
        if result.returncode != 0:
            raise QingError(_("the demo's {step} step failed (exit {code}); its message is above.").format(
                step=step.name, code=result.returncode), exit_code=result.returncode)
        step.size = _size(workdir / step.output)
        done.append(step)
    (workdir / MARKER).write_text(FINISHED)
    return done


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return 0
