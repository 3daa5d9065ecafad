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
On fewer than MIN_CONTEXTS contexts the terminal and the reports say that the figures are too few to judge by.
The reports are in the user's language, and so are report.json's labels and descriptions (never its keys).
"""

from __future__ import annotations

import dataclasses
import html
import json
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
from qing.i18n import _, language
from qing.model import chat_format as chat
from qing.model.options import EvalOptions
from qing.model.run import Run

REPORT_FILES = ("report.json", "report.md", "report.html")
MIN_CONTEXTS = 30
"""Fewer contexts and the report cannot tell the models apart. Most of its figures are shares of the replies
(empty, multi-line, how they end, identical): a share measured on n contexts has a 95% interval of up to
±1.96·√(0.25/n), and the gap between two models' shares up to ±1.96·√(0.5/n) = ±1.39/√n. Below 30 contexts that
is more than ±0.25, as large as the gaps worth seeing; at the default --limit of 200 it is ±0.10."""
FACE = re.compile(r"\[[^\[\]\n]{1,8}\]")  # [微笑] [动画表情] [图片]: QQ faces and stickers, as clean sees them
_PICTO = "[\U0001F000-\U0001FAFF\u2300-\u23FF\u2600-\u27BF\u2B00-\u2BFF\u3030\u303D\u3297\u3299]"
_MODS = "[\uFE0F\U0001F3FB-\U0001F3FF]*"  # variation selector, skin tones
EMOJI = re.compile(f"[\U0001F1E6-\U0001F1FF]{{2}}|{_PICTO}{_MODS}(?:\u200D{_PICTO}{_MODS})*")  # flags, ZWJ sequences
ENDINGS = {"。": "end_period", ".": "end_period", "！": "end_exclamation", "!": "end_exclamation",
           "？": "end_question", "?": "end_question", "~": "end_tilde", "～": "end_tilde"}
ENDING_KEYS = ("end_period", "end_exclamation", "end_question", "end_tilde", "end_none")
WORD_RUN = re.compile(r"\w+")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # what a rambling base model emits; not valid in HTML
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


def check_outputs(out_dir: Path, force: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise QingError(_("output {path} is a file; give a directory with -o.").format(path=out_dir))
    taken = [name for name in REPORT_FILES if (out_dir / name).exists()]
    if taken and not force:
        raise QingError(_("{path} already exists; pass --force to overwrite it or -o to choose another "
                          "directory.").format(path=out_dir / taken[0]))


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


# --- writing ------------------------------------------------------------------------------------

def write_report(report: dict, out_dir: Path, force: bool = False) -> list[Path]:
    """report.json, report.md and report.html in OUT_DIR (owner-only: they quote chats), each atomically."""
    from qing.files import atomic_output, private_dir

    check_outputs(out_dir, force)
    private_dir(out_dir)
    texts = {"report.json": json.dumps(report, ensure_ascii=False, indent=2) + "\n",
             "report.md": render_markdown(report), "report.html": render_html(report)}
    written = []
    for name, text in texts.items():
        with atomic_output(out_dir / name, force=True) as tmp:
            tmp.write_text(text, encoding="utf-8")
        written.append(out_dir / name)
    return written


def fmt(value, kind: str = "num") -> str:
    if value is None:
        return "-"
    if kind == "signed":
        return f"{value:+.3g}"
    if kind == "pct":
        return f"{value:+.1%}"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def summary_rows(report: dict) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the one-screen summary: fit, style and collapse numbers per column."""
    names = list(report["columns"])
    header = [_("measure"), _("real"), *names]
    rows = [[_("perplexity of the real replies"), "", *(fmt(report["fit"][n]["perplexity"]) for n in names)],
            [_("loss of the real replies"), "", *(fmt(report["fit"][n]["loss"]) for n in names)]]
    for table in (report["style"], report["collapse"]):
        rows += [[row["label"], fmt(row["real"]), *(fmt(row[n]) for n in names)] for row in table.values()]
    return header, rows


