"""Reading the samples files train.jsonl / eval.jsonl (contract 2): each line checked, one sentence when not."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Iterator

from qing.errors import QingError
from qing.i18n import _

ROLES = ("system", "user", "assistant")


def check_sample(record, where: str) -> list[dict]:
    """The messages of a contract-2 sample, or one sentence saying what is wrong with it."""
    messages = record.get("messages") if isinstance(record, dict) else None
    if not isinstance(messages, list) or not all(
            isinstance(m, dict) and isinstance(m.get("content"), str) and m.get("role") in ROLES for m in messages):
        raise QingError(_("{where} is not a chat sample: it needs a 'messages' list of role/content objects.").format(
            where=where))
    turns = [m["role"] for m in messages if m["role"] != "system"]
    if not turns or turns[-1] != "assistant" or any(a == b for a, b in zip(turns, turns[1:])):
        raise QingError(_("{where}: turns must alternate user/assistant and end with the assistant's.").format(
            where=where))
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def read_records(path: Path) -> Iterator[tuple[dict, list[dict]]]:
    """(record, its checked messages) for each line of a train.jsonl / eval.jsonl (contract 2); blank lines are
    skipped, a line that is not a sample is one sentence naming it."""
    import orjson

    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise QingError(_("line {number} of {path} is not JSON.").format(number=number, path=path)) from None
            yield record, check_sample(record, _("line {number} of {path}").format(number=number, path=path))


def read_samples(path: Path, limit: int | None = None) -> list[list[dict]]:
    """The conversations (messages) of a train.jsonl / eval.jsonl, the first `limit` of them."""
    return [messages for _record, messages in itertools.islice(read_records(path), limit or None)]
