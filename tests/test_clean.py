"""Golden tests for each rule of `qing clean`, determinism, and bad input."""

import json
import random
import time
from pathlib import Path

import pytest

from qing.dataset.clean import CleanOptions, clean
from qing.dataset.clean.step import _make_job as REAL_MAKE_JOB

ME, FRIEND, OTHER = 10001, 20002, 20003
T = 1_700_000_000


def msg(chat, t, is_me, text, kind="text", sender=None, name=None):
    peer = int(chat.split(":")[1])
    return {"id": t, "chat": chat, "peer": peer, "sender": sender or (ME if is_me else peer),
            "sender_name": name or ("阿青" if is_me else "小王"), "is_me": is_me, "time": T + t, "kind": kind,
            "text": text, "reply_to": None}


def write(path: Path, messages) -> Path:
    path.write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in messages), encoding="utf-8")
    return path


def run(tmp_path, messages, **options):
    source = write(tmp_path / "messages.jsonl", messages)
    workers = options.pop("workers", 1)
    result = clean(source, tmp_path / "dataset", CleanOptions(**options), force=True, workers=workers)
    return result.report, load(tmp_path / "dataset" / "train.jsonl"), load(tmp_path / "dataset" / "eval.jsonl")


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def turns(sample):
    return [(m["role"], m["content"]) for m in sample["messages"] if m["role"] != "system"]


C = f"c2c:{FRIEND}"


def test_speech_kept_media_dropped_by_default_faces_and_stickers_kept(tmp_path):
    report, train, _ = run(tmp_path, [
        msg(C, 0, False, "在吗"), msg(C, 1, False, "[系统消息]", "system"),
        msg(C, 2, False, "[撤回了一条消息]", "recall"),
        msg(C, 3, False, "", "unknown"), msg(C, 4, False, "[图片]", "image"), msg(C, 5, False, "[语音]", "voice"),
        msg(C, 6, False, "明天见", "voice"), msg(C, 10, True, "在[微笑]"), msg(C, 11, True, "[贴贴]", "sticker"),
    ], eval_ratio=0)
    assert turns(train[0]) == [("user", "在吗\n明天见"), ("assistant", "在[微笑]\n[贴贴]")]
    assert report["dropped_messages"] == {"system": 1, "recall": 1, "unknown": 1, "media only": 2}


def test_media_can_be_kept_as_placeholders(tmp_path):
    _, train, _ = run(tmp_path, [msg(C, 0, False, "[图片]", "image"), msg(C, 5, True, "好看")], media="keep",
                      eval_ratio=0)
    assert turns(train[0]) == [("user", "[图片]"), ("assistant", "好看")]


def test_merge_window_sessions_and_alternation(tmp_path):
    report, train, _ = run(tmp_path, [
        msg(C, 0, False, "第一句"), msg(C, 60, False, "第二句"),         # one turn: within 2 minutes
        msg(C, 100, True, "回"), msg(C, 400, True, "过了五分钟又说"),     # beyond the window: joined to alternate
        msg(C, 5000, False, "新的一天"), msg(C, 5010, True, "嗯"),       # > 30 min later: a new session
    ], eval_ratio=0)
    got = sorted(turns(s) for s in train)
    assert got == sorted([[("user", "第一句\n第二句"), ("assistant", "回\n过了五分钟又说")],
                          [("user", "新的一天"), ("assistant", "嗯")]])
    assert report["turn_changes"]["joined to alternate"] == 1
    assert {s["meta"]["session"] for s in train} == {0, 1}


def test_session_gap_is_an_option(tmp_path):
    _, train, _ = run(tmp_path, [msg(C, 0, False, "a"), msg(C, 10, True, "b"), msg(C, 5000, False, "c"),
                                 msg(C, 5010, True, "d")], session_gap=7200, eval_ratio=0)
    assert len(train) == 1 and len(turns(train[0])) == 4


