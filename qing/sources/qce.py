"""QQ Chat Exporter (QCE) exports: one JSON file or a chunked JSONL folder, message shapes P, C5 and C6.

See shared/other-sources.md section 1. Time comes only from `timestamp`;
the owner from chatInfo's self fields, else --me, else in a private chat
whoever is not the peer; v5 placeholders are normalised to our rendering and
v6 text is rebuilt from its ordered elements.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from itertools import count, repeat
from pathlib import Path
from typing import Iterator

import orjson
from orjson import loads

from qing.errors import QingError
from qing.files import load_json_object
from qing.i18n import _
from qing.sources.batches import in_lists

SYSTEM_NAMES = {"系统消息"}
_V5_PLACEHOLDERS = [  # (pattern in content.text, our rendering)
    (re.compile(r"\[图片[:：][^\]]*\]"), "[图片]"), (re.compile(r"\[文件[:：][^\]]*\]"), "[文件]"),
    (re.compile(r"\[视频[:：][^\]]*\]"), "[视频]"), (re.compile(r"\[语音[:：\s][^\]]*\]"), "[语音]"),
    (re.compile(r"\[合并转发[:：][^\]]*\]|\[转发消息[:：][^\]]*\]"), "[聊天记录]"),
    (re.compile(r"\[卡片消息[:：][^\]]*\]|\[JSON消息\]"), "[卡片]"),
    (re.compile(r"\[位置[:：][^\]]*\]|\[位置消息\]"), "[卡片]"),
    (re.compile(r"\[\[([^\[\]]{1,8})\]\]|\[/([^\[\]]{1,8})\]"), None),  # faces [[微笑]] / [/微笑] -> [微笑]
]
_REPLY_PREFIX = re.compile(r"^\[回复 [^\]]*\]\n?")
_MEDIA = {"image": ("image", "[图片]"), "file": ("file", "[文件]"), "video": ("video", "[视频]"),
          "audio": ("voice", "[语音]"), "forward": ("forward", "[聊天记录]"), "json": ("card", "[卡片]"),
          "location": ("card", "[卡片]"), "wallet": ("redpacket", "[红包]"), "av_record": ("call", "[通话]"),
          "market_face": ("sticker", "[表情]")}
_WORDS = re.compile(r"\[[^\[\]\n]{1,8}\]")


def looks_like(text: str) -> bool:
    return '"chatInfo"' in text or "QQChatExporter" in text


class Chat:
    """One QCE export: its chatInfo and its messages (from the JSON file, or the chunks of a folder)."""

    def __init__(self, path: Path):
        self.path = path
        if path.is_dir():
            self.info = _load_json(path / "manifest.json")
            chunks = ((self.info.get("chunked") or {}).get("chunks")) or []
            self.files = [path / (c.get("relativePath") or f"chunks/{c['fileName']}") for c in chunks]
            self.counts = [c.get("count") for c in chunks]  # messages per chunk, when the manifest says
            self.messages = None
        else:
            self.info = _load_json(path)
            self.messages, self.counts = self.info.get("messages"), []
            if not isinstance(self.messages, list):
                raise QingError(_("{path} has no messages list, so it is not a QQ Chat Exporter JSON export.").format(
                    path=path))
        chat_info = self.info.get("chatInfo") or {}
        self.group = chat_info.get("type") == "group"
        self.self_uid, self.self_uin = chat_info.get("selfUid"), _str(chat_info.get("selfUin"))
        self.peer_uid = chat_info.get("peerUid")
        ident = _str(chat_info.get("peerUin")) or chat_info.get("peerUid") or chat_info.get("name") or path.stem
        self.chat = f"qce:{'group' if self.group else 'c2c'}:{ident}"
        self.senders: dict[tuple, tuple] = {}  # sender fields -> (uid, sender id, name, is the owner)
        self.v6: bool | None = None
        self.owner = None  # owner(sender id, uid) -> truthy for the owner's messages, once it is known
        self.peer = int(ident) if str(ident).isdigit() else ident

    def raw_messages(self) -> Iterator[dict]:
        if self.messages is not None:
            yield from self.messages
            return
        for file in self.files:
            if not file.is_file():
                raise QingError(_("chunk {file} named in {manifest} is missing; copy the whole export folder.").format(
                    file=file, manifest=self.path / "manifest.json"))
            with open(file, "rb") as f:
                for number, line in enumerate(f, 1):
                    try:
                        message = loads(line)
                    except orjson.JSONDecodeError as e:
                        if not line.strip():
                            continue  # a blank line
                        raise QingError(_("{file} line {number} is not JSON ({reason}).").format(
                            file=file, number=number, reason=e)) from None
                    yield message


def _load_json(path: Path) -> dict:
    return load_json_object(path, _("QQ Chat Exporter export"))


def _str(value) -> str | None:
    return str(value) if value not in (None, "", 0) else None


def read(path: Path, me: str | None, chunks: tuple[int, int] | None = None,
         first_index: int = 0) -> Iterator[list[dict]]:
    """Contract-1 records of one QCE export, streamed in lists; a QingError naming the senders if the owner
    can't be told.

    `chunks` (start, stop) reads only those chunks of a chunked folder, whose first message is number
    `first_index` of the whole export.
    """
    chat = prepare(path, me)
    if chunks:
        chat.files = chat.files[chunks[0]:chunks[1]]
    yield from in_lists(map(_checked_record, chat.raw_messages(), repeat(chat), count(first_index)))


def _checked_record(m: dict, chat: Chat, index: int) -> dict:
    """_record, or one sentence when a message's fields have types QQ Chat Exporter does not write."""
    try:
        return _record(m, chat, index)
    except (AttributeError, TypeError, KeyError) as e:
        raise QingError(_("{path}: message {number} is not in QQ Chat Exporter's shape ({reason}); export the chat "
                          "again, or pass --from to read it as another format.").format(
            path=chat.path, number=index + 1, reason=f"{type(e).__name__}: {str(e)[:80]}")) from None


