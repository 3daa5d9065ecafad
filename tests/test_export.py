import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from conftest import GROUP, KEY, LI, LONG_TEXT, OWNER, WANG

from qing.fixtures import qqnt_db as nb
from qing.sources.qqnt.body import render


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def exported(workdir, qing):
    result = qing("export", "nt_msg.db", "--key", KEY, "--profile", "profile_info.db", "--groups")
    assert result.exit_code == 0, result.output
    return result, {m["id"]: m for m in load(workdir / "messages.jsonl")}


def test_captured_text_element_decodes_by_field_number():
    # the real captured element from qq-nt-format.md: type 1, text bytes e59189 x3
    blob = bytes.fromhex("82f61321c8fc15a1d0e6a4d2b8b8806ad0fc1501ea821609e59189e59189e59189f08216" "00")
    assert render(blob, Counter())[1] == bytes.fromhex("e59189e59189e59189").decode()


def test_a_picture_gives_its_file_name():
    picture = nb.body(nb.text("看"), nb.picture(), nb.picture())
    assert render(picture, Counter()) == ("text", "看[图片][图片]", None, None, "a1b2c3.jpg")  # the first picture's
    assert render(nb.body(nb.picture(animated=True)), Counter())[::4] == ("sticker", "a1b2c3.jpg")
    assert render(nb.body(nb.text("在吗")), Counter())[4] is None and render(nb.body(nb.file()), Counter())[4] is None


def test_every_element_renders_as_the_format_doc_says(exported):
    _, m = exported
    expected = {
        1: ("text", "在吗"), 2: ("text", "在的[微笑]"), 3: ("text", "[微笑]"), 4: ("text", "[表情]"),
        5: ("image", "[图片]"), 6: ("sticker", "[动画表情]"), 7: ("file", "[文件]"), 8: ("voice", "明天见"),
        9: ("voice", "[语音]"), 10: ("video", "[视频]"), 14: ("recall", "[撤回了一条消息]"),
        15: ("system", "[系统消息]"), 16: ("redpacket", "[红包]"), 17: ("card", "[卡片]"),
        18: ("forward", "[聊天记录]"), 19: ("sticker", "[贴贴]"), 20: ("text", "**重点**"),
        21: ("forward", "[聊天记录]"), 22: ("call", "[通话]"), 23: ("text", "前后"), 24: ("unknown", ""),
        29: ("text", "@小李 看这里"),
    }
    assert {i: (m[i]["kind"], m[i]["text"]) for i in expected} == expected
    assert m[28]["text"] == LONG_TEXT


def test_replies_resolved_by_msgid_and_by_seq(exported):
    _, m = exported
    assert m[11]["reply_to"] == 2 and m[11]["text"] == "对，就是这个"
    assert m[12]["reply_to"] == 5
    assert m[13]["reply_to"] is None          # quoted message not in the database
    assert m[102]["reply_to"] == 101          # group reply by per-group msgSeq


def test_owner_names_and_chats(exported):
    result, m = exported
    assert f"owner: {OWNER} (detected)" in result.output
    assert m[1]["chat"] == f"c2c:{WANG}" and m[1]["peer"] == WANG
    assert (m[1]["sender"], m[1]["is_me"], m[1]["sender_name"]) == (WANG, False, "小王")   # remark wins
    assert (m[30]["sender_name"], m[2]["sender_name"]) == ("李四", "我自己")             # nickname
    assert (m[2]["sender"], m[2]["is_me"]) == (OWNER, True)
    assert m[101]["chat"] == f"group:{GROUP}" and m[101]["sender"] == LI
    assert m[1]["time"] == 1_700_000_000


def test_wal_rows_exported_and_order_is_chat_time_id(workdir, exported):
    _, m = exported
    assert m[40]["text"] == "这条只在 WAL 里" and m[41]["is_me"]
    rows = load(workdir / "messages.jsonl")
    chats = [r["chat"] for r in rows]
    assert chats == sorted(chats, key=lambda c: (c.startswith("group"), int(c.split(":")[1])))
    for chat in set(chats):
        keys = [(r["time"], r["id"]) for r in rows if r["chat"] == chat]
        assert keys == sorted(keys)
    assert set(rows[0]) == {"id", "chat", "peer", "sender", "sender_name", "is_me", "time", "kind", "text", "reply_to"}