def test_owner_opened_conversation_kept_with_an_opener_and_unanswered_end_dropped(tmp_path):
    report, train, _ = run(tmp_path, [msg(C, 0, True, "在吗在吗"), msg(C, 5, False, "在"), msg(C, 9, True, "出来玩"),
                                      msg(C, 20, False, "好")], eval_ratio=0)
    assert turns(train[0]) == [("user", "[开始聊天]"), ("assistant", "在吗在吗"), ("user", "在"),
                               ("assistant", "出来玩")]
    assert report["dropped_turns"]["unanswered at session end"] == 1
    _, train, _ = run(tmp_path, [msg(C, 0, True, "在吗"), msg(C, 5, False, "在"), msg(C, 9, True, "好")],
                      owner_opener="", eval_ratio=0)
    assert turns(train[0]) == [("user", "在"), ("assistant", "好")]


def test_samples_fit_the_budget_end_on_assistant_and_do_not_repeat(tmp_path):
    messages = []
    for i in range(40):
        words = "".join(chr(0x4E00 + 97 * i + k) for k in range(30))
        messages += [msg(C, i * 200, False, f"问题{words}"), msg(C, i * 200 + 100, True, f"回答{words}")]
    report, train, _ = run(tmp_path, messages, max_tokens=300, eval_ratio=0)
    assert len(train) > 5
    seen = []
    for sample in train:
        t = turns(sample)
        assert t[0][0] == "user" and t[-1][0] == "assistant"
        assert all(a[0] != b[0] for a, b in zip(t, t[1:]))
        seen += [c for _, c in t]
    assert len(seen) == len(set(seen)) == 80  # every turn once: no overlap, nothing lost
    assert report["lengths"]["sample_tokens"]["max"] <= 300


def test_a_turn_pair_over_the_budget_is_dropped_not_cut(tmp_path):
    long = "".join(chr(0x4E00 + k) for k in range(500))
    report, train, _ = run(tmp_path, [msg(C, 0, False, long), msg(C, 10, True, "嗯"), msg(C, 20, False, "短"),
                                      msg(C, 30, True, "好")], max_tokens=200, eval_ratio=0)
    assert [turns(s) for s in train] == [[("user", "短"), ("assistant", "好")]]
    assert report["dropped_turns"]["turn pair over the token budget"] == 2


def test_privacy_redaction_blocked_words_and_replacements(tmp_path):
    report, train, _ = run(tmp_path, [
        msg(C, 0, False, "我电话13812345678，QQ 20002"), msg(C, 5, True, "张三的邮箱是zs@example.com"),
        msg(C, 500, False, "说个秘密暗号"), msg(C, 505, True, "不说"),
    ], replacements={"张三": "阿甲"}, blocked_words=["暗号"], eval_ratio=0)
    text = json.dumps(train, ensure_ascii=False)
    assert "13812345678" not in text and "zs@example.com" not in text and "20002" not in text.replace(
        '"chat"', "")
    assert "张三" not in text and "阿甲的邮箱是<邮箱>" in text and "暗号" not in text
    assert report["pii_redacted"] == {"<手机号>": 1, "<QQ号>": 1, "<邮箱>": 1}
    assert report["dropped_turns"]["blocked word"] == 1


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("spelled", ["你加一下2718281828吧", "加 2718 281828", "2718-281828 是他", "他叫3141592653"])
def test_qq_numbers_of_people_of_other_chats_are_redacted_in_every_chat(tmp_path, spelled, workers):
    group, other = "group:88880001", "c2c:3141592653"  # a group left out (no --groups) and a chat nobody wrote in
    messages = [msg(C, 0, False, spelled), msg(C, 5, True, "好的，订单 2718281829 也到了"),
                *_big_input(),
                msg(group, 0, False, "大家好", sender=2718281828), msg(group, 5, True, "好"),
                msg(other, 0, True, "在吗", kind="image")]
    report, train, evals = run(tmp_path, messages, workers=workers, eval_ratio=0)
    text = json.dumps(train + evals, ensure_ascii=False)
    secret = "".join(c for c in spelled if c.isdigit())
    assert "<QQ号>" in text and "订单 2718281829 也到了" in text  # a number that is nobody's stays
    assert secret not in text.replace(" ", "").replace("-", ""), text[:300]
    assert report["pii_redacted"] == {"<QQ号>": 1}


