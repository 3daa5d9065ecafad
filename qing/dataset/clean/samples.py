"""Sessions -> samples: a chat's sessions cut at turn pairs into samples within the token budget, those without
owner words dropped, each written as its JSON line with its near-duplicate key (Samples: columns in input
order); the token counts (TokenCounter: estimated, or exact with a tokenizer)."""

from __future__ import annotations

import hashlib
import itertools
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import orjson

from qing.dataset.clean.sessions import _SEP, TextCleaner, chat_sessions, is_group
from qing.dataset.clean.tally import Tally
from qing.dataset.options import CleanOptions
from qing.errors import QingError
from qing.files import open_private
from qing.i18n import _

TURN_OVERHEAD_TOKENS = 5  # <|im_start|>role\n ... <|im_end|>\n
_PLACEHOLDERS = re.compile(r"\[[^\[\]\n]{1,8}\]|<[^<>\n]{2,6}>")  # [微笑] [图片] <手机号>: not words
# what near-duplicates may differ in: ASCII case, spacing and punctuation (bytes.translate: fast), and
# punctuation at the end of a turn (a regex over all text would cost more than the rest of the sample)
_ASCII_NOISE = bytes(c for c in range(128) if not chr(c).isalnum())
_TRAILING = "，。！？～…、 \u3000"


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
        raise QingError(_("--tokenizer needs the tokenizers package: pip install 'qing[train]'.")) from None
    file = path / "tokenizer.json" if path.is_dir() else path
    if not file.is_file():
        raise QingError(_("no tokenizer.json at {path}; give the file or the model directory holding it.").format(
            path=path))
    try:
        return Tokenizer.from_file(str(file))
    except Exception as e:  # tokenizers raises plain Exception subclasses for bad files
        raise QingError(_("{file} is not a tokenizer.json the tokenizers library can read ({reason}).").format(
            file=file, reason=e)) from None


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
