"""Other tools' exports through `qing export`: invented exports in those tools' shapes, edge cases, round trip.

The exports of tests/other_exports.py have the layout and quirks of real ones; bench/check_real_samples.py
runs the real samples (other projects' files, kept out of this repository).
"""

import json
from pathlib import Path

import other_exports as exports
import pytest
from conftest import KEY

HEADER = "id,MsgSvrID,type_name,is_sender,talker,room_name,msg,src,CreateTime"


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_weclone_person_export_reads_as_the_person_wrote_it(tmp_path, qing):
    result = qing("export", exports.weclone_person_csv(tmp_path), "-o", tmp_path / "m.jsonl")
    assert result.exit_code == 0, result.output
    assert "chat wechat:friend_qiu: 16 messages, 7 yours" in result.output
    rows = load(tmp_path / "m.jsonl")
    assert [(r["kind"], r["text"], r["is_me"]) for r in rows] == [
        ("image", "[图片]", False), ("image", "[图片]", False),  # their talker is the owner's wxid: is_sender counts
        ("text", "周末去爬山吗", True), ("text", "好呀 几点出发", False),
        ("text", "3.14159", False), ("text", "", False), ("text", "[捂脸]", False),  # text stays text, even empty
        ("sticker", "[动画表情]", True), ("sticker", "[动画表情]", False),  # the file says "表情"
        ("text", "我带水和面包", False),  # the quoted part is split off
        ("recall", "[撤回了一条消息]", True), ("text", "那八点山脚见", True),
        ("image", "[图片]", False), ("sticker", "[动画表情]", True), ("recall", "[撤回了一条消息]", True),
        ("text", "发错了，是下周六", True)]
    assert [r["id"] for r in rows[:3]] == [5511223344556677881, 612345678901234567, 8800112233445566771]
    assert all(isinstance(r["id"], int) for r in rows)
    # 2024/5/6 9:05, 21:40 and 2024/6/12 20:03 in Asia/Shanghai, the default --tz
    assert (rows[0]["time"], rows[11]["time"], rows[15]["time"]) == (1714957500, 1715002800, 1718193780)
    assert {(r["chat"], r["peer"]) for r in rows} == {("wechat:friend_qiu", "friend_qiu")}
    assert rows[3]["sender_name"] == "friend_qiu"
    assert all(r["sender_name"] is None for r in rows if r["is_me"])  # its talker there is a wxid


def test_bom_crlf_multiline_and_no_room_name(tmp_path, qing):
    csv_text = ("\ufeffid,MsgSvrID,type_name,is_sender,talker,msg,src,CreateTime\r\n"
                '1,11,文本,0,阿花,"第一行\r\n第二行",,2024-01-02 03:04:05\r\n'
                "2,12,语音,1,我,语音,,2024/1/2 3:05\r\n"
                "3,13,用户上传的GIF表情,1,我,,,2024-01-02 03:06:00\r\n")
    (tmp_path / "阿花.csv").write_bytes(csv_text.encode("utf-8"))
    result = qing("export", tmp_path / "阿花.csv", "-o", tmp_path / "m.jsonl", "--tz", "UTC")
    assert result.exit_code == 0, result.output
    rows = load(tmp_path / "m.jsonl")
    assert [(r["chat"], r["kind"], r["text"], r["is_me"]) for r in rows] == [
        ("wechat:阿花", "text", "第一行\r\n第二行", False), ("wechat:阿花", "voice", "[语音]", True),
        ("wechat:阿花", "sticker", "[动画表情]", True)]
    assert rows[0]["time"] == 1704164645 and rows[1]["time"] == 1704164700


