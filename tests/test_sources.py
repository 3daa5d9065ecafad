"""Other tools' exports through `qing export`: the real samples in shared/, synthetic edge cases, round trip."""

import json
from pathlib import Path

import pytest

from conftest import KEY

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared/samples is not beside the checkout")
HEADER = "id,MsgSvrID,type_name,is_sender,talker,room_name,msg,src,CreateTime"


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@needs_samples
def test_weclone_sample_as_a_person_reads_it(tmp_path, qing):
    result = qing("export", SAMPLES / "weclone_test_person_0_730.csv", "-o", tmp_path / "m.jsonl")
    assert result.exit_code == 0, result.output
    assert "chat wechat:test_person: 96 messages, 46 yours" in result.output
    rows = load(tmp_path / "m.jsonl")
    kinds = {}
    for r in rows:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    assert kinds == {"text": 66, "sticker": 23, "image": 5, "recall": 2}
    assert rows[0]["time"] == 1728013320 and rows[0]["text"] == "[图片]"  # 2024/10/4 11:42 in Asia/Shanghai
    assert rows[2]["text"] == "小马尔代夫" and rows[2]["is_me"] and rows[2]["id"] == 4073926741244663531
    quoted = [r for r in rows if r["text"] == "（我们两个人骑）"]
    assert len(quoted) == 1 and quoted[0]["kind"] == "text"  # the quoted part is split off
    assert all(isinstance(r["id"], int) for r in rows)


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
    assert qing("export", "nt_msg.db", "--key", KEY, "--groups", "--format", "csv", "-o", "m.csv").exit_code == 0
    result = qing("export", "m.csv", "-o", "back.jsonl")
    assert result.exit_code == 0, result.output
    fields = ("id", "chat", "peer", "is_me", "time", "kind", "text")
    original = [tuple(r[f] for f in fields) for r in load(workdir / "m.jsonl")]
    assert [tuple(r[f] for f in fields) for r in load(workdir / "back.jsonl")] == original


@pytest.mark.parametrize("content, args, message", [
    ("id,msg\n1,hi\n", ["--from", "weclone-csv"], "lacks the WeClone CSV column(s) CreateTime, MsgSvrID"),
    ("just some notes\n", [], "is not an export qing can read"),
    (HEADER + "\n", [], "holds no messages"),
    (HEADER + "\n1,1,文本,0,a,r,hi,,yesterday\n", [], "CreateTime 'yesterday' is not a date"),
    (HEADER + "\n", ["--from", "telegram"], "not built yet"),
    (HEADER + "\n", ["--from", "xml"], "unknown --from"),
])
def test_bad_other_input(tmp_path, qing, content, args, message):
    (tmp_path / "in.csv").write_text(content, encoding="utf-8")
    result = qing("export", tmp_path / "in.csv", "-o", tmp_path / "m.jsonl", *args)
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "m.jsonl").exists()
