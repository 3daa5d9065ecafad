"""`qing finetune`, `infer`, `gguf`, `quantize`, `eval` and `serve`: the model."""

from __future__ import annotations

import contextlib
import signal
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from qing.cli.app import (
    LLAMA_CPP_HELP,
    command,
    console,
    examples,
    lead,
    progress_bar,
    quiet_libraries,
    say_warning,
    state,
    stopped_by,
)
from qing.cli.params import choice, plain, takes
from qing.errors import QingError
from qing.files import human_size
from qing.i18n import _
from qing.model.options import (
    ENGINES,
    GPU_LAYERS_HELP,
    OUTTYPES,
    EvalOptions,
    FinetuneOptions,
    InferOptions,
    ServeOptions,
)

GpuLayers = Annotated[int, typer.Option(
    "--gpu-layers", envvar="QING_GPU_LAYERS", min=-1, help=GPU_LAYERS_HELP)]

def _train_progress(entry: dict) -> None:
    if "eval_loss" in entry:
        line = (_("step {step}/{max_steps}  eval loss {loss:.4f}") if entry["max_steps"] else
                _("before training  eval loss {loss:.4f}"))
        console.print(line.format(step=entry["step"], max_steps=entry["max_steps"], loss=entry["eval_loss"]))
    elif "loss" in entry:
        eta = entry.get("eta_seconds")
        line = (_("step {step}/{max_steps}  epoch {epoch:.2f}  loss {loss:.4f}  lr {lr:.2e}  {speed:,.0f} tokens/s")
                if eta is None else
                _("step {step}/{max_steps}  epoch {epoch:.2f}  loss {loss:.4f}  lr {lr:.2e}  {speed:,.0f} tokens/s  "
                  "ETA {minutes}:{seconds:02d}"))
        console.print(line.format(step=entry["step"], max_steps=entry["max_steps"], epoch=entry["epoch"],
                                  loss=entry["loss"], lr=entry.get("learning_rate", 0),
                                  speed=entry["tokens_per_second"], minutes=int(eta or 0) // 60,
                                  seconds=int(eta or 0) % 60))


FINETUNE_PANELS = {
    "Model": ("model", "source", "models_dir", "quant", "template", "liger"),
    "LoRA": ("lora_r", "lora_alpha", "lora_dropout", "target_modules"),
    "Training": ("learning_rate", "num_train_epochs", "max_steps", "warmup_ratio", "lr_scheduler_type", "weight_decay",
                 "per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps",
                 "max_length", "packing", "gradient_checkpointing", "optim", "seed"),
    "Data, checkpoints and logs": ("max_samples", "max_eval_samples", "logging_steps", "eval_steps", "save_steps",
                                   "save_total_limit", "merge"),
    "Mixture-of-experts models": ("moe_enable", "moe_lora_scope", "moe_expert_patterns", "moe_router_patterns",
                                  "moe_max_experts_lora", "moe_dry_run"),
}


