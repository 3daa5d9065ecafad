"""The language qing speaks to its user - Chinese or English - chosen once at start-up, and `_()`, which puts a
message into it.

Every sentence a user reads (errors, progress lines, summaries, doctor's table, eval's report) is written in
English in the code, wrapped in `_()` where it is shown, and filled in after translation:

    raise QingError(_("{path} is not a file; give the database itself.").format(path=path))

The English template is the message's id, as in gettext; its Chinese is in the one catalog, qing/messages_zh/ (a
module per part of the package).
tests/test_i18n.py holds code and catalog together: each `_()` takes a plain string literal found in the catalog
with the same {placeholders}, and the catalog holds nothing the code no longer says. A template missing from the
catalog is shown in English rather than failing. Command-line --help stays English (typer's own words are).

The language: QING_LANG=zh or en (the environment or .env) decides; without it, a zh_* locale (LC_ALL,
LC_MESSAGES, LANG; on Windows the user's locale) means Chinese, anything else English.
"""

from __future__ import annotations

import locale
import os
from collections.abc import Mapping

LANGUAGES = ("zh", "en")
_language = {"current": "en"}


def choose_language(environ: Mapping[str, str] = os.environ) -> str:
    """zh or en, from QING_LANG, else the locale; raises ValueError on a QING_LANG that is neither."""
    wanted = environ.get("QING_LANG", "").strip().lower()
    if wanted:
        for language in LANGUAGES:
            if wanted == language or wanted.startswith((language + "_", language + "-", language + ".")):
                return language
        raise ValueError(wanted)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(name):
            return "zh" if environ[name].lower().startswith("zh") else "en"
    if os.name == "nt":  # Windows sets no locale variables; its user locale reads 'Chinese (Simplified)_China'
        name = (locale.getlocale()[0] or "").lower()
        return "zh" if name.startswith(("zh", "chinese")) else "en"
    return "en"


def set_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(language)
    _language["current"] = language


def language() -> str:
    return _language["current"]


def _(english: str) -> str:
    """ENGLISH in the current language (itself, when English or not in the catalog)."""
    if _language["current"] == "en":
        return english
    from qing.messages_zh import ZH

    return ZH.get(english, english)


try:  # the library used without the CLI speaks as the environment says; the CLI decides again after reading .env
    set_language(choose_language())
except ValueError:
    pass