def test_malformed_rows_counted_not_fatal(exported):
    result, m = exported
    assert not {25, 26, 27} & set(m)
    assert "null body 1" in result.output and "varint body 1" in result.output and "bad protobuf 1" in result.output
    assert "unknown element type 99 1" in result.output and "unknown element type 77 1" in result.output
    assert "reply target not found 1" in result.output
    assert "32 messages in 3 chats" in result.output


def test_plain_database_from_decrypt_and_private_output(workdir, qing):
    assert qing("decrypt", "nt_msg.db", "--key", KEY).exit_code == 0
    result = qing("export", "nt_msg.plain.db", "-o", "out/messages.jsonl")
    assert result.exit_code == 0, result.output
    out = workdir / "out" / "messages.jsonl"
    assert out.stat().st_mode & 0o777 == 0o600
    rows = load(out)
    assert len(rows) == 30 and all(r["chat"].startswith("c2c:") for r in rows)   # no groups by default
    assert rows[0]["sender_name"] == "王大锤"   # no profile: the name stored on the message


def test_me_overrides_detection(workdir, qing):
    result = qing("export", "nt_msg.db", "--key", KEY, "--me", WANG)
    assert result.exit_code == 0 and f"owner: {WANG} (--me)" in result.output
    m = {r["id"]: r for r in load(workdir / "messages.jsonl")}
    assert m[1]["is_me"] and m[2]["is_me"]  # sendType 1 is mine whatever --me says; WANG's own rows now too


def test_old_client_without_some_columns(tmp_path, qing):
    columns = {c: t for c, t in nb.MESSAGE_COLUMNS.items() if c not in (40013, 40090, 40093, 40900, 40850)}

    def fill(conn):
        nb.create_message_tables(conn, ["c2c_msg_table"], columns)
        rows = [nb.message_row(1, peer_uin=WANG, sender_uin=WANG, sent=False, when=5, elements=nb.body(nb.text("嗨"))),
                nb.message_row(2, peer_uin=WANG, sender_uin=OWNER, sent=True, when=6, elements=nb.body(nb.text("嗯")))]
        nb.insert_rows(conn, "c2c_msg_table", [{c: v for c, v in r.items() if c in columns} for r in rows])

    nb.write_encrypted(tmp_path / "old.db", KEY, fill)
    result = qing("export", tmp_path / "old.db", "--key", KEY, "-o", tmp_path / "m.jsonl")
    assert result.exit_code == 0, result.output
    rows = load(tmp_path / "m.jsonl")
    assert [(r["text"], r["is_me"]) for r in rows] == [("嗨", False), ("嗯", True)]


@pytest.mark.parametrize("args, message", [
    (["missing.db"], "does not exist"),
    (["nt_msg.db"], "is encrypted"),
    (["nt_msg.db", "--key", "wrong-key-000000"], "the key does not open"),
    (["nt_msg.db", "--key", KEY, "--tz", "Mars/Base"], "unknown time zone"),
    (["nt_msg.db", "--key", KEY, "--profile", "nt_msg.db"], "not a QQ NT profile_info.db"),
    (["profile_info.db", "--key", KEY], "not a QQ NT message database"),
])
def test_bad_input_is_one_sentence(workdir, qing, args, message):
    result = qing("export", *args)
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    assert KEY not in result.output
    assert not (workdir / "messages.jsonl").exists()
    assert not [p for p in workdir.iterdir() if p.name.startswith(".")]


def test_existing_output_needs_force(workdir, qing):
    (workdir / "messages.jsonl").write_text("old")
    assert "--force" in qing("export", "nt_msg.db", "--key", KEY).output
    assert (workdir / "messages.jsonl").read_text() == "old"
    assert qing("export", "nt_msg.db", "--key", KEY, "--force").exit_code == 0


