"""qing finetune and qing infer on a tiny locally built Qwen3 (qing.tinymodel): CPU only, no downloads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from qing.model import chat_format as chat  # noqa: E402
from qing.model.finetune import FinetuneOptions, finetune  # noqa: E402
from qing.model.training_rows import encode_samples, make_rows, pack  # noqa: E402

SYSTEM = "你是小晴，正在和朋友聊天。"
MEMO = ("周末去爬山吗？", "下雨了，改天吧")
ROOT = Path(__file__).resolve().parents[1]
FAST = ["--quant", "none", "--gradient-accumulation-steps", "1", "--learning-rate", "1e-2", "--lora-r", "8",
        "--max-length", "256", "--logging-steps", "5", "--eval-steps", "10", "--save-steps", "10"]


def sample(*pairs, system=SYSTEM):
    head = [{"role": "system", "content": system}] if system else []
    return head + [{"role": r, "content": c} for u, a in pairs for r, c in (("user", u), ("assistant", a))]


def write_dataset(path: Path, train: list, evals: list | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, samples in (("train", train), ("eval", evals)):
        if samples is not None:
            (path / f"{name}.jsonl").write_text(
                "".join(json.dumps({"messages": m}, ensure_ascii=False) + "\n" for m in samples), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def memo(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("memo") / "dataset", [sample(MEMO)] * 16, [sample(MEMO)] * 2)


@pytest.fixture(scope="module")
def run(tmp_path_factory, memo, tiny_model):
    """One short run on the memorisation set, through the CLI, with the default --quant 4bit (CPU: a note)."""
    from typer.testing import CliRunner

    from qing.cli import app

    out = tmp_path_factory.mktemp("runs") / "memo"
    args = ["finetune", str(memo), "-o", str(out), "--model", str(tiny_model), "--max-steps", "30", "--merge",
            *FAST[2:]]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    return chat.load_tokenizer(tiny_model)


# --- the format the model learns ---------------------------------------------------------

def test_labels_are_exactly_the_replies_and_their_end_tokens(tokenizer):
    messages = sample(("在吗", "在的"), ("今天吃什么", "我也不知道，你定吧\n还是火锅？"))
    ids, labels = chat.encode(tokenizer, messages, "<|im_end|>")
    assert len(ids) == len(labels)
    labelled = tokenizer.decode([t for t in labels if t != chat.IGNORE])
    assert labelled == "在的<|im_end|>我也不知道，你定吧\n还是火锅？<|im_end|>"
    assert tokenizer.decode(ids) == chat.render(tokenizer, messages)


def test_trained_text_is_what_infer_feeds(tokenizer):
    messages = sample(("在吗", "在的"), ("今天吃什么", "火锅"))
    prompt = chat.render(tokenizer, messages[:-1], generation_prompt=True)
    ids, labels = chat.encode(tokenizer, messages, "<|im_end|>")
    first_of_last_reply = max(i for i in range(1, len(labels)) if labels[i] != chat.IGNORE == labels[i - 1])
    assert ids[:first_of_last_reply] == tokenizer.encode(prompt, add_special_tokens=False)


def test_samples_encoded_in_chunks_are_encoded_as_one_by_one(tokenizer, monkeypatch):
    samples = [sample(("在吗", "在的")), sample(("今天吃什么", "火锅"), ("好", "走")), sample(("晚安", "明天见")),
               sample(("hi", "ok")), sample(("收到", "谢谢"))]
    one_by_one = [chat.encode(tokenizer, messages, "<|im_end|>") for messages in samples]
    monkeypatch.setattr(chat, "ENCODE_CHUNK", 2)  # chunks of 2, 2 and 1
    assert chat.encode_many(tokenizer, samples, "<|im_end|>") == one_by_one
    assert chat.encode_many(tokenizer, [], "<|im_end|>") == []


QWEN3_LIKE = (  # the thinking part of Qwen3's template: an empty think block before the last reply
    "{%- for m in messages %}{%- if m.role == 'assistant' and loop.last %}"
    "{{- '<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n' + m.content + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}"
    "{%- endif %}")


def test_thinking_off_template_trains_what_infer_feeds(tiny_model):
    tok = chat.load_tokenizer(tiny_model)
    tok.chat_template = QWEN3_LIKE
    messages = sample(("在吗", "在的"), ("晚安", "晚安，明天见"))
    full = chat.render(tok, messages)
    assert full == chat.render(tok, messages[:-1], generation_prompt=True) + "晚安，明天见<|im_end|>\n"
    ids, labels = chat.encode(tok, messages, chat.end_of_turn(tok))
    assert tok.decode([t for t in labels if t != chat.IGNORE]) == "在的<|im_end|>晚安，明天见<|im_end|>"


def test_gguf_template_renderer_matches_the_tokenizer(tiny_model):
    tok = chat.load_tokenizer(tiny_model)
    messages = sample(("在吗", "在的"), ("晚安", "晚安，明天见"))
    for template in (tok.chat_template, QWEN3_LIKE):
        tok.chat_template = template
        for prompt in (True, False):
            convo = messages[:-1] if prompt else messages
            assert chat.render_template(template, convo, prompt) == chat.render(tok, convo, prompt)


def test_a_template_that_alters_texts_is_refused(tiny_model):
    from qing.errors import QingError

    tok = chat.load_tokenizer(tiny_model)
    tok.chat_template = tok.chat_template.replace("message['content']", "message['content'] | upper")
    with pytest.raises(QingError, match="--template chatml"):
        chat.encode(tok, sample(("hi", "ok")), "<|im_end|>")


def test_packing_fills_rows_without_losing_or_repeating_a_sample():
    import random

    lengths = [random.Random(i).randint(20, 900) for i in range(500)]
    bins = pack(lengths, 2048)
    assert sorted(i for b in bins for i in b) == list(range(500))
    assert all(sum(lengths[i] for i in b) <= 2048 for b in bins)
    assert sum(lengths) / (len(bins) * 2048) > 0.95


def test_packed_loss_equals_the_separate_samples_loss(tiny_model, tokenizer):
    from transformers import AutoModelForCausalLM

    from qing.model.training_rows import Collator

    model = AutoModelForCausalLM.from_pretrained(tiny_model).eval()
    samples = [sample(("在吗", "在的")), sample(("今天吃什么", "我也不知道，你定吧"), ("好吧", "哈哈哈哈哈")),
               sample(("晚安", "晚安，明天见"))]
    encoded, _ = encode_samples(tokenizer, samples, "<|im_end|>", 256)
    packed = make_rows(encoded, 256, True, 1, 0)
    assert len(packed.rows) == 1 and packed.padding_share == 0.0
    batch = Collator(tokenizer.pad_token_id, packing=True)(packed.rows)
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"], use_cache=False).logits
        packed_sum = _token_loss_sum(logits, batch["labels"])
        separate_sum = sum(_token_loss_sum(model(input_ids=torch.tensor([ids]), use_cache=False).logits,
                                           torch.tensor([labels])) for ids, labels in encoded)
    assert packed_sum == pytest.approx(separate_sum, rel=1e-4)
    # the same row without restarting positions would attend across samples and differ
    with torch.no_grad():
        leaking = _token_loss_sum(model(input_ids=batch["input_ids"], use_cache=False).logits, batch["labels"])
    assert leaking != pytest.approx(separate_sum, rel=1e-3)


def test_packed_attention_plumbing_gives_the_separate_samples_loss(tiny_model, tokenizer, monkeypatch):
    """qing.attention as transformers calls it (registration, no mask, sample offsets from the position ids,
    grouped-query heads), with PyTorch's CUDA-only varlen kernel replaced by SDPA run on each sample alone."""
    from transformers import AutoModelForCausalLM

    from qing.model import packed_attention as attention
    from qing.model.training_rows import Collator

    def varlen_by_sample(q, k, v, cu_q, cu_k, max_q, max_k, *, scale=None, window_size=(-1, -1), **kwargs):
        assert window_size == (-1, 0) and cu_q.dtype == torch.int32 and max_q == int((cu_q[1:] - cu_q[:-1]).max())
        if k.shape[1] != q.shape[1]:
            k, v = (x.repeat_interleave(q.shape[1] // k.shape[1], dim=1) for x in (k, v))
        parts = [torch.nn.functional.scaled_dot_product_attention(
            *(x[a:b].transpose(0, 1) for x in (q, k, v)), is_causal=True, scale=scale).transpose(0, 1)
            for a, b in zip(cu_q[:-1].tolist(), cu_q[1:].tolist())]
        return torch.cat(parts)

    monkeypatch.setattr(attention, "_varlen", lambda: varlen_by_sample)
    model = AutoModelForCausalLM.from_pretrained(tiny_model, attn_implementation=attention.register()).eval()
    assert model.config.num_key_value_heads < model.config.num_attention_heads
    samples = [sample(("在吗", "在的")), sample(("今天吃什么", "我也不知道，你定吧"), ("好吧", "哈哈哈哈哈")),
               sample(("晚安", "晚安，明天见"))]
    encoded, _ = encode_samples(tokenizer, samples, "<|im_end|>", 256)
    batch = Collator(tokenizer.pad_token_id, packing=True)(make_rows(encoded, 256, True, 1, 0).rows)
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"], use_cache=False).logits
        separate_sum = sum(_token_loss_sum(model(input_ids=torch.tensor([ids]), use_cache=False).logits,
                                           torch.tensor([labels])) for ids, labels in encoded)
    assert _token_loss_sum(logits, batch["labels"]) == pytest.approx(separate_sum, rel=1e-4)


def _token_loss_sum(logits, labels):
    return torch.nn.functional.cross_entropy(logits[0, :-1], labels[0, 1:], ignore_index=chat.IGNORE,
                                             reduction="sum").item()


def test_unpacked_batches_report_their_padding(tokenizer):
    samples = [sample(("在吗", "在的")), sample(("今天吃什么", "我也不知道，你定吧"), ("好吧", "哈哈哈哈哈"))]
    encoded, _ = encode_samples(tokenizer, samples, "<|im_end|>", 256)
    plain = make_rows(encoded, 256, False, 2, 0)
    lengths = [len(ids) for ids, _ in encoded]
    assert plain.padding_share == pytest.approx(1 - sum(lengths) / (2 * max(lengths)))


# --- a real run -------------------------------------------------------------------------

def test_short_run_memorises_and_writes_everything(run):
    out, output = run
    assert "no CUDA GPU here" in output and "trains unquantized" in output
    info = json.loads((out / "qing-run.json").read_text())
    assert info["result"]["eval_loss"] < info["result"]["first_eval_loss"] / 3
    assert info["options"]["system_prompt"] == SYSTEM and info["end_of_turn"] == "<|im_end|>"
    assert info["data"]["padding_share"] == 0.0
    for name in ("adapter/adapter_config.json", "adapter/tokenizer.json", "merged/config.json", "loss.png",
                 "metrics.jsonl"):
        assert (out / name).is_file(), name
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert any("eval_loss" in m for m in metrics) and all("tokens_per_second" in m for m in metrics)
    for path in (out / "qing-run.json", out / "adapter" / "adapter_model.safetensors", out / "loss.png"):
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert (out / "adapter").stat().st_mode & 0o777 == 0o700


def _infer(*args):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-m", "qing", "infer", *map(str, args), "--temperature", "0",
                             "--max-new-tokens", "24"], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_infer_prompt_prints_only_the_memorised_reply(run):
    out, _ = run
    assert _infer(out, "--prompt", MEMO[0]) == MEMO[1] + "\n"


@pytest.mark.slow
def test_adapter_merged_and_run_agree_on_greedy_output(run, tiny_model):
    out, _ = run
    question = "今天吃什么"
    by_run = _infer(out, "--prompt", question)
    by_adapter = _infer("--model", tiny_model, "--adapter", out / "adapter", "--system-prompt", SYSTEM,
                        "--prompt", question)
    by_merged = _infer("--merged", out / "merged", "--system-prompt", SYSTEM, "--prompt", question)
    assert by_run == by_adapter == by_merged


@pytest.mark.slow
def test_repl_through_a_pseudo_terminal(run):
    import pexpect

    out, _ = run
    child = pexpect.spawn(sys.executable, ["-m", "qing", "infer", str(out), "--temperature", "0"],
                          env=dict(os.environ, OMP_NUM_THREADS="1", QING_LANG="zh"), encoding="utf-8", timeout=120)
    child.expect("你: ")
    child.sendline(MEMO[0])
    child.expect("ta: ")
    child.expect("你: ")
    assert MEMO[1] in child.before
    child.sendline("/system 你是机器人")
    child.expect("系统提示已更新")
    child.sendline('"""')
    child.sendline("第一行")
    child.sendline("第二行")
    child.sendline('"""')
    child.expect("ta: ")
    child.expect("你: ")
    child.sendline("/reset")
    child.expect("对话已清空")
    child.sendline("/exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


@pytest.mark.parametrize(("language", "said"), [
    ("en", ["Several lines:", "you: ", "them: ", "(chat cleared)", "(system prompt changed, chat cleared)",
            "(no reply)"]),
    ("zh", ["多行输入：", "你: ", "ta: ", "（对话已清空）", "（系统提示已更新，对话已清空）", "（没有回复）"]),
])
def test_the_chat_speaks_the_language_chosen(monkeypatch, language, said):
    from types import SimpleNamespace

    from qing import i18n
    from qing.model import infer

    monkeypatch.setattr(i18n, "_language", {"current": language})
    monkeypatch.setattr(infer, "reply", lambda cm, conversation, text, opts, on_text: "" if text == "..." else "嗯")
    typed, shown = iter(["在吗", "/reset", "/system 你是机器人", "...", "/exit"]), []

    def read_line(prompt: str) -> str:
        shown.append(prompt)
        return next(typed)

    infer.repl(SimpleNamespace(system_prompt=None), infer.InferOptions(), read_line, shown.append)
    assert all(words in "".join(shown) for words in said), shown


@pytest.mark.slow
def test_run_to_gguf_to_quantized_answers_like_infer(run, tmp_path, qing):
    """The whole back half: a run (adapter only: merged first) -> GGUF + Modelfile -> Q8_0, run by llama.cpp."""
    import shutil

    import gguf as qg

    llama_cpp = pytest.importorskip("llama_cpp")
    out, _ = run
    copy = tmp_path / "run"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("merged", "checkpoint-*"))
    result = qing("gguf", copy)
    assert result.exit_code == 0, result.output
    assert "merging it into a 16-bit copy" in result.output and (copy / "merged" / "config.json").is_file()
    f16, modelfile = copy / "run-f16.gguf", copy / "Modelfile"
    assert f16.is_file() and f'SYSTEM """{SYSTEM}"""' in modelfile.read_text()
    assert qg.GGUFReader(str(f16)).get_field("general.name").contents() == "run"  # the run's name, not "merged"
    assert qing("quantize", f16, "--type", "Q8_0").exit_code == 0
    assert modelfile.read_text().startswith("FROM ./run-Q8_0.gguf\n")  # Ollama gets the quantized file
    tok = chat.load_tokenizer(copy / "merged")
    prompt = chat.render(tok, sample(MEMO)[:-1], generation_prompt=True)
    for path in (f16, copy / "run-Q8_0.gguf"):
        llm = llama_cpp.Llama(model_path=str(path), n_ctx=256, n_threads=1, verbose=False, seed=0)
        answer = llm(prompt, max_tokens=24, temperature=0.0, top_k=1, stop=["<|im_end|>"])["choices"][0]["text"]
        assert answer == MEMO[1], path.name
    # qing infer on the GGUF (its stored template, the run's system prompt) answers as on the transformers model
    assert _infer("--gguf", copy / "run-Q8_0.gguf", "--prompt", MEMO[0]) == MEMO[1] + "\n"
    assert _infer(copy, "--prompt", "今天吃什么") == _infer("--gguf", f16, "--prompt", "今天吃什么")


def test_resume_continues_from_the_checkpoint_step(tmp_path, memo, tiny_model):
    opts = FinetuneOptions(model=str(tiny_model), quant="none", max_steps=20, gradient_accumulation_steps=1,
                           learning_rate=1e-2, lora_r=8, max_length=256, logging_steps=1, eval_steps=100,
                           save_steps=10)

    def crash_after_12(entry):
        if entry.get("step") == 12:
            raise RuntimeError("power cut")

    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="power cut"):
        finetune(memo, out, opts, progress=crash_after_12)
    assert (out / "checkpoint-10").is_dir() and not (out / "adapter").exists()
    (out / "checkpoint-15").mkdir()  # a save cut short by the crash: no trainer_state.json
    (out / "checkpoint-15" / "adapter_model.safetensors").write_bytes(b"half")
    steps = []
    result = finetune(memo, out, FinetuneOptions(), resume=True, progress=lambda e: steps.append(e["step"]))
    assert result.steps == 20 and steps[0] == 11
    assert (out / "adapter" / "adapter_config.json").is_file()


