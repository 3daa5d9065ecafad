"""`qing clean-llm` against a real scripted HTTP server on 127.0.0.1."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import llm_server
import pytest

pytest.importorskip("openai")


def sample(i: int, good: bool) -> dict:
    return {"messages": [{"role": "system", "content": "你是阿青"}, {"role": "user", "content": f"问题{i}"},
                         {"role": "assistant", "content": f"{'好的' if good else '嗯'}{i}"}],
            "meta": {"chat": "abc", "session": i}}


@pytest.fixture
def dataset(tmp_path) -> Path:
    ds = tmp_path / "dataset"
    ds.mkdir()
    (ds / "train.jsonl").write_text("".join(json.dumps(sample(i, i % 2 == 0), ensure_ascii=False) + "\n"
                                            for i in range(20)), encoding="utf-8")
    (ds / "eval.jsonl").write_text("".join(json.dumps(sample(100 + i, i < 2), ensure_ascii=False) + "\n"
                                           for i in range(4)), encoding="utf-8")
    return ds


@pytest.fixture
def server():
    script = llm_server.Script()
    http, url = llm_server.start(script)
    yield script, url
    http.shutdown()


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def run(qing, dataset, url, *args):
    return qing("clean-llm", dataset, "--base-url", url, "--model", "tiny-judge", "--retries", "3", *args)


def test_scores_and_keeps_the_good_samples(dataset, server, qing):
    script, url = server
    result = run(qing, dataset, url)
    assert result.exit_code == 0, result.output
    out = dataset.parent / "dataset-llm"
    train, evals = load(out / "train.jsonl"), load(out / "eval.jsonl")
    assert len(train) == 10 and len(evals) == 2
    assert all(s["meta"]["score"] == 5 and s["messages"][-1]["content"].startswith("好的") for s in train + evals)
    scores = load(out / "scores.jsonl")
    assert len(scores) == 24 and {s["score"] for s in scores} == {2, 5}
    assert all(s["prompt_version"] and s["model"] == "tiny-judge" for s in scores)
    report = json.loads((out / "report.json").read_text())
    assert report["scores"] == {"1": 0, "2": 12, "3": 0, "4": 0, "5": 12}
    assert report["requests"]["sent"] == 3  # 24 samples, 8 per request
    assert "kept train 10, eval 2" in result.output


@pytest.mark.parametrize("style", ["fenced", "think", "prose"])
def test_answers_wrapped_in_text_are_parsed(dataset, server, qing, style):
    script, url = server
    script.style = style
    assert run(qing, dataset, url).exit_code == 0
    assert len(load(dataset.parent / "dataset-llm" / "scores.jsonl")) == 24


def test_retries_on_429_and_500_then_succeeds(dataset, server, qing):
    script, url = server
    script.failures = [429, 500, 429]
    result = run(qing, dataset, url, "--concurrency", "1")
    assert result.exit_code == 0, result.output
    report = json.loads((dataset.parent / "dataset-llm" / "report.json").read_text())
    assert report["requests"]["retries"] == 3


def test_a_garbage_answer_is_asked_again(dataset, server, qing):
    script, url = server
    script.failures = ["garbage"]
    assert run(qing, dataset, url, "--concurrency", "1").exit_code == 0
    assert len(load(dataset.parent / "dataset-llm" / "scores.jsonl")) == 24


def test_too_long_requests_are_split_and_a_lone_sample_recorded(dataset, server, qing):
    script, url = server
    script.context_limit = 2
    assert run(qing, dataset, url).exit_code == 0
    report = json.loads((dataset.parent / "dataset-llm" / "report.json").read_text())
    assert report["requests"]["splits"] >= 6 and report["dropped"]["too long to score"] == 0
    script.context_limit = 0  # nothing fits
    result = run(qing, dataset, url, "-o", dataset.parent / "tiny")
    assert result.exit_code == 0, result.output
    scores = load(dataset.parent / "tiny" / "scores.jsonl")
    assert all(s["score"] is None and "too long" in s["reason"] for s in scores) and len(scores) == 24
    assert json.loads((dataset.parent / "tiny" / "report.json").read_text())["dropped"]["too long to score"] == 24


def test_a_server_without_json_schema_gets_plain_prompting(dataset, server, qing):
    script, url = server
    script.schema = False
    assert run(qing, dataset, url).exit_code == 0
    report = json.loads((dataset.parent / "dataset-llm" / "report.json").read_text())
    assert report["requests"]["plain_prompting"] is True and report["kept"]["train"] == 10


def test_remove_noise_drops_flagged_pairs(tmp_path, server, qing):
    script, url = server
    ds = tmp_path / "ds"
    ds.mkdir()
    record = {"messages": [{"role": "user", "content": "在吗"}, {"role": "assistant", "content": "好的"},
                           {"role": "user", "content": "广告：点这里"}, {"role": "assistant", "content": "好"}]}
    (ds / "train.jsonl").write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    assert run(qing, ds, url, "--remove-noise").exit_code == 0
    kept = load(tmp_path / "ds-llm" / "train.jsonl")
    assert [m["content"] for m in kept[0]["messages"]] == ["在吗", "好的"]


def test_fails_loudly_before_any_work(dataset, server, qing, tmp_path):
    script, url = server
    dead = qing("clean-llm", dataset, "--base-url", "http://127.0.0.1:9/v1", "--model", "m")
    assert dead.exit_code == 1 and "cannot reach" in dead.output
    wrong = qing("clean-llm", dataset, "--base-url", url, "--model", "gpt-9")
    assert wrong.exit_code == 1 and "tiny-judge" in wrong.output
    script.key = "sk-right-key"
    refused = qing("clean-llm", dataset, "--base-url", url, "--model", "tiny-judge", "--api-key", "sk-secret-123")
    assert refused.exit_code == 1 and "refused the API key" in refused.output
    assert "sk-secret-123" not in refused.output
    assert script.requests == 0 and not (dataset.parent / "dataset-llm" / "report.json").exists()
    ok = qing("clean-llm", dataset, "--base-url", url, "--model", "tiny-judge",
              env={"QING_LLM_API_KEY": "sk-right-key"})
    assert ok.exit_code == 0, ok.output
    for path in (dataset.parent / "dataset-llm").iterdir():
        assert b"sk-right-key" not in path.read_bytes()


def test_check_lists_models(server, qing):
    script, url = server
    result = qing("clean-llm", "--check", "--base-url", url)
    assert result.exit_code == 0 and "tiny-judge" in result.output


def test_a_wrong_model_is_said_in_chinese_and_a_server_without_models_in_english(dataset, server, qing):
    from qing import i18n
    from qing.dataset.clean_llm import dropped_reason

    script, url = server
    wrong = qing("--lang", "zh", "clean-llm", dataset, "--base-url", url, "--model", "gpt-9")
    assert wrong.exit_code == 1 and "服务器上没有模型 'gpt-9'；它提供的有：tiny-judge" in wrong.output
    script.models = []
    empty = qing("clean-llm", dataset, "--base-url", url, "--model", "gpt-9")
    assert empty.exit_code == 1 and "no model 'gpt-9', nor any other; load one there" in empty.output
    i18n.set_language("zh")
    assert dropped_reason("below min score") == "低于 --min-score"


@pytest.mark.slow
def test_failed_samples_are_said_and_retried_next_run(dataset, server, qing):
    script, url = server
    script.failures = [500] * 4  # one request exhausts its retries (3)
    result = run(qing, dataset, url, "--concurrency", "1")
    assert result.exit_code == 1 and "8 of 24 samples could not be scored" in result.output
    out = dataset.parent / "dataset-llm"
    assert not (out / "report.json").exists() and len(load(out / "cache.jsonl")) == 16
    before = script.requests
    assert run(qing, dataset, url).exit_code == 0
    assert script.requests == before + 1  # only the failed batch is asked again
    assert run(qing, dataset, url).exit_code == 1  # a finished run needs --force
    assert run(qing, dataset, url, "--force").exit_code == 0 and script.requests == before + 1  # all from cache


@pytest.mark.slow
def test_resumes_after_kill_9_without_losing_or_rescoring(dataset, server, tmp_path):
    script, url = server
    script.delay = 0.15
    env = {k: v for k, v in os.environ.items() if not k.startswith("QING_")}
    cmd = [sys.executable, "-m", "qing", "clean-llm", str(dataset), "--base-url", url, "--model", "tiny-judge",
           "--batch", "1", "--concurrency", "1"]
    cache = dataset.parent / "dataset-llm" / "cache.jsonl"
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline and (not cache.exists() or len(cache.read_bytes().splitlines()) < 4):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(cache.read_bytes().splitlines())
    assert 4 <= done_before < 24
    script.delay = 0
    finished = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    keys = [json.loads(line)["key"] for line in cache.read_text().splitlines()]
    assert len(keys) == len(set(keys)) == 24  # nothing lost, nothing scored twice
    assert f"{done_before} from the cache" in finished.stderr


def test_a_slow_answer_times_out_and_is_retried(dataset, server, qing):
    script, url = server
    script.failures = ["slow"]  # the first answer takes 3 s
    result = run(qing, dataset, url, "--concurrency", "1", "--timeout", "1")
    assert result.exit_code == 0, result.output
    assert json.loads((dataset.parent / "dataset-llm" / "report.json").read_text())["requests"]["retries"] >= 1


def test_api_key_stays_out_of_verbose_logs(dataset, server, qing):
    script, url = server
    script.key = "sk-verbose-secret"
    result = qing("--verbose", "clean-llm", dataset, "--base-url", url, "--model", "tiny-judge",
                  "--api-key", "sk-verbose-secret")
    assert result.exit_code == 0, result.output
    assert "sk-verbose-secret" not in result.output
