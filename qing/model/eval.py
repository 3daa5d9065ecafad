"""`qing eval`: does the tuned model sound like its owner? Numbers for tuned vs base vs the real replies.

Each eval sample (contract 2) ends with the owner's reply; that LAST assistant turn is the target and
everything before it is the context. Earlier replies of the sample stay in the context as history and
are not scored, so every sample gives exactly one context and one target, and a sample weighs the same
whatever its number of turns.

Three kinds of numbers:
- fit: mean loss (and perplexity) of the real target reply, counted on exactly the tokens training
  counts (chat.encode labels: the reply and its end-of-turn token), under the tuned model (base +
  adapter), the same base with the adapter switched off, and any GGUF (from llama.cpp's logits);
- style: a reply generated for every context by each model (fixed seed, the run's sampling settings)
  compared with the real replies as distributions: length, empty replies, QQ faces, emoji, how turns
  end, multi-line turns, overlap of the most frequent character bigrams;
- collapse: distinct-1 / distinct-2 (characters, character bigrams) and the share of replies given
  word for word to more than one context.
Words are character n-grams, not jieba words: no dependency, and QQ chat is mostly short, slangy text
that segmenters handle poorly anyway.
The statistics are pure functions of lists of strings; the model side reuses qing.infer and qing.chat.
The reports (qing.model.eval_report) are in the user's language, and so are report.json's labels and descriptions
(never its keys); on fewer than MIN_CONTEXTS contexts they and the terminal say the figures are too few to judge by.
"""

from __future__ import annotations

import dataclasses
import math
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from qing.dataset.samples import read_samples
from qing.errors import QingError
from qing.files import refuse_input_as_output
from qing.i18n import _
from qing.model import chat_format as chat
from qing.model.eval_report import check_outputs, write_report
from qing.model.options import EvalOptions
from qing.model.run import Run

FACE = re.compile(r"\[[^\[\]\n]{1,8}\]")  # [微笑] [动画表情] [图片]: QQ faces and stickers, as clean sees them
_PICTO = "[\U0001F000-\U0001FAFF\u2300-\u23FF\u2600-\u27BF\u2B00-\u2BFF\u3030\u303D\u3297\u3299]"
_MODS = "[\uFE0F\U0001F3FB-\U0001F3FF]*"  # variation selector, skin tones
EMOJI = re.compile(f"[\U0001F1E6-\U0001F1FF]{{2}}|{_PICTO}{_MODS}(?:\u200D{_PICTO}{_MODS})*")  # flags, ZWJ sequences
ENDINGS = {"。": "end_period", ".": "end_period", "！": "end_exclamation", "!": "end_exclamation",
           "？": "end_question", "?": "end_question", "~": "end_tilde", "～": "end_tilde"}
ENDING_KEYS = ("end_period", "end_exclamation", "end_question", "end_tilde", "end_none")
WORD_RUN = re.compile(r"\w+")
TOP_NGRAMS = 50


def style_labels() -> dict[str, str]:
    """The style measures (report.json's keys) and their labels, in the user's language."""
    return {
        "length_median": _("length, median (characters)"),
        "length_p90": _("length, p90 (characters)"),
        "empty_share": _("empty replies (share)"),
        "faces_per_reply": _("QQ faces / stickers per reply"),
        "emoji_per_reply": _("emoji per reply"),
        "end_period": _("ends with 。 (share)"),
        "end_exclamation": _("ends with ！ (share)"),
        "end_question": _("ends with ？ (share)"),
        "end_tilde": _("ends with ~ (share)"),
        "end_none": _("ends without a mark (share)"),
        "multiline_share": _("multi-line replies (share)"),
        "ngram_overlap": _("top-{count} character bigrams shared with the real replies").format(count=TOP_NGRAMS),
    }


def collapse_labels() -> dict[str, str]:
    """The collapse measures and their labels, in the user's language."""
    return {
        "distinct_1": _("distinct-1 (unique characters / characters)"),
        "distinct_2": _("distinct-2 (unique bigrams / bigrams)"),
        "identical_share": _("replies identical to another context's (share)"),
    }


@dataclass
class Context:
    messages: list[dict]
    """The conversation before the target reply (system turn included when the sample has one)."""
    target: str
    ids: list[int] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    """chat.encode labels with every reply but the target's masked out."""


# --- contexts ---------------------------------------------------------------------------

def last_reply_labels(labels: list[int]) -> list[int]:
    """Labels of the last labelled stretch only (the target reply + its end token); the rest IGNORE."""
    end = max((i for i, x in enumerate(labels) if x != chat.IGNORE), default=-1) + 1
    start = end
    while start > 0 and labels[start - 1] != chat.IGNORE:
        start -= 1
    return [x if start <= i < end else chat.IGNORE for i, x in enumerate(labels)]