class _NotIntercepted(Exception):
    """What the test's own SIGTERM handler raises: a signal that reached it, not finetune's."""


def _raise_not_intercepted(signum, frame):
    raise _NotIntercepted(signum)


@pytest.mark.parametrize("signals", [1, 2])
def test_a_stop_signal_ends_the_step_with_a_checkpoint_and_a_second_stops_at_once(tmp_path, memo, tiny_model,
                                                                                  monkeypatch, signals):
    """SIGTERM (a rented instance shutting down) or Ctrl+C: the step in progress ends, checkpoint-N is saved and
    --resume goes on from N+1; a second signal goes to the handler that was there before (here the test's own, which
    also catches a signal finetune failed to intercept instead of killing pytest)."""
    import signal

    from qing.model.graceful_stop import TrainingStopped
    from qing.model.run import Run

    previous = signal.signal(signal.SIGTERM, _raise_not_intercepted)
    opts = FinetuneOptions(model=str(tiny_model), quant="none", max_steps=8, gradient_accumulation_steps=1,
                           learning_rate=1e-2, lora_r=8, max_length=256, logging_steps=1, eval_steps=100,
                           save_steps=100)

    def stop_at_3(entry):
        if entry.get("step") == 3 and "loss" in entry:
            for _i in range(signals):
                os.kill(os.getpid(), signal.SIGTERM)

    out = tmp_path / "run"
    try:
        if signals == 1:
            with pytest.raises(TrainingStopped) as stopped:
                finetune(memo, out, opts, progress=stop_at_3)
            assert (stopped.value.signum, stopped.value.step) == (signal.SIGTERM, 4)
            assert [p.name for p in Run(out).checkpoints()] == ["checkpoint-4"] and not (out / "adapter").exists()
        else:
            with pytest.raises(_NotIntercepted):
                finetune(memo, out, opts, progress=stop_at_3)
            assert not out.exists()  # stopped at once before any checkpoint: nothing left to block a re-run
        assert signal.getsignal(signal.SIGTERM) is _raise_not_intercepted  # finetune's handlers are gone
    finally:
        signal.signal(signal.SIGTERM, previous)
    if signals == 1:
        steps = []
        result = finetune(memo, out, FinetuneOptions(), resume=True, progress=lambda e: steps.append(e["step"]))
        assert result.steps == 8 and steps[0] == 5