def test_rows_out_of_order_are_sorted_by_chat_then_time(tmp_path, qing):
    lines = [HEADER, "1,1,文本,0,a,roomA,晚,,2024-01-01 10:00:00", "2,2,文本,0,b,roomB,早,,2024-01-01 08:00:00",
             "3,3,文本,1,me,roomA,早,,2024-01-01 09:00:00"]
    (tmp_path / "x.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert qing("export", tmp_path / "x.csv", "-o", tmp_path / "m.jsonl").exit_code == 0
    assert [(r["chat"], r["id"]) for r in load(tmp_path / "m.jsonl")] == [
        ("wechat:roomA", 3), ("wechat:roomA", 1), ("wechat:roomB", 2)]


def test_our_csv_reads_back_as_the_same_messages(workdir, qing):
    assert qing("export", "nt_msg.db", "--key", KEY, "--groups", "-o", "m.jsonl").exit_code == 0
    assert qing("export", "nt_msg.db", "--key", KEY, "--groups", "--format", "csv", "-o", "csv").exit_code == 0
    result = qing("export", "csv", "-o", "back.jsonl")
    assert result.exit_code == 0, result.output
    fields = ("id", "chat", "peer", "is_me", "time", "kind", "text")
    original = [tuple(r[f] for f in fields) for r in load(workdir / "m.jsonl")]
    # a voice with a transcript is written as the text it is (WeClone keeps text and cuts at voice)
    original = [r[:5] + ("text",) + r[6:] if r[5] == "voice" and r[6] != "[语音]" else r for r in original]
    assert [tuple(r[f] for f in fields) for r in load(workdir / "back.jsonl")] == original


def test_a_single_csv_of_older_versions_still_reads(tmp_path, qing):
    lines = [HEADER, "1,7,文本,0,小王,c2c:20002,在吗,,2024-01-01 10:00:00",
             "2,9,文本,1,10001,group:5,有,,2024-01-01 10:00:05"]
    (tmp_path / "messages.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    assert qing("export", tmp_path / "messages.csv", "-o", tmp_path / "m.jsonl", "--tz", "UTC").exit_code == 0
    assert [(r["chat"], r["peer"], r["id"]) for r in load(tmp_path / "m.jsonl")] == [
        ("c2c:20002", 20002, 7), ("group:5", 5, 9)]


@pytest.mark.parametrize("content, args, message", [
    ("id,msg\n1,hi\n", ["--from", "weclone-csv"], "lacks the WeClone CSV column(s) CreateTime, MsgSvrID"),
    ("just some notes\n", [], "is not an export qing can read"),
    (HEADER + "\n", [], "holds no messages"),
    (HEADER + "\n1,1,文本,0,a,r,hi,,yesterday\n", [], "CreateTime 'yesterday' is not a date"),
    (HEADER + "\n", ["--from", "telegram"], "is not complete JSON"),
])
def test_bad_other_input(tmp_path, qing, content, args, message):
    (tmp_path / "in.csv").write_text(content, encoding="utf-8")
    result = qing("export", tmp_path / "in.csv", "-o", tmp_path / "m.jsonl", *args)
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "m.jsonl").exists()


# --- QQ Chat Exporter ----------------------------------------------------------------

def qce_file(tmp_path: Path, messages, chat_info=None, name="qce.json") -> Path:
    data = {"metadata": {"name": "QQChatExporter V5 / test", "copyright": ""},
            "chatInfo": chat_info or {"name": "小王", "type": "private", "selfUid": "u_me", "selfUin": "10001"},
            "statistics": {"totalMessages": len(messages)}, "messages": messages}
    (tmp_path / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return tmp_path / name


def c6(mid, ts, uid, uin, elements, **extra):
    return {"id": str(mid), "seq": str(mid), "timestamp": ts * 1000, "time": "2024-01-01T00:00:00.000Z",
            "sender": {"uid": uid, "uin": uin, "name": "名" + uid}, "type": extra.pop("type", "text"),
            "content": {"text": "ignored in v6", "elements": elements}, "recalled": False, "system": False, **extra}


def test_qce_v5_group_without_self_fields_needs_me_then_reads(tmp_path, qing):
    export = exports.qce_v5_group(tmp_path)
    refused = qing("export", export, "-o", tmp_path / "m.jsonl")
    assert refused.exit_code == 1 and "senders: Mei (40404) 3, Tao (50505) 2, Lin (60606) 2." in refused.output
    assert "--me" in refused.output and not (tmp_path / "m.jsonl").exists()
    result = qing("export", export, "-o", tmp_path / "m.jsonl", "--me", "50505")
    assert result.exit_code == 0, result.output
    assert "chat qce:group:周末读书会: 7 messages, 2 yours" in result.output
    rows = load(tmp_path / "m.jsonl")
    assert [(r["id"], r["kind"], r["text"], r["is_me"]) for r in rows] == [  # ids from seq: there is no id
        (2001, "text", "这周读到第几章了？", False), (2002, "text", "第三章 [微笑]", True),
        (2003, "image", "[图片]", True), (2004, "text", "@Mei 我把笔记发群里了", False),
        (2005, "file", "[文件]", False), (2006, "text", "那下周读第四章", False), (2007, "voice", "[语音]", False)]
    # from `timestamp` (ms), not from `time`, which is 8 hours off
    assert [r["time"] - exports.QCE_T0 for r in rows] == [0, 75, 80, 140, 150, 200, 260]
    assert [r["reply_to"] for r in rows] == [None] * 5 + ["m_1", None]
    assert {(r["chat"], r["peer"]) for r in rows} == {("qce:group:周末读书会", "周末读书会")}
    assert [(r["sender"], r["sender_name"]) for r in rows[2:4]] == [(50505, "Tao"), (60606, "Lin")]


def test_qce_v6_elements_in_order_system_rows_and_recalls(tmp_path, qing):
    path = qce_file(tmp_path, [
        c6(1, 100, "u_peer", "20002", [{"type": "text", "data": {"text": "你好"}},
                                       {"type": "face", "data": {"id": "14", "name": "/微笑"}},
                                       {"type": "at", "data": {"name": "阿青"}}]),
        c6(2, 110, "u_me", "10001", [{"type": "reply", "data": {"referencedMessageId": "1"}},
                                     {"type": "text", "data": {"text": "收到"}}], type="reply"),
        c6(3, 120, "u_me", "10001", [{"type": "image", "data": {"filename": "a.gif", "subType": "sticker"}}]),
        c6(4, 130, "u_peer", "20002", [{"type": "market_face", "data": {"name": "[贴贴]"}}]),
        c6(5, 140, "未知", "", [{"type": "system", "data": {"text": "你撤回了一条消息"}}], type="system"),
        c6(6, 150, "u_peer", "20002", [{"type": "text", "data": {"text": "说错了"}}], recalled=True),
    ], {"name": "小王", "type": "private", "selfUid": "u_me", "peerUid": "u_peer", "peerUin": "20002"})
    result = qing("export", path, "-o", tmp_path / "m.jsonl")
    assert result.exit_code == 0, result.output
    rows = load(tmp_path / "m.jsonl")
    assert [(r["id"], r["kind"], r["text"], r["is_me"], r["reply_to"]) for r in rows] == [
        (1, "text", "你好[微笑]@阿青", False, None), (2, "text", "收到", True, 1),
        (3, "sticker", "[动画表情]", True, None), (4, "sticker", "[贴贴]", False, None),
        (5, "system", "你撤回了一条消息", False, None), (6, "recall", "[撤回了一条消息]", False, None)]
    assert {r["chat"] for r in rows} == {"qce:c2c:20002"} and rows[0]["time"] == 100


def test_qce_chunked_folder_follows_the_manifest(tmp_path, qing):
    folder = tmp_path / "chat_chunked_jsonl"
    (folder / "chunks").mkdir(parents=True)
    chunks = [[c6(1, 100, "u_peer", "20002", [{"type": "text", "data": {"text": "一"}}])],
              [c6(2, 110, "u_me", "10001", [{"type": "text", "data": {"text": "二"}}]),
               c6(3, 120, "u_peer", "20002", [{"type": "text", "data": {"text": "三"}}])]]
    entries = []
    for i, chunk in enumerate(chunks, 1):
        name = f"c{i:06d}.jsonl"
        (folder / "chunks" / name).write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in chunk))
        entries.append({"index": i, "fileName": name, "relativePath": f"chunks/{name}", "count": len(chunk)})
    (folder / "manifest.json").write_text(json.dumps({
        "metadata": {"name": "QQChatExporter"}, "chatInfo": {"name": "小王", "type": "private", "selfUin": "10001"},
        "chunked": {"format": "jsonl", "chunks": entries}}))
    result = qing("export", folder, "-o", tmp_path / "m.jsonl")
    assert result.exit_code == 0, result.output
    assert [(r["text"], r["is_me"]) for r in load(tmp_path / "m.jsonl")] == [("一", False), ("二", True), ("三", False)]
    (folder / "chunks" / "c000002.jsonl").unlink()
    missing = qing("export", folder, "-o", tmp_path / "n.jsonl")
    assert missing.exit_code == 1 and "is missing" in missing.output


