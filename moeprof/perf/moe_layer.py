"""One MoE layer's cost on the busiest expert-parallel rank: router, shared expert and routed
experts (perf.ops), the routed experts timed from a profile's measured fused-MoE table where it
has one for their weight format, shape and layout (moe_table_dtype), else from the roofline, with
their compute capped at the measured rate of a kernel the run selected (perf.moe_kernels: vLLM's
Marlin MoE for MXFP4 experts)."""

from __future__ import annotations

import numpy as np

from . import ops as O
from .context import PerfContext
from .moe import busiest_rank_load, total_touched
from .moe_kernels import mxfp4_kernel_rate


def weights(ctx: PerfContext, component: str) -> tuple[float, str]:
    """(bytes per parameter, GEMM dtype) of a model component under the context's recipe."""
    return ctx.quant.weight_bytes_per_param[component], ctx.quant.gemm_dtype[component]


def blocked(ctx: PerfContext, component: str) -> bool:
    """Whether the component's fp8 GEMMs scale per weight block (perf.blockscale)."""
    return component in ctx.quant.block_scaled


def moe_table_dtype(ctx, wbpp: float, dtype: str) -> str | None:
    """The kernel-table dtype of the routed experts' fused MoE kernel: the GEMM dtype they run in
    (bf16, per-tensor fp8), fp8_block for fp8 with one scale per weight block, mxfp4 for MXFP4
    weights run against bf16 activations (gpt-oss on GPUs without FP4 units); None for another
    weight-only format (no measured table)."""
    run = ctx.rates.gemm_dtype(dtype)
    if wbpp < O.DTYPE_BYTES[run]:  # the mxfp4 tables time the engine's default kernel, not Marlin
        return "mxfp4" if ctx.quant.format == "mxfp4" and run == "bf16" and not ctx.mxfp4_moe_kernel else None
    if run == "fp8" and blocked(ctx, "routed_experts"):
        return "fp8_block"
    return run


def moe_op(ctx, T, tp, ep, dp) -> tuple[O.OpCost, dict]:
    """Router + shared expert + routed experts on the busiest EP rank. Llama 4 scales the
    expert's input by the router score: an elementwise product fused into the expert kernels,
    not costed separately."""
    m, r = ctx.model, ctx.rates
    H, E, k = m.hidden_size, m.num_experts, m.top_k
    wr, dr = weights(ctx, "router")
    router = O.gemm(r, T, H, E, wr, dr) + O.elementwise(r, T * E * 4.0 * 2)  # logits fp32, top-k
    router.scaled_group(tp)
    if m.shared_intermediate_size:
        ws, ds = weights(ctx, "shared_expert")
        shared = O.swiglu_mlp(r, T, H, m.shared_intermediate_size / tp, ws, ds, blocked(ctx, "shared_expert")).scaled_group(tp)
    else:
        shared = O.OpCost(np.zeros_like(T))
    q = ctx.expert_inclusion
    experts_per_rank = np.ceil(E / ep)
    T_all = T * dp  # every data-parallel group's tokens meet in the MoE layer
    touched, pairs = busiest_rank_load(q, T_all, experts_per_rank)
    shards = np.maximum(tp / ep, 1.0)
    we, de = weights(ctx, "routed_experts")
    kernel = mxfp4_kernel_rate(ctx.mxfp4_moe_kernel, ctx.gpu.key) if ctx.quant.format == "mxfp4" else None
    routed = O.routed_experts(r, touched, pairs, H, m.expert_intermediate_size, we, de, shards, blocked(ctx, "routed_experts"),
                              kernel_rate=kernel.rate if kernel is not None else None)
    if ctx.routing_skew == 0:  # the MoE tables are measured under balanced routing
        dt = moe_table_dtype(ctx, we, de)
        ms = r.table_ms("moe", {"tokens": T, "moe_tp": shards, "moe_ep": ep}, dtype=dt, hidden=H,
                        inter=m.expert_intermediate_size, experts=E, topk=k) if dt else None
        if ms is not None:
            routed.busy_s, routed.kernels = ms * 1e-3, 0.0
    # Group totals: every token-expert pair once, every touched expert's weights once.
    W = m.expert_intermediate_size
    routed.flops_group = 2.0 * T * k * 3.0 * H * W
    routed.weight_bytes_group = total_touched(q, T_all) * 3.0 * H * W * we / dp  # this group's share
    routed.act_bytes_group = T * k * (2 * H * shards + 6 * W) * O.ACT_BYTES
    ovh = r.kernel_overhead_s
    detail = {
        "router_s": router.time_s(ovh),
        "shared_expert_s": shared.time_s(ovh),
        "routed_experts_s": routed.time_s(ovh),
        "experts_touched": touched,
        "tokens_per_expert": pairs / np.maximum(touched, 1e-12),
    }
    return router + shared + routed, detail
