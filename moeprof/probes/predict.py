"""Per-row predictions for `moeprof validate`: a small roofline over the GPU's ceilings x the
efficiency curves of a profile. No torch here.

This stands in for the performance model's per-op costs (moeprof.perf) with the same
signature, `predict_row(row, gpu, profile) -> ms | None`; validate prefers
moeprof.perf.ops.predict_row when it exists and falls back to this one per row.

    GEMM [M,K]x[K,N]   max(2MKN / gemm_<dtype>(M), bytes / memory_copy(bytes))
    copy               bytes / memory_copy(bytes)
    attention decode   kv_bytes / attention_decode(kv_bytes)   (else / memory_copy)
    attention prefill  FLOP / attention_prefill(L)
    MoE layer          router GEMM + touched experts x (gate_up + down GEMMs at the mean tokens
                       per touched expert, uniform routing) + shared expert GEMMs
                       + permute / SwiGLU bytes / memory_copy + kernels x kernel_overhead_s
    all-reduce / a2a   message x busfactor / allreduce|alltoall(message)
Without a curve the ceiling is the datasheet value x a published efficiency (below)."""

from __future__ import annotations

import math

from ..catalog.hardware import GpuSpec
from ..profile import Profile

# H100 SXM: PyTorch bf16 GEMM 8192^3 ~= 798 TFLOP/s of 989.4 datasheet; device copy 2.90 TB/s
# (Azure ND H100 v5 benchmark) of 3.35 TB/s; FlashAttention-2 forward 327.9 TFLOP/s.
FALLBACK_COMPUTE_EFFICIENCY = 798.0 / 989.4
FALLBACK_MEMORY_EFFICIENCY = 2.90 / 3.35
FALLBACK_PREFILL_EFFICIENCY = 327.9 / 989.4
MOE_KERNELS_GROUPED = 16  # router, topk, sigmoid, sort, gather, scale, count, cumsum, 2 grouped GEMMs, SwiGLU, shared (3), scatter-add
MOE_KERNELS_PER_EXPERT_LOOP = 4


class Roofline:
    def __init__(self, gpu: GpuSpec, profile: Profile | None):
        self.gpu, self.profile = gpu, profile

    def _curve(self, name):
        return self.profile.curve(name) if self.profile is not None else None

    def mem_bw(self, nbytes: float) -> float:
        c = self._curve("memory_copy")
        return c(nbytes) if c else self.gpu.hbm_bytes_per_s * FALLBACK_MEMORY_EFFICIENCY

    def gemm_rate(self, dtype: str, m: float) -> float:
        c = self._curve(f"gemm_{dtype}")
        return c(m) if c else self.gpu.flop_per_s(dtype) * FALLBACK_COMPUTE_EFFICIENCY

    def gemm_s(self, m: float, k: float, n: float, dtype: str = "bf16") -> float:
        b = 1 if dtype == "fp8" else 2
        nbytes = (m * k + k * n) * b + m * n * 2
        return max(2.0 * m * k * n / self.gemm_rate(dtype, m), nbytes / self.mem_bw(nbytes))

    @property
    def kernel_overhead_s(self) -> float:
        if self.profile is not None:
            return self.profile.scalars.get("kernel_overhead_s", 0.0)
        return 0.0

    def moe_s(self, row: dict) -> float:
        T, H, E, k = row["t_tokens"], row["hidden"], row["num_experts"], row["top_k"]
        inter, shared = row["expert_intermediate"], row.get("shared_intermediate", 0)
        touched = E * (1 - (1 - k / E) ** T)
        m_e = T * k / touched
        t = self.gemm_s(T, H, E)
        t += touched * (self.gemm_s(m_e, H, 2 * inter) + self.gemm_s(m_e, inter, H))
        if shared:
            t += self.gemm_s(T, H, 2 * shared) + self.gemm_s(T, shared, H)
        moved = (4 * T * k * H + 3 * T * k * inter + (3 * T * shared if shared else 0)) * 2
        t += moved / self.mem_bw(moved)
        kernels = MOE_KERNELS_GROUPED if row.get("impl") == "grouped" else 8 + MOE_KERNELS_PER_EXPERT_LOOP * math.ceil(touched)
        return t + kernels * self.kernel_overhead_s


def predict_row(row: dict, gpu: GpuSpec, profile: Profile | None) -> float | None:
    """Predicted time of one probe row in ms, or None when this model does not cover it."""
    if "error" in row:
        return None
    r = Roofline(gpu, profile)
    p = row.get("probe")
    try:
        if p in ("gemm", "gemm_peak"):
            s = r.gemm_s(row["m_tokens"], row["k"], row["n"], row.get("dtype", "bf16"))
        elif p == "copy":
            s = row["bytes"] / r.mem_bw(row["bytes"])
        elif p == "attention_decode":
            c = r._curve("attention_decode")
            s = row["kv_bytes"] / (c(row["kv_bytes"]) if c else r.mem_bw(row["kv_bytes"]))
        elif p == "attention_prefill":
            c = r._curve("attention_prefill")
            rate = c(row["seq_tokens"]) if c else gpu.bf16_flop_per_s * FALLBACK_PREFILL_EFFICIENCY
            s = row["flop"] / rate
        elif p == "moe_layer":
            s = r.moe_s(row)
        elif p in ("allreduce", "alltoall"):
            c = r._curve(p)
            if not c:
                return None
            n = row["world_size"]
            factor = 2 * (n - 1) / n if p == "allreduce" else (n - 1) / n
            s = row["message_bytes"] * factor / c(row["message_bytes"])
        else:
            return None
    except (KeyError, TypeError, ZeroDivisionError):
        return None
    return s * 1e3


def predict_memory_row(row: dict) -> float | None:
    """Predicted bytes for a KV-cache row: the memory model's figure recorded with the row."""
    if row.get("probe") != "kv_cache" or "error" in row:
        return None
    return row.get("expected_bytes")
