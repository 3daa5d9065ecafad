"""report.json: what each stage read, dropped and changed, the lengths of turns and samples (percentiles), the
tokens and the options; its reasons and token method in the user's language for the summary (the JSON keeps its
English keys); lengths.png, their plot (--plot)."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from qing.dataset.clean.samples import TokenCounter
from qing.dataset.clean.tally import Tally
from qing.dataset.options import CleanOptions
from qing.errors import QingError
from qing.i18n import _, language


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


def reason(key: str) -> str:
    """A reason counted in report.json (dropped, changed), in the user's language; a key it does not know (a
    personal data placeholder such as <手机号>) as it is."""
    return {
        "system": _("system"),
        "recall": _("recall"),
        "unknown": _("unknown"),
        "media only": _("media only"),
        "bad line": _("bad line"),
        "group chat (use --groups)": _("group chat (use --groups)"),
        "turn pair over the token budget": _("turn pair over the token budget"),
        "no owner words": _("no owner words"),
        "long run shortened": _("long run shortened"),
        "blocked word": _("blocked word"),
        "empty": _("empty"),
        "joined to alternate": _("joined to alternate"),
        "opener added before owner's first turn": _("opener added before owner's first turn"),
        "owner opened (no --owner-opener)": _("owner opened (no --owner-opener)"),
        "unanswered at session end": _("unanswered at session end"),
        "conversation without your reply": _("conversation without your reply"),
        "exact duplicate": _("exact duplicate"),
        "near duplicate": _("near duplicate"),
    }.get(key, key)


def token_method(method: str) -> str:
    """report.json's tokens.method ("estimate", or "tokenizer PATH") in the user's language."""
    if method == "estimate":
        return _("estimate")
    return _("tokenizer {path}").format(path=method.removeprefix("tokenizer "))


def pyplot():
    """matplotlib's pyplot without a screen, or a QingError saying how to install it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise QingError(_("--plot needs matplotlib: pip install 'qing[plot]'.")) from None
    return plt


# fonts that draw Chinese, as Windows, macOS and Linux name them; matplotlib's own (DejaVu Sans) does not
CHINESE_FONTS = ("Microsoft YaHei", "SimHei", "PingFang SC", "Hiragino Sans GB", "Heiti SC", "Noto Sans CJK SC",
                 "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei")


def chinese_font() -> str | None:
    """The first of CHINESE_FONTS that matplotlib finds on this machine, or None."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CHINESE_FONTS if name in installed), None)


def plot_titles(font: str | None) -> tuple[str, str]:
    """The two charts' titles: in the user's language, but English in Chinese without a font to draw it (boxes)."""
    if language() == "zh" and not font:
        return "turn length (characters)", "sample length (tokens)"
    return _("turn length (characters)"), _("sample length (tokens)")


def plot_lengths(report: dict, path: Path) -> Path:
    """A PNG of the turn and sample length percentiles next to report.json."""
    plt = pyplot()
    font = chinese_font() if language() == "zh" else None
    with plt.rc_context({"font.sans-serif": [font, *plt.rcParams["font.sans-serif"]]} if font else {}):
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
        for ax, key, title in zip(axes, ("turn_chars", "sample_tokens"), plot_titles(font)):
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
