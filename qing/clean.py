"""`qing clean`: messages.jsonl (contract 1) -> chat samples train.jsonl / eval.jsonl (contract 2).

Steps, in order (each counted in report.json): keep speech; merge a sender's
consecutive messages into turns; split chats into sessions at long gaps;
assign roles (the owner is `assistant`); clean turn text (replacements,
personal data redacted, long character runs shortened, blocked words drop
the turn); cut sessions at turn boundaries into samples that end on the
owner's turn and fit the token budget; drop noise and duplicates; put the
latest sessions of each chat in eval.jsonl.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import orjson

from qing.errors import QingError
from qing.files import open_private, require_input
from qing.pii import Redactor

SPEECH_DROPPED = ("system", "recall", "unknown")
MEDIA_KINDS = ("image", "video", "file", "card", "redpacket", "forward", "call")
VOICE_WITHOUT_TRANSCRIPT = "[语音]"
DEFAULT_SYSTEM_PROMPT = "你是{owner}，正在用QQ和朋友聊天。用{owner}平时说话的语气和习惯回复。"
ANONYMOUS_SYSTEM_PROMPT = "你正在用QQ和朋友聊天。用你平时说话的语气和习惯回复。"
TURN_OVERHEAD_TOKENS = 5  # <|im_start|>role\n ... <|im_end|>\n
_PLACEHOLDER = re.compile(r"\[[^\[\]\n]{1,8}\]|<[^<>\n]{2,6}>")  # [微笑] [图片] <手机号>: not words
_NOT_WORD = re.compile(r"[\W_]+")
_REQUIRED = ("chat", "time", "is_me", "kind", "text")


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


@dataclass
class Turn:
    role: str
    text: str
    start: int
    end: int


@dataclass
class Sample:
    chat: str
    session: int
    turns: list[Turn]
    tokens: int


@dataclass
class CleanResult:
    output: Path
    report: dict
    seconds: float


# --- reading -------------------------------------------------------------------

def read_chats(path: Path, opts: CleanOptions, stats: dict, progress: Callable[[int], None]):
    """Messages by chat as (time, sender, is_me, name, text), speech only; plus owner names and uins seen."""
    chats: dict[str, list] = defaultdict(list)
    dropped, owner_names, uins = stats["dropped_messages"], Counter(), set()
    loads, keep_media = orjson.loads, opts.media == "keep"
    lines = messages = 0
    with open(path, "rb") as f:
        for lines, line in enumerate(f, 1):
            if not lines & 0xFFFF:
                progress(f.tell())
            try:
                m = loads(line)
                chat, when, is_me, kind, text = m["chat"], m["time"], m["is_me"], m["kind"], m["text"]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                if not line.strip():
                    continue
                if not opts.skip_bad_lines:
                    raise QingError(f"line {lines} of {path} is not a message of messages.jsonl (it needs "
                                    f"{', '.join(_REQUIRED)}); fix it, or pass --skip-bad-lines.") from None
                dropped["bad line"] += 1
                continue
            messages += 1
            sender = m.get("sender")
            if sender is not None:
                uins.add(str(sender))
            if kind in SPEECH_DROPPED:
                dropped[kind] += 1
                continue
            if kind in MEDIA_KINDS or (kind == "voice" and text == VOICE_WITHOUT_TRANSCRIPT):
                if not keep_media:
                    dropped["media only"] += 1
                    continue
            if is_me and m.get("sender_name"):
                owner_names[m["sender_name"]] += 1
            chats[chat].append((when, sender, is_me, m.get("sender_name"), text or ""))
    progress(path.stat().st_size)
    stats["lines"], stats["messages"] = lines, messages
    if not messages:
        raise QingError(f"{path} holds no messages; export some with `qing export` first.")
    return chats, owner_names, uins


def is_group(chat: str, msgs: list) -> bool:
    """A group chat by its id (group:...), or because more than one other person speaks in it."""
    if "group" in chat.rsplit(":", 1)[0]:
        return True
    others = {m[1] for m in msgs if not m[2]}
    return len(others) > 1


# --- turns and sessions ----------------------------------------------------------

def sessions_of(msgs: list, opts: CleanOptions) -> list[list]:
    """Split a chat's messages (time order) where the silence exceeds the session gap."""
    sessions, current, last = [], [], None
    for m in msgs:
        if last is not None and m[0] - last > opts.session_gap:
            sessions.append(current)
            current = []
        current.append(m)
        last = m[0]
    if current:
        sessions.append(current)
    return sessions


