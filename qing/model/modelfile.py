"""The Ollama Modelfile `qing gguf` writes beside a GGUF file: its FROM, the chat template in Ollama's Go template
language (ChatML, or Qwen3's with thinking off), the run's system prompt and the stop token."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from qing.errors import QingError
from qing.files import atomic_output, open_private
from qing.i18n import _

_CHATML_GO_TEMPLATE = """{{- if .System }}<|im_start|>system
{{ .System }}<|im_end|>
{{ end }}
{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if eq .Role "user" }}<|im_start|>user
{{ .Content }}<|im_end|>
{{ else if eq .Role "assistant" }}<|im_start|>assistant
{{ .Content }}{{ if not $last }}<|im_end|>
{{ end }}
{{- end }}
{{- if and (ne .Role "assistant") $last }}<|im_start|>assistant
{{ end }}
{{- end }}"""
_QWEN3_NO_THINK = "<think>\n\n</think>\n\n"


def ollama_template(kind: str = "chatml") -> str:
    """Ollama's Go template for KIND: chatml, or qwen3 (ChatML whose reply opens with an empty think block)."""
    if kind == "chatml":
        return _CHATML_GO_TEMPLATE
    if kind == "qwen3":
        return _CHATML_GO_TEMPLATE.replace("<|im_start|>assistant\n{{ end }}\n{{- end }}",
                                           "<|im_start|>assistant\n" + _QWEN3_NO_THINK + "{{ end }}\n{{- end }}")
    raise QingError(_("unknown template kind {kind!r}; use chatml or qwen3.").format(kind=kind))


def template_kind(chat_template: str | None) -> str:
    """chatml or qwen3, from a model's Jinja chat template."""
    if chat_template and "<think>" in chat_template:
        return "qwen3"
    return "chatml"


def gguf_chat_template(path: Path) -> str | None:
    """The `tokenizer.chat_template` stored in a GGUF file, or None."""
    from gguf import GGUFReader

    field = GGUFReader(str(path)).get_field("tokenizer.chat_template")
    return None if field is None else field.contents()


def write_modelfile(gguf_path: Path, template: str = "auto", system: str | None = None,
                    stop: Sequence[str] = ("<|im_end|>",), temperature: float = 0.7, top_p: float = 0.9, *,
                    out: Path | None = None, force: bool = False) -> Path:
    """Write an Ollama Modelfile beside GGUF_PATH (or at OUT) for `ollama create NAME -f Modelfile`; return it.

    template: chatml, qwen3, or auto (chosen from the chat template stored in the GGUF).
    system: the SYSTEM prompt (e.g. the system prompt of the run the model came from), or None for none.
    """
    gguf_path = Path(gguf_path)
    out = Path(out) if out is not None else gguf_path.parent / "Modelfile"
    kind = template_kind(gguf_chat_template(gguf_path)) if template == "auto" else template
    go_template = ollama_template(kind)
    if system is not None and '"""' in system:
        raise QingError(_('the system prompt contains """, which a Modelfile cannot hold; remove it.'))
    try:
        rel = os.path.relpath(gguf_path.resolve(), out.parent.resolve())
    except ValueError:  # another drive on Windows
        rel = str(gguf_path.resolve())
    lines = [f"FROM {rel if os.path.isabs(rel) else './' + rel}", "", f'TEMPLATE """{go_template}"""', ""]
    if system:
        lines += [f'SYSTEM """{system}"""', ""]
    lines += [f'PARAMETER stop "{s}"' for s in stop]
    lines += [f"PARAMETER temperature {temperature:g}", f"PARAMETER top_p {top_p:g}", ""]
    with atomic_output(out, force) as tmp:
        with open_private(tmp, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
    return out