def test_qce_shape_p_private_chat_owner_is_not_the_peer(tmp_path, qing):
    def p(mid, iso, uid, uin, text):
        return {"messageId": str(mid), "messageSeq": str(mid), "timestamp": iso,
                "sender": {"uid": uid, "uin": uin, "name": uid}, "messageType": 2, "isSystemMessage": False,
                "isRecalled": False, "content": {"text": text, "resources": [], "emojis": []},
                "rawMessage": {"msgTime": "0", "peerUid": "u_peer"}}
    path = qce_file(tmp_path, [p(1, "2024-01-01T00:00:10.000Z", "u_peer", "20002", "在吗[/微笑]"),
                               p(2, "2024-01-01T00:00:20.000Z", "u_me", "10001", "在[图片: a.png]")],
                    {"name": "小王", "type": "private"})
    result = qing("export", path, "-o", tmp_path / "m.jsonl")
    assert result.exit_code == 0, result.output
    assert [(r["text"], r["is_me"], r["time"]) for r in load(tmp_path / "m.jsonl")] == [
        ("在吗[微笑]", False, 1704067210), ("在[图片]", True, 1704067220)]


def test_qce_truncated_json_names_the_position(tmp_path, qing):
    path = qce_file(tmp_path, [c6(1, 100, "u_peer", "20002", [{"type": "text", "data": {"text": "一"}}])])
    path.write_bytes(path.read_bytes()[:-40])
    result = qing("export", path, "-o", tmp_path / "m.jsonl")
    assert result.exit_code == 1 and "not complete JSON" in result.output and "char" in result.output


