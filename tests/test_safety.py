"""What users trust most, across commands: --force replaces only what qing wrote, an output is never the input,
and a stopped or killed run leaves no plaintext behind (and no worker processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import KEY, OWNER, T0, WANG

from qing.fixtures import qqnt_db as nb

ROOT = Path(__file__).resolve().parents[1]


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


@pytest.fixture
def messages(workdir, qing) -> Path:
    assert qing("export", "nt_msg.db", "--key", KEY, "--groups").exit_code == 0
    return workdir / "messages.jsonl"


# --- --force and outputs that are inputs ------------------------------------------------------

def test_clean_force_never_deletes_the_input_or_the_users_files(workdir, messages, qing, tmp_path_factory):
    (workdir / "diary.txt").write_text("mine")
    before = messages.read_bytes()
    result = qing("clean", messages, "-o", ".", "--force")
    assert result.exit_code == 1 and "holds the input" in result.output
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "messages.jsonl").write_bytes(before)
    result = qing("clean", elsewhere / "messages.jsonl", "-o", workdir, "--force")
    assert result.exit_code == 1 and "did not write (diary.txt" in result.output
    assert messages.read_bytes() == before and (workdir / "diary.txt").read_text() == "mine"
    # what clean wrote itself it replaces
    assert qing("clean", messages, "-o", "dataset").exit_code == 0
    assert qing("clean", messages, "-o", "dataset", "--force").exit_code == 0


def test_an_output_that_is_the_input_is_refused(workdir, messages, qing):
    assert qing("decrypt", "nt_msg.db", "--key", KEY).exit_code == 0
    plain = (workdir / "nt_msg.plain.db").read_bytes()
    result = qing("export", "nt_msg.plain.db", "-o", "nt_msg.plain.db", "--force")
    assert result.exit_code == 1 and "is the input" in result.output
    (workdir / "link.db").symlink_to("nt_msg.plain.db")
    assert "is the input" in qing("export", "nt_msg.plain.db", "-o", "link.db", "--force").output
    assert (workdir / "nt_msg.plain.db").read_bytes() == plain
    assert qing("clean", messages, "-o", "dataset").exit_code == 0
    train = (workdir / "dataset" / "train.jsonl").read_bytes()
    for out in ("dataset", "."):
        result = qing("clean-llm", "dataset", "-o", out, "--force", "--model", "x", "--base-url", "http://127.0.0.1:9")
        assert result.exit_code == 1 and ("is the input" in result.output or "holds the input" in result.output)
    assert (workdir / "dataset" / "train.jsonl").read_bytes() == train


def test_finetune_refuses_an_output_holding_its_dataset(workdir, tiny_model, qing):
    run = workdir / "run"
    (run / "dataset").mkdir(parents=True)
    (run / "qing-run.json").write_text("{}")
    sample = {"messages": [{"role": "user", "content": "在吗"}, {"role": "assistant", "content": "在的"}]}
    (run / "dataset" / "train.jsonl").write_text(json.dumps(sample) + "\n")
    result = qing("finetune", run / "dataset", "-o", run, "--force", "--model", tiny_model)
    assert result.exit_code == 1 and "holds the input" in result.output
    assert (run / "dataset" / "train.jsonl").is_file()


def test_finetune_force_replaces_only_a_run_of_its_own(tmp_path):
    from qing.errors import QingError
    from qing.model.run import Run

    run = tmp_path / "run"
    (run / "checkpoint-10").mkdir(parents=True)
    (run / "qing-run.json").write_text("{}")
    (run / "notes.txt").write_text("mine")
    with pytest.raises(QingError, match=r"did not write \(notes.txt\)"):
        Run.prepare(run, force=True, resume=False)
    (run / "notes.txt").unlink()
    Run.prepare(run, force=True, resume=False)
    assert not any(run.iterdir())


# --- stopped and killed runs --------------------------------------------------------------------

@pytest.fixture(scope="module")
def big_db(tmp_path_factory) -> Path:
    """An encrypted nt_msg.db big enough (60,000 messages) that export runs for a while."""
    path = tmp_path_factory.mktemp("big") / "nt_msg.db"

    def fill(conn):
        nb.create_message_tables(conn)
        text = nb.body(nb.text("今天下午去图书馆吗，顺便把笔记整理一下"))
        nb.insert_rows(conn, "c2c_msg_table", (
            nb.message_row(i, peer_uin=WANG + i % 40, sender_uin=OWNER if i % 2 else WANG + i % 40, sent=bool(i % 2),
                           when=T0 + i, elements=text) for i in range(60_000)))

    nb.write_encrypted(path, KEY, fill)
    return path


def _start_export(db: Path, out: Path, ignore_sighup: bool = False) -> subprocess.Popen:
    env = dict(os.environ, QING_KEY=KEY, PYTHONPATH=str(ROOT))
    # what nohup does before it runs the command
    ignore = (lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN)) if ignore_sighup else None
    return subprocess.Popen([sys.executable, "-m", "qing", "export", str(db), "-o", str(out), "--workers", "2"],
                            cwd=out.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ignore)


def _freeze_mid_export(proc: subprocess.Popen, directory: Path) -> list[int]:
    """Freeze PROC (SIGSTOP) once its decrypted database is on disk and its worker has started; return the pids of
    its worker processes."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        workers = [pid for pid in _children(proc.pid) if b"spawn_main" in _cmdline(pid)]
        if workers and list(directory.glob(".*.part/nt_msg.plain.db")):
            proc.send_signal(signal.SIGSTOP)
            return workers
        time.sleep(0.002)
    raise AssertionError("export never started its worker")


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(c) for c in f.read().split()]


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def _gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    return True  # a zombie has exited; its parent (init, or the dead export) reaps it
        except FileNotFoundError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_remove_the_plaintext_and_the_workers(tmp_path, big_db, signum):
    out = tmp_path / "messages.jsonl"
    proc = _start_export(big_db, out)
    workers = _freeze_mid_export(proc, tmp_path)
    proc.send_signal(signum)
    proc.send_signal(signal.SIGCONT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, stderr
    assert f"stopped by {signal.Signals(signum).name}" in stderr and "Traceback" not in stderr
    assert _leftovers(tmp_path) == [] and not out.exists()
    assert all(_gone(pid, 10) for pid in workers)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_under_nohup_a_closed_terminal_does_not_stop_the_command(tmp_path, big_db):
    # `nohup qing finetune ... &` on a rented box: the shell passes SIGHUP on to its jobs when the SSH session drops
    out = tmp_path / "messages.jsonl"
    proc = _start_export(big_db, out, ignore_sighup=True)
    _freeze_mid_export(proc, tmp_path)
    proc.send_signal(signal.SIGHUP)
    proc.send_signal(signal.SIGCONT)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert out.is_file() and _leftovers(tmp_path) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_export_leaves_plaintext_that_the_next_run_removes(tmp_path, big_db):
    out = tmp_path / "messages.jsonl"
    proc = _start_export(big_db, out)
    workers = _freeze_mid_export(proc, tmp_path)
    proc.kill()  # SIGKILL: no clean-up can run
    proc.communicate(timeout=60)
    assert all(_gone(pid, 10) for pid in workers)  # workers notice their parent is gone
    assert _leftovers(tmp_path)  # the plaintext is still there...
    again = _start_export(big_db, out)
    _, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, stderr
    assert _leftovers(tmp_path) == [] and out.is_file()  # ...until the next run in the same place


# --- errors of the world are the world's, in one sentence ------------------------------------

def test_a_full_disk_is_one_sentence_not_a_bug(workdir, messages, qing, monkeypatch):
    import errno

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(workdir / "dataset"))

    monkeypatch.setattr("qing.dataset.clean.step._write", full)
    result = qing("clean", messages)
    assert result.exit_code == 1 and "the disk is full" in result.output and "bug" not in result.output
    assert not (workdir / "dataset").exists() and _leftovers(workdir) == []


