"""WeClone's CSV layout (also written by WeFlow and PyWxDump): read it, and write ours in it.

See shared/other-sources.md section 2. `is_sender` is the only reliable owner
signal; CreateTime is the exporting PC's local time, parsed leniently in --tz.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import datetime
from itertools import accumulate
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from qing.errors import QingError
from qing.i18n import _
from qing.sources.batches import in_lists

HEADER = ["id", "MsgSvrID", "type_name", "is_sender", "talker", "room_name", "msg", "src", "CreateTime"]
REQUIRED = {"MsgSvrID", "type_name", "is_sender", "msg", "CreateTime"}
KIND_TO_TYPE = {  # our kind -> type_name; reading maps back, so our CSV round-trips
    "text": "文本", "image": "图片", "sticker": "动画表情", "voice": "语音", "video": "视频", "file": "文件",
    "card": "(分享)卡片式链接", "forward": "合并转发的聊天记录", "call": "语音通话", "recall": "消息撤回",
    "system": "系统通知", "redpacket": "转账", "unknown": "未知",
}
TYPE_TO_KIND = {v: k for k, v in KIND_TO_TYPE.items()} | {
    "粘贴的文本": "text", "引用回复": "text", "用户上传的GIF表情": "sticker", "赠送红包封面": "redpacket",
    "群公告": "system", "拍一拍": "system", "邀请加群": "system", "添加好友": "system",
    "位置": "card", "位置共享": "card", "推荐公众号": "card", "接龙": "card", "游戏相关": "card",
}
PLACEHOLDERS = {"image": "[图片]", "sticker": "[动画表情]", "voice": "[语音]", "video": "[视频]", "file": "[文件]",
                "card": "[卡片]", "forward": "[聊天记录]", "redpacket": "[红包]", "call": "[通话]",
                "recall": "[撤回了一条消息]"}
# what tools write in `msg` for media: a bare word, not the person's words
WORD_PLACEHOLDERS = {"图片", "表情", "动画表情", "语音", "视频", "文件", "位置", "链接", "卡片", "聊天记录", "转账",
                     "红包", "通话", "语音通话", "视频通话", "小程序", "音乐", "笔记", "名片"}
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M",
                "%Y-%m-%dT%H:%M:%S", "%Y.%m.%d %H:%M:%S")
OUR_PREFIXES = ("c2c:", "group:", "wechat:", "qce:", "tg:")


def looks_like(head: str) -> bool:
    """The first line of a WeClone CSV (BOM, CRLF and missing room_name allowed)."""
    first = head.lstrip("\ufeff").splitlines()[0] if head.strip() else ""
    return REQUIRED <= {c.strip() for c in first.split(",")}


def csv_writer(out):
    """A csv writer of WeClone's CSV (Python's excel dialect, as PyWxDump's) that has written the header."""
    writer = csv.writer(out)
    writer.writerow(HEADER)
    return writer


# a chat id in a file name: `%XX` for each character some file system refuses (and for % and ~)
_NOT_IN_NAMES = re.compile(r'[\x00-\x1f\x7f%/\\:*?"<>|~]')
_NAME_BYTES = 150  # a longer id is cut, and marked with ~ so that it is not read back as an id
_OUR_FILE = re.compile(r"(.+)_\d+_\d+\.csv")
_ROWS_IN_NAME = re.compile(r"_(\d+)_\d+\.csv$")  # PyWxDump's <id>_<first row>_<end row>.csv, and ours


def chat_file_stem(chat: str) -> str:
    """CHAT as the start of a file name, `c2c%3A20001` for c2c:20001: unquote() gives it back."""
    stem = _NOT_IN_NAMES.sub(lambda m: "".join(f"%{b:02X}" for b in m[0].encode()), chat)
    if len(stem.encode("utf-8")) > _NAME_BYTES:
        digest = hashlib.sha1(chat.encode("utf-8")).hexdigest()[:12]
        cut = stem.encode("utf-8")[:_NAME_BYTES].decode("utf-8", "ignore")
        escape = cut.find("%", len(cut) - 2)  # a %XX cut in two goes whole
        stem = (cut[:escape] if escape >= 0 else cut) + f"~{digest}"
    return stem


def chat_of_file(name: str) -> str | None:
    """The chat id a file name of ours (chat_file_stem, then _<first row>_<end row>.csv) holds; None for others'
    files (PyWxDump's wxid_..._0_5000.csv) and for an id cut short."""
    m = _OUR_FILE.fullmatch(name)
    if not m or "~" in m[1] or "%" not in m[1]:
        return None
    chat = unquote(m[1])
    return chat if chat.startswith(OUR_PREFIXES) else None


def first_row(name: str) -> int:
    """The first row of a `<id>_<first>_<end>.csv` name (0 for other names): WeClone reads a chat's files in its
    order."""
    m = _ROWS_IN_NAME.search(name)
    return int(m[1]) if m else 0