def turns_of(session: list, group: bool, opts: CleanOptions) -> list[list]:
    """Raw turns: a sender's consecutive messages within the merge window, as [sender, is_me, name, texts, t0, t1]."""
    turns: list[list] = []
    for when, sender, is_me, name, text in session:
        last = turns[-1] if turns else None
        if last and last[0] == sender and last[1] == is_me and when - last[5] <= opts.merge_window:
            last[3].append(text)
            last[5] = when
        else:
            turns.append([sender, is_me, name, [text], when, when])
    return turns


class TextCleaner:
    """Turn text: replacements, redaction, long runs shortened; None when a blocked word drops it."""

    def __init__(self, opts: CleanOptions, participants: set[str], stats: dict):
        self.redact = Redactor(participants, urls=opts.redact_urls)
        self.stats = stats
        self.runs = re.compile(r"(.)\1{%d,}" % opts.max_repeat, re.S) if opts.max_repeat > 0 else None
        self.keep_run = opts.max_repeat
        keys = sorted(opts.replacements, key=len, reverse=True)
        self.replace = re.compile("|".join(map(re.escape, keys))) if keys else None
        self.mapping = opts.replacements
        self.blocked = re.compile("|".join(map(re.escape, opts.blocked_words))) if opts.blocked_words else None

    def __call__(self, text: str) -> str | None:
        if self.replace:
            text = self.replace.sub(lambda m: self.mapping[m.group(0)], text)
        text = self.redact(text)
        if self.runs and self.runs.search(text):
            self.stats["turn_changes"]["long run shortened"] += 1
            text = self.runs.sub(lambda m: m.group(1) * self.keep_run, text)
        if self.blocked and self.blocked.search(text):
            self.stats["dropped_turns"]["blocked word"] += 1
            return None
        return text.strip()


def roles_of(raw_turns: list[list], group: bool, clean: TextCleaner, opts: CleanOptions, stats: dict) -> list[Turn]:
    """Cleaned, alternating user/assistant turns; others' turns named in groups; empty turns dropped."""
    turns: list[Turn] = []
    for sender, is_me, name, texts, t0, t1 in raw_turns:
        text = clean("\n".join(texts))
        if not text:
            if text is not None:
                stats["dropped_turns"]["empty"] += 1
            continue
        role = "assistant" if is_me else "user"
        if group and not is_me:
            text = f"{name or sender}: {text}"
        if turns and turns[-1].role == role:  # same side again (a gap, or a dropped turn between): one turn
            turns[-1].text += "\n" + text
            turns[-1].end = t1
            stats["turn_changes"]["joined to alternate"] += 1
        else:
            turns.append(Turn(role, text, t0, t1))
    return turns


def frame(turns: list[Turn], opts: CleanOptions, stats: dict) -> list[Turn]:
    """Make a session start with a user turn and end with an assistant turn."""
    if turns and turns[0].role == "assistant":
        if opts.owner_opener:
            turns.insert(0, Turn("user", opts.owner_opener, turns[0].start, turns[0].start))
            stats["turn_changes"]["opener added before owner's first turn"] += 1
        else:
            turns.pop(0)
            stats["dropped_turns"]["owner opened (no --owner-opener)"] += 1
    while turns and turns[-1].role == "user":
        turns.pop()
        stats["dropped_turns"]["unanswered at session end"] += 1
    return turns


# --- samples -------------------------------------------------------------------

class TokenCounter:
    """Tokens of a turn: estimated (1 per non-ASCII character, 1 per 4 ASCII ones) or exact with a tokenizer."""

    def __init__(self, tokenizer: Path | None):
        self.encoder = _load_tokenizer(tokenizer) if tokenizer else None
        self.method = f"tokenizer {tokenizer}" if tokenizer else "estimate"
        self.overhead = TURN_OVERHEAD_TOKENS

    def __call__(self, text: str) -> int:
        if self.encoder:
            return len(self.encoder.encode(text, add_special_tokens=False).ids) + self.overhead
        ascii_chars = len(text.encode("ascii", "ignore"))
        return len(text) - ascii_chars + (ascii_chars + 3) // 4 + self.overhead


def _load_tokenizer(path: Path):
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise QingError("--tokenizer needs the tokenizers package: pip install 'qing[train]'.") from None
    file = path / "tokenizer.json" if path.is_dir() else path
    if not file.is_file():
        raise QingError(f"no tokenizer.json at {path}; give the file or the model directory holding it.")
    try:
        return Tokenizer.from_file(str(file))
    except Exception as e:  # tokenizers raises plain Exception subclasses for bad files
        raise QingError(f"{file} is not a tokenizer.json the tokenizers library can read ({e}).") from None


