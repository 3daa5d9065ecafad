"""Chat with a fine-tuned model: the run's adapter, merged model or GGUF, its template and system prompt.

The prompt is rendered exactly as finetune rendered the training samples (same template, thinking
off), so the model sees the format it learned. Two engines behind one `complete`: transformers (with
peft for an adapter) and llama.cpp for a GGUF, whose own stored chat template is used. Replies stream
token by token; generation stops at the template's end-of-turn token.
"""

from __future__ import annotations

import codecs
import logging
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from qing.errors import QingError
from qing.extras import install_hint
from qing.i18n import _
from qing.model import base_model
from qing.model import chat_format as chat
from qing.model.options import InferOptions
from qing.model.run import Run, adapter_base

log = logging.getLogger(__name__)


@dataclass
class ChatModel:
    """A loaded model ready to chat: transformers (model + tokenizer) or llama.cpp (llama + template)."""

    eot: str
    system_prompt: str | None
    context: int
    description: str
    model: object = None
    tokenizer: object = None
    llama: object = None
    template: str | None = None

    def render(self, messages: list[dict], generation_prompt: bool = True) -> str:
        if self.llama is not None:
            return chat.render_template(self.template, messages, generation_prompt)
        return chat.render(self.tokenizer, messages, generation_prompt)

    def tokenize(self, text: str) -> list[int]:
        if self.llama is not None:
            return self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        return self.tokenizer.encode(text, add_special_tokens=False)


@dataclass
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    """stop (end of turn or a stop string) or length (max_new_tokens reached)."""


def load(run_dir: Path | None = None, model: str | None = None, adapter: Path | None = None,
         merged: Path | None = None, opts: InferOptions | None = None, gguf: Path | None = None,
         gpu_layers: int = 0) -> ChatModel:
    """Whatever was asked for, ready to chat: a run directory, a merged model, a base plus an adapter, or a GGUF."""

    opts = opts or InferOptions()
    if gguf is not None:
        return load_gguf(gguf, opts, gpu_layers)
    run = Run.open(run_dir) if run_dir else None
    if run and adapter is None and merged is None:
        if run.merged:
            merged = run.merged
        elif run.adapter:
            adapter = run.adapter
        elif run.newest_gguf:
            return load_gguf(run.newest_gguf, opts, gpu_layers)
        else:
            raise run.unfinished()
    if merged is not None:
        if not base_model.is_model_dir(merged):
            raise QingError(_("{path} is not a model directory (no config.json in it).").format(path=merged))
        weights, tokenizer_dir, what = merged, merged, _("merged model {path}").format(path=merged)
    else:
        if adapter is not None and not (adapter / "adapter_config.json").is_file():
            raise QingError(_("{path} is not a LoRA adapter directory (no adapter_config.json in it).").format(
                path=adapter))
        base = model or (run.base_model if run else None) or (adapter_base(adapter) if adapter else None)
        if not base:
            raise QingError(_("give a run directory, --merged DIR, or --model (with --adapter DIR)."))
        weights = base_model.resolve(base, run.model_source if run else "modelscope",
                                     run.models_dir if run else Path("models"))
        tokenizer_dir = adapter or weights
        what = _("{model} + adapter {adapter}").format(model=weights, adapter=adapter) if adapter else str(weights)
    template = opts.template if opts.template != "auto" else (run.template if run else "auto")
    tokenizer = chat.load_tokenizer(tokenizer_dir, template)
    net = base_model.load_base(weights, opts.quant, for_training=False)
    if len(tokenizer) > net.get_input_embeddings().weight.shape[0]:
        net.resize_token_embeddings(len(tokenizer))
    if adapter is not None and merged is None:
        from peft import PeftModel

        net = PeftModel.from_pretrained(net, adapter)
    net.eval()
    system = opts.system_prompt if opts.system_prompt is not None else (run.system_prompt if run else None)
    context = getattr(net.config, "max_position_embeddings", None) or 4096
    max_length = run.max_length if run else None
    return ChatModel(chat.end_of_turn(tokenizer), system or None, min(context, max(max_length or 0, 4096)), what,
                     model=net, tokenizer=tokenizer)


