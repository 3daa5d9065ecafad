"""Attention over packed rows on CUDA without a dense mask: PyTorch's variable-length FlashAttention.

A packed row holds several samples whose position ids restart at 0. Through SDPA that needs a dense
block-diagonal mask, and the kernel computes the whole square of the row, nearly all of it masked: with
rows of 8,192 tokens of samples of a few hundred, attention took 42% of the GPU time of a Qwen3-8B step
(3% with this module).
`torch.nn.attention.varlen` runs FlashAttention over each sample alone, from the samples' start offsets.
It is registered with transformers' AttentionInterface as NAME, and finetune uses it for packed rows on
CUDA where flash-attn (which transformers drives natively) is not installed.
"""

from __future__ import annotations

import inspect
import threading

NAME = "qing_varlen"
_bounds = threading.local()  # the last row's sample offsets: every layer of one forward asks for the same row


def available() -> bool:
    """Whether this torch has variable-length FlashAttention (torch 2.10 or newer) and a GPU it runs on (Ampere or
    newer: an RTX 30xx, 40xx, A100, H100; not a T4 or V100). Without it, packed rows go through SDPA with a mask."""
    import torch

    try:
        from torch.nn.attention.varlen import varlen_attn  # noqa: F401
    except ImportError:
        return False
    return torch.cuda.is_available() and torch.cuda.get_device_capability()[0] >= 8


def register() -> str:
    """Make NAME a transformers attention implementation (no mask is built for it); returns NAME."""
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, flash_attention_mask

    AttentionInterface.register(NAME, packed_attention)
    ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, flash_attention_mask)
    return NAME


def sample_offsets(position_ids):
    """(cumulative sample offsets as int32, longest sample) of a row whose positions restart at each sample."""
    import torch

    if getattr(_bounds, "position_ids", None) is position_ids:
        return _bounds.offsets
    flat = position_ids.reshape(-1)
    starts = torch.nonzero(flat == 0).flatten()
    if starts.numel() == 0 or int(starts[0]) != 0:
        starts = torch.cat([starts.new_zeros(1), starts])
    offsets = torch.cat([starts, starts.new_tensor([flat.numel()])]).to(torch.int32)
    result = offsets, int((offsets[1:] - offsets[:-1]).max())
    _bounds.position_ids, _bounds.offsets = position_ids, result
    return result


def packed_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, position_ids=None,
                     **kwargs):
    """transformers' attention signature: QUERY/KEY/VALUE (1, heads, tokens, dim) -> ((1, tokens, heads, dim), None).

    Only for packed rows (finetune never pads them); a call without position ids goes to SDPA as one sequence.
    """
    if attention_mask is not None or query.shape[0] != 1 or dropout:
        raise RuntimeError(f"{NAME} attention takes one packed row without padding or dropout")
    if position_ids is None:
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward(module, query, key, value, None, scaling=scaling, **kwargs)
    import torch

    offsets, longest = sample_offsets(position_ids)
    # FlashAttention takes 16-bit inputs only; fp32 ones (fp32 norm weights) run in bf16, as autocast runs SDPA
    dtype = query.dtype if query.dtype in (torch.float16, torch.bfloat16) else torch.bfloat16
    q, k, v = (x[0].transpose(0, 1).to(dtype).contiguous() for x in (query, key, value))  # (tokens, heads, dim)
    # varlen_attn's arguments grew after torch 2.10 (scale: 2.11; window_size for is_causal: 2.11; enable_gqa: 2.12)
    extra = {"window_size": (-1, 0)} if _accepts("window_size") else {"is_causal": True}
    if scaling is not None:
        if _accepts("scale"):
            extra["scale"] = scaling
        elif abs(scaling * q.shape[-1] ** 0.5 - 1) > 1e-6:  # 2.10 scales by 1/sqrt(head dim): the rest goes in q
            q = q * (scaling * q.shape[-1] ** 0.5)
    if k.shape[1] != q.shape[1]:  # grouped-query attention
        if _accepts("enable_gqa"):
            extra["enable_gqa"] = True
        else:
            k, v = (x.repeat_interleave(q.shape[1] // k.shape[1], dim=1) for x in (k, v))
    out = _varlen()(q, k, v, offsets, offsets, longest, longest, **extra)
    return out.unsqueeze(0).to(query.dtype), None


def _varlen():
    from torch.nn.attention.varlen import varlen_attn

    return varlen_attn


def _accepts(name: str) -> bool:
    return name in inspect.signature(_varlen()).parameters
