"""The model behind one lock (Backend): the loaded model, the defaults a request starts from, the concurrency
bound, and the messages and options one request is generated with; and what streaming generation needs beside it
(_Trimmed, _ClientGone)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from qing.model.serve.api_requests import ApiError, ChatRequest


@dataclass
class Backend:
    """The loaded model, the defaults requests start from, and the limits every request goes through."""

    cm: object
    defaults: object
    """InferOptions: temperature, top_p, max_new_tokens a request does not set."""
    name: str
    max_concurrency: int = 8
    lock: threading.Lock = field(default_factory=threading.Lock)
    created: int = field(default_factory=lambda: int(time.time()))

    def __post_init__(self):
        self.slots = threading.BoundedSemaphore(self.max_concurrency)

    def messages(self, request: ChatRequest) -> list[dict]:
        """The client's messages, with the run's system prompt first when the client sent none."""
        if self.cm.system_prompt and not any(m["role"] == "system" for m in request.messages):
            return [{"role": "system", "content": self.cm.system_prompt}] + request.messages
        return request.messages

    def prepare(self, request: ChatRequest):
        """(messages, InferOptions) for this request; ApiError when the prompt cannot fit the context. Under lock."""
        from dataclasses import replace

        messages = self.messages(request)
        try:
            prompt = len(self.cm.tokenize(self.cm.render(messages)))
        except Exception as e:  # a template that raises on this order of roles, say
            raise ApiError(400, f"the model's chat template refused these messages ({type(e).__name__}).",
                           "messages") from None
        room = self.cm.context - prompt
        if room < 1:
            raise ApiError(400, f"the messages take {prompt} tokens; this model's context is {self.cm.context}.",
                           "messages", "context_length_exceeded")
        d = self.defaults
        temperature = d.temperature if request.temperature is None else request.temperature
        top_p = d.top_p if request.top_p is None else request.top_p
        opts = replace(d, temperature=0.0 if top_p == 0 else temperature, top_p=top_p or 1.0,
                       max_new_tokens=min(request.max_tokens or d.max_new_tokens, room),
                       seed=request.seed if request.seed is not None else d.seed)
        return messages, opts


class _ClientGone(Exception):
    pass


class _Trimmed:
    """Forwards streamed text as complete() returns it in full: no leading or trailing whitespace."""

    def __init__(self, send: Callable[[str], None]):
        self.send, self.started, self.pending = send, False, ""

    def __call__(self, piece: str) -> None:
        if not self.started:
            piece = piece.lstrip()
            if not piece:
                return
            self.started = True
        text = self.pending + piece
        body = text.rstrip()
        self.pending = text[len(body):]
        if body:
            self.send(body)
