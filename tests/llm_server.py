"""A real HTTP server on 127.0.0.1 speaking the chat-completions protocol, scripted per test.

It scores each sample it is sent: 5 when the owner's turns contain "好", else 2, and
can misbehave on purpose (fences, <think>, garbage, 429, 500, slow, 400 context).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Script:
    def __init__(self):
        self.models = ["tiny-judge"]
        self.style = "json"           # json | fenced | think | prose
        self.failures: list = []      # queued misbehaviours for the next requests: 429, 500, "garbage", "slow"
        self.context_limit = None     # samples per request above which the answer is a 400 context error
        self.schema = True            # False: a 400 when response_format is sent
        self.delay = 0.0
        self.key = None               # required Bearer key
        self.seen: list = []          # the sample texts scored, in order
        self.requests = 0
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    script: Script
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    disable_nagle_algorithm = True  # headers and body go out at once, no delayed-ACK stall

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: dict, headers: dict | None = None):
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        if self.script.key and self.headers.get("Authorization") != f"Bearer {self.script.key}":
            self._send(401, {"error": {"message": "bad key", "type": "invalid_request_error"}})
            return False
        return True

    def do_GET(self):
        if not self._authorised():
            return
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in self.script.models]})
        else:
            self._send(404, {"error": {"message": "not found"}})

    def do_POST(self):
        if not self._authorised():
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        s = self.script
        with s.lock:
            s.requests += 1
            failure = s.failures.pop(0) if s.failures else None
        if s.delay:
            time.sleep(s.delay)
        if failure == 429:
            return self._send(429, {"error": {"message": "slow down"}}, {"Retry-After": "0"})
        if failure == 500:
            return self._send(500, {"error": {"message": "boom"}})
        if failure == "slow":
            time.sleep(3)
        if not s.schema and "response_format" in body:
            return self._send(400, {"error": {"message": "response_format json_schema is not supported"}})
        samples = json.loads(body["messages"][-1]["content"])["samples"]
        if s.context_limit is not None and len(samples) > s.context_limit:
            return self._send(400, {"error": {"message": "This model's maximum context length is 100 tokens"}})
        results = []
        for sample in samples:
            mine = " ".join(t["content"] for t in sample["turns"] if t["role"] == "assistant")
            with s.lock:
                s.seen.append(mine)
            results.append({"id": sample["id"], "score": 5 if "好" in mine else 2, "reason": "ok",
                            "noise_turns": [i for i, t in enumerate(sample["turns"]) if "广告" in t["content"]]})
        text = json.dumps({"results": results}, ensure_ascii=False)
        if failure == "garbage":
            text = "I cannot help with that."
        elif s.style == "fenced":
            text = f"Here you go:\n```json\n{text}\n```\nDone."
        elif s.style == "think":
            text = f"<think>{{not json}} let me think</think>\n{text}"
        elif s.style == "prose":
            text = f"The scores are {text} as requested."
        self._send(200, {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": text}}],
                         # characters of the whole prompt stand in for its tokens
                         "usage": {"prompt_tokens": sum(len(m["content"]) for m in body["messages"]),
                                   "completion_tokens": 10, "total_tokens": 10}})


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client that gave up on a slow answer (timeout tests) closes its socket; the late write's
        # BrokenPipeError is expected, and printed it would land in whichever test captures stderr next.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def start(script: Script):
    handler = type("ScriptedHandler", (Handler,), {"script": script})
    server = QuietServer(("127.0.0.1", 0), handler)
    # shutdown() waits for the loop to look up: every 50 ms, not every 500 ms (once per test that stops one)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


if __name__ == "__main__":  # for the kill test and the bench: python tests/llm_server.py PORTFILE DELAY
    script = Script()
    script.delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    server, url = start(script)
    with open(sys.argv[1], "w") as f:
        f.write(url)
    while True:
        time.sleep(3600)