# --- Telegram ---------------------------------------------------------------------------

TG_NEW = [(1, "are you ignoring me again", False), (2, "Only on Sundays", True), (3, "it is Sunday", False),
          (4, "so that explains it", False)]
TG_TIMES = [exports.TG_T0 + s for s in (0, 95, 260, 271, 300, 333)]


@pytest.mark.parametrize("write, chat, me, senders, expected, times", [
    pytest.param(exports.telegram_chat, "tg:c2c:7040030001", "8080808080",
                 "Rosalind Quill (user111220001) 3, Tom & Jerry Fans (user8080808080) 1", TG_NEW, TG_TIMES[:4],
                 id="result"),
    pytest.param(exports.telegram_chat_with_entities, "tg:c2c:7040030001", "8080808080",
                 "Rosalind Quill (user111220001) 4, Tom & Jerry Fans (user8080808080) 2",
                 TG_NEW + [(5, "remember this: NOT TODAY", True), (6, "write to me at: quill@example.org", False)],
                 TG_TIMES, id="entities"),
    pytest.param(exports.telegram_legacy_chat, "tg:c2c:3141592653", "5550001111",
                 f"Otto (user5550001111) 2, Petra {exports.TG_LEGACY_MOJIBAKE} {exports.TG_LEGACY_MOJIBAKE} "
                 f"(user6660002222) 1",
                 [(880001, "Happy new year!", True), (880002, "First message of 2021", True),
                  (880003, "You beat me to it", False)],
                 [1609459207, 1609459209, 1609459290], id="legacy"),  # `date` read in --tz: 2021-01-01T00:00:07Z
])
def test_telegram_chat_exports_ask_for_me_then_read(tmp_path, qing, write, chat, me, senders, expected, times):
    export = write(tmp_path)
    refused = qing("export", export, "-o", tmp_path / "m.jsonl")
    assert refused.exit_code == 1 and f"senders: {senders}." in refused.output and "--me" in refused.output
    assert not (tmp_path / "m.jsonl").exists()
    result = qing("export", export, "-o", tmp_path / "m.jsonl", "--me", me, "--tz", "UTC")
    assert result.exit_code == 0, result.output
    rows = load(tmp_path / "m.jsonl")
    assert [(r["id"], r["text"], r["is_me"]) for r in rows] == expected
    assert [r["time"] for r in rows] == times  # date_unixtime where there is one, not the local `date`
    assert all(r["kind"] == "text" for r in rows) and {r["chat"] for r in rows} == {chat}
    shanghai = qing("export", export, "-o", tmp_path / "sh.jsonl", "--me", me, "--tz", "Asia/Shanghai")
    shift = 8 * 3600 if write is exports.telegram_legacy_chat else 0  # only a bare `date` depends on --tz
    assert [r["time"] for r in load(tmp_path / "sh.jsonl")] == [t - shift for t in times], shanghai.output


