"""The docs say what the code does: the generated command reference is current, and the examples are real."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import typer

from qing.cli import app

ROOT = Path(__file__).resolve().parents[1]
GUIDES = ["README.md", "docs/guide.md", "docs/guide-en.md", "docs/CONTRIBUTING.md", "docs/performance.md"]


def test_command_reference_matches_the_cli_help():
    # a process of its own: the script sets TYPER_USE_RICH before typer is imported
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "make_commands.py"), "--check"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, (
        f"docs/commands.md is out of date with `qing <command> --help`: run `python docs/make_commands.py` and "
        f"commit docs/commands.md.\n{result.stdout}{result.stderr}")


def qing_examples(text: str):
    """(command, option) for every option of every `qing ...` command in the text's bash and PowerShell blocks."""
    for block in re.findall(r"^[ \t]*```(?:bash|sh|powershell)\n(.*?)^[ \t]*```", text, re.M | re.S):
        for line in block.replace("\\\n", " ").replace("`\n", " ").splitlines():  # bash's \, PowerShell's `
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split, lexer.commenters = True, "#"
            words = list(lexer)
            for start in [i for i, word in enumerate(words) if word == "qing"]:
                if start > 0 and words[start - 1] not in ("&&", "||", "|", ";", "-m", "nohup") \
                        and not re.fullmatch(r"[A-Z_]+=.*", words[start - 1]):
                    continue  # `qing` as a word (a directory, an argument), not the command
                rest = words[start + 1:]
                args = rest[:next((i for i, w in enumerate(rest) if w in ("&&", "||", "|", ";")), len(rest))]
                if args:
                    yield line.strip(), args


def test_the_examples_are_real_commands_with_real_options():
    commands = typer.main.get_command(app).commands
    wrong = []
    for name in GUIDES:
        for line, args in qing_examples((ROOT / name).read_text(encoding="utf-8")):
            command = commands.get(args[0])
            if command is None:
                wrong.append(f"{name}: `{line}`: no command `qing {args[0]}`")
                continue
            known = {"--help"} | {o for p in command.params for o in [*p.opts, *getattr(p, "secondary_opts", [])]}
            for arg in args[1:]:
                option = arg.split("=", 1)[0]
                if option.startswith("-") and not re.fullmatch(r"-\d.*", option) and option not in known:
                    wrong.append(f"{name}: `{line}`: `qing {args[0]}` has no option {option}")
    assert not wrong, "examples that `qing` would refuse (see `qing <command> --help`):\n" + "\n".join(wrong)


def test_the_readme_stays_a_short_path_for_users():
    """At most 16 KB (issue 17): the detail lives in docs/guide.md and docs/guide-en.md."""
    assert len((ROOT / "README.md").read_bytes()) <= 16 * 1024
