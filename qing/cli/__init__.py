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
from qing.cli.params import choice, plain, takes
from qing.config import load_env_file
from qing.dataset.clean import DEFAULT_SYSTEM_PROMPT
from qing.dataset.options import LlmOptions
from qing.errors import QingError
from qing.extras import extra_of, install_hint
from qing.model.options import ENGINES, OUTTYPES, EvalOptions, FinetuneOptions, InferOptions, ServeOptions
from qing.sources.options import HMACS, INPUT_FORMATS, OUTPUT_FORMATS

Hmac = choice("Hmac", ("auto", *HMACS), "--hmac", envvar="QING_HMAC",
              help="HMAC algorithm: auto tries the header's, then sha1, sha512, sha256.")

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
                extra = extra_of(e.name or "") if isinstance(e, ModuleNotFoundError) else None
                if extra and not _state["verbose"]:
                    advice = f"`qing {name}` needs {e.name}, from the {extra} extra: {install_hint(extra)}."
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
    hmac: Hmac = "auto",
    uid: Optional[str] = typer.Option(None, "--uid", envvar="QING_UID", help=UID_HELP),
    force: bool = typer.Option(False, "--force", help="Overwrite the output if it exists."),
) -> None:
    """Decrypt a QQ NT database (nt_msg.db, profile_info.db, ...) into plain SQLite."""
    from qing.sources.qqnt.decrypt import decrypt

    key = _read_key(key, input, uid)
    with console.status("decrypting ..."):
        result = decrypt(input, key, output, plain(hmac), force)
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
    source: choice("InputFormat", INPUT_FORMATS, "--from", envvar="QING_FROM",
                   help="Input format: auto (by content), qq-nt, qce (QQ Chat Exporter), weclone-csv, telegram "
                        "(Telegram Desktop result.json).") = "auto",
    output: Path = typer.Option(Path("messages.jsonl"), "--output", "-o", help="Output file."),
    profile: Optional[Path] = typer.Option(None, "--profile", envvar="QING_PROFILE",
                                           help="profile_info.db (plain or encrypted with --key) for friends' names."),
    me: Optional[int] = typer.Option(None, "--me", envvar="QING_ME", min=1,
                                     help="Your QQ number, or Telegram user id (default: detected)."),
    groups: bool = typer.Option(False, "--groups/--no-groups", envvar="QING_GROUPS", help="Also export group chats."),
    key: Optional[str] = typer.Option(None, "--key", envvar="QING_KEY", help=KEY_HELP, show_default=False),
    hmac: Hmac = "auto",
    uid: Optional[str] = typer.Option(None, "--uid", envvar="QING_UID", help=UID_HELP),
    fmt: choice("Format", OUTPUT_FORMATS, "--format", envvar="QING_EXPORT_FORMAT",
                help="jsonl (messages.jsonl, for qing clean) or csv (WeClone's CSV layout).") = "jsonl",
    tz: str = typer.Option("Asia/Shanghai", "--tz", envvar="QING_TZ", help="Time zone for CSV times."),
    workers: int = typer.Option(0, "--workers", envvar="QING_WORKERS", min=0,
                                help="Processes for large databases; 0 = one per core (at most 4)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output if it exists."),
) -> None:
    """Export messages to messages.jsonl (one message a line) or WeClone CSV."""
    from qing.sources import export

    source = export.resolve(db, plain(source))
    options = dict(key=lambda path: _read_key(key, path, uid), hmac=plain(hmac), profile=profile, me=me,
                   groups=groups, fmt=plain(fmt), tz=tz, force=force, workers=workers or None,
                   on_owner=lambda uin, how: console.print(f"owner: [bold]{uin}[/bold] ({how})"),
                   on_chat=_print_chat,
                   on_found=lambda path, kind: console.print(f"found {escape(str(path))} ({kind})"))
    if source != "qq-nt":
        with console.status(f"reading {source} ...") as status:
            s = export.export(db, output, source, **options,
                              counted=lambda n: status.update(f"reading {source}: {n:,} messages"))
        kinds = ", ".join(f"{k} {n:,}" for k, n in s.kinds.most_common())
        console.print(f"wrote {s.output}: {s.messages:,} messages in {len(s.owners):,} chats from {source} in "
                      f"{s.seconds:.1f} s ({s.messages / max(s.seconds, 1e-9):,.0f} messages/s, {s.workers} "
                      f"process{'es' if s.workers > 1 else ''})")
        console.print(f"by kind: {kinds}")
        return
    with _progress("exporting", "msg") as progress:
        s = export.export(db, output, source, **options, progress=progress)
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


