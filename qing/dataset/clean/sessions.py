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

import bisect
import gc
import hashlib
import itertools
import math
import operator
import os
import random
import re
import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import msgspec
import orjson

from qing import parallel
from qing.dataset.pii import MAYBE_PERSONAL, QQ, Redactor
from qing.errors import QingError
from qing.files import open_private, refuse_foreign_files, refuse_input_as_output, require_input, work_dir_beside

OUTPUTS = ("train.jsonl", "eval.jsonl", "report.json", "lengths.png")
"""What clean writes in its output directory: --force replaces a directory holding nothing else."""
SPEECH_DROPPED = frozenset(("system", "recall", "unknown"))
MEDIA_KINDS = frozenset(("image", "video", "file", "card", "redpacket", "forward", "call"))
VOICE_WITHOUT_TRANSCRIPT = "[语音]"
DEFAULT_SYSTEM_PROMPT = "你是{owner}，正在和朋友聊天。用{owner}平时说话的语气和习惯回复。"
ANONYMOUS_SYSTEM_PROMPT = "你正在和朋友聊天。用你平时说话的语气和习惯回复。"
TURN_OVERHEAD_TOKENS = 5  # <|im_start|>role\n ... <|im_end|>\n
_PLACEHOLDERS = re.compile(r"\[[^\[\]\n]{1,8}\]|<[^<>\n]{2,6}>")  # [微笑] [图片] <手机号>: not words
# what near-duplicates may differ in: ASCII case, spacing and punctuation (bytes.translate: fast), and
# punctuation at the end of a turn (a regex over all text would cost more than the rest of the sample)
_ASCII_NOISE = bytes(c for c in range(128) if not chr(c).isalnum())
_TRAILING = "，。！？～…、 \u3000"
_REQUIRED = ("chat", "time", "is_me", "kind", "text")
PARALLEL_FROM_BYTES = 20_000_000  # smaller files: starting worker processes costs more than it saves


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
class Samples:
    """Samples as columns, in input order."""

    chat: list[str] = field(default_factory=list)
    session: list[int] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    line: list[bytes] = field(default_factory=list)  # the JSON line from just after the system turn:
    # `{"role":...},{"role":...}],"meta":{...}}` and a newline
    turns: list[int] = field(default_factory=list)  # the length of the line's turns, up to `]`
    near: list[bytes] = field(default_factory=list)  # their texts without ASCII case, spacing and punctuation

    def extend(self, other: "Samples") -> None:
        for name, column in vars(other).items():
            getattr(self, name).extend(column)

    def pack(self, path: Path) -> None:
        """Move the lines and near keys into a file: a pipe hands a worker's result over at 150 MB/s, a file in
        the page cache ten times faster."""
        with open_private(path, "wb") as f:
            f.write(b"".join(self.line))
            f.write(b"".join(self.near))
        self.line, self.near = list(map(len, self.line)), list(map(len, self.near))

    def unpack(self, path: Path) -> None:
        """Read back what pack() moved out, and delete the file."""
        data = path.read_bytes()
        path.unlink()
        ends = list(itertools.accumulate(itertools.chain(self.line, self.near)))
        pieces = [data[a:b] for a, b in zip([0, *ends], ends)]
        self.line, self.near = pieces[:len(self.line)], pieces[len(self.line):]


@dataclass
class Tally:
    """Counts of a part of the input; parts add up."""

    lines: int = 0
    messages: int = 0
    owner_messages: int = 0
    dropped_messages: Counter = field(default_factory=Counter)
    dropped_turns: Counter = field(default_factory=Counter)
    turn_changes: Counter = field(default_factory=Counter)
    dropped_samples: Counter = field(default_factory=Counter)
    chats: Counter = field(default_factory=Counter)
    pii: Counter = field(default_factory=Counter)
    people: set = field(default_factory=set)  # the QQ numbers (as text) of everyone who speaks in a chat read
    numbers_kept: Counter = field(default_factory=Counter)  # digit runs kept that may be one of theirs, as written
    owner_names: Counter = field(default_factory=Counter)
    turn_chars: Counter = field(default_factory=Counter)  # length -> turns
    chat_ids: set = field(default_factory=set)  # the chats read

    def add(self, other: "Tally") -> None:
        for name, value in vars(other).items():
            if isinstance(value, (Counter, set)):
                getattr(self, name).update(value)
            else:
                setattr(self, name, getattr(self, name) + value)


@dataclass
class CleanResult:
    output: Path
    report: dict
    seconds: float
    workers: int = 1


class _Unsorted(Exception):
    """A chat's messages are not contiguous in the file: group them in memory instead of streaming."""


# --- reading -------------------------------------------------------------------