def test_the_cli_says_which_checkpoint_a_stopped_run_kept(tmp_path, memo, qing, monkeypatch):
    import signal

    from qing.model import finetune as finetune_module
    from qing.model.graceful_stop import TrainingStopped

    out = tmp_path / "run"

    def stopped(dataset, output, opts, **kwargs):
        (output / "checkpoint-4").mkdir(parents=True, exist_ok=True)
        (output / "checkpoint-4" / "trainer_state.json").write_text("{}")
        raise TrainingStopped(signal.SIGTERM, 4)

    monkeypatch.setattr(finetune_module, "finetune", stopped)
    result = qing("finetune", memo, "-o", out, env={"COLUMNS": "300"})
    assert result.exit_code == 128 + signal.SIGTERM
    assert f"stopped by SIGTERM: checkpoint-4 kept, no adapter written yet; `qing finetune {memo} -o {out} --resume` " \
           "continues from it." in result.output
    result = qing("--lang", "zh", "finetune", memo, "-o", out, env={"COLUMNS": "300"})
    assert "被 SIGTERM 终止：已保留 checkpoint-4" in result.output


@pytest.mark.slow
def test_two_process_ddp_on_cpu(tmp_path, memo, tiny_model):
    out = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1", ACCELERATE_USE_CPU="1")
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "--cpu", "-m", "qing", "finetune", str(memo),
           "-o", str(out), "--model", str(tiny_model), "--max-steps", "4", *FAST]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    info = json.loads((out / "qing-run.json").read_text())
    assert info["result"]["steps"] == 4 and (out / "adapter" / "adapter_config.json").is_file()
    assert result.stderr.count("trained 4 steps") == 1  # the summary comes from the main process only


