"""Telegram Desktop `result.json`: one chat, or the whole account (see shared/other-sources.md section 3).

Time from `date_unixtime` (older exports: `date` in --tz); text as a string or
a list of strings and entities; media to our placeholders; service messages
to `system`; forwarded messages to `forward`. Owner: the account's user id in
a whole-account export, the one who is not the peer in a personal chat, all
of saved messages; otherwise --me, else an error listing the senders.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

from qing.errors import QingError
from qing.files import load_json_object
from qing.i18n import _

GROUP_TYPES = {"private_group", "private_supergroup", "public_supergroup", "private_channel", "public_channel"}
MEDIA = {"sticker": ("sticker", "[动画表情]"), "animation": ("sticker", "[动画表情]"),
         "voice_message": ("voice", "[语音]"), "video_message": ("video", "[视频]"),
         "video_file": ("video", "[视频]"), "audio_file": ("file", "[文件]")}


def looks_like(text: str) -> bool:
    return '"personal_information"' in text or '"date_unixtime"' in text or ('"messages"' in text
                                                                           and '"date"' in text)


def read(path: Path, me: str | None, zone: ZoneInfo) -> Iterator[dict]:
    """Contract-1 records of every chat in the export."""
    data = load_json_object(path, _("Telegram Desktop export"))
    account = (data.get("personal_information") or {}).get("user_id")
    if "chats" in data:
        chats = list((data.get("chats") or {}).get("list") or []) + list((data.get("left_chats") or {}).get("list")
                                                                        or [])
    elif isinstance(data.get("messages"), list):
        chats = [data]
    else:
        raise QingError(_("{path} has neither messages nor chats, so it is not a Telegram Desktop export.").format(
            path=path))
    for chat in chats:
        yield from _chat_records(path, chat, _user(account) if account else None, me, zone)


def _user(value) -> str:
    """from_id as the export writes it since 2021: "user123" (older exports: a bare number)."""
    text = str(value)
    return f"user{text}" if text.isdigit() else text


def _chat_records(path: Path, chat: dict, account: str | None, me: str | None, zone: ZoneInfo) -> Iterator[dict]:
    kind = chat.get("type") or ""
    group = kind in GROUP_TYPES
    chat_id = f"tg:{'group' if group else 'c2c'}:{chat.get('id')}"
    messages = chat.get("messages") or []
    senders = Counter(_user(m["from_id"]) for m in messages if m.get("from_id") is not None)
    owner = _owner(kind, chat, account, me, senders)
    if owner is None:
        names = {}
        for m in messages:
            names.setdefault(_user(m.get("from_id")), m.get("from"))
        listing = ", ".join(f"{names.get(s) or '?'} ({s}) {n}" for s, n in senders.most_common(8))
        raise QingError(_("cannot tell which sender is you in chat {chat!r} of {path}; senders: {senders}. Pass --me "
                          "with your id (e.g. --me 123 for user123).").format(chat=chat.get("name"), path=path,
                                                                              senders=listing))
    for m in messages:
        sender = _user(m["from_id"]) if m.get("from_id") is not None else None
        kind_, text = _content(m)
        yield {"id": m.get("id"), "chat": chat_id, "peer": chat.get("id"), "sender": sender,
               "sender_name": m.get("from") or m.get("actor"), "is_me": kind_ != "system" and owner(sender),
               "time": _time(m, zone, path), "kind": kind_, "text": text, "reply_to": m.get("reply_to_message_id")}


def _owner(kind: str, chat: dict, account: str | None, me: str | None, senders: Counter):
    if me:
        mine = _user(me)
        return lambda sender: sender == mine
    if account:
        return lambda sender: sender == account
    if kind == "saved_messages":
        return lambda sender: True
    peer = _user(chat.get("id"))
    if kind in ("personal_chat", "bot_chat") and (peer in senders or len(senders) < 2):
        return lambda sender: sender != peer
    return None


def _content(m: dict) -> tuple[str, str]:
    if m.get("type") == "service":
        return "system", str(m.get("action") or "[系统消息]")
    if m.get("type") not in (None, "message"):
        return "unknown", ""
    text = _text(m.get("text"))
    if m.get("forwarded_from"):
        return "forward", text or "[聊天记录]"
    media = MEDIA.get(m.get("media_type") or "")
    if m.get("media_type") == "sticker" and m.get("sticker_emoji"):
        return "sticker", m["sticker_emoji"]
    shown, kind = None, None
    if media:
        kind, shown = media
    elif m.get("photo"):
        kind, shown = "image", "[图片]"
    elif m.get("file"):
        kind, shown = "file", "[文件]"
    elif m.get("poll") or m.get("contact_information") or m.get("location_information"):
        kind, shown = "card", "[卡片]"
    if kind and text.strip():
        return "text", shown + text  # a caption: words, as a picture with text is in QQ
    if kind:
        return kind, shown
    return ("text" if text.strip() else "unknown"), text


def _text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(part if isinstance(part, str) else str(part.get("text") or "") for part in value)
    return ""


def _time(m: dict, zone: ZoneInfo, path: Path) -> int:
    if m.get("date_unixtime"):
        return int(m["date_unixtime"])
    try:
        return int(datetime.fromisoformat(m["date"]).replace(tzinfo=zone).timestamp())
    except (KeyError, ValueError, TypeError):
        raise QingError(_("{path}: message {id} has no date.").format(path=path, id=m.get("id"))) from None