def test_noise_runs_empty_turns_duplicates_and_no_owner_words(tmp_path):
    report, train, _ = run(tmp_path, [
        msg(C, 0, False, "哈" * 30), msg(C, 5, True, "笑死" + "！" * 20),
        msg(C, 5000, True, "  "), msg(C, 5003, False, "嗯"), msg(C, 5005, True, "[微笑]"),    # no owner words
        msg(C, 10000, False, "哈" * 30), msg(C, 10005, True, "笑死" + "！" * 20),                # exact duplicate
        msg(C, 15000, False, "哈哈哈哈哈哈哈哈"), msg(C, 15005, True, "笑死!!!"),                 # near duplicate
    ], eval_ratio=0)
    assert [turns(s) for s in train] == [[("user", "哈" * 8), ("assistant", "笑死" + "！" * 8)]]
    assert report["turn_changes"]["long run shortened"] == 4
    assert report["dropped_turns"]["empty"] == 1
    assert report["dropped_samples"] == {"no owner words": 1, "exact duplicate": 1, "near duplicate": 1}


def test_system_prompt_default_names_the_owner_custom_and_off(tmp_path):
    base = [msg(C, 0, False, "hi"), msg(C, 5, True, "yo")]
    _, train, _ = run(tmp_path, base, eval_ratio=0)
    assert train[0]["messages"][0] == {"role": "system",
                                       "content": "你是阿青，正在和朋友聊天。用阿青平时说话的语气和习惯回复。"}
    _, train, _ = run(tmp_path, base, eval_ratio=0, system_prompt="{owner}的分身")
    assert train[0]["messages"][0]["content"] == "阿青的分身"
    _, train, _ = run(tmp_path, base, eval_ratio=0, system_prompt=None)
    assert train[0]["messages"][0]["role"] == "user"


def test_eval_takes_the_latest_sessions_of_each_chat(tmp_path):
    messages = []
    for chat, who in ((C, "甲"), (f"c2c:{OTHER}", "乙")):
        for day in range(20):
            messages += [msg(chat, day * 86400, False, f"{who}第{day}天你好"),
                         msg(chat, day * 86400 + 10, True, f"{who}第{day}天好呀")]
    report, train, evals = run(tmp_path, messages, eval_ratio=0.1)
    assert len(evals) == 4 and len(train) == 36
    assert {s["meta"]["session"] for s in evals} == {18, 19}
    latest_train = max(s["meta"]["end"] for s in train if s["meta"]["chat"] == evals[0]["meta"]["chat"])
    assert all(s["meta"]["start"] > latest_train for s in evals if s["meta"]["chat"] == evals[0]["meta"]["chat"])
    assert not {json.dumps(s) for s in train} & {json.dumps(s) for s in evals}
    assert report["output"] == {"train": 36, "eval": 4, "system_prompt": True}


def test_groups_off_by_default_and_named_turns_with_groups(tmp_path):
    g = "group:7770001"
    messages = [msg(g, 0, False, "有人吗", sender=FRIEND, name="小王"),
                msg(g, 3, False, "我在", sender=OTHER, name="小李"), msg(g, 8, True, "来了")]
    report, train, _ = run(tmp_path, messages, eval_ratio=0)
    assert train == [] and report["dropped_messages"]["group chat (use --groups)"] == 3
    _, train, _ = run(tmp_path, messages, eval_ratio=0, groups=True)
    assert turns(train[0]) == [("user", "小王: 有人吗\n小李: 我在"), ("assistant", "来了")]


