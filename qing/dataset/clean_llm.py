"""`qing clean-llm`: score chat samples with any OpenAI-compatible server and keep the good ones.

K samples per request, N requests in flight (asyncio), retries with backoff on
429 / 5xx / timeouts (Retry-After honoured), a batch refused as too long split
in halves, answers parsed robustly and matched to samples by id (contract 3 of
DESIGN.md). Every result is appended to a cache keyed by sample content, model
and prompt version, so a run stopped any way continues where it stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import orjson

from qing.dataset.options import LlmOptions
from qing.dataset.samples import read_records
from qing.errors import QingError
from qing.files import open_private, private_dir, refuse_input_as_output, require_input
from qing.i18n import _

PROMPT_VERSION = "qing-score-v1"
INSTRUCTIONS = """你在审核用来训练“数字分身”的聊天记录。每个样本是一段对话：user 是朋友，assistant 是要模仿的本人。
请给每个样本打 1-5 分，评价 assistant 的回复是否自然、连贯、像一个真实的人在聊天、有本人特色：
5 = 自然且有个性；4 = 自然；3 = 普通但可用；2 = 生硬、答非所问或大部分是噪声；1 = 乱码、广告、系统通知或泄露隐私。
再列出噪声轮次的下标 noise_turns（从 0 开始数 turns；噪声指系统通知、广告、乱码、密码或验证码等）。
只输出一个 JSON 对象，每个样本一项，id 与输入一致：
{"results": [{"id": 样本id, "score": 1到5的整数, "reason": "不超过15字的理由", "noise_turns": []}]}"""
SCHEMA = {
    "type": "json_schema",
    "json_schema": {"name": "scores", "strict": True, "schema": {
        "type": "object", "additionalProperties": False, "required": ["results"],
        "properties": {"results": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["id", "score", "reason", "noise_turns"],
            "properties": {"id": {"type": "integer"}, "score": {"type": "integer", "minimum": 1, "maximum": 5},
                           "reason": {"type": "string"}, "noise_turns": {"type": "array",
                                                                          "items": {"type": "integer"}}}}}}}},
}
_THINK = re.compile(r"<think>.*?</think>", re.S)
_CONTEXT_WORDS = ("context", "too long", "maximum", "exceed", "token")
TOO_LONG = "too long for the model's context"


@dataclass
class Sample:
    split: str
    record: dict
    key: str  # content hash: sample + model + prompt version

    @property
    def turns(self) -> list[dict]:
        return [m for m in self.record["messages"] if m["role"] != "system"]


@dataclass
class Outcome:
    done: int = 0
    failed: int = 0
    requests: int = 0
    retries: int = 0
    splits: int = 0
    prompt_tokens: int = 0
    plain_prompting: bool = False
    seconds: float = 0.0
    errors: Counter = field(default_factory=Counter)


# --- input and cache ------------------------------------------------------------

def load_samples(dataset: Path, model: str) -> list[Sample]:
    if not dataset.is_dir():
        raise QingError(_("{dataset} is not a dataset directory; give the one `qing clean` wrote.").format(
            dataset=dataset))
    samples = []
    for split in ("train", "eval"):
        path = dataset / f"{split}.jsonl"
        if split == "train":
            require_input(path, _("dataset file"))
        if not path.exists():
            continue
        for record, _line in read_records(path):
            content = orjson.dumps(record["messages"])
            key = hashlib.blake2b(content + f"\x00{model}\x00{PROMPT_VERSION}".encode(), digest_size=12).hexdigest()
            samples.append(Sample(split, record, key))
    if not samples:
        raise QingError(_("{dataset} holds no samples.").format(dataset=dataset))
    return samples


def load_cache(path: Path) -> dict[str, dict]:
    """Results by key; a torn last line (a killed run) is ignored."""
    results = {}
    if path.exists():
        for line in path.read_bytes().splitlines():
            try:
                entry = orjson.loads(line)
                results[entry["key"]] = entry
            except (orjson.JSONDecodeError, KeyError, TypeError):
                continue
    return results


# --- answers ---------------------------------------------------------------------

def parse_answer(text: str) -> list[dict]:
    """The results list from an answer: reasoning blocks, code fences and surrounding text are skipped."""
    text = _THINK.sub("", text or "")
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _end = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict) and isinstance(value.get("results"), list):
            return [r for r in value["results"] if isinstance(r, dict)]
    raise ValueError("no JSON object with results in the answer")


def _valid(result: dict) -> bool:
    score = result.get("score")
    return isinstance(result.get("id"), int) and isinstance(score, int) and 1 <= score <= 5


def request_messages(batch: list[Sample]) -> list[dict]:
    payload = [{"id": i + 1, "turns": [{"role": t["role"], "content": t["content"]} for t in s.turns]}
               for i, s in enumerate(batch)]
    return [{"role": "system", "content": INSTRUCTIONS},
            {"role": "user", "content": json.dumps({"samples": payload}, ensure_ascii=False)}]


# --- the scorer ------------------------------------------------------------------

class Scorer:
    """Sends batches, retries, splits, records every result in the cache as it arrives."""

    def __init__(self, client, opts: LlmOptions, cache: Path, outcome: Outcome, tick: Callable[[], None]):
        self.client, self.opts, self.outcome, self.tick = client, opts, outcome, tick
        self.cache = open_private(cache, "ab")
        self.results: dict[str, dict] = {}
        self.schema = True
        self.limit = asyncio.Semaphore(opts.concurrency)

    def record(self, sample: Sample, score, reason: str, noise=()) -> None:
        entry = {"key": sample.key, "score": score, "reason": str(reason)[:200], "noise_turns": list(noise),
                 "model": self.opts.model, "prompt_version": PROMPT_VERSION}
        self.cache.write(orjson.dumps(entry) + b"\n")  # one write per line: a kill leaves whole lines
        self.cache.flush()
        self.results[sample.key] = entry
        self.outcome.done += 1
        self.tick()

    async def score(self, batch: list[Sample], attempt: int = 0) -> None:
        try:
            async with self.limit:
                answer = await self._ask(batch)
        except _TooLong:
            if len(batch) == 1:
                self.record(batch[0], None, TOO_LONG)
                return
            self.outcome.splits += 1
            half = len(batch) // 2
            await asyncio.gather(self.score(batch[:half]), self.score(batch[half:]))
            return
        except _Failed as e:
            self.outcome.failed += len(batch)
            self.outcome.errors[str(e)] += len(batch)
            self.tick()
            return
        try:
            results = {r["id"]: r for r in parse_answer(answer) if _valid(r)}
        except ValueError:
            results = {}
        missing = []
        for i, sample in enumerate(batch, 1):
            r = results.get(i)
            if r:
                noise = [n for n in r.get("noise_turns") or [] if isinstance(n, int)]
                self.record(sample, r["score"], r.get("reason", ""), noise)
            else:
                missing.append(sample)
        if missing:  # asked again, alone, a few times; then counted as failed
            if attempt >= 2:
                self.outcome.failed += len(missing)
                self.outcome.errors[_("no usable answer")] += len(missing)
                self.tick()
                return
            await asyncio.gather(*(self.score([s], attempt + 1) for s in missing))

    async def _ask(self, batch: list[Sample]) -> str:
        import openai

        messages = request_messages(batch)
        for attempt in range(self.opts.retries + 1):
            self.outcome.requests += 1
            with_schema = self.schema
            try:
                kwargs = {"response_format": SCHEMA} if with_schema else {}
                response = await self.client.chat.completions.create(
                    model=self.opts.model, messages=messages, temperature=0, **kwargs)
                if response.usage:
                    self.outcome.prompt_tokens += response.usage.prompt_tokens or 0
                return response.choices[0].message.content or ""
            except openai.BadRequestError as e:
                text = str(e).lower()
                if with_schema and ("response_format" in text or "schema" in text):
                    self.schema = False  # this server does not take a schema: plain prompting from now on
                    self.outcome.plain_prompting = True
                    continue
                if any(word in text for word in _CONTEXT_WORDS):
                    raise _TooLong from None
                raise _Failed(_("HTTP 400 from the server")) from None
            except (openai.RateLimitError, openai.InternalServerError, openai.APITimeoutError,
                    openai.APIConnectionError) as e:
                if attempt == self.opts.retries:
                    raise _Failed(_describe(e)) from None
                self.outcome.retries += 1
                await asyncio.sleep(_delay(e, attempt))
            except openai.APIStatusError as e:
                if e.status_code >= 500 and attempt < self.opts.retries:
                    self.outcome.retries += 1
                    await asyncio.sleep(_delay(e, attempt))
                    continue
                raise _Failed(_describe(e)) from None
        raise _Failed(_("no answer"))


class _TooLong(Exception):
    pass


class _Failed(Exception):
    pass


def _describe(error) -> str:
    status = getattr(error, "status_code", None)
    return f"HTTP {status}" if status else type(error).__name__


def _delay(error, attempt: int) -> float:
    """Retry-After when the server says it, else exponential backoff with jitter (capped at 30 s)."""
    response = getattr(error, "response", None)
    header = response.headers.get("retry-after") if response is not None else None
    if header:
        try:
            return min(float(header), 120.0)
        except ValueError:
            pass
    return min(30.0, 0.5 * 2 ** attempt) * (0.5 + random.random())


# --- the whole step -------------------------------------------------------------

@dataclass
class LlmResult:
    output: Path
    report: dict
    seconds: float


def check_base_url(url: str) -> str:
    """URL if it looks like an OpenAI-compatible server's address, else one sentence saying what one looks like."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise QingError(_("--base-url {url!r} is not a server address; give one like http://127.0.0.1:1234/v1 "
                          "(LM Studio), http://127.0.0.1:8000/v1 (vLLM) or http://127.0.0.1:11434/v1 "
                          "(Ollama).").format(url=url))
    return url


