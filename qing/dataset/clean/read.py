"""Reading messages.jsonl: the file cut into jobs (byte ranges of whole chats, for worker processes), each read
in blocks of whole lines decoded at once, chat by chat, speech kept and dropped kinds counted; a line that is
not a message is one sentence or, with --skip-bad-lines, counted."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Callable

import msgspec
import orjson

from qing.dataset.clean.tally import Tally
from qing.dataset.options import CleanOptions
from qing.errors import QingError
from qing.i18n import _

SPEECH_DROPPED = frozenset(("system", "recall", "unknown"))
MEDIA_KINDS = frozenset(("image", "video", "file", "card", "redpacket", "forward", "call"))
VOICE_WITHOUT_TRANSCRIPT = "[语音]"
_REQUIRED = ("chat", "time", "is_me", "kind", "text")


class _Unsorted(Exception):
    """A chat's messages are not contiguous in the file: group them in memory instead of streaming."""


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
                raise QingError(_("line {number} of {path} is not a message of messages.jsonl ({reason}; a message "
                                  "has {keys}); fix it, or pass --skip-bad-lines.").format(
                    number=number, path=path, reason=e, keys=", ".join(_REQUIRED))) from None
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
