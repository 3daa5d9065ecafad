"""Exports of other chat tools, invented, in the shapes those tools write (see shared/other-sources.md).

Each writer builds one file like a real export of that tool - the same layout, field names, key order and
quirks (listed in its docstring) - with made-up people, numbers and words. The tests in test_sources.py
assert what `qing export` must read from them; bench/check_real_samples.py runs the real exports.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

# --- WeClone CSV (the layout of WeClone / PyWxDump) -----------------------------------------------------

WECLONE_ROOM = "friend_qiu"
WECLONE_OWNER_WXID = "wxid_q7m2k9z0demo"
_WECLONE_HEADER = ["id", "MsgSvrID", "type_name", "is_sender", "talker", "room_name", "msg", "src", "CreateTime"]


def _hex(seed: str, n: int = 32) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def _image_src(seed: str) -> str:
    return f"File\\{_hex('account')}\\Image\\2024-05\\{_hex(seed)}.dat"  # a Windows path, backslashes


def _sticker_src(seed: str) -> str:
    return (f"http://emoji.example.invalid/110/20401/stodownload?m={_hex(seed)}&filekey={_hex(seed + 'k', 64)}"
            f"&hy=SH&storeid={_hex(seed + 's', 48)}&ef=1&bizid=1022")


def weclone_person_csv(folder: Path) -> Path:
    """A one-person chat as WeClone's own test data has it (PyWxDump's columns).

    Quirks: no BOM, LF line ends; room_name holds the person's id for every row; `id` skips numbers;
    MsgSvrID has 18 or 19 digits; CreateTime is Excel-mangled ("2024/5/6 9:05": one-digit month, day and
    hour, no seconds); the owner's talker is their wxid - and so is the talker of some of the other side's
    image rows (is_sender 0); media rows say a bare word (图片, 表情) with a path or URL in src; a 文本 row with
    an empty msg, one that looks like a number, one that is a bracketed emoji word; a multi-line quoted
    引用回复 ("reply\\n\\n[引用](time)name:quoted"); 系统通知 rows that are <revokemsg> recalls.
    """
    me, room = WECLONE_OWNER_WXID, WECLONE_ROOM
    rows = [  # id, MsgSvrID, type_name, is_sender, talker, msg, src, CreateTime
        (1, "5511223344556677881", "图片", 0, me, "图片", _image_src("a"), "2024/5/6 9:05"),
        (3, "612345678901234567", "图片", 0, me, "图片", _image_src("b"), "2024/5/6 9:05"),
        (4, "8800112233445566771", "文本", 1, me, "周末去爬山吗", "", "2024/5/6 9:06"),
        (5, "2200334455667788992", "文本", 0, room, "好呀 几点出发", "", "2024/5/6 9:06"),
        (6, "3300445566778899003", "文本", 0, room, "3.14159", "", "2024/5/6 9:07"),
        (7, "947362518009182736", "文本", 0, room, "", "", "2024/5/6 9:07"),
        (8, "4400556677889900114", "文本", 0, room, "[捂脸]", "", "2024/5/6 9:07"),
        (9, "1100220033004400555", "动画表情", 1, me, "表情", _sticker_src("c"), "2024/5/6 9:08"),
        (10, "6600778899001122336", "动画表情", 0, room, "表情", _sticker_src("d"), "2024/5/6 9:08"),
        (12, "7700889900112233447", "引用回复", 0, room,
         "我带水和面包\n\n[引用](2024-05-06 09:06:12)阿秋:周末去爬山吗", "", "2024/5/6 9:10"),
        (13, "1212343456567878909", "系统通知", 1, me, "<revokemsg>你撤回了一条消息</revokemsg>", "", "2024/5/6 9:11"),
        (14, "2900112233445566778", "文本", 1, me, "那八点山脚见", "", "2024/5/6 21:40"),
        (17, "863152740968574301", "图片", 0, room, "图片", _image_src("e"), "2024/6/12 20:01"),
        (18, "3434565678789090121", "动画表情", 1, me, "表情", _sticker_src("f"), "2024/6/12 20:02"),
        (20, "5656787890901212343", "系统通知", 1, me, "<revokemsg>你撤回了一条消息</revokemsg>", "",
         "2024/6/12 20:03"),
        (21, "7878909012123434565", "文本", 1, me, "发错了，是下周六", "", "2024/6/12 20:03"),
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")  # quotes only the fields that need it, as PyWxDump's does
    writer.writerow(_WECLONE_HEADER)
    for rid, svr, type_name, sender, talker, msg, src, when in rows:
        writer.writerow([rid, svr, type_name, sender, talker, room, msg, src, when])
    path = folder / "weclone_friend_qiu.csv"
    path.write_bytes(out.getvalue().encode("utf-8"))
    return path


# --- QQ Chat Exporter v5 JSON ------------------------------------------------------------------------------

_QCE_PEOPLE = {  # uid -> sender object as v5 writes it (a member without a group card has no groupCard)
    "u_mei": {"uid": "u_mei", "uin": "40404", "name": "Mei (组长)", "nickname": "Mei", "groupCard": "Mei (组长)"},
    "u_tao": {"uid": "u_tao", "uin": "50505", "name": "Tao (摄影)", "nickname": "Tao", "groupCard": "Tao (摄影)"},
    "u_lin": {"uid": "u_lin", "uin": "60606", "name": "Lin", "nickname": "Lin"},
}
QCE_T0 = 1717236000  # 2024-06-01T10:00:00Z


def _qce_message(seq: int, seconds: int, uid: str, nt_type: int, text: str, extra: list[dict],
                 resources: list[dict] = (), mentions: list[dict] = ()) -> dict:
    when = QCE_T0 + seconds
    local = f"2024-06-01 {18 + seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"  # UTC+8
    return {"seq": str(seq), "timestamp": when * 1000, "time": local, "sender": dict(_QCE_PEOPLE[uid]),
            "type": f"type_{nt_type}",
            "content": {"text": text, "html": "", "elements": [{"type": "text", "data": {"text": text}}, *extra],
                        "resources": list(resources), "mentions": list(mentions)},
            "recalled": False, "system": False}


def qce_v5_group(folder: Path) -> Path:
    """A group chat as QQ Chat Exporter V5's JsonExporter writes it, without the owner's fields.

    Quirks: chatInfo has no selfUid / selfUin / peerUin (so the owner needs --me) and the chat no number;
    messages have no `id`, only `seq`; `type` is "type_<NT number>"; `time` is the exporting PC's local time
    (8 hours off here: only the `timestamp` in ms is right); elements are not in message order - one text
    element with the whole rendered text first, then the face / image / at / file / reply / audio element;
    content.text carries v5's placeholders: a face as [[微笑]], "[图片: name]", "[文件: name]",
    "[语音 12秒]", and a reply as a "[回复 name: quoted]\\n" prefix whose element points at "m_1", an id
    that is not a number; 2-space indent, statistics and exportOptions around the messages.
    """
    reply = {"messageId": "m_1", "referencedMessageId": "m_1", "senderUin": "40404", "senderName": "Mei (组长)",
             "timestamp": QCE_T0, "content": "这周读到第几章了？"}
    image = {"filename": "page12.jpg", "size": 2048, "url": "https://multimedia.example.invalid/page12.jpg"}
    file = {"filename": "notes.pdf", "size": 40960, "url": ""}
    audio = {"filename": "voice_01.silk", "size": 9000, "url": ""}
    messages = [
        _qce_message(2001, 0, "u_mei", 1, "这周读到第几章了？", []),
        _qce_message(2002, 75, "u_tao", 1, "第三章 [[微笑]]",
                     [{"type": "face", "data": {"id": "178", "name": "[微笑]"}}]),
        _qce_message(2003, 80, "u_tao", 1, "[图片: page12.jpg]", [{"type": "image", "data": image}],
                     [{"type": "image", **image}]),
        _qce_message(2004, 140, "u_lin", 1, "@Mei 我把笔记发群里了",
                     [{"type": "at", "data": {"uid": "u_mei", "name": "Mei"}}],
                     mentions=[{"uid": "u_mei", "name": "Mei", "type": "user"}]),
        _qce_message(2005, 150, "u_lin", 8, "[文件: notes.pdf]", [{"type": "file", "data": file}],
                     [{"type": "file", **file}]),
        _qce_message(2006, 200, "u_mei", 3, "[回复 Mei (组长): 这周读到第几章了？]\n那下周读第四章",
                     [{"type": "reply", "data": reply}]),
        _qce_message(2007, 260, "u_mei", 6, "[语音 12秒]", [{"type": "audio", "data": audio}],
                     [{"type": "audio", **audio}]),
    ]
    export = {
        "metadata": {"name": "QQChatExporter V5 / https://example.invalid/qq-chat-exporter",
                     "copyright": "（导出工具的声明）"},
        "chatInfo": {"name": "周末读书会", "type": "group", "participantCount": 5},
        "statistics": {
            "totalMessages": len(messages),
            "timeRange": {"start": "2024-06-01T10:00:00.000Z", "end": "2024-06-01T10:04:20.000Z", "durationDays": 1},
            "messageTypes": {"text": 4, "file": 1, "reply": 1, "audio": 1},
            "senders": [{"uid": "u_mei", "name": "Mei (组长)", "messageCount": 3, "percentage": 42.86},
                        {"uid": "u_tao", "name": "Tao (摄影)", "messageCount": 2, "percentage": 28.57},
                        {"uid": "u_lin", "name": "Lin", "messageCount": 2, "percentage": 28.57}],
            "resources": {"total": 3, "byType": {"image": 1, "file": 1, "audio": 1}, "totalSize": 51008}},
        "messages": messages,
        "exportOptions": {"includedFields": ["id", "timestamp", "sender", "content", "resources"], "filters": {},
                          "options": {"includeResourceLinks": True, "includeSystemMessages": True,
                                      "preferGroupMemberName": True, "timeFormat": "YYYY-MM-DD HH:mm:ss",
                                      "encoding": "utf-8"}},
    }
    path = folder / "qce_v5_group.json"
    path.write_text(json.dumps(export, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


# --- Telegram Desktop result.json --------------------------------------------------------------------------

def _tg_message(mid: int, unixtime: int, sender: str, from_id: str, text) -> dict:
    local = datetime.fromtimestamp(unixtime, timezone(timedelta(hours=-5))).strftime("%Y-%m-%dT%H:%M:%S")
    parts = [text] if isinstance(text, str) else text
    entities = [{"type": "plain", "text": p} if isinstance(p, str) else p for p in parts]
    return {"id": mid, "type": "message", "date": local, "date_unixtime": str(unixtime), "from": sender,
            "from_id": from_id, "text": text, "text_entities": entities}


TG_PEER, TG_ME = ("Rosalind Quill", "user111220001"), ("Tom & Jerry Fans", "user8080808080")
TG_T0 = 1684056600  # 2023-05-14T09:30:00Z


def _tg_chat(extra: bool) -> dict:
    messages = [
        _tg_message(1, TG_T0, *TG_PEER, "are you ignoring me again"),
        _tg_message(2, TG_T0 + 95, *TG_ME, "Only on Sundays"),
        _tg_message(3, TG_T0 + 260, *TG_PEER, "it is Sunday"),
        _tg_message(4, TG_T0 + 271, *TG_PEER, "so that explains it"),
    ]
    if extra:
        messages += [
            _tg_message(5, TG_T0 + 300, *TG_ME, ["remember this: ", {"type": "bold", "text": "NOT TODAY"}]),
            _tg_message(6, TG_T0 + 333, *TG_PEER, ["write to me at: ", {"type": "email", "text": "quill@example.org"}]),
        ]
    # the top-level id is the chat's, anonymised: it is neither sender's from_id, so the owner needs --me
    return {"name": "Rosalind", "type": "personal_chat", "id": 7040030001, "messages": messages}


def telegram_chat(folder: Path) -> Path:
    """A one-chat export of today's Telegram Desktop: 1-space indent, no newline at the end; `date` in local
    time (UTC-5 here) next to `date_unixtime` (a string); from_id "user<n>"; text a string with text_entities;
    a sender name with "&"; the chat id anonymised (no sender's), so the owner needs --me."""
    path = folder / "telegram_result.json"
    path.write_text(json.dumps(_tg_chat(extra=False), ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def telegram_chat_with_entities(folder: Path) -> Path:
    """telegram_chat with two more messages whose `text` is a list mixing strings and entity objects (bold,
    email), as Telegram writes formatted text; this one ends in a newline."""
    path = folder / "telegram_result_entities.json"
    path.write_text(json.dumps(_tg_chat(extra=True), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


TG_LEGACY_MOJIBAKE = "🎈".encode("utf-8").decode("cp1252")  # an emoji saved as UTF-8, read back as cp1252


def telegram_legacy_chat(folder: Path) -> Path:
    """A one-chat export from before tdesktop 2.7.2: from_id a bare integer, no date_unixtime (only `date`,
    local time without an offset), no text_entities, 4-space indent; names carry mojibake as such exports
    do; the chat id is no sender's."""
    mojibake = TG_LEGACY_MOJIBAKE
    export = {"name": f"Petra {mojibake}", "type": "personal_chat", "id": 3141592653, "messages": [
        {"id": 880001, "type": "message", "date": "2021-01-01T00:00:07", "from": "Otto", "from_id": 5550001111,
         "text": "Happy new year!"},
        {"id": 880002, "type": "message", "date": "2021-01-01T00:00:09", "from": "Otto", "from_id": 5550001111,
         "text": "First message of 2021"},
        {"id": 880003, "type": "message", "date": "2021-01-01T00:01:30", "from": f"Petra {mojibake} {mojibake}",
         "from_id": 6660002222, "text": "You beat me to it"},
    ]}
    path = folder / "telegram_legacy.json"
    path.write_text(json.dumps(export, ensure_ascii=False, indent=4) + "\n", encoding="utf-8")
    return path