# --- MoE --------------------------------------------------------------------------------

def test_moe_dry_run_lists_expert_and_router_weights(tmp_path, memo):
    from transformers import AutoModelForCausalLM, Qwen3MoeConfig

    from qing.fixtures import tiny_model as tinymodel

    tok = tinymodel.train_tokenizer()
    config = Qwen3MoeConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                            num_key_value_heads=1, head_dim=16, intermediate_size=64, moe_intermediate_size=16,
                            num_experts=4, num_experts_per_tok=2)
    AutoModelForCausalLM.from_config(config).save_pretrained(tmp_path / "moe")
    tok.save_pretrained(tmp_path / "moe")
    from typer.testing import CliRunner

    from qing.cli import app

    def dry(*extra):
        result = CliRunner().invoke(app, ["finetune", str(memo), "-o", str(tmp_path / "out"), "--model",
                                          str(tmp_path / "moe"), "--moe-enable", "--moe-dry-run", *extra])
        assert result.exit_code == 0, result.output
        return [line for line in result.stdout.splitlines() if line.startswith("model.")]

    experts = dry()
    assert experts == [f"model.layers.{i}.mlp.experts.{p}" for i in (0, 1) for p in ("gate_up_proj", "down_proj")]
    assert dry("--moe-lora-scope", "router_only") == [f"model.layers.{i}.mlp.gate.weight" for i in (0, 1)]
    assert not (tmp_path / "out").exists()
    opts = FinetuneOptions(model=str(tmp_path / "moe"), quant="none", max_steps=2, gradient_accumulation_steps=1,
                           max_length=256, moe_enable=True, moe_lora_scope="all", eval_steps=100, save_steps=100)
    assert finetune(memo, tmp_path / "moe-run", opts).steps == 2


