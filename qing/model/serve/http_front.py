"""The HTTP front on the standard library for the llama.cpp and transformers engines: the request handler
(Handler: routing, auth, bodies, chat answered whole or streamed as server-sent events), the server with its
connection cap and request timeout (Server), and binding, starting and running it (bind, start, run_forever,
url, is_loopback)."""

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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from qing.errors import QingError
from qing.i18n import _
from qing.model.options import ServeOptions
from qing.model.serve.api_requests import ApiError, ChatRequest, parse_request
from qing.model.serve.backend import Backend, _ClientGone, _Trimmed

log = logging.getLogger("qing.model.serve")  # the package's name, as in the console before the split
MAX_BODY = 4 * 2**20


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
        scheme, _space, token = given.partition(" ")
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
            readable, _writable, _failed = select.select([self.connection], [], [], 0)
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
            log.warning(_("refusing connections: {count} are open (--max-connections); a client may be holding many "
                          "open on purpose").format(count=self.max_connections))

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
        raise QingError(_("cannot listen on {host}:{port} ({reason}); pick another --port or --host.").format(
            host=host, port=port, reason=e.strerror or type(e).__name__)) from None


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
