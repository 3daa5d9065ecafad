"""The user's rules for `qing clean` beyond its options (qing.dataset.options.CleanOptions): their checks, the
option files (--blocked-words, --replace) and the system prompt of every sample."""

from __future__ import annotations

import re
from pathlib import Path

from qing.dataset.options import ANONYMOUS_SYSTEM_PROMPT, DEFAULT_SYSTEM_PROMPT, CleanOptions
from qing.errors import QingError
from qing.files import require_input
from qing.i18n import _


def _check_options(opts: CleanOptions) -> None:
    if opts.media not in ("drop", "keep"):
        raise QingError(_("unknown --media {media!r}; use drop or keep.").format(media=opts.media))
    if not 0 <= opts.eval_ratio < 1:
        raise QingError(_("--eval-ratio must be at least 0 and below 1, not {ratio}.").format(ratio=opts.eval_ratio))
    if opts.max_tokens < 64:
        raise QingError(_("--max-tokens {tokens} is too small for a conversation; use 64 or more.").format(
            tokens=opts.max_tokens))
    if opts.merge_window < 0 or opts.session_gap <= 0:
        raise QingError(_("--merge-window must be 0 or more and --session-gap more than 0 seconds."))


def _system_prompt(opts: CleanOptions, owner: str | None) -> str | None:
    if opts.system_prompt is None:
        return None
    if "{owner}" in opts.system_prompt:
        if not owner:
            return ANONYMOUS_SYSTEM_PROMPT if opts.system_prompt == DEFAULT_SYSTEM_PROMPT else \
                opts.system_prompt.replace("{owner}", "我")
        return opts.system_prompt.replace("{owner}", owner)
    return opts.system_prompt


def read_word_list(value: str | None) -> list[str]:
    """--blocked-words: a file with one word per line, or comma-separated words."""
    if not value:
        return []
    path = Path(value)
    if path.is_file():
        words = path.read_text(encoding="utf-8").splitlines()
    else:
        words = re.split(r"[,，]", value)
    return [w.strip() for w in words if w.strip() and not w.startswith("#")]


def read_replacements(path: Path) -> dict[str, str]:
    """--replace: lines 'old => new' (or old<TAB>new); # starts a comment line."""
    require_input(path, _("replacements file"))
    mapping = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        old, sep, new = line.partition("=>") if "=>" in line else line.partition("\t")
        if not sep or not old.strip():
            raise QingError(_("line {number} of {path} is not 'old => new'.").format(number=number, path=path))
        mapping[old.strip()] = new.strip()
    return mapping