def test_telegram_whole_account_media_service_and_forwards(tmp_path, qing):
    def m(i, sender, **extra):
        return {"id": i, "type": "message", "date": "2024-01-01T00:00:00", "date_unixtime": str(1704067200 + i),
                "from": "Me" if sender == "user1" else "Friend", "from_id": sender, "text": "", **extra}
    export = {"personal_information": {"user_id": 1, "first_name": "Me"}, "chats": {"list": [
        {"name": "Friend", "type": "personal_chat", "id": 2, "messages": [
            m(1, "user2", text="hi"), m(2, "user1", photo="photos/a.jpg", text="看这个"),
            m(3, "user1", media_type="sticker", sticker_emoji="😂", file="s.webp"),
            m(4, "user2", media_type="voice_message", file="v.ogg"), m(5, "user2", forwarded_from="Chan", text="转发"),
            {"id": 6, "type": "service", "date_unixtime": "1704067206", "actor": "Friend", "actor_id": "user2",
             "action": "pin_message", "text": ""},
            m(7, "user1", text=["link ", {"type": "link", "text": "https://x.org"}], reply_to_message_id=1)]},
        {"name": "Group", "type": "private_supergroup", "id": 9, "messages": [m(8, "user1", text="大家好")]},
    ]}}
    (tmp_path / "result.json").write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    result = qing("export", tmp_path / "result.json", "-o", tmp_path / "m.jsonl")
    assert result.exit_code == 0, result.output
    rows = load(tmp_path / "m.jsonl")
    assert [(r["chat"], r["kind"], r["text"], r["is_me"], r["reply_to"]) for r in rows] == [
        ("tg:c2c:2", "text", "hi", False, None), ("tg:c2c:2", "text", "[图片]看这个", True, None),
        ("tg:c2c:2", "sticker", "😂", True, None), ("tg:c2c:2", "voice", "[语音]", False, None),
        ("tg:c2c:2", "forward", "转发", False, None), ("tg:c2c:2", "system", "pin_message", False, None),
        ("tg:c2c:2", "text", "link https://x.org", True, 1), ("tg:group:9", "text", "大家好", True, None)]


def test_a_folder_of_several_exports_reads_them_all(tmp_path, qing):
    folder = tmp_path / "exports"
    folder.mkdir()
    qce_file(folder, [c6(1, 100, "u_peer", "20002", [{"type": "text", "data": {"text": "qq"}}]),
                      c6(2, 110, "u_me", "10001", [{"type": "text", "data": {"text": "嗯"}}])], name="a.json")
    (folder / "b.csv").write_text(HEADER + "\n1,5,文本,1,me,wxid_friend,微信,,2024-01-01 10:00:00\n", encoding="utf-8")
    (folder / "notes.txt").write_text("not an export")
    result = qing("export", folder, "-o", tmp_path / "m.jsonl")
    assert result.exit_code == 0, result.output
    assert "a.json (qce)" in result.output and "b.csv (weclone-csv)" in result.output
    rows = load(tmp_path / "m.jsonl")
    assert [(r["chat"], r["text"], r["is_me"]) for r in rows] == [
        ("qce:c2c:小王", "qq", False), ("qce:c2c:小王", "嗯", True), ("wechat:wxid_friend", "微信", True)]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "holds no export" in qing("export", empty, "-o", tmp_path / "n.jsonl").output