def prepare(path: Path, me: str | None) -> Chat:
    """The export with its owner rule; a QingError naming the senders if the owner can't be told."""
    chat = Chat(path)
    chat.owner = _owner_rule(chat, me)
    if chat.owner is None and not chat.group:  # shape P keeps the peer in each message's rawMessage
        first = next(iter(chat.raw_messages()), None) or {}
        chat.peer_uid = (first.get("rawMessage") or {}).get("peerUid")
        chat.owner = _owner_rule(chat, me)
    if chat.owner is None:
        senders = Counter()
        for index, m in enumerate(chat.raw_messages()):
            record = _checked_record(m, chat, index)
            if record["kind"] != "system":
                senders[(record["sender"], record["sender_name"])] += 1
        listing = ", ".join(f"{name or '?'} ({uin}) {n}" for (uin, name), n in senders.most_common(8))
        raise QingError(_("cannot tell which sender is you in {path} (its chatInfo has no self fields); senders: "
                          "{senders}. Pass --me YOUR_QQ_NUMBER.").format(path=path, senders=listing))
    return chat


def _owner_rule(chat: Chat, me: str | None):
    """owner(sender id, uid): truthy when that sender is the owner."""
    if chat.self_uid or chat.self_uin:
        return lambda sender, uid: (chat.self_uid and uid == chat.self_uid) or \
            (chat.self_uin is not None and str(sender) == chat.self_uin)
    if me:
        return lambda sender, uid: str(sender) == str(me)
    if not chat.group and chat.peer_uid:
        return lambda sender, uid: uid != chat.peer_uid
    return None


def _record(m: dict, chat: Chat, index: int) -> dict:
    if "messageId" in m:
        return _record_p(m, chat, index)
    sender = m.get("sender") or {}
    key = tuple(sender.values())
    known = chat.senders.get(key)
    if known is None:  # a few senders per chat: resolve each once, whether it is the owner too
        uin = _str(sender.get("uin"))
        name = sender.get("remark") or sender.get("nickname") or sender.get("name") or sender.get("groupCard")
        uid, sender_id = sender.get("uid"), _id(uin or sender.get("uid"))
        mine = bool(chat.owner and chat.owner(sender_id, uid))
        known = chat.senders[key] = (uid, sender_id, name, mine)
    uid, sender_id, name, mine = known
    content = m.get("content") or {}
    if chat.v6 is None:  # one exporter version per file: decide once
        chat.v6 = str(m.get("time", "")).endswith("Z") or not str(m.get("type", "type_")).startswith("type_")
    if chat.v6:
        kind, text, reply_to = _from_elements(content.get("elements") or ())
    else:
        kind, text, reply_to = _from_text(content.get("text") or "", content.get("elements") or ())
    if m.get("recalled"):
        kind, text = "recall", "[撤回了一条消息]"
    elif m.get("system") or m.get("type") == "system" or name in SYSTEM_NAMES or uid == "未知":
        kind = "system"
    when = m.get("timestamp")
    if when.__class__ is int:
        when //= 1000
    elif isinstance(when, float):
        when = int(when) // 1000
    else:
        raise QingError(_("{path}: message {number} has no numeric timestamp.").format(path=chat.path,
                                                                                          number=index + 1))
    return {"id": _id(m.get("id") or m.get("seq") or index + 1), "chat": chat.chat, "peer": chat.peer,
            "sender": sender_id, "sender_name": name, "is_me": mine and kind != "system", "time": when,
            "kind": kind, "text": text, "reply_to": reply_to}