def make_client(opts: LlmOptions):
    check_base_url(opts.base_url)
    try:
        import openai
    except ImportError:
        raise QingError(_("qing clean-llm needs the openai package: pip install 'qing[llm]'.")) from None
    return openai.AsyncOpenAI(base_url=opts.base_url, api_key=opts.api_key or "not-needed", max_retries=0,
                              timeout=opts.timeout)


async def list_models(opts: LlmOptions) -> list[str]:
    """The server's models; a QingError saying why when it can't be reached or refuses the key."""
    import openai

    client = make_client(opts)
    try:
        page = await client.models.list()
        return sorted(m.id for m in page.data)
    except openai.AuthenticationError:
        raise QingError(_("the server at {url} refused the API key; check --api-key / QING_LLM_API_KEY.").format(
            url=opts.base_url)) from None
    except (openai.APIConnectionError, openai.APITimeoutError):
        raise QingError(_("cannot reach an OpenAI-compatible server at {url}; start LM Studio / Ollama / vLLM "
                          "there, or fix --base-url.").format(url=opts.base_url)) from None
    except openai.APIStatusError as e:
        raise QingError(_("the server at {url} answered HTTP {status} to /models; is --base-url the "
                          "OpenAI-compatible endpoint (it usually ends in /v1)?").format(
            url=opts.base_url, status=e.status_code)) from None
    finally:
        await client.close()


