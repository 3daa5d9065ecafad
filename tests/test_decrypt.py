import hashlib
import os
import sqlite3
from pathlib import Path

import pytest
from conftest import KEY, build_msg_db

ALL_HMACS = ["HMAC_SHA1", "HMAC_SHA256", "HMAC_SHA512"]


def rows(db: Path, table="c2c_msg_table") -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("hmac", ALL_HMACS)
def test_each_hmac_named_in_header_opens_first(tmp_path, monkeypatch, qing, hmac):
    monkeypatch.chdir(tmp_path)
    build_msg_db(tmp_path / "nt_msg.db", hmac=hmac)
    result = qing("decrypt", "nt_msg.db", "--key", KEY)
    assert result.exit_code == 0, result.output
    assert f"opened with {hmac}" in result.output
    assert rows(tmp_path / "nt_msg.plain.db") == 31 + 2  # the two WAL-only rows are in
    assert KEY not in result.output


def test_header_without_algorithm_falls_back_through_candidates(tmp_path, qing):
    build_msg_db(tmp_path / "nt_msg.db", hmac="HMAC_SHA256", header_hmac=None, with_wal=False)
    result = qing("decrypt", tmp_path / "nt_msg.db", "-o", tmp_path / "out.db", "--key", KEY)
    assert result.exit_code == 0, result.output
    assert "opened with HMAC_SHA256" in result.output
    assert rows(tmp_path / "out.db") == 31


def test_explicit_hmac_only_tries_that_one(tmp_path, qing):
    build_msg_db(tmp_path / "nt_msg.db", hmac="HMAC_SHA512", header_hmac=None, with_wal=False)
    wrong = qing("decrypt", tmp_path / "nt_msg.db", "-o", tmp_path / "a.db", "--key", KEY, "--hmac", "sha1")
    assert wrong.exit_code != 0 and "with HMAC_SHA1 (PBKDF2" in wrong.output
    right = qing("decrypt", tmp_path / "nt_msg.db", "-o", tmp_path / "b.db", "--key", KEY, "--hmac", "SHA512")
    assert right.exit_code == 0, right.output


def test_already_stripped_file_works(tmp_path, qing):
    build_msg_db(tmp_path / "stripped.db", header=False, with_wal=False)
    result = qing("decrypt", tmp_path / "stripped.db", "-o", tmp_path / "out.db", "--key", KEY)
    assert result.exit_code == 0, result.output
    assert "no QQ NT header" in result.output
    assert rows(tmp_path / "out.db") == 31


def test_wal_included_and_inputs_untouched(workdir, qing):
    before = {p: digest(workdir / p) for p in ("nt_msg.db", "nt_msg.db-wal")}
    result = qing("decrypt", "nt_msg.db", "--key", KEY)
    assert result.exit_code == 0, result.output
    assert "1 WAL frame included" in result.output
    conn = sqlite3.connect(workdir / "nt_msg.plain.db")
    texts = [r[0] for r in conn.execute('SELECT "40001" FROM c2c_msg_table WHERE "40001" IN (40, 41)')]
    conn.close()
    assert texts == [40, 41]
    assert {p: digest(workdir / p) for p in before} == before
    assert sorted(p.name for p in workdir.iterdir()) == [
        "nt_msg.db", "nt_msg.db-wal", "nt_msg.plain.db", "profile_info.db"]  # no temp files left


def test_output_is_private_plain_sqlite_in_rollback_mode(workdir, qing):
    assert qing("decrypt", "nt_msg.db", "--key", KEY).exit_code == 0
    out = workdir / "nt_msg.plain.db"
    assert out.stat().st_mode & 0o777 == 0o600
    assert out.read_bytes()[:16] == b"SQLite format 3\x00"
    conn = sqlite3.connect(out)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_profile_db_decrypts_too(workdir, qing):
    result = qing("decrypt", "profile_info.db", "--key", KEY)
    assert result.exit_code == 0, result.output
    assert rows(workdir / "profile_info.plain.db", "profile_info_v6") == 3


