"""The dataset: messages.jsonl -> chat samples (contract 2) by rules (`clean`, with `pii` for personal data),
then optionally scored and filtered by an LLM (`clean_llm`); `samples` reads the samples files."""