def cut_samples(chat: str, session: int, turns: list[Turn], budget: int, count: TokenCounter,
                stats: dict) -> list[Sample]:
    """Cut a framed session at (user, assistant) pair boundaries into samples within the token budget."""
    samples, current, used = [], [], 0
    for i in range(0, len(turns) - 1, 2):
        pair = turns[i:i + 2]
        tokens = count(pair[0].text) + count(pair[1].text)
        if tokens > budget:
            stats["dropped_turns"]["turn pair over the token budget"] += 2
            if current:
                samples.append(Sample(chat, session, current, used))
            current, used = [], 0
            continue
        if used + tokens > budget:
            samples.append(Sample(chat, session, current, used))
            current, used = [], 0
        current = current + pair
        used += tokens
    if current:
        samples.append(Sample(chat, session, current, used))
    return samples


def has_words(text: str) -> bool:
    return bool(_NOT_WORD.sub("", _PLACEHOLDER.sub("", text)))


def fingerprints(sample: Sample) -> tuple[bytes, bytes]:
    """(exact, near) keys: near ignores case, spacing, punctuation, digits and placeholders."""
    exact = "\x1e".join(f"{t.role}\x1f{t.text}" for t in sample.turns)
    near = "\x1e".join(_NOT_WORD.sub("", _PLACEHOLDER.sub("", t.text)).lower().translate(_DIGITS)
                       for t in sample.turns)
    return (hashlib.blake2b(exact.encode(), digest_size=16).digest(),
            hashlib.blake2b(near.encode(), digest_size=16).digest())


_DIGITS = str.maketrans("", "", "0123456789")


# --- option files ----------------------------------------------------------------

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


