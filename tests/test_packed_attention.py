"""qing.model.packed_attention with each signature torch's varlen_attn has had (2.10, 2.11, 2.12+), on the CPU: the
CUDA-only kernel is replaced by SDPA run on each sample alone."""

import pytest

torch = pytest.importorskip("torch")


def _by_sample(q, k, v, cu, causal, scale):
    if k.shape[1] != q.shape[1]:
        k, v = (x.repeat_interleave(q.shape[1] // k.shape[1], dim=1) for x in (k, v))
    return torch.cat([torch.nn.functional.scaled_dot_product_attention(
        *(x[a:b].transpose(0, 1) for x in (q, k, v)), is_causal=causal, scale=scale).transpose(0, 1)
        for a, b in zip(cu[:-1].tolist(), cu[1:].tolist())])


def varlen_2_10(query, key, value, cu_seq_q, cu_seq_k, max_q, max_k, is_causal=False, return_aux=None):
    assert key.shape[1] == query.shape[1], "2.10 has no enable_gqa: the caller repeats the kv heads"
    return _by_sample(query, key, value, cu_seq_q, is_causal, None)


def varlen_2_11(query, key, value, cu_seq_q, cu_seq_k, max_q, max_k, *, return_aux=None, scale=None,
                window_size=(-1, -1)):
    assert key.shape[1] == query.shape[1]
    return _by_sample(query, key, value, cu_seq_q, tuple(window_size) == (-1, 0), scale)


def varlen_2_12(query, key, value, cu_seq_q, cu_seq_k, max_q, max_k, *, return_aux=None, scale=None,
                window_size=(-1, -1), enable_gqa=False):
    assert enable_gqa or key.shape[1] == query.shape[1]
    return _by_sample(query, key, value, cu_seq_q, tuple(window_size) == (-1, 0), scale)


@pytest.mark.parametrize("scaling", [16 ** -0.5, 0.1])  # the usual 1/sqrt(head dim), and another
def test_every_varlen_signature_gives_the_same_attention(monkeypatch, scaling):
    from qing.model import packed_attention

    generator = torch.Generator().manual_seed(0)
    tokens, heads, kv_heads, dim = 23, 4, 2, 16
    query = torch.randn(1, heads, tokens, dim, generator=generator, dtype=torch.bfloat16)
    key, value = (torch.randn(1, kv_heads, tokens, dim, generator=generator, dtype=torch.bfloat16) for _ in "kv")
    position_ids = torch.tensor([list(range(9)) + list(range(4)) + list(range(10))])
    cu = torch.tensor([0, 9, 13, 23])
    expected = _by_sample(*(x[0].transpose(0, 1).float() for x in (query, key, value)), cu, True, scaling)
    for varlen in (varlen_2_10, varlen_2_11, varlen_2_12):
        monkeypatch.setattr(packed_attention, "_varlen", lambda: varlen)
        out, _ = packed_attention.packed_attention(None, query, key, value, None, scaling=scaling,
                                                   position_ids=position_ids)
        assert out.shape == (1, tokens, heads, dim) and out.dtype == torch.bfloat16
        torch.testing.assert_close(out[0].float(), expected, atol=3e-2, rtol=3e-2, msg=varlen.__name__)
