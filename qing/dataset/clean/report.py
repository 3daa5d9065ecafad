"""report.json: what each stage read, dropped and changed, the lengths of turns and samples (percentiles), the
tokens and the options; lengths.png, their plot (--plot)."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from qing.dataset.clean.samples import TokenCounter
from qing.dataset.clean.tally import Tally
from qing.dataset.options import CleanOptions
from qing.errors import QingError
from qing.i18n import _


def _percentiles(histogram: Counter) -> dict:
    """p50 / p90 / p99 / max of values given as value -> count."""
    total = sum(histogram.values())
    if not total:
        return {}
    out, running, marks = {}, 0, [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)]
    for value in sorted(histogram):
        running += histogram[value]
        while marks and running > marks[0][1] * total:
            out[marks.pop(0)[0]] = value
    out.update(max=max(histogram), count=total)
    return out


def _report(messages: Path, opts: CleanOptions, tally: Tally, count: TokenCounter, sample_tokens: list[int],
            train: list[int], evals: list[int], system: str | None) -> dict:
    options = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(opts).items()}
    options["blocked_words"] = len(opts.blocked_words)  # the words themselves may be private
    options["replacements"] = len(opts.replacements)
    system_tokens = count(system) if system else 0
    tokens = Counter(sample_tokens[i] + system_tokens for i in itertools.chain(train, evals))
    return {
        "input": {"file": str(messages), "lines": tally.lines or tally.messages, "messages": tally.messages,
                  "owner_messages": tally.owner_messages},
        "dropped_messages": dict(tally.dropped_messages),
        "chats": dict(tally.chats),
        "dropped_turns": dict(tally.dropped_turns),
        "turn_changes": dict(tally.turn_changes),
        "dropped_samples": dict(tally.dropped_samples),
        "pii_redacted": dict(tally.pii),
        "output": {"train": len(train), "eval": len(evals), "system_prompt": system is not None},
        "lengths": {"turn_chars": _percentiles(tally.turn_chars), "sample_tokens": _percentiles(tokens)},
        "tokens": {"total": sum(v * n for v, n in tokens.items()), "method": count.method,
                   "max_per_sample": opts.max_tokens},
        "options": options,
    }


def pyplot():
    """matplotlib's pyplot without a screen, or a QingError saying how to install it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise QingError(_("--plot needs matplotlib: pip install 'qing[plot]'.")) from None
    return plt


def plot_lengths(report: dict, path: Path) -> Path:
    """A PNG of the turn and sample length percentiles next to report.json."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, (key, title) in zip(axes, (("turn_chars", "turn length (characters)"),
                                       ("sample_tokens", "sample length (tokens)"))):
        stats = report["lengths"][key]
        names = [k for k in ("p50", "p90", "p99", "max") if k in stats]
        ax.bar(names, [stats[k] for k in names], color="#4c72b0")
        ax.set_title(title)
        for i, k in enumerate(names):
            ax.annotate(str(stats[k]), (i, stats[k]), ha="center", va="bottom", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    path.chmod(0o600)
    return path