def written_by_qing(name: str) -> bool:
    """A CSV file name that FolderWriter writes (an id cut short included)."""
    m = _OUR_FILE.fullmatch(name)
    return bool(m) and unquote(m[1].split("~", 1)[0]).startswith(OUR_PREFIXES)


def read(path: Path, zone: ZoneInfo, span: tuple[int, int, int] | None = None) -> Iterator[list[dict]]:
    """Contract-1 records from a WeClone CSV, in file order and in lists; with `span` (start byte, stop byte,
    lines before start, from `spans`) only the rows in those bytes, numbered as in the whole file."""
    try:
        yield from _read(path, zone, span)
    except UnicodeDecodeError as e:
        raise QingError(_("{path} is not UTF-8 text (byte {byte} of a read block is not), so not a WeClone CSV; "
                          "save it again as UTF-8 CSV.").format(path=path, byte=e.start)) from None


def _read(path: Path, zone: ZoneInfo, span: tuple[int, int, int] | None) -> Iterator[list[dict]]:
    parse_time = TimeParser(zone)
    with open(path, encoding="utf-8-sig", newline="") as f:
        header = [c.strip() for c in next(csv.reader([f.readline()]), [])]
        missing = REQUIRED - set(header)
        if missing:
            raise QingError(_("{path} lacks the WeClone CSV column(s) {columns}; the header must be {header} "
                              "(room_name may be absent).").format(path=path, columns=", ".join(sorted(missing)),
                                                                   header=",".join(HEADER)))
        width = len(header)  # a column the file lacks reads from one empty cell past the end
        column = {name: header.index(name) if name in header else width for name in HEADER}
        chats = _Chats(f"wechat:{path.stem}", chat_of_file(path.name))
        if span is None:
            lines, offset = f, 1
        else:
            lines, offset = _lines_in(path, span[0], span[1]), span[2]
        reader = csv.reader(lines)
        # rows are made into records as they are read, so reader.line_num is the row's last line
        record = _record_maker(column, width, chats, parse_time, path, lambda: reader.line_num + offset)
        try:
            yield from in_lists(map(record, filter(None, reader)))  # blank lines read as [], and are skipped
        except csv.Error as e:
            raise QingError(_("{path} line {number} is not valid CSV ({reason}).").format(
                path=path, number=reader.line_num + offset, reason=e)) from None


def _lines_in(path: Path, start: int, stop: int, size: int = 1 << 20) -> Iterator[str]:
    """The lines of bytes start..stop (a span: it ends a line), split after LF only, decoded `size` bytes at a
    time."""
    with open(path, "rb") as f:
        f.seek(start)
        left, rest = stop - start, b""
        while left > 0 and (block := f.read(min(left, size))):
            left -= len(block)
            block = rest + block
            cut = block.rfind(b"\n") + 1 if left > 0 else len(block)  # a line cut by the block's end waits
            block, rest = block[:cut], block[cut:]
            yield from io.StringIO(block.decode("utf-8"), newline="\n")
        if rest:
            yield rest.decode("utf-8")


def spans(path: Path, parts: int | list[float]) -> list[tuple[int, int, int]]:
    """Cut the rows after the header into byte ranges that end on record boundaries: about `parts` equal
    ones, or (a list of fractions adding up to 1) about one of each size, in that order.

    A newline ends a record when the quotes before it are even (a quoted field may hold newlines; a quote
    inside one is doubled). Each span is (start, stop, physical lines before start).
    """
    shares = [1 / parts] * parts if isinstance(parts, int) else parts
    size = path.stat().st_size
    with open(path, "rb") as f:
        f.readline()
        start = f.tell()
        cuts, quotes, newlines, at = [(start, 1)], 0, 1, start
        targets = [start + int((size - start) * end) for end in accumulate(shares[:-1])]
        while targets and (block := f.read(1 << 22)):
            search = 0
            while targets:
                nl = block.find(b"\n", max(search, targets[0] - at))
                if nl < 0:
                    break
                if (quotes + block.count(b'"', 0, nl)) % 2 == 0:
                    cuts.append((at + nl + 1, newlines + block.count(b"\n", 0, nl) + 1))
                    while targets and targets[0] <= at + nl:
                        targets.pop(0)
                search = nl + 1
            quotes += block.count(b'"')
            newlines += block.count(b"\n")
            at += len(block)
    cuts = [c for i, c in enumerate(cuts) if i == 0 or c[0] > cuts[i - 1][0] and c[0] < size]
    bounds = [c[0] for c in cuts] + [size]
    return [(bounds[i], bounds[i + 1], cuts[i][1]) for i in range(len(cuts))]


class _Chats(dict):
    """room_name -> (chat id, peer), computed once per room. In a file of ours (`fixed`: the chat id its name
    holds) room_name is the chat's folder, and every row is of that chat."""

    def __init__(self, default: str, fixed: str | None = None):
        super().__init__()
        self.default, self.fixed = default, fixed

    def __missing__(self, room: str):
        room_id = room.strip()
        if self.fixed:
            chat = self.fixed
        else:
            chat = room_id if room_id.startswith(OUR_PREFIXES) else (f"wechat:{room_id}" if room_id else self.default)
        self[room] = value = (chat, _number_or_text(chat.split(":", 1)[1]))
        return value