def too_few_contexts(report: dict) -> str | None:
    """The warning of a report that rests on fewer than MIN_CONTEXTS contexts, else None."""
    count = report["contexts"]
    if count >= MIN_CONTEXTS:
        return None
    margin = min(1.96 * math.sqrt(2 * 0.25 / max(count, 1)), 1.0)
    return _("too few to judge: only {count} contexts were evaluated, and on so few a share in these tables can "
             "differ between two models by up to ±{margin:.2f} by chance alone; evaluate at least {minimum} (a "
             "higher --limit, or a larger eval set: qing clean --eval-ratio).").format(
        count=count, margin=margin, minimum=MIN_CONTEXTS)


def _clean(text) -> str:
    return CONTROL.sub("\ufffd", str(text))


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    def line(cells):
        return "| " + " | ".join(_clean(c).replace("|", "\\|").replace("\n", " ⏎ ") for c in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *map(line, rows)]) + "\n"


def _fit_rows(report: dict) -> tuple[list[str], list[list[str]]]:
    header = [_("model"), _("loss"), _("perplexity"), _("tokens"), _("perplexity vs base"), _("perplexity vs tuned")]
    rows = [[name, fmt(f["loss"]), fmt(f["perplexity"]), fmt(f["tokens"]),
             fmt(f.get("perplexity_change_vs_base"), "pct"), fmt(f.get("perplexity_change_vs_tuned"), "pct")]
            for name, f in report["fit"].items()]
    return header, rows


def _compare_rows(report: dict, table: dict) -> tuple[list[str], list[list[str]]]:
    names = list(report["columns"])
    header = [_("measure"), _("real"), *names, *(_("gap {model}").format(model=n) for n in names)]
    rows = [[row["label"], fmt(row["real"]), *(fmt(row[n]) for n in names),
             *(fmt(row["gap"][n], "signed") for n in names)] for row in table.values()]
    return header, rows


def _reply_rows(row: dict) -> tuple[list[str], list[list[str]]]:
    """One side-by-side context: the real reply and each column's, with the loss of the real one."""
    return ([_("who"), _("reply"), _("loss of the real reply")],
            [[_("real"), row["real"], ""]] + [[n, r, fmt(row["loss"][n])] for n, r in row["replies"].items()])


def _about(report: dict) -> list[str]:
    s = report["settings"]
    return [_("Run: {run}; eval set: {eval_file} ({samples} samples, {contexts} evaluated, {skipped} longer than the "
              "run's max length).").format(run=report["run"], eval_file=report["eval_file"],
                                            samples=report["samples"], contexts=report["contexts"],
                                            skipped=report["skipped_too_long"]),
            _("Target: {target}. Fit counts the target reply and its end-of-turn token, as training does; perplexity "
              "is exp(mean loss per token).").format(target=report["target"]),
            _("Replies sampled with temperature {temperature}, top_p {top_p}, at most {max_new_tokens} new tokens, "
              "seed {seed} + context index (the same for every model).").format(
                temperature=s["temperature"], top_p=s["top_p"], max_new_tokens=s["max_new_tokens"], seed=s["seed"]),
            _("Words are {ngrams} (no segmenter); gaps are model minus real; a good tuned model has smaller gaps "
              "than the base.").format(ngrams=s["ngrams"]),
            _("Columns: {columns}.").format(columns="; ".join(f"{n} = {d}" for n, d in report["columns"].items()))]


def sections() -> tuple[tuple[str, str], ...]:
    """The report's sections: (anchor, title in the user's language)."""
    return (("summary", _("Summary")), ("fit", _("Fit: how likely are the real replies")),
            ("style", _("Style: generated vs real replies")), ("collapse", _("Collapse: variety of the replies")),
            ("side-by-side", _("Side by side")), ("about", _("How these numbers were made")))


