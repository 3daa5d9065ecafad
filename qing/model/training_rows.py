"""The training data as the model sees it: chat samples read from a `qing clean` dataset, tokenized with the
model's chat template (only the owner's replies carry loss), packed into rows of up to max_length tokens whose
position ids restart at each sample (best-fit decreasing), and batched for the Trainer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qing.dataset.samples import read_samples
from qing.errors import QingError
from qing.i18n import _
from qing.model import chat_format as chat
from qing.model.options import FinetuneOptions


@dataclass
class Encoded:
    """Tokenized samples and what it cost."""

    rows: list[dict]
    samples: int
    tokens: int
    trained_tokens: int
    too_long: int
    padding_share: float
    """Share of the positions fed to the model that are padding."""
    fill: float
    """Tokens / (rows x max_length): how full the rows are."""


def encode_samples(tokenizer, samples: list[list[dict]], eot: str, max_length: int) -> tuple[list[tuple], int]:
    """(ids, labels) of each sample that fits max_length, and how many did not."""
    out, too_long = [], 0
    for ids, labels in chat.encode_many(tokenizer, samples, eot):
        if len(ids) > max_length:
            too_long += 1
            continue
        out.append((ids, labels))
    return out, too_long


def pack(lengths: list[int], capacity: int) -> list[list[int]]:
    """Best-fit decreasing bin packing: indices grouped so each group's total length fits `capacity`."""
    by_free: list[list[int]] = [[] for _free in range(capacity + 1)]  # by_free[c]: bins with c positions left
    bins: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        need = lengths[i]
        free = need
        while free <= capacity and not by_free[free]:
            free += 1
        if free > capacity:
            bins.append([])
            b, free = len(bins) - 1, capacity
        else:
            b = by_free[free].pop()
        bins[b].append(i)
        by_free[free - need].append(b)
    return bins


def make_rows(encoded: list[tuple], max_length: int, packing: bool, batch: int, too_long: int) -> Encoded:
    tokens = sum(len(ids) for ids, _labels in encoded)
    trained = sum(sum(1 for x in labels if x != chat.IGNORE) for _ids, labels in encoded)
    if packing:
        rows = []
        for group in pack([len(ids) for ids, _labels in encoded], max_length):
            ids = [t for i in group for t in encoded[i][0]]
            labels = [t for i in group for t in encoded[i][1]]
            positions = [p for i in group for p in range(len(encoded[i][0]))]
            rows.append({"input_ids": ids, "labels": labels, "position_ids": positions})
        padding = 0.0  # rows are concatenated, never padded
    else:
        rows = [{"input_ids": ids, "labels": labels} for ids, labels in encoded]
        padding = _padding_share([len(r["input_ids"]) for r in rows], batch)
    fill = tokens / (len(rows) * max_length) if rows else 0.0
    return Encoded(rows, len(encoded), tokens, trained, too_long, padding, fill)


def _padding_share(lengths: list[int], batch: int) -> float:
    """Padding share of batches padded to their longest sample (the order is random, so estimate in order)."""
    fed = sum(max(lengths[i:i + batch]) * len(lengths[i:i + batch]) for i in range(0, len(lengths), batch))
    return 1 - sum(lengths) / fed if fed else 0.0


class Collator:
    """Packed rows become one flat row (position ids restart per sample); plain samples are padded."""

    def __init__(self, pad_id: int, packing: bool):
        self.pad_id, self.packing = pad_id, packing

    def __call__(self, rows: list[dict]) -> dict:
        import torch

        if self.packing:
            return {key: torch.tensor([[v for r in rows for v in r[key]]])
                    for key in ("input_ids", "labels", "position_ids")}
        width = max(len(r["input_ids"]) for r in rows)
        batch = {"input_ids": [], "labels": [], "attention_mask": []}
        for r in rows:
            pad = width - len(r["input_ids"])
            batch["input_ids"].append(r["input_ids"] + [self.pad_id] * pad)
            batch["labels"].append(r["labels"] + [chat.IGNORE] * pad)
            batch["attention_mask"].append([1] * len(r["input_ids"]) + [0] * pad)
        return {k: torch.tensor(v) for k, v in batch.items()}


def load_dataset(dataset: Path, opts: FinetuneOptions) -> tuple[list, list]:
    if not dataset.is_dir():
        raise QingError(_("{dataset} is not a dataset directory; give the one `qing clean` wrote.").format(
            dataset=dataset))
    train_path, eval_path = dataset / "train.jsonl", dataset / "eval.jsonl"
    if not train_path.is_file():
        raise QingError(_("{dataset} has no train.jsonl; run `qing clean` first.").format(dataset=dataset))
    train = read_samples(train_path, opts.max_samples)
    if not train:
        raise QingError(_("{path} holds no samples.").format(path=train_path))
    evals = read_samples(eval_path, opts.max_eval_samples) if eval_path.is_file() else []
    return train, evals


def system_prompt_of(samples: list[list[dict]]) -> str | None:
    for m in samples[0]:
        if m["role"] == "system":
            return m["content"]
    return None