# --- bad input --------------------------------------------------------------------------

@pytest.mark.parametrize("case, message", [
    ("missing", "is not a dataset directory"),
    ("no-train", "has no train.jsonl"),
    ("empty", "holds no samples"),
    ("not-json", "line 2 of"),
    ("not-a-sample", "is not a chat sample"),
    ("user-last", "end with the assistant"),
])
def test_bad_datasets_are_one_sentence(tmp_path, tiny_model, qing, case, message):
    data = tmp_path / "data"
    good = json.dumps({"messages": sample(MEMO)}, ensure_ascii=False)
    if case != "missing":
        data.mkdir()
    lines = {"empty": "\n", "not-json": good + "\n{oops\n", "not-a-sample": json.dumps({"text": "x"}) + "\n",
             "user-last": json.dumps({"messages": sample(MEMO)[:-1]}) + "\n"}
    if case in lines:
        (data / "train.jsonl").write_text(lines[case])
    result = qing("finetune", data, "-o", tmp_path / "out", "--model", tiny_model, *FAST)
    assert result.exit_code == 1 and message in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_output_model_and_resume_mistakes_are_one_sentence(tmp_path, memo, tiny_model, qing):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    cases = [
        (["-o", tmp_path / "taken", "--model", tiny_model], "already exists"),
        (["-o", tmp_path / "taken", "--model", tiny_model, "--force"], "not a qing run directory"),
        (["-o", tmp_path / "new", "--model", tmp_path], "not a model directory"),
        (["-o", tmp_path / "new", "--model", "./nowhere"], "neither a directory nor a model id"),
        (["-o", tmp_path / "new", "--model", tiny_model, "--resume"], "not a run directory of `qing finetune`"),
    ]
    for args, message in cases:
        result = qing("finetune", memo, *args, *FAST)
        assert result.exit_code == 1 and message in result.output, (args, result.output)
    result = qing("finetune", memo, "-o", tmp_path / "new", "--model", tiny_model, "--template", "alpaca", *FAST)
    said = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2 and "'alpaca' is not one of 'auto', 'chatml'" in said  # before any work
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine"


