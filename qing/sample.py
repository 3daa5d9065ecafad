"""The built-in sample: an encrypted QQ NT database of invented chats, its profile database and its key.

Deterministic (same seed, same bytes of chat): a few hundred messages between an invented owner,
小晴, and four invented friends over a week, with faces, market faces, replies, pictures, voice
transcripts, a recall, bursts seconds apart and gaps of hours and days, and planted fake personal
data that `qing clean` must redact. No real people, no real numbers. Used by `qing demo` and tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from qing import ntbuild as nb

KEY = "qing-demo-key-01"  # 16 characters, like a desktop client's key
OWNER = (10001, "u_owner", "小晴")
FRIENDS = [  # (uin, uid, nickname, the owner's remark)
    (20001, "u_ajie", "阿杰", "阿杰同学"),
    (20002, "u_muzi", "木子", ""),
    (20003, "u_laoban", "老板", "实习老板"),
    (20004, "u_mom", "妈妈", "老妈"),
]
START = 1_717_200_000  # 2024-06-01 08:00 Asia/Shanghai
# planted personal data: a clean dataset holds none of it (the ID and bank numbers carry valid check digits)
PLANTED = {"phone": "13800138000", "email": "xiaoqing.demo@example.com", "id_card": "11010519491231002X",
           "bank_card": "6222021234567890128", "qq": "87654321"}

# (friend's line, owner's replies): the owner's style is short, playful, with faces and ~
EXCHANGES = [
    ("在吗", ["在的~", "咋啦"]),
    ("今天吃什么", ["火锅！！", "我都行，你定吧~"]),
    ("周末去爬山吗？", ["下雨了吧……", "改天吧[捂脸]"]),
    ("作业写完了没", ["还没呢救命", "今晚通宵[捂脸]"]),
    ("明天几点上课", ["八点！早八[流泪]"]),
    ("看到群里那个视频没", ["哈哈哈哈哈哈哈", "笑死我了"]),
    ("你最近在忙啥", ["实习+论文，头秃", "不过还行~"]),
    ("晚安", ["晚安~", "明天见"]),
    ("电影票买好了", ["好耶！", "几点的场？"]),
    ("奶茶喝吗", ["喝！！三分糖", "谢谢老板~"]),
    ("考试怎么样", ["感觉要寄[流泪]", "听天由命吧"]),
    ("下班了吗", ["刚出门", "地铁上了~"]),
]
FACES = [(14, "微笑"), (264, "捂脸"), (5, "流泪"), (178, "斜眼笑")]


@dataclass
class Sample:
    msg_db: Path
    profile_db: Path
    key: str
    owner_uin: int
    messages: int


def _dialogue(rng: random.Random, day_start: int, friend: tuple, first_id: int) -> list[dict]:
    """One conversation: bursts a few seconds apart, the friend opens, the owner answers in her style."""
    uin = friend[0]
    rows, when, msg_id = [], day_start + rng.randint(0, 12) * 3600, first_id
    for line, answers in rng.sample(EXCHANGES, rng.randint(2, 4)):
        when += rng.randint(30, 400)
        rows.append(nb.message_row(msg_id, peer_uin=uin, sender_uin=uin, sent=False, when=when,
                                   elements=nb.body(nb.text(line)), nickname=friend[2], peer_uid=friend[1],
                                   sender_uid=friend[1]))
        msg_id += 1
        for answer in answers:
            when += rng.randint(3, 40)
            parts = [nb.text(answer)]
            if rng.random() < 0.25:
                parts.append(nb.face(*rng.choice(FACES)))
            rows.append(nb.message_row(msg_id, peer_uin=uin, sender_uin=OWNER[0], sent=True, when=when,
                                       elements=nb.body(*parts), peer_uid=friend[1], sender_uid=OWNER[1]))
            msg_id += 1
    return rows


def _specials(first_id: int) -> list[dict]:
    """One of every kind the pipeline must handle, and the planted personal data."""
    ajie, muzi, boss, mom = FRIENDS
    t = START + 6 * 86400

    def row(offset, friend, sent, *elements, **kw):
        uin, uid = friend[0], friend[1]
        return nb.message_row(first_id + offset, peer_uin=uin, sender_uin=OWNER[0] if sent else uin, sent=sent,
                              when=t + offset * 20, elements=nb.body(*elements) if elements else None,
                              peer_uid=uid, sender_uid=OWNER[1] if sent else uid, **kw)

    p = PLANTED
    return [
        row(0, mom, False, nb.text("你新手机号多少？")),
        row(1, mom, True, nb.text(f"{p['phone']}，存一下~")),
        row(2, mom, False, nb.text("办卡要身份证号")),
        row(3, mom, True, nb.text(f"{p['id_card']} 妈你别发给别人哈")),
        row(4, mom, False, nb.text("工资卡号也发我")),
        row(5, mom, True, nb.text(f"卡号{p['bank_card']}")),
        row(6, boss, False, nb.text("简历发我邮箱")),
        row(7, boss, True, nb.text(f"好的，我的邮箱是 {p['email']}")),
        row(8, boss, False, nb.text("加我小号")),
        row(9, boss, True, nb.text(f"我QQ号是{p['qq']}")),
        row(10, ajie, False, nb.picture()),
        row(11, ajie, False, nb.text("看这个")),
        row(12, ajie, True, nb.market_face("[贴贴]")),
        row(13, ajie, True, nb.reply(first_id % 1000000 + 11, ajie[0], t + 220, first_id + 11, "看这个"),
            nb.text("这是哪儿？好好看")),
        row(14, muzi, False, nb.voice("明天早上八点图书馆见")),
        row(15, muzi, True, nb.text("收到~")),
        row(16, muzi, False, nb.recall_tip(muzi[1], muzi[2]), msg_type=5),
        row(17, muzi, False, nb.text("刚刚发错了[捂脸]")),
        row(18, muzi, True, nb.text("哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈")),
    ]


def build(directory: Path, seed: int = 7) -> Sample:
    """Write nt_msg.db and profile_info.db (both encrypted with KEY) into DIRECTORY."""
    rng = random.Random(seed)
    nb.restart_element_ids()
    rows, msg_id = [], 7_000_000_000_000_000_001
    for day in range(6):
        for friend in FRIENDS:
            for _ in range(rng.randint(1, 3)):
                convo = _dialogue(rng, START + day * 86400, friend, msg_id)
                rows += convo
                msg_id += len(convo)
    rows += _specials(msg_id)
    rows.sort(key=lambda r: r[40050])
    directory.mkdir(parents=True, exist_ok=True)
    msg_db, profile_db = directory / "nt_msg.db", directory / "profile_info.db"

    def fill(conn):
        nb.create_message_tables(conn)
        nb.insert_rows(conn, "c2c_msg_table", rows)

    nb.write_encrypted(msg_db, KEY, fill)
    people = [(uid, uin, nick, remark) for uin, uid, nick, remark in FRIENDS] + [(OWNER[1], OWNER[0], OWNER[2], "")]
    nb.write_encrypted(profile_db, KEY, lambda conn: nb.create_profile_tables(conn, people))
    return Sample(msg_db, profile_db, KEY, OWNER[0], len(rows))