def split_target(messages: list[dict]) -> tuple[list[dict], str]:
    """(context, target): the target is the sample's last assistant turn, the context all before it."""
    last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
    return messages[:last], messages[last]["content"]


def read_contexts(path: Path, limit: int | None) -> list[Context]:
    if not path.is_file():
        raise QingError(_("{path} does not exist; pass --dataset with the directory `qing clean` wrote.").format(
            path=path))
    samples = read_samples(path, limit)
    if not samples:
        raise QingError(_("{path} holds no samples; evaluation needs at least one conversation.").format(path=path))
    return [Context(*split_target(m)) for m in samples]


# --- style statistics (pure) --------------------------------------------------------------

def quantile(values: list[float], q: float) -> float | None:
    """Nearest-rank quantile: the smallest value with at least q of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]


def ending(text: str) -> str | None:
    """How a reply ends: one of ENDING_KEYS, or None for an empty reply. An ellipsis is no full stop."""
    text = text.rstrip()
    if not text:
        return None
    if text.endswith(("..", "…")):
        return "end_none"
    return ENDINGS.get(text[-1], "end_none")


def bigrams(text: str) -> list[str]:
    """Character bigrams inside runs of word characters (faces and punctuation break a run)."""
    return [run[i:i + 2] for run in WORD_RUN.findall(FACE.sub(" ", text)) for i in range(len(run) - 1)]


def top_ngrams(replies: list[str], k: int = TOP_NGRAMS) -> list[tuple[str, int]]:
    counts = Counter(g for r in replies for g in bigrams(r))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:k]


def ngram_overlap(real: list[str], other: list[str], k: int = TOP_NGRAMS) -> float | None:
    """Share of the real replies' k most frequent bigrams that are among the other replies' k most frequent."""
    mine = {g for g, _count in top_ngrams(real, k)}
    if not mine:
        return None
    return len(mine & {g for g, _count in top_ngrams(other, k)}) / len(mine)


def _share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def style_stats(replies: list[str], real: list[str] | None = None) -> dict[str, float | None]:
    """Every style number of a list of replies (stripped first); overlap is against `real` (itself if None)."""
    texts = [r.strip() for r in replies]
    lengths = [len(t) for t in texts]
    ends = [e for e in map(ending, texts) if e is not None]
    stats = {
        "length_median": statistics.median(lengths) if lengths else None,
        "length_p90": quantile(lengths, 0.9),
        "empty_share": _share([not t for t in texts]),
        "faces_per_reply": sum(len(FACE.findall(t)) for t in texts) / len(texts) if texts else None,
        "emoji_per_reply": sum(len(EMOJI.findall(t)) for t in texts) / len(texts) if texts else None,
    }
    stats.update({key: _share([e == key for e in ends]) for key in ENDING_KEYS})
    stats["multiline_share"] = _share(["\n" in t for t in texts])
    stats["ngram_overlap"] = ngram_overlap(real if real is not None else texts, texts)
    return stats


def collapse_stats(replies: list[str]) -> dict[str, float | None]:
    """distinct-1 / distinct-2 over characters and character bigrams of all replies, and the share of the
    non-empty replies that were given word for word to another context too."""
    texts = [r.strip() for r in replies]
    chars = [c for t in texts for c in t if not c.isspace()]
    pairs = [t[i:i + 2] for t in texts for i in range(len(t) - 1)]
    said = [t for t in texts if t]
    counts = Counter(said)
    return {
        "distinct_1": len(set(chars)) / len(chars) if chars else None,
        "distinct_2": len(set(pairs)) / len(pairs) if pairs else None,
        "identical_share": _share([counts[t] > 1 for t in said]),
    }


def compare(real: list[str], generated: dict[str, list[str]]) -> tuple[dict, dict]:
    """(style, collapse): {metric: {label, real, <column>..., gap: {<column>: column - real}}}."""
    tables = []
    for labels, stats_of in ((style_labels(), lambda rs: style_stats(rs, real)), (collapse_labels(), collapse_stats)):
        columns = {"real": stats_of(real), **{name: stats_of(replies) for name, replies in generated.items()}}
        table = {}
        for key, label in labels.items():
            row = {"label": label, **{name: stats[key] for name, stats in columns.items()}}
            row["gap"] = {name: _gap(row[name], row["real"]) for name in generated}
            table[key] = row
        tables.append(table)
    return tables[0], tables[1]


def _gap(value, real):
    return None if value is None or real is None else value - real


# --- fit ----------------------------------------------------------------------------------

def fit_summary(nll: float, tokens: int) -> dict:
    loss = nll / tokens if tokens else None
    return {"loss": loss, "perplexity": math.exp(loss) if loss is not None and loss < 700 else None,
            "tokens": tokens}


def relative(value, reference):
    return None if value is None or not reference else value / reference - 1


def nll_torch(model, ids: list[int], labels: list[int]) -> tuple[float, int]:
    """Summed loss of the labelled tokens and their count; logits only from the first labelled position on."""
    import torch

    first = next(i for i, x in enumerate(labels) if x != chat.IGNORE)
    device = next(model.parameters()).device
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids], device=device), use_cache=False,
                       logits_to_keep=len(ids) - first + 1).logits[0, :-1].float()
    target = torch.tensor(labels[first:], device=device)
    nll = torch.nn.functional.cross_entropy(logits, target, ignore_index=chat.IGNORE, reduction="sum")
    return nll.item(), int((target != chat.IGNORE).sum())


def nll_llama(llm, prompt: list[int], reply: list[int]) -> tuple[float, int]:
    """The same from llama.cpp: evaluate prompt + reply with logits_all, log-softmax at each reply position."""
    import numpy as np

    llm.reset()
    llm.eval(prompt + reply)
    rows = np.asarray(llm.scores[len(prompt) - 1:len(prompt) + len(reply) - 1], dtype=np.float64)
    top = rows.max(axis=1, keepdims=True)
    log_z = top[:, 0] + np.log(np.exp(rows - top).sum(axis=1))
    return float((log_z - rows[np.arange(len(reply)), reply]).sum()), len(reply)


# --- models -------------------------------------------------------------------------------

@dataclass
class Column:
    """What one model did: its replies, summed loss and token count, per-context losses."""

    name: str
    description: str
    replies: list[str] = field(default_factory=list)
    nll: float = 0.0
    tokens: int = 0
    losses: list[float | None] = field(default_factory=list)

    def add_fit(self, nll: float, tokens: int) -> None:
        self.nll += nll
        self.tokens += tokens
        self.losses.append(nll / tokens if tokens else None)


def _sampling(opts: EvalOptions, index: int):
    from qing.model.infer import InferOptions

    return InferOptions(temperature=opts.temperature, top_p=opts.top_p, max_new_tokens=opts.max_new_tokens,
                        seed=opts.seed + index)


def run_transformers(run: Run, contexts: list[Context], opts: EvalOptions, max_length: int,
                     tick: Callable[[], None]) -> tuple[list[Context], Column, Column]:
    """Tuned (base + adapter) and base (adapter switched off) on every context that fits max_length."""
    from qing.model import infer

    if run.adapter is None:
        raise run.unfinished()
    cm = infer.load(run.folder, adapter=run.adapter, opts=infer.InferOptions(quant=opts.quant))
    kept = []
    for c in contexts:
        c.ids, labels = chat.encode(cm.tokenizer, c.messages + [{"role": "assistant", "content": c.target}], cm.eot)
        c.labels = last_reply_labels(labels)
        if len(c.ids) <= max_length:
            kept.append(c)
    tuned, base = Column("tuned", cm.description), Column("base", _("{model}, adapter off").format(
        model=cm.description))
    for i, c in enumerate(kept):
        tuned.add_fit(*nll_torch(cm.model, c.ids, c.labels))
        tuned.replies.append(infer.complete(cm, c.messages, _sampling(opts, i)).text)
        tick()
        with cm.model.disable_adapter():
            base.add_fit(*nll_torch(cm.model, c.ids, c.labels))
            base.replies.append(infer.complete(cm, c.messages, _sampling(opts, i)).text)
        tick()
    _free(cm)
    return kept, tuned, base


def run_gguf(path: Path, contexts: list[Context], opts: EvalOptions, tick: Callable[[], None]) -> Column:
    """A GGUF through llama.cpp: replies by infer.complete, then the fit from a logits_all instance."""
    from qing.model import infer

    sampling = _sampling(opts, 0)
    cm = infer.load_gguf(path, sampling, opts.gpu_layers)
    column = Column(path.name, cm.description)
    sequences = []
    for i, c in enumerate(contexts):
        sequences.append((cm.tokenize(cm.render(c.messages)), cm.tokenize(c.target + cm.eot)))
        column.replies.append(infer.complete(cm, c.messages, _sampling(opts, i)).text)
        tick()
    cm.llama.close()
    # a second instance, only while scoring: logits for every position cost n_ctx x vocab floats
    longest = max(len(p) + len(r) for p, r in sequences)
    scorer = infer.open_llama(path, n_ctx=longest + 1, n_batch=min(512, longest + 1), n_gpu_layers=opts.gpu_layers,
                              logits_all=True, verbose=False)
    for prompt, reply in sequences:
        column.add_fit(*nll_llama(scorer, prompt, reply))
        tick()
    scorer.close()
    return column


def _free(cm) -> None:
    import gc

    import torch

    cm.model = None
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


# --- the whole evaluation ---------------------------------------------------------------------

def eval_file(run: Run, dataset: Path | None) -> Path:
    """The eval.jsonl to use: --dataset (a directory or the file itself), else the run's dataset."""
    if dataset is None:
        if run.dataset is None:
            raise QingError(_("the run does not say which dataset it was trained on; pass --dataset."))
        dataset = run.dataset
    if dataset.is_file():
        return dataset
    if not dataset.is_dir():
        raise QingError(_("dataset {path} does not exist; pass --dataset with the directory `qing clean` "
                          "wrote.").format(path=dataset))
    return dataset / "eval.jsonl"


