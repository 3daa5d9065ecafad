"""One chat's messages -> turns and sessions: a sender's consecutive messages merged into turns, sessions ended
at long gaps, turn text cleaned (TextCleaner: replacements, personal data redacted, long runs shortened, blocked
words), turns made to alternate, each session framed to run from a user turn to an owner's turn."""

from __future__ import annotations

import itertools
import operator
import re
from typing import Iterable

from qing.dataset.clean.tally import Tally
from qing.dataset.options import CleanOptions
from qing.dataset.pii import MAYBE_PERSONAL, Redactor


def is_group(chat: str, senders: list, mine: list) -> bool:
    """A group chat by its id (group:...), or because more than one other person speaks in it."""
    if "group" in chat.rsplit(":", 1)[0]:
        return True
    return len(set(itertools.compress(senders, map(operator.not_, mine)))) > 1


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
