import re
import subprocess
import sys
from pathlib import Path

import typer

from qing.cli import app

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = ["decrypt", "export", "clean", "clean-llm", "finetune", "infer", "gguf", "quantize"]


def test_help_lists_the_pipeline_in_order(qing):
    result = qing("--help")
    assert result.exit_code == 0
    listed = re.findall(r"^[│|] ([a-z][a-z-]*) ", result.output.split("Commands", 1)[1], re.M)
    assert [name for name in listed if name in PIPELINE] == PIPELINE


def test_python_dash_m_runs_the_same_cli():
    result = subprocess.run([sys.executable, "-m", "qing", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and re.search(r"qing \d+\.\d+\.\d+", result.stderr + result.stdout)


def test_every_command_listed_has_a_help_with_its_summary_and_options(qing):
    wide = {"COLUMNS": "250"}  # one line per option: nothing wrapped or cut
    box = qing("--help", env=wide).output.split("Commands", 1)[1]
    listed = re.findall(r"^[│|] ([a-z][a-z-]*) ", box, re.M)  # rich draws ASCII boxes where UTF-8 fails
    commands = typer.main.get_command(app).commands
    assert sorted(listed) == sorted(commands) and set(PIPELINE) <= set(listed)
    for name in listed:
        result = qing(name, "--help", env=wide)
        assert result.exit_code == 0, (name, result.output)
        assert re.search(rf"Usage: \S+ {name} \[OPTIONS\]", result.output), (name, result.output)
        assert commands[name].help.strip().splitlines()[0] in result.output, name  # the docstring's summary line
        # the options table: each row starts with the option's names (--output -o, --merge --no-merge)
        shown = {o for row in re.findall(r"^[│|] ((?:-[\w-]+ +)+)", result.output, re.M) for o in row.split()}
        declared = {o for p in commands[name].params for o in [*p.opts, *p.secondary_opts] if o.startswith("-")}
        assert shown == declared | {"--help"}, (name, shown ^ (declared | {"--help"}))


def _envvars() -> set[str]:
    root = typer.main.get_command(app)
    found = {v for p in root.params for v in ([p.envvar] if isinstance(p.envvar, str) else p.envvar or [])}
    for command in root.commands.values():
        for param in command.params:
            envvar = getattr(param, "envvar", None)
            found.update([envvar] if isinstance(envvar, str) else envvar or [])
    return found


def test_env_example_documents_exactly_the_cli_settings():
    documented = set(re.findall(r"^(QING_[A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert documented == _envvars()


def test_verbose_shows_the_traceback_and_plain_mode_does_not(tmp_path, qing):
    quiet = qing("decrypt", tmp_path / "missing.db", "--key", "k")
    assert quiet.exit_code == 1 and "Traceback" not in quiet.output
    loud = qing("--verbose", "decrypt", tmp_path / "missing.db", "--key", "k")
    assert loud.exit_code == 1 and "Traceback" in loud.output and "does not exist" in loud.output


def test_bad_input_is_one_sentence_without_a_progress_bar(tmp_path, qing):
    for args in (["clean", tmp_path / "missing.jsonl"], ["export", tmp_path / "missing.db", "--key", "k"]):
        result = qing(*args)
        lines = result.output.strip().splitlines()
        assert result.exit_code == 1 and len(lines) == 1 and re.fullmatch(r"error: .* does not exist\.", lines[0]), args


def test_verbose_from_dotenv(tmp_path, monkeypatch, qing):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("QING_VERBOSE=1\n")
    assert "Traceback" in qing("decrypt", "missing.db", "--key", "k").output


def test_help_texts_keep_their_brackets(qing):
    # typer reads [..] in help as markup: defaults must be written so they survive
    assert "(default: ./<input stem>.plain.db)" in qing("decrypt", "--help", env={"COLUMNS": "200"}).output


def test_copy_into_without_copy_file_range(tmp_path, monkeypatch):
    """macOS and Windows have no os.copy_file_range: the plain copy must give the same bytes."""
    import os

    from qing.files import copy_into

    monkeypatch.delattr(os, "copy_file_range", raising=False)
    (tmp_path / "a").write_bytes(b"head" + bytes(range(256)) * 5000)
    with open(tmp_path / "a", "rb") as src, open(tmp_path / "b", "wb") as dst:
        src.seek(4)
        dst.write(b"x")
        copy_into(src, dst)
    assert (tmp_path / "b").read_bytes() == b"x" + bytes(range(256)) * 5000


def test_a_missing_extra_is_one_sentence_naming_it(tmp_path, qing, monkeypatch, tiny_model):
    import sys

    monkeypatch.setitem(sys.modules, "gguf", None)  # as if the gguf extra were not installed
    result = qing("gguf", tiny_model, "-o", tmp_path / "m.gguf", env={"COLUMNS": "300"})
    assert result.exit_code == 1 and "needs gguf, from the gguf extra: pip install 'qing[gguf]'" in result.output
    assert "bug" not in result.output and not (tmp_path / "m.gguf").exists()


def test_every_closed_choice_is_refused_before_the_command_runs():
    """A value outside a closed set (--quant, --template, --engine, --from, --format, --hmac, ...) is refused by the
    command line with the valid values listed (exit 2), before any work: the command's body never runs."""
    from typer.testing import CliRunner

    root = typer.main.get_command(app)
    checked = set()
    for name, cmd in root.commands.items():
        for param in cmd.params:
            choices = getattr(param.type, "choices", None)
            if not choices or not param.opts:
                continue
            needed = ["x" for p in cmd.params if p.required and not p.opts]
            result = CliRunner().invoke(app, [name, *needed, param.opts[0], "bogus-value"], env={"COLUMNS": "200"})
            assert result.exit_code == 2, (name, param.opts, result.output)
            assert "'bogus-value' is not one of" in result.output and repr(choices[0]) in result.output
            checked.add(param.opts[0])
    assert {"--quant", "--template", "--engine", "--from", "--format", "--hmac", "--outtype", "--source"} <= checked


def test_the_extras_table_says_what_pyproject_declares():
    import tomllib
    from packaging.requirements import Requirement

    from qing.extras import PACKAGES

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    groups = {None: project["dependencies"], **{extra: project["optional-dependencies"][extra]
                                               for extra in ("train", "llm", "gguf", "plot")}}
    declared = {Requirement(r).name.lower(): extra for extra, reqs in groups.items() for r in reqs}
    table = {p.distribution.lower(): p.extra for p in PACKAGES}
    assert declared.items() <= table.items(), set(declared.items()) - set(table.items())
    # the table may name what a declared package brings along (so an ImportError of it names the extra too)
    brought_along = {"safetensors"}  # with transformers
    assert set(table) - set(declared) == brought_along


def test_the_summaries_of_export_and_clean_in_chinese(workdir, qing):
    from conftest import KEY

    result = qing("--lang", "zh", "export", "nt_msg.db", "--key", KEY, "-o", "messages.jsonl", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "你的账号：10001（自动识别）" in result.output and "条消息，用时" in result.output
    assert "按类型：text " in result.output
    result = qing("--lang", "zh", "clean", "messages.jsonl", "-o", "dataset", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for words in ("步骤", "数量", "原因", "读入的消息", "写出的样本", "完成，用时", "报告："):
        assert words in result.output, words
    assert "messages read" not in result.output


def test_a_dotenv_in_utf16_is_one_sentence_and_a_bom_is_read(tmp_path, monkeypatch, qing):
    """PowerShell 5's `echo QING_VERBOSE=1 > .env` writes UTF-16; Notepad may write UTF-8 with a BOM."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("QING_LANG=zh\n", encoding="utf-16")
    result = qing("doctor")
    assert result.exit_code == 2 and "is not UTF-8 text" in result.output and "Traceback" not in result.output
    (tmp_path / ".env").write_text("QING_LANG=zh\n", encoding="utf-8-sig")
    monkeypatch.delenv("QING_LANG")  # the tests set en; here the .env decides
    result = qing("decrypt", tmp_path / "missing.db", "--key", "k")
    assert "不存在" in result.output


def test_every_command_shows_examples_that_its_options_accept():
    """Each command's --help ends with real command lines: each parses (options, choices, counts of arguments)."""
    import shlex

    root = typer.main.get_command(app)
    for name, cmd in root.commands.items():
        lines = re.findall(r"\$ (qing .+)", cmd.epilog or "")
        assert lines, f"qing {name} --help shows no example"
        for line in lines:
            args = shlex.split(line)[1:]
            with root.make_context("qing", list(args)) as ctx:
                while args and args[0].startswith("-"):  # global options before the command (--lang zh)
                    args = args[2:] if args[0] == "--lang" else args[1:]
                sub, sub_args = args[0], args[1:]
                assert sub == name, line
                root.commands[sub].make_context(sub, sub_args, parent=ctx)  # a bad option or value raises
