"""Chat with a fine-tuned model: the run's adapter (or merged model), its template and system prompt.

The prompt is rendered exactly as finetune rendered the training samples (same template, thinking
off), so the model sees the format it learned. Replies stream token by token; generation stops at
the template's end-of-turn token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from qing import chat
from qing.errors import QingError

log = logging.getLogger(__name__)
EMPTY_REPLY = "（没有回复）"


@dataclass
class InferOptions:
    temperature: float = 0.7
    """0 means greedy (deterministic)."""
    top_p: float = 0.9
    max_new_tokens: int = 512
    quant: str = "none"
    """4bit / 8bit load the base quantized on CUDA (small cards); none keeps it 16-bit."""
    template: str = "auto"
    system_prompt: str | None = None
    """None: the run's system prompt."""
    seed: int | None = None


@dataclass
class ChatModel:
    model: object
    tokenizer: object
    eot: str
    system_prompt: str | None
    context: int
    description: str


def load(run_dir: Path | None = None, model: str | None = None, adapter: Path | None = None,
         merged: Path | None = None, opts: InferOptions | None = None) -> ChatModel:
    """Whatever was asked for, ready to chat: a run directory, a merged model, or a base plus an adapter."""
    from qing import models
    from qing.finetune import load_base, read_run

    opts = opts or InferOptions()
    run = read_run(run_dir) if run_dir else {}
    if run_dir and adapter is None and merged is None:
        if (run_dir / "merged" / "config.json").is_file():
            merged = run_dir / "merged"
        elif (run_dir / "adapter" / "adapter_config.json").is_file():
            adapter = run_dir / "adapter"
        else:
            raise QingError(f"{run_dir} holds no finished adapter yet; wait for `qing finetune` to end.")
    if merged is not None:
        if not models.is_model_dir(merged):
            raise QingError(f"{merged} is not a model directory (no config.json in it).")
        weights, tokenizer_dir, what = merged, merged, f"merged model {merged}"
    else:
        if adapter is not None and not (adapter / "adapter_config.json").is_file():
            raise QingError(f"{adapter} is not a LoRA adapter directory (no adapter_config.json in it).")
        base = model or run.get("model_dir") or _adapter_base(adapter)
        if not base:
            raise QingError("give a run directory, --merged DIR, or --model (with --adapter DIR).")
        weights = models.resolve(base, run.get("options", {}).get("source", "modelscope"),
                                 Path(run.get("options", {}).get("models_dir", "models")))
        tokenizer_dir = adapter or weights
        what = f"{weights}" + (f" + adapter {adapter}" if adapter else "")
    template = opts.template if opts.template != "auto" else run.get("template", "auto")
    tokenizer = chat.load_tokenizer(tokenizer_dir, template)
    net = load_base(weights, opts.quant, for_training=False)
    if len(tokenizer) > net.get_input_embeddings().weight.shape[0]:
        net.resize_token_embeddings(len(tokenizer))
    if adapter is not None and merged is None:
        from peft import PeftModel

        net = PeftModel.from_pretrained(net, adapter)
    net.eval()
    system = opts.system_prompt if opts.system_prompt is not None else run.get("options", {}).get("system_prompt")
    context = getattr(net.config, "max_position_embeddings", None) or 4096
    max_length = run.get("options", {}).get("max_length")
    return ChatModel(net, tokenizer, chat.end_of_turn(tokenizer), system or None,
                     min(context, max(max_length or 0, 4096)), what)


def _adapter_base(adapter: Path | None) -> str | None:
    if adapter is None:
        return None
    import json

    config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    return config.get("base_model_name_or_path")


@dataclass
class Conversation:
    """The history of one chat; the system turn first when there is one."""

    system: str | None
    turns: list[dict] = field(default_factory=list)

    def messages(self, user_text: str | None = None) -> list[dict]:
        head = [{"role": "system", "content": self.system}] if self.system else []
        tail = [{"role": "user", "content": user_text}] if user_text is not None else []
        return head + self.turns + tail


