"""`qing export --format csv`: WeClone's dataset/csv, read back the way WeClone's make-dataset step reads it.

WeClone (its data/qa_generator.py) lists every entry of dataset/csv as a chat's folder, reads each *.csv in it
with pandas, in the order of the start row in the file name, and turns each row into its ChatMessage by column
name; `weclone_reads` below does the same.
"""

import json
import os
import re
import stat
from pathlib import Path

import pandas as pd
import pytest
from conftest import KEY, OWNER

from qing.fixtures import qqnt_db as nb
from qing.sources import weclone
from qing.sources.weclone_out import Names, _LocalTime, safe_name

HEADER = ["id", "MsgSvrID", "type_name", "is_sender", "talker", "room_name", "msg", "src", "CreateTime"]
T0 = 1_700_000_000


def weclone_reads(csv_folder: Path) -> list[tuple[str, pd.DataFrame]]:
    """(chat folder, rows) of each CSV as WeClone's loader reads them."""
    files = []
    for chat in os.listdir(csv_folder):  # a bare file here: NotADirectoryError, as in WeClone
        files += [os.path.join(csv_folder, chat, name) for name in os.listdir(os.path.join(csv_folder, chat))
                  if name.endswith(".csv")]
    files.sort(key=lambda f: int(m[1]) if (m := re.search(r"_(\d+)_\d+\.csv$", f)) else 0)
    read = []
    for f in files:
        df = pd.read_csv(f, encoding="utf-8", dtype={"msg": str, "src": str}, escapechar=None, keep_default_na=False)
        df["CreateTime"] = pd.to_datetime(df["CreateTime"])
        read.append((Path(f).parent.name, df))
    return read


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def dataset(workdir, qing) -> Path:
    result = qing("export", "nt_msg.db", "--key", KEY, "--profile", "profile_info.db", "--groups",
                  "--format", "csv", "-o", "dataset/csv")
    assert result.exit_code == 0, result.output
    return workdir / "dataset" / "csv"


def test_one_folder_per_chat_read_as_weclone_reads_it(dataset):
    read = weclone_reads(dataset)
    assert [chat for chat, _ in read] == ["小王", "李四", "群7770001"]  # the remark I gave 王大锤; the export's order
    for chat, df in read:
        assert list(df.columns) == HEADER
        assert set(df["room_name"]) == {chat}  # WeClone looks relations up by the folder's name
        types = pd.api.types
        assert [c for c in HEADER if types.is_integer_dtype(df[c])] == ["id", "MsgSvrID", "is_sender"]
        assert all(types.is_string_dtype(df[c]) for c in ("type_name", "talker", "room_name", "msg", "src"))
        assert types.is_datetime64_any_dtype(df["CreateTime"])
    ids = [i for _, df in read for i in df["id"]]
    assert ids == list(range(1, len(ids) + 1))  # the row number runs on over the whole export
    names = sorted(p.name for p in dataset.rglob("*.csv"))
    assert names == ["c2c%3A20002_0_26.csv", "c2c%3A20003_26_30.csv", "group%3A7770001_30_32.csv"]
    first = read[0][1].iloc[0]
    assert (first["MsgSvrID"], first["type_name"], first["is_sender"], first["talker"], first["msg"]) == (
        1, "文本", 0, "小王", "在吗")
    assert str(first["CreateTime"]) == "2023-11-15 06:13:20"  # 1700000000 in Asia/Shanghai


def test_files_are_utf8_without_bom_crlf_and_private(dataset):
    assert stat.S_IMODE(dataset.stat().st_mode) == 0o700
    for folder in dataset.iterdir():
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        for f in folder.iterdir():
            assert stat.S_IMODE(f.stat().st_mode) == 0o600
            data = f.read_bytes()
            assert data.startswith(b"id,MsgSvrID,type_name,is_sender,talker,room_name,msg,src,CreateTime\r\n")
    assert not [p for p in dataset.parent.iterdir() if p.name.startswith(".")]  # no work folder left beside


def test_transcribed_voice_is_text_and_an_image_names_its_file(dataset):
    rows = pd.concat([df for _, df in weclone_reads(dataset)])
    by_id = {r["MsgSvrID"]: r for _, r in rows.iterrows()}
    assert (by_id[8]["type_name"], by_id[8]["msg"]) == ("文本", "明天见")  # WeClone keeps 文本; 语音 is a cut
    assert (by_id[9]["type_name"], by_id[9]["msg"]) == ("语音", "[语音]")  # no transcript: nothing to keep
    assert (by_id[5]["type_name"], by_id[5]["src"]) == ("图片", "a1b2c3.jpg")  # the picture element's 45402
    assert by_id[6]["type_name"] == "动画表情"
    assert set(rows[rows["type_name"] != "图片"]["src"]) <= {"", "a1b2c3.jpg"}
    assert by_id[1]["src"] == ""


