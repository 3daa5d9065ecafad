"""What `qing clean` is told: CleanOptions (every option, with its default), their checks, the option files
(--blocked-words, --replace) and the system prompt of every sample."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from qing.errors import QingError
from qing.files import require_input

DEFAULT_SYSTEM_PROMPT = "你是{owner}，正在和朋友聊天。用{owner}平时说话的语气和习惯回复。"
ANONYMOUS_SYSTEM_PROMPT = "你正在和朋友聊天。用你平时说话的语气和习惯回复。"


@dataclass
class CleanOptions:
    """Every option of `qing clean`; the CLI fills it from flags, QING_* variables and .env."""

    merge_window: int = 120
    """Seconds: a sender's consecutive messages this close together form one turn."""
    session_gap: int = 1800
    """Seconds of silence that end a session (a conversation)."""
    max_tokens: int = 2048
    """Token budget of one sample, system prompt included."""
    tokenizer: Path | None = None
    """tokenizer.json (or a model directory holding one) to count tokens exactly instead of estimating."""
    media: str = "drop"
    """Media-only messages (picture, video, file, voice without transcript, card, red packet, forward, call):
    drop, or keep as their placeholder such as [图片]."""
    redact_urls: bool = True
    """Replace URLs with <网址> (phone numbers, ID and bank cards, e-mails, QQ numbers, IPs always are)."""
    blocked_words: list[str] = field(default_factory=list)
    """A turn containing any of these is dropped."""
    replacements: dict[str, str] = field(default_factory=dict)
    """Text replaced everywhere before anything else, e.g. real names -> pseudonyms."""
    max_repeat: int = 8
    """A run of one character longer than this is shortened to this length."""
    system_prompt: str | None = DEFAULT_SYSTEM_PROMPT
    """System prompt of every sample ({owner} is the owner's name); None for no system turn."""
    owner_opener: str = "[开始聊天]"
    """The user turn put before a session the owner opens; empty to drop the owner's opening turn instead."""
    eval_ratio: float = 0.05
    """Share of samples, from the latest sessions of each chat, that go to eval.jsonl."""
    seed: int = 42
    """Seed of the train.jsonl shuffle: the same input and seed give the same files."""
    groups: bool = False
    """Also make samples from group chats: others' turns are user turns prefixed with their name."""
    skip_bad_lines: bool = False
    """Skip (and count) lines that are not messages instead of stopping at the first."""


def _check_options(opts: CleanOptions) -> None:
    if opts.media not in ("drop", "keep"):
        raise QingError(f"unknown --media {opts.media!r}; use drop or keep.")
    if not 0 <= opts.eval_ratio < 1:
        raise QingError(f"--eval-ratio must be at least 0 and below 1, not {opts.eval_ratio}.")
    if opts.max_tokens < 64:
        raise QingError(f"--max-tokens {opts.max_tokens} is too small for a conversation; use 64 or more.")
    if opts.merge_window < 0 or opts.session_gap <= 0:
        raise QingError("--merge-window must be 0 or more and --session-gap more than 0 seconds.")


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
    require_input(path, "replacements file")
    mapping = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        old, sep, new = line.partition("=>") if "=>" in line else line.partition("\t")
        if not sep or not old.strip():
            raise QingError(f"line {number} of {path} is not 'old => new'.")
        mapping[old.strip()] = new.strip()
    return mapping
