"""The `qing` command's frame: the typer app, the console, how a command's errors, interruptions and progress are
shown, and what several commands share. The commands themselves live beside this module, one module per part of
the pipeline (sources, dataset, model, tools); each parses its options and calls one function of the package."""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import signal
import threading
import warnings

import typer
from rich.console import Console
from rich.markup import escape

from qing import __version__
from qing.config import load_env_file
from qing.errors import QingError
from qing.extras import extra_of, install_hint
from qing.i18n import _, choose_language, language, set_language

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
state = {"verbose": False}

def _version(value: bool) -> None:
    if value:
        console.print(f"qing {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    verbose: bool = typer.Option(False, "--verbose", "-v", envvar="QING_VERBOSE",
                                 help="Show debug logs and full tracebacks."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    lang: str = typer.Option("", "--lang", envvar="QING_LANG", show_default=False,
                             help="Language of qing's messages and reports: zh or en. Default: zh under a Chinese "
                                  "locale (LANG=zh_CN...), else en. --help stays English."),
) -> None:
    try:
        load_env_file()
    except QingError as e:
        _choose_language(lang)
        say_error(str(e))
        raise typer.Exit(2) from None
    _choose_language(lang)
    _stop_on_signals()
    # the flag and the environment were read before .env was loaded: let a .env value count too
    state["verbose"] = verbose or os.environ.get("QING_VERBOSE", "").lower() in ("1", "true", "yes", "on")
    logging.basicConfig(level=logging.DEBUG if state["verbose"] else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


def _choose_language(flag: str) -> None:
    """The flag, else QING_LANG from the environment or the .env just loaded, else the locale."""
    environ = {**os.environ, "QING_LANG": flag} if flag else os.environ
    try:
        set_language(choose_language(environ))
    except ValueError:
        console.print(f"[red]error:[/red] --lang / QING_LANG is {escape(repr(environ['QING_LANG']))}; "
                      "use zh (中文) or en (English).")
        raise typer.Exit(2) from None


def lead(label: str, color: str) -> str:
    """LABEL (translated) in COLOR, then the separator of the language: "error: ..." / "错误：..." ."""
    return f"[{color}]{label}[/{color}]" + ("：" if language() == "zh" else ": ")


def say_error(text: str) -> None:
    """error: TEXT (plain text: nothing in it is read as markup)."""
    console.print(lead(_("error"), "red") + escape(text))


def say_warning(text: str) -> None:
    """warning: TEXT (plain text: nothing in it is read as markup)."""
    console.print(lead(_("warning"), "yellow") + escape(text))


def system_error(e: OSError) -> str:
    """One sentence for an error of the operating system: what failed, on which file, and what to do."""
    where = f" ({e.filename})" if e.filename else ""
    what = e.strerror or str(e) or type(e).__name__
    if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return _("the disk is full{where}; free some space or write the output elsewhere with -o.").format(where=where)
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return _("no permission to write or read{where}: {what}; choose another path with -o, or fix its "
                 "permissions.").format(where=where, what=what)
    if e.errno == errno.EIO:
        return _("the disk could not read or write{where} (I/O error); check the drive, then run again.").format(
            where=where)
    return f"{what}{where}."


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl+C's KeyboardInterrupt would be: the same clean-up runs."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _stop_on_signals() -> None:
    """SIGTERM (kill, systemd, a rented box shutting down) and SIGHUP (a closed terminal or SSH session) stop a
    command as Ctrl+C does: temporary files - decrypted databases among them - are removed on the way out. A signal
    the caller ignores stays ignored: `nohup qing finetune ... &` must outlive the SSH session that started it."""
    if threading.current_thread() is not threading.main_thread():
        return
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name) and signal.getsignal(getattr(signal, name)) != signal.SIG_IGN:
            signal.signal(getattr(signal, name), _raise_stopped)


def _raise_stopped(signum, frame):
    raise Stopped(signum)


def stopped_by(signum: int) -> str:
    """What stopped a command, as its last line opens: "interrupted" (Ctrl+C) or "stopped by SIGTERM"."""
    if signum == signal.SIGINT:
        return _("interrupted")
    return _("stopped by {signal}").format(signal=signal.Signals(signum).name)


def examples(*lines: str) -> str:
    """A command's --help epilog: a few real command lines (typer joins single newlines, so each is a paragraph)."""
    return "Examples:\n\n" + "\n\n".join(f"  $ {line}" for line in lines)


def command(name: str, **settings):
    """Register a subcommand whose QingError becomes one red sentence and a non-zero exit."""

    def register(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except QingError as e:
                if state["verbose"]:
                    console.print_exception()
                say_error(str(e))
                raise typer.Exit(e.exit_code) from None
            except KeyboardInterrupt as e:
                signum = getattr(e, "signum", signal.SIGINT)
                with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone
                    console.print(lead(stopped_by(signum), "yellow") + _("nothing half-written was left behind."))
                raise typer.Exit(128 + signum) from None
            except (typer.Exit, typer.Abort):
                raise
            except OSError as e:  # the machine, not qing: a full disk, a read-only folder, a failing drive
                if state["verbose"]:
                    raise
                say_error(system_error(e))
                raise typer.Exit(1) from None
            except Exception as e:  # a bug, not a user error: say so, trace only on request
                if type(e).__name__ == "DatabaseError" and type(e).__module__ in ("sqlite3", "sqlcipher3.dbapi2"):
                    say_error(_("a database is damaged ({reason}); copy it again from the source, or decrypt it "
                                "again.").format(reason=e))
                    raise typer.Exit(1) from None
                extra = extra_of(e.name or "") if isinstance(e, ModuleNotFoundError) else None
                if extra and not state["verbose"]:
                    advice = _("`qing {command}` needs {module}, from the {extra} extra: {install}.").format(
                        command=name, module=e.name, extra=extra, install=install_hint(extra))
                    say_error(advice)
                    raise typer.Exit(1) from None
                if state["verbose"]:
                    raise
                console.print(f"[red]{_('unexpected error')}[/red] ({type(e).__name__}); " + _(
                    "this is a bug in qing. Re-run with --verbose for the traceback and report it."))
                raise typer.Exit(1) from None

        return app.command(name, **settings)(run)

    return register


@contextlib.contextmanager
def progress_bar(label: str, unit: str, scale: float = 1.0):
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
        digits = 0 if (total or done) / scale >= 10 else 1  # a small file: 0.3/1.2 MB, not 0/1 MB
        count = f"{done / scale:,.{digits}f}/{total / scale:,.{digits}f} {unit}"
        bar.update(task, completed=done, total=total, count=count, rate=rate, note=note)

    try:
        yield update
    finally:
        if task is not None:
            bar.stop()

def quiet_libraries() -> None:
    """transformers / hub / bitsandbytes chatter stays out of the output unless --verbose."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("bitsandbytes", "accelerate", "peft", "modelscope", "modelscope_hub", "huggingface_hub"):
        logging.getLogger(name).setLevel(logging.DEBUG if state["verbose"] else logging.ERROR)
    try:
        import transformers
    except ImportError:  # the light install (no train extra): nothing of it to quiet; doctor says what is missing
        return

    if not state["verbose"]:
        warnings.filterwarnings("ignore", category=FutureWarning)  # deprecation notes meant for developers
    transformers.logging.set_verbosity(logging.INFO if state["verbose"] else logging.ERROR)
    transformers.utils.logging.disable_progress_bar()

LLAMA_CPP_HELP = "A llama.cpp checkout: its convert_hf_to_gguf.py / llama-quantize for what qing does not do natively."

def main() -> None:
    app(prog_name="qing")