@command("finetune", epilog=examples(
    "qing finetune dataset -o runs/me",
    "qing finetune dataset -o runs/me --model Qwen/Qwen3-4B-Base --num-train-epochs 2 --save-steps 100",
    "qing finetune dataset -o runs/me --resume",
))
@takes(FinetuneOptions, panels=FINETUNE_PANELS)
def finetune_cmd(
    dataset: Path = typer.Argument(..., help="Dataset directory from `qing clean` (train.jsonl, eval.jsonl)."),
    output: Path = typer.Option(Path("runs/qing"), "--output", "-o", help="Run directory."),
    resume: bool = typer.Option(False, "--resume", help="Continue OUT from its latest checkpoint."),
    force: bool = typer.Option(False, "--force", help="Replace an existing run directory."),
    opts: FinetuneOptions = None,
) -> None:
    """Fine-tune a LoRA / QLoRA adapter on the chat samples: OUT/adapter, checkpoints, metrics, loss.png."""
    from qing.model.finetune import finetune, is_main_process
    from qing.model.run import Run

    quiet_libraries()
    main_process = is_main_process()
    try:
        result = finetune(dataset, output, opts, force=force, resume=resume,
                          progress=_train_progress if main_process else None,
                          note=(lambda text: console.print(escape(text))) if main_process else (lambda text: None))
    except KeyboardInterrupt as e:
        checkpoints = Run(output).checkpoints() if main_process else []
        if not checkpoints:
            raise  # the frame says it: nothing of the run was kept
        signum = getattr(e, "signum", signal.SIGINT)
        again = escape(f"qing finetune {dataset} -o {output} --resume")
        with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone
            console.print(lead(stopped_by(signum), "yellow") + _(
                "{checkpoint} kept, no adapter written yet; `{command}` continues from it.").format(
                checkpoint=checkpoints[-1].name, command=again))
        raise typer.Exit(128 + signum) from None
    if not main_process:
        return
    if result.dry_run_modules is not None:
        for name in result.dry_run_modules:
            print(name)
        console.print(_("{count} modules would get a LoRA (dry run: nothing trained).").format(
            count=len(result.dry_run_modules)))
        return
    evals = (_("; eval loss {before:.4f} -> {after:.4f}").format(before=result.first_eval_loss,
                                                                 after=result.eval_loss)
             if result.first_eval_loss is not None else
             _("; eval loss {loss:.4f}").format(loss=result.eval_loss) if result.eval_loss is not None else "")
    outputs = f"{output / 'adapter'}" + (f", {result.merged}" if result.merged else "")
    console.print(_("trained {steps} steps in {seconds:.0f} s ({speed:,.0f} tokens/s){evals} -> {outputs}").format(
        steps=result.steps, seconds=result.seconds, speed=result.tokens_per_second, evals=evals, outputs=outputs))

# --- infer -------------------------------------------------------------------------

@command("infer", epilog=examples(
    "qing infer runs/me",
    "qing infer runs/me --prompt 周末去爬山吗？ --temperature 0",
    "qing infer --gguf runs/me/me-Q4_K_M.gguf",
))
@takes(InferOptions)
def infer_cmd(
    run: Optional[Path] = typer.Argument(None, help="Run directory from `qing finetune`."),
    model: Optional[str] = typer.Option(None, "--model", help="Base model (default: the run's)."),
    adapter: Optional[Path] = typer.Option(None, "--adapter", help="LoRA adapter directory."),
    merged: Optional[Path] = typer.Option(None, "--merged", help="Merged model directory (instead of an adapter)."),
    gguf: Optional[Path] = typer.Option(None, "--gguf", help="A GGUF file, run by llama.cpp (its own chat template)."),
    gpu_layers: GpuLayers = 0,
    prompt: Optional[str] = typer.Option(None, "--prompt", "-p",
                                         help="One message: print only the reply and exit (for scripts)."),
    opts: InferOptions = None,
) -> None:
    """Chat with the fine-tuned model in the terminal (or answer one --prompt)."""
    from qing.model import infer

    quiet_libraries()
    if run is None and merged is None and model is None and gguf is None:
        raise QingError(_("give a run directory (qing infer runs/qing), --merged DIR, --gguf FILE, or --model with "
                          "--adapter."))
    cm = infer.load(run, model, adapter, merged, opts, gguf=gguf, gpu_layers=gpu_layers)
    if prompt is not None:
        text = infer.reply(cm, infer.Conversation(cm.system_prompt), prompt, opts)
        print(text)
        return
    console.print(f"[dim]{escape(cm.description)}[/dim]")

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    infer.repl(cm, opts, input, write)

