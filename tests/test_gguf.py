"""qing.gguf: native HF -> GGUF conversion, quantization and the Ollama Modelfile.

Tiny Qwen3 / Qwen2 / Llama models are built and trained here to memorise one reply, so greedy decoding is
deterministic and transformers and llama.cpp (llama-cpp-python) can be compared token for token.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from qing.errors import QingError
from qing.fixtures import tiny_model as tinymodel
from qing.model import gguf as qg
from qing.model import gguf_tokenizer, quantize
from qing.model.run import Run

SYSTEM = "你是小晴，正在和朋友聊天。用小晴平时说话的语气和习惯回复。"
PROMPT = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "你是谁"}]
REPLY = "我是小晴，一个普通的大学生"
N_NEW = 16
ARCHS = ("qwen3", "qwen2", "llama")


def _train(model_dir: Path, steps: int = 40) -> None:
    """Full-parameter AdamW on one ChatML exchange until the reply is memorised; save in place."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    text = tok.apply_chat_template(PROMPT + [{"role": "assistant", "content": REPLY}], tokenize=False)
    ids = torch.tensor([tok(text, add_special_tokens=False).input_ids])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        model(input_ids=ids, labels=ids).loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()
    model.save_pretrained(model_dir)


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("gguf-models")
    out = {}
    for arch in ARCHS:
        d = tinymodel.build(root / arch, arch=arch, seed=1)
        _train(d)
        out[arch] = d
    return out