def test_key_from_environment_and_dotenv(workdir, qing):
    assert qing("decrypt", "nt_msg.db", "-o", "a.db", env={"QING_KEY": KEY}).exit_code == 0
    (workdir / ".env").write_text('QING_KEY="{}"\n'.format(KEY.replace('"', '\\"')))
    result = qing("decrypt", "nt_msg.db", "-o", "b.db")
    assert result.exit_code == 0, result.output


def test_flag_beats_environment(workdir, qing):
    result = qing("decrypt", "nt_msg.db", "--key", KEY, env={"QING_KEY": "wrong-key-000000"})
    assert result.exit_code == 0, result.output
    result = qing("decrypt", "nt_msg.db", "-o", "x.db", "--key", "wrong-key-000000", env={"QING_KEY": KEY})
    assert result.exit_code != 0


def test_wrong_key_names_algorithms_and_hides_key(workdir, qing):
    result = qing("decrypt", "nt_msg.db", "--key", "not-the-key-1234")
    assert result.exit_code == 1
    assert "HMAC_SHA1, HMAC_SHA512, HMAC_SHA256" in result.output
    assert "not-the-key-1234" not in result.output
    assert "Traceback" not in result.output
    assert not (workdir / "nt_msg.plain.db").exists()
    assert sorted(p.name for p in workdir.iterdir()) == ["nt_msg.db", "nt_msg.db-wal", "profile_info.db"]


def test_missing_key_without_terminal(workdir, qing):
    result = qing("decrypt", "nt_msg.db")
    assert result.exit_code == 1 and "is encrypted and no key was given" in result.output


def test_no_key_then_the_key_in_chinese(workdir, qing):
    result = qing("--lang", "zh", "decrypt", "nt_msg.db")
    assert result.exit_code == 1 and "nt_msg.db 已加密，但没有给出密钥：请用 --key 传入" in result.output
    result = qing("--lang", "zh", "decrypt", "nt_msg.db", "--key", KEY)
    assert result.exit_code == 0, result.output
    assert "已用 HMAC_SHA1 打开（已去掉 QQ NT 文件头；包含 " in result.output and "已写入 " in result.output


@pytest.mark.parametrize("content, message", [
    (b"hello, not a database" * 10, "not a QQ NT or SQLCipher database"),
    (b"", "is empty"),
    (b"SQLite format 3\x00" + bytes(4080), "already a plain SQLite database"),
])
def test_not_a_qq_nt_file(tmp_path, qing, content, message):
    (tmp_path / "x.db").write_bytes(content)
    result = qing("decrypt", tmp_path / "x.db", "--key", KEY, "-o", tmp_path / "o.db")
    assert result.exit_code == 1 and message in result.output, result.output


def test_truncated_file(workdir, qing):
    data = (workdir / "nt_msg.db").read_bytes()
    (workdir / "cut.db").write_bytes(data[:len(data) - 1000])
    result = qing("decrypt", "cut.db", "--key", KEY)
    assert result.exit_code == 1 and "truncated" in result.output


def test_missing_input(tmp_path, qing):
    result = qing("decrypt", tmp_path / "nope.db", "--key", KEY)
    assert result.exit_code == 1 and "does not exist" in result.output


def test_existing_output_needs_force(workdir, qing):
    (workdir / "nt_msg.plain.db").write_text("keep me")
    result = qing("decrypt", "nt_msg.db", "--key", KEY)
    assert result.exit_code == 1 and "--force" in result.output
    assert (workdir / "nt_msg.plain.db").read_text() == "keep me"
    assert qing("decrypt", "nt_msg.db", "--key", KEY, "--force").exit_code == 0
    assert rows(workdir / "nt_msg.plain.db") == 33


def test_bad_wal_is_reported_not_ignored(workdir, qing):
    (workdir / "nt_msg.db-wal").write_bytes(b"garbage" * 100)
    result = qing("decrypt", "nt_msg.db", "--key", KEY)
    assert result.exit_code == 1 and "not a SQLite WAL" in result.output


def test_output_equal_to_input_is_refused(workdir, qing):
    result = qing("decrypt", "nt_msg.db", "-o", "nt_msg.db", "--key", KEY, "--force")
    assert result.exit_code == 1 and "is the input" in result.output


