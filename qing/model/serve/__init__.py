"""An OpenAI-compatible chat API for the digital self, for bot frameworks (AstrBot, LangBot, NapCat-based bots).

One HTTP front on the standard library (ThreadingHTTPServer) for the llama.cpp and transformers engines, so
auth, errors, limits and the persona behave the same on both: GET /v1/models, POST /v1/chat/completions
(streamed as server-sent events or not). One model, so generation is serialised by one lock; requests beyond
the concurrency bound (in flight + waiting) are answered 429 at once. Hostile clients are bounded too: open
connections are capped (503 beyond), a request must arrive whole within the request timeout however slowly it
trickles, and a client that hangs up costs one debug line, not a traceback. The vLLM engine is vLLM's own server,
started as a subprocess with the run's adapter, system prompt (in its chat template) and the key in its
environment. Chat text and the key never reach a log above DEBUG.
"""

from __future__ import annotations

import hmac
import io
import ipaddress
import json
import logging
import select
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

from qing.errors import QingError
from qing.model.options import ENGINES, ServeOptions
from qing.model.run import Run, adapter_base

log = logging.getLogger(__name__)
MAX_BODY = 4 * 2**20
MAX_STOPS = 16


@dataclass
class Source:
    """What to serve: a run directory, a GGUF, a merged model, or a base plus an adapter."""

    run_dir: Path | None = None
    gguf: Path | None = None
    merged: Path | None = None
    adapter: Path | None = None
    model: str | None = None

    def name(self) -> str:
        path = self.run_dir or self.merged or (self.adapter.parent if self.adapter else None)
        if self.gguf is not None:
            return self.gguf.stem
        return path.resolve().name if path else (self.model or "qing").rstrip("/").split("/")[-1]


# --- which engine -------------------------------------------------------------------

def choose_engine(engine: str, src: Source, vllm_ready: Callable[[], str | None] | None = None) -> tuple[str, str]:
    """(engine, the reason it was chosen); src.gguf is filled in when llama.cpp serves a run directory's GGUF."""
    if engine not in ENGINES:
        raise QingError(f"unknown --engine {engine!r}; use one of: {', '.join(ENGINES)}.")
    if not (src.run_dir or src.gguf or src.merged or src.model or src.adapter):
        raise QingError("give a run directory (qing serve runs/qing), --gguf FILE, --merged DIR, or --model with "
                        "--adapter.")
    run = Run.open(src.run_dir) if src.run_dir else None
    has_weights = bool(src.merged or src.adapter or src.model) or bool(run and (run.merged or run.adapter))
    run_gguf = run.newest_gguf if run and not src.gguf else None
    if engine == "llama.cpp" or (engine == "auto" and (src.gguf or (run_gguf and not has_weights))):
        if src.gguf is None and run_gguf is None:
            raise QingError("--engine llama.cpp needs a GGUF: give --gguf FILE, or run `qing gguf RUN_DIR` first.")
        if src.gguf is None:
            src.gguf = run_gguf
            why = f"{src.run_dir} holds {run_gguf.name} and no adapter" if engine == "auto" else "asked for"
        else:
            why = "--gguf given" if engine == "auto" else "asked for"
        return "llama.cpp", why
    if src.gguf is not None:
        raise QingError(f"--engine {engine} serves Hugging Face weights, not a GGUF; use --engine llama.cpp.")
    if run is not None and not has_weights:
        raise run.unfinished()
    if engine != "auto":
        return engine, "asked for"
    missing = (vllm_ready or _vllm_missing)()
    if missing is None:
        return "vllm", "vLLM is installed and CUDA is present (batched generation for many chats at once)"
    return "transformers", f"{missing}; fine for one user, slow for many"


def _vllm_missing() -> str | None:
    """Why vLLM cannot serve here, or None when it can (import vllm works and CUDA is present)."""
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        return "vLLM is not installed"
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    return None if torch.cuda.is_available() else "no CUDA GPU (vLLM needs one)"


# --- requests -----------------------------------------------------------------------

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


# --- the model behind one lock -----------------------------------------------------------

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


# --- HTTP -------------------------------------------------------------------------------

