"""Attention at the model's heads (GQA), through torch's scaled_dot_product_attention.

Shape legend: B batch, Hq query heads, Hkv KV heads, D head dim, L context / sequence length.
decode : q [B, Hq, 1, D] over a KV cache k, v [B, Hkv, L, D] (bf16); KV bytes read per step
         = 2 B Hkv L D x 2; FLOPs = 4 B Hq L D.
prefill: causal q, k, v over L tokens (B = 1); FLOPs = 2 B Hq L^2 D (the causal half of
         4 B Hq L^2 D, the FlashAttention benchmark convention)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .context import ProbeContext
from .tensors import check_close, generator, rand_nonzero


def sdpa(q, k, v, causal: bool) -> torch.Tensor:
    if q.shape[1] != k.shape[1]:
        try:
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)
        except TypeError:  # torch < 2.5: no enable_gqa; repeat the KV heads
            rep = q.shape[1] // k.shape[1]
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
    return F.scaled_dot_product_attention(q, k, v, is_causal=causal)


def reference_rows(q, k, v, b: int, heads: list[int], rows: list[int], causal: bool) -> torch.Tensor:
    """float64 attention for batch b, the given query heads and query rows: [len(heads), len(rows), D]."""
    hq, hkv = q.shape[1], k.shape[1]
    L, D = k.shape[2], q.shape[3]
    out = []
    for h in heads:
        kv = h // (hq // hkv)
        qq = q[b, h, rows].double()  # [r, D]
        kk, vv = k[b, kv].double(), v[b, kv].double()  # [L, D]
        s = qq @ kk.t() / math.sqrt(D)  # [r, L]
        if causal:
            offset = L - q.shape[2]
            pos = torch.tensor(rows, device=q.device).unsqueeze(1) + offset
            s = s.masked_fill(torch.arange(L, device=q.device).unsqueeze(0) > pos, float("-inf"))
        out.append(torch.softmax(s, dim=-1) @ vv)
    return torch.stack(out)


def decode_cases(ctx: ProbeContext) -> list[tuple[int, int]]:
    if ctx.dev.is_gpu:
        bs, ls = ([1, 16, 64], [1024, 8192, 32768, 131072]) if not ctx.settings.quick else ([1, 32], [2048, 32768])
    else:
        bs, ls = ([1, 8], [256, 2048]) if not ctx.settings.quick else ([1, 4], [128, 1024])
    sh = ctx.shapes
    cap = 0.25 * (ctx.dev.memory_free_bytes() or 2**34)
    return [(b, l) for b in bs for l in ls if 2 * b * sh.num_kv_heads * l * sh.head_dim * 2 <= cap]


def prefill_lengths(ctx: ProbeContext) -> list[int]:
    if ctx.dev.is_gpu:
        return [512, 1024, 2048, 4096, 8192, 16384] if not ctx.settings.quick else [1024, 4096, 16384]
    return [128, 512, 1024] if not ctx.settings.quick else [64, 128, 256]


def decode_case(ctx: ProbeContext, batch: int, kv_len: int) -> dict:
    sh, dev = ctx.shapes, ctx.dev.device
    g = generator(dev, ctx.next_seed())
    q = rand_nonzero((batch, sh.num_heads, 1, sh.head_dim), torch.bfloat16, dev, g)
    k = rand_nonzero((batch, sh.num_kv_heads, kv_len, sh.head_dim), torch.bfloat16, dev, g)
    v = rand_nonzero((batch, sh.num_kv_heads, kv_len, sh.head_dim), torch.bfloat16, dev, g)
    out = sdpa(q, k, v, causal=False)
    heads = [0, sh.num_heads - 1]
    for b in sorted({0, batch - 1}):
        ref = reference_rows(q, k, v, b, heads, [0], causal=False)
        check_close(out[b, heads][:, [0]], ref, ref.abs().max(), rtol=3e-2, what=f"decode attention B={batch} L={kv_len}")
    del out
    t = ctx.time(lambda: sdpa(q, k, v, causal=False))
    kv_bytes = 2 * batch * sh.num_kv_heads * kv_len * sh.head_dim * 2
    flop = 4.0 * batch * sh.num_heads * kv_len * sh.head_dim
    s = t.median_ms / 1e3
    return {**t.to_row(), "kv_bytes": kv_bytes, "bytes_per_s": kv_bytes / s, "flop": flop, "flop_per_s": flop / s}


def prefill_case(ctx: ProbeContext, seq: int) -> dict:
    sh, dev = ctx.shapes, ctx.dev.device
    g = generator(dev, ctx.next_seed())
    q = rand_nonzero((1, sh.num_heads, seq, sh.head_dim), torch.bfloat16, dev, g)
    k = rand_nonzero((1, sh.num_kv_heads, seq, sh.head_dim), torch.bfloat16, dev, g)
    v = rand_nonzero((1, sh.num_kv_heads, seq, sh.head_dim), torch.bfloat16, dev, g)
    out = sdpa(q, k, v, causal=True)
    rows = [0, seq // 2, seq - 1]
    heads = [0, sh.num_heads - 1]
    ref = reference_rows(q, k, v, 0, heads, rows, causal=True)
    check_close(out[0, heads][:, rows], ref, ref.abs().max(), rtol=3e-2, what=f"causal prefill L={seq}")
    del out
    t = ctx.time(lambda: sdpa(q, k, v, causal=True))
    flop = 2.0 * sh.num_heads * seq * seq * sh.head_dim
    s = t.median_ms / 1e3
    return {**t.to_row(), "flop": flop, "flop_per_s": flop / s}


def run(ctx: ProbeContext) -> None:
    sh = ctx.shapes
    heads = {"num_heads": sh.num_heads, "num_kv_heads": sh.num_kv_heads, "head_dim": sh.head_dim}
    for b, l in decode_cases(ctx):
        ctx.case("attention_decode", {**heads, "kv_dtype": "bf16", "batch": b, "kv_len": l}, lambda: decode_case(ctx, b, l), label=f"B={b} L={l}")
    for l in prefill_lengths(ctx):
        ctx.case("attention_prefill", {**heads, "causal": True, "batch": 1, "seq_tokens": l}, lambda: prefill_case(ctx, l), label=f"L={l}")
