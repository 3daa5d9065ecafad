"""qing demo (the whole chain on the built-in sample), the sample itself, and qing doctor."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from qing.fixtures import demo_db as sample


def _dump(db: Path, key: str, tmp: Path) -> list[str]:
    from qing.sources.qqnt.decrypt import decrypt

    plain = tmp / f"{db.parent.name}-{db.stem}.plain.db"
    decrypt(db, key, plain)
    with sqlite3.connect(plain) as conn:
        return list(conn.iterdump())


def test_the_sample_is_deterministic_and_encrypted(tmp_path):
    first, second = sample.build(tmp_path / "a"), sample.build(tmp_path / "b")
    assert first.messages == second.messages and 300 <= first.messages <= 500
    assert first.msg_db.read_bytes()[32:40] == b"QQ_NT DB"
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(first.msg_db).execute("SELECT * FROM sqlite_master").fetchall()
    assert _dump(first.msg_db, first.key, tmp_path) == _dump(second.msg_db, second.key, tmp_path)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    pytest.importorskip("peft")
    workdir = tmp_path_factory.mktemp("demo") / "qing-demo"
    result = subprocess.run([sys.executable, "-m", "qing", "demo", "--workdir", str(workdir)], capture_output=True,
                            text=True, env={**os.environ, "COLUMNS": "200"}, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir, result


@pytest.mark.slow
def test_demo_prints_every_command_and_a_summary(demo):
    _, result = demo
    for step in ("decrypt sample/nt_msg.db", "export nt_msg.plain.db", "clean messages.jsonl", "finetune dataset",
                 "infer runs/demo --prompt", "gguf runs/demo", "quantize runs/demo/demo-f16.gguf"):
        assert f"$ qing {step}" in result.stderr, step
    assert "qing demo in" in result.stderr and "Next:" in result.stderr and "$ cd " in result.stderr
    assert "Writing model shards" not in result.stderr
    assert result.stdout.strip(), "the infer step printed no reply"


@pytest.mark.slow
def test_demo_artifacts(demo):
    workdir, _ = demo
    with sqlite3.connect(workdir / "nt_msg.plain.db") as conn:
        rows = conn.execute("SELECT COUNT(*) FROM c2c_msg_table").fetchone()[0]
    messages = [json.loads(line) for line in (workdir / "messages.jsonl").read_text().splitlines()]
    assert len(messages) == rows == sample.build(workdir / "again").messages
    assert any(m.get("text") == "好耶！" for m in messages)
    dataset = (workdir / "dataset" / "train.jsonl").read_text() + (workdir / "dataset" / "eval.jsonl").read_text()
    for planted in sample.PLANTED.values():
        assert planted not in dataset and planted not in json.dumps(json.loads(dataset.splitlines()[0]))
    assert "<手机号>" in dataset and "<身份证号>" in dataset


@pytest.mark.slow
def test_demo_model_files_load(demo):
    import llama_cpp
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    workdir, _ = demo
    base = AutoModelForCausalLM.from_pretrained(workdir / "tiny-model")
    tuned = PeftModel.from_pretrained(base, workdir / "runs" / "demo" / "adapter")
    assert any("lora" in name for name, _ in tuned.named_parameters())
    for name in ("demo-f16.gguf", "demo-Q8_0.gguf"):
        llm = llama_cpp.Llama(model_path=str(workdir / "runs" / "demo" / name), n_ctx=128, verbose=False)
        assert llm("<|im_start|>user\n在吗<|im_end|>\n<|im_start|>assistant\n", max_tokens=4)["choices"]
    assert (workdir / "runs" / "demo" / "Modelfile").is_file()


def test_demo_refuses_a_directory_it_did_not_make(tmp_path, qing):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    for args in ([], ["--force"]):
        result = qing("demo", "--workdir", tmp_path / "mine", *args)
        assert result.exit_code == 1 and "was not made by `qing demo`" in result.output
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_the_demo_speaks_chinese(tmp_path, qing, monkeypatch):
    from qing.cli import demo

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    result = qing("--lang", "zh", "demo", "--workdir", tmp_path / "mine")
    assert result.exit_code == 1 and "不是 `qing demo` 创建的" in result.output

    def run(workdir, model, llm_base_url, llm_model, force, say):  # the table and the next steps, not the chain
        infer = next(step for step in demo.steps(model, False, None, None) if step.name == "infer")
        infer.seconds = 1.5
        return [infer]

    monkeypatch.setattr(demo, "run", run)
    result = qing("--lang", "zh", "demo", "--workdir", tmp_path / "demo", "--model", "m", env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    for words in ("qing demo（在 ", "步骤", "输出", "（回复见上）", "1.5 秒", "下一步：和它聊天（qing infer "):
        assert words in result.output, words


def test_a_demo_that_stopped_half_way_is_redone_a_finished_one_needs_force(tmp_path):
    from qing.cli import demo
    from qing.errors import QingError

    said = []
    work = tmp_path / "qing-demo"
    demo.prepare(work, force=False, say=said.append)
    (work / "messages.jsonl").write_text("half")  # then a step failed (a missing extra, say)
    demo.prepare(work, force=False, say=said.append)
    assert not (work / "messages.jsonl").exists() and "stopped half-way" in said[-1]
    (work / demo.MARKER).write_text(demo.FINISHED)
    with pytest.raises(QingError, match="holds a finished demo; pass --force"):
        demo.prepare(work, force=False, say=said.append)
    demo.prepare(work, force=True, say=said.append)
    assert (work / demo.MARKER).read_text() != demo.FINISHED


# --- doctor -----------------------------------------------------------------------------

def test_doctor_on_this_machine(tmp_path, qing, monkeypatch):
    import torch

    monkeypatch.chdir(tmp_path)
    result = qing("doctor", env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "python" in result.output and "sqlcipher3" in result.output
    if not torch.cuda.is_available():
        assert "no CUDA GPU" in result.output and "ready (with warnings: gpu" in result.output


def test_doctor_finds_env_typos_open_permissions_and_a_dead_server(tmp_path, qing, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("QING_MODLE=Qwen/Qwen3-4B\nQING_SEED=1\n")
    (tmp_path / ".env").chmod(0o644)
    result = qing("doctor", "--llm-base-url", "http://127.0.0.1:9/v1", env={"COLUMNS": "250"})
    assert result.exit_code == 0
    assert "QING_MODLE (did you mean QING_MODEL?)" in result.output
    assert "chmod 600" in result.output and "is not reachable" in result.output


def test_doctor_fails_when_something_required_is_missing(qing, monkeypatch):
    from qing.cli import doctor
    from qing.extras import Package

    monkeypatch.setattr(doctor, "PACKAGES", [Package("qing_no_such_module", "qing-no-such-dist", None, "testing")])
    result = qing("doctor", env={"COLUMNS": "200"})
    assert result.exit_code == 1 and "FAIL" in result.output and "required: qing-no-such-dist" in result.output


def test_doctor_warns_of_a_torch_the_train_extra_would_replace(monkeypatch):
    """A GPU image with torch 2.5: installing qing[train] would pull another torch over its CUDA build."""
    import importlib.metadata

    from qing.cli import doctor
    from qing.extras import PACKAGES

    torch_package = next(p for p in PACKAGES if p.distribution == "torch")
    real_version = importlib.metadata.version
    monkeypatch.setattr(doctor.importlib, "import_module", lambda name: None)
    for version, status in (("2.5.1+cu124", "warn"), ("2.6.0", "ok"), ("2.13.0+cpu", "ok")):
        monkeypatch.setattr(doctor.importlib.metadata, "version",
                            lambda dist, v=version: v if dist == "torch" else real_version(dist))
        check = doctor._package(torch_package)
        assert check.status == status, version
        assert ("older than 2.6" in check.detail) == (status == "warn")


def test_doctor_in_chinese(tmp_path, qing, monkeypatch):
    from qing.cli import doctor
    from qing.extras import Package

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("QING_MODLE=Qwen/Qwen3-4B\n")
    result = qing("--lang", "zh", "doctor", env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for words in ("检查项", "结果", "怎么修复", "正常", "警告", "磁盘", "未知的键，多半是拼写错误：QING_MODLE（是想写 "
                  "QING_MODEL 吗？）", "可以开始了（有警告："):
        assert words in result.output, words
    assert "found" not in result.output and "ready" not in result.output
    monkeypatch.setattr(doctor, "PACKAGES", [Package("qing_no_such_module", "qing-no-such-dist", None, "testing")])
    result = qing("--lang", "zh", "doctor", env={"COLUMNS": "250"})
    assert result.exit_code == 1 and "失败" in result.output and "无法导入（ModuleNotFoundError）" in result.output
    assert "缺少必需项：qing-no-such-dist——请修复上面标为“失败”的行。" in result.output