class _DeadlineReader(io.RawIOBase):
    """The reading side of a connection: each receive waits only until the handler's deadline, so a request
    trickled a byte at a time (slowloris) is cut off there instead of holding a thread for ever."""

    def __init__(self, handler: "Handler"):
        self.handler = handler

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        h = self.handler
        left = h.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request did not arrive within the request timeout")
        h.connection.settimeout(left)
        try:
            return h.connection.recv_into(buffer)
        finally:
            h.connection.settimeout(h.timeout)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: bots send one request after another
    disable_nagle_algorithm = True  # each streamed chunk goes out at once
    timeout = 120  # a client that stops reading cannot hold the model lock longer than this per write
    server: "Server"

    def setup(self):
        super().setup()
        self.rfile.close()  # the socket's own reader: replaced by one that keeps the request timeout
        self.deadline = time.monotonic() + self.server.request_timeout
        self.rfile = io.BufferedReader(_DeadlineReader(self))

    def handle_one_request(self):
        self.deadline = time.monotonic() + self.server.request_timeout  # the next request, headers and body
        super().handle_one_request()

    def log_message(self, format, *args):  # the request line can hold anything a client put in a URL
        log.debug("http: " + format, *args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own refusals (a garbled request line, headers too long): JSON, as ours are."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # a request line too garbled to say a version: answer with a status
            self.request_version = "HTTP/1.0"
        try:
            self._json(code, ApiError(code, f"{message or 'bad request'}.").body(), {"Connection": "close"})
        except OSError:
            pass

    # routing

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def _other(self):
        self._route(self.command)

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _other

    def version_string(self) -> str:
        return "qing-serve"

    def _route(self, method: str) -> None:
        started, self.tokens, self.body_read = time.perf_counter(), None, False
        path = self.path.split("?", 1)[0].rstrip("/")
        path = path[3:] if path.startswith("/v1/") else path
        status = 500
        try:
            self._authorise()
            status = self._dispatch(method, path)
        except ApiError as e:
            status = self._refuse(e)
        except (_ClientGone, ConnectionError, TimeoutError):
            status, self.close_connection = 499, True
            log.debug("client went away before its reply was complete")
        except Exception as e:  # a bug: the client gets a 500, the server keeps serving
            log.warning("request failed: %s", type(e).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
            status, self.close_connection = 500, True
            try:
                self._json(500, ApiError(500, f"internal error ({type(e).__name__}).", kind="server_error").body())
            except OSError:
                pass
        if self.server.on_request:
            self.server.on_request(method, path, status, time.perf_counter() - started, self.tokens)

    def _dispatch(self, method: str, path: str) -> int:
        backend = self.server.backend
        if method == "GET" and path == "/models":
            return self._json(200, {"object": "list", "data": [self._model_card()]})
        if method == "GET" and path == f"/models/{backend.name}":
            return self._json(200, self._model_card())
        if method == "POST" and path == "/chat/completions":
            return self._chat()
        self._drain()
        if path in ("/models", "/chat/completions"):
            raise ApiError(405, f"{method} is not allowed on {path}.", code="method_not_allowed")
        raise ApiError(404, "no such endpoint; this server has GET /v1/models and POST /v1/chat/completions.",
                       code="not_found")

    def _refuse(self, e: ApiError) -> int:
        """Answer an ApiError; 499 when the client hung up first (no traceback: any client can do that at will)."""
        try:
            self._drain()
            return self._json(e.status, e.body(), {"WWW-Authenticate": "Bearer"} if e.status == 401 else
                              {"Retry-After": "1"} if e.status == 429 else None)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
            log.debug("client went away before its error reply")
            return 499

    def _model_card(self) -> dict:
        b = self.server.backend
        return {"id": b.name, "object": "model", "created": b.created, "owned_by": "qing"}

    def _authorise(self) -> None:
        key = self.server.api_key
        if not key:
            return
        given = self.headers.get("Authorization", "")
        scheme, _, token = given.partition(" ")
        if not (scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), key.encode())):
            raise ApiError(401, "missing or wrong API key: send the header Authorization: Bearer <your key>.",
                           code="invalid_api_key")

    # bodies

    def _body_length(self) -> int:
        """Content-Length in ASCII digits (int() also takes '²' and '٣'); ApiError, connection closed, otherwise."""
        lengths = {v.strip(" \t") for v in self.headers.get_all("Content-Length", [])}
        length = next(iter(lengths), "")
        if not lengths or "Transfer-Encoding" in self.headers:
            self.close_connection = True
            raise ApiError(411, "send the body with a Content-Length header (no chunked bodies).")
        if len(lengths) > 1 or not (length.isascii() and length.isdigit()):
            self.close_connection = True
            raise ApiError(400, "Content-Length must be one number in ASCII digits.")
        if int(length) > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, f"the body is larger than {MAX_BODY // 2**20} MiB.")
        return int(length)

    def _read_body(self) -> bytes:
        length = self._body_length()
        self.body_read = True
        return self.rfile.read(length)

    def _drain(self) -> None:
        """Read an unread body, so the next request on this keep-alive connection starts where it should."""
        if getattr(self, "body_read", False):
            return
        self.body_read = True
        if self.command == "POST" or "Content-Length" in self.headers or "Transfer-Encoding" in self.headers:
            try:
                self.rfile.read(self._body_length())
            except ApiError:  # no body we can find the end of: this connection ends with the reply
                pass

    def _json(self, status: int, body: dict, headers: dict | None = None) -> int:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        return status

    # chat

    def _chat(self) -> int:
        request = parse_request(self._read_body())
        backend = self.server.backend
        if not backend.slots.acquire(blocking=False):
            raise ApiError(429, f"the server is busy ({backend.max_concurrency} requests in flight); try again.",
                           code="rate_limit_exceeded", kind="rate_limit_error")
        try:
            with backend.lock:
                if self._client_gone():
                    raise _ClientGone()
                messages, opts = backend.prepare(request)
                return self._stream(messages, opts, request) if request.stream else \
                    self._complete(messages, opts, request)
        finally:
            backend.slots.release()

    def _complete(self, messages: list[dict], opts, request: ChatRequest) -> int:
        from qing.model import infer

        done = infer.complete(self.server.backend.cm, messages, opts, stop=request.stop)
        self.tokens = (done.prompt_tokens, done.completion_tokens)
        return self._json(200, {**self._head("chat.completion"), "choices": [
            {"index": 0, "message": {"role": "assistant", "content": done.text}, "logprobs": None,
             "finish_reason": done.finish_reason}], "usage": _usage(done)})

    def _stream(self, messages: list[dict], opts, request: ChatRequest) -> int:
        from qing.model import infer

        head = self._head("chat.completion.chunk")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")  # the stream ends when the connection does
        self.end_headers()
        self.close_connection = True

        def event(delta: dict, finish: str | None = None, **extra) -> None:
            self._event({**head, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                         **extra})

        event({"role": "assistant", "content": ""})
        try:
            done = infer.complete(self.server.backend.cm, messages, opts, stop=request.stop,
                                  on_text=_Trimmed(lambda text: event({"content": text})))
        except _ClientGone:
            raise
        except Exception as e:  # the status line is gone: say it in the stream, as OpenAI does
            log.warning("generation failed: %s", type(e).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
            self._event(ApiError(500, f"generation failed ({type(e).__name__}).", kind="server_error").body())
            self._send_line(b"data: [DONE]\n\n")
            return 500
        self.tokens = (done.prompt_tokens, done.completion_tokens)
        event({}, done.finish_reason)
        if request.include_usage:
            self._event({**head, "choices": [], "usage": _usage(done)})
        self._send_line(b"data: [DONE]\n\n")
        return 200

    def _head(self, kind: str) -> dict:
        return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": kind, "created": int(time.time()),
                "model": self.server.backend.name, "system_fingerprint": None}

    def _event(self, body: dict) -> None:
        self._send_line(b"data: " + json.dumps(body, ensure_ascii=False).encode() + b"\n\n")

    def _send_line(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:  # reset, broken pipe, or a client that stopped reading (timeout)
            raise _ClientGone() from None

    def _client_gone(self) -> bool:
        """True when the client hung up while its request waited for the model (no use generating for it)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True


def _usage(done) -> dict:
    return {"prompt_tokens": done.prompt_tokens, "completion_tokens": done.completion_tokens,
            "total_tokens": done.prompt_tokens + done.completion_tokens}


class Server(ThreadingHTTPServer):
    daemon_threads = True  # Ctrl+C does not wait for a slow client
    request_queue_size = 128  # a burst of bot messages connects at once
    backend: Backend | None = None
    api_key: str | None = None
    on_request: Callable | None = None
    max_connections: int = 64
    request_timeout: float = 15.0
    open_connections: int = 0
    refused_said: float = 0.0
    """When the last 'refusing connections' warning was given (one a minute, not one per refused connection)."""

    def __init__(self, *args, **kw):
        self.count_lock = threading.Lock()
        super().__init__(*args, **kw)

    def process_request(self, request, client_address):
        """A thread per connection, up to max_connections; beyond it, a 503 and the connection closed at once."""
        with self.count_lock:
            full = self.open_connections >= self.max_connections
            self.open_connections += not full
        if full:
            return self._turn_away(request)
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._closed()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._closed()

    def _closed(self) -> None:
        with self.count_lock:
            self.open_connections -= 1

    def _turn_away(self, sock: socket.socket) -> None:
        body = json.dumps(ApiError(503, f"too many open connections (--max-connections {self.max_connections}); "
                                        "try again.", code="too_many_connections", kind="server_error").body())
        try:
            sock.setblocking(False)
            try:  # what the client sent already: closing on unread bytes would reset before it reads the answer
                sock.recv(65536)
            except OSError:
                pass
            sock.send(f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: "
                      f"{len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{body}".encode())
        except OSError:
            pass
        self.shutdown_request(sock)
        if time.monotonic() - self.refused_said > 60:
            self.refused_said = time.monotonic()
            log.warning("refusing connections: %d are open (--max-connections); a client may be holding many "
                        "open on purpose", self.max_connections)

    def handle_error(self, request, client_address):
        """One line for what escaped a handler, never a traceback in the console (--verbose shows it)."""
        import sys

        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):  # a client hanging up: its right, and no news
            log.debug("client went away: %s", type(error).__name__)
            return
        log.warning("a connection failed: %s", type(error).__name__, exc_info=log.isEnabledFor(logging.DEBUG))


def bind(host: str, port: int) -> Server:
    """The listening socket, before the (slow) model load: a port in use is said at once."""
    cls = type("Server6", (Server,), {"address_family": socket.AF_INET6}) if ":" in host else Server
    try:
        return cls((host, port), Handler)
    except OSError as e:
        raise QingError(f"cannot listen on {host}:{port} ({e.strerror or type(e).__name__}); "
                        "pick another --port or --host.") from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url(server: Server) -> str:
    host, port = server.server_address[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/v1"


def run_forever(server: Server) -> None:
    """Serve until Ctrl+C (or SIGTERM, as systemd and docker stop a service), then close the socket."""
    import signal

    if threading.current_thread() is threading.main_thread():
        def stop(signum, frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def start(cm, defaults, opts: ServeOptions, name: str, on_request: Callable | None = None,
          server: Server | None = None) -> Server:
    """A server for a loaded model, ready for run_forever (or serve_forever in a thread)."""
    server = server or bind(opts.host, opts.port)
    server.backend = Backend(cm, defaults, opts.model_name or name, opts.max_concurrency)
    server.api_key, server.on_request = opts.api_key or None, on_request
    server.max_connections, server.request_timeout = opts.max_connections, opts.request_timeout
    return server


# --- vLLM -----------------------------------------------------------------------------------

LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)  # the ranks vLLM's --max-lora-rank takes


def persona_template(template: str, system: str | None) -> str:
    """The chat template, rewritten to put the run's system prompt first when a request has none, thinking off."""
    head = "{%- set enable_thinking = false %}"
    if system:
        head += ("{%- if not (messages and messages[0]['role'] == 'system') %}"
                 f"{{%- set messages = [{{'role': 'system', 'content': {json.dumps(system)}}}] + messages %}}"
                 "{%- endif %}")
    return head + template


def vllm_command(src: Source, opts: ServeOptions, name: str, template_file: Path | None,
                 executable: str | None = None) -> list[str]:
    """`vllm serve` for a merged model, or a base with the adapter as a LoRA module called NAME. No key in it."""
    import sys

    base, adapter = _vllm_weights(src)
    cmd = [executable, "serve", str(base)] if executable else \
        [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(base)]
    cmd += ["--host", opts.host, "--port", str(opts.port), "--tensor-parallel-size", str(opts.tensor_parallel_size),
            "--max-num-seqs", str(opts.max_concurrency)]
    if adapter is not None:
        rank = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8")).get("r", 16)
        cmd += ["--enable-lora", "--lora-modules", f"{name}={adapter}",
                "--max-lora-rank", str(next((r for r in LORA_RANKS if r >= rank), LORA_RANKS[-1]))]
    else:
        cmd += ["--served-model-name", name]
    if template_file is not None:
        cmd += ["--chat-template", str(template_file)]
    return cmd


def _vllm_weights(src: Source) -> tuple[Path | str, Path | None]:
    """(model vLLM loads, LoRA adapter or None), as qing.infer.load picks them."""
    run = Run.open(src.run_dir) if src.run_dir else None
    merged, adapter = src.merged, src.adapter
    if run and merged is None and adapter is None:
        merged, adapter = run.merged, run.adapter
        if merged is None and adapter is None:
            raise run.unfinished()
    if merged is not None:
        return merged, None
    base = src.model or (run.base_model if run else None) or (adapter_base(adapter) if adapter else None)
    if not base:
        raise QingError("give a run directory, --merged DIR, or --model (with --adapter DIR).")
    return base, adapter


def serve_vllm(src: Source, opts: ServeOptions, name: str, system: str | None, template: str | None,
               note: Callable[[str], None]) -> int:
    """Run vLLM's OpenAI server in the foreground until it ends or Ctrl+C; returns its exit status."""
    import os
    import shutil
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="qing-serve-") as tmp:
        template_file = None
        if template is not None:
            template_file = Path(tmp) / "chat_template.jinja"
            template_file.write_text(persona_template(template, system), encoding="utf-8")
        cmd = vllm_command(src, opts, name, template_file, shutil.which("vllm"))
        env = dict(os.environ)
        if opts.api_key:
            env["VLLM_API_KEY"] = opts.api_key  # in its environment, not in `ps` output
        note(f"starting vLLM: {' '.join(cmd)}")
        proc = subprocess.Popen(cmd, env=env)
        try:
            return proc.wait()
        except KeyboardInterrupt:  # the terminal sent vLLM the same Ctrl+C; give it time to stop
            try:
                return proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                return proc.wait()


