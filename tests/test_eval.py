"""qing eval on a tiny model trained to memorise a reply (CPU, no downloads); its statistics on hand-made replies."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from test_finetune import FAST, MEMO, SYSTEM, sample, write_dataset  # noqa: E402

from qing.model import chat_format as chat  # noqa: E402
from qing.model import eval as evaluation  # noqa: E402
from qing.model import eval_report  # noqa: E402

TWO_TURNS = sample(("在吗", "在的"), MEMO)  # the target is the last reply; 在的 is context


def _cli(*args):
    from typer.testing import CliRunner

    from qing.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def memo(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("eval-memo") / "dataset", [sample(MEMO)] * 16,
                         [sample(MEMO), TWO_TURNS, sample(MEMO)])


@pytest.fixture(scope="module")
def run(tmp_path_factory, memo, tiny_model) -> Path:
    out = tmp_path_factory.mktemp("eval-runs") / "memo"
    result = _cli("finetune", memo, "-o", out, "--model", tiny_model, "--max-steps", "30", *FAST[2:])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def f16(run) -> Path:
    result = _cli("gguf", run)
    assert result.exit_code == 0, result.output
    return run / "memo-f16.gguf"


@pytest.fixture(scope="module")
def report(run, f16):
    """One `qing eval` with the run's f16 GGUF as an extra column: (report.json, report dir, terminal output)."""
    result = _cli("eval", run, "--gguf", f16, "--max-new-tokens", "12")
    assert result.exit_code == 0, result.output
    return json.loads((run / "eval" / "report.json").read_text(encoding="utf-8")), run / "eval", result.output


# --- the statistics, on replies counted by hand ---------------------------------------------

HAND = ["好的。", "哈哈哈[微笑]", "", "真的吗？？", "我也不知道\n你定吧~", "好的。", "😂👍🏻", "...", "OK!"]


def test_style_stats_equal_hand_counted_values():
    s = evaluation.style_stats(HAND)
    # lengths 3 7 0 5 10 3 3 3 3 (😂👍🏻 is 3 code points) -> sorted 0 3 3 3 3 3 5 7 10: median 3,
    # p90 = the ceil(0.9 x 9) = 9th (nearest rank) = 10
    assert s["length_median"] == 3 and s["length_p90"] == 10
    assert s["empty_share"] == pytest.approx(1 / 9)
    assert s["faces_per_reply"] == pytest.approx(1 / 9)
    assert s["emoji_per_reply"] == pytest.approx(2 / 9)  # 😂 and 👍 with its skin tone: two emoji
    # 8 non-empty: 。 x2, ？ x1, ~ x1, ! x1, none x3 (哈哈哈[微笑], 😂👍🏻, ...)
    assert (s["end_period"], s["end_question"], s["end_tilde"], s["end_exclamation"], s["end_none"]) == \
        pytest.approx((2 / 8, 1 / 8, 1 / 8, 1 / 8, 3 / 8))
    assert s["multiline_share"] == pytest.approx(1 / 9)
    assert s["ngram_overlap"] == 1.0  # against itself


def test_bigrams_skip_faces_and_punctuation_and_overlap_counts_the_real_top():
    assert evaluation.bigrams("哈哈哈[微笑]好的。OK") == ["哈哈", "哈哈", "好的", "OK"]
    real = ["哈哈哈", "好的好的"]  # 哈哈 x2, 好的 x2, 的好 x1
    assert evaluation.top_ngrams(real, 2) == [("哈哈", 2), ("好的", 2)]
    assert evaluation.ngram_overlap(real, ["好的呀", "嗯嗯"], k=2) == 0.5
    assert evaluation.ngram_overlap(["。"], ["好的"]) is None  # the real replies have no bigram at all


def test_collapse_stats_equal_hand_counted_values():
    c = evaluation.collapse_stats(["好的", "好的", "嗯", "", "好 的吧"])
    # characters (no spaces): 好的 好的 嗯 好的吧 -> 8, unique 好 的 嗯 吧 -> 4
    assert c["distinct_1"] == pytest.approx(4 / 8)
    # bigrams: 好的 好的 "好 " " 的" 的吧 -> 5, unique 4
    assert c["distinct_2"] == pytest.approx(4 / 5)
    assert c["identical_share"] == pytest.approx(2 / 4)  # two of the four non-empty replies are the same
    assert evaluation.collapse_stats([]) == {"distinct_1": None, "distinct_2": None, "identical_share": None}