def check(opts: LlmOptions) -> list[str]:
    """Connect, list the models, and fail with the list when --model is not among them."""
    models = asyncio.run(list_models(opts))
    if opts.model and opts.model not in models:
        if not models:
            raise QingError(_("the server has no model {model!r}, nor any other; load one there, then pass its name "
                              "with --model.").format(model=opts.model))
        raise QingError(_("the server has no model {model!r}; it offers: {models}. Pass one with --model.").format(
            model=opts.model, models=", ".join(models)))
    return models


def clean_llm(dataset: Path, output: Path, opts: LlmOptions, force: bool = False,
              progress: Callable[[int, int, int], None] | None = None) -> LlmResult:
    """Score every sample of DATASET_DIR, write the kept ones, scores.jsonl and report.json to OUTPUT."""
    started = time.perf_counter()
    if not opts.model:
        raise QingError(_("no model given: pass --model (or set QING_LLM_MODEL); `qing clean-llm --check` lists "
                          "them."))
    if opts.batch < 1 or opts.concurrency < 1 or not 1 <= opts.min_score <= 5:
        raise QingError(_("--batch and --concurrency must be at least 1, and --min-score between 1 and 5."))
    refuse_input_as_output(output, dataset)
    samples = load_samples(dataset, opts.model)
    if (output / "report.json").exists() and not force:
        raise QingError(_("{output} already holds a finished run; pass --force to write it again (scores in its "
                          "cache are reused) or -o for another directory.").format(output=output))
    check(opts)
    private_dir(output)
    cache_path = output / "cache.jsonl"
    cached = load_cache(cache_path)
    todo = [s for s in samples if s.key not in cached]
    outcome = Outcome()
    report_progress = progress or (lambda done, total, failed: None)
    done_before = len(samples) - len(todo)
    tick = lambda: report_progress(done_before + outcome.done, len(samples), outcome.failed)  # noqa: E731
    tick()
    scoring = time.perf_counter()
    results = asyncio.run(_score_all(todo, opts, cache_path, outcome, tick))
    outcome.seconds = time.perf_counter() - scoring
    cached.update(results)
    if outcome.failed:
        errors = ", ".join(f"{why} {n}" for why, n in outcome.errors.most_common(3))
        raise QingError(_("{failed} of {total} samples could not be scored ({errors}); the {scored} scored are "
                          "saved - run the same command again to retry the rest.").format(
            failed=outcome.failed, total=len(samples), errors=errors, scored=len(samples) - outcome.failed))
    report = _write(output, samples, cached, opts, outcome, done_before)
    return LlmResult(output, report, time.perf_counter() - started)


