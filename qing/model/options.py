"""The options of the model steps (finetune, infer, eval, serve, gguf) and their closed sets of values.

Light to import on purpose: the CLI reads these to build its options, and `qing --help` must start fast;
the modules doing the work import them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from qing.options import setting

DEFAULT_MODEL = "Qwen/Qwen3-8B-Base"
SOURCES = ("modelscope", "hf")
QUANTS = ("4bit", "8bit", "none")
TEMPLATES = ("auto", "chatml")
MOE_SCOPES = ("expert_only", "router_only", "all")
DEFAULT_TARGETS = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"
DEFAULT_EXPERT_PATTERNS = (r"experts\.ffn\.(gate_proj|up_proj|down_proj),"  # Qwen-MoE, one Linear per expert
                           r"layers\.[0-9]+\.mlp\.experts\.[0-9]+\.(w1|w2|w3),"  # Mixtral
                           r"mlp\.experts\.(gate_up_proj|down_proj)$")  # transformers 5: fused expert weights
DEFAULT_ROUTER_PATTERNS = r"router\.(gate|dense),mlp\.gate\.weight$"
ENGINES = ("auto", "llama.cpp", "vllm", "transformers")
OUTTYPES = ("f16", "bf16", "q8_0", "f32")
GPU_LAYERS_HELP = "GGUF: layers offloaded to the GPU (-1: all), when llama.cpp has GPU support."


@dataclass
class FinetuneOptions:
    """Everything a run is made of: the options of `qing finetune`, saved in the run file so --resume repeats them."""

    model: str = setting(DEFAULT_MODEL, "Base model: a local directory or an id (downloaded once, "
                         "resumable).")
    source: str = setting("modelscope", "Where a model id is fetched from.", env="QING_MODEL_SOURCE",
                          choices=SOURCES)
    models_dir: str = setting("models", "Where downloaded models are kept.")
    quant: str = setting("4bit", "4bit (QLoRA: NF4, double quantization, bf16 compute), 8bit or none; needs CUDA, "
                         "the CPU trains unquantized.", choices=QUANTS)
    template: str = setting("auto", "auto: the model's chat template (ChatML if none); chatml: force ChatML.",
                            choices=TEMPLATES)
    lora_r: int = setting(16, "LoRA rank.", min=1)
    lora_alpha: int = setting(32, "LoRA alpha.", min=1)
    lora_dropout: float = setting(0.05, "LoRA dropout.", min=0.0, max=0.99)
    target_modules: str = setting(DEFAULT_TARGETS, "Comma-separated module names that get a LoRA.")
    learning_rate: float = setting(2e-4, "Peak LR.")
    num_train_epochs: float = setting(3.0, "Epochs.", min=0.01)
    max_steps: int = setting(-1, "Stop after this many optimizer steps (-1: run the epochs).", min=-1)
    warmup_ratio: float = setting(0.05, "Share of steps warming the LR up.", min=0.0, max=1.0)
    lr_scheduler_type: str = setting("cosine", "LR schedule (transformers' names: cosine, linear, constant...).")
    weight_decay: float = setting(0.0, "Weight decay.", min=0.0)
    per_device_train_batch_size: int | None = setting(
        None, "Rows per GPU per micro-step (packed rows are joined into one). Default: 1; on CUDA with Liger Kernel, "
        "as many as free memory allows, up to 8,192 tokens. Saved resolved, so --resume repeats it.", min=1)
    per_device_eval_batch_size: int = setting(1, "Eval rows per GPU.", min=1)
    gradient_accumulation_steps: int | None = setting(
        None, "Micro-steps whose gradients add up before an update. Default: 16 rows per update in all.", min=1)
    max_length: int = setting(2048, "Tokens per row; longer samples are skipped and counted.", min=16)
    max_samples: int | None = setting(None, "Use only the first N training samples.", min=1)
    max_eval_samples: int | None = setting(None, "Use only the first N eval samples.", min=0)
    seed: int = setting(42, "Random seed.")
    logging_steps: int = setting(1, "Log every N steps.", min=1)
    eval_steps: int = setting(50, "Eval loss every N steps.", min=1)
    save_steps: int = setting(200, "Checkpoint every N steps.", min=1)
    save_total_limit: int = setting(2, "Checkpoints kept.", min=1)
    gradient_checkpointing: bool = setting(True, "Recompute activations: much less memory, ~30% slower.")
    optim: str = setting("adamw_torch_fused", "Optimizer (transformers' names; fused AdamW falls back to plain on "
                         "CPU).")
    packing: bool = setting(True, "Pack samples into max-length rows (positions restart per sample: no attention "
                            "across samples).")
    liger: bool = setting(True, "On CUDA, Liger Kernel's fused kernels (loss without full logits, RMSNorm, SwiGLU, "
                          "RoPE) when installed and the architecture is supported.")
    merge: bool = setting(False, "Also write OUT/merged: the adapter merged into a 16-bit copy of the base.")
    moe_enable: bool = setting(False, "MoE models: put LoRA on experts / routers by the patterns below.",
                               flag="--moe-enable")
    moe_lora_scope: str = setting("expert_only", "Which MoE layers get a LoRA.", choices=MOE_SCOPES)
    moe_expert_patterns: str = setting(DEFAULT_EXPERT_PATTERNS, "Comma-separated regexes of expert linear layers.")
    moe_router_patterns: str = setting(DEFAULT_ROUTER_PATTERNS, "Comma-separated regexes of router / gate layers.")
    moe_max_experts_lora: int = setting(-1, "At most this many experts per layer get a LoRA (-1: all).", min=-1)
    moe_dry_run: bool = setting(False, "Only list the modules that would get a LoRA.", flag="--moe-dry-run")
    system_prompt: str | None = None
    """Filled from the dataset: the system turn of its samples, for infer and the Modelfile."""


@dataclass
class InferOptions:
    """How replies are sampled; `qing infer`, `serve` and `eval` share these options."""

    temperature: float = setting(0.7, "Sampling temperature; 0 = greedy (serve: for requests that set none).",
                                 min=0.0, max=2.0)
    top_p: float = setting(0.9, "Nucleus sampling (top_p).", min=0.0, max=1.0)
    max_new_tokens: int = setting(512, "Longest reply, in tokens.", min=1)
    quant: str = setting("none", "transformers: 4bit / 8bit to fit small cards (CUDA), or none.",
                         env="QING_INFER_QUANT", choices=QUANTS)
    template: str = setting("auto", "auto (the run's) or chatml.", env=None, choices=TEMPLATES)
    system_prompt: str | None = setting(None, "System prompt (default: the run's).", env=None)
    seed: int | None = setting(None, "Seed for reproducible sampling.", env=None)


@dataclass
class EvalOptions:
    """How `qing eval` samples the replies it scores: the same for every model compared."""

    temperature: float = setting(0.7, "Sampling temperature; 0 = greedy.", min=0.0, max=2.0)
    top_p: float = setting(0.9, "Nucleus sampling (top_p).", min=0.0, max=1.0)
    max_new_tokens: int = setting(128, "Longest generated reply, in tokens (a base model that never ends its "
                                  "turn is cut here).", env="QING_EVAL_MAX_NEW_TOKENS", min=1)
    seed: int = setting(42, "Seed: context i is sampled with seed + i, the same for every model.")
    limit: int = setting(200, "Evaluate the first N eval samples (0: all).", env="QING_EVAL_LIMIT", min=0)
    quant: str = setting("none", "transformers: 4bit / 8bit to fit small cards (CUDA), or none.",
                         env="QING_INFER_QUANT", choices=QUANTS)
    gpu_layers: int = setting(0, GPU_LAYERS_HELP,
                              min=-1)
    side_by_side: int = 10


@dataclass
class ServeOptions:
    """How `qing serve` listens and whom it lets in."""

    host: str = setting("127.0.0.1", "Address to listen on; 0.0.0.0 lets other machines in (set an API key then).")
    port: int = setting(8000, "Port (0: any free one, printed at start).", min=0, max=65535)
    api_key: str | None = setting(None, "Require 'Authorization: Bearer KEY'. Safer from QING_SERVE_API_KEY or .env: "
                                  "not in shell history or ps.", secret=True)
    max_concurrency: int = setting(8, "Requests in flight + waiting; more get 429 at once (vLLM: batch size).", min=1)
    max_connections: int = setting(64, "Open connections, idle keep-alive ones included; more get 503 and are closed "
                                   "at once (not vLLM).", min=1)
    request_timeout: float = setting(15.0, "Seconds a client has to send a whole request (headers and body); idle "
                                     "keep-alive connections close after it too (not vLLM).", min=0.1)
    model_name: str | None = setting(None, "Model id clients see in /v1/models (default: the run's name).")
    gpu_layers: int = setting(0, GPU_LAYERS_HELP,
                              env="QING_GPU_LAYERS", min=-1)
    tensor_parallel_size: int = setting(1, "vLLM: GPUs to split the model over.", env="QING_TENSOR_PARALLEL_SIZE",
                                        min=1)
