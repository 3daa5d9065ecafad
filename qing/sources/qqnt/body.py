"""Decode and render the message body (column 40800) of QQ NT message rows.

The body is `repeated Element` at field 40800; each element is flat, with
its type in field 45002 (see shared/qq-nt-format.md, section 3). We decode
by field numbers only, through a descriptor built at import time and parsed
by protobuf's compiled (upb) parser - several times faster than pure Python,
which matters at a million rows. Fields we don't declare, and fields whose
wire type differs from the declared one, land in unknown fields and are
ignored, so odd rows never crash the parse.
"""

from __future__ import annotations

import json
from collections import Counter

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from qing.sources.qqnt.faces import face_name
from qing.sources.qqnt.protowire import WireError, iter_fields

BODY_FIELD = 40800

# element type (45002) -> (kind of a message made only of it, its rendering)
MEDIA = {
    2: ("image", "[图片]"),
    3: ("file", "[文件]"),
    4: ("voice", "[语音]"),
    5: ("video", "[视频]"),
    9: ("redpacket", "[红包]"),
    10: ("card", "[卡片]"),
    11: ("sticker", "[表情]"),
    16: ("forward", "[聊天记录]"),
    21: ("call", "[通话]"),
}
TEXT, PICTURE, VOICE, FACE, REPLY, GREY_TIP, ARK, MARKET_FACE, MARKDOWN = 1, 2, 4, 6, 7, 8, 10, 11, 14
GREY_TIP_RECALL = 1

_ELEMENT_FIELDS = {  # field number -> protobuf type; see qq-nt-format.md section 3
    45002: "uint32",  # element type
    45003: "uint32",  # sub-type
    45101: "bytes",   # text content
    45402: "bytes",   # picture / file / voice / video: file name
    45815: "bytes",   # picture summary, e.g. [动画表情]
    45923: "bytes",   # voice transcript
    47402: "uint64",  # reply: original msgSeq
    47416: "uint64",  # reply: original msgId
    47601: "uint32",  # face index
    47602: "bytes",   # face text, e.g. /微笑
    47901: "bytes",   # ark card JSON
    48701: "bytes",   # markdown text
    80900: "bytes",   # market face text, e.g. [贴贴]
}


def _build_classes():
    F = descriptor_pb2.FieldDescriptorProto
    types = {"uint32": F.TYPE_UINT32, "uint64": F.TYPE_UINT64, "bytes": F.TYPE_BYTES}
    proto = descriptor_pb2.FileDescriptorProto(name="qing_qqnt_body.proto", package="qing", syntax="proto2")
    element = proto.message_type.add(name="Element")
    for number, kind in _ELEMENT_FIELDS.items():
        element.field.add(name=f"f{number}", number=number, type=types[kind], label=F.LABEL_OPTIONAL)
    body = proto.message_type.add(name="Body")
    body.field.add(name="elements", number=BODY_FIELD, type=F.TYPE_MESSAGE,
                   type_name=".qing.Element", label=F.LABEL_REPEATED)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    get = message_factory.GetMessageClass
    return get(pool.FindMessageTypeByName("qing.Body")), get(pool.FindMessageTypeByName("qing.Element"))


Body, Element = _build_classes()


class BadBody(Exception):
    """A body that yields nothing usable; `cause` names why, for the summary."""

    def __init__(self, cause: str):
        super().__init__(cause)
        self.cause = cause


# render() returns (kind, text, reply_id, reply_seq, picture): a plain tuple, as it runs once per message.
# reply_id is the msgId of the quoted message when the reply element names it; reply_seq its msgSeq; picture the
# file name of the message's first picture (None when it has none), for WeClone's CSV.
Rendered = tuple


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _salvage(blob: bytes | str | None) -> list:
    """Elements parsed one by one from a body the whole-message parser refused; BadBody if none."""
    if blob is None:
        raise BadBody("null body")
    if isinstance(blob, (int, float)):  # SQLite columns take any type: a number where the body should be
        raise BadBody("number body")
    if isinstance(blob, str):  # a TEXT-typed cell: SQLite hands it over decoded
        blob = blob.encode("utf-8", "surrogateescape")
    elements, varints = [], 0
    try:
        for number, wire, value in iter_fields(blob):
            if number != BODY_FIELD:
                continue
            if wire != 2:
                varints += 1
                continue
            try:
                elements.append(Element.FromString(value))
            except DecodeError:
                pass
    except WireError:
        if not elements:
            raise BadBody("bad protobuf") from None
    if not elements:
        raise BadBody("varint body" if varints else "empty body" if not blob else "no elements")
    return elements


def render(blob: bytes | None, problems: Counter) -> Rendered:
    """Render a body to (kind, text, reply_id, reply_seq, picture) as qq-nt-format.md's "Rendering" says.

    Unknown element types are counted in `problems` and skipped; a body with
    nothing usable raises BadBody.
    """
    try:
        elements = Body.FromString(blob).elements
    except (DecodeError, TypeError):
        elements = _salvage(blob)
    if not elements:
        elements = _salvage(blob)  # raises with the precise cause: nothing usable is there
    if len(elements) == 1:  # most messages: one text element
        el = elements[0]
        if el.f45002 == TEXT:
            content = el.f45101.decode("utf-8", "replace")
            return ("text" if content.strip() else "unknown"), content, None, None, None
    parts: list[str] = []
    words = False
    media_kind = event = picture = None
    reply_id = reply_seq = None
    for el in elements:
        etype = el.f45002
        if etype == TEXT:
            content = _text(el.f45101)
            parts.append(content)
            words = words or bool(content.strip())
        elif etype == FACE:
            parts.append(face_name(el.f47601 if el.HasField("f47601") else None, _text(el.f47602)))
            words = True
        elif etype == MARKDOWN:
            content = _text(el.f48701)
            parts.append(content)
            words = words or bool(content.strip())
        elif etype == REPLY:
            reply_id = el.f47416 or None
            reply_seq = el.f47402 or None
        elif etype == GREY_TIP:
            event = "recall" if el.f45003 == GREY_TIP_RECALL else "system"
        elif etype in MEDIA:
            kind, shown = _media(etype, el)
            parts.append(shown)
            media_kind = media_kind or kind
            if etype == PICTURE and picture is None and el.f45402:
                picture = _file_name(el.f45402)
        else:
            problems[f"unknown element type {etype}"] += 1
    if event:
        return event, "[撤回了一条消息]" if event == "recall" else "[系统消息]", None, None, None
    return ("text" if words else media_kind or "unknown"), "".join(parts), reply_id, reply_seq, picture


def _file_name(raw: bytes) -> str | None:
    """The last part of a stored file name (a path's folders, control characters left out), None when empty."""
    name = raw.decode("utf-8", "replace").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c >= " " and c != "\x7f").strip()
    return name or None


def _media(etype: int, el) -> tuple[str, str]:
    kind, shown = MEDIA[etype]
    if etype == PICTURE and "动画表情" in _text(el.f45815):
        return "sticker", "[动画表情]"
    if etype == VOICE and el.f45923.strip():
        return kind, _text(el.f45923).strip()
    if etype == MARKET_FACE and el.f80900:
        return kind, _text(el.f80900)
    if etype == ARK and _is_forward_card(el.f47901):
        return "forward", "[聊天记录]"
    return kind, shown


def _is_forward_card(raw: bytes) -> bool:
    """New-style multi-forward messages are ark cards of the multimsg app."""
    try:
        return json.loads(raw).get("app") == "com.tencent.multimsg"
    except (ValueError, AttributeError):
        return False