def _big_input():
    rng = random.Random(5)
    messages = []
    for c in range(12):
        chat = f"c2c:{30000 + c}"
        t = 0
        for i in range(300):
            t += rng.choice((3, 30, 200, 4000))
            words = rng.choice(["好", "哈哈", "吃了吗", "在", "晚安", "嗯嗯"]) * rng.randint(1, 3)
            messages.append(msg(chat, t, rng.random() < 0.5, f"{words}{i}"))
    return messages


def test_a_chat_in_two_jobs_is_grouped_in_memory_with_the_same_files(tmp_path, monkeypatch):
    monkeypatch.setattr("qing.dataset.clean.step._make_job", make_job_after_a_worker_took_one)
    messages = _big_input()
    messages = messages[40:] + messages[:40]  # the first chat's start comes last: it is in the first and last jobs
    outputs = []
    for workers in (2, 1):
        source = write(tmp_path / "m.jsonl", messages)
        result = clean(source, tmp_path / "dataset", CleanOptions(eval_ratio=0.1), force=True, workers=workers)
        assert result.workers == 1  # found, and grouped in memory by one process
        outputs.append([(tmp_path / "dataset" / n).read_bytes() for n in ("train.jsonl", "eval.jsonl", "report.json")])
        assert sorted(p.name for p in (tmp_path / "dataset").iterdir()) == ["eval.jsonl", "report.json", "train.jsonl"]
    assert outputs[0] == outputs[1] and outputs[0][0]


def make_job_after_a_worker_took_one(slot, *args):
    """qing.clean's job, but this process waits with its first job until a worker has taken one: the worker's
    samples are handed over in a file, this process's are not, and both must give the same files."""
    from qing import parallel

    if slot == 0 and not parallel.in_worker():
        deadline = time.monotonic() + 60
        while parallel._progress[parallel._NEXT] < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    made, tally, packed = REAL_MAKE_JOB(slot, *args)
    assert packed == parallel.in_worker()
    return made, tally, packed


def test_same_input_and_seed_give_identical_files_in_any_mode(tmp_path, monkeypatch):
    from qing import parallel
    from qing.dataset.clean import chat_ranges

    monkeypatch.setattr("qing.dataset.clean.step._make_job", make_job_after_a_worker_took_one)
    messages = _big_input()
    jobs = chat_ranges(write(tmp_path / "m.jsonl", messages), parallel.shares(2))
    assert len(jobs) > 2 and jobs[0][0] == 0 and jobs[-1][1] is None  # 2 workers take more jobs than 2
    outputs = []
    for workers in (1, 2, 1):
        run(tmp_path, list(messages), workers=workers, eval_ratio=0.1)
        outputs.append([(tmp_path / "dataset" / n).read_bytes() for n in ("train.jsonl", "eval.jsonl")])
    assert outputs[0] == outputs[1] == outputs[2] and outputs[0][0]
    # a file whose chats are interleaved is grouped in memory: same samples
    by_chat = {}
    for m in messages:
        by_chat.setdefault(m["chat"], []).append(m)
    chats = list(by_chat.values())
    interleaved = [m for group in zip(*chats) for m in group]
    run(tmp_path, interleaved, eval_ratio=0.1)
    assert [(tmp_path / "dataset" / n).read_bytes() for n in ("train.jsonl", "eval.jsonl")] == outputs[0]
    _, train, _ = run(tmp_path, list(messages), eval_ratio=0.1, seed=7)
    assert (tmp_path / "dataset" / "train.jsonl").read_bytes() != outputs[0][0]


def test_outputs_are_private(tmp_path):
    run(tmp_path, [msg(C, 0, False, "hi"), msg(C, 5, True, "yo")])
    assert (tmp_path / "dataset").stat().st_mode & 0o777 == 0o700
    for name in ("train.jsonl", "eval.jsonl", "report.json"):
        assert (tmp_path / "dataset" / name).stat().st_mode & 0o777 == 0o600


