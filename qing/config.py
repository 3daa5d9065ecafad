"""Configuration: flag > QING_* environment variable > .env file > default.

Each option that is a setting (not a per-run path) names its variable with
`envvar=`; the CLI loads `.env` from the current directory into the
environment without overriding what is already set, so the order above
holds. `.env.example` lists every key (a test checks it against the CLI).
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv

from qing.errors import QingError
from qing.i18n import _


def load_env_file(directory: Path | None = None) -> Path | None:
    """Load `.env` from `directory` (default: the current one) without overriding the environment."""
    path = (directory or Path.cwd()) / ".env"
    if not path.is_file():
        return None
    try:
        load_dotenv(path, override=False, encoding="utf-8-sig")  # -sig: Notepad's BOM is not part of the first key
    except UnicodeDecodeError:  # PowerShell 5's `>` writes UTF-16
        raise QingError(_("{path} is not UTF-8 text (PowerShell's > writes UTF-16); save it again as UTF-8, e.g. "
                          "Set-Content .env -Encoding utf8.").format(path=path)) from None
    return path


def time_zone(name: str) -> ZoneInfo:
    """The --tz zone, or a one-sentence error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise QingError(_("unknown time zone {name!r}; use an IANA name such as Asia/Shanghai.").format(
            name=name)) from None
