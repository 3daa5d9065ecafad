"""Bench `qing serve`: start-up time, requests/s and p50 / p95 latency at concurrency 1, 8 and 32, on a tiny model.

    python bench/bench_serve.py [--requests 96] [--max-tokens 16] [--engines llama.cpp,transformers]

The tiny random Qwen3 of the tests (qing.tinymodel) is converted to an f16 GGUF and served by
`python -m qing serve` in its own process, as a user runs it; clients are threads, each with one keep-alive
connection, sending short non-streamed chats (max_tokens fixed, so every reply costs about the same).
One model, one lock: throughput should stay flat with concurrency while latency grows with the queue.
Not a test.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import print_machine_speed  # noqa: E402


def build(root: Path) -> tuple[Path, Path]:
    """(tiny model directory, its f16 GGUF)."""
    from qing.fixtures import tiny_model as tinymodel
    from qing.model import gguf

    model = tinymodel.build(root / "tiny-qwen3")
    return model, gguf.convert(model, root / "tiny-f16.gguf", "f16", force=True)


def start(args: list[str]) -> tuple[subprocess.Popen, str, float]:
    """The server process, its port, and the seconds from its start to the ready line."""
    started = time.perf_counter()
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    proc = subprocess.Popen([sys.executable, "-m", "qing", "serve", *args, "--port", "0", "--max-concurrency", "64"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if found := re.search(r"http://127\.0\.0\.1:(\d+)/v1", line):  # the ready line, in either language
            threading.Thread(target=lambda: proc.stderr.read(), daemon=True).start()  # keep the pipe drained
            return proc, found.group(1), time.perf_counter() - started
    sys.exit("server did not start:\n" + "".join(lines))


def load(port: str, concurrency: int, requests: int, max_tokens: int) -> tuple[float, list[float], int]:
    """(seconds, latencies, completion tokens) for REQUESTS chats sent by CONCURRENCY clients."""
    local = threading.local()
    body = json.dumps({"model": "tiny", "messages": [{"role": "user", "content": "周末去爬山吗？"}],
                       "temperature": 0, "max_tokens": max_tokens})

    def one(_):
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=600)
        started = time.perf_counter()
        local.conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
        response = local.conn.getresponse()
        answer = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {answer}")
        return time.perf_counter() - started, answer["usage"]["completion_tokens"]

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, range(requests)))
    return time.perf_counter() - started, [r[0] for r in results], sum(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=96)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--engines", default="llama.cpp", help="comma-separated: llama.cpp, transformers")
    args = parser.parse_args()
    print_machine_speed()
    with tempfile.TemporaryDirectory() as tmp:
        model, gguf_file = build(Path(tmp))
        for engine in args.engines.split(","):
            target = ["--gguf", str(gguf_file)] if engine == "llama.cpp" else ["--merged", str(model),
                                                                               "--engine", engine]
            proc, port, seconds = start(target)
            print(f"{engine:12s} start-up to the ready line: {seconds:.2f} s")
            try:
                load(port, 1, 4, args.max_tokens)  # warm up
                for concurrency in (1, 8, 32):
                    seconds, latencies, tokens = load(port, concurrency, args.requests, args.max_tokens)
                    cuts = statistics.quantiles(latencies, n=20)
                    print(f"{engine:12s} concurrency {concurrency:2}: {args.requests / seconds:6.1f} requests/s  "
                          f"p50 {statistics.median(latencies) * 1000:7.1f} ms  p95 {cuts[18] * 1000:7.1f} ms  "
                          f"{tokens / seconds:7.1f} completion tokens/s  ({args.requests} requests, "
                          f"{tokens / args.requests:.1f} tokens each)")
            finally:
                proc.terminate()
                proc.wait(30)


if __name__ == "__main__":
    main()
