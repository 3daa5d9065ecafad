"""Fixtures: encrypted QQ NT databases built from shared/qq-nt-format.md by qing.ntbuild.

Nothing here is real chat data: invented people, invented numbers.
"""

from __future__ import annotations

import os
from pathlib import Path

# torch's OpenMP threads spin-wait on each other: on a 2-core box with anything else running, tiny models
# train 30x slower with 2 threads than with 1. Set before torch is imported (subprocesses inherit it).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["QING_LANG"] = "en"  # the tests read English messages whatever this machine's locale (test_i18n: both)

import pytest  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from qing.cli import app
from qing.fixtures import qqnt_db as nb

KEY = "#8xK'q\"2Lm9pZ@uJ"  # 16 printable ASCII characters, quotes included on purpose
OWNER, WANG, LI, GROUP = 10001, 20002, 20003, 7770001
T0 = 1_700_000_000
LONG_TEXT = "今天下午我们去图书馆复习吧，顺便把上周的笔记整理一下，考试范围好像又改了，" * 3  # > 127 bytes


def c2c(msg_id, peer, sent, when, elements, **kw):
    return nb.message_row(msg_id, peer_uin=peer, sender_uin=OWNER if sent else peer, sent=sent,
                          when=T0 + when, elements=elements, **kw)


def c2c_rows():
    """Every element type, replies, recalls, faces with and without text, malformed rows."""
    b = nb.body
    return [
        c2c(1, WANG, False, 0, b(nb.text("在吗")), nickname="王大锤"),
        c2c(2, WANG, True, 10, b(nb.text("在的"), nb.face(14, "微笑"))),
        c2c(3, WANG, False, 20, b(nb.face(14))),                  # face without text: from the table
        c2c(4, WANG, False, 30, b(nb.face(9999))),                # unknown face index
        c2c(5, WANG, True, 40, b(nb.picture())),
        c2c(6, WANG, True, 50, b(nb.picture(animated=True))),
        c2c(7, WANG, False, 60, b(nb.file())),
        c2c(8, WANG, False, 70, b(nb.voice("明天见"))),
        c2c(9, WANG, False, 80, b(nb.voice(""))),
        c2c(10, WANG, True, 90, b(nb.video())),
        c2c(11, WANG, True, 100, b(nb.reply(2, OWNER, T0 + 10, 2, "在的"), nb.text("对，就是这个"))),
        c2c(12, WANG, False, 110, b(nb.reply(5, OWNER, T0 + 40, None), nb.text("按序号引用")), seq=5012),
        c2c(13, WANG, False, 120, b(nb.reply(424242, OWNER, T0, None), nb.text("引用找不到"))),
        c2c(14, WANG, False, 130, b(nb.recall_tip()), msg_type=5),
        c2c(15, WANG, False, 140, b(nb.grey_tip(17)), msg_type=5),
        c2c(16, WANG, False, 150, b(nb.redpacket())),
        c2c(17, WANG, True, 160, b(nb.ark())),
        c2c(18, WANG, True, 170, b(nb.ark("com.tencent.multimsg"))),
        c2c(19, WANG, False, 180, b(nb.market_face("[贴贴]"))),
        c2c(20, WANG, True, 190, b(nb.markdown("**重点**"))),
        c2c(21, WANG, False, 200, b(nb.forward_xml())),
        c2c(22, WANG, False, 210, b(nb.call())),
        c2c(23, WANG, True, 220, b(nb.text("前"), nb.unknown_element(99), nb.text("后"))),
        c2c(24, WANG, False, 230, b(nb.unknown_element(77))),
        c2c(25, WANG, True, 240, None),                                   # NULL body
        c2c(26, WANG, True, 250, bytes([0x80, 0xf6, 0x13, 5])),           # a varint where the element should be
        c2c(27, WANG, True, 260, b"\x82\xf6\x13\x7f\x01"),                # length runs past the end
        c2c(28, WANG, True, 270, b(nb.text(LONG_TEXT))),
        c2c(29, WANG, False, 280, b(nb.mention("小李", "u_li"), nb.text(" 看这里"))),
        c2c(30, LI, False, 5, b(nb.text("你好呀")), nickname="李四"),
        c2c(31, LI, True, 15, b(nb.text("你好"))),
    ]


def group_rows():
    def g(msg_id, sender, when, elements, seq, card=""):
        return nb.message_row(msg_id, peer_uin=GROUP, sender_uin=sender, sent=sender == OWNER, when=T0 + when,
                              elements=elements, seq=seq, chat_type=2, card=card, nickname="nick")
    return [
        g(101, LI, 0, nb.body(nb.text("群里有人吗")), 1, card="李同学"),
        g(102, OWNER, 5, nb.body(nb.reply(1, LI, T0, None), nb.text("有")), 2),
    ]


def wal_rows():
    return [c2c(40, LI, False, 1000, nb.body(nb.text("这条只在 WAL 里"))),
            c2c(41, LI, True, 1001, nb.body(nb.text("这条也是")))]


def build_msg_db(path: Path, hmac="HMAC_SHA1", header=True, header_hmac="same", with_wal=True, key=KEY):
    def fill(conn):
        nb.create_message_tables(conn)
        nb.insert_rows(conn, "c2c_msg_table", c2c_rows())
        nb.insert_rows(conn, "group_msg_table", group_rows())

    def wal_fill(conn):
        nb.insert_rows(conn, "c2c_msg_table", wal_rows())

    nb.write_encrypted(path, key, fill, hmac=hmac, header=header, header_hmac=header_hmac,
                       wal_fill=wal_fill if with_wal else None)
    return path


def build_profile_db(path: Path, key=KEY):
    nb.write_encrypted(path, key, lambda c: nb.create_profile_tables(
        c, [("u_wang", WANG, "王大锤", "小王"), ("u_li", LI, "李四", ""), ("u_me", OWNER, "我自己", "")]))
    return path


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """One encrypted nt_msg.db (+ -wal) and profile_info.db for the whole session; copy before use."""
    root = tmp_path_factory.mktemp("built")
    build_msg_db(root / "nt_msg.db")
    build_profile_db(root / "profile_info.db")
    return root


@pytest.fixture(autouse=True)
def clean_environment():
    """No QING_* from outside (but QING_LANG=en), and none left behind by a .env a test loaded; English again."""
    from qing import i18n

    saved = dict(os.environ)
    for var in [v for v in os.environ if v.startswith("QING_")]:
        del os.environ[var]
    os.environ["QING_LANG"] = "en"
    yield
    os.environ.clear()
    os.environ.update(saved)
    i18n.set_language("en")


@pytest.fixture
def workdir(tmp_path, monkeypatch, built) -> Path:
    """A fresh current directory holding copies of the built databases."""
    for name in ("nt_msg.db", "nt_msg.db-wal", "profile_info.db"):
        (tmp_path / name).write_bytes((built / name).read_bytes())
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def qing():
    runner = CliRunner()

    def invoke(*args, env=None, input=None):
        return runner.invoke(app, [str(a) for a in args], env=env, input=input, catch_exceptions=False)

    return invoke


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random Qwen3 with a trained byte-level BPE tokenizer and ChatML template (qing.tinymodel)."""
    from qing.fixtures import tiny_model as tinymodel

    return tinymodel.build(tmp_path_factory.mktemp("models") / "tiny-qwen3")
