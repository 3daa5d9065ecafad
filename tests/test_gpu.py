"""What only a CUDA GPU runs (marked gpu; skipped without CUDA, so CI never runs these): `pytest -m gpu`.

finetune's fast path (Liger kernels, frozen weights in bf16, several rows per micro-step, varlen attention) learns
as the plain path does; finetune --quant 8bit --merge, infer (run, adapter, merged), eval and serve (transformers
engine) run on CUDA. Tiny locally built models, as everywhere in the tests.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from test_finetune import FAST, MEMO, SYSTEM, _infer, sample, write_dataset  # noqa: E402

from qing.model import base_model  # noqa: E402
from qing.model import finetune as ft  # noqa: E402
from qing.model.finetune import FinetuneOptions, finetune  # noqa: E402

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]

CHATS = [("在吗", "在的"), ("今天吃什么", "我也不知道，你定吧"), ("周末去爬山吗？", "下雨了，改天吧"),
         ("作业写完了没", "还没呢，救命"), ("最近怎么样", "挺好的，就是有点忙"), ("笔记发我一份", "收到，谢谢！")]


def _cli(*args):
    from typer.testing import CliRunner

    from qing.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def wider_model(tmp_path_factory):
    """A small Qwen3 wide enough for 4-bit blocks and Liger's kernels to do real work."""
    from qing.fixtures import tiny_model as tinymodel

    return tinymodel.build(tmp_path_factory.mktemp("gpu-models") / "qwen3", hidden=256, layers=4, heads=4,
                           kv_heads=2, head_dim=64, intermediate=512)


@pytest.fixture(scope="module")
def chats(tmp_path_factory):
    import random

    rng = random.Random(0)
    train = [sample(*rng.sample(CHATS, rng.randint(1, 4))) for _ in range(96)]
    return write_dataset(tmp_path_factory.mktemp("gpu-chats") / "dataset", train)


def _plain_lora(model, opts, note=None):
    """qing's preparation before the fast path: for a quantized model, peft's prepare_model_for_kbit_training (fp32
    copies of every weight that is not quantized); fp32 adapters."""
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if getattr(model, "is_loaded_in_4bit", False):
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True,
                                                gradient_checkpointing_kwargs={"use_reentrant": False})
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    modules, _ = ft.lora_targets(model, opts)
    return get_peft_model(model, LoraConfig(r=opts.lora_r, lora_alpha=opts.lora_alpha, lora_dropout=0.0,
                                            task_type="CAUSAL_LM", target_modules=modules))


@pytest.fixture
def unpatched_qwen3():
    """Liger replaces classes of transformers' Qwen3 module for the rest of the process: put them back after."""
    from transformers.models.qwen3 import modeling_qwen3

    saved = dict(vars(modeling_qwen3))
    yield
    for name, value in saved.items():
        setattr(modeling_qwen3, name, value)


@pytest.mark.parametrize("quant", ["4bit", "none"])
def test_the_fast_path_learns_as_the_plain_path(tmp_path, wider_model, chats, monkeypatch, unpatched_qwen3, quant):
    pytest.importorskip("liger_kernel")
    common = dict(model=str(wider_model), quant=quant, max_steps=8, learning_rate=2e-3, lora_dropout=0.0,
                  max_length=256, logging_steps=1, eval_steps=100, save_steps=100, seed=7)
    losses = {"plain": [], "fast": []}

    def record(path):
        return lambda entry: losses[path].append(entry["loss"]) if "loss" in entry else None

    with monkeypatch.context() as patched:  # plain first: the fast path patches the model classes
        patched.setattr(ft, "_with_lora", _plain_lora)
        patched.setattr(base_model, "PACKED_ATTENTION", False)  # SDPA with a dense block-diagonal mask
        plain = FinetuneOptions(**common, liger=False, per_device_train_batch_size=1, gradient_accumulation_steps=4)
        finetune(chats, tmp_path / "plain", plain, progress=record("plain"))
    notes = []
    fast = FinetuneOptions(**common, per_device_train_batch_size=4, gradient_accumulation_steps=1)
    finetune(chats, tmp_path / "fast", fast, note=notes.append, progress=record("fast"))
    assert any("Liger kernels; 4 rows per micro-step" in n for n in notes), notes
    print(f"\n{quant} plain: {losses['plain']}\n{quant} fast:  {losses['fast']}")
    fast, plain = losses["fast"], losses["plain"]
    assert len(fast) == len(plain) == 8
    assert fast[0] == pytest.approx(plain[0], rel=0.01)  # the same function before any update
    # the same curve. A descent this steep (9 -> 0.7 in 8 steps) amplifies rounding: two runs of the plain path
    # differing only in kernels were seen 0.2 apart in the middle (2% of the first loss)
    assert all(abs(f - p) < 0.04 * plain[0] for f, p in zip(fast, plain))
    assert fast[-1] == pytest.approx(plain[-1], rel=0.1) and fast[-1] < fast[0] / 5  # and it learned as much


