"""`qing clean`: messages.jsonl (contract 1) -> chat samples train.jsonl / eval.jsonl (contract 2).

The whole step is in sessions.py for now; the next commit splits it into modules that follow its stages.
"""

from qing.dataset.clean.sessions import (
    DEFAULT_SYSTEM_PROMPT,
    OUTPUTS,
    CleanOptions,
    CleanResult,
    Tally,
    TextCleaner,
    chat_ranges,
    clean,
    plot_lengths,
    pyplot,
    read_replacements,
    read_word_list,
)

__all__ = ["DEFAULT_SYSTEM_PROMPT", "OUTPUTS", "CleanOptions", "CleanResult", "Tally", "TextCleaner", "chat_ranges",
           "clean", "plot_lengths", "pyplot", "read_replacements", "read_word_list"]