def plot_lengths(report: dict, path: Path) -> Path:
    """A PNG of the turn and sample length percentiles next to report.json."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise QingError("--plot needs matplotlib: pip install matplotlib.") from None
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, (key, title) in zip(axes, (("turn_chars", "turn length (characters)"),
                                       ("sample_tokens", "sample length (tokens)"))):
        stats = report["lengths"][key]
        names = [k for k in ("p50", "p90", "p99", "max") if k in stats]
        ax.bar(names, [stats[k] for k in names], color="#4c72b0")
        ax.set_title(title)
        for i, k in enumerate(names):
            ax.annotate(str(stats[k]), (i, stats[k]), ha="center", va="bottom", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    path.chmod(0o600)
    return path


# --- the whole step ----------------------------------------------------------------

def clean(messages: Path, output: Path, opts: CleanOptions, force: bool = False,
          progress: Callable[[int, int], None] | None = None) -> CleanResult:
    """Build DIR/train.jsonl, eval.jsonl and report.json from messages.jsonl."""
    started = time.perf_counter()
    _check_options(opts)
    require_input(messages, "messages file")
    if output.exists() and not force:
        raise QingError(f"output directory {output} already exists; pass --force to replace it or -o for another.")
    if output.exists() and not output.is_dir():
        raise QingError(f"output {output} is a file; give a directory with -o.")
    count = TokenCounter(opts.tokenizer)
    stats = {k: Counter() for k in ("dropped_messages", "dropped_turns", "turn_changes", "dropped_samples",
                                    "chats")}
    size = messages.stat().st_size
    chats, owner_names, uins = read_chats(messages, opts, stats, lambda done: (progress or _nothing)(done, size))
    owner_name = owner_names.most_common(1)[0][0] if owner_names else None
    system = _system_prompt(opts, owner_name)
    budget = opts.max_tokens - (count(system) if system else 0)
    clean_text = TextCleaner(opts, uins, stats)
    by_chat, turn_lengths, owner_messages = {}, [], 0
    for chat, msgs in chats.items():
        msgs.sort(key=lambda m: m[0])
        owner_messages += sum(1 for m in msgs if m[2])
        group = is_group(chat, msgs)
        if group and not opts.groups:
            stats["dropped_messages"]["group chat (use --groups)"] += len(msgs)
            continue
        stats["chats"]["group" if group else "private"] += 1
        samples = []
        for n, session in enumerate(sessions_of(msgs, opts)):
            turns = frame(roles_of(turns_of(session, group, opts), group, clean_text, opts, stats), opts, stats)
            if not any(t.role == "assistant" for t in turns):
                stats["dropped_samples"]["session without an owner turn"] += 1
                continue
            turn_lengths += [len(t.text) for t in turns]
            samples += cut_samples(chat, n, turns, budget, count, stats)
        by_chat[chat] = samples
    if not owner_messages:
        raise QingError(f"none of the messages in {messages} is from the owner (is_me); run `qing export` "
                        f"again with --me YOUR_QQ_NUMBER.")
    by_chat = _drop_noise(by_chat, stats)
    train, evals = _split(by_chat, opts.eval_ratio)
    random.Random(opts.seed).shuffle(train)
    report = _report(messages, opts, stats, clean_text.redact.counts, count, turn_lengths, train, evals,
                     owner_messages, system)
    _write(output, force, train, evals, system, report)
    return CleanResult(output, report, time.perf_counter() - started)


def _nothing(*_):
    pass


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


def _drop_noise(by_chat: dict[str, list[Sample]], stats: dict) -> dict[str, list[Sample]]:
    """Samples without owner words, and exact or near duplicates (the first, oldest copy stays)."""
    seen_exact, seen_near, kept = set(), set(), {}
    for chat, samples in by_chat.items():
        keep = []
        for s in samples:
            if not any(has_words(t.text) for t in s.turns if t.role == "assistant"):
                stats["dropped_samples"]["no owner words"] += 1
                continue
            exact, near = fingerprints(s)
            if exact in seen_exact:
                stats["dropped_samples"]["exact duplicate"] += 1
                continue
            if near in seen_near:
                stats["dropped_samples"]["near duplicate"] += 1
                continue
            seen_exact.add(exact)
            seen_near.add(near)
            keep.append(s)
        kept[chat] = keep
    return kept


def _split(by_chat: dict[str, list[Sample]], ratio: float) -> tuple[list[Sample], list[Sample]]:
    """eval: the latest whole sessions of each chat, about `ratio` of all samples; train: the rest."""
    train, evals, carry = [], [], 0.0
    for samples in by_chat.values():
        carry += len(samples) * ratio
        quota = math.floor(carry)
        taken = 0
        if quota:
            sessions = sorted({s.session for s in samples}, reverse=True)
            chosen = set()
            for session in sessions:
                if taken >= quota or len(chosen) + 1 == len(sessions):  # keep at least one session to train on
                    break
                chosen.add(session)
                taken += sum(1 for s in samples if s.session == session)
            evals += [s for s in samples if s.session in chosen]
            train += [s for s in samples if s.session not in chosen]
        else:
            train += samples
        carry -= taken
    return train, evals


def _percentiles(values: list[int]) -> dict:
    if not values:
        return {}
    values = sorted(values)
    at = lambda q: values[min(len(values) - 1, int(q * len(values)))]  # noqa: E731
    return {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": values[-1], "count": len(values)}


def _report(messages, opts, stats, pii, count, turn_lengths, train, evals, owner_messages, system) -> dict:
    options = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(opts).items()}
    options["blocked_words"] = len(opts.blocked_words)  # the words themselves may be private
    options["replacements"] = len(opts.replacements)
    samples = train + evals
    return {
        "input": {"file": str(messages), "lines": stats["lines"], "messages": stats["messages"],
                  "owner_messages": owner_messages},
        "dropped_messages": dict(stats["dropped_messages"]),
        "chats": dict(stats["chats"]),
        "dropped_turns": dict(stats["dropped_turns"]),
        "turn_changes": dict(stats["turn_changes"]),
        "dropped_samples": dict(stats["dropped_samples"]),
        "pii_redacted": dict(pii),
        "output": {"train": len(train), "eval": len(evals),
                   "turns": sum(len(s.turns) for s in samples),
                   "system_prompt": system is not None},
        "lengths": {"turn_chars": _percentiles(turn_lengths),
                    "sample_tokens": _percentiles([s.tokens for s in samples])},
        "tokens": {"total": sum(s.tokens for s in samples), "method": count.method,
                   "max_per_sample": opts.max_tokens},
        "options": options,
    }


def sample_record(s: Sample, system: str | None) -> dict:
    messages = [{"role": "system", "content": system}] if system else []
    messages += [{"role": t.role, "content": t.text} for t in s.turns]
    chat_ref = hashlib.blake2b(s.chat.encode(), digest_size=5).hexdigest()  # groups a chat, names nobody
    return {"messages": messages,
            "meta": {"chat": chat_ref, "session": s.session, "start": s.turns[0].start, "end": s.turns[-1].end}}


def _write(output: Path, force: bool, train, evals, system, report) -> None:
    """Write the three files into a private temporary directory, then move it into place whole."""
    output.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent))
    try:
        for name, samples in (("train.jsonl", train), ("eval.jsonl", evals)):
            with open_private(work / name, "wb") as f:
                f.write(b"".join(orjson.dumps(sample_record(s, system), option=orjson.OPT_APPEND_NEWLINE)
                                 for s in samples))
        with open_private(work / "report.json", "wb") as f:
            f.write(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
        if output.exists():
            old = output.with_name(f".{output.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            output.rename(old)
            work.rename(output)
            shutil.rmtree(old)
        else:
            work.rename(output)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