def test_the_automatic_batch_keeps_16_rows_per_update(tmp_path, wider_model, chats, unpatched_qwen3):
    pytest.importorskip("liger_kernel")
    opts = FinetuneOptions(model=str(wider_model), max_steps=1, max_length=512, eval_steps=100, save_steps=100)
    finetune(chats, tmp_path / "run", opts)
    saved = json.loads((tmp_path / "run" / "qing-run.json").read_text())["options"]
    rows = saved["per_device_train_batch_size"]
    assert rows == ft.TOKENS_PER_MICRO_STEP // 512 and saved["gradient_accumulation_steps"] * rows == 16


@pytest.fixture(scope="module")
def memo_8bit(tmp_path_factory, tiny_model):
    """finetune --quant 8bit --merge on CUDA, memorising MEMO."""
    root = tmp_path_factory.mktemp("gpu-8bit")
    data = write_dataset(root / "dataset", [sample(MEMO)] * 16, [sample(MEMO)] * 2)
    out = root / "memo"
    output = _cli("finetune", data, "-o", out, "--model", tiny_model, "--max-steps", "30", "--merge", "--quant",
                  "8bit", *FAST[2:])
    return out, output


def test_8bit_finetune_and_merge_on_cuda(memo_8bit):
    from transformers import AutoConfig

    out, output = memo_8bit
    info = json.loads((out / "qing-run.json").read_text())
    assert info["quantized"] == "8bit" and "on cuda" in output
    assert info["result"]["eval_loss"] < info["result"]["first_eval_loss"] / 3
    assert getattr(AutoConfig.from_pretrained(out / "merged"), "quantization_config", None) is None


def test_infer_run_adapter_and_merged_on_cuda(memo_8bit, tiny_model):
    out, _ = memo_8bit
    assert _infer(out, "--prompt", MEMO[0]) == MEMO[1] + "\n"
    assert _infer("--merged", out / "merged", "--system-prompt", SYSTEM, "--prompt", MEMO[0]) == MEMO[1] + "\n"
    assert _infer("--model", tiny_model, "--adapter", out / "adapter", "--system-prompt", SYSTEM,
                  "--prompt", MEMO[0]) == MEMO[1] + "\n"


def test_eval_on_cuda(memo_8bit):
    out, _ = memo_8bit
    _cli("eval", out, "--max-new-tokens", "12", "-o", out / "eval")
    fit = json.loads((out / "eval" / "report.json").read_text(encoding="utf-8"))["fit"]
    assert fit["tuned"]["perplexity"] < fit["base"]["perplexity"] / 10


def test_serve_transformers_on_cuda(memo_8bit):
    out, _ = memo_8bit
    proc = subprocess.Popen([sys.executable, "-m", "qing", "serve", str(out), "--engine", "transformers", "--port",
                             "0", "--max-new-tokens", "24"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=dict(os.environ, COLUMNS="400"),
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines, ready = [], threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line)
            if "Ctrl+C" in line:
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(120) and proc.poll() is None, "".join(lines)
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/v1", "".join(lines)).group(1))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        body = {"model": "qing", "temperature": 0, "messages": [{"role": "user", "content": MEMO[0]}]}
        conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
        answer = json.loads(conn.getresponse().read())
        assert answer["choices"][0]["message"]["content"] == MEMO[1], answer
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