def test_a_damaged_plain_database_is_one_sentence(workdir, qing):
    assert qing("decrypt", "nt_msg.db", "--key", KEY).exit_code == 0
    plain = workdir / "nt_msg.plain.db"
    data = bytearray(plain.read_bytes())
    data[4096:8192] = bytes(range(256)) * 16  # a b-tree page of garbage
    plain.write_bytes(bytes(data))
    result = qing("export", plain, "-o", "m.jsonl", "--groups")
    assert result.exit_code == 1 and "damaged" in result.output and "bug" not in result.output


def test_rows_with_a_number_body_or_a_text_time_are_counted_not_fatal(tmp_path, qing):
    import sqlite3

    db = tmp_path / "in.db"
    conn = sqlite3.connect(db)
    nb.create_message_tables(conn, ["c2c_msg_table"])
    rows = [nb.message_row(i, peer_uin=WANG, sender_uin=OWNER if i % 2 else WANG, sent=bool(i % 2), when=T0 + i,
                           elements=nb.body(nb.text(f"第{i}条"))) for i in range(1, 5)]
    rows[1][40800] = 12345  # an integer where the protobuf body should be
    rows[2][40050] = "notatime"
    nb.insert_rows(conn, "c2c_msg_table", rows)
    conn.commit()
    conn.close()
    result = qing("export", db, "-o", tmp_path / "m.jsonl", "--me", OWNER)
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [m["id"] for m in lines] == [1, 4] and all(isinstance(m["time"], int) for m in lines)