def _print_chat(chat: str, count: int, mine: int) -> None:
    note = f"{mine:,} yours" if mine else "[yellow]none yours[/yellow]: is this your export?"
    console.print(f"chat {escape(chat)}: {count:,} messages, {note}")


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
@takes(FinetuneOptions)
def finetune_cmd(
    dataset: Path = typer.Argument(..., help="Dataset directory from `qing clean` (train.jsonl, eval.jsonl)."),
    output: Path = typer.Option(Path("runs/qing"), "--output", "-o", help="Run directory."),
    resume: bool = typer.Option(False, "--resume", help="Continue OUT from its latest checkpoint."),
    force: bool = typer.Option(False, "--force", help="Replace an existing run directory."),
    opts: FinetuneOptions = None,
) -> None:
    """Fine-tune a LoRA / QLoRA adapter on the chat samples: OUT/adapter, checkpoints, metrics, loss.png."""
    from qing.model.finetune import finetune, is_main_process
    from qing.model.run import Run

    _quiet_libraries()
    main_process = is_main_process()
    try:
        result = finetune(dataset, output, opts, force=force, resume=resume,
                          progress=_train_progress if main_process else None,
                          note=(lambda text: console.print(escape(text))) if main_process else (lambda text: None))
    except KeyboardInterrupt:
        if main_process and Run(output).checkpoints():
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
@takes(InferOptions)
def infer_cmd(
    run: Optional[Path] = typer.Argument(None, help="Run directory from `qing finetune`."),
    model: Optional[str] = typer.Option(None, "--model", help="Base model (default: the run's)."),
    adapter: Optional[Path] = typer.Option(None, "--adapter", help="LoRA adapter directory."),
    merged: Optional[Path] = typer.Option(None, "--merged", help="Merged model directory (instead of an adapter)."),
    gguf: Optional[Path] = typer.Option(None, "--gguf", help="A GGUF file, run by llama.cpp (its own chat template)."),
    gpu_layers: GpuLayers = 0,
    prompt: Optional[str] = typer.Option(None, "--prompt", "-p",
                                         help="One message: print only the reply and exit (for scripts)."),
    opts: InferOptions = None,
) -> None:
    """Chat with the fine-tuned model in the terminal (or answer one --prompt)."""
    from qing.model import infer

    _quiet_libraries()
    if run is None and merged is None and model is None and gguf is None:
        raise QingError("give a run directory (qing infer runs/qing), --merged DIR, --gguf FILE, or --model with "
                        "--adapter.")
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
    outtype: choice("OutType", OUTTYPES, "--outtype", envvar="QING_GGUF_OUTTYPE",
                    help="Type of the weights in the GGUF.") = "f16",
    llama_cpp: Optional[Path] = typer.Option(None, "--llama-cpp", envvar="QING_LLAMA_CPP", help=LLAMA_CPP_HELP),
    force: bool = typer.Option(False, "--force", help="Overwrite the GGUF file and Modelfile."),
) -> None:
    """Convert a model (or a fine-tuning run) to GGUF for llama.cpp / Ollama / LM Studio, with an Ollama Modelfile."""
    import time

    from qing.model import gguf

    outtype = plain(outtype)
    started = time.perf_counter()
    with _progress("converting", "MB", scale=1e6) as update:
        out, modelfile, name = gguf.to_gguf(model_dir, output, outtype, llama_cpp=llama_cpp, force=force,
                                            progress=update, note=lambda text: console.print(escape(text)),
                                            before_merge=_quiet_libraries)
    console.print(f"wrote {out} ({_size(out.stat().st_size)}, {outtype}) in {time.perf_counter() - started:.1f} s")
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
@takes(EvalOptions)
def eval_cmd(
    run: Path = typer.Argument(..., help="Run directory from `qing finetune`: its adapter, and the base without it."),
    dataset: Optional[Path] = typer.Option(None, "--dataset",
                                           help="Dataset directory (its eval.jsonl) or an eval .jsonl file "
                                                "(default: the run's dataset)."),
    gguf: Optional[list[Path]] = typer.Option(None, "--gguf", metavar="FILE",
                                              help="Also evaluate this GGUF through llama.cpp, as an extra column "
                                                   "(repeat it to compare f16 and Q4_K_M)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="Report directory (default: RUN/eval)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing report."),
    opts: EvalOptions = None,
) -> None:
    """Does it sound like you? Fit, style and variety of tuned vs base vs your real replies: report.html/.md/.json."""
    import time

    from rich.table import Table

    from qing.model import eval as evaluation

    _quiet_libraries()
    started = time.perf_counter()
    out = output or run / "eval"
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
@takes(ServeOptions, env_prefix="SERVE_")
@takes(InferOptions, into="defaults", exclude=("template", "seed"), changes={
    "max_new_tokens": {"help": "Longest reply of requests that set no max_tokens."},
    "system_prompt": {"help": "System prompt for requests that send none (default: the run's)."}})
def serve_cmd(
    run: Optional[Path] = typer.Argument(None, help="Run directory from `qing finetune` (its merged model or "
                                                    "adapter; its GGUF when it holds no adapter)."),
    gguf: Optional[Path] = typer.Option(None, "--gguf", help="A GGUF file, served by llama.cpp."),
    merged: Optional[Path] = typer.Option(None, "--merged", help="Merged model directory."),
    adapter: Optional[Path] = typer.Option(None, "--adapter", help="LoRA adapter directory (with --model)."),
    model: Optional[str] = typer.Option(None, "--model", help="Base model (default: the run's)."),
    engine: choice("Engine", ENGINES, "--engine", envvar="QING_SERVE_ENGINE",
                   help="auto: llama.cpp for a GGUF, vLLM when installed with CUDA, else transformers.") = "auto",
    opts: ServeOptions = None,
    defaults: InferOptions = None,
) -> None:
    """Serve the model as an OpenAI-compatible API (/v1/chat/completions) for QQ / WeChat / Telegram bots."""
    from qing.model import serve

    def on_request(method: str, path: str, status: int, seconds: float, tokens) -> None:
        route = f"/v1{path}" if path in ("/models", "/chat/completions") else "(other path)"  # no client text
        used = f", {tokens[0]}+{tokens[1]} tokens" if tokens else " (client went away)" if status == 499 else ""
        console.print(f"[dim]{method} {route} {status} {seconds:.2f} s{used}[/dim]")

    src = serve.Source(run_dir=run, gguf=gguf, merged=merged, adapter=adapter, model=model)
    serve.serve(src, plain(engine), opts, defaults, note=lambda text: console.print(escape(text)),
                warn=lambda text: console.print(f"[yellow]warning[/yellow]: {escape(text)}"),
                on_request=on_request, before_transformers=_quiet_libraries)
    console.print("stopped.")


def main() -> None:
    app(prog_name="qing")