def test_owner_not_detectable_asks_for_me(tmp_path, qing):
    db = tmp_path / "in.db"
    conn = sqlite3.connect(db)
    nb.create_message_tables(conn, ["c2c_msg_table"])
    nb.insert_rows(conn, "c2c_msg_table", [nb.message_row(1, peer_uin=WANG, sender_uin=WANG, sent=False, when=1,
                                                         elements=nb.body(nb.text("x")))])
    conn.commit()
    conn.close()
    result = qing("export", db, "-o", tmp_path / "m.jsonl")
    assert result.exit_code == 1 and "--me" in result.output


def test_parallel_export_equals_single_process(workdir, qing):
    from qing.sources.qqnt.export import export

    assert qing("decrypt", "nt_msg.db", "--key", KEY).exit_code == 0
    one = export(workdir / "nt_msg.plain.db", workdir / "one.jsonl", groups=True, workers=1)
    two = export(workdir / "nt_msg.plain.db", workdir / "two.jsonl", groups=True, workers=2)
    assert two.workers == 2 and (workdir / "one.jsonl").read_bytes() == (workdir / "two.jsonl").read_bytes()
    assert (workdir / "two.jsonl").stat().st_mode & 0o777 == 0o600
    assert (one.tally.kinds, one.tally.skipped, one.tally.problems, one.tally.chats, one.tally.rows) == \
           (two.tally.kinds, two.tally.skipped, two.tally.problems, two.tally.chats, two.tally.rows)
    assert not [p for p in workdir.iterdir() if p.name.startswith(".")]


def test_slices_cut_whole_chats_into_balanced_parts(workdir, qing):
    from qing.sources.qqnt.export import _connect, _slices

    assert qing("decrypt", "nt_msg.db", "--key", KEY).exit_code == 0
    conn = _connect(workdir / "nt_msg.plain.db")
    slices = _slices(conn, "c2c_msg_table", 2)
    counts = [conn.execute(f"SELECT count(*) FROM c2c_msg_table WHERE {w}", p).fetchone()[0] for w, p in slices]
    peers = [{r[0] for r in conn.execute(f'SELECT "40030" FROM c2c_msg_table WHERE {w}', p)} for w, p in slices]
    conn.close()
    assert len(slices) == 2 and all(counts) and sum(counts) == 33
    assert not peers[0] & peers[1]


# --- in Chinese ------------------------------------------------------------------

def test_export_says_its_errors_in_chinese(workdir, qing):
    result = qing("--lang", "zh", "export", "nt_msg.db", "--key", "not-the-key-1234", "-o", "m.jsonl")
    assert result.exit_code == 1 and "这个密钥用 HMAC_SHA1, HMAC_SHA512, HMAC_SHA256" in result.output
    assert qing("decrypt", "nt_msg.db", "--key", KEY).exit_code == 0
    conn = sqlite3.connect(workdir / "nt_msg.plain.db")
    conn.execute("DROP TABLE c2c_msg_table")
    conn.commit()
    conn.close()
    result = qing("export", "nt_msg.plain.db", "-o", "m.jsonl", env={"QING_LANG": "zh"})
    assert result.exit_code == 1 and "里没有 c2c_msg_table，所以它不是 QQ NT 的消息数据库" in result.output
    assert not (workdir / "m.jsonl").exists()


def test_every_cause_export_counts_has_its_words_in_chinese(exported):
    """Tally keeps its English keys; the summary shows each of them in the user's language."""
    from qing import i18n
    from qing.messages_zh import ZH
    from qing.sources.qqnt.export import cause, export

    tally = export(Path("nt_msg.db"), Path("again.jsonl"), key=KEY, groups=True).tally
    causes = set(tally.skipped) | set(tally.problems) | {"number body", "empty body", "no elements"}
    i18n.set_language("zh")
    shown = {key: cause(key) for key in causes}
    assert shown["unknown element type 99"] == "未知的元素类型 99"
    assert all(text in ZH.values() or text.startswith("未知的元素类型") for text in shown.values()), shown
    assert cause("a cause not known") == "a cause not known"
