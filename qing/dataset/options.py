"""The options of the dataset steps (clean, clean-llm). Light to import on purpose: the CLI reads them to build
its options, and `qing --help` must start fast; the modules doing the work import them from here."""

from __future__ import annotations

from dataclasses import dataclass

from qing.options import setting


@dataclass
class LlmOptions:
    """Every option of `qing clean-llm`."""

    base_url: str = setting("http://127.0.0.1:1234/v1", "OpenAI-compatible endpoint: LM Studio :1234/v1, Ollama "
                            ":11434/v1, vLLM :8000/v1, or a hosted API.")
    model: str = setting("", "Model name as the server lists it.")
    api_key: str = setting("not-needed", "API key (local servers ignore it). Safer in QING_LLM_API_KEY or .env.",
                           secret=True)
    concurrency: int = setting(4, "Requests in flight.", min=1)
    batch: int = setting(8, "Samples per request.", min=1)
    min_score: int = setting(3, "Keep samples scoring at least this (1-5).", min=1, max=5)
    remove_noise: bool = setting(False, "Also remove the (user, assistant) pairs holding turns the model flags as "
                                 "noise.", flag="--remove-noise")
    timeout: float = setting(120.0, "Seconds to wait for one answer.", min=1.0)
    retries: int = setting(5, "Retries of one request on 429 / 5xx / timeouts before its samples count as failed.",
                           min=0)