def test_qce_chunks_read_by_workers_equal_one_process(tmp_path, monkeypatch):
    from qing import parallel
    from qing.sources import export_other as sources

    folder = tmp_path / "big_chunked_jsonl"
    (folder / "chunks").mkdir(parents=True)
    entries, shapes = [], [[{"type": "text", "data": {"text": " "}}],
                           [{"type": "text", "data": {"text": "看"}}, {"type": "face", "data": {"name": "/微笑"}}],
                           [{"type": "image", "data": {"subType": "sticker"}}], [{"type": "text", "data": {}}]]
    for i in range(10):
        name = f"c{i + 1:06d}.jsonl"
        chunk = [c6(i * 100 + k, 1000 + i * 100 + k, "u_me" if k % 2 else "u_peer", "10001" if k % 2 else "20002",
                    shapes[k % 7] if k % 7 < 4 else [{"type": "text", "data": {"text": f"第{i}块第{k}句"}}],
                    recalled=k % 11 == 0) for k in range(30)]
        (folder / "chunks" / name).write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in chunk))
        entries.append({"index": i + 1, "fileName": name, "relativePath": f"chunks/{name}", "count": 30})
    (folder / "manifest.json").write_text(json.dumps({
        "metadata": {"name": "QQChatExporter"}, "chatInfo": {"name": "w", "type": "private", "selfUin": "10001"},
        "chunked": {"format": "jsonl", "chunks": entries}}))
    monkeypatch.setattr(sources, "QCE_PARALLEL_FROM", 10)
    assert len(sources._qce_jobs(folder, parallel.shares(2))) == 4  # two big jobs, then smaller ones
    one = sources.export_other(folder, tmp_path / "one.jsonl", "qce", tz="UTC", workers=1)
    two = sources.export_other(folder, tmp_path / "two.jsonl", "qce", tz="UTC", workers=2)
    assert two.workers == 2 and one.workers == 1
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    assert (one.messages, one.owners, one.kinds) == (two.messages, two.owners, two.kinds) and one.messages == 300
    assert set(one.kinds) == {"text", "unknown", "sticker", "recall"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big_chunked_jsonl", "one.jsonl", "two.jsonl"]


def _weclone_rows(rooms, per_room) -> list[str]:
    """Records (a few hold a newline inside quotes), header first."""
    lines, n = [HEADER], 0
    for room in rooms:
        for k in range(per_room):
            n += 1
            text = f'"第{k}句，带逗号, 和""引号""\n还有第二行"' if k % 7 == 0 else f"普通的第{k}句"
            lines.append(f"{n},{9000 + n},文本,{k % 2},{'我' if k % 2 else room},{room},{text},,"
                         f"2024-10-04 {k // 3600 % 24:02d}:{k // 60 % 60:02d}:{k % 60:02d}")
    return lines


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_weclone_csv_read_by_workers_equals_one_process(tmp_path, newline, monkeypatch):
    from qing import parallel
    from qing.sources import export_other as sources
    from qing.sources import weclone

    path = tmp_path / "chat.csv"
    path.write_bytes((newline.join(_weclone_rows(["room_a", "room_b", "room_c"], 200)) + newline).encode())
    spans = weclone.spans(path, 4)
    assert len(spans) == 4 and spans[0][2] == 1 and spans[-1][1] == path.stat().st_size
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    shares = weclone.spans(path, parallel.shares(2))
    assert len(shares) == 6 and shares[0][:2] == (spans[0][0], shares[1][0]) and shares[-1][1] == spans[-1][1]
    assert all(a[1] == b[0] for a, b in zip(shares, shares[1:]))
    lines = path.read_bytes().split(b"\n")  # physical lines: a quoted field may hold a newline
    for start, stop, before in shares:
        read = list(weclone._lines_in(path, start, stop, size=5))  # in blocks smaller than a line, too
        assert "".join(read).encode() == path.read_bytes()[start:stop] and all(r.endswith("\n") for r in read)
        assert b"\n".join(lines[:before]) + b"\n" == path.read_bytes()[:start]
    monkeypatch.setattr(sources, "CSV_PARALLEL_FROM", 0)
    one = sources.export_other(path, tmp_path / "one.jsonl", "weclone-csv", tz="UTC", workers=1)
    four = sources.export_other(path, tmp_path / "four.jsonl", "weclone-csv", tz="UTC", workers=4)
    assert four.workers == 4 and one.messages == four.messages == 600
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "four.jsonl").read_bytes()
    assert any("\n还有第二行" in r["text"] for r in load(tmp_path / "four.jsonl"))


