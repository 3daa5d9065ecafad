"""The vLLM engine: vLLM's own OpenAI server as a subprocess (serve_vllm), started with the run's adapter as a LoRA
module or its merged model (vllm_command), the run's system prompt in its chat template (persona_template), and
the API key in its environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from qing.errors import QingError
from qing.i18n import _
from qing.model.options import ServeOptions
from qing.model.run import Run, adapter_base
from qing.model.serve.engine import Source

LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)  # the ranks vLLM's --max-lora-rank takes


def persona_template(template: str, system: str | None) -> str:
    """The chat template, rewritten to put the run's system prompt first when a request has none, thinking off."""
    head = "{%- set enable_thinking = false %}"
    if system:
        head += ("{%- if not (messages and messages[0]['role'] == 'system') %}"
                 f"{{%- set messages = [{{'role': 'system', 'content': {json.dumps(system)}}}] + messages %}}"
                 "{%- endif %}")
    return head + template


def vllm_command(src: Source, opts: ServeOptions, name: str, template_file: Path | None,
                 executable: str | None = None) -> list[str]:
    """`vllm serve` for a merged model, or a base with the adapter as a LoRA module called NAME. No key in it."""
    import sys

    base, adapter = _vllm_weights(src)
    cmd = [executable, "serve", str(base)] if executable else \
        [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(base)]
    cmd += ["--host", opts.host, "--port", str(opts.port), "--tensor-parallel-size", str(opts.tensor_parallel_size),
            "--max-num-seqs", str(opts.max_concurrency)]
    if adapter is not None:
        rank = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8")).get("r", 16)
        cmd += ["--enable-lora", "--lora-modules", f"{name}={adapter}",
                "--max-lora-rank", str(next((r for r in LORA_RANKS if r >= rank), LORA_RANKS[-1]))]
    else:
        cmd += ["--served-model-name", name]
    if template_file is not None:
        cmd += ["--chat-template", str(template_file)]
    return cmd


def _vllm_weights(src: Source) -> tuple[Path | str, Path | None]:
    """(model vLLM loads, LoRA adapter or None), as qing.infer.load picks them."""
    run = Run.open(src.run_dir) if src.run_dir else None
    merged, adapter = src.merged, src.adapter
    if run and merged is None and adapter is None:
        merged, adapter = run.merged, run.adapter
        if merged is None and adapter is None:
            raise run.unfinished()
    if merged is not None:
        return merged, None
    base = src.model or (run.base_model if run else None) or (adapter_base(adapter) if adapter else None)
    if not base:
        raise QingError(_("give a run directory, --merged DIR, or --model (with --adapter DIR)."))
    return base, adapter


def serve_vllm(src: Source, opts: ServeOptions, name: str, system: str | None, template: str | None,
               note: Callable[[str], None]) -> int:
    """Run vLLM's OpenAI server in the foreground until it ends or Ctrl+C; returns its exit status."""
    import os
    import shutil
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="qing-serve-") as tmp:
        template_file = None
        if template is not None:
            template_file = Path(tmp) / "chat_template.jinja"
            template_file.write_text(persona_template(template, system), encoding="utf-8")
        cmd = vllm_command(src, opts, name, template_file, shutil.which("vllm"))
        env = dict(os.environ)
        if opts.api_key:
            env["VLLM_API_KEY"] = opts.api_key  # in its environment, not in `ps` output
        note(_("starting vLLM: {command}").format(command=" ".join(cmd)))
        proc = subprocess.Popen(cmd, env=env)
        try:
            return proc.wait()
        except KeyboardInterrupt:  # the terminal sent vLLM the same Ctrl+C; give it time to stop
            try:
                return proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                return proc.wait()


def _vllm_persona(src: Source, system_override: str | None) -> tuple[str | None, str | None]:
    """(system prompt, chat template) for vLLM: the run's, as qing infer would use them."""
    from qing.model import chat_format as chat
    run = Run.open(src.run_dir) if src.run_dir else None
    system = system_override if system_override is not None else (run.system_prompt if run else None)
    base, adapter = _vllm_weights(src)
    template = run.template if run else "auto"
    return system or None, chat.load_tokenizer(adapter or Path(base), template).chat_template
