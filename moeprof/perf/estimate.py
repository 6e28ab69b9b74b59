"""`moeprof estimate`: one step on one GPU (no parallelism), broken down by layer kind and op."""

from __future__ import annotations

from ..errors import MoeprofError
from .context import PerfContext
from .step import HEAD_KEY, decode_step, prefill_step

PHASES = ("decode", "prefill")


def _ms(x) -> float:
    return float(x) * 1e3


def estimate(ctx: PerfContext, phase: str, batch: int, context: int) -> dict:
    """decode: one iteration of `batch` sequences with `context` tokens of KV each;
    prefill: `batch` prompts of `context` tokens each, prefilled together.
    Returns a JSON-ready dict: per layer kind {attention, ffn, count, ms (one layer),
    total_ms (all layers of the kind), ops {op: ms per layer}}, the output head, step_ms, totals
    with units in their names and the calibration used."""
    if phase not in PHASES:
        raise MoeprofError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
    if phase == "decode":
        res = decode_step(ctx, batch, context)
        tokens = batch
    else:
        tokens = batch * context
        res = prefill_step(ctx, tokens, context, sequences=batch)
    m = ctx.model
    layers = []
    for k in m.layer_kinds():
        ops_ms = {name: _ms(v) for name, v in res.ops[k.key].items()}
        entry = {
            "attention": k.attention,
            "ffn": k.ffn,
            "count": k.count,
            "ms": sum(ops_ms.values()),
            "total_ms": k.count * sum(ops_ms.values()),
            "ops": ops_ms,
        }
        if k.key in res.moe:
            d = res.moe[k.key]
            entry["moe_detail"] = {
                "router_ms": _ms(d["router_s"]),
                "shared_expert_ms": _ms(d["shared_expert_s"]),
                "routed_experts_ms": _ms(d["routed_experts_s"]),
                "experts_touched": float(d["experts_touched"]),
                "tokens_per_expert": float(d["tokens_per_expert"]),
            }
        layers.append(entry)
    head_ops = {name: _ms(v) for name, v in res.ops[HEAD_KEY].items()}
    step_s = float(res.total_s)
    out = {
        "model": m.name,
        "gpu": ctx.gpu.key,
        "quant": ctx.quant.name,
        "kv_dtype": ctx.kv_dtype,
        "phase": phase,
        "batch": batch,
        "context": context,
        "tokens": tokens,
        "routing_skew": ctx.routing_skew,
        "layers": layers,
        "head": {"ms": sum(head_ops.values()), "ops": head_ops},
        "step_ms": step_s * 1e3,
        "tokens_per_s": tokens / step_s,
        "flops": float(res.flops),
        "weight_bytes": float(res.weight_bytes),
        "kv_bytes": float(res.kv_bytes),
        "activation_bytes": float(res.act_bytes),
        "energy_j": float(res.energy_j),
        "joules_per_token": float(res.energy_j) / tokens,
        "energy_model": res.energy_model,
        "calibration": ctx.calibration(),
        # per kernel table used: points looked up and those outside its grid (extrapolated)
        "kernel_tables": {k: dict(v) for k, v in ctx.rates.table_use.items()},
        "assumptions": [
            "decode: production engine (CUDA graphs, fused/grouped MoE kernels); per-kernel fixed cost added per launch",
            "chunked-attention layers read at most attention_chunk_size tokens of KV per sequence (decode: min(context, chunk))",
            f"routing: {'uniform' if ctx.routing_skew == 0 else f'Zipf exponent {ctx.routing_skew:g}'} over {m.num_experts} experts, top-{m.top_k}",
        ],
    }
    return out