def test_finetune_speaks_chinese_with_lang_zh(tmp_path, memo, tiny_model, qing):
    """--lang zh: finetune's errors and the lines it prints while it works (data, model, checkpoints) are Chinese."""
    result = qing("--lang", "zh", "finetune", tmp_path / "missing", "-o", tmp_path / "out", "--model", tiny_model,
                  *FAST)
    assert result.exit_code == 1 and "不是数据集目录" in "".join(result.output.split())
    result = qing("--lang", "zh", "finetune", memo, "-o", tmp_path / "out", "--model", tiny_model, "--max-steps", "0",
                  *FAST)
    assert result.exit_code == 1 and "--max-steps0超出范围：必须为-1（按轮数训练）或至少为1。" in "".join(
        result.output.split())
    result = qing("--lang", "zh", "finetune", memo, "-o", tmp_path / "out", "--model", tiny_model, "--max-steps", "2",
                  *FAST)
    said = "".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "数据：16个样本装成" in said and "未量化" in said and "每次更新1个micro-step" in said
    assert "注意：总共只有2个优化步，少于--save-steps10" in said and "data:" not in said


@pytest.mark.slow
def test_an_unreachable_hub_is_one_sentence_and_leaves_nothing(tmp_path, memo):
    env = dict(os.environ, HF_ENDPOINT="http://127.0.0.1:9", HF_HUB_ETAG_TIMEOUT="2", HF_HUB_DOWNLOAD_TIMEOUT="2")
    result = subprocess.run([sys.executable, "-m", "qing", "finetune", str(memo), "-o", str(tmp_path / "out"),
                             "--model", "Qwen/Qwen3-8B-Base", "--source", "hf", "--models-dir", str(tmp_path / "m")],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "could not download Qwen/Qwen3-8B-Base from hf" in result.stderr and "check the network" in result.stderr
    assert not (tmp_path / "m").exists() and not (tmp_path / "out").exists()


def test_out_of_memory_is_one_sentence_with_advice(tmp_path, memo, tiny_model, qing, monkeypatch):
    from transformers import Trainer

    def no_memory(self, *args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(Trainer, "train", no_memory)
    result = qing("finetune", memo, "-o", tmp_path / "out", "--model", tiny_model, *FAST)
    assert result.exit_code == 1 and "ran out of memory" in result.output and "--quant 4bit" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out" / "adapter").exists()


@pytest.mark.slow
def test_the_qlora_path_runs_on_the_cpu(tmp_path, memo, tiny_model, monkeypatch):
    """The real 4-bit path (bitsandbytes NF4 layers, prepare_model_for_kbit_training, LoRA on Linear4bit, Trainer,
    merge into a fresh full-precision base), on bitsandbytes' CPU kernels: what a 4090 runs, minus the speed."""
    pytest.importorskip("bitsandbytes")
    from transformers import AutoConfig

    from qing.model import base_model

    monkeypatch.setattr(base_model, "QUANTIZE_ON_CPU", True)
    notes = []
    opts = FinetuneOptions(model=str(tiny_model), quant="4bit", max_steps=30, gradient_accumulation_steps=1,
                           learning_rate=1e-2, lora_r=8, max_length=256, eval_steps=30, save_steps=100, merge=True)
    result = finetune(memo, tmp_path / "run", opts, note=notes.append)
    info = json.loads((tmp_path / "run" / "qing-run.json").read_text())
    assert info["quantized"] == "4bit" and not any("trains unquantized" in n for n in notes)
    assert result.eval_loss < result.first_eval_loss / 2
    merged = AutoConfig.from_pretrained(tmp_path / "run" / "merged")
    assert getattr(merged, "quantization_config", None) is None  # merged into full weights, never into 4-bit


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_qlora_4bit_on_cuda(tmp_path, memo, tiny_model):
    opts = FinetuneOptions(model=str(tiny_model), quant="4bit", max_steps=30, gradient_accumulation_steps=1,
                           learning_rate=1e-2, lora_r=8, max_length=256, eval_steps=30, save_steps=100)
    result = finetune(memo, tmp_path / "run", opts)
    assert result.eval_loss < result.first_eval_loss / 2


def test_history_is_trimmed_to_the_context_window(run):
    from qing.model import infer

    out, _ = run
    cm = infer.load(out)
    cm.context = 120
    conversation = infer.Conversation(SYSTEM, [{"role": r, "content": c * 5} for _ in range(6)
                                               for r, c in (("user", "在吗"), ("assistant", "在的"))])
    ids = infer.prompt_ids(cm, conversation, "晚安", max_new_tokens=40)
    assert len(ids) + 40 <= 120 and 0 < len(conversation.turns) < 12 and len(conversation.turns) % 2 == 0
    assert conversation.messages()[0]["content"] == SYSTEM


def test_infer_mistakes_are_one_sentence(tmp_path, qing):
    assert "give a run directory" in qing("infer").output
    result = qing("infer", tmp_path)
    assert result.exit_code == 1 and "not a run directory" in result.output


def test_a_run_without_matplotlib_says_why_it_has_no_loss_png(tmp_path, memo, tiny_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    said = []
    opts = FinetuneOptions(model=str(tiny_model), quant="none", max_steps=2, gradient_accumulation_steps=1,
                           lora_r=8, max_length=256, logging_steps=1, eval_steps=100, save_steps=100)
    finetune(memo, tmp_path / "run", opts, note=said.append)
    assert not (tmp_path / "run" / "loss.png").exists() and (tmp_path / "run" / "metrics.jsonl").is_file()
    assert any("no loss.png: matplotlib is not installed (pip install 'qing[train]'" in s for s in said)