def evaluate(run_dir: Path, dataset: Path | None = None, opts: EvalOptions | None = None,
             ggufs: tuple[Path, ...] = (), progress: Callable[[int, int], None] | None = None) -> dict:
    """The whole report as a dict (see the module docstring); nothing is written."""
    from qing.model import gguf as gguf_mod
    opts = opts or EvalOptions()
    started = time.perf_counter()
    run = Run.open(run_dir)
    if run.adapter is None:  # before the dataset: the first thing to fix
        raise run.unfinished()
    for path in ggufs:
        gguf_mod.require_gguf(path)
    source = eval_file(run, dataset)
    contexts = read_contexts(source, opts.limit or None)
    max_length = int(run.max_length or 2048)
    steps = len(contexts) * (2 + 2 * len(ggufs))
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress:
            progress(done[0], steps)

    kept, tuned, base = run_transformers(run, contexts, opts, max_length, tick)
    if not kept:
        raise QingError(_("none of the {count} eval samples fits the run's max length ({max_length} tokens).").format(
            count=len(contexts), max_length=max_length))
    steps = len(kept) * (2 + 2 * len(ggufs))
    columns = [tuned, base] + [run_gguf(path, kept, opts, tick) for path in ggufs]
    return build_report(run_dir, source, contexts, kept, columns, opts, time.perf_counter() - started)


