"""`qing decrypt` and `qing export`: where messages come from."""

from __future__ import annotations

import difflib
import getpass
import os
import sys
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
from qing.cli.params import choice, plain
from qing.errors import QingError
from qing.i18n import _
from qing.sources.options import HMACS, INPUT_FORMATS, OUTPUT_FORMATS

Hmac = choice("Hmac", ("auto", *HMACS), "--hmac", envvar="QING_HMAC",
              help="HMAC algorithm: auto tries the header's, then sha1, sha512, sha256.")

KEY_HELP = "Database key (passphrase). Safer from QING_KEY or .env, or typed at the prompt: not in shell history."
UID_HELP = "Android only: derive the key from your uid (u_..., from files/uid/) and the database header."

def _read_key(key: Optional[str], db: Path, uid: Optional[str] = None) -> str:
    """The key from the flag / QING_KEY / .env, else derived from an Android uid, else a no-echo prompt."""
    if key:
        return key
    if uid:
        from qing.sources.qqnt.decrypt import key_from_uid

        return key_from_uid(db, uid)
    if sys.stdin.isatty():
        return getpass.getpass(_("Key for {name} (not shown): ").format(name=db.name)).strip("\r\n")
    typo = difflib.get_close_matches("QING_KEY", [k for k in os.environ if k.startswith("QING_")], n=1, cutoff=0.8)
    if typo:
        raise QingError(_("{path} is encrypted and no key was given ({variable} is set: did you mean QING_KEY?): pass "
                          "--key, set QING_KEY in the environment or .env, or run in a terminal to be asked for "
                          "it.").format(path=db, variable=typo[0]))
    raise QingError(_("{path} is encrypted and no key was given: pass --key, set QING_KEY in the environment or .env, "
                      "or run in a terminal to be asked for it.").format(path=db))

# --- decrypt -------------------------------------------------------------------

@command("decrypt", epilog=examples(
    "qing decrypt nt_msg.db",
    "qing decrypt profile_info.db -o profile.plain.db",
    "qing decrypt nt_msg.db --uid u_xxxxxxxxxxxxxxxxxxxxxx",
))
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
    from qing.files import require_input
    from qing.sources.qqnt.decrypt import decrypt

    key = _read_key(key, require_input(input, _("database")), uid)  # the file first: no key asked for a missing one
    with console.status(_("decrypting ...")):
        result = decrypt(input, key, output, plain(hmac), force)
    rows = ", ".join(f"{name} {count:,}" for name, count in result.tables.items() if count) or _("no rows")
    header = _("QQ NT header stripped") if result.qq_header else _("no QQ NT header")
    console.print(_("opened with {hmac} ({header}; {wal})").format(
        hmac=f"[bold]{result.hmac}[/bold]", header=header, wal=_wal_note(result.wal_frames)))
    console.print(_("wrote {output} ({size:.1f} MB, {rows}) in {seconds:.1f} s").format(
        output=result.output, size=result.output.stat().st_size / 1e6, rows=rows, seconds=result.seconds))


def _wal_note(frames: int) -> str:
    if not frames:
        return _("no WAL")
    return (_("{count} WAL frame included") if frames == 1 else _("{count} WAL frames included")).format(count=frames)


def processes(count: int) -> str:
    """'1 process', '3 processes': how many processes a data step used, for its summary line."""
    return (_("{count} process") if count == 1 else _("{count} processes")).format(count=count)


# --- export --------------------------------------------------------------------

