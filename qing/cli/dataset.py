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
    examples,
    progress_bar,
    say_warning,
)
from qing.cli.params import takes
from qing.cli.sources import processes
from qing.dataset.options import DEFAULT_SYSTEM_PROMPT, CleanOptions, LlmOptions
from qing.errors import QingError
from qing.i18n import _

# --- clean ---------------------------------------------------------------------

@command("clean", epilog=examples(
    "qing clean messages.jsonl",
    "qing clean messages.jsonl --groups --replace names.txt --blocked-words 密码,暗号",
))
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
    with progress_bar(_("reading"), "MB", scale=1e6) as progress:
        result = clean(messages, output, opts, force, workers=workers or None, progress=progress)
    if plot:
        from qing.dataset.clean import plot_lengths

        plot_lengths(result.report, output / "lengths.png")
    _print_clean_summary(result)


def _print_clean_summary(result) -> None:
    from rich.table import Table

    from qing.dataset.clean.report import reason, token_method

    r = result.report
    table = Table(title=f"qing clean -> {result.output}", show_header=True, header_style="bold")
    table.add_column(_("step"))
    table.add_column(_("count"), justify="right")
    table.add_column(_("why"))
    table.add_row(_("messages read"), f"{r['input']['messages']:,}",
                  _("{count:,} yours").format(count=r["input"]["owner_messages"]))
    for title, key in ((_("messages dropped"), "dropped_messages"), (_("turns dropped"), "dropped_turns"),
                       (_("turns changed"), "turn_changes"), (_("samples dropped"), "dropped_samples"),
                       (_("personal data redacted"), "pii_redacted")):
        for why, n in sorted(r[key].items(), key=lambda kv: -kv[1]):
            table.add_row(title, f"{n:,}", reason(why))
    out = r["output"]
    table.add_row(_("samples written"), f"{out['train'] + out['eval']:,}",
                  _("train {train:,}, eval {eval:,}, {tokens:,} tokens ({method})").format(
                      train=out["train"], eval=out["eval"], tokens=r["tokens"]["total"],
                      method=token_method(r["tokens"]["method"])))
    console.print(table)
    lengths = r["lengths"]
    if lengths["turn_chars"] and lengths["sample_tokens"]:  # both empty when no sample was made
        t, s = lengths["turn_chars"], lengths["sample_tokens"]
        console.print(_("turn length (characters): median {turn_median}, p90 {turn_p90}, max {turn_max}; sample "
                        "tokens: median {sample_median}, p90 {sample_p90}, max {sample_max}").format(
            turn_median=t["p50"], turn_p90=t["p90"], turn_max=t["max"],
            sample_median=s["p50"], sample_p90=s["p90"], sample_max=s["max"]))
    rate = r["input"]["messages"] / max(result.seconds, 1e-9)
    console.print(_("done in {seconds:.1f} s ({rate:,.0f} messages/s, {processes}); report: {report}").format(
        seconds=result.seconds, rate=rate, processes=processes(result.workers), report=result.output / "report.json"))
    if not out["train"]:
        say_warning(_("no training sample was made; see the dropped counts above."))


# --- clean-llm -------------------------------------------------------------------

@command("clean-llm", epilog=examples(
    "qing clean-llm dataset --base-url http://127.0.0.1:1234/v1 --model qwen3-8b",
))
@takes(LlmOptions, env_prefix="LLM_")
def clean_llm_cmd(
    dataset: Optional[Path] = typer.Argument(None, help="Dataset directory from `qing clean`."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Output directory (default: <DATASET>-llm)."),
    check_only: bool = typer.Option(False, "--check", help="Only test the connection and list the models."),
    force: bool = typer.Option(False, "--force", help="Write a finished output directory again."),
    opts: LlmOptions = None,
) -> None:
    """Score samples with an OpenAI-compatible server (LM Studio, Ollama, vLLM) and keep the good ones."""
    from qing.dataset.clean_llm import check, clean_llm, dropped_reason

    for name in ("openai", "httpx", "httpcore"):  # request logs stay out of our output, --verbose included
        logging.getLogger(name).setLevel(logging.WARNING)
    if check_only:
        models = check(opts)
        console.print(_("{url} is reachable; models: {models}").format(
            url=escape(opts.base_url), models=escape(", ".join(models)) or _("none")))
        return
    if dataset is None:
        raise QingError(_("give the dataset directory that `qing clean` wrote, e.g. qing clean-llm dataset."))
    output = output or dataset.with_name(dataset.name + "-llm")
    with progress_bar(_("scoring"), _("samples")) as update:
        result = clean_llm(dataset, output, opts, force, lambda done, total, failed: update(
            done, total, _("{count} failed").format(count=failed) if failed else ""))
    r = result.report
    histogram = "  ".join(f"{k}: {n}" for k, n in r["scores"].items())
    console.print(_("scores  {histogram}").format(histogram=histogram))
    dropped = ", ".join(f"{dropped_reason(why)} {n}" for why, n in r["dropped"].items() if n) or _("none")
    console.print(_("kept train {train:,}, eval {eval:,}; dropped {dropped} -> {output}").format(
        train=r["kept"]["train"], eval=r["kept"]["eval"], dropped=dropped, output=result.output))
    q = r["requests"]
    console.print(_("{sent} requests ({retries} retries, {splits} splits), {prompt_tokens:,} prompt tokens, {cached} "
                    "from the cache, in {seconds:.1f} s").format(
        sent=q["sent"], retries=q["retries"], splits=q["splits"], prompt_tokens=q["prompt_tokens"],
        cached=r["input"]["reused_from_cache"], seconds=result.seconds))