class Message(msgspec.Struct, gc=False):
    """What clean reads of a messages.jsonl line (contract 1); its other keys are skipped unread."""

    chat: str
    time: int
    is_me: bool
    kind: str
    text: str | None
    sender: int | str | None = None
    sender_name: str | None = None


_decode_lines = msgspec.json.Decoder(Message).decode_lines  # several times faster than a json.loads per line
_decode = msgspec.json.Decoder(Message).decode


def iter_chats(path: Path, start: int, end: int | None, opts: CleanOptions, tally: Tally,
               progress: Callable[[int], None] = lambda done: None, grouped: bool = True):
    """(chat, its Message list) for each chat block of path[start:end].

    Speech only: dropped kinds are counted. When `grouped`, raises _Unsorted if a
    chat comes back after another one; otherwise yields each block as it ends.
    """
    keep_media, dropped = opts.media == "keep", tally.dropped_messages
    current, msgs, done, owner_names, messages = None, [], set(), [], 0
    for offset, after, block in _line_blocks(path, start, end):
        try:
            batch = _decode_lines(block)
        except (msgspec.DecodeError, msgspec.ValidationError):
            batch = _good_lines(path, offset, block, opts, tally)
        messages += len(batch)
        for m in batch:
            if m.chat != current:
                if current is not None:
                    yield current, msgs
                    done.add(current)
                if grouped and m.chat in done:
                    raise _Unsorted(m.chat)
                current, msgs = m.chat, []
            if m.is_me:
                owner_names.append(m.sender_name)
            kind = m.kind
            if kind == "text":  # most messages
                msgs.append(m)
            elif kind in SPEECH_DROPPED:
                dropped[kind] += 1
            elif (kind in MEDIA_KINDS or (kind == "voice" and m.text == VOICE_WITHOUT_TRANSCRIPT)) and not keep_media:
                dropped["media only"] += 1
            else:
                msgs.append(m)
        progress(after)
    tally.messages += messages
    tally.lines += messages + dropped["bad line"]
    tally.owner_messages += len(owner_names)
    tally.owner_names.update(owner_names)
    tally.owner_names.pop(None, None)
    tally.chat_ids.update(done)
    if current is not None:
        tally.chat_ids.add(current)
        yield current, msgs


def _line_blocks(path: Path, start: int, end: int | None, size: int = 1 << 22):
    """(offsets of the block's first byte and of the byte after it, the block) for path[start:end], in blocks
    of whole lines."""
    with open(path, "rb") as f:
        if start == 0 and f.read(3) == b"\xef\xbb\xbf":  # a byte order mark (Windows editors write one)
            start = 3
        f.seek(start)
        left = (end if end is not None else path.stat().st_size) - start
        carry, offset = b"", start
        while left > 0 and (data := f.read(min(size, left))):
            left -= len(data)
            buffer = carry + data
            cut = buffer.rfind(b"\n") + 1
            carry = buffer[cut:]
            if cut:
                yield offset, offset + cut, buffer[:cut]
                offset += cut
        if carry.strip():
            yield offset, offset + len(carry), carry


def _good_lines(path: Path, offset: int, block: bytes, opts: CleanOptions, tally: Tally) -> list[Message]:
    """The messages of a block that holds a bad line: the first bad line is an error, or each is counted with
    --skip-bad-lines."""
    good = []
    for number, line in enumerate(block.split(b"\n")):
        try:
            good.append(_decode(line))
        except (msgspec.DecodeError, msgspec.ValidationError) as e:
            if not line.strip():
                continue
            if not opts.skip_bad_lines:
                with open(path, "rb") as f:
                    number += f.read(offset).count(b"\n") + 1
                raise QingError(f"line {number} of {path} is not a message of messages.jsonl ({e}; a message has "
                                f"{', '.join(_REQUIRED)}); fix it, or pass --skip-bad-lines.") from None
            tally.dropped_messages["bad line"] += 1
    return good


def chat_ranges(path: Path, shares: list[float]) -> list[tuple[int, int | None]]:
    """Byte ranges of the file, about these shares of it in size, each moved on to where a chat ends."""
    size = path.stat().st_size
    cuts = [0]
    with open(path, "rb") as f:
        for end in itertools.accumulate(shares[:-1]):
            cut = _chat_end(f, max(int(size * end), cuts[-1]), size)
            if cuts[-1] < cut < size:
                cuts.append(cut)
    return list(zip(cuts, cuts[1:] + [None]))