@command("gguf", epilog=examples(
    "qing gguf runs/me",
    "qing gguf runs/me --outtype q8_0",
))
def gguf_cmd(
    model_dir: Path = typer.Argument(..., help="Hugging Face model directory, or a `qing finetune` run directory."),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="GGUF file to write (default: <dir>/<name>-<outtype>.gguf)."),
    outtype: choice("OutType", OUTTYPES, "--outtype", envvar="QING_GGUF_OUTTYPE",
                    help="Type of the weights in the GGUF.") = "f16",
    llama_cpp: Optional[Path] = typer.Option(None, "--llama-cpp", envvar="QING_LLAMA_CPP", help=LLAMA_CPP_HELP),
    force: bool = typer.Option(False, "--force", help="Overwrite the GGUF file and Modelfile."),
) -> None:
    """Convert a model (or a fine-tuning run) to GGUF for llama.cpp / Ollama / LM Studio, with an Ollama Modelfile."""
    import time

    from qing.model import gguf

    outtype = plain(outtype)
    started = time.perf_counter()
    with progress_bar(_("converting"), "MB", scale=1e6) as update:
        out, modelfile, name = gguf.to_gguf(model_dir, output, outtype, llama_cpp=llama_cpp, force=force,
                                            progress=update, note=lambda text: console.print(escape(text)),
                                            before_merge=quiet_libraries)
    console.print(_("wrote {output} ({size}, {outtype}) in {seconds:.1f} s").format(
        output=out, size=human_size(out.stat().st_size), outtype=outtype, seconds=time.perf_counter() - started))
    console.print(_("wrote {modelfile}: ollama create {name} -f {modelfile}").format(modelfile=modelfile, name=name))


@command("quantize", epilog=examples(
    "qing quantize runs/me/me-f16.gguf",
    "qing quantize runs/me/me-f16.gguf Q5_K_M",
    "qing quantize --list",
))
def quantize_cmd(
    gguf_file: Optional[Path] = typer.Argument(None, help="GGUF file from `qing gguf`."),
    output: Optional[Path] = typer.Argument(None, help="Output file (default: <stem>-<TYPE>.gguf beside the input)."),
    qtype: str = typer.Option("Q4_K_M", "--type", "-t", envvar="QING_QUANT_TYPE",
                              help="Quantization type; --list shows them all."),
    list_types: bool = typer.Option(False, "--list", help="List the quantization types with a one-line guide."),
    llama_cpp: Optional[Path] = typer.Option(None, "--llama-cpp", envvar="QING_LLAMA_CPP", help=LLAMA_CPP_HELP),
    force: bool = typer.Option(False, "--force", help="Overwrite the output."),
) -> None:
    """Quantize a GGUF file (Q4_K_M and the other types that need no importance matrix)."""
    import time

    from qing.model import quantize

    if list_types:
        for name, guide in quantize.quant_types().items():
            print(f"{name:8s} {guide}")
        return
    if gguf_file is None:
        raise QingError(_("give the GGUF file to quantize, e.g. qing quantize model-f16.gguf (--list shows types)."))
    started = time.perf_counter()
    out = quantize.quantize(gguf_file, output, qtype, llama_cpp=llama_cpp, force=force, verbose=state["verbose"],
                            note=lambda text: console.print(escape(text)))
    size, before = out.stat().st_size, gguf_file.stat().st_size
    console.print(_("wrote {output} ({size}, {qtype}; {ratio:.0%} of the input) in {seconds:.1f} s").format(
        output=out, size=human_size(size), qtype=qtype.upper(), ratio=size / before,
        seconds=time.perf_counter() - started))
    if modelfile := quantize.repoint_modelfile(gguf_file, out):
        console.print(_("{modelfile} now points at {name}: ollama create NAME -f {modelfile}").format(
            modelfile=modelfile, name=out.name))

# --- eval ---------------------------------------------------------------------------------

