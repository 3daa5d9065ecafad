"""The chat format a model is trained on and talked to with: one renderer for finetune and infer.

A conversation is rendered by the tokenizer's own chat template (ChatML when it has none, or when
`--template chatml` forces it), with thinking off for Qwen3. Training renders the whole sample;
inference renders the history plus the generation prompt, which is the same text up to the reply.
Labels cover each assistant reply and its end-of-turn token, nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path

from qing.errors import QingError
from qing.i18n import _
from qing.model.options import TEMPLATES

CHATML_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
IGNORE = -100  # the label transformers' loss skips
ENCODE_CHUNK = 2_000  # samples per tokenizer call in encode_many


def load_tokenizer(model_dir: Path, template: str = "auto"):
    """The model's tokenizer with a chat template it can render: its own (auto) or ChatML."""
    from transformers import AutoTokenizer

    if template not in TEMPLATES:
        raise QingError(_("unknown --template {template!r}; use one of: {choices}.").format(
            template=template, choices=", ".join(TEMPLATES)))
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
    except (OSError, ValueError) as e:
        raise QingError(_("{model_dir} has no tokenizer transformers can load ({error}).").format(
            model_dir=model_dir, error=type(e).__name__)) from None
    if template == "chatml" or not tokenizer.chat_template:
        tokenizer.chat_template = CHATML_TEMPLATE
        if "<|im_end|>" not in tokenizer.get_vocab():
            tokenizer.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def render(tokenizer, messages: list[dict], generation_prompt: bool = False) -> str:
    """The conversation as text, exactly as the model sees it (thinking off where the template has it)."""
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt,
                                         enable_thinking=False)


def render_template(template: str, messages: list[dict], generation_prompt: bool = False, **specials) -> str:
    """Render a Jinja chat template without transformers (GGUF files carry theirs), as transformers does:
    sandboxed, trim_blocks + lstrip_blocks, thinking off."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = lambda value, indent=None, **kw: json.dumps(value, ensure_ascii=False, indent=indent)
    env.globals["raise_exception"] = raise_exception
    try:
        return env.from_string(template).render(messages=messages, add_generation_prompt=generation_prompt,
                                                enable_thinking=False, **specials)
    except jinja2.TemplateError as e:
        raise QingError(_("the chat template could not be rendered ({reason}).").format(reason=e)) from None


def end_of_turn(tokenizer) -> str:
    """The special token the template puts after a reply (<|im_end|>, <|eot_id|>...): where generation stops."""
    probe = [{"role": "user", "content": "q7"}, {"role": "assistant", "content": "r9"}]
    text = render(tokenizer, probe)
    after = text[text.rindex("r9") + 2:]
    specials = sorted((t for t in tokenizer.get_added_vocab() if after.startswith(t)), key=len, reverse=True)
    if specials:
        return specials[0]
    if tokenizer.eos_token and after.startswith(tokenizer.eos_token):
        return tokenizer.eos_token
    raise QingError(_("the chat template ends a reply without a special token; pass --template chatml."))


def reply_spans(text: str, messages: list[dict], eot: str) -> list[tuple[int, int]]:
    """Character spans of each assistant content plus its end-of-turn token within the rendered text.

    Messages are found in order, each as `content + eot`; the cursor moves past each one, so a reply
    can never be matched inside the template's own markup.
    """
    spans, cursor = [], 0
    for message in messages:
        needle = message["content"] + eot
        at = text.find(needle, cursor)
        if at < 0:
            raise QingError(_("the chat template does not render message texts verbatim; pass --template chatml."))
        cursor = at + len(needle)
        if message["role"] == "assistant":
            spans.append((at, cursor))
    return spans


def segments(tokenizer, messages: list[dict], eot: str) -> list[tuple[str, bool]]:
    """The rendered sample cut into stretches: (text, is a reply + end token)."""
    text = render(tokenizer, messages)
    parts, cursor = [], 0
    for start, end in reply_spans(text, messages, eot):
        if start > cursor:
            parts.append((text[cursor:start], False))
        parts.append((text[start:end], True))
        cursor = end
    if cursor < len(text):
        parts.append((text[cursor:], False))
    return parts


def encode_many(tokenizer, samples: list[list[dict]], eot: str) -> list[tuple[list[int], list[int]]]:
    """Token ids and labels of each sample: replies + end tokens labelled, -100 everywhere else.

    Each stretch is tokenized on its own, so the ids of the prompt part are what inference feeds and
    the ids of a reply are what the model generates. The stretches of ENCODE_CHUNK samples go to the
    tokenizer in one batched call, without attention masks (nothing reads them): as fast as one call
    for all, with the tokenizer's lists of a chunk alive at a time instead of the whole dataset's.
    """
    out = []
    for start in range(0, len(samples), ENCODE_CHUNK):
        cut = [segments(tokenizer, messages, eot) for messages in samples[start:start + ENCODE_CHUNK]]
        flat = [text for parts in cut for text, _is_reply in parts]
        ids_of = iter(tokenizer(flat, add_special_tokens=False, return_attention_mask=False)["input_ids"]
                      if flat else ())
        for parts in cut:
            ids: list[int] = []
            labels: list[int] = []
            for _text, is_reply in parts:
                piece = next(ids_of)
                ids += piece
                labels += piece if is_reply else [IGNORE] * len(piece)
            out.append((ids, labels))
    return out


def encode(tokenizer, messages: list[dict], eot: str) -> tuple[list[int], list[int]]:
    """Token ids and labels of one sample (see encode_many)."""
    return encode_many(tokenizer, [messages], eot)[0]