@command("export", epilog=examples(
    "qing export nt_msg.plain.db --profile profile_info.plain.db",
    "qing export nt_msg.plain.db --format csv -o WeClone/dataset/csv",
    "qing export qce-export/ -o messages.jsonl",
))
def export_cmd(
    db: Path = typer.Argument(..., help="nt_msg.db (plain from `qing decrypt`, or encrypted with --key), or "
                                        "another tool's export (WeClone CSV)."),
    source: choice("InputFormat", INPUT_FORMATS, "--from", envvar="QING_FROM",
                   help="Input format: auto (by content), qq-nt, qce (QQ Chat Exporter), weclone-csv, telegram "
                        "(Telegram Desktop result.json).") = "auto",
    output: Optional[Path] = typer.Option(None, "--output", "-o", show_default=False,
                                          help="Output: for jsonl a file [default: messages.jsonl]; for csv a folder "
                                               "with one folder per chat, e.g. WeClone's dataset/csv [default: "
                                               "csv]."),
    profile: Optional[Path] = typer.Option(None, "--profile", envvar="QING_PROFILE",
                                           help="profile_info.db (plain or encrypted with --key) for friends' names."),
    me: Optional[int] = typer.Option(None, "--me", envvar="QING_ME", min=1,
                                     help="Your QQ number, or Telegram user id (default: detected)."),
    groups: bool = typer.Option(False, "--groups/--no-groups", envvar="QING_GROUPS", help="Also export group chats."),
    key: Optional[str] = typer.Option(None, "--key", envvar="QING_KEY", help=KEY_HELP, show_default=False),
    hmac: Hmac = "auto",
    uid: Optional[str] = typer.Option(None, "--uid", envvar="QING_UID", help=UID_HELP),
    fmt: choice("Format", OUTPUT_FORMATS, "--format", envvar="QING_EXPORT_FORMAT",
                help="jsonl (messages.jsonl, for qing clean) or csv (a folder per chat, for WeClone).") = "jsonl",
    tz: str = typer.Option("Asia/Shanghai", "--tz", envvar="QING_TZ", help="Time zone for CSV times."),
    workers: int = typer.Option(0, "--workers", envvar="QING_WORKERS", min=0,
                                help="Processes for large databases; 0 = one per core (at most 4)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output if it exists."),
) -> None:
    """Export messages to messages.jsonl (one message a line) or WeClone CSV."""
    from qing.sources import export

    source = export.resolve(db, plain(source))
    output = output or Path("csv" if plain(fmt) == "csv" else "messages.jsonl")
    options = dict(key=lambda path: _read_key(key, path, uid), hmac=plain(hmac), profile=profile, me=me,
                   groups=groups, fmt=plain(fmt), tz=tz, force=force, workers=workers or None,
                   on_owner=_print_owner, on_chat=_print_chat,
                   on_found=lambda path, kind: console.print(_("found {path} ({kind})").format(
                       path=escape(str(path)), kind=kind)))
    if source != "qq-nt":
        with console.status(_("reading {source} ...").format(source=source)) as status:
            s = export.export(db, output, source, **options, counted=lambda n: status.update(
                _("reading {source}: {count:,} messages").format(source=source, count=n)))
        kinds = ", ".join(f"{k} {n:,}" for k, n in s.kinds.most_common())
        console.print(_("wrote {output}: {messages:,} messages in {chats:,} chats from {source} in {seconds:.1f} s "
                        "({rate:,.0f} messages/s, {processes})").format(
            output=s.output, messages=s.messages, chats=len(s.owners), source=source, seconds=s.seconds,
            rate=s.messages / max(s.seconds, 1e-9), processes=processes(s.workers)))
        console.print(_("by kind: {kinds}").format(kinds=kinds))
        return
    with progress_bar(_("exporting"), _("msg")) as progress:
        s = export.export(db, output, source, **options, progress=progress)
    from qing.sources.qqnt.export import cause

    t = s.tally
    kinds = ", ".join(f"{k} {n:,}" for k, n in t.kinds.most_common())
    console.print(_("wrote {output}: {messages:,} messages in {chats:,} chats in {seconds:.1f} s ({rate:,.0f} rows/s, "
                    "{processes}); {mine:,} sent by {owner}").format(
        output=s.output, messages=t.messages, chats=t.chats, seconds=s.seconds, rate=t.rows / max(s.seconds, 1e-9),
        processes=processes(s.workers), mine=t.owner_messages, owner=s.owner))
    console.print(_("by kind: {kinds}").format(kinds=kinds or _("none")))
    if t.skipped:
        console.print(_("skipped: {counts}").format(
            counts=", ".join(f"{cause(c)} {n:,}" for c, n in t.skipped.most_common())))
    if t.problems:
        console.print(_("kept with parts left out: {counts}").format(
            counts=", ".join(f"{cause(c)} {n:,}" for c, n in t.problems.most_common())))
    if not t.owner_messages:
        say_warning(_("none of the messages was sent by {owner}; check --me.").format(owner=s.owner))


def _print_owner(uin: int, how: str) -> None:
    owner = f"[bold]{uin}[/bold]"
    console.print((_("owner: {owner} (--me)") if how == "--me" else _("owner: {owner} (detected)")).format(owner=owner))


def _print_chat(chat: str, count: int, mine: int) -> None:
    if mine:
        console.print(_("chat {chat}: {count:,} messages, {mine:,} yours").format(chat=escape(chat), count=count,
                                                                                  mine=mine))
    else:
        console.print("[yellow]" + _("chat {chat}: {count:,} messages, none yours: is this your export?").format(
            chat=escape(chat), count=count) + "[/yellow]")