def test_reads_back_as_the_same_chats(dataset, workdir, qing):
    assert qing("export", "nt_msg.db", "--key", KEY, "--profile", "profile_info.db", "--groups").exit_code == 0
    for given in ("dataset/csv", "dataset/csv/李四", "dataset/csv/李四/c2c%3A20003_26_30.csv"):
        result = qing("export", given, "-o", "back.jsonl", "--force")
        assert result.exit_code == 0, result.output
    assert "chat c2c:20003: 4 messages, 2 yours" in result.output
    assert qing("export", "dataset/csv", "--from", "weclone-csv", "-o", "back.jsonl", "--force").exit_code == 0
    fields = ("id", "chat", "peer", "is_me", "time", "text", "kind", "sender_name")
    back = [tuple(r[f] for f in fields) for r in load(workdir / "back.jsonl")]
    original = [tuple(r[f] for f in fields) for r in load(workdir / "messages.jsonl")]
    transcribed = {8}  # a voice with its transcript comes back as the text it is
    assert [r for r in back if r[0] not in transcribed] == [
        r[:-1] + (r[-1] if not r[3] else None,) for r in original if r[0] not in transcribed]
    assert [r[5:7] for r in back if r[0] in transcribed] == [("明天见", "text")]


def names_db(path: Path, names: list[str]) -> Path:
    """A database of one-to-one chats whose friends go by NAMES (their first message from me, so the name waits)."""
    rows = []
    for i, name in enumerate(names):
        peer = 30001 + i
        rows += [nb.message_row(2 * i + 1, peer_uin=peer, sender_uin=OWNER, sent=True, when=T0 + i, nickname="我",
                                elements=nb.body(nb.text("嗨"))),
                 nb.message_row(2 * i + 2, peer_uin=peer, sender_uin=peer, sent=False, when=T0 + i + 1,
                                elements=nb.body(nb.text(f"我是{i}")), nickname=name)]

    def fill(conn):
        nb.create_message_tables(conn)
        nb.insert_rows(conn, "c2c_msg_table", rows)

    nb.write_encrypted(path, KEY, fill)
    return path


def test_names_safe_on_every_file_system_and_distinct(tmp_path, qing):
    names = ["c2c:20001", 'a/b\\c*?"<>|', "CON", "nul.txt", "Ab", "aB", "阿花", "阿花", " 点点.. ", "...", "\x07",
             "长" * 100]
    db = names_db(tmp_path / "nt_msg.db", names)
    result = qing("export", db, "--key", KEY, "--format", "csv", "-o", tmp_path / "csv")
    assert result.exit_code == 0, result.output
    read = weclone_reads(tmp_path / "csv")
    folders = [chat for chat, _ in read]
    assert folders[:10] == ["c2c_20001", "a_b_c______", "_CON", "_nul.txt", "Ab", "aB (30006)", "阿花",
                            "阿花 (30008)", "点点", "好友30010"]
    assert folders[10] == "_" and folders[11] == "长" * 40  # 120 bytes of UTF-8
    assert len({f.casefold() for f in folders}) == len(folders)
    for chat, df in read:
        assert set(df["room_name"]) == {chat} and len(df) == 2


@pytest.mark.parametrize("name, safe", [
    ("x:y", "x_y"), ("tab\there", "tab_here"), ("trailing. . ", "trailing"), (".hidden", "hidden"), ("", ""),
    ("AUX", "_AUX"), ("Com1.log", "_Com1.log"), ("LPT9", "_LPT9"), ("console", "console"), ("群聊|吃饭", "群聊_吃饭"),
    ("e\u0301", "\u00e9"),  # one Unicode form, as macOS would otherwise change it
])
def test_safe_name(name, safe):
    assert safe_name(name) == safe


def test_names_taken_ignore_case_and_form():
    names = Names()
    assert [names.give(w, c) for w, c in [("Ab", "c2c:1"), ("ab", "c2c:2"), ("AB", "c2c:2"), ("", "group:3"),
                                          ("群3", "group:4"), ("x", "wechat:room_1")]] == [
        "Ab", "ab (2)", "AB (3)", "群3", "群3 (4)", "x"]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",
                                  "Europe/Amsterdam", "UTC"])
