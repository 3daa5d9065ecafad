"""The `qing` command: one thin typer function per subcommand, in pipeline order.

Each function parses options and calls one module of the package; the
module does the work and knows nothing of typer. Errors a user can cause
are QingError: shown as one sentence, exit code non-zero, no traceback
(unless --verbose).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import getpass
import logging
import os
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from qing import __version__
from qing.config import load_env_file
from qing.dataset.clean import DEFAULT_SYSTEM_PROMPT
from qing.errors import QingError
from qing.model.finetune import DEFAULT_EXPERT_PATTERNS, DEFAULT_ROUTER_PATTERNS, DEFAULT_TARGETS

app = typer.Typer(
    help="qing: turn your own QQ chat history into a chat model that talks like you.\n\n"
         "Steps, in order: decrypt -> export -> clean -> clean-llm -> finetune -> infer -> gguf -> quantize; "
         "then eval (does it sound like you?) and serve (an OpenAI-compatible API for bots). "
         "demo runs the whole chain on a built-in sample; doctor checks this machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, highlight=False, soft_wrap=True)  # one message, one line: greppable
_state = {"verbose": False}

KEY_HELP = "Database key (passphrase). Safer from QING_KEY or .env, or typed at the prompt: not in shell history."
HMAC_HELP = "HMAC algorithm: auto tries the header's, then sha1, sha512, sha256."
UID_HELP = "Android only: derive the key from your uid (u_..., from files/uid/) and the database header."

# options that infer, eval and serve share: one definition each
GpuLayers = Annotated[int, typer.Option(
    "--gpu-layers", envvar="QING_GPU_LAYERS",
    help="GGUF: layers offloaded to the GPU (-1: all), when llama.cpp has GPU support.")]
Temperature = Annotated[float, typer.Option(
    "--temperature", envvar="QING_TEMPERATURE", min=0.0, max=2.0,
    help="Sampling temperature; 0 = greedy (serve: for requests that set none).")]
TopP = Annotated[float, typer.Option("--top-p", envvar="QING_TOP_P", min=0.0, max=1.0,
                                     help="Nucleus sampling (top_p).")]
InferQuant = Annotated[str, typer.Option("--quant", envvar="QING_INFER_QUANT",
                                         help="transformers: 4bit / 8bit to fit small cards (CUDA), or none.")]


def _version(value: bool) -> None:
    if value:
        console.print(f"qing {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    verbose: bool = typer.Option(False, "--verbose", "-v", envvar="QING_VERBOSE",
                                 help="Show debug logs and full tracebacks."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    load_env_file()
    _stop_on_signals()
    # the flag and the environment were read before .env was loaded: let a .env value count too
    _state["verbose"] = verbose or os.environ.get("QING_VERBOSE", "").lower() in ("1", "true", "yes", "on")
    logging.basicConfig(level=logging.DEBUG if _state["verbose"] else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


def system_error(e: OSError) -> str:
    """One sentence for an error of the operating system: what failed, on which file, and what to do."""
    where = f" ({e.filename})" if e.filename else ""
    what = e.strerror or str(e) or type(e).__name__
    if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return f"the disk is full{where}; free some space or write the output elsewhere with -o."
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"no permission to write or read{where}: {what}; choose another path with -o, or fix its permissions."
    if e.errno == errno.EIO:
        return f"the disk could not read or write{where} (I/O error); check the drive, then run again."
    return f"{what}{where}."


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl+C's KeyboardInterrupt would be: the same clean-up runs."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _stop_on_signals() -> None:
    """SIGTERM (kill, systemd, a rented box shutting down) and SIGHUP (a closed terminal or SSH session) stop a
    command as Ctrl+C does: temporary files - decrypted databases among them - are removed on the way out."""
    if threading.current_thread() is not threading.main_thread():
        return
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _raise_stopped)


def _raise_stopped(signum, frame):
    raise Stopped(signum)


OPTIONAL_MODULES = {  # what an extra brings -> the extra (pyproject.toml)
    **dict.fromkeys(("torch", "transformers", "peft", "accelerate", "bitsandbytes", "modelscope",
                     "huggingface_hub", "safetensors"), "train"),
    "gguf": "gguf", "llama_cpp": "gguf", "openai": "llm", "matplotlib": "plot",
}


def command(name: str, **settings):
    """Register a subcommand whose QingError becomes one red sentence and a non-zero exit."""

    def register(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except QingError as e:
                if _state["verbose"]:
                    console.print_exception()
                console.print(f"[red]error:[/red] {escape(str(e))}")
                raise typer.Exit(e.exit_code) from None
            except KeyboardInterrupt as e:
                signum = getattr(e, "signum", signal.SIGINT)
                with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone
                    what = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
                    console.print(f"[yellow]{what}[/yellow]: nothing half-written was left behind.")
                raise typer.Exit(128 + signum) from None
            except (typer.Exit, typer.Abort):
                raise
            except OSError as e:  # the machine, not qing: a full disk, a read-only folder, a failing drive
                if _state["verbose"]:
                    raise
                console.print(f"[red]error:[/red] {escape(system_error(e))}")
                raise typer.Exit(1) from None
            except Exception as e:  # a bug, not a user error: say so, trace only on request
                if type(e).__name__ == "DatabaseError" and type(e).__module__ in ("sqlite3", "sqlcipher3.dbapi2"):
                    console.print(f"[red]error:[/red] a database is damaged ({escape(str(e))}); copy it again from "
                                  "the source, or decrypt it again.")
                    raise typer.Exit(1) from None
                extra = OPTIONAL_MODULES.get((getattr(e, "name", None) or "").split(".")[0]) \
                    if isinstance(e, ModuleNotFoundError) else None
                if extra and not _state["verbose"]:
                    advice = f"`qing {name}` needs {e.name}, from the {extra} extra: pip install 'qing[{extra}]' " \
                             f"(or -e \".[{extra}]\" in the repo)."
                    console.print(f"[red]error:[/red] {escape(advice)}")
                    raise typer.Exit(1) from None
                if _state["verbose"]:
                    raise
                console.print(f"[red]unexpected error[/red] ({type(e).__name__}); this is a bug in qing. "
                              "Re-run with --verbose for the traceback and report it.")
                raise typer.Exit(1) from None

        return app.command(name, **settings)(run)

    return register


@contextlib.contextmanager
def _progress(label: str, unit: str, scale: float = 1.0):
    """A progress bar for long work: done/total, rate, elapsed, remaining; yields update(done, total, note="")."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn(label), BarColumn(), TextColumn("{task.fields[count]}"), TextColumn("{task.fields[rate]}"),
               TextColumn("{task.fields[note]}"), TimeElapsedColumn(), TimeRemainingColumn())
    bar, task = Progress(*columns, console=console), None

    def update(done: int, total: int, note: str = "") -> None:
        nonlocal task
        if task is None:  # shown from the first update on: bad input fails before, with its one sentence only
            bar.start()
            task = bar.add_task(label, total=None, count="", rate="", note="")
        elapsed = bar.tasks[0].elapsed or 0
        speed = done / scale / elapsed if elapsed else 0
        rate = f"{speed:,.{0 if speed >= 10 else 1}f} {unit}/s" if elapsed else ""
        bar.update(task, completed=done, total=total, count=f"{done / scale:,.0f}/{total / scale:,.0f} {unit}",
                   rate=rate, note=note)

    try:
        yield update
    finally:
        if task is not None:
            bar.stop()


