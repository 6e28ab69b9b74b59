"""KV-cache growth: grow a paged KV cache (blocks of 16 tokens, [blocks, 2, 16, Hkv, D] per
layer, bf16, filled with random data so pages are really touched) and read, at each size,
what the torch allocator holds and what the device reports (NVML / amdsmi memory used on a
GPU; this process's resident memory on a CPU), against the memory model's bytes per token.

The expected bytes come from moeprof.memory (KV bytes per token at TP = 1, per layer, x the
probed layers x tokens)."""

from __future__ import annotations

import torch

from ..memory import Parallelism, kv_bytes_per_token_per_gpu
from ..telemetry.host import process_rss_bytes
from .context import ProbeContext

BLOCK_TOKENS = 16


def kv_bytes_per_token_per_layer(ctx: ProbeContext) -> tuple[float, str]:
    spec = ctx.spec
    per_kind = kv_bytes_per_token_per_gpu(spec, Parallelism(tp=1), "bf16")
    return sum(per_kind.values()) / spec.num_layers, "moeprof.memory.kv_bytes_per_token_per_gpu (tp=1, bf16)"


def plan(ctx: ProbeContext) -> tuple[int, list[int]]:
    """(layers, token counts): the largest step stays under ~20% of free device memory."""
    per_tok = ctx.shapes.kv_bytes_per_token_per_layer_bf16
    if ctx.dev.is_gpu:
        layers, tokens = 8, [4096, 16384, 65536, 131072]
    else:
        layers, tokens = 2, ([1024, 4096] if ctx.settings.quick else [1024, 4096, 16384])
    free = ctx.dev.memory_free_bytes() or 2**34
    tokens = [t for t in tokens if t * per_tok * layers <= 0.2 * free] or [BLOCK_TOKENS * 4]
    return layers, tokens


def _device_used(ctx: ProbeContext) -> int | None:
    if ctx.dev.is_gpu:
        return ctx.telemetry.memory_used_bytes(ctx.telemetry_index)
    return process_rss_bytes()


def _allocator(ctx: ProbeContext) -> tuple[int | None, int | None]:
    if ctx.dev.is_gpu:
        return int(torch.cuda.memory_allocated(ctx.dev.device)), int(torch.cuda.memory_reserved(ctx.dev.device))
    return None, None


def run(ctx: ProbeContext) -> None:
    sh, d = ctx.shapes, ctx.dev
    layers, token_steps = plan(ctx)
    per_tok_layer, model_source = kv_bytes_per_token_per_layer(ctx)
    d.sync()
    d.empty_cache()
    alloc0, res0 = _allocator(ctx)
    used0 = _device_used(ctx)
    blocks: list[list[torch.Tensor]] = [[] for _ in range(layers)]
    g = torch.Generator(device=d.device)
    g.manual_seed(ctx.next_seed())
    have_tokens = 0
    try:
        for tokens in token_steps:

            def grow(tokens=tokens):
                nonlocal have_tokens
                new_blocks = -(-(tokens - have_tokens) // BLOCK_TOKENS)
                for layer in range(layers):
                    t = torch.empty(new_blocks, 2, BLOCK_TOKENS, sh.num_kv_heads, sh.head_dim, dtype=torch.bfloat16, device=d.device)
                    t.normal_(generator=g)
                    blocks[layer].append(t)
                have_tokens += new_blocks * BLOCK_TOKENS
                d.sync()
                alloc, res = _allocator(ctx)
                used = _device_used(ctx)
                tensor_bytes = sum(t.numel() * t.element_size() for lb in blocks for t in lb)
                expected = per_tok_layer * layers * have_tokens
                row = {
                    "cached_tokens": have_tokens,
                    "expected_bytes": expected,
                    "tensor_bytes": tensor_bytes,
                    "allocator_bytes": None if alloc is None else alloc - alloc0,
                    "reserved_bytes": None if res is None else res - res0,
                    "device_used_bytes": None if used is None or used0 is None else used - used0,
                    "device_used_source": "telemetry memory_used_bytes" if d.is_gpu else "process resident memory (VmRSS)",
                    "memory_model": model_source,
                }
                measured = row["allocator_bytes"] if row["allocator_bytes"] is not None else tensor_bytes
                row["measured_bytes"] = measured
                row["measured_over_expected"] = measured / expected if expected else None
                return row

            ctx.case(
                "kv_cache",
                {"tokens": tokens, "layers": layers, "block_tokens": BLOCK_TOKENS, "num_kv_heads": sh.num_kv_heads, "head_dim": sh.head_dim},
                grow,
                label=f"{tokens} tokens x {layers} layers",
                summary=lambda r: f"{r['measured_bytes'] / 2**20:.4g} MiB held, model {r['expected_bytes'] / 2**20:.4g} MiB"
                + (f", device +{r['device_used_bytes'] / 2**20:.4g} MiB" if r.get("device_used_bytes") is not None else ""),
            )
    finally:
        blocks.clear()
        d.empty_cache()
