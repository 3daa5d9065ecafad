"""`qing serve`: a real server (python -m qing serve) on 127.0.0.1, talked to with the openai client and raw HTTP.

A tiny model memorises one exchange (as in test_finetune); the server's replies at temperature 0 must be what
`qing infer --prompt` says, on the transformers engine (the run directory) and on llama.cpp (its GGUF).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("peft")
pytest.importorskip("llama_cpp")
openai = pytest.importorskip("openai")

from test_finetune import FAST, MEMO, SYSTEM, sample, write_dataset  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from qing.cli import app  # noqa: E402
from qing.model import serve  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-qing-Zq8!test-key-4471"
OTHER = "今天吃什么"


def qing(*args) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def memo_run(tmp_path_factory, tiny_model) -> Path:
    """A run that memorised MEMO (adapter + merged), and its GGUF beside it."""
    root = tmp_path_factory.mktemp("serve")
    data = write_dataset(root / "dataset", [sample(MEMO)] * 16, [sample(MEMO)] * 2)
    out = root / "memo"
    qing("finetune", data, "-o", out, "--model", tiny_model, "--max-steps", "30", "--merge", *FAST[2:])
    qing("gguf", out)
    return out


class Server:
    """python -m qing serve ARGS on a free port; its stderr collected line by line."""

    def __init__(self, *args, env: dict | None = None):
        env = dict(os.environ, OMP_NUM_THREADS="1", COLUMNS="400", **(env or {}))
        # Ctrl+C as in a terminal, even where the tests run with SIGINT ignored (a shell script's background job,
        # some CI runners): an ignored SIGINT is inherited, and Python then installs no KeyboardInterrupt handler
        self.proc = subprocess.Popen([sys.executable, "-m", "qing", "serve", *map(str, args), "--port", "0"],
                                     cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if not self.ready.wait(120) or self.proc.poll() is not None:
            self.proc.kill()
            raise AssertionError("server did not start:\n" + self.output)
        self.url = re.search(r"(http://127\.0\.0\.1:\d+/v1)", self.output).group(1)
        self.port = int(self.url.split(":")[2].split("/")[0])

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            if "Ctrl+C" in line:
                self.ready.set()
        self.ready.set()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def says(self, text: str, within: float = 10) -> bool:
        """Whether the server prints text within a few seconds: its log reaches the reader thread in its own time."""
        deadline = time.monotonic() + within
        while text not in self.output and time.monotonic() < deadline:
            time.sleep(0.05)
        return text in self.output

    def client(self, key: str | None = None, **kw) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url, api_key=key or "none", max_retries=0, timeout=60, **kw)

    def raw(self, method: str, path: str, body: bytes | str | None = None, key: str | None = KEY):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
        conn.request(method, path, body=body.encode() if isinstance(body, str) else body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, json.loads(data) if data.startswith(b"{") else data

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(30)
        self.reader.join(10)  # all it printed, up to the end of the pipe
        return code


@pytest.fixture(scope="module")
def tf_server(memo_run):
    server = Server(memo_run, "--api-key", KEY, "--max-new-tokens", "24")
    yield server
    if server.proc.poll() is None:
        server.proc.kill()


@pytest.fixture(scope="module")
def llama_server(memo_run):
    server = Server("--gguf", memo_run / "memo-f16.gguf", "--max-concurrency", "64", "--max-new-tokens", "24")
    yield server
    server.proc.kill()


@pytest.fixture(scope="module")
def answers(memo_run):
    """What `qing infer --prompt` says to MEMO[0] and OTHER at temperature 0, on the run and on its GGUF."""
    out = {}
    for engine, target in (("transformers", [memo_run]), ("llama.cpp", ["--gguf", memo_run / "memo-f16.gguf"])):
        for prompt in (MEMO[0], OTHER):
            text = qing("infer", *target, "--prompt", prompt, "--temperature", "0", "--max-new-tokens", "24")
            out[engine, prompt] = text.rstrip("\n")
    assert out["transformers", MEMO[0]] == out["llama.cpp", MEMO[0]] == MEMO[1]
    return out


def ask(client, prompt: str, stream: bool = False, **kw):
    messages = [{"role": "user", "content": prompt}]
    if not stream:
        return client.chat.completions.create(model="memo", messages=messages, temperature=0, **kw)
    chunks = list(client.chat.completions.create(model="memo", messages=messages, temperature=0, stream=True, **kw))
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks


# --- the transformers engine: a run directory --------------------------------------------

@pytest.mark.slow
def test_transformers_replies_as_infer_does(tf_server, answers):
    assert "engine: transformers" in tf_server.output
    client = tf_server.client(KEY)
    assert [m.id for m in client.models.list().data] == ["memo"]
    for prompt in (MEMO[0], OTHER):
        reply = ask(client, prompt)
        assert reply.choices[0].message.content == answers["transformers", prompt]
        assert reply.object == "chat.completion" and reply.model == "memo" and reply.choices[0].message.role == \
            "assistant"
        assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens > 0
        text, chunks = ask(client, prompt, stream=True, stream_options={"include_usage": True})
        assert text == answers["transformers", prompt]
        assert chunks[0].choices[0].delta.role == "assistant" and chunks[-2].choices[0].finish_reason in \
            ("stop", "length")
        assert chunks[-1].usage.completion_tokens == reply.usage.completion_tokens


@pytest.mark.slow
def test_the_runs_system_prompt_is_applied_when_the_client_sends_none(tf_server):
    client = tf_server.client(KEY)

    def prompt_tokens(system):
        head = [{"role": "system", "content": system}] if system else []
        reply = client.chat.completions.create(model="x", messages=head + [{"role": "user", "content": MEMO[0]}],
                                               temperature=0, max_tokens=1)
        return reply.usage.prompt_tokens

    assert prompt_tokens(None) == prompt_tokens(SYSTEM) > prompt_tokens("x")


@pytest.mark.slow
def test_api_key_is_required_and_never_shown(tf_server):
    for key in (None, "wrong", KEY + "x"):
        status, body = tf_server.raw("GET", "/v1/models", key=key)
        assert status == 401 and body["error"]["code"] == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        ask(tf_server.client("wrong"), MEMO[0])
    assert tf_server.raw("GET", "/v1/models")[0] == 200


BAD = [
    "{not json", "[]", '{"messages": "hi"}', '{"messages": []}', '{"messages": [{"role": "robot", "content": "x"}]}',
    '{"messages": [{"role": "user", "content": "x"}], "n": 2}',
    '{"messages": [{"role": "user", "content": "x"}], "temperature": "hot"}',
    '{"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}',
    '{"messages": [{"role": "user", "content": "x"}], "stop": [1, 2]}',
    '{"messages": [{"role": "user", "content": "x"}], "frobnicate": true}',
    '{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}',
    '{"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]}',
    b"\xff\xfe",
]


@pytest.mark.slow
def test_malformed_requests_get_400_and_the_server_keeps_serving(tf_server):
    for body in BAD:
        status, answer = tf_server.raw("POST", "/v1/chat/completions", body)
        assert status == 400, body
        assert set(answer["error"]) == {"message", "type", "param", "code"}, body
    assert tf_server.raw("GET", "/v1/nothing")[0] == 404
    assert tf_server.raw("POST", "/v1/models", "{}")[0] == 405
    assert ask(tf_server.client(KEY), MEMO[0]).choices[0].message.content == MEMO[1]


KILLED_CLIENT = """
import http.client, json, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
body = {"messages": [{"role": "user", "content": "今天"}], "stream": True, "max_tokens": 400, "temperature": 1.5}
conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Authorization": "Bearer " + sys.argv[2]})
response = conn.getresponse()
print(response.status, response.readline().decode().strip()[:6], flush=True)
import time; time.sleep(60)
"""


@pytest.mark.slow
def test_a_client_killed_mid_stream_leaves_the_server_healthy(tf_server):
    client = subprocess.Popen([sys.executable, "-c", KILLED_CLIENT, str(tf_server.port), KEY],
                              stdout=subprocess.PIPE, text=True)
    assert client.stdout.readline().strip() == "200 data:"
    client.kill()
    client.wait()
    with ThreadPoolExecutor(3) as pool:  # the lock is free again: these all get through
        replies = list(pool.map(lambda _: ask(tf_server.client(KEY), MEMO[0]), range(3)))
    assert [r.choices[0].message.content for r in replies] == [MEMO[1]] * 3
    assert "Traceback" not in tf_server.output


def exchange(port: int, request: bytes) -> tuple[int, dict]:
    """Send raw bytes, read the answer to the end: (status, JSON error body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def post(body: bytes, length: bytes | None = None, key: str = KEY) -> bytes:
    length = str(len(body)).encode() if length is None else length
    return (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " +
            key.encode() + b"\r\nContent-Length: " + length + b"\r\n\r\n" + body)


@pytest.mark.slow
def test_a_content_length_in_unicode_digits_gets_400(tf_server):
    body = json.dumps({"messages": [{"role": "user", "content": "x"}]}).encode()
    for length in (b"\xb2", "²".encode(), "٣".encode(), b"1_0", b"-1", b"0x10"):
        for key in (KEY, "wrong"):  # before the key check (the body is drained) and after it (the body is read)
            status, answer = exchange(tf_server.port, post(body, length, key))
            assert status == (400 if key == KEY else 401) and set(answer["error"]) == {"message", "type", "param",
                                                                                     "code"}, (length, key)
    assert exchange(tf_server.port, post(body, str(len(body)).encode() + b" "))[0] == 200  # whitespace is allowed
    assert "Traceback" not in tf_server.output and "ValueError" not in tf_server.output


@pytest.mark.slow
def test_json_nested_fifty_thousand_deep_gets_400(tf_server):
    for body in ("[" * 50_000 + "]" * 50_000, '{"messages": [{"role": "user", "content": "x"}], "metadata": ' +
                 '{"a": ' * 50_000 + "1" + "}" * 50_001):
        status, answer = exchange(tf_server.port, post(body.encode()))
        assert status == 400 and "deep" in answer["error"]["message"]
    assert "Traceback" not in tf_server.output and "RecursionError" not in tf_server.output


def reset(sock: socket.socket) -> None:
    """Close with a TCP reset, as a killed client or a hostile one does: the server's next read or write fails."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@pytest.mark.slow
def test_clients_that_hang_up_before_reading_a_4xx_leave_no_traceback(tf_server):
    partial = post(b'{"messages": [', b"5000", "wrong")  # a 401 whose body never comes: the server drains it
    for request in (partial, partial[:40], post(b"{not json"), post(b"{}", key="wrong")) * 10:
        sock = socket.create_connection(("127.0.0.1", tf_server.port), timeout=30)
        sock.sendall(request)
        reset(sock)
    assert tf_server.raw("GET", "/v1/models")[0] == 200
    assert ask(tf_server.client(KEY), MEMO[0]).choices[0].message.content == MEMO[1]
    assert not re.search(r"Traceback|ConnectionResetError|BrokenPipeError", tf_server.output)


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_the_key_was_never_printed(tf_server):
    assert tf_server.stop() == 0
    output = tf_server.output
    assert output.rstrip().endswith("stopped.") and "Traceback" not in output
    assert KEY not in output and "API key required" in output
    assert MEMO[0] not in output and MEMO[1] not in output  # no chat text above DEBUG either


# --- the llama.cpp engine: the run's GGUF ----------------------------------------------------

@pytest.mark.slow
def test_llama_cpp_replies_as_infer_does(llama_server, answers):
    assert "engine: llama.cpp (--gguf given)" in llama_server.output
    client = llama_server.client()
    assert [m.id for m in client.models.list().data] == ["memo-f16"]
    for prompt in (MEMO[0], OTHER):
        assert ask(client, prompt).choices[0].message.content == answers["llama.cpp", prompt]
        assert ask(client, prompt, stream=True)[0] == answers["llama.cpp", prompt]


@pytest.mark.slow
def test_the_console_speaks_chinese_and_the_api_english(memo_run):
    """The user reads the console in their language; bots read OpenAI-style errors, in English whatever it is."""
    server = Server("--gguf", memo_run / "memo-f16.gguf", env={"QING_LANG": "zh"})
    try:
        assert "引擎：llama.cpp（给了 --gguf）" in server.output and "正在以模型名 'memo-f16' 提供" in server.output
        assert "不需要 API 密钥" in server.output and "按 Ctrl+C 停止。" in server.output
        status, answer = server.raw("GET", "/v1/nothing")
        assert status == 404 and answer["error"]["message"].startswith("no such endpoint")
        status, answer = server.raw("POST", "/v1/chat/completions", "{")
        assert status == 400 and answer["error"]["message"] == "the request body is not valid JSON."
    finally:
        server.stop()


@pytest.mark.slow
def test_stop_sequences_and_max_tokens(llama_server):
    client = llama_server.client()
    cut = ask(client, MEMO[0], stop="改天")
    assert cut.choices[0].message.content == MEMO[1][:MEMO[1].index("改天")].strip()
    assert cut.choices[0].finish_reason == "stop"
    assert ask(client, MEMO[0], stream=True, stop=["改天", "zz"])[0] == cut.choices[0].message.content
    short = ask(client, MEMO[0], max_completion_tokens=2)
    assert short.choices[0].finish_reason == "length" and short.usage.completion_tokens == 2


def _burst(server, n: int) -> list:
    client = server.client()

    def one(i):
        try:
            reply = client.chat.completions.create(
                model="memo", messages=[{"role": "user", "content": MEMO[0]}], temperature=0, max_tokens=8)
            return reply.choices[0].message.content
        except openai.RateLimitError:
            return 429
        except Exception as e:  # anything else is a failure the test reports
            return repr(e)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


@pytest.mark.slow
def test_fifty_concurrent_requests_all_succeed_within_the_bound(llama_server):
    results = _burst(llama_server, 50)
    assert results == [MEMO[1][:len(results[0])]] * 50 and results[0]


@pytest.mark.slow
def test_requests_beyond_a_small_bound_get_429_and_nothing_else(memo_run):
    server = Server("--gguf", memo_run / "memo-f16.gguf", "--max-concurrency", "2")
    try:
        results = _burst(server, 50)
    finally:
        server.proc.kill()
    rejected = results.count(429)
    assert rejected > 0 and all(r == 429 or (isinstance(r, str) and MEMO[1].startswith(r)) for r in results)
    assert len(results) - rejected >= 2


@pytest.fixture(scope="module")
def capped_server(memo_run):
    server = Server("--gguf", memo_run / "memo-f16.gguf", "--max-connections", "4", "--request-timeout", "3")
    yield server
    server.proc.kill()


@pytest.mark.slow
def test_connections_beyond_the_cap_get_503_and_the_server_recovers(capped_server):
    idle = [socket.create_connection(("127.0.0.1", capped_server.port)) for _ in range(4)]
    status, answer = exchange(capped_server.port, b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 503 and answer["error"]["code"] == "too_many_connections"
    for sock in idle:
        sock.close()
    for _ in range(100):  # the server sees the hang-ups in its own time
        status = capped_server.raw("GET", "/v1/models")[0]
        if status == 200:
            break
        time.sleep(0.1)
    assert status == 200
    assert capped_server.says("--max-connections") and "Traceback" not in capped_server.output


@pytest.mark.slow
def test_a_request_trickled_byte_by_byte_is_cut_off_at_the_request_timeout(capped_server):
    sock = socket.create_connection(("127.0.0.1", capped_server.port), timeout=1)
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    with pytest.raises(OSError):  # slowloris: one header byte at a time, never done, until the server hangs up
        while time.monotonic() - started < 30:
            sock.sendall(b"X-a: b\r\n")
            sock.settimeout(0.3)
            try:
                if sock.recv(1024) == b"":
                    raise ConnectionResetError("closed by the server")
            except TimeoutError:
                pass
    sock.close()
    assert capped_server.raw("GET", "/v1/models")[0] == 200
    assert "Traceback" not in capped_server.output


# --- choosing the engine, and the vLLM command (not run here: no CUDA) ---------------------------

def test_engine_rules(tmp_path):
    run = tmp_path / "run"
    (run / "adapter").mkdir(parents=True)
    with pytest.raises(Exception, match="not a run directory"):
        serve.choose_engine("auto", serve.Source(run_dir=run), lambda: None)
    (run / "qing-run.json").write_text(json.dumps({"options": {}, "model_dir": str(tmp_path / "base")}))
    with pytest.raises(Exception, match="no finished adapter"):
        serve.choose_engine("auto", serve.Source(run_dir=run), lambda: None)
    (run / "model-f16.gguf").write_bytes(b"GGUF")
    assert serve.choose_engine("auto", serve.Source(run_dir=run), lambda: None)[0] == "llama.cpp"
    (run / "adapter" / "adapter_config.json").write_text("{}")
    assert serve.choose_engine("auto", serve.Source(run_dir=run), lambda: None)[0] == "vllm"
    engine, why = serve.choose_engine("auto", serve.Source(run_dir=run), lambda: "vLLM is not installed")
    assert engine == "transformers" and "vLLM is not installed" in why
    src = serve.Source(run_dir=run)
    assert serve.choose_engine("llama.cpp", src) == ("llama.cpp", "asked for") and src.gguf.name == "model-f16.gguf"
    with pytest.raises(Exception, match="not a GGUF"):
        serve.choose_engine("vllm", serve.Source(gguf=run / "model-f16.gguf"))


def test_vllm_command_keeps_the_key_out_and_the_persona_in(tmp_path, tiny_model):
    from qing.model import chat_format as chat

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"r": 24, "base_model_name_or_path": str(tiny_model)}))
    opts = serve.ServeOptions(api_key=KEY, tensor_parallel_size=2)
    cmd = serve.vllm_command(serve.Source(adapter=adapter), opts, "me", tmp_path / "t.jinja", "/usr/bin/vllm")
    assert cmd[:3] == ["/usr/bin/vllm", "serve", str(tiny_model)] and KEY not in " ".join(cmd)
    joined = " ".join(cmd)
    assert f"--lora-modules me={adapter}" in joined and "--max-lora-rank 32" in joined
    assert "--tensor-parallel-size 2" in joined and "--chat-template" in joined
    template = serve.persona_template(chat.CHATML_TEMPLATE, 'say "hi"\n晴')
    user = [{"role": "user", "content": "q"}]
    assert chat.render_template(template, user, True) == chat.render_template(
        chat.CHATML_TEMPLATE, [{"role": "system", "content": 'say "hi"\n晴'}] + user, True)
    mine = [{"role": "system", "content": "mine"}] + user
    assert chat.render_template(template, mine, True) == chat.render_template(chat.CHATML_TEMPLATE, mine, True)