def test_weclone_csv_workers_keep_line_numbers_and_the_sorting_fallback(tmp_path, monkeypatch):
    from qing.errors import QingError
    from qing.sources import export_other as sources

    rows = _weclone_rows(["room_a", "room_b"], 300)
    shuffled = tmp_path / "shuffled.csv"  # room_a comes back after room_b: the output must group it (sorted)
    shuffled.write_text("\n".join(rows[:1] + rows[1:200] + rows[301:] + rows[200:301]) + "\n")
    broken = tmp_path / "broken.csv"
    rows[502] = rows[502].rsplit(",", 1)[0] + ",not a time"
    broken.write_text("\n".join(rows) + "\n")
    monkeypatch.setattr(sources, "CSV_PARALLEL_FROM", 0)
    sources.export_other(shuffled, tmp_path / "one.jsonl", "weclone-csv", tz="UTC", workers=1)
    two = sources.export_other(shuffled, tmp_path / "two.jsonl", "weclone-csv", tz="UTC", workers=2)
    with pytest.raises(QingError, match=r"line \d+: CreateTime") as error:
        sources.export_other(broken, tmp_path / "b.jsonl", "weclone-csv", tz="UTC", workers=3)
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes() and two.messages == 600
    chats = [r["chat"] for r in load(tmp_path / "two.jsonl")]
    assert sum(a != b for a, b in zip(chats, chats[1:])) == 1  # each chat in one piece
    physical = broken.read_text().splitlines()
    line = int(str(error.value).split("line ")[1].split(":")[0])
    assert "not a time" in physical[line - 1]
    assert not (tmp_path / "b.jsonl").exists()


def test_lines_in_blocks_split_after_lf_only(tmp_path):
    from qing.sources import weclone

    text = "头,\"多\r行\"\r\n第二行 \u2028 还在\n" + "长" * 40 + "\n\n末行没有换行"
    path = tmp_path / "x.csv"
    path.write_bytes(text.encode())
    expected = [line + b"\n" for line in text.encode().split(b"\n")]
    expected[-1] = expected[-1][:-1]
    for size in (1, 2, 3, 7, 64, 1 << 20):
        assert [line.encode() for line in weclone._lines_in(path, 0, len(text.encode()), size)] == expected


def test_time_parser_table_path_equals_the_regex_path():
    import time
    from zoneinfo import ZoneInfo

    from qing.sources import weclone

    texts = ["2024-03-10 02:30:00", "2024-03-10 03:30:00", "2024-11-03 01:30:00", "2024-11-03 01:59:61",
             "2024-11-03 01:59:62", "2024-11-03 01:60:00", "2024-11-03 01:5:00", "2024-11-03 01:05",
             "2024/11/03 01:05:09", "2024-11-03 01:０５:09", "2024-11-03T01:05:09", "2024-02-30 01:05:09"]
    for zone in ("America/New_York", "Asia/Shanghai"):
        warm = weclone.TimeParser(ZoneInfo(zone))
        for text in texts:
            first = weclone.TimeParser(ZoneInfo(zone))(text)  # a new parser: by the regex
            assert warm(text) == first and warm(text) == first, text  # the second time from the hour table
        assert warm.hour_starts and all(key.endswith(":") and len(key) == 14 for key in warm.hour_starts)
    many, start = weclone.TimeParser(ZoneInfo("UTC")), 1_700_000_000 // 3600 * 3600
    for hour in range(5000):  # more hours than it keeps: it starts again, and still parses right
        when = start + hour * 3600 + 61
        text = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(when))
        assert many(text) == when and many(text) == when
    assert len(many.hours) <= 4096 and len(many.hour_starts) <= 4096