async def _score_all(todo: list[Sample], opts: LlmOptions, cache: Path, outcome: Outcome, tick) -> dict:
    client = make_client(opts)
    scorer = Scorer(client, opts, cache, outcome, tick)
    try:
        batches = [todo[i:i + opts.batch] for i in range(0, len(todo), opts.batch)]
        await asyncio.gather(*(scorer.score(b) for b in batches))
    finally:
        scorer.cache.close()
        await client.close()
    return scorer.results


def _kept_record(sample: Sample, entry: dict, remove_noise: bool) -> dict | None:
    record = json.loads(json.dumps(sample.record))
    if remove_noise and entry.get("noise_turns"):
        system = [m for m in record["messages"] if m["role"] == "system"]
        turns = sample.turns
        flagged = {n // 2 for n in entry["noise_turns"] if 0 <= n < len(turns)}  # (user, assistant) pairs
        kept = [t for i, t in enumerate(turns) if i // 2 not in flagged]
        if not kept:
            return None
        record["messages"] = system + kept
    record.setdefault("meta", {})["score"] = entry["score"]
    return record


def dropped_reason(key: str) -> str:
    """A reason of report.json's "dropped" (its keys stay English) in the user's language."""
    return {"below min score": _("below min score"), "too long to score": _("too long to score"),
            "all turns noise": _("all turns noise")}.get(key, key)


def _write(output: Path, samples: list[Sample], results: dict, opts: LlmOptions, outcome: Outcome,
           reused: int) -> dict:
    histogram, kept, too_long, emptied = Counter(), {"train": [], "eval": []}, 0, 0
    scores = []
    for index, s in enumerate(samples):
        entry = results[s.key]
        scores.append({"key": s.key, "index": index, "split": s.split, "score": entry["score"],
                       "reason": entry["reason"], "model": opts.model, "prompt_version": PROMPT_VERSION})
        if entry["score"] is None:
            too_long += 1
            continue
        histogram[entry["score"]] += 1
        if entry["score"] >= opts.min_score:
            record = _kept_record(s, entry, opts.remove_noise)
            if record is None:
                emptied += 1
            else:
                kept[s.split].append(record)
    report = {
        "input": {"samples": len(samples), "reused_from_cache": reused},
        "scores": {str(k): histogram[k] for k in range(1, 6)},
        "kept": {"train": len(kept["train"]), "eval": len(kept["eval"])},
        "dropped": {"below min score": sum(n for k, n in histogram.items() if k < opts.min_score),
                    "too long to score": too_long, "all turns noise": emptied},
        "requests": {"sent": outcome.requests, "retries": outcome.retries, "splits": outcome.splits,
                     "prompt_tokens": outcome.prompt_tokens, "plain_prompting": outcome.plain_prompting,
                     "scoring_seconds": round(outcome.seconds, 3)},
        "model": opts.model, "prompt_version": PROMPT_VERSION,
        "options": {"batch": opts.batch, "concurrency": opts.concurrency, "min_score": opts.min_score,
                    "remove_noise": opts.remove_noise, "base_url": opts.base_url},
    }
    work = Path(tempfile.mkdtemp(prefix=".llm-", dir=output))
    try:
        for name, lines in (("train.jsonl", kept["train"]), ("eval.jsonl", kept["eval"]), ("scores.jsonl", scores)):
            with open_private(work / name, "wb") as f:
                f.write(b"".join(orjson.dumps(x) + b"\n" for x in lines))
        with open_private(work / "report.json", "wb") as f:
            f.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
        for name in ("train.jsonl", "eval.jsonl", "scores.jsonl", "report.json"):  # report.json last: it marks done
            (work / name).replace(output / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report
