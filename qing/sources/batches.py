"""Readers yield records in lists, so the per-record work after them runs in C loops."""

from __future__ import annotations

from itertools import islice
from typing import Iterable, Iterator

BATCH = 4096  # records per list: readers yield lists, so the per-record work after them runs in C loops


def in_lists(records: Iterable[dict]) -> Iterator[list[dict]]:
    """The records in lists of BATCH. When making one fails, the records before it are yielded first, then
    the error raised, as when they went one at a time: the first problem in file order is the one reported
    (a time going back, found when the list is written, or the failing record)."""
    records = iter(records)
    while True:
        batch = []
        try:
            for record in islice(records, BATCH):
                batch.append(record)
        except Exception:
            if batch:
                yield batch
            raise
        if not batch:
            return
        yield batch
