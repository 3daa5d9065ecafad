"""All the samples, part by part in input order (_Dataset): exact and near duplicates dropped, the latest
sessions of each chat put in eval and the rest in train; once every chat is read, the QQ numbers of other
chats' people redacted in the samples."""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections import Counter

from qing.dataset.clean.samples import Samples
from qing.dataset.clean.tally import Tally
from qing.dataset.pii import QQ


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
