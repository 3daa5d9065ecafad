"""LoRA / QLoRA fine-tuning on chat samples (contract 2), as one recipe: setup, train, save.

The model learns exactly what `qing infer` will show it: each sample is rendered with the model's chat
template (thinking off) and only the owner's replies and their end-of-turn token carry loss. Samples
are packed into rows of up to max_length tokens whose position ids restart at each sample, so
attention never crosses samples and no compute goes to padding. Training runs through transformers'
Trainer: checkpoints resume with optimizer, scheduler and data position, and `accelerate launch`
spreads it over several GPUs (or CPU processes).

On CUDA the step is kept busy: Liger Kernel's Triton kernels (when installed) fuse the output layer with the
loss, so no logits of the whole vocabulary are held, and fuse RMSNorm, SwiGLU and RoPE; that frees the
memory for several packed rows per micro-step, joined into one longer row, so each of the thousands of
kernel launches of a step does more work. Packed rows get variable-length FlashAttention (qing.attention, or
flash-attn's when installed): each sample attends to itself alone, with no dense mask over the row. Frozen
weights stay in the compute dtype (bf16): only the LoRA weights, which the optimizer updates, are fp32.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from qing.errors import QingError
from qing.extras import install_hint
from qing.files import private_dir, private_files, refuse_input_as_output
from qing.i18n import _
from qing.model import base_model, packed_attention
from qing.model import chat_format as chat
from qing.model.graceful_stop import TrainingStopped, stop_at_step_end, stop_callback
from qing.model.options import (  # noqa: F401 (read as finetune.X)
    DEFAULT_EXPERT_PATTERNS,
    DEFAULT_ROUTER_PATTERNS,
    DEFAULT_TARGETS,
    MOE_SCOPES,
    FinetuneOptions,
)
from qing.model.run import Run
from qing.model.training_log import make_recorder
from qing.model.training_rows import Collator, Encoded, encode_samples, load_dataset, make_rows, system_prompt_of

log = logging.getLogger(__name__)

ROWS_PER_UPDATE = 16
"""Rows per optimizer step when neither the batch size nor the accumulation is given (the original recipe's 1 x 16)."""
TOKENS_PER_MICRO_STEP = 8192
"""The most tokens the automatic batch size joins into one micro-step: by then the launches are amortized (a Qwen3-8B
micro-step keeps the GPU busy most of its time), and where no varlen attention runs (GPUs older than Ampere) SDPA's
dense mask over the row grows with its square."""


# --- model ---------------------------------------------------------------------------

def device_kind() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def lora_targets(model, opts: FinetuneOptions) -> tuple[list[str], list[str]]:
    """(modules, parameters) that get a LoRA: the target list, or for MoE what the expert / router patterns match.

    MoE experts come two ways: one Linear per expert (older code, Mixtral's w1/w2/w3), or fused 3-D
    parameters (transformers 5: experts.gate_up_proj / experts.down_proj); peft reaches the latter
    through target_parameters.
    """
    linear_names = [name for name, module in model.named_modules() if _is_linear(module)]
    if not opts.moe_enable:
        wanted = {t.strip() for t in opts.target_modules.split(",") if t.strip()}
        modules, parameters = [n for n in linear_names if n.rsplit(".", 1)[-1] in wanted], []
    else:
        if opts.moe_lora_scope not in MOE_SCOPES:
            raise QingError(_("unknown --moe-lora-scope {scope!r}; use {choices}.").format(
                scope=opts.moe_lora_scope, choices=", ".join(MOE_SCOPES)))
        patterns = []
        if opts.moe_lora_scope in ("expert_only", "all"):
            patterns += _regexes(opts.moe_expert_patterns)
        if opts.moe_lora_scope in ("router_only", "all"):
            patterns += _regexes(opts.moe_router_patterns)
        modules = _limit_experts([n for n in linear_names if any(p.search(n) for p in patterns)],
                                 opts.moe_max_experts_lora)
        inside_linear = {f"{n}.weight" for n in linear_names} | {f"{n}.bias" for n in linear_names}
        parameters = [n for n, p in model.named_parameters()
                      if p.dim() >= 2 and n not in inside_linear and any(x.search(n) for x in patterns)]
    if not modules and not parameters:
        raise QingError(_("no module of the model matches the LoRA targets; check --target-modules (or the MoE "
                          "patterns, with --moe-dry-run to list them)."))
    return modules, parameters


def _is_linear(module) -> bool:
    import torch

    return isinstance(module, torch.nn.Linear) or type(module).__name__ in ("Linear4bit", "Linear8bitLt")


def _regexes(patterns: str) -> list[re.Pattern]:
    try:
        return [re.compile(p.strip()) for p in patterns.split(",") if p.strip()]
    except re.error as e:
        raise QingError(_("an MoE module pattern is not a valid regular expression ({reason}).").format(
            reason=e)) from None


def _limit_experts(names: list[str], limit: int) -> list[str]:
    """Keep LoRA on at most `limit` experts per layer (the lowest-numbered), routers untouched."""
    if limit < 0:
        return names
    kept = []
    for name in names:
        m = re.search(r"layers\.(\d+)\..*experts\.(\d+)\.", name)
        if m is None or int(m.group(2)) < limit:
            kept.append(name)
    return kept


# --- the run -------------------------------------------------------------------------

@dataclass
class RunResult:
    output: Path
    steps: int
    train_loss: float | None
    eval_loss: float | None
    first_eval_loss: float | None
    seconds: float
    tokens_per_second: float
    data: Encoded
    eval_data: Encoded | None
    merged: Path | None = None
    dry_run_modules: list[str] | None = None


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def finetune(dataset: Path, out: Path, opts: FinetuneOptions, *, force: bool = False, resume: bool = False,
             progress: Callable[[dict], None] | None = None, note: Callable[[str], None] = log.info) -> RunResult:
    """Train a LoRA adapter on DATASET's train.jsonl into OUT; see the module docstring.

    Everything written (checkpoints, adapter, merged model: all learned from chat data) is owner-only.
    """
    with private_files():
        return _finetune(dataset, out, opts, force, resume, progress, note)


def _finetune(dataset: Path, out: Path, opts: FinetuneOptions, force: bool, resume: bool, progress, note) -> RunResult:
    started = time.perf_counter()
    if resume:
        saved = Run.open(out).options
        opts = FinetuneOptions(**{k: v for k, v in saved.items() if k in FinetuneOptions.__dataclass_fields__})
    check_options(opts)
    train, evals = load_dataset(dataset, opts)
    model_dir = base_model.resolve(opts.model, opts.source, Path(opts.models_dir))
    tokenizer = chat.load_tokenizer(model_dir, opts.template)
    opts.system_prompt = system_prompt_of(train)

    if opts.moe_dry_run:
        return _dry_run(model_dir, opts, out, started)
    if not resume:
        refuse_input_as_output(out, dataset, model_dir)
    existed = out.exists()
    if is_main_process():
        Run.prepare(out, force, resume)
    try:
        return _train(dataset, out, opts, resume, progress, note, started, model_dir, tokenizer, train, evals)
    except BaseException:
        # a run that failed before its first checkpoint leaves nothing that blocks running it again
        if not resume and is_main_process() and not any(out.glob("checkpoint-*")):
            shutil.rmtree(out, ignore_errors=True)
            if existed:
                private_dir(out)
        raise


def _train(dataset: Path, out: Path, opts: FinetuneOptions, resume: bool, progress, note, started: float,
           model_dir: Path, tokenizer, train: list, evals: list) -> RunResult:
    eot = chat.end_of_turn(tokenizer)
    encoded, too_long = encode_samples(tokenizer, train, eot, opts.max_length)
    data = make_rows(encoded, opts.max_length, opts.packing, opts.per_device_train_batch_size or 1, too_long)
    if not data.rows:
        raise QingError(_("every training sample is longer than --max-length {max_length}; raise it, or re-run "
                          "`qing clean` with --max-tokens of the same value.").format(max_length=opts.max_length))
    eval_data = None
    if evals:
        encoded, too_long = encode_samples(tokenizer, evals, eot, opts.max_length)
        eval_data = make_rows(encoded, opts.max_length, opts.packing, opts.per_device_eval_batch_size, too_long)
        eval_data = eval_data if eval_data.rows else None
    if quant_note := _quant_note(opts.quant):
        note(quant_note)
    note(_describe(data))
    run = Run(out, {"options": dataclasses.asdict(opts), "model_dir": str(model_dir), "dataset": str(dataset),
                    "end_of_turn": eot, "template": opts.template, "chat_template": tokenizer.chat_template,
                    "data": _data_info(data, eval_data)})
    run_info = run.info
    if is_main_process():
        run.save()
    base = base_model.load_base(model_dir, opts.quant, packed=opts.packing)
    run_info["quantized"] = "4bit" if getattr(base, "is_loaded_in_4bit", False) else \
        "8bit" if getattr(base, "is_loaded_in_8bit", False) else None
    fused = fused_kernels(base, opts)
    opts.per_device_train_batch_size, opts.gradient_accumulation_steps = micro_batching(opts, base, fused)
    run_info["options"] = dataclasses.asdict(opts)
    if is_main_process():
        run.save()
    note(_describe_model(model_dir, run_info["quantized"], base.config, fused, opts))
    total = _total_steps(len(data.rows), opts)
    if opts.save_steps > total:
        note(_("note: {total} optimizer steps in all, fewer than --save-steps {save_steps}: the only checkpoint is "
               "the last one; a lower --save-steps lets --resume pick up after a crash.").format(
            total=total, save_steps=opts.save_steps))
    model = _with_lora(base, opts, note)
    if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(len(tokenizer))
    trainer, recorder = _trainer(model, tokenizer, data, eval_data, out, opts, progress)
    try:
        first_eval = trainer.evaluate()["eval_loss"] if eval_data and not resume else None
        with stop_at_step_end(note, enabled=int(os.environ.get("WORLD_SIZE", "1")) == 1) as stop:
            trainer.add_callback(stop_callback(stop))
            output = trainer.train(resume_from_checkpoint=_last_checkpoint(run) if resume else None)
        if stop.signum is not None and trainer.state.global_step < trainer.state.max_steps:
            raise TrainingStopped(stop.signum, trainer.state.global_step)
        last_eval = recorder.eval_loss_at(trainer.state.global_step)
        if eval_data and last_eval is None:
            last_eval = trainer.evaluate()["eval_loss"]
    except Exception as e:
        if type(e).__name__ == "OutOfMemoryError":
            raise QingError(_("CUDA ran out of memory; try --quant 4bit, a shorter --max-length (1024), "
                              "--per-device-train-batch-size 1 or --no-packing.")) from None
        raise
    result = RunResult(out, trainer.state.global_step, output.training_loss, last_eval, first_eval,
                       time.perf_counter() - started, recorder.tokens_per_second(), data, eval_data)
    if trainer.is_world_process_zero():
        _save_adapter(trainer.model, tokenizer, out)
        if not recorder.plot(out / "loss.png"):
            note(_("no loss.png: matplotlib is not installed ({install}); metrics.jsonl has the same figures.").format(
                install=install_hint("train")))
        run_info["result"] = {"steps": result.steps, "train_loss": result.train_loss, "eval_loss": last_eval,
                              "first_eval_loss": first_eval, "seconds": round(result.seconds, 1),
                              "tokens_per_second": round(result.tokens_per_second, 1)}
        run.save()
        if opts.merge:
            del trainer, model
            note(_("merging the adapter into a fresh 16-bit copy of the base -> {path}").format(
                path=out / "merged"))
            result.merged = base_model.merge_adapter(run)
    return result


def check_options(opts: FinetuneOptions) -> None:
    """One sentence for an option out of range, before any data is read or output written (and for --resume, on the
    options it replays)."""
    from transformers.trainer_utils import SchedulerType
    from transformers.training_args import OptimizerNames

    def need(ok: bool, flag: str, value, sentence: str) -> None:
        """SENTENCE (translated, with {flag} and {value}) says what the option must be."""
        if not ok:
            raise QingError(sentence.format(flag=flag, value=value))

    if opts.quant not in base_model.QUANTS:
        raise QingError(_("unknown --quant {quant!r}; use one of: {choices}.").format(
            quant=opts.quant, choices=", ".join(base_model.QUANTS)))
    need(opts.lora_r >= 1, "--lora-r", opts.lora_r,
         _("{flag} {value} is out of range: it must be at least 1 (16 is usual)."))
    need(opts.lora_alpha > 0, "--lora-alpha", opts.lora_alpha,
         _("{flag} {value} is out of range: it must be above 0 (twice --lora-r is usual)."))
    need(0 <= opts.lora_dropout < 1, "--lora-dropout", opts.lora_dropout,
         _("{flag} {value} is out of range: it must be from 0 up to (not including) 1."))
    need(0 < opts.learning_rate < 1, "--learning-rate", opts.learning_rate,
         _("{flag} {value} is out of range: it must be above 0 and below 1 (2e-4 is usual)."))
    need(opts.max_steps == -1 or opts.max_steps >= 1, "--max-steps", opts.max_steps,
         _("{flag} {value} is out of range: it must be -1 (run the epochs) or at least 1."))
    need(opts.max_steps >= 1 or opts.num_train_epochs > 0, "--num-train-epochs", opts.num_train_epochs,
         _("{flag} {value} is out of range: it must be above 0."))
    need(0 <= opts.warmup_ratio < 1, "--warmup-ratio", opts.warmup_ratio,
         _("{flag} {value} is out of range: it must be from 0 up to (not including) 1."))
    need(opts.weight_decay >= 0, "--weight-decay", opts.weight_decay,
         _("{flag} {value} is out of range: it must be 0 or more."))
    for flag, value in (("--per-device-train-batch-size", opts.per_device_train_batch_size),
                        ("--gradient-accumulation-steps", opts.gradient_accumulation_steps),
                        ("--per-device-eval-batch-size", opts.per_device_eval_batch_size),
                        ("--logging-steps", opts.logging_steps), ("--eval-steps", opts.eval_steps),
                        ("--save-steps", opts.save_steps), ("--save-total-limit", opts.save_total_limit)):
        need(value is None or value >= 1, flag, value, _("{flag} {value} is out of range: it must be at least 1."))
    need(opts.max_length >= 16, "--max-length", opts.max_length,
         _("{flag} {value} is out of range: it must be at least 16 (2048 is usual)."))
    schedules = [s.value for s in SchedulerType]
    if opts.lr_scheduler_type not in schedules:
        raise QingError(_("unknown --lr-scheduler-type {name!r}; use one of: {choices}.").format(
            name=opts.lr_scheduler_type, choices=", ".join(schedules[:8])))
    if opts.optim not in {o.value for o in OptimizerNames}:
        raise QingError(_("unknown --optim {name!r}; use a name transformers knows (adamw_torch_fused, adamw_torch, "
                          "adamw_8bit, ...).").format(name=opts.optim))
    if opts.moe_lora_scope not in MOE_SCOPES:
        raise QingError(_("unknown --moe-lora-scope {scope!r}; use {choices}.").format(
            scope=opts.moe_lora_scope, choices=", ".join(MOE_SCOPES)))


def _quant_note(quant: str) -> str | None:
    if quant != "none" and device_kind() != "cuda" and not base_model.QUANTIZE_ON_CPU:
        return _("note: no CUDA GPU here: --quant {quant} needs one, so this run trains unquantized (fp32 on the "
                 "CPU).").format(quant=quant)
    return None


def _total_steps(rows: int, opts: FinetuneOptions) -> int:
    if opts.max_steps > 0:
        return opts.max_steps
    world = int(os.environ.get("WORLD_SIZE", "1"))
    per_epoch = math.ceil(rows / (opts.per_device_train_batch_size * world) / opts.gradient_accumulation_steps)
    return max(1, math.ceil(opts.num_train_epochs * per_epoch))


def _describe(d: Encoded) -> str:
    """The data line: what the samples became, and how many were too long."""
    numbers = dict(samples=d.samples, rows=len(d.rows), tokens=d.tokens, trained=d.trained_tokens,
                   padding=d.padding_share, fill=d.fill, too_long=d.too_long)
    if d.too_long:
        return _("data: {samples:,} samples in {rows:,} rows, {tokens:,} tokens ({trained:,} trained), padding "
                 "{padding:.1%}, rows {fill:.0%} full; {too_long:,} longer than --max-length skipped").format(**numbers)
    return _("data: {samples:,} samples in {rows:,} rows, {tokens:,} tokens ({trained:,} trained), padding "
             "{padding:.1%}, rows {fill:.0%} full").format(**numbers)


def _describe_model(model_dir: Path, quantized: str | None, config, fused: bool, opts: FinetuneOptions) -> str:
    """The model line: where it runs, how, and how many rows a micro-step and an update take."""
    attention = getattr(config, "_attn_implementation", None) or "default"
    attention = (_("variable-length FlashAttention") if attention == packed_attention.NAME else
                 _("{name} attention").format(name=attention))
    rows, steps = opts.per_device_train_batch_size, opts.gradient_accumulation_steps
    return _("model {model} on {device}, {quantized}, {attention}{kernels}; {rows} {rows_noun} per micro-step, "
             "{steps} {steps_noun} per update").format(
        model=model_dir, device=device_kind(), quantized=quantized or _("not quantized"), attention=attention,
        kernels=_(", Liger kernels") if fused else "", rows=rows, rows_noun=_("rows") if rows > 1 else _("row"),
        steps=steps, steps_noun=_("micro-steps") if steps > 1 else _("micro-step"))


def _data_info(data: Encoded, eval_data: Encoded | None) -> dict:
    info = {"train_samples": data.samples, "train_rows": len(data.rows), "train_tokens": data.tokens,
            "trained_tokens": data.trained_tokens, "too_long": data.too_long,
            "padding_share": round(data.padding_share, 4), "row_fill": round(data.fill, 4)}
    if eval_data:
        info.update(eval_samples=eval_data.samples, eval_tokens=eval_data.tokens)
    return info


def _with_lora(model, opts: FinetuneOptions, note: Callable[[str], None] = log.info):
    """MODEL frozen, with LoRA adapters on the targets, ready to train.

    Unlike peft's prepare_model_for_kbit_training, the frozen weights that are not quantized (embeddings, output
    layer, norms: 1.2B parameters in Qwen3-8B) stay in the compute dtype instead of fp32: fp32 copies would make
    the whole residual stream fp32 and cast it at every layer. The adapters are fp32 (peft's default), as the
    optimizer's master weights; autocast runs their matmuls in bf16.
    """
    from peft import LoraConfig, get_peft_model

    for param in model.parameters():
        param.requires_grad_(False)
    if opts.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    modules, parameters = lora_targets(model, opts)
    dropout = opts.lora_dropout
    if parameters and dropout:
        note(_("LoRA on fused expert weights cannot use dropout (peft): lora_dropout is 0 for this run."))
        dropout = 0.0
    config = LoraConfig(r=opts.lora_r, lora_alpha=opts.lora_alpha, lora_dropout=dropout, bias="none",
                        task_type="CAUSAL_LM", target_modules=modules or None, target_parameters=parameters or None)
    return get_peft_model(model, config)  # autocast_adapter_dtype: adapters in fp32


def fused_kernels(model, opts: FinetuneOptions) -> bool:
    """Apply Liger Kernel to MODEL (before LoRA) where it can run: CUDA, installed, this architecture supported.

    Liger patches the model's classes in this process (RMSNorm, SwiGLU MLP, RoPE) and the instance's forward
    (the output layer fused with the loss: logits are made chunk by chunk and never held whole).
    """
    if not opts.liger or device_kind() != "cuda":
        return False
    try:
        from liger_kernel.transformers import _apply_liger_kernel_to_instance
        from liger_kernel.transformers.monkey_patch import MODEL_TYPE_TO_APPLY_LIGER_FN
    except ImportError:
        return False
    if getattr(model.config, "model_type", None) not in MODEL_TYPE_TO_APPLY_LIGER_FN:
        return False
    _apply_liger_kernel_to_instance(model=model)
    return True


def micro_batching(opts: FinetuneOptions, model, fused_loss: bool) -> tuple[int, int]:
    """(rows per micro-step, micro-steps per optimizer step): what the options say, or chosen here.

    More rows per micro-step amortize the launches of a step; they are worth it only with the fused loss, since
    plain logits (rows x max_length x vocabulary, in fp32, and again for their gradient) grow with them.
    """
    rows = opts.per_device_train_batch_size
    if rows is None:
        rows = _rows_that_fit(model, opts) if fused_loss and opts.packing and device_kind() == "cuda" else 1
    accumulation = opts.gradient_accumulation_steps or max(1, ROWS_PER_UPDATE // rows)
    return rows, accumulation


def _rows_that_fit(model, opts: FinetuneOptions) -> int:
    """The most rows (a power of two, up to TOKENS_PER_MICRO_STEP tokens) whose activations fit the free memory."""
    import torch

    config = model.config
    hidden, layers = config.hidden_size, config.num_hidden_layers
    intermediate = getattr(config, "intermediate_size", None) or 4 * hidden
    # bf16 bytes per token: one layer's activations while it is recomputed and back-propagated, plus (with
    # gradient checkpointing) every layer's input, else every layer's activations
    one_layer = 2 * (16 * hidden + 6 * intermediate)
    per_token = one_layer + 2 * hidden * layers if opts.gradient_checkpointing else one_layer * layers
    device = torch.cuda.current_device()
    free, total = torch.cuda.mem_get_info(device)
    limit = total * getattr(torch.cuda, "get_per_process_memory_fraction", lambda _device: 1.0)(device)
    free = min(free, limit - torch.cuda.memory_reserved(device))
    budget = free - 2 * 2**30 - 0.05 * limit  # adapters, their gradients and optimizer state; fragmentation
    rows = 1
    while (2 * rows * opts.max_length <= TOKENS_PER_MICRO_STEP
           and 2 * rows * opts.max_length * per_token <= budget):
        rows *= 2
    return rows


def _dry_run(model_dir: Path, opts: FinetuneOptions, out: Path, started: float) -> RunResult:
    """List the modules the MoE options match, on an empty (meta) copy of the model: nothing is trained."""
    from accelerate import init_empty_weights
    from transformers import AutoConfig, AutoModelForCausalLM

    with init_empty_weights():
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(model_dir))
    modules, parameters = lora_targets(model, opts)
    empty = Encoded([], 0, 0, 0, 0, 0.0, 0.0)
    return RunResult(out, 0, None, None, None, time.perf_counter() - started, 0.0, empty, None,
                     dry_run_modules=modules + parameters)


def _last_checkpoint(run: Run) -> str:
    checkpoints = run.checkpoints()
    if not checkpoints:
        raise QingError(_("{folder} has no complete checkpoint to resume from yet (one is saved every "
                          "--save-steps).").format(folder=run.folder))
    return str(checkpoints[-1])


def _trainer(model, tokenizer, data: Encoded, eval_data: Encoded | None, out: Path, opts: FinetuneOptions,
             progress):
    import torch
    from transformers import Trainer, TrainingArguments
    from transformers.trainer_callback import PrinterCallback

    cuda = torch.cuda.is_available()
    dtype = base_model.compute_dtype()
    args = TrainingArguments(
        output_dir=str(out), seed=opts.seed, data_seed=opts.seed,
        per_device_train_batch_size=opts.per_device_train_batch_size,
        per_device_eval_batch_size=opts.per_device_eval_batch_size,
        gradient_accumulation_steps=opts.gradient_accumulation_steps, learning_rate=opts.learning_rate,
        weight_decay=opts.weight_decay, num_train_epochs=opts.num_train_epochs, max_steps=opts.max_steps,
        warmup_steps=opts.warmup_ratio, lr_scheduler_type=opts.lr_scheduler_type,
        optim=opts.optim if cuda or "fused" not in opts.optim else "adamw_torch",
        logging_steps=opts.logging_steps, save_strategy="steps", save_steps=opts.save_steps,
        save_total_limit=opts.save_total_limit, eval_strategy="steps" if eval_data else "no",
        eval_steps=opts.eval_steps, bf16=cuda and dtype == torch.bfloat16, fp16=cuda and dtype == torch.float16,
        remove_unused_columns=False, report_to="none", disable_tqdm=True,
        ddp_backend="gloo" if not cuda and int(os.environ.get("WORLD_SIZE", "1")) > 1 else None,
        ddp_find_unused_parameters=False,
        include_num_input_tokens_seen=True if opts.packing else "non_padding",  # packed rows hold no padding
        dataloader_num_workers=0, use_cpu=not cuda,
    )
    recorder = make_recorder()(out / "metrics.jsonl", progress)
    trainer = Trainer(model=model, args=args, train_dataset=data.rows,
                      eval_dataset=eval_data.rows if eval_data else None,
                      data_collator=Collator(tokenizer.pad_token_id, opts.packing), callbacks=[recorder])
    trainer.remove_callback(PrinterCallback)  # the Recorder reports progress; raw log dicts stay off the screen
    return trainer, recorder


def _save_adapter(model, tokenizer, out: Path) -> None:
    """OUT/adapter: the LoRA weights and the tokenizer, written whole or not at all."""
    final, tmp = out / "adapter", out / ".adapter.part"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