def load_gguf(path: Path, opts: InferOptions | None = None, gpu_layers: int = 0, context: int = 4096) -> ChatModel:
    """A GGUF through llama.cpp, with the chat template stored in it and its run's system prompt."""
    from qing.model import gguf

    opts = opts or InferOptions()
    gguf.require_gguf(path)
    try:
        import llama_cpp
    except ImportError:
        raise QingError(_("chatting with a GGUF needs llama-cpp-python: {install}.").format(
            install=install_hint("gguf"))) from None
    try:
        template = gguf.gguf_chat_template(path) or chat.CHATML_TEMPLATE
    except (ValueError, EOFError, IndexError, struct.error):
        raise QingError(_("{path} is damaged or cut short; convert it again with `qing gguf`.").format(
            path=path)) from None
    llm = open_llama(path, n_ctx=context, n_gpu_layers=gpu_layers, verbose=False,
                     seed=opts.seed if opts.seed is not None else llama_cpp.LLAMA_DEFAULT_SEED)
    probe = chat.render_template(template, [{"role": "user", "content": "q7"}, {"role": "assistant", "content": "r9"}])
    after = probe[probe.rindex("r9") + 2:]
    eos = llm.detokenize([llm.token_eos()], special=True).decode("utf-8", "replace")
    eot = after[:after.index(">") + 1] if after.startswith("<") and ">" in after else eos
    run = Run.around(path)
    system = opts.system_prompt if opts.system_prompt is not None else (run.system_prompt if run else None)
    return ChatModel(eot, system or None, min(context, llm.n_ctx()), f"{path} (llama.cpp)", llama=llm,
                     template=template)


def open_llama(path: Path, **settings):
    """llama_cpp.Llama for the GGUF at PATH; one sentence when llama.cpp cannot load it (cut short, damaged)."""
    import llama_cpp

    try:
        return llama_cpp.Llama(model_path=str(path), **settings)
    except ValueError as e:  # llama-cpp-python: "Failed to load model from file"
        raise QingError(_("llama.cpp cannot load {path} ({reason}): the file is damaged or cut short, or made by a "
                          "newer llama.cpp; convert it again with `qing gguf`.").format(path=path, reason=e)) from None


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
        ids = cm.tokenize(cm.render(conversation.messages(user_text)))
        if len(ids) + max_new_tokens <= cm.context or not conversation.turns:
            return ids
        del conversation.turns[:2]


def reply(cm: ChatModel, conversation: Conversation, user_text: str, opts: InferOptions,
          on_text: Callable[[str], None] | None = None) -> str:
    """Generate the owner's reply to USER_TEXT, stream it through on_text, and add both to the history."""
    ids = prompt_ids(cm, conversation, user_text, opts.max_new_tokens)
    text = _generate(cm, ids, opts, on_text).text
    conversation.turns += [{"role": "user", "content": user_text}, {"role": "assistant", "content": text}]
    return text


def complete(cm: ChatModel, messages: list[dict], opts: InferOptions, on_text: Callable[[str], None] | None = None,
             stop: tuple[str, ...] = ()) -> Completion:
    """The reply to a whole message list (an API request, an eval context), rendered with the generation prompt."""
    return _generate(cm, cm.tokenize(cm.render(messages)), opts, on_text, stop)


def _generate(cm: ChatModel, ids: list[int], opts: InferOptions, on_text, stop: tuple[str, ...] = ()) -> Completion:
    stream = _StopWatch(stop, on_text)
    if cm.llama is not None:
        new, ended = _generate_llama(cm, ids, opts, stream)
    else:
        new, ended = _generate_transformers(cm, ids, opts, stream)
    finish = "stop" if ended or stream.stopped else "length"
    return Completion(stream.text.strip(), len(ids), new, finish)


