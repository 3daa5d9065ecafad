"""A chat-completions request, parsed and checked field by field (parse_request -> ChatRequest), and the error
answered to the client as an OpenAI-style body (ApiError). No HTTP here and no model: the body's bytes in, a
ChatRequest or an ApiError out."""

from __future__ import annotations

import json
from dataclasses import dataclass

MAX_STOPS = 16


class ApiError(Exception):
    """An error answered to the client as an OpenAI-style error body."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.kind = status, message, param, code, kind

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


@dataclass
class ChatRequest:
    messages: list[dict]
    stream: bool = False
    include_usage: bool = False
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _integer(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# OpenAI fields a bot may send that change nothing here, with the values that are harmless to ignore
IGNORED = {
    "model": lambda v: isinstance(v, str),  # one model is served, whatever name the client was configured with
    "user": lambda v: isinstance(v, str),
    "frequency_penalty": _number,
    "presence_penalty": _number,
    "logit_bias": lambda v: v == {},
    "logprobs": lambda v: v is False,
    "tools": lambda v: v == [],
    "tool_choice": lambda v: v in ("none", "auto"),
    "parallel_tool_calls": lambda v: isinstance(v, bool),
    "response_format": lambda v: v == {"type": "text"},
    "metadata": lambda v: isinstance(v, dict),
    "store": lambda v: isinstance(v, bool),
}
CHECKED = {
    "messages", "stream", "stream_options", "temperature", "top_p", "max_tokens", "max_completion_tokens", "stop",
    "n", "seed",
}
ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


def parse_request(raw: bytes) -> ChatRequest:
    """A chat-completions body checked field by field; ApiError 400 names the first field that is wrong."""
    try:
        return _parse(raw)
    except RecursionError:  # json and == recurse once per level: [[[[...]]]] 50,000 deep
        raise ApiError(400, "the request body is nested too deeply.") from None


def _parse(raw: bytes) -> ChatRequest:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "the request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object.")
    body = {k: v for k, v in body.items() if v is not None}  # null means "the default", as at OpenAI
    for key, value in body.items():
        if key in IGNORED and not IGNORED[key](value):
            raise ApiError(400, f"{key}={json.dumps(value)[:40]} is not supported by this server.", key,
                           "unsupported_value")
        if key not in IGNORED and key not in CHECKED:
            raise ApiError(400, f"unknown field {key!r}.", key, "unknown_parameter")
    if body.get("n", 1) != 1:
        raise ApiError(400, "only n=1 is supported.", "n", "unsupported_value")
    stream = body.get("stream", False)
    options = body.get("stream_options", {})
    if not isinstance(stream, bool):
        raise ApiError(400, "stream must be true or false.", "stream", "invalid_type")
    if not isinstance(options, dict) or set(options) - {"include_usage"} or \
            not isinstance(options.get("include_usage", False), bool):
        raise ApiError(400, "stream_options may only hold include_usage (true or false).", "stream_options")
    return ChatRequest(messages=_messages(body.get("messages")), stream=stream,
                       include_usage=options.get("include_usage", False),
                       temperature=_ranged(body, "temperature", 0, 2), top_p=_ranged(body, "top_p", 0, 1),
                       max_tokens=_max_tokens(body), stop=_stops(body.get("stop")), seed=_seed(body.get("seed")))


def _messages(messages) -> list[dict]:
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "messages must be a non-empty list.", "messages", "invalid_type")
    out = []
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(m, dict):
            raise ApiError(400, f"{where} must be an object.", where, "invalid_type")
        m = {k: v for k, v in m.items() if v is not None}
        if extra := sorted(set(m) - {"role", "content", "name"}):
            raise ApiError(400, f"{where} has fields this server does not take: {extra} (no tool calls).", where,
                           "unknown_parameter")
        if m.get("role") not in ROLES:
            raise ApiError(400, f"{where}.role must be one of {', '.join(ROLES)}.", f"{where}.role", "invalid_value")
        out.append({"role": ROLES[m["role"]], "content": _content(m.get("content", ""), where)})
    return out


def _content(content, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) for p in content):
        if any(p.get("type") != "text" or not isinstance(p.get("text"), str) for p in content):
            raise ApiError(400, f"{where}.content: only text parts are supported (no images or audio).",
                           f"{where}.content", "unsupported_value")
        return "\n".join(p["text"] for p in content)
    raise ApiError(400, f"{where}.content must be a string or a list of text parts.", f"{where}.content",
                   "invalid_type")


def _ranged(body: dict, key: str, low: float, high: float) -> float | None:
    value = body.get(key)
    if value is not None and (not _number(value) or not low <= value <= high):
        raise ApiError(400, f"{key} must be a number from {low} to {high}.", key, "invalid_value")
    return value


def _max_tokens(body: dict) -> int | None:
    found = None
    for key in ("max_tokens", "max_completion_tokens"):
        value = body.get(key)
        if value is not None and (not _integer(value) or value < 1):
            raise ApiError(400, f"{key} must be a positive integer.", key, "invalid_value")
        found = min(found, value) if found and value else (value or found)
    return found


def _stops(stop) -> tuple[str, ...]:
    if stop is None:
        return ()
    stops = [stop] if isinstance(stop, str) else stop
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops) or len(stops) > MAX_STOPS:
        raise ApiError(400, f"stop must be a string or a list of at most {MAX_STOPS} strings.", "stop", "invalid_type")
    return tuple(s for s in stops if s)


def _seed(seed) -> int | None:
    if seed is not None and not _integer(seed):
        raise ApiError(400, "seed must be an integer.", "seed", "invalid_type")
    return seed
