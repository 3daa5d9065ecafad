"""`qing clean` and `qing clean-llm`: messages -> chat samples."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from qing.cli.app import (
    command,
    console,
    progress_bar,
)
from qing.cli.params import takes
from qing.dataset.options import DEFAULT_SYSTEM_PROMPT, CleanOptions, LlmOptions
from qing.errors import QingError

# --- clean ---------------------------------------------------------------------

@command("clean")
@takes(CleanOptions)
def clean_cmd(
    messages: Path = typer.Argument(..., help="messages.jsonl from `qing export`."),
    output: Path = typer.Option(Path("dataset"), "--output", "-o", help="Output directory."),
    blocked_words: Optional[str] = typer.Option(None, "--blocked-words", envvar="QING_BLOCKED_WORDS",
                                                help="Comma-separated words, or a file with one per line: "
                                                     "a turn holding one is dropped."),
    replace: Optional[Path] = typer.Option(None, "--replace", envvar="QING_REPLACE",
                                           help="File of 'old => new' lines (e.g. real names -> pseudonyms)."),
    system_prompt: str = typer.Option(DEFAULT_SYSTEM_PROMPT, "--system-prompt", envvar="QING_SYSTEM_PROMPT",
                                      help="System prompt; {owner} becomes your name."),
    no_system: bool = typer.Option(False, "--no-system", envvar="QING_NO_SYSTEM", help="No system turn."),
    workers: int = typer.Option(0, "--workers", envvar="QING_WORKERS", min=0,
                                help="Processes for large files; 0 = one per core (at most 4)."),
    plot: bool = typer.Option(False, "--plot", help="Also write lengths.png (needs matplotlib)."),
    force: bool = typer.Option(False, "--force", help="Replace the output directory if it exists."),
    opts: CleanOptions = None,
) -> None:
    """Clean messages into chat samples: DIR/train.jsonl, eval.jsonl, report.json."""
    from qing.dataset.clean import clean, pyplot, read_replacements, read_word_list

    if plot:
        pyplot()  # missing matplotlib: say so before the work, not after
    opts.blocked_words = read_word_list(blocked_words)
    opts.replacements = read_replacements(replace) if replace else {}
    opts.system_prompt = None if no_system else system_prompt
    with progress_bar("reading", "MB", scale=1e6) as progress:
        result = clean(messages, output, opts, force, workers=workers or None, progress=progress)
    if plot:
        from qing.dataset.clean import plot_lengths

        plot_lengths(result.report, output / "lengths.png")
    _print_clean_summary(result)


def _print_clean_summary(result) -> None:
    from rich.table import Table

    r = result.report
    table = Table(title=f"qing clean -> {result.output}", show_header=True, header_style="bold")
    table.add_column("step")
    table.add_column("count", justify="right")
    table.add_column("why")
    table.add_row("messages read", f"{r['input']['messages']:,}", f"{r['input']['owner_messages']:,} yours")
    for title, key in (("messages dropped", "dropped_messages"), ("turns dropped", "dropped_turns"),
                       ("turns changed", "turn_changes"), ("samples dropped", "dropped_samples"),
                       ("personal data redacted", "pii_redacted")):
        for why, n in sorted(r[key].items(), key=lambda kv: -kv[1]):
            table.add_row(title, f"{n:,}", why)
    out = r["output"]
    table.add_row("samples written", f"{out['train'] + out['eval']:,}",
                  f"train {out['train']:,}, eval {out['eval']:,}, {r['tokens']['total']:,} tokens "
                  f"({r['tokens']['method']})")
    console.print(table)
    lengths = r["lengths"]
    if lengths["turn_chars"] and lengths["sample_tokens"]:  # both empty when no sample was made
        t, s = lengths["turn_chars"], lengths["sample_tokens"]
        console.print(f"turn length (characters): median {t['p50']}, p90 {t['p90']}, max {t['max']}; "
                      f"sample tokens: median {s['p50']}, p90 {s['p90']}, max {s['max']}")
    rate = r["input"]["messages"] / max(result.seconds, 1e-9)
    console.print(f"done in {result.seconds:.1f} s ({rate:,.0f} messages/s, {result.workers} "
                  f"process{'es' if result.workers > 1 else ''}); report: {result.output / 'report.json'}")
    if not out["train"]:
        console.print("[yellow]warning[/yellow]: no training sample was made; see the dropped counts above.")


# --- clean-llm -------------------------------------------------------------------

@command("clean-llm")
@takes(LlmOptions, env_prefix="LLM_")
def clean_llm_cmd(
    dataset: Optional[Path] = typer.Argument(None, help="Dataset directory from `qing clean`."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Output directory (default: <DATASET>-llm)."),
    check_only: bool = typer.Option(False, "--check", help="Only test the connection and list the models."),
    force: bool = typer.Option(False, "--force", help="Write a finished output directory again."),
    opts: LlmOptions = None,
) -> None:
    """Score samples with an OpenAI-compatible server (LM Studio, Ollama, vLLM) and keep the good ones."""
    from qing.dataset.clean_llm import check, clean_llm

    for name in ("openai", "httpx", "httpcore"):  # request logs stay out of our output, --verbose included
        logging.getLogger(name).setLevel(logging.WARNING)
    if check_only:
        models = check(opts)
        console.print(f"{escape(opts.base_url)} is reachable; models: {escape(', '.join(models)) or 'none'}")
        return
    if dataset is None:
        raise QingError("give the dataset directory that `qing clean` wrote, e.g. qing clean-llm dataset.")
    output = output or dataset.with_name(dataset.name + "-llm")
    with progress_bar("scoring", "samples") as update:
        result = clean_llm(dataset, output, opts, force,
                           lambda done, total, failed: update(done, total, f"{failed} failed" if failed else ""))
    r = result.report
    histogram = "  ".join(f"{k}: {n}" for k, n in r["scores"].items())
    console.print(f"scores  {histogram}")
    dropped = ", ".join(f"{why} {n}" for why, n in r["dropped"].items() if n) or "none"
    kept = f"kept train {r['kept']['train']:,}, eval {r['kept']['eval']:,}"
    console.print(f"{kept}; dropped {dropped} -> {result.output}")
    q = r["requests"]
    console.print(f"{q['sent']} requests ({q['retries']} retries, {q['splits']} splits), {q['prompt_tokens']:,} "
                  f"prompt tokens, {r['input']['reused_from_cache']} from the cache, in {result.seconds:.1f} s")