# --- through the CLI ---------------------------------------------------------------

def test_cli_end_to_end_summary_and_report(tmp_path, qing, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "messages.jsonl", [msg(C, 0, False, "我的号13812345678"), msg(C, 5, True, "收到")])
    result = qing("clean", "messages.jsonl")
    assert result.exit_code == 0, result.output
    assert "samples written" in result.output and "<手机号>" in result.output
    report = json.loads((tmp_path / "dataset" / "report.json").read_text())
    assert report["output"]["train"] + report["output"]["eval"] == 1
    assert "13812345678" not in (tmp_path / "dataset" / "train.jsonl").read_text() + result.output


@pytest.mark.parametrize("content, args, message", [
    (None, [], "does not exist"),
    ('{"chat": "c2c:1", "time": 1, "is_me": true, "kind": "text", "text": "a"}\n{oops\n', [], "line 2 of"),
    ('{"chat": "c2c:1"}\n', [], "line 1 of"),
    ('{"chat": "c2c:1", "time": 1, "is_me": true, "kind": "text", "text": "a"}\n\n'
     '{"chat": "c2c:1", "time": 2, "is_me": 1, "kind": "text", "text": "b"}\n', [], "line 3 of"),
    ('{"chat": "c2c:1", "time": 1, "is_me": true, "kind": "text", "text": 7}\n', [], "Expected `str | null`"),
    ('{"chat": "c2c:1", "time": 1.5, "is_me": true, "kind": "text", "text": "a"}\n', [], "`$.time`"),
    ("", [], "holds no messages"),
    ('{"chat": "c2c:1", "time": 1, "is_me": false, "kind": "text", "text": "a"}\n', [], "none of the messages"),
    ('{"chat": "c2c:1", "time": 1, "is_me": true, "kind": "text", "text": "a"}\n', ["--tokenizer", "nope"],
     "no tokenizer.json"),
])
def test_bad_input_is_one_sentence_and_leaves_nothing(tmp_path, qing, monkeypatch, content, args, message):
    monkeypatch.chdir(tmp_path)
    if content is not None:
        (tmp_path / "messages.jsonl").write_text(content)
    result = qing("clean", "messages.jsonl", *args)
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "dataset").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_skip_bad_lines_counts_them(tmp_path, qing, monkeypatch):
    monkeypatch.chdir(tmp_path)
    good = [json.dumps(m, ensure_ascii=False) for m in (msg(C, 0, False, "在"), msg(C, 5, True, "嗯"))]
    (tmp_path / "messages.jsonl").write_text(good[0] + "\nnot json\n" + good[1] + "\n")
    result = qing("clean", "messages.jsonl", "--skip-bad-lines")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "dataset" / "report.json").read_text())["dropped_messages"]["bad line"] == 1


def test_existing_output_needs_force_and_force_replaces_whole(tmp_path, qing, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "messages.jsonl", [msg(C, 0, False, "在"), msg(C, 5, True, "嗯")])
    (tmp_path / "dataset").mkdir()
    (tmp_path / "dataset" / "lengths.png").write_text("an old run's plot")
    result = qing("clean", "messages.jsonl")
    assert result.exit_code == 1 and "--force" in result.output
    assert qing("clean", "messages.jsonl", "--force").exit_code == 0
    assert sorted(p.name for p in (tmp_path / "dataset").iterdir()) == ["eval.jsonl", "report.json", "train.jsonl"]
    (tmp_path / "dataset" / "notes.txt").write_text("mine")  # not clean's: --force refuses to delete it
    result = qing("clean", "messages.jsonl", "--force")
    assert result.exit_code == 1 and "did not write (notes.txt)" in result.output
    assert (tmp_path / "dataset" / "notes.txt").read_text() == "mine"