def _vllm_persona(src: Source, system_override: str | None) -> tuple[str | None, str | None]:
    """(system prompt, chat template) for vLLM: the run's, as qing infer would use them."""
    from qing.model import chat_format as chat
    run = Run.open(src.run_dir) if src.run_dir else None
    system = system_override if system_override is not None else (run.system_prompt if run else None)
    base, adapter = _vllm_weights(src)
    template = run.template if run else "auto"
    return system or None, chat.load_tokenizer(adapter or Path(base), template).chat_template


# --- the command ---------------------------------------------------------------------------

def serve(src: Source, engine: str, opts: ServeOptions, defaults, note: Callable[[str], None],
          warn: Callable[[str], None], on_request: Callable | None = None,
          before_transformers: Callable[[], None] = lambda: None) -> None:
    """Choose the engine, load the model, and serve until Ctrl+C. DEFAULTS: InferOptions requests start from."""
    engine, why = choose_engine(engine, src)
    if engine != "llama.cpp":
        before_transformers()
    note(f"engine: {engine} ({why})")
    if not is_loopback(opts.host) and not opts.api_key:
        warn(f"listening on {opts.host} with no API key: anyone who can reach this port can chat with your "
             "digital self; set --api-key or QING_SERVE_API_KEY.")
    name = opts.model_name or src.name()
    if engine == "vllm":
        system, template = _vllm_persona(src, defaults.system_prompt)
        status = serve_vllm(src, opts, name, system, template, note)
        if status not in (0, 130, -2):
            raise QingError(f"vLLM stopped with exit status {status}; its own messages above say why.")
        return
    from qing.model import infer

    server = bind(opts.host, opts.port)
    try:
        if engine == "llama.cpp":
            cm = infer.load(gguf=src.gguf, opts=defaults, gpu_layers=opts.gpu_layers)
        else:
            cm = infer.load(src.run_dir, src.model, src.adapter, src.merged, defaults)
    except BaseException:
        server.server_close()
        raise
    start(cm, defaults, opts, name, on_request, server)
    note(f"serving {cm.description} as model {name!r} at {url(server)} "
         f"({'API key required' if opts.api_key else 'no API key'}; at most {opts.max_concurrency} requests at once, "
         f"{opts.max_connections} connections open)"
         + ("; system prompt: the run's" if cm.system_prompt else "; no system prompt"))
    note("Ctrl+C stops it.")
    run_forever(server)
