"""`qing eval`'s reports: report.json, report.md and report.html in the user's language, the one-screen summary the
CLI prints, and the warning of a report that rests on too few contexts. Pure functions of the report dict that
qing.model.eval measures."""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path

from qing.errors import QingError
from qing.i18n import _, language

REPORT_FILES = ("report.json", "report.md", "report.html")
MIN_CONTEXTS = 30
"""Fewer contexts and the report cannot tell the models apart. Most of its figures are shares of the replies
(empty, multi-line, how they end, identical): a share measured on n contexts has a 95% interval of up to
±1.96·√(0.25/n), and the gap between two models' shares up to ±1.96·√(0.5/n) = ±1.39/√n. Below 30 contexts that
is more than ±0.25, as large as the gaps worth seeing; at the default --limit of 200 it is ±0.10."""
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # what a rambling base model emits; not valid in HTML


def check_outputs(out_dir: Path, force: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise QingError(_("output {path} is a file; give a directory with -o.").format(path=out_dir))
    taken = [name for name in REPORT_FILES if (out_dir / name).exists()]
    if taken and not force:
        raise QingError(_("{path} already exists; pass --force to overwrite it or -o to choose another "
                          "directory.").format(path=out_dir / taken[0]))


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