@pytest.fixture(scope="session")
def hf_reference(models) -> dict[str, dict]:
    """Per architecture: prompt text, its token ids and transformers' greedy continuation (fp32)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    ref = {}
    for arch, d in models.items():
        tok = AutoTokenizer.from_pretrained(d)
        model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval()
        text = tok.apply_chat_template(PROMPT, add_generation_prompt=True, tokenize=False)
        ids = tok(text, add_special_tokens=False).input_ids
        with torch.no_grad():
            gen = model.generate(torch.tensor([ids]), max_new_tokens=N_NEW, do_sample=False,
                                 eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"), pad_token_id=tok.pad_token_id)
        new = gen[0, len(ids):].tolist()
        ref[arch] = {"text": text, "ids": ids, "greedy": new, "reply": tok.decode(new, skip_special_tokens=True),
                     "template": tok.chat_template, "tok": tok}
    return ref


@pytest.fixture(scope="session")
def converted(models, tmp_path_factory) -> dict[tuple[str, str], Path]:
    root = tmp_path_factory.mktemp("gguf-out")
    return {(arch, ot): qg.convert(d, root / f"{arch}-{ot}.gguf", ot)
            for arch, d in models.items() for ot in ("f16", "q8_0")}


def _llama(path: Path):
    llama_cpp = pytest.importorskip("llama_cpp")
    return llama_cpp.Llama(model_path=str(path), n_ctx=256, n_threads=2, verbose=False, seed=0)


def _greedy(llm, ids: list[int], eos: int, n: int = N_NEW) -> list[int]:
    out: list[int] = []
    for t in llm.generate(ids, top_k=1, temp=0.0, reset=True):
        out.append(t)
        if t == eos or len(out) >= n:
            break
    return out


# --------------------------------------------------------------------------- conversion


def test_memorised(hf_reference):
    for arch, ref in hf_reference.items():
        assert ref["reply"] == REPLY, arch  # the fixture's training worked: greedy output is the memorised reply


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("outtype", ["f16", "q8_0"])
def test_llama_cpp_matches_transformers(arch, outtype, converted, hf_reference):
    ref = hf_reference[arch]
    llm = _llama(converted[arch, outtype])
    assert llm.tokenize(ref["text"].encode(), add_bos=False, special=True) == ref["ids"]
    eos = ref["tok"].convert_tokens_to_ids("<|im_end|>")
    assert llm.token_eos() == eos
    assert _greedy(llm, ref["ids"], eos) == ref["greedy"]


def test_metadata(converted, hf_reference, models):
    from gguf import GGUFReader

    for arch in ARCHS:
        r = GGUFReader(str(converted[arch, "f16"]))
        f = {k: v.contents() for k, v in r.fields.items() if not k.startswith("tokenizer.ggml.tokens")}
        config = json.loads((models[arch] / "config.json").read_text())
        name = {"qwen3": "qwen3", "qwen2": "qwen2", "llama": "llama"}[arch]
        assert f["general.architecture"] == name
        assert f[f"{name}.block_count"] == config["num_hidden_layers"]
        assert f[f"{name}.attention.head_count_kv"] == config["num_key_value_heads"]
        assert f[f"{name}.attention.key_length"] == 16
        assert f["tokenizer.ggml.pre"] == "qwen2"
        assert f["tokenizer.ggml.add_bos_token"] is False
        assert f["tokenizer.chat_template"] == hf_reference[arch]["template"]
        assert qg.gguf_chat_template(converted[arch, "f16"]) == hf_reference[arch]["template"]
        types = {t.name: t.tensor_type.name for t in r.tensors}
        assert types["blk.0.attn_norm.weight"] == "F32" and types["blk.0.attn_q.weight"] == "F16"
        assert "output.weight" in types  # the tiny models do not tie embeddings
        q8 = {t.name: t.tensor_type.name for t in GGUFReader(str(converted[arch, "q8_0"])).tensors}
        assert q8["blk.0.ffn_down.weight"] == "Q8_0" and q8["output_norm.weight"] == "F32"
        assert converted[arch, "f16"].stat().st_mode & 0o077 == 0


def test_pre_tokenizer_by_regex():
    qwen = {"model": {"type": "BPE"}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": tinymodel.QWEN2_SPLIT}, "behavior": "Isolated"},
        {"type": "ByteLevel", "add_prefix_space": False, "use_regex": False}]}}
    assert gguf_tokenizer.pre_tokenizer(qwen) == "qwen2"
    llama3 = json.loads(json.dumps(qwen).replace(r"\\p{N}|", r"\\p{N}{1,3}|"))
    assert gguf_tokenizer.pre_tokenizer(llama3) == "llama-bpe"
    assert gguf_tokenizer.pre_tokenizer({"model": {"type": "BPE"}, "pre_tokenizer": {"type": "ByteLevel"}}) == "gpt-2"
    assert gguf_tokenizer.pre_tokenizer({"model": {"type": "Unigram"}, "pre_tokenizer": {"type": "Metaspace"}}) is None


def test_sharded_and_tied(models, hf_reference, tmp_path):
    """A sharded checkpoint converts to the same tensors; tied embeddings give no output.weight."""
    import numpy as np
    import torch
    from gguf import GGUFReader
    from transformers import AutoModelForCausalLM

    src = models["qwen3"]
    sharded = tmp_path / "sharded"
    model = AutoModelForCausalLM.from_pretrained(src, dtype=torch.float32)
    model.save_pretrained(sharded, max_shard_size="100KB")
    for f in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        if (src / f).exists():
            shutil.copy(src / f, sharded / f)
    assert (sharded / "model.safetensors.index.json").exists()
    seen: list[tuple[int, int]] = []
    a_path = qg.convert(src, tmp_path / "a.gguf", progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1] and all(x <= y for (x, _), (y, _) in zip(seen, seen[1:]))
    a = {t.name: np.asarray(t.data) for t in GGUFReader(str(a_path)).tensors}
    b = {t.name: np.asarray(t.data) for t in GGUFReader(str(qg.convert(sharded, tmp_path / "b.gguf"))).tensors}
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)

    tied = tmp_path / "tied"
    model.config.tie_word_embeddings = True
    model.tie_weights()
    model.save_pretrained(tied)
    for f in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        if (src / f).exists():
            shutil.copy(src / f, tied / f)
    names = {t.name for t in GGUFReader(str(qg.convert(tied, tmp_path / "tied.gguf"))).tensors}
    assert "output.weight" not in names and "token_embd.weight" in names


# --------------------------------------------------------------------------- quantize


def test_quantize(converted, hf_reference, tmp_path):
    pytest.importorskip("llama_cpp")
    ref = hf_reference["qwen3"]
    eos = ref["tok"].convert_tokens_to_ids("<|im_end|>")
    f16 = shutil.copy(converted["qwen3", "f16"], tmp_path / "model-f16.gguf")
    q8 = quantize.quantize(Path(f16), qtype="Q8_0")
    assert q8.name == "model-Q8_0.gguf" and q8.exists()
    assert _greedy(_llama(q8), ref["ids"], eos) == ref["greedy"]
    q4 = quantize.quantize(Path(f16), tmp_path / "q4.gguf", "Q4_K_M")
    assert q4.stat().st_size < Path(f16).stat().st_size
    assert q4.stat().st_mode & 0o077 == 0
    llm = _llama(q4)
    assert llm.tokenize(ref["text"].encode(), add_bos=False, special=True) == ref["ids"]
    assert len(_greedy(llm, ref["ids"], eos)) >= 1
    assert qg.gguf_chat_template(q4) == ref["template"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_quant_types_need_no_imatrix():
    types = quantize.quant_types()
    assert "Q4_K_M" in types and all(not t.startswith("IQ") for t in types)
    llama_cpp = pytest.importorskip("llama_cpp")
    for t in types:
        assert hasattr(llama_cpp, f"LLAMA_FTYPE_{'ALL' if t == 'F32' else 'MOSTLY'}_{t}"), t


# --------------------------------------------------------------------------- errors


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_errors_leave_nothing(models, converted, tmp_path):
    src = models["qwen3"]
    notgguf = tmp_path / "x.gguf"
    notgguf.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(QingError, match="not a GGUF"):
        quantize.quantize(notgguf, tmp_path / "out.gguf")
    with pytest.raises(QingError, match="IQ2_XXS needs an importance matrix"):
        quantize.quantize(converted["qwen3", "f16"], tmp_path / "out.gguf", "IQ2_XXS")
    with pytest.raises(QingError, match="unknown quantization type 'Q9'"):
        quantize.quantize(converted["qwen3", "f16"], tmp_path / "out.gguf", "Q9")
    said = []
    with pytest.raises(QingError, match="already exists; pass --force to overwrite it, or give another output path "
                                        "after the input"):
        quantize.quantize(converted["qwen3", "f16"], converted["qwen3", "q8_0"], "Q8_0", note=said.append)
    assert not said  # "quantizing ..." only once the work really starts
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(QingError, match="no config.json"):
        qg.convert(empty, tmp_path / "out.gguf")
    with pytest.raises(QingError, match="not a directory"):
        qg.convert(tmp_path / "missing", tmp_path / "out.gguf")

    other = tmp_path / "other"
    shutil.copytree(src, other)
    config = json.loads((other / "config.json").read_text())
    config["architectures"] = ["GPT2LMHeadModel"]
    (other / "config.json").write_text(json.dumps(config))
    with pytest.raises(QingError, match="--llama-cpp"):
        qg.convert(other, tmp_path / "out.gguf")
    with pytest.raises(QingError, match="no convert_hf_to_gguf.py"):
        qg.convert(other, tmp_path / "out.gguf", llama_cpp=empty)

    notok = tmp_path / "notok"
    shutil.copytree(src, notok)
    (notok / "tokenizer.json").unlink()
    with pytest.raises(QingError, match="tokenizer.json"):
        qg.convert(notok, tmp_path / "out.gguf")
    with pytest.raises(QingError, match="outtype"):
        qg.convert(src, tmp_path / "out.gguf", "q4_0")

    run = tmp_path / "run"
    (run / "merged").mkdir(parents=True)
    shutil.copy(src / "config.json", run / "merged" / "config.json")
    with pytest.raises(QingError, match="fine-tuning run"):
        qg.convert(run, tmp_path / "out.gguf")
    assert Run.around(run / "merged") is None
    (run / "qing-run.json").write_text(json.dumps({"options": {"system_prompt": SYSTEM}}), encoding="utf-8")
    assert Run.around(run / "merged").system_prompt == SYSTEM == Run.around(run).system_prompt
    (run / "model.gguf").write_bytes(b"")
    assert Run.around(run / "model.gguf").system_prompt == SYSTEM

    exists = tmp_path / "exists.gguf"
    exists.write_bytes(b"keep")
    with pytest.raises(QingError, match="already exists"):
        qg.convert(src, exists)
    with pytest.raises(QingError, match="already exists"):
        quantize.quantize(converted["qwen3", "f16"], exists)
    assert exists.read_bytes() == b"keep"
    assert _leftovers(tmp_path) == ["empty", "exists.gguf", "notok", "other", "run", "x.gguf"]


def test_gguf_and_quantize_speak_chinese_with_lang_zh(tmp_path, qing):
    """--lang zh: quantize's guide to the types and the errors of both commands are Chinese; English stays the
    default."""
    listed = qing("--lang", "zh", "quantize", "--list").output
    assert "Q4_K_M   7B 约 4.4 GB；推荐的默认类型" in listed and "recommended" not in listed
    assert "Q4_K_M   ~4.4 GB for 7B; recommended default" in qing("quantize", "--list").output
    result = qing("--lang", "zh", "quantize", tmp_path / "model-f16.gguf", "-t", "IQ2_XXS")
    assert result.exit_code == 1 and "IQ2_XXS需要重要性矩阵" in "".join(result.output.split())
    (tmp_path / "empty").mkdir()
    result = qing("--lang", "zh", "gguf", tmp_path / "empty")
    assert result.exit_code == 1 and "里没有config.json；请给出HuggingFace模型目录" in "".join(result.output.split())


def test_truncated_weights(models, tmp_path):
    cut = tmp_path / "cut"
    shutil.copytree(models["qwen2"], cut)
    weights = cut / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1000])
    with pytest.raises(QingError, match="cut short"):
        qg.convert(cut, tmp_path / "out.gguf")
    assert _leftovers(tmp_path) == ["cut"]


def test_interrupted_leaves_nothing(models, tmp_path, monkeypatch):
    import gguf

    real, calls = gguf.quants.quantize, []

    def boom(data, qtype):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(data, qtype)

    monkeypatch.setattr(gguf.quants, "quantize", boom)
    with pytest.raises(KeyboardInterrupt):
        qg.convert(models["llama"], tmp_path / "out.gguf")
    assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------------- Modelfile


def _go_render(template: str, system: str, messages: list[dict]) -> str:
    """A small interpreter for the Go-template subset our Modelfile uses (if/else if/range/assign, eq, ne,
    and, not, len, slice), with Ollama's variables: .System, and .Messages (system messages included)."""
    parts = re.split(r"(\{\{-?\s*.*?\s*-?\}\})", template, flags=re.S)
    items: list[tuple[str, str]] = []
    for i, p in enumerate(parts):
        if p.startswith("{{"):
            if p.startswith("{{-") and items and items[-1][0] == "text":
                items[-1] = ("text", items[-1][1].rstrip())
            items.append(("act", p.strip("{}-").strip()))
            if p.endswith("-}}") and i + 1 < len(parts):
                parts[i + 1] = parts[i + 1].lstrip()
        elif p:
            items.append(("text", p))

    def parse(pos: int, stop: tuple[str, ...]):
        body = []
        while pos < len(items):
            kind, s = items[pos]
            if kind == "act" and s.split(" ")[0] in stop:
                return body, pos
            if kind == "text" or not s.startswith(("if ", "range ")):
                body.append((kind, s))
                pos += 1
                continue
            if s.startswith("range "):
                inner, pos = parse(pos + 1, ("end",))
                body.append(("range", (s[6:], inner)))
                pos += 1
                continue
            branches, cond = [], s[3:]
            while True:
                inner, pos = parse(pos + 1, ("else", "end"))
                branches.append((cond, inner))
                head = items[pos][1]
                if head == "end":
                    break
                cond = head[8:] if head.startswith("else if ") else "true"
            body.append(("if", branches))
            pos += 1
        return body, pos

    def tokens(expr: str) -> list[str]:
        return re.findall(r'"[^"]*"|\(|\)|[^\s()]+', expr)

    def evaluate(toks: list[str], env: dict):
        def atom():
            t = toks.pop(0)
            if t == "(":
                v = call()
                toks.pop(0)
                return v
            if t.startswith('"'):
                return t[1:-1]
            if t == "true":
                return True
            if t.isdigit():
                return int(t)
            if t.startswith("$."):
                return env["$"][t[2:]]
            if t.startswith("$"):
                return env[t]
            if t.startswith("."):
                return env["."][t[1:]]
            fn = t
            args = []
            while toks and toks[0] != ")":
                args.append(atom())
            return {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "and": lambda *a: all(a),
                    "not": lambda a: not a, "len": len, "slice": lambda x, i: x[i:]}[fn](*args)

        def call():
            return atom()
        return call()

    def run(body, env) -> str:
        out = []
        for kind, s in body:
            if kind == "text":
                out.append(s)
            elif kind == "if":
                for cond, inner in s:
                    if evaluate(tokens(cond), env):
                        out.append(run(inner, env))
                        break
            elif kind == "range":
                spec, inner = s
                names, _, seq = spec.partition(":=")
                idx, val = [n.strip() for n in names.split(",")]
                for i, m in enumerate(evaluate(tokens(seq), env)):
                    out.append(run(inner, {**env, ".": m, idx: i, val: m}))
            elif ":=" in s:
                name, _, expr = s.partition(":=")
                env[name.strip()] = evaluate(tokens(expr), env)
            else:
                out.append(str(evaluate(tokens(s), env)))
        return "".join(out)

    tree, _ = parse(0, ())
    msgs = [{"Role": m["role"], "Content": m["content"]} for m in messages]
    root = {"System": system, "Messages": msgs}
    return run(tree, {"$": root, ".": root})


