"""Predictions of probe rows (`moeprof validate`): the performance model's own op costs at the
probe's shapes, so a measured profile tests the same formulas the planner uses.

    predict_row(row, gpu, profile) -> ms | None      timed rows (GEMM, copy, attention, MoE, collectives)
    predict_memory_row(row) -> bytes | None          KV-cache rows (the memory model's figure)
"""

from __future__ import annotations

import numpy as np

from .collectives import Interconnect
from .efficiency import load_efficiencies
from .ops import DTYPE_BYTES, attention_decode, attention_prefill, elementwise, gemm, routed_experts, swiglu_mlp
from .rates import Rates


def _f(row, key):
    v = row.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v <= 0:
        raise KeyError(key)
    return float(v)


# Kernel launches of the probe's own MoE layer (moeprof/probes/moe.py: PyTorch ops, not a fused
# engine kernel): grouped = router, top-k, sigmoid, sort, gather, scale, count, cumsum, two
# grouped GEMMs, SwiGLU, the shared expert (3), scatter-add; loop = 8 + 4 per touched expert.
MOE_KERNELS_GROUPED = 16
MOE_KERNELS_PER_EXPERT_LOOP = 4


def _probe_moe_kernels(impl: str, touched: float) -> float:
    if impl == "loop":
        return 8.0 + MOE_KERNELS_PER_EXPERT_LOOP * float(np.ceil(touched))
    return float(MOE_KERNELS_GROUPED)


def predict_row(row: dict, gpu, profile) -> float | None:
    """Predicted milliseconds of one probe row, or None when the row is not one this model
    predicts (unknown probe, an error row, missing or non-positive fields).

    Rows (moeprof/probes): gemm / gemm_peak {m_tokens, k, n, dtype}; copy {bytes} (bytes moved =
    read + write); attention_decode {batch, kv_len, num_heads, num_kv_heads, head_dim[, kv_dtype]};
    attention_prefill {seq_tokens, num_heads, head_dim[, num_kv_heads, batch, causal]};
    moe_layer {t_tokens, hidden, num_experts, top_k, expert_intermediate[, shared_intermediate,
    experts_touched, dtype, impl]} (router + shared expert + routed experts; the measured
    experts_touched when present, else the uniform expectation); allreduce / alltoall
    {message_bytes, world_size[, nodes]}."""
    if "error" in row:
        return None
    eff = load_efficiencies(gpu.key)
    rates = Rates(gpu, profile, eff)
    ovh = rates.kernel_overhead_s
    probe = row.get("probe")
    try:
        if probe in ("gemm", "gemm_peak"):
            dtype = str(row.get("dtype", "bf16"))
            if dtype not in DTYPE_BYTES:
                return None
            c = gemm(rates, _f(row, "m_tokens"), _f(row, "k"), _f(row, "n"), DTYPE_BYTES[dtype], dtype)
        elif probe == "copy":
            c = elementwise(rates, _f(row, "bytes"))
        elif probe == "attention_decode":
            heads, kvh, hd = _f(row, "num_heads"), _f(row, "num_kv_heads"), _f(row, "head_dim")
            kvb = DTYPE_BYTES.get(str(row.get("kv_dtype", "bf16")), 2.0)
            c = attention_decode(rates, _f(row, "batch"), _f(row, "kv_len"), heads, 2 * kvh * hd, kvb, hd, hd, heads / kvh)
            c.kernels = 1.0  # the probe times the attention kernel alone
        elif probe == "attention_prefill":
            heads, hd, s = _f(row, "num_heads"), _f(row, "head_dim"), _f(row, "seq_tokens")
            kvh = float(row.get("num_kv_heads") or heads)
            batch = float(row.get("batch") or 1)
            causal = bool(row.get("causal", True))
            c = attention_prefill(rates, s, s, batch, heads, 2 * kvh * hd, 2.0, hd, hd, None, causal=causal)
            c.kernels = 1.0
        elif probe in ("moe_layer", "moe"):
            T, H = _f(row, "t_tokens"), _f(row, "hidden")
            W = float(row.get("expert_intermediate") or _f(row, "intermediate"))
            E, k = _f(row, "num_experts"), _f(row, "top_k")
            Ws = float(row.get("shared_intermediate") or 0)
            D = row.get("experts_touched")
            if not isinstance(D, (int, float)) or isinstance(D, bool) or D <= 0:
                D = E * (1 - (1 - k / E) ** T)
            dtype = str(row.get("dtype", "bf16"))
            if dtype not in DTYPE_BYTES:
                return None
            wb = DTYPE_BYTES[dtype]
            c = gemm(rates, T, H, E, 2.0, "bf16") + routed_experts(rates, D, T * k, H, W, wb, dtype, 1.0)
            if Ws:
                c = c + swiglu_mlp(rates, T, H, Ws, wb, dtype)
            c.kernels = _probe_moe_kernels(str(row.get("impl", "grouped")), D)
        elif probe in ("allreduce", "alltoall"):
            m, n = _f(row, "message_bytes"), _f(row, "world_size")
            nodes = float(row.get("nodes") or 1)
            ic = Interconnect(gpu, None, profile, eff, rates.collective_latency_s)
            f = ic.allreduce_s if probe == "allreduce" else ic.alltoall_s
            return float(f(m, n, nodes > 1, n / nodes)) * 1e3
        else:
            return None
    except KeyError:
        return None
    return float(np.asarray(c.time_s(ovh))) * 1e3


def predict_memory_row(row: dict) -> float | None:
    """Predicted bytes of a KV-cache row: the memory model's figure the probe recorded with it."""
    if row.get("probe") != "kv_cache" or "error" in row:
        return None
    v = row.get("expected_bytes")
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
