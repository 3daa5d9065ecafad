"""Bench `qing clean-llm` against the tests' scripted OpenAI-compatible server with a fixed delay per request.

Prints samples/s at concurrency 1, 4 and 16 (one sample per request, so the server's delay is the cost), and
prompt size per sample with 1 vs 8 samples per request. Usage: python bench/bench_clean_llm.py [--samples N]
[--delay SECONDS]. Not a test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import llm_server  # noqa: E402


def dataset(root: Path, samples: int) -> Path:
    ds = root / "dataset"
    ds.mkdir(parents=True)
    lines = []
    for i in range(samples):
        turns = [{"role": "system", "content": "你是阿青，正在和朋友聊天。"}]
        for k in range(3):
            turns += [{"role": "user", "content": f"今天第{i}次问你{k}：吃饭了吗"},
                      {"role": "assistant", "content": f"好的{k}，刚吃完，你呢"}]
        lines.append(json.dumps({"messages": turns}, ensure_ascii=False))
    (ds / "train.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ds


def run(ds: Path, url: str, out: Path, concurrency: int, batch: int) -> tuple[float, dict]:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "qing", "clean-llm", str(ds), "-o", str(out), "--base-url", url, "--model",
           "tiny-judge", "--concurrency", str(concurrency), "--batch", str(batch)]
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - started, json.loads((out / "report.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.1)
    args = parser.parse_args()
    root = Path(__file__).parent / "out-llm"
    shutil.rmtree(root, ignore_errors=True)
    ds = dataset(root, args.samples)
    script = llm_server.Script()
    script.delay = args.delay
    server, url = llm_server.start(script)
    try:
        sequential = None
        for concurrency in (1, 4, 16):
            seconds, report = run(ds, url, root / f"c{concurrency}", concurrency, 1)
            scoring = report["requests"]["scoring_seconds"]
            rate = args.samples / scoring
            sequential = sequential or rate
            print(f"concurrency {concurrency:2}: scoring {scoring:6.2f} s  {rate:6.1f} samples/s  "
                  f"({rate / sequential:.1f}x sequential; ideal {concurrency}x); whole command {seconds:.2f} s")
        for batch in (1, 8):
            _, report = run(ds, url, root / f"k{batch}", 4, batch)
            per = report["requests"]["prompt_tokens"] / args.samples
            print(f"batch {batch}: {per:7.1f} prompt characters per sample ({report['requests']['sent']} requests)")
    finally:
        server.shutdown()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
