"""A GGUF's tokenizer, from a Hugging Face model directory: llama.cpp's pre-tokenizer name read off tokenizer.json's
split regex, the vocabulary with each token's type, the merges, the special token ids, whether BOS is added, and the
chat template - what qing.model.gguf's native converter writes for a byte-level BPE model."""

from __future__ import annotations

from pathlib import Path

from qing.errors import QingError
from qing.files import load_json_object
from qing.i18n import _

# tokenizer.json pre-tokenizer split regex -> llama.cpp `tokenizer.ggml.pre` (see llama-vocab.cpp)
PRE_TOKENIZERS = {
    # Qwen2 / Qwen2.5 / Qwen3 (and DeepSeek-R1-Distill-Qwen)
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+":
        "qwen2",
    # Llama 3 / 3.1 / 3.2 / 3.3
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
    r"|\s+(?!\S)|\s+": "llama-bpe",
    # Qwen3.5
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+"
    r"|\s+(?!\S)|\s+": "qwen35",
}


def pre_tokenizer(tokenizer: dict) -> str | None:
    """llama.cpp's pre-tokenizer name for a byte-level BPE tokenizer.json, from its own split regex."""
    if (tokenizer.get("model") or {}).get("type") != "BPE":
        return None
    pre = tokenizer.get("pre_tokenizer") or {}
    parts = pre.get("pretokenizers", []) if pre.get("type") == "Sequence" else [pre]
    splits = [p for p in parts if p.get("type") == "Split"]
    byte_level = [p for p in parts if p.get("type") == "ByteLevel"]
    if not byte_level:
        return None
    if not splits:
        return "gpt-2" if byte_level[0].get("use_regex", True) else None
    if len(splits) != 1 or byte_level[0].get("use_regex", True):
        return None
    pattern = splits[0].get("pattern") or {}
    return PRE_TOKENIZERS.get(pattern.get("Regex", ""))


def _token_content(value) -> str | None:
    if isinstance(value, dict):
        return value.get("content")
    return value if isinstance(value, str) else None


def _looks_special(token: str) -> bool:
    """llama.cpp's does_token_look_special, for added tokens not marked special."""
    return (token in ("<pad>", "<mask>", "<2mass>", "[@BOS@]") or (token.startswith("<|") and token.endswith("|>"))
            or (token.startswith("<｜") and token.endswith("｜>"))
            or (token.startswith("<unused") and token.endswith(">")))


def read_chat_template(model_dir: Path) -> str | None:
    """The chat template of a model directory: chat_template.jinja, else tokenizer_config.json's."""
    jinja = Path(model_dir) / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    tc = Path(model_dir) / "tokenizer_config.json"
    template = load_json_object(tc, _("tokenizer config")).get("chat_template") if tc.is_file() else None
    if isinstance(template, list):  # [{"name": "default", "template": ...}, ...]
        template = next((t.get("template") for t in template if t.get("name") == "default"), None)
    return template if isinstance(template, str) else None


def add_tokenizer(writer, model_dir: Path, config: dict, tokenizer: dict, pre: str, n_vocab: int) -> None:
    import gguf

    model = tokenizer["model"]
    vocab: dict[str, int] = dict(model.get("vocab") or {})
    added = {t["id"]: t for t in tokenizer.get("added_tokens") or []}
    for tid, t in added.items():
        vocab[t["content"]] = tid
    if vocab and max(vocab.values()) >= n_vocab:
        raise QingError(_("the tokenizer has token ids up to {top} but the model's embedding has {rows} rows; the "
                          "tokenizer does not belong to this model.").format(top=max(vocab.values()), rows=n_vocab))
    by_id = {i: tok for tok, i in vocab.items()}
    tokens, types = [], []
    for i in range(n_vocab):
        tok = by_id.get(i)
        if tok is None:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        elif i in added:
            tokens.append(tok)
            special = added[i].get("special") or _looks_special(tok)
            types.append(gguf.TokenType.CONTROL if special else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(tok)
            types.append(gguf.TokenType.NORMAL)
    merges = model.get("merges") or []
    if merges and not isinstance(merges[0], str):  # transformers >= 4.45: pairs; spaces encoded as gguf does
        merges = [" ".join("".join(chr(ord(c) + 256) if c == " " else c for c in part) for part in pair)
                  for pair in merges]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)

    tc_path = model_dir / "tokenizer_config.json"
    tc = load_json_object(tc_path, _("tokenizer config")) if tc_path.is_file() else {}
    gc_path = model_dir / "generation_config.json"
    gen = load_json_object(gc_path, _("generation config")) if gc_path.is_file() else {}
    template = read_chat_template(model_dir)

    def token_id(kind: str) -> int | None:
        content = _token_content(tc.get(f"{kind}_token"))
        if content is not None and content in vocab:
            return vocab[content]
        for source in (gen, config):
            value = source.get(f"{kind}_token_id")
            if isinstance(value, list):
                value = value[0] if value else None
            if isinstance(value, int) and 0 <= value < n_vocab:
                return value
        return None

    bos, eos, pad = token_id("bos"), token_id("eos"), token_id("pad")
    # a ChatML model ends its turn with <|im_end|>: that is the end of generation whatever a base config says
    if template and "<|im_end|>" in template and "<|im_end|>" in vocab:
        eos = vocab["<|im_end|>"]
    if bos is not None:
        writer.add_bos_token_id(bos)
    if eos is not None:
        writer.add_eos_token_id(eos)
    if pad is not None:
        writer.add_pad_token_id(pad)
    writer.add_add_bos_token(_adds_bos(tc, tokenizer, by_id.get(bos) if bos is not None else None))
    writer.add_add_eos_token(bool(tc.get("add_eos_token", False)))
    if template:
        writer.add_chat_template(template)


def _adds_bos(tc: dict, tokenizer: dict, bos: str | None) -> bool:
    """Whether the HF tokenizer puts BOS in front of a text (tokenizer_config, else its post-processor)."""
    if isinstance(tc.get("add_bos_token"), bool):
        return tc["add_bos_token"]
    if bos is None:
        return False
    post = tokenizer.get("post_processor") or {}
    posts = post.get("processors", []) if post.get("type") == "Sequence" else [post]
    for p in posts:
        if p.get("type") == "TemplateProcessing":
            first = (p.get("single") or [{}])[0]
            return (first.get("SpecialToken") or {}).get("id") == bos
    return False
