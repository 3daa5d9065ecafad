"""`qing clean`: messages.jsonl (contract 1) -> chat samples train.jsonl / eval.jsonl (contract 2).

Steps, in order (each counted in report.json): keep speech; merge a sender's
consecutive messages into turns; split chats into sessions at long gaps;
assign roles (the owner is `assistant`); clean turn text (replacements,
personal data redacted, long character runs shortened, blocked words drop
the turn); cut sessions at turn boundaries into samples that end on the
owner's turn and fit the token budget; drop noise and duplicates; put the
latest sessions of each chat in eval.jsonl.

Its modules follow those stages, each importing only the ones above it:

- rules: the checks of CleanOptions (qing.dataset.options), the option files, the system prompt
- tally: Tally, the counts every stage adds to
- read: messages.jsonl cut into jobs of whole chats and read chat by chat
- sessions: one chat's messages -> cleaned, alternating turns in sessions
- samples: sessions -> samples (JSON lines) within the token budget; token counts
- split: all the samples deduplicated and split into train and eval
- report: report.json and the lengths plot
- step: clean(), the whole step: the jobs in worker processes, the files written and moved into place
"""

from qing.dataset.clean.read import chat_ranges
from qing.dataset.clean.report import plot_lengths, pyplot
from qing.dataset.clean.rules import read_replacements, read_word_list
from qing.dataset.clean.sessions import TextCleaner
from qing.dataset.clean.step import OUTPUTS, CleanResult, clean
from qing.dataset.clean.tally import Tally
from qing.dataset.options import DEFAULT_SYSTEM_PROMPT, CleanOptions

__all__ = ["DEFAULT_SYSTEM_PROMPT", "OUTPUTS", "CleanOptions", "CleanResult", "Tally", "TextCleaner", "chat_ranges",
           "clean", "plot_lengths", "pyplot", "read_replacements", "read_word_list"]