def _chat_end(f, at: int, size: int) -> int:
    """Where the chat of the first line after byte `at` ends (the start of the next chat's first line), in a
    file grouped by chat: galloping, then bisecting over byte offsets (a few dozen lines read, however long the
    chat), then line by line over the last 64 KB. Lines that are not messages count as the chat around them."""
    lo, chat = _chat_line_after(f, at)
    if chat is None:
        return size
    step, hi = 1 << 16, size
    while lo + step < size:  # lo: a line of this chat; hi: the first line seen of another one
        start, other = _chat_line_after(f, lo + step)
        if other != chat:
            hi = start
            break
        lo, step = start, step * 2
    while hi - lo > 1 << 16:
        middle = (lo + hi) // 2
        start, other = _chat_line_after(f, middle)
        if other == chat and start < hi:
            lo = start
        else:
            hi = start if start < hi else middle
    f.seek(lo)
    for line in f:
        if _chat_of(line) not in (chat, None):
            return lo
        lo += len(line)
    return size


def _chat_line_after(f, offset: int) -> tuple[int, str | None]:
    """(start, chat) of the first message line starting after byte `offset` (at 0: the first line); (end of
    file, None) when there is none."""
    f.seek(offset)
    if offset:
        f.readline()
    start = f.tell()
    for line in f:
        if (chat := _chat_of(line)) is not None:
            return start, chat
        start += len(line)
    return start, None