def test_v6_single_text_element_shortcut_equals_the_loop():
    from qing.sources import qce

    for data in ({"text": "你好"}, {"text": " \n"}, {"text": ""}, {}, None, {"text": None}):
        element = {"type": "text", "data": data} if data is not None else {"type": "text"}
        # a second element of a type the loop passes over sends the same text element down the loop
        assert qce._from_elements([element]) == qce._from_elements([element, {"type": "not_a_type"}])


def test_batches_of_records_are_written_as_one_at_a_time(tmp_path):
    import orjson

    from qing.sources import messages_writer as records

    tricky = ['},{"', "{}", "x\ny", '"', "\\", "\u2028"]  # written in one piece
    batches = [[{"id": i, "chat": "c", "text": t} for i, t in enumerate(tricky)],
               [{"id": i, "chat": "c", "text": t} for i, t in enumerate(tricky + ["a},{"])],  # one at a time
               [{"id": 1, "text": "ok"}, {"id": 2, "nested": [{"a": 1}, {"id": 2}]}, {"id": 3, "text": "x},{"}],
               [{"id": 1, "chat": "c"}], [{"id": 1}, {}, {"id": 2, "text": "a},{"}], []]
    for batch in batches:
        with records.writer(tmp_path / "m.jsonl", "jsonl", None) as write:
            write(batch)
            write(batch)
        one = b"".join(orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in batch)
        assert (tmp_path / "m.jsonl").read_bytes() == one + one
    with pytest.raises(TypeError), records.writer(tmp_path / "m.jsonl", "jsonl", None) as write:
        write([{"id": 1}, {"id": object()}])


def test_records_in_lists_hand_over_the_good_ones_before_an_error():
    from qing.sources import batches

    def made(n, fail_at=None):
        for i in range(n):
            if i == fail_at:
                raise ValueError(i)
            yield {"id": i}

    lists = list(batches.in_lists(made(2 * batches.BATCH + 5)))
    assert [len(b) for b in lists] == [batches.BATCH, batches.BATCH, 5]
    got = batches.in_lists(made(2 * batches.BATCH, fail_at=batches.BATCH + 3))
    assert len(next(got)) == batches.BATCH and [r["id"] for r in next(got)] == [batches.BATCH + i for i in range(3)]
    with pytest.raises(ValueError):
        next(got)


# --- in Chinese ------------------------------------------------------------------

def test_other_exports_say_their_errors_in_chinese(tmp_path, qing):
    refused = qing("--lang", "zh", "export", exports.qce_v5_group(tmp_path), "-o", tmp_path / "m.jsonl")
    assert refused.exit_code == 1 and "里哪个发送者是你（它的 chatInfo 里没有本人的字段）；发送者有：Mei (40404) 3" \
        in refused.output and "请加 --me 你的QQ号。" in refused.output
    refused = qing("export", exports.telegram_chat(tmp_path), "-o", tmp_path / "m.jsonl", env={"QING_LANG": "zh"})
    assert refused.exit_code == 1 and "请用 --me 给出你的 id（例如 user123 就用 --me 123）。" in refused.output
    assert "错误：" in refused.output and "Pass --me" not in refused.output


@pytest.mark.parametrize("content, args, message", [
    ("id,msg\n1,hi\n", ["--from", "weclone-csv"], "缺少 WeClone CSV 的列 CreateTime, MsgSvrID, is_sender, type_name；"),
    ("just some notes\n", [], "不是 qing 能读取的导出文件；qing 能读取的有：QQ NT 数据库（nt_msg.db，"),
    (HEADER + "\n1,1,文本,0,a,r,hi,,yesterday\n", [], "第 2 行：CreateTime 'yesterday' 不是日期时间"),
])
def test_bad_other_input_in_chinese(tmp_path, qing, content, args, message):
    (tmp_path / "in.csv").write_text(content, encoding="utf-8")
    result = qing("--lang", "zh", "export", tmp_path / "in.csv", "-o", tmp_path / "m.jsonl", *args)
    assert result.exit_code == 1 and message in result.output, result.output
    assert not (tmp_path / "m.jsonl").exists()