def _read_key(key: Optional[str], db: Path, uid: Optional[str] = None) -> str:
    """The key from the flag / QING_KEY / .env, else derived from an Android uid, else a no-echo prompt."""
    if key:
        return key
    if uid:
        from qing.sources.qqnt.decrypt import key_from_uid

        return key_from_uid(db, uid)
    if sys.stdin.isatty():
        return getpass.getpass(f"Key for {db.name} (not shown): ").strip("\r\n")
    raise QingError(f"{db} is encrypted and no key was given: pass --key, set QING_KEY in the environment "
                    "or .env, or run in a terminal to be asked for it.")


# --- decrypt -------------------------------------------------------------------

@command("decrypt")
def decrypt_cmd(
    input: Path = typer.Argument(..., help="Encrypted QQ NT database, e.g. nt_msg.db (a -wal file beside it "
                                           "is read too)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="Plain SQLite output (default: ./<input stem>.plain.db)."),
    key: Optional[str] = typer.Option(None, "--key", envvar="QING_KEY", help=KEY_HELP, show_default=False),
    hmac: str = typer.Option("auto", "--hmac", envvar="QING_HMAC", help=HMAC_HELP),
    uid: Optional[str] = typer.Option(None, "--uid", envvar="QING_UID", help=UID_HELP),
    force: bool = typer.Option(False, "--force", help="Overwrite the output if it exists."),
) -> None:
    """Decrypt a QQ NT database (nt_msg.db, profile_info.db, ...) into plain SQLite."""
    from qing.sources.qqnt.decrypt import decrypt

    key = _read_key(key, input, uid)
    with console.status("decrypting ..."):
        result = decrypt(input, key, output, hmac.lower(), force)
    rows = ", ".join(f"{name} {count:,}" for name, count in result.tables.items() if count) or "no rows"
    console.print(f"opened with [bold]{result.hmac}[/bold] "
                  f"({'QQ NT header stripped' if result.qq_header else 'no QQ NT header'}; "
                  f"{_wal_note(result.wal_frames)})")
    console.print(f"wrote {result.output} ({result.output.stat().st_size / 1e6:.1f} MB, {rows}) "
                  f"in {result.seconds:.1f} s")


def _wal_note(frames: int) -> str:
    return f"{frames} WAL frame{'' if frames == 1 else 's'} included" if frames else "no WAL"


# --- export --------------------------------------------------------------------

@command("export")
def export_cmd(
    db: Path = typer.Argument(..., help="nt_msg.db (plain from `qing decrypt`, or encrypted with --key), or "
                                        "another tool's export (WeClone CSV)."),
    source: str = typer.Option("auto", "--from", envvar="QING_FROM",
                               help="Input format: auto (by content), qq-nt, qce (QQ Chat Exporter), weclone-csv, "
                                    "telegram (Telegram Desktop result.json)."),
    output: Path = typer.Option(Path("messages.jsonl"), "--output", "-o", help="Output file."),
    profile: Optional[Path] = typer.Option(None, "--profile", envvar="QING_PROFILE",
                                           help="profile_info.db (plain or encrypted with --key) for friends' names."),
    me: Optional[int] = typer.Option(None, "--me", envvar="QING_ME", min=1,
                                     help="Your QQ number, or Telegram user id (default: detected)."),
    groups: bool = typer.Option(False, "--groups/--no-groups", envvar="QING_GROUPS", help="Also export group chats."),
    key: Optional[str] = typer.Option(None, "--key", envvar="QING_KEY", help=KEY_HELP, show_default=False),
    hmac: str = typer.Option("auto", "--hmac", envvar="QING_HMAC", help=HMAC_HELP),
    uid: Optional[str] = typer.Option(None, "--uid", envvar="QING_UID", help=UID_HELP),
    fmt: str = typer.Option("jsonl", "--format", envvar="QING_EXPORT_FORMAT",
                            help="jsonl (messages.jsonl, for qing clean) or csv (WeClone's CSV layout)."),
    tz: str = typer.Option("Asia/Shanghai", "--tz", envvar="QING_TZ", help="Time zone for CSV times."),
    workers: int = typer.Option(0, "--workers", envvar="QING_WORKERS", min=0,
                                help="Processes for large databases; 0 = one per core (at most 4)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output if it exists."),
) -> None:
    """Export messages to messages.jsonl (one message a line) or WeClone CSV."""
    from qing.sources import export_other as sources
    from qing.sources.qqnt.decrypt import is_plain_sqlite
    from qing.sources.qqnt.export import export

    source = source.lower()
    if source not in sources.FORMATS:
        raise QingError(f"unknown --from {source!r}; use {', '.join(sources.FORMATS)}.")
    if not db.exists():
        raise QingError(f"input {db} does not exist.")
    if source == "auto":
        source = sources.detect(db)
    if source == "folder":
        for path, kind in sources.folder_exports(db):
            console.print(f"found {escape(str(path))} ({kind})")
    if source != "qq-nt":
        _export_other(sources, db, output, source, tz, me, fmt.lower(), force, workers)
        return
    encrypted = [p for p in (db, profile) if p and p.is_file() and not is_plain_sqlite(p)]
    if encrypted:
        key = _read_key(key, encrypted[0], uid)
    with _progress("exporting", "msg") as progress:

        def on_owner(uin: int, source: str) -> None:
            console.print(f"owner: [bold]{uin}[/bold] ({source})")

        s = export(db, output, key=key, hmac=hmac.lower(), profile=profile, me=me, groups=groups, fmt=fmt.lower(),
                   tz=tz, force=force, workers=workers or None, progress=progress, on_owner=on_owner)
    t = s.tally
    kinds = ", ".join(f"{k} {n:,}" for k, n in t.kinds.most_common())
    console.print(f"wrote {s.output}: {t.messages:,} messages in {t.chats:,} chats in {s.seconds:.1f} s "
                  f"({t.rows / max(s.seconds, 1e-9):,.0f} rows/s, {s.workers} process{'es' if s.workers > 1 else ''}); "
                  f"{t.owner_messages:,} sent by {s.owner}")
    console.print(f"by kind: {kinds or 'none'}")
    if t.skipped:
        console.print("skipped: " + ", ".join(f"{c} {n:,}" for c, n in t.skipped.most_common()))
    if t.problems:
        console.print("kept with parts left out: " + ", ".join(f"{c} {n:,}" for c, n in t.problems.most_common()))
    if not t.owner_messages:
        console.print(f"[yellow]warning[/yellow]: none of the messages was sent by {s.owner}; check --me.")


def _export_other(sources, path: Path, output: Path, source: str, tz: str, me: Optional[int], fmt: str,
                  force: bool, workers: int) -> None:
    def on_chat(chat: str, count: int, mine: int) -> None:
        note = f"{mine:,} yours" if mine else "[yellow]none yours[/yellow]: is this your export?"
        console.print(f"chat {escape(chat)}: {count:,} messages, {note}")

    with console.status(f"reading {source} ...") as status:
        s = sources.export_other(path, output, source, tz=tz, me=str(me) if me else None, fmt=fmt, force=force,
                                 workers=workers or None, on_chat=on_chat,
                                 progress=lambda n: status.update(f"reading {source}: {n:,} messages"))
    kinds = ", ".join(f"{k} {n:,}" for k, n in s.kinds.most_common())
    console.print(f"wrote {s.output}: {s.messages:,} messages in {len(s.owners):,} chats from {source} in "
                  f"{s.seconds:.1f} s ({s.messages / max(s.seconds, 1e-9):,.0f} messages/s, {s.workers} "
                  f"process{'es' if s.workers > 1 else ''})")
    console.print(f"by kind: {kinds}")


# --- clean ---------------------------------------------------------------------

@command("clean")
def clean_cmd(
    messages: Path = typer.Argument(..., help="messages.jsonl from `qing export`."),
    output: Path = typer.Option(Path("dataset"), "--output", "-o", help="Output directory."),
    merge_window: int = typer.Option(120, "--merge-window", envvar="QING_MERGE_WINDOW", min=0,
                                     help="Seconds: a sender's messages this close together form one turn."),
    session_gap: int = typer.Option(1800, "--session-gap", envvar="QING_SESSION_GAP", min=1,
                                    help="Seconds of silence that end a conversation. Lower it (600) for "
                                         "chats that run all day, raise it (3600) for slow chats."),
    max_tokens: int = typer.Option(2048, "--max-tokens", envvar="QING_MAX_TOKENS",
                                   help="Token budget of one sample (use the finetune max length)."),
    tokenizer: Optional[Path] = typer.Option(None, "--tokenizer", envvar="QING_TOKENIZER",
                                             help="tokenizer.json or model dir: count tokens exactly "
                                                  "(default: estimate, 1 per Chinese character)."),
    media: str = typer.Option("drop", "--media", envvar="QING_MEDIA",
                              help="Media-only messages ([图片] [视频] [文件] ...): drop or keep as placeholder."),
    redact_urls: bool = typer.Option(True, "--redact-urls/--keep-urls", envvar="QING_REDACT_URLS",
                                     help="Replace URLs with <网址>."),
    blocked_words: Optional[str] = typer.Option(None, "--blocked-words", envvar="QING_BLOCKED_WORDS",
                                                help="Comma-separated words, or a file with one per line: "
                                                     "a turn holding one is dropped."),
    replace: Optional[Path] = typer.Option(None, "--replace", envvar="QING_REPLACE",
                                           help="File of 'old => new' lines (e.g. real names -> pseudonyms)."),
    max_repeat: int = typer.Option(8, "--max-repeat", envvar="QING_MAX_REPEAT", min=0,
                                   help="Shorten runs of one character to this length (0: leave them)."),
    system_prompt: str = typer.Option(DEFAULT_SYSTEM_PROMPT, "--system-prompt", envvar="QING_SYSTEM_PROMPT",
                                      help="System prompt; {owner} becomes your name."),
    no_system: bool = typer.Option(False, "--no-system", envvar="QING_NO_SYSTEM", help="No system turn."),
    owner_opener: str = typer.Option("[开始聊天]", "--owner-opener", envvar="QING_OWNER_OPENER",
                                     help="User turn put before a conversation you open ('' drops your opening "
                                          "turn instead)."),
    eval_ratio: float = typer.Option(0.05, "--eval-ratio", envvar="QING_EVAL_RATIO",
                                     help="Share of samples, the latest conversations of each chat, for eval."),
    seed: int = typer.Option(42, "--seed", envvar="QING_SEED", help="Seed of the train.jsonl shuffle."),
    groups: bool = typer.Option(False, "--groups/--no-groups", envvar="QING_GROUPS",
                                help="Also make samples from group chats (others' turns named)."),
    skip_bad_lines: bool = typer.Option(False, "--skip-bad-lines", envvar="QING_SKIP_BAD_LINES",
                                        help="Skip and count lines that are not messages."),
    workers: int = typer.Option(0, "--workers", envvar="QING_WORKERS", min=0,
                                help="Processes for large files; 0 = one per core (at most 4)."),
    plot: bool = typer.Option(False, "--plot", help="Also write lengths.png (needs matplotlib)."),
    force: bool = typer.Option(False, "--force", help="Replace the output directory if it exists."),
) -> None:
    """Clean messages into chat samples: DIR/train.jsonl, eval.jsonl, report.json."""
    from qing.dataset.clean import (
        CleanOptions,
        clean,
        pyplot,
        read_replacements,
        read_word_list,
    )

    if plot:
        pyplot()  # missing matplotlib: say so before the work, not after
    opts = CleanOptions(
        merge_window=merge_window, session_gap=session_gap, max_tokens=max_tokens, tokenizer=tokenizer,
        media=media.lower(), redact_urls=redact_urls, blocked_words=read_word_list(blocked_words),
        replacements=read_replacements(replace) if replace else {}, max_repeat=max_repeat,
        system_prompt=None if no_system else system_prompt, owner_opener=owner_opener, eval_ratio=eval_ratio,
        seed=seed, groups=groups, skip_bad_lines=skip_bad_lines)
    with _progress("reading", "MB", scale=1e6) as progress:
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
    if lengths["turn_chars"]:
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
def clean_llm_cmd(
    dataset: Optional[Path] = typer.Argument(None, help="Dataset directory from `qing clean`."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Output directory (default: <DATASET>-llm)."),
    base_url: str = typer.Option("http://127.0.0.1:1234/v1", "--base-url", envvar="QING_LLM_BASE_URL",
                                 help="OpenAI-compatible endpoint: LM Studio :1234/v1, Ollama :11434/v1, "
                                      "vLLM :8000/v1."),
    model: str = typer.Option("", "--model", envvar="QING_LLM_MODEL", help="Model name as the server lists it."),
    api_key: str = typer.Option("not-needed", "--api-key", envvar="QING_LLM_API_KEY", show_default=False,
                                help="API key (local servers ignore it). Safer in QING_LLM_API_KEY or .env."),
    concurrency: int = typer.Option(4, "--concurrency", envvar="QING_LLM_CONCURRENCY", help="Requests in flight."),
    batch: int = typer.Option(8, "--batch", envvar="QING_LLM_BATCH", help="Samples per request."),
    min_score: int = typer.Option(3, "--min-score", envvar="QING_LLM_MIN_SCORE",
                                  help="Keep samples scoring at least this (1-5)."),
    remove_noise: bool = typer.Option(False, "--remove-noise", envvar="QING_LLM_REMOVE_NOISE",
                                      help="Also remove the turn pairs the model flags as noise."),
    timeout: float = typer.Option(120.0, "--timeout", envvar="QING_LLM_TIMEOUT", min=1.0, help="Seconds per answer."),
    retries: int = typer.Option(5, "--retries", envvar="QING_LLM_RETRIES",
                                help="Retries of a request on 429 / 5xx / timeouts."),
    check_only: bool = typer.Option(False, "--check", help="Only test the connection and list the models."),
    force: bool = typer.Option(False, "--force", help="Write a finished output directory again."),
) -> None:
    """Score samples with an OpenAI-compatible server (LM Studio, Ollama, vLLM) and keep the good ones."""
    from qing.dataset.clean_llm import LlmOptions, check, clean_llm

    for name in ("openai", "httpx", "httpcore"):  # request logs stay out of our output, --verbose included
        logging.getLogger(name).setLevel(logging.WARNING)
    opts = LlmOptions(base_url=base_url, model=model, api_key=api_key, concurrency=concurrency, batch=batch,
                      min_score=min_score, remove_noise=remove_noise, timeout=timeout, retries=retries)
    if check_only:
        models = check(opts)
        console.print(f"{escape(base_url)} is reachable; models: {escape(', '.join(models)) or 'none'}")
        return
    if dataset is None:
        raise QingError("give the dataset directory that `qing clean` wrote, e.g. qing clean-llm dataset.")
    output = output or dataset.with_name(dataset.name + "-llm")
    with _progress("scoring", "samples") as update:
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


# --- finetune ---------------------------------------------------------------------

def _size(size: int) -> str:
    return f"{size / 1e9:.2f} GB" if size >= 1e9 else f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB"


def _quiet_libraries() -> None:
    """transformers / hub / bitsandbytes chatter stays out of the output unless --verbose."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("bitsandbytes", "accelerate", "peft", "modelscope", "modelscope_hub", "huggingface_hub"):
        logging.getLogger(name).setLevel(logging.DEBUG if _state["verbose"] else logging.ERROR)
    import transformers

    if not _state["verbose"]:
        warnings.filterwarnings("ignore", category=FutureWarning)  # deprecation notes meant for developers
    transformers.logging.set_verbosity(logging.INFO if _state["verbose"] else logging.ERROR)
    transformers.utils.logging.disable_progress_bar()


def _train_progress(entry: dict) -> None:
    if "eval_loss" in entry:
        when = f"step {entry['step']}/{entry['max_steps']}" if entry["max_steps"] else "before training"
        console.print(f"{when}  eval loss {entry['eval_loss']:.4f}")
    elif "loss" in entry:
        eta = entry.get("eta_seconds")
        eta_text = f"  ETA {int(eta) // 60}:{int(eta) % 60:02d}" if eta is not None else ""
        console.print(f"step {entry['step']}/{entry['max_steps']}  epoch {entry['epoch']:.2f}  loss {entry['loss']:.4f}"
                      f"  lr {entry.get('learning_rate', 0):.2e}  {entry['tokens_per_second']:,.0f} tokens/s{eta_text}")


@command("finetune")
def finetune_cmd(
    dataset: Path = typer.Argument(..., help="Dataset directory from `qing clean` (train.jsonl, eval.jsonl)."),
    output: Path = typer.Option(Path("runs/qing"), "--output", "-o", help="Run directory."),
    model: str = typer.Option("Qwen/Qwen3-8B-Base", "--model", envvar="QING_MODEL",
                              help="Base model: a local directory or an id (downloaded once, resumable)."),
    source: str = typer.Option("modelscope", "--source", envvar="QING_MODEL_SOURCE",
                               help="Where a model id is fetched from: modelscope or hf."),
    models_dir: Path = typer.Option(Path("models"), "--models-dir", envvar="QING_MODELS_DIR",
                                    help="Where downloaded models are kept."),
    quant: str = typer.Option("4bit", "--quant", envvar="QING_QUANT",
                              help="4bit (QLoRA, NF4), 8bit or none; needs CUDA, the CPU trains unquantized."),
    template: str = typer.Option("auto", "--template", envvar="QING_TEMPLATE",
                                 help="auto: the model's chat template (ChatML if none); chatml: force ChatML."),
    lora_r: int = typer.Option(16, "--lora-r", envvar="QING_LORA_R", help="LoRA rank."),
    lora_alpha: int = typer.Option(32, "--lora-alpha", envvar="QING_LORA_ALPHA", help="LoRA alpha."),
    lora_dropout: float = typer.Option(0.05, "--lora-dropout", envvar="QING_LORA_DROPOUT", help="LoRA dropout."),
    target_modules: str = typer.Option(DEFAULT_TARGETS, "--target-modules", envvar="QING_TARGET_MODULES",
                                       help="Comma-separated module names that get a LoRA."),
    learning_rate: float = typer.Option(2e-4, "--learning-rate", envvar="QING_LEARNING_RATE", help="Peak LR."),
    num_train_epochs: float = typer.Option(3.0, "--num-train-epochs", envvar="QING_NUM_TRAIN_EPOCHS",
                                           help="Epochs."),
    max_steps: int = typer.Option(-1, "--max-steps", envvar="QING_MAX_STEPS",
                                  help="Stop after this many optimizer steps (-1: run the epochs)."),
    warmup_ratio: float = typer.Option(0.05, "--warmup-ratio", envvar="QING_WARMUP_RATIO",
                                       help="Share of steps warming the LR up."),
    lr_scheduler_type: str = typer.Option("cosine", "--lr-scheduler-type", envvar="QING_LR_SCHEDULER_TYPE",
                                          help="LR schedule (transformers' names: cosine, linear, constant...)."),
    weight_decay: float = typer.Option(0.0, "--weight-decay", envvar="QING_WEIGHT_DECAY", help="Weight decay."),
    per_device_train_batch_size: Optional[int] = typer.Option(
        None, "--per-device-train-batch-size", min=1, envvar="QING_PER_DEVICE_TRAIN_BATCH_SIZE",
        help="Rows per GPU per micro-step (packed rows are joined into one). Default: 1; on CUDA with Liger Kernel, "
             "as many as free memory allows, up to 8,192 tokens."),
    per_device_eval_batch_size: int = typer.Option(1, "--per-device-eval-batch-size", min=1,
                                                   envvar="QING_PER_DEVICE_EVAL_BATCH_SIZE", help="Eval rows per GPU."),
    gradient_accumulation_steps: Optional[int] = typer.Option(
        None, "--gradient-accumulation-steps", min=1, envvar="QING_GRADIENT_ACCUMULATION_STEPS",
        help="Micro-steps whose gradients add up before an update. Default: 16 rows per update in all."),
    max_length: int = typer.Option(2048, "--max-length", envvar="QING_MAX_LENGTH", min=16,
                                   help="Tokens per row; longer samples are skipped and counted."),
    max_samples: Optional[int] = typer.Option(None, "--max-samples", envvar="QING_MAX_SAMPLES",
                                              help="Use only the first N training samples."),
    max_eval_samples: Optional[int] = typer.Option(None, "--max-eval-samples", envvar="QING_MAX_EVAL_SAMPLES",
                                                   help="Use only the first N eval samples."),
    seed: int = typer.Option(42, "--seed", envvar="QING_SEED", help="Random seed."),
    logging_steps: int = typer.Option(1, "--logging-steps", envvar="QING_LOGGING_STEPS", help="Log every N steps."),
    eval_steps: int = typer.Option(50, "--eval-steps", envvar="QING_EVAL_STEPS", help="Eval loss every N steps."),
    save_steps: int = typer.Option(200, "--save-steps", envvar="QING_SAVE_STEPS", help="Checkpoint every N steps."),
    save_total_limit: int = typer.Option(2, "--save-total-limit", envvar="QING_SAVE_TOTAL_LIMIT",
                                         help="Checkpoints kept."),
    gradient_checkpointing: bool = typer.Option(True, "--gradient-checkpointing/--no-gradient-checkpointing",
                                                envvar="QING_GRADIENT_CHECKPOINTING",
                                                help="Recompute activations: much less memory, ~30% slower."),
    optim: str = typer.Option("adamw_torch_fused", "--optim", envvar="QING_OPTIM",
                              help="Optimizer (transformers' names; fused AdamW falls back to plain on CPU)."),
    packing: bool = typer.Option(True, "--packing/--no-packing", envvar="QING_PACKING",
                                 help="Pack samples into max-length rows (no attention across samples)."),
    liger: bool = typer.Option(True, "--liger/--no-liger", envvar="QING_LIGER",
                               help="On CUDA, Liger Kernel's fused kernels (loss without full logits, RMSNorm, "
                                    "SwiGLU, RoPE) when installed and the architecture is supported."),
    merge: bool = typer.Option(False, "--merge/--no-merge", envvar="QING_MERGE",
                               help="Also write OUT/merged: the adapter merged into a 16-bit copy of the base."),
    moe_enable: bool = typer.Option(False, "--moe-enable", envvar="QING_MOE_ENABLE",
                                    help="MoE models: put LoRA on experts / routers by the patterns below."),
    moe_lora_scope: str = typer.Option("expert_only", "--moe-lora-scope", envvar="QING_MOE_LORA_SCOPE",
                                       help="expert_only, router_only or all."),
    moe_expert_patterns: str = typer.Option(DEFAULT_EXPERT_PATTERNS, "--moe-expert-patterns",
                                            envvar="QING_MOE_EXPERT_PATTERNS",
                                            help="Comma-separated regexes of expert linear layers."),
    moe_router_patterns: str = typer.Option(DEFAULT_ROUTER_PATTERNS, "--moe-router-patterns",
                                            envvar="QING_MOE_ROUTER_PATTERNS",
                                            help="Comma-separated regexes of router / gate layers."),
    moe_max_experts_lora: int = typer.Option(-1, "--moe-max-experts-lora", envvar="QING_MOE_MAX_EXPERTS_LORA",
                                             help="At most this many experts per layer get a LoRA (-1: all)."),
    moe_dry_run: bool = typer.Option(False, "--moe-dry-run", envvar="QING_MOE_DRY_RUN",
                                     help="Only list the modules that would get a LoRA."),
    resume: bool = typer.Option(False, "--resume", help="Continue OUT from its latest checkpoint."),
    force: bool = typer.Option(False, "--force", help="Replace an existing run directory."),
) -> None:
    """Fine-tune a LoRA / QLoRA adapter on the chat samples: OUT/adapter, checkpoints, metrics, loss.png."""
    from qing.model.finetune import FinetuneOptions, finetune

    _quiet_libraries()
    opts = FinetuneOptions(
        model=model, source=source, models_dir=str(models_dir), quant=quant, template=template, lora_r=lora_r,
        lora_alpha=lora_alpha, lora_dropout=lora_dropout, target_modules=target_modules,
        learning_rate=learning_rate, num_train_epochs=num_train_epochs, max_steps=max_steps,
        warmup_ratio=warmup_ratio, lr_scheduler_type=lr_scheduler_type, weight_decay=weight_decay,
        per_device_train_batch_size=per_device_train_batch_size,
        per_device_eval_batch_size=per_device_eval_batch_size,
        gradient_accumulation_steps=gradient_accumulation_steps, max_length=max_length, max_samples=max_samples,
        max_eval_samples=max_eval_samples, seed=seed, logging_steps=logging_steps, eval_steps=eval_steps,
        save_steps=save_steps, save_total_limit=save_total_limit, gradient_checkpointing=gradient_checkpointing,
        optim=optim, packing=packing, liger=liger, merge=merge, moe_enable=moe_enable, moe_lora_scope=moe_lora_scope,
        moe_expert_patterns=moe_expert_patterns, moe_router_patterns=moe_router_patterns,
        moe_max_experts_lora=moe_max_experts_lora, moe_dry_run=moe_dry_run)
    main_process = int(os.environ.get("RANK", "0")) == 0
    try:
        result = finetune(dataset, output, opts, force=force, resume=resume,
                          progress=_train_progress if main_process else None,
                          note=(lambda text: console.print(escape(text))) if main_process else (lambda text: None))
    except KeyboardInterrupt:
        if main_process and any(output.glob("checkpoint-*/trainer_state.json")):
            again = escape(f"qing finetune {dataset} -o {output} --resume")
            console.print(f"[yellow]interrupted[/yellow]: no adapter was written; `{again}` continues from the last "
                          "checkpoint.")
            raise typer.Exit(130) from None
        raise
    if not main_process:
        return
    if result.dry_run_modules is not None:
        for name in result.dry_run_modules:
            print(name)
        console.print(f"{len(result.dry_run_modules)} modules would get a LoRA (dry run: nothing trained).")
        return
    evals = (f"; eval loss {result.first_eval_loss:.4f} -> {result.eval_loss:.4f}"
             if result.first_eval_loss is not None else
             f"; eval loss {result.eval_loss:.4f}" if result.eval_loss is not None else "")
    console.print(f"trained {result.steps} steps in {result.seconds:.0f} s ({result.tokens_per_second:,.0f} tokens/s)"
                  f"{evals} -> {output / 'adapter'}" + (f", {result.merged}" if result.merged else ""))


# --- infer -------------------------------------------------------------------------

@command("infer")
def infer_cmd(
    run: Optional[Path] = typer.Argument(None, help="Run directory from `qing finetune`."),
    model: Optional[str] = typer.Option(None, "--model", help="Base model (default: the run's)."),
    adapter: Optional[Path] = typer.Option(None, "--adapter", help="LoRA adapter directory."),
    merged: Optional[Path] = typer.Option(None, "--merged", help="Merged model directory (instead of an adapter)."),
    gguf: Optional[Path] = typer.Option(None, "--gguf", help="A GGUF file, run by llama.cpp (its own chat template)."),
    gpu_layers: GpuLayers = 0,
    prompt: Optional[str] = typer.Option(None, "--prompt", "-p",
                                         help="One message: print only the reply and exit (for scripts)."),
    system_prompt: Optional[str] = typer.Option(None, "--system-prompt", help="System prompt (default: the run's)."),
    temperature: Temperature = 0.7,
    top_p: TopP = 0.9,
    max_new_tokens: int = typer.Option(512, "--max-new-tokens", envvar="QING_MAX_NEW_TOKENS", min=1,
                                       help="Longest reply, in tokens."),
    quant: InferQuant = "none",
    template: str = typer.Option("auto", "--template", help="auto (the run's) or chatml."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed for reproducible sampling."),
) -> None:
    """Chat with the fine-tuned model in the terminal (or answer one --prompt)."""
    from qing.model import infer

    _quiet_libraries()
    if run is None and merged is None and model is None and gguf is None:
        raise QingError("give a run directory (qing infer runs/qing), --merged DIR, --gguf FILE, or --model with "
                        "--adapter.")
    opts = infer.InferOptions(temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens, quant=quant,
                              template=template, system_prompt=system_prompt, seed=seed)
    cm = infer.load(run, model, adapter, merged, opts, gguf=gguf, gpu_layers=gpu_layers)
    if prompt is not None:
        text = infer.reply(cm, infer.Conversation(cm.system_prompt), prompt, opts)
        print(text)
        return
    console.print(f"[dim]{escape(cm.description)}[/dim]")

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    infer.repl(cm, opts, input, write)


# --- gguf / quantize ------------------------------------------------------------------

LLAMA_CPP_HELP = "A llama.cpp checkout: its convert_hf_to_gguf.py / llama-quantize for what qing does not do natively."


@command("gguf")
def gguf_cmd(
    model_dir: Path = typer.Argument(..., help="Hugging Face model directory, or a `qing finetune` run directory."),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="GGUF file to write (default: <dir>/<name>-<outtype>.gguf)."),
    outtype: str = typer.Option("f16", "--outtype", envvar="QING_GGUF_OUTTYPE", help="f16, bf16, q8_0 or f32."),
    llama_cpp: Optional[Path] = typer.Option(None, "--llama-cpp", envvar="QING_LLAMA_CPP", help=LLAMA_CPP_HELP),
    force: bool = typer.Option(False, "--force", help="Overwrite the GGUF file and Modelfile."),
) -> None:
    """Convert a model (or a fine-tuning run) to GGUF for llama.cpp / Ollama / LM Studio, with an Ollama Modelfile."""
    import time

    from qing.files import check_output
    from qing.model import gguf

    started = time.perf_counter()
    base = model_dir
    if (model_dir / "qing-run.json").is_file():
        _quiet_libraries()
    source = gguf.model_dir_of(model_dir, note=lambda text: console.print(escape(text)))
    name = (base if source != base else source).resolve().name
    output = output or (base / f"{name}-{outtype.lower()}.gguf")
    check_output(output.parent / "Modelfile", force)  # before the long conversion, not after it
    with _progress("converting", "MB", scale=1e6) as update:
        out = gguf.convert(source, output, outtype, llama_cpp=llama_cpp, force=force, progress=update)
    modelfile = gguf.write_modelfile(out, system=gguf.run_system_prompt(source), force=force)
    console.print(f"wrote {out} ({_size(out.stat().st_size)}, {outtype.lower()}) in "
                  f"{time.perf_counter() - started:.1f} s")
    console.print(f"wrote {modelfile}: ollama create {name} -f {modelfile}")


@command("quantize")
def quantize_cmd(
    gguf_file: Optional[Path] = typer.Argument(None, help="GGUF file from `qing gguf`."),
    output: Optional[Path] = typer.Argument(None, help="Output file (default: <stem>-<TYPE>.gguf beside the input)."),
    qtype: str = typer.Option("Q4_K_M", "--type", "-t", envvar="QING_QUANT_TYPE",
                              help="Quantization type; --list shows them all."),
    list_types: bool = typer.Option(False, "--list", help="List the quantization types with a one-line guide."),
    llama_cpp: Optional[Path] = typer.Option(None, "--llama-cpp", envvar="QING_LLAMA_CPP", help=LLAMA_CPP_HELP),
    force: bool = typer.Option(False, "--force", help="Overwrite the output."),
) -> None:
    """Quantize a GGUF file (Q4_K_M and the other types that need no importance matrix)."""
    import time

    from qing.model import gguf

    if list_types:
        for name, guide in gguf.QUANT_TYPES.items():
            print(f"{name:8s} {guide}")
        return
    if gguf_file is None:
        raise QingError("give the GGUF file to quantize, e.g. qing quantize model-f16.gguf (--list shows types).")
    started = time.perf_counter()
    console.print(f"quantizing {escape(str(gguf_file))} to {escape(qtype.upper())} (minutes for an 8B model)...")
    out = gguf.quantize(gguf_file, output, qtype, llama_cpp=llama_cpp, force=force, verbose=_state["verbose"])
    size, before = out.stat().st_size, gguf_file.stat().st_size
    console.print(f"wrote {out} ({_size(size)}, {qtype.upper()}; {size / before:.0%} of the input) in "
                  f"{time.perf_counter() - started:.1f} s")
    if modelfile := gguf.repoint_modelfile(gguf_file, out):
        console.print(f"{modelfile} now points at {out.name}: ollama create NAME -f {modelfile}")


# --- demo / doctor ---------------------------------------------------------------------

@command("demo")
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

    started = time.perf_counter()
    done = demo.run(workdir, model, llm_base_url, llm_model, force,
                    say=lambda text: console.print(f"[bold cyan]{escape(text)}[/bold cyan]"))
    table = Table(title=f"qing demo in {workdir}", header_style="bold")
    for column, justify in (("step", "left"), ("output", "left"), ("size", "right"), ("time", "right")):
        table.add_column(column, justify=justify)
    for step in done:
        size = _size(step.size) if step.size else ""
        table.add_row(step.name, step.output, size, f"{step.seconds:.1f} s")
    console.print(table)
    console.print(f"done in {time.perf_counter() - started:.0f} s. Next: chat with it (qing infer "
                  f"{workdir}/runs/demo), or run it in Ollama (cd {workdir}/runs/demo && ollama create demo -f "
                  "Modelfile); then the same with your own nt_msg.db and a real model on a GPU (README).")


def _known_envvars() -> set[str]:
    root = typer.main.get_command(app)
    found = set()
    for param in [*root.params, *(p for c in root.commands.values() for p in c.params)]:
        envvar = getattr(param, "envvar", None)
        found.update([envvar] if isinstance(envvar, str) else envvar or [])
    return found


@command("doctor")
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

    _quiet_libraries()
    checks = run_checks(_known_envvars(), model, models_dir, llm_base_url, llama_cpp)
    marks = {"ok": "[green]ok[/green]", "warn": "[yellow]warn[/yellow]", "fail": "[red]FAIL[/red]"}
    table = Table(title="qing doctor", header_style="bold")
    for column in ("check", "", "found", "fix"):
        table.add_column(column)
    for c in checks:
        table.add_row(c.name, marks[c.status], escape(c.detail), escape(c.fix))
    console.print(table)
    failed = [c.name for c in checks if c.status == "fail"]
    warned = [c.name for c in checks if c.status == "warn"]
    if failed:
        raise QingError(f"required: {', '.join(failed)} - fix the rows marked FAIL above.")
    console.print(f"ready{' (with warnings: ' + ', '.join(warned) + ')' if warned else ''}.")


# --- eval ---------------------------------------------------------------------------------

@command("eval")
def eval_cmd(
    run: Path = typer.Argument(..., help="Run directory from `qing finetune`: its adapter, and the base without it."),
    dataset: Optional[Path] = typer.Option(None, "--dataset",
                                           help="Dataset directory (its eval.jsonl) or an eval .jsonl file "
                                                "(default: the run's dataset)."),
    limit: int = typer.Option(200, "--limit", envvar="QING_EVAL_LIMIT", min=0,
                              help="Evaluate the first N eval samples (0: all)."),
    gguf: Optional[list[Path]] = typer.Option(None, "--gguf", metavar="FILE",
                                              help="Also evaluate this GGUF through llama.cpp, as an extra column "
                                                   "(repeat it to compare f16 and Q4_K_M)."),
    gpu_layers: GpuLayers = 0,
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="Report directory (default: RUN/eval)."),
    temperature: Temperature = 0.7,
    top_p: TopP = 0.9,
    max_new_tokens: int = typer.Option(128, "--max-new-tokens", envvar="QING_EVAL_MAX_NEW_TOKENS", min=1,
                                       help="Longest generated reply, in tokens (a base model rambles)."),
    quant: InferQuant = "none",
    seed: int = typer.Option(42, "--seed", envvar="QING_SEED", help="Seed: context i is sampled with seed + i."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing report."),
) -> None:
    """Does it sound like you? Fit, style and variety of tuned vs base vs your real replies: report.html/.md/.json."""
    import time

    from rich.table import Table

    from qing.model import eval as evaluation

    _quiet_libraries()
    started = time.perf_counter()
    out = output or run / "eval"
    opts = evaluation.EvalOptions(temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens, seed=seed,
                                  limit=limit or None, quant=quant, gpu_layers=gpu_layers)
    with _progress("evaluating", "steps") as update:
        report, written = evaluation.eval_run(run, out, dataset, opts, tuple(gguf or ()), force, update)
    header, rows = evaluation.summary_rows(report)
    table = Table(title=f"qing eval: {report['contexts']} contexts", header_style="bold")
    for i, name in enumerate(header):
        table.add_column(escape(name), justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    console.print(table)
    if report["skipped_too_long"]:
        console.print(f"{report['skipped_too_long']} eval samples longer than the run's max length were skipped.")
    console.print(f"wrote {', '.join(str(p) for p in written)} in {time.perf_counter() - started:.0f} s")


# --- serve --------------------------------------------------------------------------------

@command("serve")
def serve_cmd(
    run: Optional[Path] = typer.Argument(None, help="Run directory from `qing finetune` (its merged model or "
                                                    "adapter; its GGUF when it holds no adapter)."),
    gguf: Optional[Path] = typer.Option(None, "--gguf", help="A GGUF file, served by llama.cpp."),
    merged: Optional[Path] = typer.Option(None, "--merged", help="Merged model directory."),
    adapter: Optional[Path] = typer.Option(None, "--adapter", help="LoRA adapter directory (with --model)."),
    model: Optional[str] = typer.Option(None, "--model", help="Base model (default: the run's)."),
    host: str = typer.Option("127.0.0.1", "--host", envvar="QING_SERVE_HOST",
                             help="Address to listen on; 0.0.0.0 lets other machines in (set an API key then)."),
    port: int = typer.Option(8000, "--port", envvar="QING_SERVE_PORT", min=0, max=65535,
                             help="Port (0: any free one, printed at start)."),
    api_key: Optional[str] = typer.Option(None, "--api-key", envvar="QING_SERVE_API_KEY", show_default=False,
                                          help="Require 'Authorization: Bearer KEY'. Safer from QING_SERVE_API_KEY "
                                               "or .env: not in shell history or ps."),
    engine: str = typer.Option("auto", "--engine", envvar="QING_SERVE_ENGINE",
                               help="auto, llama.cpp, vllm or transformers. auto: llama.cpp for a GGUF, vLLM when "
                                    "installed with CUDA, else transformers."),
    max_concurrency: int = typer.Option(8, "--max-concurrency", envvar="QING_SERVE_MAX_CONCURRENCY", min=1,
                                        help="Requests in flight + waiting; more get 429 at once (vLLM: batch size)."),
    max_connections: int = typer.Option(64, "--max-connections", envvar="QING_SERVE_MAX_CONNECTIONS", min=1,
                                        help="Open connections, idle keep-alive ones included; more get 503 and are "
                                             "closed at once (not vLLM)."),
    request_timeout: float = typer.Option(15.0, "--request-timeout", envvar="QING_SERVE_REQUEST_TIMEOUT", min=0.1,
                                          help="Seconds a client has to send a whole request (headers and body); "
                                               "idle keep-alive connections close after it too (not vLLM)."),
    model_name: Optional[str] = typer.Option(None, "--model-name", envvar="QING_SERVE_MODEL_NAME",
                                             help="Model id clients see in /v1/models (default: the run's name)."),
    gpu_layers: GpuLayers = 0,
    tensor_parallel_size: int = typer.Option(1, "--tensor-parallel-size", envvar="QING_TENSOR_PARALLEL_SIZE", min=1,
                                             help="vLLM: GPUs to split the model over."),
    system_prompt: Optional[str] = typer.Option(None, "--system-prompt",
                                                help="System prompt for requests that send none (default: the run's)."),
    temperature: Temperature = 0.7,
    top_p: TopP = 0.9,
    max_new_tokens: int = typer.Option(512, "--max-new-tokens", envvar="QING_MAX_NEW_TOKENS", min=1,
                                       help="Longest reply of requests that set no max_tokens."),
    quant: InferQuant = "none",
) -> None:
    """Serve the model as an OpenAI-compatible API (/v1/chat/completions) for QQ / WeChat / Telegram bots."""
    from qing.model import infer, serve

    def on_request(method: str, path: str, status: int, seconds: float, tokens) -> None:
        route = f"/v1{path}" if path in ("/models", "/chat/completions") else "(other path)"  # no client text
        used = f", {tokens[0]}+{tokens[1]} tokens" if tokens else " (client went away)" if status == 499 else ""
        console.print(f"[dim]{method} {route} {status} {seconds:.2f} s{used}[/dim]")

    src = serve.Source(run_dir=run, gguf=gguf, merged=merged, adapter=adapter, model=model)
    opts = serve.ServeOptions(host=host, port=port, api_key=api_key, max_concurrency=max_concurrency,
                              max_connections=max_connections, request_timeout=request_timeout, model_name=model_name,
                              gpu_layers=gpu_layers, tensor_parallel_size=tensor_parallel_size)
    defaults = infer.InferOptions(temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens, quant=quant,
                                  system_prompt=system_prompt)
    serve.serve(src, engine.lower(), opts, defaults, note=lambda text: console.print(escape(text)),
                warn=lambda text: console.print(f"[yellow]warning[/yellow]: {escape(text)}"),
                on_request=on_request, before_transformers=_quiet_libraries)
    console.print("stopped.")


def main() -> None:
    app(prog_name="qing")