def _chat_of(line: bytes) -> str | None:
    try:
        return orjson.loads(line)["chat"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None


def is_group(chat: str, senders: list, mine: list) -> bool:
    """A group chat by its id (group:...), or because more than one other person speaks in it."""
    if "group" in chat.rsplit(":", 1)[0]:
        return True
    return len(set(itertools.compress(senders, map(operator.not_, mine)))) > 1


# --- one chat ----------------------------------------------------------------------

_SEP = "\x00"  # joins texts for TextCleaner.many; no pattern it runs can match it


class TextCleaner:
    """Turn text: replacements, redaction, long runs shortened; None when a blocked word drops it."""

    def __init__(self, opts: CleanOptions, tally: Tally):
        self.urls, self.tally = opts.redact_urls, tally
        # a character, max_repeat more of it and the rest of the run (literal back-references scan twice as fast
        # as \1{n,}); many() joins texts with _SEP, which no run may take in
        run = r"\1" * opts.max_repeat + r"\1*"
        self.runs = re.compile("(.)" + run, re.S) if opts.max_repeat > 0 else None
        self.joined_runs = re.compile(f"([^{_SEP}])" + run)
        self.keep_run = opts.max_repeat
        keys = sorted(opts.replacements, key=len, reverse=True)
        self.replace = re.compile("|".join(map(re.escape, keys))) if keys else None
        self.mapping = opts.replacements
        self.blocked = re.compile("|".join(map(re.escape, opts.blocked_words))) if opts.blocked_words else None
        self.redact = Redactor()
        # many() joins texts with _SEP; words that hold it could match across two texts
        words = [*opts.replacements, *opts.replacements.values(), *opts.blocked_words]
        self.joinable = not any(_SEP in w for w in words)

    def for_chat(self, participants: set[str]) -> None:
        """Redact the QQ numbers of this chat's people (those of other chats: redact_numbers_of_others)."""
        self.redact = Redactor(participants, urls=self.urls, counts=self.tally.pii, kept=self.tally.numbers_kept)

    def __call__(self, text: str) -> str | None:
        if self.replace:
            text = self.replace.sub(self._replacement, text)
        text = self.redact(text)
        if self.runs and (shortened := self.runs.sub(self._shorten, text)) != text:
            self.tally.turn_changes["long run shortened"] += 1
            text = shortened
        if self.blocked and self.blocked.search(text):
            self.tally.dropped_turns["blocked word"] += 1
            return None
        return text.strip()

    def many(self, texts: list[str]) -> list[str | None]:
        """[self(text) for text in texts], faster: each pattern scans all the texts joined, in one call, to find
        the few texts it changes (no pattern can match across the separator, which no text holds)."""
        joined = _SEP.join(texts)
        if not self.joinable or joined.count(_SEP) != len(texts) - 1:
            return [self(text) for text in texts]
        if self.replace:
            joined = self.replace.sub(self._replacement, joined)
            texts = joined.split(_SEP)
        else:
            texts = list(texts)
        if changed := _which(MAYBE_PERSONAL, joined):
            for i in changed:
                texts[i] = self.redact(texts[i])
            joined = _SEP.join(texts)
        if self.runs:
            found = []

            def shorten(m: re.Match) -> str:
                found.append(m.start())
                return self._shorten(m)

            shortened = self.joined_runs.sub(shorten, joined)
            if found:
                self.tally.turn_changes["long run shortened"] += len(_indexes(joined, found))
                joined = shortened
                texts = joined.split(_SEP)
        if not (self.blocked and (blocked := _which(self.blocked, joined))):
            return [text.strip() for text in texts]
        self.tally.dropped_turns["blocked word"] += len(blocked)
        return [None if i in blocked else text.strip() for i, text in enumerate(texts)]

    def _replacement(self, m: re.Match) -> str:
        return self.mapping[m.group(0)]

    def _shorten(self, run: re.Match) -> str:
        return run.group(1) * self.keep_run


def _which(pattern: re.Pattern, joined: str) -> set[int]:
    """Indexes of the texts in which the pattern matches, from one scan of joined = _SEP.join(texts)."""
    return _indexes(joined, (m.start() for m in pattern.finditer(joined)))


def _indexes(joined: str, positions: Iterable[int]) -> set[int]:
    """Indexes of the texts these positions (rising) of joined = _SEP.join(texts) fall in."""
    found, index, counted = set(), 0, 0
    for at in positions:
        index += joined.count(_SEP, counted, at)
        counted = at
        found.add(index)
    return found


def chat_sessions(times: list, senders: list, mine: list, names: list, texts: list, group: bool,
                  clean: TextCleaner, opts: CleanOptions, tally: Tally) -> tuple[list[str], list, list, list]:
    """A chat's turns as columns - texts, start and end times - and its sessions as (number, first turn, stop)
    (messages as columns, in time order; sessions left without turns are counted, not given).

    A session ends where the silence exceeds the session gap; a sender's
    consecutive messages within the merge window are one turn (lines joined by
    newlines); in groups, others' turns are prefixed with their names. Turns are
    cleaned and alternate (the same side again after a gap or a dropped turn
    joins the last turn), and a session runs from a user turn to an owner's
    turn: an owner's opening turn gets the opener before it (or is dropped
    without one), a last user turn is dropped.
    """
    gap, limit = opts.session_gap, min(opts.merge_window, opts.session_gap)
    n = len(times)
    later = range(1, n)
    edges = [0, *(i for i, t0, t1, s0, s1, m0, m1 in zip(later, times, times[1:], senders, senders[1:],
                                                         mine, mine[1:])
                  if t1 - t0 > limit or s1 != s0 or m1 != m0), n]
    breaks = {i for i in edges[1:-1] if times[i] - times[i - 1] > gap}  # a gap over the session gap ends a turn too
    raw = [texts[a] if b - a == 1 else "\n".join(texts[a:b]) for a, b in zip(edges, edges[1:])]
    turns, starts, ends, sessions = [], [], [], []
    frame = _Framer(opts.owner_opener, turns, starts, ends, sessions)
    side, empty, joined = None, 0, 0  # side: is_me of the session's last turn, None before its first
    for a, b, text in zip(edges, edges[1:], clean.many(raw)):
        if a in breaks:
            frame(side)
            side = None
        if not text:
            empty += text is not None
            continue
        me = mine[a]  # a bool (Message.is_me)
        if group and not me:
            text = f"{names[a] or senders[a]}: {text}"
        if me is side:
            turns[-1] += "\n" + text
            ends[-1] = times[b - 1]
            joined += 1
        else:
            if side is None:
                frame.owner_first = me
            turns.append(text)
            starts.append(times[a])
            ends.append(times[b - 1])
            side = me
    frame(side)
    for counts, key, value in ((tally.dropped_turns, "empty", empty),
                               (tally.turn_changes, "joined to alternate", joined),
                               (tally.turn_changes, "opener added before owner's first turn", frame.opened),
                               (tally.dropped_turns, "owner opened (no --owner-opener)", frame.owner_opened),
                               (tally.dropped_turns, "unanswered at session end", frame.unanswered),
                               (tally.dropped_samples, "conversation without your reply", frame.without)):
        if value:
            counts[key] += value
    return turns, starts, ends, sessions


class _Framer:
    """Ends a session of chat_sessions: makes its turns (alternating, from the turns list's `first` on) start with
    a user turn and end with an owner's turn, and adds it to the sessions, or counts it when none is left."""

    def __init__(self, opener: str, turns: list, starts: list, ends: list, sessions: list):
        self.opener, self.turns, self.starts, self.ends, self.sessions = opener, turns, starts, ends, sessions
        self.number = self.first = 0
        self.owner_first = False
        self.opened = self.owner_opened = self.unanswered = self.without = 0

    def __call__(self, last_side: bool | None) -> None:
        turns, starts, ends, first = self.turns, self.starts, self.ends, self.first
        if last_side is not None:
            if self.owner_first:
                if self.opener:
                    turns.insert(first, self.opener)
                    starts.insert(first, starts[first])
                    ends.insert(first, starts[first])
                    self.opened += 1
                else:
                    del turns[first], starts[first], ends[first]
                    self.owner_opened += 1
            if not last_side and len(turns) > first:  # alternating: only the last can be a user turn
                turns.pop()
                starts.pop()
                ends.pop()
                self.unanswered += 1
        if len(turns) > first:
            self.sessions.append((self.number, first, len(turns)))
        else:
            self.without += 1
        self.number += 1
        self.first = len(turns)


def process_chat(chat: str, msgs: list, opts: CleanOptions, clean: TextCleaner, count: "TokenCounter",
                 budget: int, tally: Tally, out: Samples) -> None:
    """Add the samples of one chat to `out`, each checked for owner words and fingerprinted."""
    msgs.sort(key=_COLUMNS[0])
    times, senders, mine, names, texts = (list(map(column, msgs)) for column in _COLUMNS)
    if None in texts:
        texts = [text or "" for text in texts]
    people = {str(s) for s in set(senders) if s is not None}
    if chat.startswith("c2c:"):  # the other person, even one who never wrote
        people.add(chat[4:])
    tally.people.update(people)  # a group chat left out still names people who may be written of elsewhere
    group = is_group(chat, senders, mine)
    if group and not opts.groups:
        tally.dropped_messages["group chat (use --groups)"] += len(msgs)
        return
    tally.chats["group" if group else "private"] += 1
    if not msgs:  # all dropped (media, recalls)
        return
    clean.for_chat(people)
    # the chat's turns in one list: sessions have an even number of turns, so even indexes are user turns
    every, starts, ends, sessions = chat_sessions(times, senders, mine, names, texts, group, clean, opts, tally)
    tally.turn_chars.update(map(len, every))
    tokens = count.many(every)
    near = _near_keys(every)
    # each turn as JSON, from one orjson call: in the dump of a list of strings '","' only ever separates two
    # of them (a quote inside a string is always escaped, so it never follows a comma)
    encoded = orjson.dumps(every)[2:-2].split(b'","')
    turn_json = [role + text for role, text in zip(itertools.cycle(_TURN_JSON), encoded)]
    chat_ref = hashlib.blake2b(chat.encode(), digest_size=5).hexdigest().encode()  # groups a chat, names nobody
    join, wordless = "\n".join, 0
    for number, begin, end in sessions:
        used = sum(tokens[begin:end])  # most sessions fit the budget whole: one sample
        for first, stop, used in ([(begin, end, used)] if used <= budget else
                                  cut_samples(tokens, begin, end, budget, tally)):
            # most owner's turns start with a letter (never inside a placeholder, which starts with [ or <)
            if not (every[first + 1][:1].isalnum() or has_words(join(every[first + 1:stop:2]))):
                wordless += 1
                continue
            out.chat.append(chat)
            out.session.append(number)
            out.tokens.append(used)
            line = b'"},'.join(turn_json[first:stop]) + b'"}'
            out.turns.append(len(line))
            out.line.append(line + b'],"meta":{"chat":"%s","session":%d,"start":%d,"end":%d}}\n' % (
                chat_ref, number, starts[first], ends[stop - 1]))
            out.near.append(b"".join(near[first:stop]))
    if wordless:
        tally.dropped_samples["no owner words"] += wordless


def _near_keys(texts: list[str]) -> list[bytes]:
    """Each text as near-duplicate samples agree on it: without punctuation at its end, ASCII case, spacing and
    punctuation (in UTF-8, which keeps the separator U+FFFF, a noncharacter)."""
    return _each_at_once([text.rstrip(_TRAILING) for text in texts], "\uffff",
                         lambda text: text.encode().lower().translate(None, _ASCII_NOISE))


def _each_at_once(texts: list[str], sep: str, convert: Callable[[str], bytes]) -> list[bytes]:
    """[convert(text) for text in texts], from one call over the texts joined by `sep` (which convert must keep as
    sep.encode()) split again; one call per text when a text holds sep."""
    parts = convert(sep.join(texts)).split(sep.encode())
    return parts if len(parts) == len(texts) else [convert(text) for text in texts]


_TURN_JSON = (b'{"role":"user","content":"', b'{"role":"assistant","content":"')
_COLUMNS = tuple(map(operator.attrgetter, ("time", "sender", "is_me", "sender_name", "text")))
_WORD = re.compile(r"[^\W_]")  # what str.isalnum() calls a letter or digit


def has_words(text: str) -> bool:
    """Letters or digits outside placeholders such as [微笑] or <手机号>."""
    if "[" in text or "<" in text:
        text = _PLACEHOLDERS.sub("", text)
    return _WORD.search(text) is not None


# --- samples -------------------------------------------------------------------

class TokenCounter:
    """Tokens of a turn: estimated (1 per non-ASCII character, 1 per 4 ASCII ones) or exact with a tokenizer."""

    def __init__(self, tokenizer: Path | None):
        self.encoder = _load_tokenizer(tokenizer) if tokenizer else None
        self.method = f"tokenizer {tokenizer}" if tokenizer else "estimate"
        self.overhead = TURN_OVERHEAD_TOKENS

    def __call__(self, text: str) -> int:
        return self.many([text])[0]

    def many(self, texts: list[str]) -> list[int]:
        extra = self.overhead
        if self.encoder:
            return [len(e.ids) + extra for e in self.encoder.encode_batch(texts, add_special_tokens=False)]
        ascii_parts = _each_at_once(texts, _SEP, lambda text: text.encode("ascii", "ignore"))
        return [n - a + (a + 3) // 4 + extra for n, a in zip(map(len, texts), map(len, ascii_parts))]


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


def cut_samples(tokens: list[int], start: int, stop: int, budget: int, tally: Tally) -> list[tuple[int, int, int]]:
    """(first turn, stop, tokens) of each sample of the framed session tokens[start:stop] (token counts of its
    turns): cut at (user, assistant) pair boundaries to stay within the budget."""
    samples, first, used = [], start, 0
    for i in range(start, stop - 1, 2):
        need = tokens[i] + tokens[i + 1]
        if need > budget:
            tally.dropped_turns["turn pair over the token budget"] += 2
            if first < i:
                samples.append((first, i, used))
            first, used = i + 2, 0
            continue
        if used + need > budget:
            samples.append((first, i, used))
            first, used = i, 0
        used += need
    if first < stop:
        samples.append((first, stop, used))
    return samples


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


def pyplot():
    """matplotlib's pyplot without a screen, or a QingError saying how to install it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise QingError("--plot needs matplotlib: pip install 'qing[plot]'.") from None
    return plt


def plot_lengths(report: dict, path: Path) -> Path:
    """A PNG of the turn and sample length percentiles next to report.json."""
    plt = pyplot()
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

def clean(messages: Path, output: Path, opts: CleanOptions, force: bool = False, workers: int | None = None,
          progress: Callable[[int, int], None] | None = None) -> CleanResult:
    """Build DIR/train.jsonl, eval.jsonl and report.json from messages.jsonl.

    A file sorted by chat (as `qing export` writes it) is streamed chat by
    chat, by `workers` processes (default: one per core, at most 4, for files
    over 20 MB) taking jobs of whole chats (parallel.shares); anything else is
    grouped in memory. All ways give the same files.
    """
    started = time.perf_counter()
    _check_options(opts)
    require_input(messages, "messages file")
    refuse_input_as_output(output, messages)
    if output.exists() and not force:
        raise QingError(f"output directory {output} already exists; pass --force to replace it or -o for another.")
    if output.exists() and not output.is_dir():
        raise QingError(f"output {output} is a file; give a directory with -o.")
    refuse_foreign_files(output, OUTPUTS, "qing clean")
    if output.name in ("", ".."):  # `-o .` has no name to put a work directory beside
        output = output.resolve()
    count = TokenCounter(opts.tokenizer)  # a bad --tokenizer fails here, before any work
    size = messages.stat().st_size
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if size >= PARALLEL_FROM_BYTES else 1
    tell = progress or _nothing
    work = work_dir_beside(output)  # the files are written here, private, and moved into place whole at the end
    try:
        try:
            data, tally, workers = _make_all(messages, opts, workers, lambda done: tell(done, size), work)
        except _Unsorted:
            for part in work.glob("samples.*"):  # the workers' samples not read back: not part of the output
                part.unlink()
            (made, tally), workers = _make_unsorted(messages, opts), 1
            data = _Dataset(opts.eval_ratio)
            data.add(made)
        tell(size, size)
        if not tally.messages:
            raise QingError(f"{messages} holds no messages; export some with `qing export` first.")
        if not tally.owner_messages:
            raise QingError(f"none of the messages in {messages} is from the owner (is_me); run `qing export` "
                            f"again with --me YOUR_QQ_NUMBER.")
        owner = tally.owner_names.most_common(1)[0][0] if tally.owner_names else None
        system = _system_prompt(opts, owner)
        tally.dropped_samples.update(+data.copies)
        redact_numbers_of_others(data.made.line, tally)
        train, evals = data.train, data.evals
        random.Random(opts.seed).shuffle(train)
        result = _report(messages, opts, tally, count, data.made.tokens, train, evals, system)
        _write(work, data.made.line, train, evals, system, result)
        _move_into_place(work, output)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return CleanResult(output, result, time.perf_counter() - started, workers)


def _nothing(*_):
    pass


def redact_numbers_of_others(lines: list[bytes], tally: Tally) -> None:
    """Redact in the samples' lines the QQ numbers of people of other chats, written bare (`加一下2718281828`).

    Who speaks where is known only once every chat is read (by several processes); the texts' digit runs that
    could be a QQ number were noted as they were redacted, so this costs nothing unless one of them is
    someone's: then one scan of the lines (their turns, not their meta) finds where.
    """
    people = {p for p in tally.people if len(p) >= 5}
    found = {raw: n for raw, n in tally.numbers_kept.items() if re.sub(r"\D", "", raw) in people}
    if not found:
        return
    tally.pii[QQ] += sum(found.values())
    spellings = sorted((raw.encode() for raw in found), key=len, reverse=True)
    written = re.compile(rb"(?<![0-9A-Za-z])(?:" + b"|".join(map(re.escape, spellings)) + rb")(?![0-9A-Za-z])")
    ends = list(itertools.accumulate(map(len, lines)))
    changed = {bisect.bisect_right(ends, m.start()) for m in written.finditer(b"".join(lines))}
    for i in changed:
        line = lines[i]
        meta = line.rfind(b'],"meta":')
        lines[i] = written.sub(QQ.encode(), line[:meta]) + line[meta:]


def _make_range(messages: Path, start: int, end: int | None, opts: CleanOptions,
                progress: Callable[[int], None] = _nothing) -> tuple[Samples, Tally]:
    tally = Tally()
    return _make_chats(iter_chats(messages, start, end, opts, tally, progress), opts, tally), tally


def _make_chats(chats: Iterable[tuple[str, list]], opts: CleanOptions, tally: Tally) -> Samples:
    clean_text, count, budget = _chat_tools(opts, tally)
    made = Samples()
    gc.disable()  # millions of small objects, no cycles: collections would walk them all again and again
    try:
        for chat, msgs in chats:
            process_chat(chat, msgs, opts, clean_text, count, budget, tally, made)
    finally:
        gc.enable()
    return made


def _make_job(slot: int, messages: Path, start: int, end: int | None, opts: CleanOptions,
              part: Path) -> tuple[Samples, Tally, bool]:
    """One job of _make_all: (samples, tally, whether the samples' lines were packed into `part`) - a worker
    process hands them over in a file, the calling process keeps them."""
    made, tally = _make_range(messages, start, end, opts, lambda offset: parallel.report(slot, offset - start))
    if packed := parallel.in_worker():
        made.pack(part)
    return made, tally, packed


def _make_all(messages: Path, opts: CleanOptions, workers: int, progress,
              work: Path) -> tuple[_Dataset, Tally, int]:
    ranges = chat_ranges(messages, parallel.shares(workers)) if workers > 1 else [(0, None)]
    data, tally = _Dataset(opts.eval_ratio), Tally()
    if len(ranges) == 1:
        made, tally = _make_range(messages, 0, None, opts, progress)
        data.add(made)
        return data, tally, 1

    def ready(slot: int, part: tuple[Samples, Tally, bool]) -> None:  # in order, while later jobs run
        made, part_tally, packed = part
        if both := part_tally.chat_ids & tally.chat_ids:  # a chat in two jobs: the file is not sorted by chat
            raise _Unsorted(next(iter(both)))
        if packed:
            made.unpack(work / f"samples.{slot}")
        data.add(made)
        tally.add(part_tally)

    workers = min(workers, len(ranges))
    pool, shared = parallel.start_pool(workers - 1)  # this process takes jobs too
    try:
        jobs = [(messages, a, b, opts, work / f"samples.{slot}") for slot, (a, b) in enumerate(ranges)]
        parallel.share(pool, shared, _make_job, jobs, progress, ready)
    finally:
        parallel.close(pool)
    return data, tally, workers


def _make_unsorted(messages: Path, opts: CleanOptions) -> tuple[Samples, Tally]:
    """For a file not grouped by chat: gather every chat in memory first (first appearance order)."""
    tally = Tally()
    chats: dict[str, list] = {}
    for chat, msgs in iter_chats(messages, 0, None, opts, tally, grouped=False):
        chats.setdefault(chat, []).extend(msgs)
    return _make_chats(chats.items(), opts, tally), tally


def _chat_tools(opts: CleanOptions, tally: Tally) -> tuple[TextCleaner, TokenCounter, int]:
    """The text cleaner, the token counter and the token budget left for turns by the system prompt."""
    count = TokenCounter(opts.tokenizer)
    system = opts.system_prompt.replace("{owner}", "某" * 12) if opts.system_prompt else None  # the name: unknown yet
    return TextCleaner(opts, tally), count, opts.max_tokens - (count(system) if system else 0)


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


class _Dataset:
    """The samples, kept and split as they come, part by part in input order (a chat's samples all in one part).

    Of exact (the same turns) or near duplicates, the first (oldest in file order) copy stays: the same turns have
    the same near key, so the first of each near key is kept. eval takes the latest whole sessions of each chat,
    about `ratio` of all samples; train the rest.
    """

    def __init__(self, ratio: float):
        self.made, self.ratio = Samples(), ratio
        self.first: dict[bytes, int] = {}  # near key -> the index of its first sample
        self.copies: Counter = Counter()  # duplicates dropped, by reason
        self.train: list[int] = []
        self.evals: list[int] = []
        self.carry = 0.0  # eval samples owed (the ratio of those seen, less those taken)

    def add(self, part: Samples) -> None:
        made, first, start = self.made, self.first, len(self.made.near)
        made.extend(part)
        stop = len(made.near)
        new = dict(zip(reversed(part.near), range(stop - 1, start - 1, -1)))  # near key -> its first in the part
        if first:
            for key in new.keys() & first.keys():
                del new[key]
        first.update(new)
        kept = sorted(new.values())
        if len(kept) < stop - start:
            copies = set(range(start, stop)).difference(kept)
            exact = sum(_turns_of(made, i) == _turns_of(made, first[made.near[i]]) for i in copies)
            self.copies["exact duplicate"] += exact
            self.copies["near duplicate"] += len(copies) - exact
        self._split(kept)

    def _split(self, kept: list[int]) -> None:
        session = self.made.session
        for _, run in itertools.groupby(kept, self.made.chat.__getitem__):
            samples = list(run)
            self.carry += len(samples) * self.ratio
            quota, taken = math.floor(self.carry), 0
            sessions = [session[i] for i in samples]  # rising
            cut = len(samples)  # eval: samples[cut:], the latest sessions, while one is left at least to train on
            while taken < quota and sessions[0] != sessions[cut - 1]:
                cut = bisect.bisect_left(sessions, sessions[cut - 1], 0, cut)
                taken = len(samples) - cut
            self.train += samples[:cut]
            self.evals += samples[cut:]
            self.carry -= taken


def _turns_of(made: Samples, i: int) -> bytes:
    return made.line[i][:made.turns[i]]


def _percentiles(histogram: Counter) -> dict:
    """p50 / p90 / p99 / max of values given as value -> count."""
    total = sum(histogram.values())
    if not total:
        return {}
    out, running, marks = {}, 0, [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)]
    for value in sorted(histogram):
        running += histogram[value]
        while marks and running > marks[0][1] * total:
            out[marks.pop(0)[0]] = value
    out.update(max=max(histogram), count=total)
    return out


def _report(messages: Path, opts: CleanOptions, tally: Tally, count: TokenCounter, sample_tokens: list[int],
            train: list[int], evals: list[int], system: str | None) -> dict:
    options = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(opts).items()}
    options["blocked_words"] = len(opts.blocked_words)  # the words themselves may be private
    options["replacements"] = len(opts.replacements)
    system_tokens = count(system) if system else 0
    tokens = Counter(sample_tokens[i] + system_tokens for i in itertools.chain(train, evals))
    return {
        "input": {"file": str(messages), "lines": tally.lines or tally.messages, "messages": tally.messages,
                  "owner_messages": tally.owner_messages},
        "dropped_messages": dict(tally.dropped_messages),
        "chats": dict(tally.chats),
        "dropped_turns": dict(tally.dropped_turns),
        "turn_changes": dict(tally.turn_changes),
        "dropped_samples": dict(tally.dropped_samples),
        "pii_redacted": dict(tally.pii),
        "output": {"train": len(train), "eval": len(evals), "system_prompt": system is not None},
        "lengths": {"turn_chars": _percentiles(tally.turn_chars), "sample_tokens": _percentiles(tokens)},
        "tokens": {"total": sum(v * n for v, n in tokens.items()), "method": count.method,
                   "max_per_sample": opts.max_tokens},
        "options": options,
    }


def _write(work: Path, lines: list[bytes], train: list[int], evals: list[int], system: str | None,
           report: dict) -> None:
    """Write the three files into the private work directory."""
    start = b'{"messages":[' + (orjson.dumps({"role": "system", "content": system}) + b"," if system else b"")
    for name, samples in (("train.jsonl", train), ("eval.jsonl", evals)):
        with open_private(work / name, "wb") as f:
            for at in range(0, len(samples), 4096):  # a few MB at a time: one large buffer costs more to map
                f.write(start + start.join([lines[i] for i in samples[at:at + 4096]]))
    with open_private(work / "report.json", "wb") as f:
        f.write(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))


def _move_into_place(work: Path, output: Path) -> None:
    """Rename the finished work directory to the output, replacing an old one."""
    if output.exists():
        old = output.with_name(f".{output.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        output.rename(old)
        work.rename(output)
        shutil.rmtree(old)
    else:
        work.rename(output)
