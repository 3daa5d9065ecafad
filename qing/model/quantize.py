"""`qing quantize`: a GGUF file -> a quantized GGUF (Q4_K_M and the other types that need no importance matrix),
through llama.cpp, and the run's Ollama Modelfile pointed at the result."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Callable

from qing.errors import QingError
from qing.files import atomic_output, check_output, open_private
from qing.i18n import _
from qing.model.gguf import _check_space, require_gguf


def quant_types() -> dict[str, str]:
    """Quantization types that need no importance matrix -> one-line guide (sizes for a 7-8B model), in the user's
    language (`qing quantize --list`)."""
    return {
        "Q2_K": _("smallest (~2.9 GB for 7B); clearly worse, only when nothing else fits"),
        "Q3_K_S": _("~3.2 GB for 7B; very small, noticeable quality loss"),
        "Q3_K_M": _("~3.5 GB for 7B; small, quality loss on hard prompts"),
        "Q3_K_L": _("~3.8 GB for 7B; small, a little better than Q3_K_M"),
        "Q4_0": _("~4.1 GB for 7B; legacy 4-bit, prefer Q4_K_M"),
        "Q4_1": _("~4.5 GB for 7B; legacy 4-bit, prefer Q4_K_M"),
        "Q4_K_S": _("~4.1 GB for 7B; good balance, slightly smaller than Q4_K_M"),
        "Q4_K_M": _("~4.4 GB for 7B; recommended default: good quality at a quarter of F16"),
        "Q5_0": _("~5.0 GB for 7B; legacy 5-bit, prefer Q5_K_M"),
        "Q5_1": _("~5.4 GB for 7B; legacy 5-bit, prefer Q5_K_M"),
        "Q5_K_S": _("~5.0 GB for 7B; high quality"),
        "Q5_K_M": _("~5.1 GB for 7B; high quality, close to F16"),
        "Q6_K": _("~5.9 GB for 7B; very close to F16"),
        "Q8_0": _("~7.6 GB for 7B; practically lossless, half of F16"),
        "F16": _("~14 GB for 7B; no quantization (16-bit floats)"),
        "BF16": _("~14 GB for 7B; no quantization (bfloat16, as most models are trained)"),
        "F32": _("~28 GB for 7B; 32-bit floats, only for debugging"),
    }


IMATRIX_TYPES = ("IQ", "TQ")
"""Type names whose quantization needs an importance matrix (IQ1_S ... IQ4_XS) or is ternary-only (TQ1_0, TQ2_0)."""


def repoint_modelfile(source: Path, quantized: Path) -> Path | None:
    """Point the Modelfile `qing gguf` wrote beside SOURCE at QUANTIZED instead (the file users run); None when
    there is none, or it is not about SOURCE (then it is the user's and left alone)."""
    modelfile = Path(source).parent / "Modelfile"
    if not modelfile.is_file() or Path(quantized).parent.resolve() != modelfile.parent.resolve():
        return None
    lines = modelfile.read_text(encoding="utf-8").split("\n")
    if not lines or lines[0].strip() not in (f"FROM ./{Path(source).name}", f"FROM {Path(source).resolve()}"):
        return None
    lines[0] = f"FROM ./{Path(quantized).name}"
    with atomic_output(modelfile, force=True) as tmp:
        with open_private(tmp, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
    return modelfile


def default_quantized_path(inp: Path, qtype: str) -> Path:
    """<stem>-<TYPE>.gguf beside the input (a trailing -F16 / -f16 / -BF16 / -F32 of the stem is replaced)."""
    inp = Path(inp)
    stem = inp.stem
    for suffix in ("-f16", "-bf16", "-f32", "-F16", "-BF16", "-F32"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return inp.with_name(f"{stem}-{qtype.upper()}.gguf")


def quantize(inp: Path, out: Path | None = None, qtype: str = "Q4_K_M", *, llama_cpp: Path | None = None,
             force: bool = False, nthread: int | None = None, verbose: bool = False,
             note: Callable[[str], None] = lambda text: None) -> Path:
    """Quantize the GGUF file INP to QTYPE (see quant_types()); return the output path.

    Uses llama-cpp-python's `llama_model_quantize`, or the llama-quantize binary of the llama.cpp
    checkout LLAMA_CPP when one is given. llama.cpp's per-tensor log is shown only with `verbose`. NOTE is told
    once the input, type and output are checked, as the long work starts.
    """
    key = qtype.upper()
    if key not in quant_types():
        if key.startswith(IMATRIX_TYPES):
            raise QingError(_("{qtype} needs an importance matrix (llama.cpp's llama-imatrix), which qing does not "
                              "make; use a K-quant such as Q4_K_M or Q3_K_M (`qing quantize --list`).").format(
                qtype=key))
        raise QingError(_("unknown quantization type {qtype!r}; `qing quantize --list` shows the choices.").format(
            qtype=qtype))
    inp = require_gguf(Path(inp))
    out = Path(out) if out is not None else default_quantized_path(inp, key)
    if out.resolve() == inp.resolve():
        raise QingError(_("output {output} is the input; give another output path.").format(output=out))
    if out.exists() and not force:
        raise QingError(_("output {output} already exists; pass --force to overwrite it, or give another output "
                          "path after the input (qing quantize {input} OTHER.gguf).").format(output=out,
                                                                                             input=inp.name))
    check_output(out, force)
    _check_space(out.parent, inp.stat().st_size, _("the quantized file"))
    note(_("quantizing {input} to {qtype} (minutes for an 8B model)...").format(input=inp, qtype=key))
    nthread = nthread or os.cpu_count() or 1
    with atomic_output(out, force) as tmp:
        if llama_cpp is not None:
            _quantize_binary(Path(llama_cpp), inp, tmp, key, nthread, verbose)
        else:
            _quantize_python(inp, tmp, key, nthread, verbose)
    return out


def _quantize_python(inp: Path, tmp: Path, key: str, nthread: int, verbose: bool) -> None:
    import ctypes

    try:
        import llama_cpp
    except ImportError:
        raise QingError(_("quantizing needs llama-cpp-python (pip install 'qing[gguf]') or --llama-cpp DIR with a "
                          "built llama.cpp.")) from None
    try:  # llama-cpp-python routes llama.cpp's log through this; errors only unless verbose
        from llama_cpp import _logger

        _logger.set_verbose(verbose)
    except (ImportError, AttributeError):
        pass
    ftype = getattr(llama_cpp, f"LLAMA_FTYPE_{'ALL' if key == 'F32' else 'MOSTLY'}_{key}", None)
    if ftype is None:
        raise QingError(_("this llama-cpp-python has no {qtype} quantization; upgrade it or pass --llama-cpp "
                          "DIR.").format(qtype=key))
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = nthread
    rc = llama_cpp.llama_model_quantize(str(inp).encode(), str(tmp).encode(), ctypes.byref(params))
    if rc != 0:
        raise QingError(_("llama.cpp could not quantize {input} to {qtype} (error {code}); check that the file is a "
                          "complete model GGUF.").format(input=inp, qtype=key, code=rc))


def _quantize_binary(llama_cpp: Path, inp: Path, tmp: Path, key: str, nthread: int, verbose: bool) -> None:
    names = ("llama-quantize", "llama-quantize.exe", "quantize")
    candidates = [llama_cpp / d / n for d in ("build/bin", "build/bin/Release", "bin", "build", ".") for n in names]
    binary = next((c for c in candidates if c.is_file() and os.access(c, os.X_OK)), None)
    if binary is None:
        raise QingError(_("no llama-quantize under {llama_cpp}; build llama.cpp there (cmake -B build && cmake "
                          "--build build --target llama-quantize).").format(llama_cpp=llama_cpp))
    proc = subprocess.run([str(binary), str(inp), str(tmp), key, str(nthread)], stdout=None if verbose else
                          subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    if proc.returncode != 0:
        last = [line.strip()[:300] for line in (proc.stdout or "").splitlines() if line.strip()][-1:]
        raise QingError(_("llama-quantize failed ({reason}).").format(reason=last[0] if last else _("see its output")))