def test_compare_reports_real_each_model_and_the_gap():
    style, collapse = evaluation.compare(["好的。", "嗯嗯"], {"tuned": ["好的。", "嗯"], "base": ["", ""]})
    assert style["length_median"]["real"] == 2.5 and style["length_median"]["tuned"] == 2
    assert style["length_median"]["gap"] == {"tuned": -0.5, "base": -2.5}
    assert style["empty_share"]["base"] == 1.0 and style["end_period"]["base"] is None
    assert collapse["identical_share"]["gap"]["tuned"] == 0.0


def test_the_target_is_the_last_reply_only(tiny_model):
    tok = chat.load_tokenizer(tiny_model)
    context, target = evaluation.split_target(TWO_TURNS)
    assert target == MEMO[1] and context[-1] == {"role": "user", "content": MEMO[0]} and context[0]["role"] == "system"
    ids, labels = chat.encode(tok, TWO_TURNS, "<|im_end|>")
    kept = evaluation.last_reply_labels(labels)
    assert tok.decode([t for t in kept if t != chat.IGNORE]) == MEMO[1] + "<|im_end|>"
    assert evaluation.last_reply_labels([-100, 5, 6, -100, 7, 8, -100]) == [-100, -100, -100, -100, 7, 8, -100]


def test_fit_counts_what_training_counts(tiny_model):
    from transformers import AutoModelForCausalLM

    tok = chat.load_tokenizer(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model).eval()
    ids, labels = chat.encode(tok, TWO_TURNS, "<|im_end|>")
    labels = evaluation.last_reply_labels(labels)
    nll, tokens = evaluation.nll_torch(model, ids, labels)
    with torch.no_grad():  # what Trainer's loss is: mean cross-entropy of the shifted labels
        mean = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels])).loss.item()
    assert tokens == sum(x != chat.IGNORE for x in labels) and nll / tokens == pytest.approx(mean, rel=1e-4)


# --- a real evaluation -------------------------------------------------------------------------

@pytest.mark.slow
def test_tuned_model_fits_the_memorised_replies_far_better_than_base(report):
    data, _, output = report
    fit = data["fit"]
    assert data["contexts"] == 3 and data["skipped_too_long"] == 0
    assert fit["tuned"]["perplexity"] < fit["base"]["perplexity"] / 50
    assert fit["tuned"]["perplexity_change_vs_base"] < -0.9 and fit["tuned"]["loss_change_vs_base"] < -0.5
    assert fit["tuned"]["tokens"] == fit["base"]["tokens"] > 0
    assert data["style"]["ngram_overlap"]["tuned"] > data["style"]["ngram_overlap"]["base"]
    assert "perplexity of the real replies" in output and "report.html" in output
    assert MEMO[1] not in output and MEMO[0] not in output  # numbers on the terminal, chat text only in the files


@pytest.mark.slow
def test_three_contexts_are_said_to_be_too_few_on_the_terminal_and_in_the_reports(report):
    _, out, output = report  # the fixture's eval ended with exit 0
    said = " ".join(output.split())
    assert "too few to judge: only 3 contexts were evaluated" in said and "at least 30" in said
    assert "too few to judge: only 3 contexts" in (out / "report.md").read_text(encoding="utf-8")
    assert "too few to judge: only 3 contexts" in (out / "report.html").read_text(encoding="utf-8")


def test_the_warning_comes_below_30_contexts_only():
    assert eval_report.MIN_CONTEXTS == 30
    warning = eval_report.too_few_contexts({"contexts": 2})
    assert warning.startswith("too few to judge: only 2 contexts") and "±0.98" in warning
    assert "±0.26" in eval_report.too_few_contexts({"contexts": 29})  # 1.39 / sqrt(29): as large as a gap worth seeing
    assert eval_report.too_few_contexts({"contexts": 30}) is None
    assert eval_report.too_few_contexts({"contexts": 200}) is None


@pytest.mark.slow
def test_gguf_column_scores_like_the_model_it_was_made_from(report, f16):
    data, _, _ = report
    fit = data["fit"]
    assert list(data["columns"]) == ["tuned", "base", f16.name]
    assert fit[f16.name]["tokens"] == fit["tuned"]["tokens"]
    assert fit[f16.name]["loss"] == pytest.approx(fit["tuned"]["loss"], abs=0.02)
    assert abs(fit[f16.name]["perplexity_change_vs_tuned"]) < 0.01
    assert all(row["replies"][f16.name] is not None for row in data["side_by_side"])


