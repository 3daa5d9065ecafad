"""What `qing clean` counts: Tally, the counts of a part of the input (what was read, dropped and changed, and
why) that each stage adds to; the parts' tallies add up to what report.json shows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


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