def test_interrupted_run_leaves_nothing(workdir, monkeypatch, qing):
    import qing.sources.qqnt.decrypt as d

    def boom(conn, target):
        Path(target).write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(d, "_export_plain", boom)
    result = qing("decrypt", "nt_msg.db", "--key", KEY)
    assert result.exit_code == 130
    assert sorted(p.name for p in workdir.iterdir()) == ["nt_msg.db", "nt_msg.db-wal", "profile_info.db"]


@pytest.mark.parametrize(("language", "prompt"), [("en", "not shown"), ("zh", "输入时不显示")])
def test_key_prompt_on_a_terminal_does_not_echo(workdir, language, prompt):
    import pty
    import sys

    pid, fd = pty.fork()
    if pid == 0:  # the child: qing decrypt on a terminal, no key anywhere
        os.execvpe(sys.executable, [sys.executable, "-m", "qing", "decrypt", "nt_msg.db"],
                   {**{k: v for k, v in os.environ.items() if not k.startswith("QING_")}, "QING_LANG": language})
    seen = b""
    while prompt.encode() not in seen:
        seen += os.read(fd, 1024)
    os.write(fd, KEY.encode() + b"\n")
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")
    assert KEY.encode() not in seen and b"HMAC_SHA1" in seen
    assert rows(workdir / "nt_msg.plain.db") == 33


def test_too_little_disk_space_is_said_before_writing(workdir, monkeypatch, qing):
    import shutil

    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=10_000))
    result = qing("decrypt", "nt_msg.db", "--key", KEY)
    assert result.exit_code == 1 and "not enough disk space" in result.output
    assert sorted(p.name for p in workdir.iterdir()) == ["nt_msg.db", "nt_msg.db-wal", "profile_info.db"]


def test_android_key_derivation_worked_example():
    from qing.sources.qqnt.decrypt import android_key

    assert android_key("u_mIicAReWrdCB-kST6TXH7A", "6tPaJ9GP") == "71c0dfcef3b5ceae7c4a1c68ca662f4a"


def test_android_uid_opens_a_database_whose_key_derives_from_it(tmp_path, monkeypatch, qing):
    from qing.sources.qqnt.decrypt import android_key

    monkeypatch.chdir(tmp_path)
    uid = "u_inventedAndroidUid01"
    build_msg_db(tmp_path / "nt_msg.db", key=android_key(uid, "6tPaJ9GP"), with_wal=False)  # header rand 6tPaJ9GP
    result = qing("decrypt", "nt_msg.db", "--uid", uid)
    assert result.exit_code == 0, result.output
    assert rows(tmp_path / "nt_msg.plain.db") == 31
    wrong = qing("export", "nt_msg.db", "--uid", "u_someoneElse", "-o", "m.jsonl")
    assert wrong.exit_code == 1 and "the key does not open" in wrong.output


def test_a_missing_database_is_named_before_any_key_is_asked(tmp_path, qing):
    result = qing("decrypt", tmp_path / "nope.db")
    assert result.exit_code == 1 and result.output.strip() == f"error: database {tmp_path / 'nope.db'} does not exist."


def test_a_misspelt_key_variable_is_pointed_out(workdir, qing):
    result = qing("decrypt", "nt_msg.db", env={"QING_KYE": "x"})
    assert result.exit_code == 1 and "QING_KYE is set: did you mean QING_KEY?" in result.output


def test_decrypt_says_its_errors_in_chinese(workdir, qing):
    result = qing("--lang", "zh", "decrypt", "nt_msg.db", "--key", "not-the-key-1234")
    assert result.exit_code == 1 and "这个密钥用 HMAC_SHA1, HMAC_SHA512, HMAC_SHA256" in result.output
    assert "错误：" in result.output and "does not open" not in result.output
    assert "not-the-key-1234" not in result.output
    (workdir / "empty.db").write_bytes(b"")
    result = qing("decrypt", "empty.db", "--key", KEY, env={"QING_LANG": "zh"})
    assert result.exit_code == 1 and "empty.db 是空的；请在 QQ 关闭时重新复制数据库。" in result.output
