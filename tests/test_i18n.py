"""Chinese and English both first-class: the catalog matches the code, the language is chosen as documented, and
errors read in either language."""

import ast
import string
from pathlib import Path

import pytest

from qing import i18n
from qing.messages_zh import ZH

PACKAGE = Path(__file__).resolve().parents[1] / "qing"


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _translated_calls(tree):
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_"]


def _fields(template: str) -> set[str]:
    return {name for _text, name, _spec, _conv in string.Formatter().parse(template) if name is not None}


def test_every_message_of_the_code_is_in_the_catalog_with_its_placeholders():
    used, problems = set(), []
    for path, tree in _modules():
        for call in _translated_calls(tree):
            where = f"{path.relative_to(PACKAGE)}:{call.lineno}"
            literal = len(call.args) == 1 and isinstance(call.args[0], ast.Constant)
            if not (literal and isinstance(call.args[0].value, str)):
                problems.append(f"{where}: _() takes one plain string literal (fill it with .format after)")
                continue
            english = call.args[0].value
            used.add(english)
            if english not in ZH:
                problems.append(f"{where}: not in the catalog qing/messages_zh/: {english!r}")
            elif _fields(ZH[english]) != _fields(english):
                problems.append(f"{where}: the Chinese has other placeholders than {english!r}")
    assert not problems, "\n".join(problems)
    assert not set(ZH) - used, f"in the catalog but said nowhere: {sorted(set(ZH) - used)}"


def test_no_template_is_in_two_modules_of_the_catalog():
    from qing.messages_zh import PARTS

    seen: dict[str, str] = {}
    for part in PARTS:
        for english in part.ZH:
            assert english not in seen, f"{english!r} is in {seen[english]} and {part.__name__}"
            seen[english] = part.__name__


def test_no_module_that_translates_uses_underscore_as_a_throwaway_name():
    """`for _ in ...` in a module that imports _ from qing.i18n would shadow it: UnboundLocalError at the message."""
    for path, tree in _modules():
        imports = any(isinstance(n, ast.ImportFrom) and n.module == "qing.i18n" and any(a.name == "_" for a in n.names)
                      for n in ast.walk(tree))
        stores = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "_"
                  and isinstance(n.ctx, ast.Store)]
        assert not (imports and stores), f"{path.relative_to(PACKAGE)} lines {stores}"


def test_every_error_sentence_goes_through_the_catalog():
    """A QingError is made from _() (or a message built from one), never from a bare literal or f-string."""
    from qing.errors import QingError  # noqa: F401 (the name checked below)

    bare = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "QingError" and node.args
                    and isinstance(node.args[0], (ast.Constant, ast.JoinedStr))):
                bare.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not bare, "QingError of an untranslated sentence: " + ", ".join(bare)


@pytest.mark.parametrize(("environ", "expected"), [
    ({"QING_LANG": "zh"}, "zh"),
    ({"QING_LANG": "EN"}, "en"),
    ({"QING_LANG": "zh_CN.UTF-8"}, "zh"),
    ({"QING_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "zh_TW.UTF-8"}, "zh"),
    ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
])
def test_the_language_comes_from_qing_lang_else_the_locale(environ, expected):
    assert i18n.choose_language(environ) == expected


def test_a_language_qing_does_not_speak_is_one_sentence(qing):
    result = qing("--lang", "fr", "doctor")
    assert result.exit_code == 2 and "use zh (中文) or en (English)" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("how", "expected"), [
    (["--lang", "zh"], "不存在"),
    (["--lang", "en"], "does not exist"),
])
def test_an_error_in_each_language(tmp_path, qing, how, expected):
    result = qing(*how, "decrypt", tmp_path / "missing.db", "--key", "k")
    assert result.exit_code == 1 and expected in result.output
    assert ("错误：" in result.output) == (how[1] == "zh")


def test_the_language_from_the_environment_and_from_dotenv(tmp_path, qing, monkeypatch):
    result = qing("decrypt", tmp_path / "missing.db", "--key", "k", env={"QING_LANG": "zh"})
    assert "不存在" in result.output
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QING_LANG")
    (tmp_path / ".env").write_text("QING_LANG=zh\n")
    result = qing("decrypt", tmp_path / "missing.db", "--key", "k", env={"LANG": "en_US.UTF-8"})
    assert "不存在" in result.output