class _StopWatch:
    """Collects streamed text, forwards it, and notices a client's stop string (which is cut off)."""

    def __init__(self, stop: tuple[str, ...], on_text):
        self.stop, self.on_text, self.text, self.stopped, self.sent = tuple(s for s in stop if s), on_text, "", False, 0

    def add(self, piece: str) -> bool:
        """Take a piece of text; True when a stop string has appeared."""
        self.text += piece
        hits = [self.text.find(s) for s in self.stop if s in self.text]
        if hits:
            self.text, self.stopped = self.text[:min(hits)], True
        hold = max((len(s) - 1 for s in self.stop), default=0) if not self.stopped else 0
        ready = len(self.text) - hold  # a stop string may be arriving: keep its length back until it is clear
        if self.on_text and ready > self.sent:
            self.on_text(self.text[self.sent:ready])
            self.sent = ready
        return self.stopped

    def flush(self) -> None:
        if self.on_text and len(self.text) > self.sent:
            self.on_text(self.text[self.sent:])
            self.sent = len(self.text)


def _stop_ids(cm: ChatModel) -> list[int]:
    ids = cm.tokenize(cm.eot)
    stop = ids[:1] if len(ids) == 1 else []
    eos = cm.llama.token_eos() if cm.llama is not None else cm.tokenizer.eos_token_id
    return stop + ([eos] if eos is not None and eos not in stop else [])


def _generate_transformers(cm: ChatModel, ids: list[int], opts: InferOptions, stream: _StopWatch) -> tuple[int, bool]:
    import torch
    from transformers import StoppingCriteria, TextStreamer

    stop = _stop_ids(cm)

    class Streamer(TextStreamer):
        def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
            if text:
                stream.add(text)

    class StopString(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs) -> bool:
            return stream.stopped

    if opts.seed is not None:
        torch.manual_seed(opts.seed)
    sampling = {"do_sample": True, "temperature": opts.temperature, "top_p": opts.top_p} if opts.temperature > 0 \
        else {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
    device = next(cm.model.parameters()).device
    with torch.no_grad():
        output = cm.model.generate(
            input_ids=torch.tensor([ids], device=device), attention_mask=torch.ones(1, len(ids), device=device),
            max_new_tokens=opts.max_new_tokens, eos_token_id=stop, pad_token_id=cm.tokenizer.pad_token_id,
            streamer=Streamer(cm.tokenizer, skip_prompt=True, skip_special_tokens=True),
            stopping_criteria=[StopString()], **sampling)
    new = output[0][len(ids):].tolist()
    ended = bool(new) and new[-1] in stop
    stream.flush()
    return len(new) - ended, ended


def _generate_llama(cm: ChatModel, ids: list[int], opts: InferOptions, stream: _StopWatch) -> tuple[int, bool]:
    llm, stop = cm.llama, set(_stop_ids(cm))
    decoder = codecs.getincrementaldecoder("utf-8")("replace")  # a character may span tokens
    greedy = opts.temperature <= 0
    if opts.seed is not None:
        llm.set_seed(opts.seed)
    count, ended = 0, False
    for token in llm.generate(ids, temp=0.0 if greedy else opts.temperature, top_p=1.0 if greedy else opts.top_p,
                              top_k=1 if greedy else 0, reset=True):
        if token in stop:
            ended = True
            break
        count += 1
        if stream.add(decoder.decode(llm.detokenize([token]))) or count >= opts.max_new_tokens:
            break
    stream.add(decoder.decode(b"", final=True))
    stream.flush()
    return count, ended


def chat_help() -> str:
    """The line the interactive chat starts with, in the user's language."""
    return _("Several lines: end a line with \\ to go on, or put them between \"\"\" lines. /reset clears the chat, "
             "/system TEXT changes the system prompt, /exit quits.")


def read_message(read_line: Callable[[str], str]) -> str | None:
    """One user message: a line, lines continued with a trailing backslash, or a \"\"\" block; None at EOF."""
    try:
        line = read_line(_("you: "))
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
    write(chat_help() + "\n")
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
            write(_("(chat cleared)") + "\n")
            continue
        if command.startswith("/system"):
            conversation.system = command[len("/system"):].strip() or None
            conversation.turns.clear()
            write(_("(system prompt changed, chat cleared)") + "\n")
            continue
        if not command:
            continue
        write(_("them: "))
        answer = reply(cm, conversation, text, opts, write)
        write((_("(no reply)") if not answer else "") + "\n")