def prompt_ids(cm: ChatModel, conversation: Conversation, user_text: str, max_new_tokens: int) -> list[int]:
    """The rendered prompt's ids, dropping the oldest exchanges until it fits the context window."""
    while True:
        text = chat.render(cm.tokenizer, conversation.messages(user_text), generation_prompt=True)
        ids = cm.tokenizer.encode(text, add_special_tokens=False)
        if len(ids) + max_new_tokens <= cm.context or not conversation.turns:
            return ids
        del conversation.turns[:2]


def reply(cm: ChatModel, conversation: Conversation, user_text: str, opts: InferOptions,
          on_text: Callable[[str], None] | None = None) -> str:
    """Generate the owner's reply to USER_TEXT, stream it through on_text, and add both to the history."""
    import torch
    from transformers import TextStreamer

    ids = prompt_ids(cm, conversation, user_text, opts.max_new_tokens)
    stop = [cm.tokenizer.convert_tokens_to_ids(cm.eot)]
    if cm.tokenizer.eos_token_id is not None and cm.tokenizer.eos_token_id not in stop:
        stop.append(cm.tokenizer.eos_token_id)

    class Streamer(TextStreamer):
        def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
            if on_text and text:
                on_text(text)

    if opts.seed is not None:
        torch.manual_seed(opts.seed)
    sampling = {"do_sample": True, "temperature": opts.temperature, "top_p": opts.top_p} if opts.temperature > 0 \
        else {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
    device = next(cm.model.parameters()).device
    with torch.no_grad():
        output = cm.model.generate(
            input_ids=torch.tensor([ids], device=device), attention_mask=torch.ones(1, len(ids), device=device),
            max_new_tokens=opts.max_new_tokens, eos_token_id=stop, pad_token_id=cm.tokenizer.pad_token_id,
            streamer=Streamer(cm.tokenizer, skip_prompt=True, skip_special_tokens=True), **sampling)
    new = output[0][len(ids):].tolist()
    while new and new[-1] in stop:
        new.pop()
    text = cm.tokenizer.decode(new, skip_special_tokens=True).strip()
    conversation.turns += [{"role": "user", "content": user_text}, {"role": "assistant", "content": text}]
    return text


HELP = "多行输入：行尾加 \\ 换行，或用 \"\"\" 包起来。/reset 清空对话，/system 文本 换系统提示，/exit 退出。"


def read_message(read_line: Callable[[str], str]) -> str | None:
    """One user message: a line, lines continued with a trailing backslash, or a \"\"\" block; None at EOF."""
    try:
        line = read_line("你: ")
    except EOFError:
        return None
    if line.strip() == '"""':
        lines = []
        while (more := read_line("... ")).strip() != '"""':
            lines.append(more)
        return "\n".join(lines)
    lines = [line]
    while lines[-1].endswith("\\"):
        lines[-1] = lines[-1][:-1]
        lines.append(read_line("... "))
    return "\n".join(lines)


def repl(cm: ChatModel, opts: InferOptions, read_line: Callable[[str], str], write: Callable[[str], None]) -> None:
    """The interactive chat: replies stream as they are generated; /reset, /system TEXT, /exit."""
    conversation = Conversation(cm.system_prompt)
    write(f"{HELP}\n")
    while True:
        try:
            text = read_message(read_line)
        except EOFError:
            text = None
        if text is None or text.strip() in ("/exit", "/quit"):
            write("\n")
            return
        command = text.strip()
        if command == "/reset":
            conversation.turns.clear()
            write("（对话已清空）\n")
            continue
        if command.startswith("/system"):
            conversation.system = command[len("/system"):].strip() or None
            conversation.turns.clear()
            write("（系统提示已更新，对话已清空）\n")
            continue
        if not command:
            continue
        write("ta: ")
        answer = reply(cm, conversation, text, opts, write)
        write(f"{EMPTY_REPLY}\n" if not answer else "\n")