@pytest.mark.slow
def test_report_json_has_every_number(report, f16):
    data, out, _ = report
    columns = ["tuned", "base", f16.name]
    for table, labels in (("style", evaluation.style_labels()), ("collapse", evaluation.collapse_labels())):
        assert set(data[table]) == set(labels)
        for key, row in data[table].items():
            assert row["real"] is not None, key
            for name in columns:
                assert name in row and name in row["gap"], (key, name)
    for name in columns:
        assert {"loss", "perplexity", "tokens"} <= set(data["fit"][name])
    assert data["settings"]["temperature"] == 0.7 and data["settings"]["top_p"] == 0.9
    assert data["settings"]["max_new_tokens"] == 12 and data["target"].startswith("the last assistant turn")
    rows = data["side_by_side"]
    assert len(rows) == 3 and rows[0]["real"] == MEMO[1] and set(rows[0]["replies"]) == set(columns)
    for name in eval_report.REPORT_FILES:
        assert (out / name).stat().st_mode & 0o777 == 0o600, name
    assert not list(out.glob("*.part"))


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections, self.tags, self.links, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "section":
            self.sections.append(attrs.get("id"))
        self.links += [v for k, v in attrs.items() if k in ("href", "src") and v]

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.slow
def test_report_html_is_one_self_contained_page_with_every_section(report):
    _, out, _ = report
    page = _Page()
    page.feed((out / "report.html").read_text(encoding="utf-8"))
    page.close()
    assert page.sections == [key for key, _ in eval_report.sections()]
    assert "style" in page.tags and "script" not in page.tags and "link" not in page.tags and not page.links
    text = "".join(page.text)
    assert MEMO[1] in text and "perplexity" in text and "distinct-2" in text
    assert not eval_report.CONTROL.search(text)  # a rambling base model's control characters are replaced
    md = (out / "report.md").read_text(encoding="utf-8")
    assert all(f"## {title}" in md for _, title in eval_report.sections())


@pytest.mark.slow
def test_the_report_in_chinese(run, tmp_path):
    from qing import i18n

    try:
        result = _cli("--lang", "zh", "eval", run, "-o", tmp_path / "zh", "--max-new-tokens", "4")
    finally:
        i18n.set_language("en")  # the CLI set it for this process: the tests after this one read English
    assert result.exit_code == 0, result.output
    assert "真实回复的困惑度" in result.output and "上下文太少，结果不足为据：只评估了 3 个上下文" in result.output
    md = (tmp_path / "zh" / "report.md").read_text(encoding="utf-8")
    page = (tmp_path / "zh" / "report.html").read_text(encoding="utf-8")
    for title in ("# qing eval：它说话像我吗？", "## 概要", "## 风格：生成的回复对比真实回复",
                  "| 指标 | 真实回复 | tuned | base |", "以 。 结尾（占比）", "### 上下文 0",
                  "| 来源 | 回复 | 真实回复的损失 |", "只评估了 3 个上下文"):
        assert title in md, title
    assert "<html lang=zh>" in page and "<h2>逐条对照</h2>" in page and "只评估了 3 个上下文" in page
    assert "perplexity" not in md and "Summary" not in page  # no English left
    data = json.loads((tmp_path / "zh" / "report.json").read_text(encoding="utf-8"))
    assert set(data["style"]) == set(evaluation.style_labels()) and data["contexts"] == 3  # the keys stay as they are


@pytest.mark.slow
def test_an_existing_report_needs_force(run, report):
    _, out, _ = report
    before = (out / "report.json").read_bytes()
    result = _cli("eval", run, "--max-new-tokens", "4")
    assert result.exit_code == 1 and "already exists" in result.output and "--force" in result.output
    assert (out / "report.json").read_bytes() == before


@pytest.mark.parametrize("case, message", [
    ("not-a-run", "not a run directory"),
    ("no-adapter", "holds no finished adapter"),
    ("empty-eval", "holds no samples"),
    ("missing-dataset", "does not exist"),
    ("no-eval-file", "eval.jsonl does not exist"),
])
@pytest.mark.slow
def test_bad_inputs_are_one_sentence_and_leave_no_report(tmp_path, run, case, message):
    target, extra = run, []
    if case == "not-a-run":
        target = tmp_path
    elif case == "no-adapter":
        target = tmp_path / "run"
        target.mkdir()
        shutil.copy(run / "qing-run.json", target)
    elif case == "empty-eval":
        extra = ["--dataset", write_dataset(tmp_path / "data", [sample(MEMO)], [])]
    elif case == "missing-dataset":
        extra = ["--dataset", tmp_path / "nowhere"]
    elif case == "no-eval-file":
        extra = ["--dataset", write_dataset(tmp_path / "data", [sample(MEMO)])]
    out = tmp_path / "report"
    result = _cli("eval", target, *extra, "-o", out, "--max-new-tokens", "4")
    assert result.exit_code == 1 and message in result.output, result.output
    assert "Traceback" not in result.output and result.output.count("error:") == 1
    assert not out.exists()


def test_system_prompt_of_the_samples_is_kept_in_the_context():
    context, _ = evaluation.split_target(sample(MEMO))
    assert context[0] == {"role": "system", "content": SYSTEM}