def test_exact_token_counts_with_a_tokenizer(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.train_from_iterator(["在吗 好的 哈哈哈 吃饭了吗 明天见"] * 50,
                                  trainers.BpeTrainer(vocab_size=300, special_tokens=["[UNK]"]))
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    messages = [msg(C, i * 10, i % 2 == 1, "吃饭了吗 哈哈哈 明天见" * 3) for i in range(40)]
    estimated, _, _ = run(tmp_path, messages, eval_ratio=0, max_tokens=400)
    exact, train, _ = run(tmp_path, messages, eval_ratio=0, max_tokens=400, tokenizer=tmp_path)
    assert exact["tokens"]["method"].startswith("tokenizer") and estimated["tokens"]["method"] == "estimate"
    assert exact["tokens"]["total"] != estimated["tokens"]["total"]
    assert exact["lengths"]["sample_tokens"]["max"] <= 400 and train


def test_plot_writes_a_png(tmp_path, qing, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "messages.jsonl", [msg(C, 0, False, "在"), msg(C, 5, True, "嗯")])
    assert qing("clean", "messages.jsonl", "--plot").exit_code == 0
    assert (tmp_path / "dataset" / "lengths.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_line_blocks_cover_every_line_once_with_true_offsets(tmp_path):
    from qing.dataset.clean.read import _line_blocks

    data = b"".join(b"line %d %s\n" % (i, b"x" * (i % 7)) for i in range(50)) + b"last without newline"
    (tmp_path / "f").write_bytes(data)
    seen = []
    for offset, after, block in _line_blocks(tmp_path / "f", 0, None, size=16):
        assert data[offset:after] == block and (block.endswith(b"\n") or after == len(data))
        seen.append(block)
    assert b"".join(seen) == data
    middle, stop = data.index(b"line 20"), data.index(b"line 30")
    assert b"".join(b for _, _, b in _line_blocks(tmp_path / "f", middle, stop, size=8)) == data[middle:stop]


def test_bad_line_number_is_exact_in_a_later_block(tmp_path, monkeypatch):
    import qing.dataset.clean.read as read
    from qing.errors import QingError

    good = [json.dumps(msg(C, i, i % 2 == 1, f"第{i}句"), ensure_ascii=False) for i in range(30)]
    good[17] = '{"chat": "c2c:1", "time": "soon"}'
    write(tmp_path / "m.jsonl", [])
    (tmp_path / "m.jsonl").write_text("\n".join(good) + "\n", encoding="utf-8")
    real = read._line_blocks
    monkeypatch.setattr(read, "_line_blocks", lambda path, start, end: real(path, start, end, size=300))
    with pytest.raises(QingError, match="line 18 of"):
        clean(tmp_path / "m.jsonl", tmp_path / "out", CleanOptions(), workers=1)


TRICKY = ["在吗", "", "  ", "手机13812345678，QQ号：12345678", "哈" * 13, "\n" * 10 + "好", "阿青说暗号是多少",
          "邮箱ａｂｃ＠ｅｘａｍｐｌｅ．ｃｏｍ", "www.example.com/x", "１３８１２３４５６７８", "a\x00b",
          'quote " comma "," and \\ back', "emoji " + "😀" * 10, "ok", "啊" * 9, "20002 说 20002"]


@pytest.mark.parametrize("texts", [TRICKY, [t for t in TRICKY if "\x00" not in t]])
@pytest.mark.parametrize("options", [{}, {"blocked_words": ["暗号"], "replacements": {"阿青": "小晴", "哈": "嘿"}},
                                     {"max_repeat": 0, "redact_urls": False}])
def test_cleaning_a_chat_at_once_equals_one_text_at_a_time(texts, options):
    from qing.dataset.clean import Tally, TextCleaner

    opts = CleanOptions(**options)
    one, joined = Tally(), Tally()
    by_one, at_once = TextCleaner(opts, one), TextCleaner(opts, joined)
    by_one.for_chat({"20002", "1"})
    at_once.for_chat({"20002", "1"})
    assert at_once.many(texts) == [by_one(text) for text in texts]
    assert (one.pii, one.turn_changes, one.dropped_turns) == (joined.pii, joined.turn_changes, joined.dropped_turns)
    assert one.pii[("<手机号>")] >= 2 and (options.get("max_repeat") == 0 or one.turn_changes["long run shortened"])


def test_turns_with_quotes_backslashes_and_odd_characters_come_out_as_written(tmp_path):
    texts = ['他说"你好","再见"', "C:\\path\\", '好","', "\\好", "tab\there", "😀好", "\ufffe\uffff末尾", "x" * 3]
    messages = []
    for i, text in enumerate(texts):
        messages += [msg(C, 2000 * i, False, f"问{i}"), msg(C, 2000 * i + 5, True, text)]
    _, train, evals = run(tmp_path, messages, eval_ratio=0)
    assert sorted(turns(s)[1][1] for s in train) == sorted(texts) and not evals


def test_jobs_end_where_chats_end_however_long_the_chat(tmp_path):
    from qing import parallel
    from qing.dataset.clean import chat_ranges

    lines = [json.dumps(msg(f"c2c:{chat}", i, i % 2 == 1, "长长的一句话" * 3), ensure_ascii=False)
             for chat, count in ((30001, 7000), (30002, 2000), (30003, 1000)) for i in range(count)]
    lines.insert(5000, "not a message")  # inside the first chat: no cut there
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = path.read_bytes()
    starts = [data.index(b'"chat": "c2c:30002"'), data.index(b'"chat": "c2c:30003"')]
    starts = [data.rindex(b"\n", 0, s) + 1 for s in starts]
    assert chat_ranges(path, parallel.shares(2)) == [(0, starts[0]), (starts[0], starts[1]), (starts[1], None)]
    assert chat_ranges(path, [0.999, 0.001]) == [(0, None)]


def test_an_output_where_nothing_can_be_written_is_one_sentence(tmp_path, qing, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "messages.jsonl", [msg(C, 0, False, "在"), msg(C, 5, True, "嗯")])
    (tmp_path / "afile").write_text("x")
    result = qing("clean", "messages.jsonl", "-o", "afile/dataset")
    assert result.exit_code == 1 and "cannot write in afile" in result.output and "bug" not in result.output


def test_a_clean_that_makes_no_sample_says_so_in_one_line(tmp_path, qing):
    C = f"c2c:{FRIEND}"
    source = write(tmp_path / "m.jsonl", [msg(C, T, False, "你好" * 80), msg(C, T + 5, True, "嗯" * 90)])
    result = qing("clean", source, "-o", tmp_path / "ds", "--max-tokens", "64")
    assert result.exit_code == 0 and "no training sample was made" in result.output and "bug" not in result.output


def test_a_database_given_to_clean_says_to_export_it_first(workdir, qing):
    result = qing("clean", "nt_msg.db", "-o", "ds")  # encrypted, with the QQ NT header
    assert result.exit_code == 1 and "is a database, not messages.jsonl; run `qing export nt_msg.db` first" in \
        " ".join(result.output.split())
    (workdir / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    result = qing("clean", "photo.jpg", "-o", "ds")
    assert result.exit_code == 1 and "is a binary file, not messages.jsonl" in result.output
    assert not (workdir / "ds").exists()


# --- in Chinese ------------------------------------------------------------------

def test_clean_says_its_errors_in_chinese(tmp_path, qing, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    result = qing("--lang", "zh", "clean", "photo.jpg")
    assert result.exit_code == 1 and "photo.jpg 是二进制文件，不是 messages.jsonl" in result.output
    (tmp_path / "messages.jsonl").write_text('{"chat": "c2c:1", "time": 1, "is_me": true, "kind": "text", '
                                             '"text": "a"}\n{oops\n')
    result = qing("clean", "messages.jsonl", env={"QING_LANG": "zh"})
    assert result.exit_code == 1 and "第 2 行不是 messages.jsonl 的消息" in result.output
    assert "错误：" in result.output and "line 2" not in result.output


def test_every_reason_clean_counts_has_its_words_in_chinese(tmp_path):
    """report.json keeps its English keys; the summary shows each of them in the user's language."""
    from qing import i18n
    from qing.dataset.clean.report import reason, token_method

    g = "group:7770001"
    first = [msg(C, 0, False, "[系统消息]", "system"), msg(C, 1, False, "[撤回了一条消息]", "recall"),
             msg(C, 2, False, "", "unknown"), msg(C, 3, False, "[图片]", "image"),
             msg(C, 10, False, "哈" * 30), msg(C, 15, True, "笑死" + "！" * 20),              # long run shortened
             msg(C, 5000, True, "  "), msg(C, 5003, False, "嗯"), msg(C, 5005, True, "[微笑]"),  # empty, no words
             msg(C, 10000, False, "哈" * 30), msg(C, 10005, True, "笑死" + "！" * 20),         # exact duplicate
             msg(C, 15000, False, "哈哈哈哈哈哈哈哈"), msg(C, 15005, True, "笑死!!!"),            # near duplicate
             msg(C, 20000, False, "看广告"), msg(C, 20005, True, "好"),                        # blocked word
             msg(C, 25000, False, "一"), msg(C, 25200, False, "二"), msg(C, 25205, True, "三"),  # joined
             msg(C, 30000, True, "早"), msg(C, 30005, False, "早啊"), msg(C, 30010, True, "吃了吗"),  # opener
             msg(C, 30020, False, "还没"),                                                     # unanswered
             msg(C, 40000, False, "有人吗"),                                                    # without reply
             msg(C, 45000, False, "你好" * 40), msg(C, 45005, True, "嗯" * 40),               # over the budget
             msg(g, 0, False, "群里有人吗", sender=FRIEND)]
    source = tmp_path / "messages.jsonl"
    lines = [json.dumps(m, ensure_ascii=False) for m in first]
    source.write_text("\n".join(lines[:3] + ["not a message"] + lines[3:]) + "\n", encoding="utf-8")
    opts = dict(eval_ratio=0, blocked_words=["广告"], skip_bad_lines=True, system_prompt=None, max_tokens=64)
    reports = [clean(source, tmp_path / "a", CleanOptions(**opts)).report]
    write(source, [msg(C, 0, True, "早"), msg(C, 5, False, "早啊"), msg(C, 10, True, "吃了吗")])
    reports.append(clean(source, tmp_path / "b", CleanOptions(**opts, owner_opener="")).report)
    counted = {why for r in reports for key in ("dropped_messages", "dropped_turns", "turn_changes",
                                                "dropped_samples") for why in r[key]}
    assert len(counted) == 18, sorted(counted)
    i18n.set_language("zh")
    for why in counted:
        assert reason(why) != why and any("\u4e00" <= c <= "\u9fff" for c in reason(why)), why
    assert reason("<手机号>") == "<手机号>"
    assert token_method("estimate") == "估算" and token_method("tokenizer tok.json") == "分词器 tok.json"


def test_the_plot_is_titled_in_chinese_where_a_font_draws_it(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import warnings

    from qing import i18n
    from qing.dataset.clean import report

    i18n.set_language("zh")
    assert report.plot_titles("Noto Sans CJK SC") == ("每轮长度（字符）", "样本长度（token）")
    assert report.plot_titles(None) == ("turn length (characters)", "sample length (tokens)")  # no boxes
    monkeypatch.setattr(report, "CHINESE_FONTS", ("No Such Font",))
    run(tmp_path, [msg(C, 0, False, "在"), msg(C, 5, True, "嗯")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns of each glyph its font lacks
        report.plot_lengths(json.loads((tmp_path / "dataset" / "report.json").read_text()), tmp_path / "l.png")
    assert (tmp_path / "l.png").read_bytes()[:4] == b"\x89PNG"
