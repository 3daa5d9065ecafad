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

from qing import ntbuild as nb

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
    from qing.finetune import prepare_output

    run = tmp_path / "run"
    (run / "checkpoint-10").mkdir(parents=True)
    (run / "qing-run.json").write_text("{}")
    (run / "notes.txt").write_text("mine")
    with pytest.raises(QingError, match=r"did not write \(notes.txt\)"):
        prepare_output(run, force=True, resume=False)
    (run / "notes.txt").unlink()
    prepare_output(run, force=True, resume=False)
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


def _start_export(db: Path, out: Path) -> subprocess.Popen:
    env = dict(os.environ, QING_KEY=KEY, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "qing", "export", str(db), "-o", str(out), "--workers", "2"],
                            cwd=out.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


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