def test_local_times_are_datetimes_in_any_zone(zone):
    """The hour-cached formatting, across daylight-saving changes, half-hour ones (Lord Howe), a +5:45 zone and
    Amsterdam's 1937 offset of +0:19:32 (not whole minutes: each second asks the zone)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    starts = (-1_030_000_000, 1_679_000_000, 1_696_000_000, 1_699_000_000)  # 1937-05, 2023-03, 2023-09, 2023-11
    times = [t for start in starts for t in range(start, start + 1_000_000, 977)]  # 11.6 days from each
    expected = [datetime.fromtimestamp(t, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S") for t in times]
    assert _LocalTime(ZoneInfo(zone)).many(times) == expected


@pytest.mark.parametrize("chat", ["c2c:20001", "group:7770001", "qce:group:周末/读书会", "wechat:wxid_a_1_2",
                                  "tg:c2c:-100", "qce:c2c:a%3A~b"])
def test_chat_ids_in_file_names_come_back(chat):
    stem = weclone.chat_file_stem(chat)
    assert not re.search(r'[\x00-\x1f/\\:*?"<>|]', stem)
    assert weclone.chat_of_file(f"{stem}_12_30.csv") == chat and weclone.written_by_qing(f"{stem}_12_30.csv")


def test_a_long_chat_id_is_cut_and_not_read_back():
    stem = weclone.chat_file_stem("qce:group:" + "名" * 200)
    assert len(stem.encode()) <= 170 and "~" in stem
    assert weclone.chat_of_file(f"{stem}_0_5.csv") is None and weclone.written_by_qing(f"{stem}_0_5.csv")
    assert weclone.chat_of_file("wxid_abc_0_5000.csv") is None and not weclone.written_by_qing("wxid_abc_0_5000.csv")


def test_output_rules(workdir, qing):
    export = ("export", "nt_msg.db", "--key", KEY, "--format", "csv")
    refused = qing(*export, "-o", "messages.csv")
    assert refused.exit_code == 1 and "not one file" in refused.output and not Path("messages.csv").exists()
    Path("afile").write_text("x")
    assert "is a file" in qing(*export, "-o", "afile").output
    Path("dataset/csv").mkdir(parents=True)  # WeClone's empty dataset/csv: filled without --force
    assert qing(*export, "-o", "dataset/csv").exit_code == 0
    again = qing(*export, "-o", "dataset/csv")
    assert again.exit_code == 1 and "pass --force" in again.output
    assert qing(*export, "-o", "dataset/csv", "--force").exit_code == 0
    assert qing(*export).exit_code == 0 and Path("csv", "李四").is_dir()  # the default: ./csv
    (workdir / "dataset/csv/wxid_friend").mkdir()  # a WeChat chat of PyWxDump's beside ours
    (workdir / "dataset/csv/wxid_friend/wxid_friend_0_5000.csv").write_text(",".join(HEADER) + "\n")
    foreign = qing(*export, "-o", "dataset/csv", "--force")
    assert foreign.exit_code == 1 and "did not write (wxid_friend)" in foreign.output
    assert (workdir / "dataset/csv/wxid_friend/wxid_friend_0_5000.csv").exists()
    inside = qing("export", "dataset/csv", "--format", "csv", "-o", "dataset/csv", "--force")
    assert inside.exit_code == 1 and "is the input" in inside.output


def test_output_rules_in_chinese(workdir, qing):
    export = ("--lang", "zh", "export", "nt_msg.db", "--key", KEY, "--format", "csv")
    refused = qing(*export, "-o", "messages.csv")
    assert refused.exit_code == 1 and "--format csv 写出的是一个文件夹，每个会话一个子文件夹" in refused.output
    assert "例如 -o messages 或 -o dataset/csv。" in refused.output
    assert qing(*export, "-o", "dataset/csv").exit_code == 0
    again = qing(*export, "-o", "dataset/csv")
    assert again.exit_code == 1 and "不是空的；加 --force 替换 qing 在那里写过的内容" in again.output

def test_interrupted_export_leaves_the_old_output(workdir, qing, monkeypatch):
    from qing.sources import weclone_out

    assert qing("export", "nt_msg.db", "--key", KEY, "--format", "csv", "-o", "out").exit_code == 0
    before = sorted(p.relative_to(workdir) for p in (workdir / "out").rglob("*"))

    def broken(self, records):
        raise KeyboardInterrupt

    monkeypatch.setattr(weclone_out.FolderWriter, "_write_rows", broken)
    result = qing("export", "nt_msg.db", "--key", KEY, "--format", "csv", "-o", "out", "--force")
    assert result.exit_code != 0
    assert sorted(p.relative_to(workdir) for p in (workdir / "out").rglob("*")) == before
    assert sorted(p.name for p in workdir.iterdir() if p.name.startswith(".")) == []