def _record_p(m: dict, chat: Chat, index: int) -> dict:
    sender = m.get("sender") or {}
    content = m.get("content") or {}
    reply = content.get("reply") or {}
    resources = [{"type": r.get("type")} for r in content.get("resources") or []]
    kind, text, _reply = _from_text(content.get("text") or "", resources)
    if m.get("isRecalled"):
        kind, text = "recall", "[撤回了一条消息]"
    elif m.get("isSystemMessage"):
        kind = "system"
    try:
        when = int(datetime.fromisoformat(str(m["timestamp"]).replace("Z", "+00:00")).timestamp())
    except (KeyError, ValueError):
        raise QingError(_("{path}: message {number} has no ISO timestamp.").format(path=chat.path,
                                                                                      number=index + 1)) from None
    reply_to = reply.get("referencedMessageId") or reply.get("messageId")
    sender_id, uid = _id(_str(sender.get("uin")) or sender.get("uid")), sender.get("uid")
    return {"id": _id(m.get("messageId")), "chat": chat.chat, "peer": chat.peer,
            "sender": sender_id, "sender_name": sender.get("name"),
            "is_me": kind != "system" and bool(chat.owner and chat.owner(sender_id, uid)), "time": when,
            "kind": kind, "text": text, "reply_to": _id(reply_to) if reply_to else None}


def _from_text(text: str, elements: list) -> tuple[str, str, object]:
    """v5 / shape P: content.text with its placeholders normalised; kind from the element types."""
    reply_to = None
    for el in elements:
        if el.get("type") == "reply":
            data = el.get("data") or {}
            reply_to = data.get("referencedMessageId") or data.get("messageId")
    text = _REPLY_PREFIX.sub("", text) if reply_to or text.startswith("[回复 ") else text
    for pattern, replacement in _V5_PLACEHOLDERS:
        text = pattern.sub(replacement or (lambda m: f"[{m.group(1) or m.group(2)}]"), text)
    types = [el.get("type") for el in elements]
    if "market_face" in types:
        return "sticker", text or "[表情]", _id(reply_to) if reply_to else None
    if _has_words(text) or "face" in types:
        return "text", text, _id(reply_to) if reply_to else None
    for t in types:
        if t in _MEDIA:
            return _MEDIA[t][0], text or _MEDIA[t][1], _id(reply_to) if reply_to else None
    return ("text" if text else "unknown"), text, _id(reply_to) if reply_to else None


def _from_elements(elements: list) -> tuple[str, str, object]:
    """v6: text rebuilt from the ordered elements."""
    if len(elements) == 1:  # most messages: one text element, the loop below in short
        el = elements[0]
        if el.get("type") == "text":
            text = (el.get("data") or {}).get("text") or ""
            if text.__class__ is str:
                return ("text" if text.strip() else "unknown"), text, None
    parts, media, words, reply_to = [], None, False, None
    for el in elements:
        t, data = el.get("type"), el.get("data") or {}
        if t == "text":
            parts.append(data.get("text") or "")
            words = words or bool((data.get("text") or "").strip())
        elif t == "at":
            parts.append(f"@{data.get('name') or data.get('uin') or ''}")
            words = True
        elif t == "face":
            parts.append(f"[{(data.get('name') or '表情').strip('[]/')}]")
            words = True
        elif t == "markdown":
            parts.append(data.get("content") or data.get("text") or "")
            words = True
        elif t == "reply":
            reply_to = data.get("referencedMessageId")
        elif t == "image" and data.get("subType") == "sticker":
            parts.append("[动画表情]")
            media = media or "sticker"
        elif t == "market_face":
            parts.append(data.get("name") or "[表情]")
            media = media or "sticker"
        elif t in _MEDIA:
            kind, shown = _MEDIA[t]
            parts.append(shown)
            media = media or kind
        elif t == "system":
            return "system", data.get("text") or "[系统消息]", None
    kind = "text" if words else media or "unknown"
    return kind, "".join(parts), _id(reply_to) if reply_to else None


def _has_words(text: str) -> bool:
    return bool(_WORDS.sub("", text).strip())


def _id(value):
    """A number when the id is one that fits in 64 bits, else its text."""
    if value is None or value.__class__ is int:
        return value
    text = value if value.__class__ is str else str(value)
    if text.isdigit() and len(text) < 20:
        number = int(text)
        if number < 2**63:
            return number
    return text