def _record_maker(column: dict[str, int], width: int, chats: _Chats, parse_time, path: Path, line):
    """record(row) -> a contract-1 record; the column positions are bound once (this runs per row). line() is
    the row's line number, asked for only when it is needed."""
    room, type_name_at, msg_at, talker_at, sender_at, time_at, svr_at, id_at = (
        column[name] for name in ("room_name", "type_name", "msg", "talker", "is_sender", "CreateTime", "MsgSvrID",
                                  "id"))
    kind_of = TYPE_TO_KIND.get
    parse_time = parse_time.__call__  # a bound method is called faster than an object with __call__

    def record(row: list[str]) -> dict:
        if len(row) <= width:
            row += [""] * (width + 1 - len(row))
        chat, peer = chats[row[room]]
        type_name, msg = row[type_name_at].strip(), row[msg_at]
        kind = kind_of(type_name) or ("recall" if type_name.startswith("消息撤回") else "unknown")
        if kind == "system" and "<revokemsg>" in msg:
            kind = "recall"
        talker = row[talker_at].strip() or None
        is_me = row[sender_at] == "1" or row[sender_at].strip() == "1"
        when = parse_time(row[time_at].strip())
        if when is None:
            raise QingError(_("{path} line {number}: CreateTime {time!r} is not a date and time; expected e.g. "
                              "2024-10-04 11:42:05.").format(path=path, number=line(), time=row[time_at]))
        return {"id": _number_or_text(row[svr_at] or row[id_at] or str(line())), "chat": chat, "peer": peer,
                "sender": talker,
                "sender_name": None if is_me else talker,  # the owner's talker is "我", a wxid or a name: not reliable
                "is_me": is_me, "time": when, "kind": kind, "text": _text(kind, type_name, msg), "reply_to": None}

    return record


def _text(kind: str, type_name: str, msg: str) -> str:
    if type_name == "引用回复" or "\n\n[引用](" in msg:
        return msg.split("\n\n[引用](", 1)[0]
    if kind in PLACEHOLDERS:
        bare = msg.strip().strip("[]")
        if not bare or bare == type_name or bare in WORD_PLACEHOLDERS or msg.lstrip().startswith("<") \
                or kind == "recall" or bare == PLACEHOLDERS[kind].strip("[]"):
            return PLACEHOLDERS[kind]
    return msg


def _number_or_text(value: str):
    """A number when it is one that fits in 64 bits (as WeChat's and QQ's ids do), else the text."""
    if not value.isdigit():  # digits alone need no strip
        value = value.strip()
        if not value.isdigit():
            return value
    number = int(value)
    return number if number < 2**63 else value


_DATE_TIME = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_MINUTE_SECOND = {f"{m:02d}:{s:02d}": m * 60 + s for m in range(60) for s in range(62)}  # "42:05" -> 2525


class TimeParser:
    """Local date-time text in a zone -> unix seconds, leniently; None when it is not one.

    The usual shapes are matched by one regex and the zone is consulted once per
    hour of local time (zones change offset on whole hours), not once per row.
    """

    def __init__(self, zone: ZoneInfo):
        self.zone, self.hours = zone, {}
        self.hour_starts: dict[str, int] = {}  # "2024-10-04 11:" -> its first second, for the usual shape

    def __call__(self, text: str) -> int | None:
        # the usual "YYYY-MM-DD HH:MM:SS": the hour's start and the seconds into it, each by its text
        start = self.hour_starts.get(text[:14])
        if start is not None:
            into = _MINUTE_SECOND.get(text[14:])
            if into is not None:
                return start + into
        if text.isdigit():
            seconds = int(text)
            return seconds // 1000 if seconds > 10**11 else seconds
        m = _DATE_TIME.match(text)
        if not m:
            return self._slow(text)
        year, month, day, hour, minute, second = m.groups()
        key = (year, month, day, hour)
        start = self.hours.get(key)
        if start is None:
            if len(self.hours) >= 4096:  # years of hours: start again, so memory stays flat (rows come in order)
                self.hours.clear()
                self.hour_starts.clear()
            try:
                start = self.hours[key] = int(datetime(int(year), int(month), int(day), int(hour),
                                                       tzinfo=self.zone).timestamp())
            except ValueError:
                return None
            if len(text) == 19 and text[4] == "-" == text[7] and text[10] == " " and text[13] == ":":
                self.hour_starts[text[:14]] = start
        minute, second = int(minute), int(second or 0)
        return start + minute * 60 + second if minute < 60 and second < 62 else None

    def _slow(self, text: str) -> int | None:
        for fmt in TIME_FORMATS:
            try:
                return int(datetime.strptime(text, fmt).replace(tzinfo=self.zone).timestamp())
            except ValueError:
                continue
        return None