def build_report(run_dir: Path, source: Path, contexts: list[Context], kept: list[Context], columns: list[Column],
                 opts: EvalOptions, seconds: float) -> dict:
    real = [c.target for c in kept]
    style, collapse = compare(real, {col.name: col.replies for col in columns})
    fit = {col.name: fit_summary(col.nll, col.tokens) for col in columns}
    for name, numbers in fit.items():
        for ref in ("base", "tuned"):
            if name != ref:
                numbers[f"loss_change_vs_{ref}"] = relative(numbers["loss"], fit[ref]["loss"])
                numbers[f"perplexity_change_vs_{ref}"] = relative(numbers["perplexity"], fit[ref]["perplexity"])
    return {
        "version": 1,
        "run": str(run_dir),
        "eval_file": str(source),
        "samples": len(contexts),
        "contexts": len(kept),
        "skipped_too_long": len(contexts) - len(kept),
        "target": _("the last assistant turn of each sample; the turns before it are the context"),
        "settings": {**dataclasses.asdict(opts),
                     "ngrams": _("character bigrams, top {count}").format(count=TOP_NGRAMS)},
        "columns": {col.name: col.description for col in columns},
        "fit": fit,
        "style": style,
        "collapse": collapse,
        "top_ngrams": {"real": top_ngrams(real, 20), **{c.name: top_ngrams(c.replies, 20) for c in columns}},
        "side_by_side": side_by_side(kept, columns, opts.side_by_side),
        "seconds": round(seconds, 2),
    }


def side_by_side(contexts: list[Context], columns: list[Column], k: int) -> list[dict]:
    """The k contexts where tuned and base disagree most on the real reply (largest |loss gap|)."""
    tuned, base = columns[0], columns[1]

    def gap(i: int) -> float:
        a, b = tuned.losses[i], base.losses[i]
        return abs(b - a) if a is not None and b is not None else -1.0

    rows = []
    for i in sorted(range(len(contexts)), key=lambda i: (-gap(i), i))[:k]:
        turns = [m for m in contexts[i].messages if m["role"] != "system"][-6:]
        rows.append({"index": i, "context": turns, "real": contexts[i].target,
                     "loss": {c.name: c.losses[i] for c in columns},
                     "replies": {c.name: c.replies[i] for c in columns}})
    return rows


def eval_run(run_dir: Path, out_dir: Path, dataset: Path | None = None, opts: EvalOptions | None = None,
             ggufs: tuple[Path, ...] = (), force: bool = False,
             progress: Callable[[int, int], None] | None = None) -> tuple[dict, list[Path]]:
    """`qing eval`: refuse a taken output before the long work, evaluate, write the three reports."""
    refuse_input_as_output(out_dir, dataset)
    check_outputs(out_dir, force)
    report = evaluate(run_dir, dataset, opts, ggufs, progress)
    return report, write_report(report, out_dir, force)