@pytest.mark.parametrize("content, message", [
    ({"messages": [{"id": 1, "timestamp": 1700000000000, "sender": "me", "content": "hi"}]},
     "is not in QQ Chat Exporter's shape"),
    (b"timestamp,MsgSvrID,type_name,is_sender,talker,room_name,msg,src,CreateTime\n\xff\xfe\x00\x81" * 20,
     "is not UTF-8 text"),
])
def test_other_exports_of_the_wrong_shape_are_one_sentence(tmp_path, qing, content, message):
    if isinstance(content, dict):
        content = {"metadata": {"name": "QQChatExporter V5"}, "chatInfo": {"name": "x", "type": "private",
                   "selfUin": "10001"}, **content}
        path = tmp_path / "qce.json"
        path.write_text(json.dumps(content))
        args = []
    else:
        path = tmp_path / "in.csv"
        path.write_bytes(content)
        args = ["--from", "weclone-csv"]
    result = qing("export", path, "-o", tmp_path / "m.jsonl", *args)
    assert result.exit_code == 1 and message in result.output and "bug" not in result.output


@pytest.mark.parametrize("content", [b"[1, 2]", b"\x89PNG\r\n\x1a\n\x00\x00", b'{"options": {}}'])
def test_a_damaged_run_file_is_one_sentence(tmp_path, qing, content):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "qing-run.json").write_bytes(content)
    for command in (["infer", tmp_path / "run", "--prompt", "在吗"], ["gguf", tmp_path / "run"]):
        result = qing(*command)
        assert result.exit_code == 1 and "is damaged" in result.output and "bug" not in result.output, command


def test_a_run_stopped_before_its_adapter_says_how_to_go_on(tmp_path, qing):
    run = tmp_path / "run"
    (run / "checkpoint-20").mkdir(parents=True)
    (run / "qing-run.json").write_text(json.dumps({"options": {}, "model_dir": str(tmp_path / "base")}))
    commands = (["infer", run, "--prompt", "在吗"], ["gguf", run], ["eval", run], ["serve", run])
    for command in commands:  # a checkpoint cut short (no trainer_state.json): nothing to resume from
        result = qing(*command)
        assert result.exit_code == 1 and "wait for `qing finetune` to end" in result.output, command
    (run / "checkpoint-20" / "trainer_state.json").write_text("{}")
    for command in commands:
        result = qing(*command)
        assert result.exit_code == 1 and f"-o {run} --resume" in result.output, (command, result.output)


def test_a_cut_gguf_is_one_sentence(tmp_path, qing):
    pytest.importorskip("llama_cpp")
    path = tmp_path / "cut.gguf"
    path.write_bytes(b"GGUF" + (3).to_bytes(4, "little") + b"\x07" * 40)
    result = qing("infer", "--gguf", path, "--prompt", "在吗")
    assert result.exit_code == 1 and "cut short" in result.output and "bug" not in result.output


