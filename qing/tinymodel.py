"""Build a tiny chat model from nothing: a byte-level BPE tokenizer and a random Qwen3 / Qwen2 / Llama.

Used by the tests, the benches and `qing demo`: nothing is downloaded. The tokenizer is trained with
`tokenizers` on invented chat text (Qwen2's split regex, ChatML special tokens); the model is randomly
initialised with embeddings wide enough (std 0.15) that a LoRA of a few steps moves its loss.
"""

from __future__ import annotations

from pathlib import Path

from qing.chat import CHATML_TEMPLATE

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# Qwen2's pre-tokenizer split (tokenizer.json of every Qwen2 / Qwen2.5 / Qwen3 model)
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")

CORPUS = [
    "在吗", "在的", "今天吃什么", "我也不知道，你定吧", "哈哈哈哈哈", "明天见", "好的好的", "晚安",
    "周末去爬山吗？", "下雨了，改天吧", "作业写完了没", "还没呢，救命", "笔记发我一份", "收到，谢谢！",
    "你是谁", "我是小晴，一个普通的大学生", "最近怎么样", "挺好的，就是有点忙", "图书馆见", "[微笑]",
    "hello", "ok", "see you tomorrow", "what's up?", "lol", "2024年3月15日 18:30", "0123456789",
    "You are a helpful assistant.", "你是小晴，正在和朋友聊天。用小晴平时说话的语气和习惯回复。",
]


def train_tokenizer(vocab_size: int = 1200):
    """A PreTrainedTokenizerFast shaped like Qwen2's: byte-level BPE, ChatML specials and template."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS * 20, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   chat_template=CHATML_TEMPLATE, model_max_length=4096)


def build(out_dir: str | Path, arch: str = "qwen3", *, hidden: int = 64, layers: int = 2, heads: int = 4,
          kv_heads: int = 2, head_dim: int = 16, intermediate: int = 128, embed_std: float = 0.15,
          vocab_size: int = 1200, seed: int = 0) -> Path:
    """Write a tiny random model and its tokenizer to OUT_DIR (about a second); returns the path."""
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig, LlamaConfig, Qwen2Config, Qwen3Config

    torch.manual_seed(seed)
    tokenizer = train_tokenizer(vocab_size)
    ids = dict(pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
               bos_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"))
    shape = dict(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
                 num_attention_heads=heads, num_key_value_heads=kv_heads, intermediate_size=intermediate,
                 max_position_embeddings=4096, tie_word_embeddings=False, **ids)
    if arch == "qwen3":
        config = Qwen3Config(head_dim=head_dim, **shape)
    elif arch == "qwen2":
        config = Qwen2Config(**shape)
    elif arch == "llama":
        config = LlamaConfig(head_dim=head_dim, **shape)
    else:
        raise ValueError(f"unknown tiny architecture {arch!r}")
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    with torch.no_grad():
        model.get_input_embeddings().weight.normal_(0.0, embed_std)
        # a wide output layer too: LoRA never touches it, and at 0.02 every logit stays near zero
        model.get_output_embeddings().weight.normal_(0.0, embed_std)
    model.generation_config = GenerationConfig(**ids)
    out = Path(out_dir)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