@command("eval", epilog=examples(
    "qing eval runs/me",
    "qing eval runs/me --limit 100 --gguf runs/me/me-Q4_K_M.gguf",
))
@takes(EvalOptions)
def eval_cmd(
    run: Path = typer.Argument(..., help="Run directory from `qing finetune`: its adapter, and the base without it."),
    dataset: Optional[Path] = typer.Option(None, "--dataset",
                                           help="Dataset directory (its eval.jsonl) or an eval .jsonl file "
                                                "(default: the run's dataset)."),
    gguf: Optional[list[Path]] = typer.Option(None, "--gguf", metavar="FILE",
                                              help="Also evaluate this GGUF through llama.cpp, as an extra column "
                                                   "(repeat it to compare f16 and Q4_K_M)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="Report directory (default: RUN/eval)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing report."),
    opts: EvalOptions = None,
) -> None:
    """Does it sound like you? Fit, style and variety of tuned vs base vs your real replies: report.html/.md/.json."""
    import time

    from rich.table import Table

    from qing.model import eval as evaluation
    from qing.model import eval_report

    quiet_libraries()
    started = time.perf_counter()
    out = output or run / "eval"
    with progress_bar(_("evaluating"), _("steps")) as update:
        report, written = evaluation.eval_run(run, out, dataset, opts, tuple(gguf or ()), force, update)
    header, rows = eval_report.summary_rows(report)
    table = Table(title=_("qing eval: {count} contexts").format(count=report["contexts"]), header_style="bold")
    for i, name in enumerate(header):
        table.add_column(escape(name), justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    console.print(table)
    if warning := eval_report.too_few_contexts(report):
        console.print(f"[yellow]{escape(warning)}[/yellow]")
    if report["skipped_too_long"]:
        console.print(_("{count} eval samples longer than the run's max length were skipped.").format(
            count=report["skipped_too_long"]))
    console.print(_("wrote {files} in {seconds:.0f} s").format(files=", ".join(str(p) for p in written),
                                                               seconds=time.perf_counter() - started))


# --- serve --------------------------------------------------------------------------------

@command("serve", epilog=examples(
    "qing serve runs/me",
    "qing serve --gguf runs/me/me-Q4_K_M.gguf --host 0.0.0.0",
))
@takes(ServeOptions, env_prefix="SERVE_")
@takes(InferOptions, into="defaults", exclude=("template", "seed"), changes={
    "max_new_tokens": {"help": "Longest reply of requests that set no max_tokens."},
    "system_prompt": {"help": "System prompt for requests that send none (default: the run's)."}})
def serve_cmd(
    run: Optional[Path] = typer.Argument(None, help="Run directory from `qing finetune` (its merged model or "
                                                    "adapter; its GGUF when it holds no adapter)."),
    gguf: Optional[Path] = typer.Option(None, "--gguf", help="A GGUF file, served by llama.cpp."),
    merged: Optional[Path] = typer.Option(None, "--merged", help="Merged model directory."),
    adapter: Optional[Path] = typer.Option(None, "--adapter", help="LoRA adapter directory (with --model)."),
    model: Optional[str] = typer.Option(None, "--model", help="Base model (default: the run's)."),
    engine: choice("Engine", ENGINES, "--engine", envvar="QING_SERVE_ENGINE",
                   help="auto: llama.cpp for a GGUF, vLLM when installed with CUDA, else transformers.") = "auto",
    opts: ServeOptions = None,
    defaults: InferOptions = None,
) -> None:
    """Serve the model as an OpenAI-compatible API (/v1/chat/completions) for QQ / WeChat / Telegram bots."""
    from qing.model import serve

    def on_request(method: str, path: str, status: int, seconds: float, tokens) -> None:
        route = f"/v1{path}" if path in ("/models", "/chat/completions") else _("(other path)")  # no client text
        used = (f", {tokens[0]}+{tokens[1]} tokens" if tokens else
                " " + _("(client went away)") if status == 499 else "")
        console.print(f"[dim]{method} {route} {status} {seconds:.2f} s{used}[/dim]")

    src = serve.Source(run_dir=run, gguf=gguf, merged=merged, adapter=adapter, model=model)
    serve.serve(src, plain(engine), opts, defaults, note=lambda text: console.print(escape(text)),
                warn=say_warning,
                on_request=on_request, before_transformers=quiet_libraries)
    console.print(_("stopped."))