@pytest.mark.parametrize("args, code, message", [  # 2: refused by the command line, before the command runs
    (["--lora-r", "0"], 2, "'--lora-r' (env var: 'QING_LORA_R'): 0 is not in the range"),
    (["--learning-rate", "-1"], 1, "--learning-rate -1.0 is out of range"),
    (["--lora-dropout", "2"], 2, "'--lora-dropout' (env var: 'QING_LORA_DROPOUT'): 2.0 is not in the range"),
    (["--lr-scheduler-type", "wobbly"], 1, "unknown --lr-scheduler-type 'wobbly'"),
    (["--num-train-epochs", "-1"], 2, "'--num-train-epochs' (env var: 'QING_NUM_TRAIN_EPOCHS'): -1.0 is not in"),
    (["--max-steps", "-5"], 2, "'--max-steps' (env var: 'QING_MAX_STEPS'): -5 is not in the range"),
    (["--quant", "3bit"], 2, "'3bit' is not one of '4bit', '8bit', 'none'"),
])
def test_finetune_options_are_checked_before_any_work(tmp_path, tiny_model, qing, args, code, message):
    data = tmp_path / "data"
    data.mkdir()
    sample = {"messages": [{"role": "user", "content": "在吗"}, {"role": "assistant", "content": "在的"}]}
    (data / "train.jsonl").write_text(json.dumps(sample) + "\n")
    result = qing("finetune", data, "-o", tmp_path / "out", "--model", tiny_model, *args)
    assert result.exit_code == code and message in " ".join(result.output.replace("│", " ").split()), result.output
    assert not (tmp_path / "out").exists()


def test_a_finetune_that_fails_before_its_first_checkpoint_leaves_nothing(tmp_path, tiny_model, qing, monkeypatch):
    from transformers import Trainer

    data = tmp_path / "data"
    data.mkdir()
    sample = {"messages": [{"role": "user", "content": "在吗"}, {"role": "assistant", "content": "在的"}]}
    (data / "train.jsonl").write_text(json.dumps(sample) + "\n")

    def broken(self, *args, **kwargs):
        raise RuntimeError("the trainer fell over")

    monkeypatch.setattr(Trainer, "train", broken)
    assert qing("finetune", data, "-o", tmp_path / "out", "--model", tiny_model, "--quant", "none").exit_code == 1
    assert not (tmp_path / "out").exists()  # so the same command can simply be run again


@pytest.mark.parametrize("args, message", [
    (["export", "x.db", "--me", "-5"], "--me"),
    (["infer", "--gguf", "x.gguf", "--temperature", "-3"], "--temperature"),
    (["infer", "--gguf", "x.gguf", "--top-p", "7"], "--top-p"),
    (["clean-llm", "dataset", "--timeout", "-1"], "--timeout"),
])
def test_options_out_of_range_are_refused(tmp_path, qing, args, message):
    result = qing(*args)
    assert result.exit_code == 2 and message in result.output and "range" in result.output


def test_clean_llm_needs_a_server_address(workdir, messages, qing):
    assert qing("clean", messages).exit_code == 0
    result = qing("clean-llm", "dataset", "--model", "x", "--base-url", "::::")
    assert result.exit_code == 1 and "is not a server address" in result.output and not (workdir / "llm").exists()


# --- small things ---------------------------------------------------------------------------

def test_a_messages_file_with_a_byte_order_mark_is_read(workdir, messages, qing):
    (workdir / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + messages.read_bytes())
    assert qing("clean", "bom.jsonl", "-o", "a").exit_code == 0
    assert qing("clean", messages, "-o", "b").exit_code == 0
    assert (workdir / "a" / "train.jsonl").read_bytes() == (workdir / "b" / "train.jsonl").read_bytes()


def test_sizes_are_written_in_units_that_say_something():
    from qing.files import human_size

    assert [human_size(n) for n in (3_400_000_000, 12_500_000, 4_096, 10)] == ["3.4 GB", "12 MB", "4 KB", "10 bytes"]


@pytest.mark.parametrize("damage, message", [("flip", "the key is right, but the database's first page is damaged"),
                                             ("cut", "damaged or cut short")])
def test_a_damaged_database_is_not_blamed_on_the_key(workdir, qing, damage, message):
    data = bytearray((workdir / "nt_msg.db").read_bytes())
    (workdir / "nt_msg.db-wal").unlink()
    if damage == "flip":
        data[1024 + 100] ^= 0xFF  # inside page 1, after the salt
    else:
        data = data[:1024 + 4096]
    (workdir / "nt_msg.db").write_bytes(bytes(data))
    result = qing("decrypt", "nt_msg.db", "--key", KEY)
    assert result.exit_code == 1 and message in result.output and "check the key" not in result.output
    result = qing("decrypt", "nt_msg.db", "--key", KEY + "x")
    assert result.exit_code == 1 and ("check the key" in result.output or message in result.output)
