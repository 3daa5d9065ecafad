"""The options of the dataset steps (clean, clean-llm). Light to import on purpose: the CLI reads them to build
its options, and `qing --help` must start fast; the modules doing the work import them from here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qing.options import setting

DEFAULT_SYSTEM_PROMPT = "你是{owner}，正在和朋友聊天。用{owner}平时说话的语气和习惯回复。"
ANONYMOUS_SYSTEM_PROMPT = "你正在和朋友聊天。用你平时说话的语气和习惯回复。"
MEDIA = ("drop", "keep")


@dataclass
class CleanOptions:
    """Every option of `qing clean`; the CLI fills it from flags, QING_* variables and .env."""

    merge_window: int = setting(120, "Seconds: a sender's messages this close together form one turn.", min=0)
    session_gap: int = setting(1800, "Seconds of silence that end a conversation. Lower it (600) for chats that "
                               "run all day, raise it (3600) for slow chats.", min=1)
    max_tokens: int = setting(2048, "Token budget of one sample, system prompt included (use the finetune max "
                              "length).")
    tokenizer: Path | None = setting(None, "tokenizer.json or model dir: count tokens exactly (default: estimate, "
                                     "1 per Chinese character).")
    media: str = setting("drop", "Media-only messages ([图片] [视频] [文件], voice without transcript, cards, red "
                         "packets, forwards, calls): drop, or keep as their placeholder.", choices=MEDIA)
    redact_urls: bool = setting(True, "Replace URLs with <网址> (phone numbers, ID and bank cards, e-mails, QQ "
                                "numbers, IPs always are).", flag="--redact-urls/--keep-urls")
    blocked_words: list[str] = field(default_factory=list)
    """A turn containing any of these is dropped (the CLI reads them from --blocked-words)."""
    replacements: dict[str, str] = field(default_factory=dict)
    """Text replaced everywhere before anything else, e.g. real names -> pseudonyms (from --replace)."""
    max_repeat: int = setting(8, "Shorten runs of one character to this length (0: leave them).", min=0)
    system_prompt: str | None = DEFAULT_SYSTEM_PROMPT
    """System prompt of every sample ({owner} is the owner's name); None for no system turn."""
    owner_opener: str = setting("[开始聊天]", "User turn put before a conversation you open ('' drops your opening "
                                "turn instead).")
    eval_ratio: float = setting(0.05, "Share of samples, the latest conversations of each chat, for eval.")
    seed: int = setting(42, "Seed of the train.jsonl shuffle: the same input and seed give the same files.")
    groups: bool = setting(False, "Also make samples from group chats (others' turns named).")
    skip_bad_lines: bool = setting(False, "Skip and count lines that are not messages instead of stopping at the "
                                   "first.", flag="--skip-bad-lines")


@dataclass
class LlmOptions:
    """Every option of `qing clean-llm`."""

    base_url: str = setting("http://127.0.0.1:1234/v1", "OpenAI-compatible endpoint: LM Studio :1234/v1, Ollama "
                            ":11434/v1, vLLM :8000/v1, or a hosted API.")
    model: str = setting("", "Model name as the server lists it.")
    api_key: str = setting("not-needed", "API key (local servers ignore it). Safer in QING_LLM_API_KEY or .env.",
                           secret=True)
    concurrency: int = setting(4, "Requests in flight.", min=1)
    batch: int = setting(8, "Samples per request.", min=1)
    min_score: int = setting(3, "Keep samples scoring at least this (1-5).", min=1, max=5)
    remove_noise: bool = setting(False, "Also remove the (user, assistant) pairs holding turns the model flags as "
                                 "noise.", flag="--remove-noise")
    timeout: float = setting(120.0, "Seconds to wait for one answer.", min=1.0)
    retries: int = setting(5, "Retries of one request on 429 / 5xx / timeouts before its samples count as failed.",
                           min=0)