def render_markdown(report: dict) -> str:
    out = [f"# {_('qing eval: does it sound like me?')}\n"]
    if warning := too_few_contexts(report):
        out.append(f"> **{warning}**\n")
    titles = dict(sections())
    out += [f"## {titles['summary']}\n", _md_table(*summary_rows(report))]
    out += [f"## {titles['fit']}\n", _md_table(*_fit_rows(report))]
    out += [f"## {titles['style']}\n", _md_table(*_compare_rows(report, report["style"]))]
    out += [f"## {titles['collapse']}\n", _md_table(*_compare_rows(report, report["collapse"]))]
    out.append(f"## {titles['side-by-side']}\n")
    for row in report["side_by_side"]:
        out.append(f"### {_('Context {index}').format(index=row['index'])}\n")
        out += [_clean(f"> **{m['role']}**: {m['content']}").replace("\n", "\n> ") for m in row["context"]]
        out.append("")
        out.append(_md_table(*_reply_rows(row)))
    out += [f"## {titles['about']}\n", *(f"- {line}" for line in _about(report)), ""]
    return "\n".join(out)


CSS = """body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;
margin:2em auto;max-width:1100px;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0;width:100%}td,th{border:1px solid #ddd;padding:.3em .6em;
text-align:left;vertical-align:top;white-space:pre-wrap}th{background:#f4f4f4}td.n{text-align:right;
font-variant-numeric:tabular-nums}.ctx{background:#fafafa;border-left:3px solid #bbb;padding:.4em .8em;
white-space:pre-wrap}.role{color:#777;font-size:.85em}.card{margin:1.5em 0}.warn{background:#fff4e0;
border-left:3px solid #e08a00;padding:.5em .8em;font-weight:600}"""


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    def cell(value, tag):
        text = _clean(value)
        numeric = tag == "td" and re.fullmatch(r"[-+0-9.e%]+", text) is not None
        return f"<{tag}{' class=n' if numeric else ''}>{html.escape(text)}</{tag}>"

    head = "".join(cell(h, "th") for h in header)
    body = "".join("<tr>" + "".join(cell(c, "td") for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: dict) -> str:
    """One self-contained page: inline CSS, no script, no network."""
    parts = {"summary": _html_table(*summary_rows(report)), "fit": _html_table(*_fit_rows(report)),
             "style": _html_table(*_compare_rows(report, report["style"])),
             "collapse": _html_table(*_compare_rows(report, report["collapse"])),
             "about": "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in _about(report)) + "</ul>"}
    cards = []
    for row in report["side_by_side"]:
        context = "".join(f"<div><span class=role>{html.escape(m['role'])}</span> "
                          f"{html.escape(_clean(m['content']))}</div>" for m in row["context"])
        title = html.escape(_("Context {index}").format(index=row["index"]))
        cards.append(f"<div class=card><h3>{title}</h3><div class=ctx>{context}</div>"
                     f"{_html_table(*_reply_rows(row))}</div>")
    parts["side-by-side"] = "".join(cards) or f"<p>{html.escape(_('No contexts.'))}</p>"
    body = "".join(f'<section id="{key}"><h2>{html.escape(title)}</h2>{parts[key]}</section>'
                   for key, title in sections())
    if warning := too_few_contexts(report):
        body = f"<p class=warn>{html.escape(warning)}</p>{body}"
    heading = html.escape(_("qing eval: does it sound like me?"))
    return (f"<!DOCTYPE html><html lang={language()}><head><meta charset=utf-8>"
            "<meta name=viewport content=\"width=device-width, initial-scale=1\">"
            f"<title>qing eval</title><style>{CSS}</style></head><body>"
            f"<h1>{heading}</h1>{body}</body></html>\n")


def eval_run(run_dir: Path, out_dir: Path, dataset: Path | None = None, opts: EvalOptions | None = None,
             ggufs: tuple[Path, ...] = (), force: bool = False,
             progress: Callable[[int, int], None] | None = None) -> tuple[dict, list[Path]]:
    """`qing eval`: refuse a taken output before the long work, evaluate, write the three reports."""
    refuse_input_as_output(out_dir, dataset)
    check_outputs(out_dir, force)
    report = evaluate(run_dir, dataset, opts, ggufs, progress)
    return report, write_report(report, out_dir, force)
