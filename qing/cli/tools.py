"""`qing demo` (the whole chain on the built-in sample) and `qing doctor` (is this machine ready?)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from qing.cli.app import (
    LLAMA_CPP_HELP,
    app,
    command,
    console,
    examples,
    quiet_libraries,
)
from qing.errors import QingError
from qing.files import human_size
from qing.i18n import _

# --- demo / doctor ---------------------------------------------------------------------

@command("demo", epilog=examples(
    "qing demo",
    "qing --lang zh demo --force",
))
def demo_cmd(
    workdir: Path = typer.Option(Path("qing-demo"), "--workdir", help="Directory the demo works in."),
    model: Optional[str] = typer.Option(None, "--model",
                                        help="Base model (default: a tiny model built here, CPU-friendly)."),
    llm_base_url: Optional[str] = typer.Option(None, "--llm-base-url",
                                               help="Also run clean-llm against this OpenAI-compatible server."),
    llm_model: Optional[str] = typer.Option(None, "--llm-model", help="Model name for clean-llm."),
    force: bool = typer.Option(False, "--force", help="Run again in a work directory an earlier demo made."),
) -> None:
    """Run the whole chain on a built-in sample of invented chats: decrypt ... quantize, each command shown."""
    import time

    from rich.table import Table

    from qing.cli import demo

    if model is None:
        quiet_libraries()  # the tiny model is built here: no "Writing model shards" bar
    started = time.perf_counter()
    done = demo.run(workdir, model, llm_base_url, llm_model, force,
                    say=lambda text: console.print(f"[bold cyan]{escape(text)}[/bold cyan]"))
    table = Table(title=_("qing demo in {workdir}").format(workdir=workdir), header_style="bold")
    for column, justify in ((_("step"), "left"), (_("output"), "left"), (_("size"), "right"), (_("time"), "right")):
        table.add_column(column, justify=justify)
    for step in done:
        size = human_size(step.size) if step.size else ""
        table.add_row(step.name, step.output, size, _("{seconds:.1f} s").format(seconds=step.seconds))
    console.print(table)
    console.print(_("done in {seconds:.0f} s. Next: chat with it (qing infer {workdir}/runs/demo), or run it in Ollama "
                    "(cd {workdir}/runs/demo && ollama create demo -f Modelfile); then the same with your own "
                    "nt_msg.db and a real model on a GPU (README).").format(
        seconds=time.perf_counter() - started, workdir=workdir))


def _known_envvars() -> set[str]:
    root = typer.main.get_command(app)
    found = set()
    for param in [*root.params, *(p for c in root.commands.values() for p in c.params)]:
        envvar = getattr(param, "envvar", None)
        found.update([envvar] if isinstance(envvar, str) else envvar or [])
    return found


@command("doctor", epilog=examples(
    "qing doctor",
    "qing doctor --llm-base-url http://127.0.0.1:1234/v1",
))
def doctor_cmd(
    model: str = typer.Option("Qwen/Qwen3-8B-Base", "--model", envvar="QING_MODEL",
                              help="The model you plan to fine-tune (for the disk check)."),
    models_dir: Path = typer.Option(Path("models"), "--models-dir", envvar="QING_MODELS_DIR",
                                    help="Where models are downloaded."),
    llm_base_url: Optional[str] = typer.Option(None, "--llm-base-url", envvar="QING_LLM_BASE_URL",
                                               help="OpenAI-compatible server to check (clean-llm)."),
    llama_cpp: Optional[Path] = typer.Option(None, "--llama-cpp", envvar="QING_LLAMA_CPP", help=LLAMA_CPP_HELP),
) -> None:
    """Check this machine: Python and packages, GPU and 4-bit, disk, llama.cpp, the LLM server, .env keys."""
    from rich.table import Table

    from qing.cli.doctor import run_checks

    quiet_libraries()
    checks = run_checks(_known_envvars(), model, models_dir, llm_base_url, llama_cpp)
    marks = {"ok": f"[green]{_('ok')}[/green]", "warn": f"[yellow]{_('warn')}[/yellow]",
             "fail": f"[red]{_('FAIL')}[/red]"}
    table = Table(title="qing doctor", header_style="bold")
    for column in (_("check"), "", _("found"), _("fix")):
        table.add_column(column)
    for c in checks:
        table.add_row(escape(c.name), marks[c.status], escape(c.detail), escape(c.fix))
    console.print(table)
    failed = [c.name for c in checks if c.status == "fail"]
    warned = [c.name for c in checks if c.status == "warn"]
    if failed:
        raise QingError(_("required: {checks} - fix the rows marked FAIL above.").format(checks=", ".join(failed)))
    if warned:
        console.print(_("ready (with warnings: {checks}).").format(checks=escape(", ".join(warned))))
    else:
        console.print(_("ready."))