def test_modelfile(converted, hf_reference, tmp_path):
    ref = hf_reference["qwen3"]
    gguf_path = shutil.copy(converted["qwen3", "f16"], tmp_path / "model-f16.gguf")
    mf = qg.write_modelfile(Path(gguf_path), system=SYSTEM)
    text = mf.read_text(encoding="utf-8")
    assert mf == tmp_path / "Modelfile" and mf.stat().st_mode & 0o077 == 0
    assert text.startswith("FROM ./model-f16.gguf\n")
    assert f'SYSTEM """{SYSTEM}"""' in text and 'PARAMETER stop "<|im_end|>"' in text
    assert "PARAMETER temperature 0.7" in text and "PARAMETER top_p 0.9" in text
    template = re.search(r'TEMPLATE """(.*?)"""', text, re.S).group(1)
    assert template == qg.ollama_template("chatml")  # the tiny template has no <think>

    tok = ref["tok"]
    history = [{"role": "user", "content": "在吗"}, {"role": "assistant", "content": "在的"},
               {"role": "user", "content": "你是谁"}]
    for msgs in (PROMPT[1:], history):
        want = tok.apply_chat_template([PROMPT[0], *msgs], add_generation_prompt=True, tokenize=False)
        assert _go_render(template, SYSTEM, [PROMPT[0], *msgs]) == want

    qwen3 = qg.ollama_template("qwen3")
    assert _go_render(qwen3, SYSTEM, PROMPT).endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert qg.template_kind("{% if enable_thinking %}<think>{% endif %}") == "qwen3"
    with pytest.raises(QingError, match="already exists"):
        qg.write_modelfile(Path(gguf_path), system=None)
    mf = qg.write_modelfile(Path(gguf_path), "qwen3", system=None, force=True)
    assert "SYSTEM" not in mf.read_text() and "<think>" in mf.read_text()
