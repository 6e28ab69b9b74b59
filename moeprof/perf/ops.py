"""Per-op cost on one GPU: max(FLOPs / achieved FLOP/s, bytes / achieved bytes/s) + kernels x
fixed per-kernel cost.

Legend: T tokens in the step (decode: the batch), H hidden, K x N a GEMM weight, B batch,
a attended KV tokens per sequence, kvb bytes per KV element. Activations are bf16 (2 bytes).
All functions take numpy arrays (broadcast) and return an OpCost of arrays: quantities are for
ONE GPU (the busiest rank) unless named *_group (summed over the op's tensor-parallel group).

`predict_row` predicts the milliseconds of one probe row, for `moeprof validate`.

Where the profile has a kernel table for an op at its settings (Rates.table_ms), the op's kernel
time is the table's latency at the op's shape instead of the roofline, and that kernel adds no
per-kernel fixed cost: the tables are measured per kernel replayed in a CUDA graph, launch gap
included. FLOPs and bytes are still counted (for energy and the breakdown).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rates import Rates

ACT_BYTES = 2.0  # bf16 activations
DTYPE_BYTES = {"bf16": 2.0, "fp8": 1.0}
KV_DTYPE = {2.0: "bf16", 1.0: "fp8"}  # KV bytes per element -> the kernel tables' KV dtype


@dataclass
class OpCost:
    """One op (possibly several kernels) on one GPU.

    busy_s: sum over its kernels of max(compute_s, memory_s) (roofline time, no fixed costs)
    kernels: number of kernel launches (each adds the per-kernel fixed cost)
    comm_s: collective time (already including its latency)
    flops, weight_bytes, kv_bytes, act_bytes: per GPU; *_group: summed over the TP/EP group."""

    busy_s: np.ndarray
    kernels: float = 0.0
    comm_s: np.ndarray | float = 0.0
    flops: np.ndarray | float = 0.0
    weight_bytes: np.ndarray | float = 0.0
    kv_bytes: np.ndarray | float = 0.0
    act_bytes: np.ndarray | float = 0.0
    flops_group: np.ndarray | float = 0.0
    weight_bytes_group: np.ndarray | float = 0.0
    kv_bytes_group: np.ndarray | float = 0.0
    act_bytes_group: np.ndarray | float = 0.0

    def time_s(self, kernel_overhead_s: float) -> np.ndarray:
        return self.busy_s + self.kernels * kernel_overhead_s + self.comm_s

    def __add__(self, other: OpCost) -> OpCost:
        return OpCost(
            self.busy_s + other.busy_s,
            self.kernels + other.kernels,
            *(getattr(self, f) + getattr(other, f) for f in _SUMMED),
        )

    def scaled_group(self, ranks) -> OpCost:
        """Set the *_group fields to the per-GPU ones x ranks (every rank does the same work)."""
        self.flops_group = self.flops * ranks
        self.weight_bytes_group = self.weight_bytes * ranks
        self.kv_bytes_group = self.kv_bytes * ranks
        self.act_bytes_group = self.act_bytes * ranks
        return self


_SUMMED = (
    "comm_s",
    "flops",
    "weight_bytes",
    "kv_bytes",
    "act_bytes",
    "flops_group",
    "weight_bytes_group",
    "kv_bytes_group",
    "act_bytes_group",
)


def roofline_s(flops, flop_per_s, bytes_moved, bytes_per_s) -> np.ndarray:
    return np.maximum(flops / flop_per_s, bytes_moved / bytes_per_s)


def gemm(rates: Rates, m_tokens, k, n, weight_bytes_per_param: float, dtype: str, kernels: float = 1.0,
         block_scaled: bool = False) -> OpCost:
    """[M, K] x [K, N]: FLOPs 2MKN; bytes K*N*wbpp (weights) + (M*K + M*N) * 2 (activations).
    A GEMM whose weights are stored narrower than its compute dtype (int4 -> bf16, or fp8 on a GPU
    without fp8) is weight-only quantised. A block-scaled fp8 GEMM (block_scaled, run in fp8) adds
    the activation-quantization kernel and takes at least the published kernel time at its K
    (perf.blockscale), where the GPU has one, and at most the kernels' measured rate at many tokens."""
    run_dtype = rates.gemm_dtype(dtype)
    weight_only = weight_bytes_per_param < DTYPE_BYTES[run_dtype]
    m = np.asarray(m_tokens, dtype=float)
    flops = 2.0 * m * k * n
    w = k * n * weight_bytes_per_param * np.ones_like(m)
    act = (m * k + m * n) * ACT_BYTES
    if not weight_only:
        ms = rates.table_ms("gemm", {"m": m, "n": n, "k": k}, dtype=run_dtype)
        if ms is not None:
            return OpCost(ms * 1e-3, kernels - 1.0, flops=flops, weight_bytes=w, act_bytes=act)
    busy = roofline_s(flops, rates.gemm_flop_per_s(run_dtype, m, weight_only), w + act, rates.memory_bytes_per_s(w + act))
    bs = rates.blockscale
    if block_scaled and run_dtype == "fp8" and bs is not None:
        busy = np.maximum(busy, bs.floor_s(k) * np.ones_like(m))
        if bs.gemm_flop_per_s is not None:
            busy = np.maximum(busy, flops / bs.gemm_flop_per_s)
        kernels = kernels + bs.extra_kernels
    return OpCost(busy, kernels, flops=flops, weight_bytes=w, act_bytes=act)


def elementwise(rates: Rates, bytes_moved, kernels: float = 1.0) -> OpCost:
    """A memory-bound kernel (norm, activation, top-k) moving `bytes_moved` bytes."""
    b = np.asarray(bytes_moved, dtype=float)
    return OpCost(b / rates.memory_bytes_per_s(b), kernels, act_bytes=b)


def rmsnorm(rates: Rates, tokens, hidden: int, count: int = 1) -> OpCost:
    """`count` fused residual-add + RMSNorm kernels: each reads x and the residual and writes both,
    4 * T * H * 2 bytes."""
    return elementwise(rates, count * 4.0 * np.asarray(tokens, dtype=float) * hidden * ACT_BYTES, kernels=count)


def swiglu_mlp(rates: Rates, tokens, hidden: int, width: int, wbpp: float, dtype: str, block_scaled: bool = False) -> OpCost:
    """gate_up [H, 2W] GEMM, SiLU-and-mul (reads [T, 2W], writes [T, W]), down [W, H] GEMM."""
    t = np.asarray(tokens, dtype=float)
    up = gemm(rates, t, hidden, 2 * width, wbpp, dtype, block_scaled=block_scaled)
    act = elementwise(rates, t * 3 * width * ACT_BYTES)
    down = gemm(rates, t, width, hidden, wbpp, dtype, block_scaled=block_scaled)
    return up + act + down


def attention_decode(rates: Rates, batch, attended, q_heads, kv_elems_per_token, kv_bytes_per_element: float,
                     qk_dim: int, v_dim: int, group_size) -> OpCost:
    """One decode step of attention on one GPU (3 kernels: rotary, KV-cache write, attention).

    batch B sequences each attending `attended` KV tokens; q_heads query heads on this GPU;
    kv_elems_per_token K+V elements per token on this GPU.
    FLOPs = 2 * q_heads * (qk_dim + v_dim) * a * B (QK^T and PV);
    KV bytes = B * a * kv_elems_per_token * kvb, at the decode-attention rate. The tensor-core
    rate is the GEMM rate at M = group_size (query heads sharing one KV head), as decode kernels
    stack a KV head's query heads into one M tile."""
    B = np.asarray(batch, dtype=float)
    a = np.asarray(attended, dtype=float)
    flops = 2.0 * q_heads * (qk_dim + v_dim) * a * B
    kv = B * a * kv_elems_per_token * kv_bytes_per_element
    qo = B * q_heads * (qk_dim + v_dim) * ACT_BYTES + B * kv_elems_per_token * kv_bytes_per_element
    if qk_dim == v_dim:  # not MLA: the generation-attention table (rotary and KV write stay kernels)
        ms = rates.table_ms("attention_generation", {"batch": B, "kv_len": a, "num_heads": q_heads,
                                                      "num_kv_heads": kv_elems_per_token / (2.0 * qk_dim)},
                            head_dim=int(qk_dim), kv_dtype=KV_DTYPE.get(kv_bytes_per_element))
        if ms is not None:  # the table's kernel reads Q and the KV, writes O; the KV-cache write is apart
            new_kv = B * kv_elems_per_token * kv_bytes_per_element
            return OpCost(ms * 1e-3 + new_kv / rates.memory_bytes_per_s(new_kv), 2.0, flops=flops, kv_bytes=kv, act_bytes=qo)
    compute = flops / rates.gemm_flop_per_s("bf16", group_size * np.ones_like(B), weight_only=True)
    memory = kv / rates.attention_decode_bytes_per_s(kv) + qo / rates.memory_bytes_per_s(qo)
    return OpCost(np.maximum(compute, memory), 3.0, flops=flops, kv_bytes=kv, act_bytes=qo)


def causal_pairs(tokens, context, chunk: int | None, window: int | None = None) -> np.ndarray:
    """Query-key pairs of `tokens` new tokens at positions context-tokens .. context-1 of one
    sequence, causal. Global: T(c - T) + T(T + 1)/2. Chunked (chunk C, a query at position p sees
    keys from floor(p / C) * C to p): S(c) - S(c - T) with S(n) = sum_{p<n} (p mod C + 1)
    = floor(n/C) * C(C+1)/2 + r(r+1)/2, r = n mod C. Sliding window W (a query at position p sees
    keys p - W + 1 .. p): W(c) - W(c - T) with W(n) = sum_{p<n} min(p + 1, W)
    = n(n+1)/2 for n <= W, else W(W+1)/2 + (n - W) W."""
    T = np.asarray(tokens, dtype=float)
    c = np.asarray(context, dtype=float)
    if window:

        def Wsum(n):
            m = np.minimum(n, window)
            return m * (m + 1) / 2 + np.maximum(n - window, 0) * window

        return Wsum(c) - Wsum(c - T)
    if not chunk:
        return T * (c - T) + T * (T + 1) / 2

    def S(n):
        full, r = np.floor(n / chunk), np.mod(n, chunk)
        return full * chunk * (chunk + 1) / 2 + r * (r + 1) / 2

    return S(c) - S(c - T)


def attention_prefill(rates: Rates, tokens_per_seq, context, sequences, q_heads, kv_elems_per_token,
                      kv_bytes_per_element: float, qk_dim: int, v_dim: int, chunk: int | None,
                      causal: bool = True, window: int | None = None) -> OpCost:
    """Prefill attention of `sequences` sequences, each adding tokens_per_seq tokens at the end of
    a `context`-token sequence (3 kernels). FLOPs = 2 * q_heads * (qk_dim + v_dim) * pairs;
    bytes: Q and O once, the KV of the attended span (global: the context; chunked: at most
    tokens + chunk; sliding: at most tokens + window) once, the new KV written once."""
    t = np.asarray(tokens_per_seq, dtype=float)
    c = np.asarray(context, dtype=float)
    S = np.asarray(sequences, dtype=float)
    pairs = S * (causal_pairs(t, c, chunk, window) if causal else t * c)
    flops = 2.0 * q_heads * (qk_dim + v_dim) * pairs
    limit = window or chunk
    span = np.minimum(c, t + limit) if limit else c
    kv = S * (span + t) * kv_elems_per_token * kv_bytes_per_element
    qo = S * t * q_heads * (qk_dim + v_dim) * ACT_BYTES
    # A chunked layer's kernel works chunk by chunk: its efficiency is that of a chunk-long query
    # block (taking it at the whole prompt would let a longer prompt run faster).
    rate_len = np.minimum(t, chunk) if chunk else t
    if qk_dim == v_dim:
        # The context-attention table times S whole causal prompts of L tokens; this op costs its
        # share of pairs at the length whose kernel it runs. A sliding-window layer with a table
        # of its window: L = the context, the table's prompts windowed as this one. Otherwise
        # L = the context, or the span (chunk or window).
        heads = {"num_heads": q_heads, "num_kv_heads": kv_elems_per_token / (2.0 * qk_dim)}
        B = np.maximum(S, 1.0)
        ms = None
        if window:
            L = np.maximum(c, 1.0)
            ms = rates.table_ms("attention_context", {"batch": B, "seq_len": L, **heads}, head_dim=int(qk_dim),
                                kv_dtype="bf16", window=int(window))
            table_pairs = B * causal_pairs(L, L, None, window)
        if ms is None:
            L = np.maximum(np.minimum(c, limit) if limit else c, 1.0)
            ms = rates.table_ms("attention_context", {"batch": B, "seq_len": L, **heads}, head_dim=int(qk_dim), kv_dtype="bf16")
            table_pairs = B * L * (L + 1) / 2
        if ms is not None:
            return OpCost(ms * 1e-3 * pairs / table_pairs, 2.0, flops=flops, kv_bytes=kv, act_bytes=qo)
    busy = roofline_s(flops, rates.attention_prefill_flop_per_s(rate_len), kv + qo, rates.memory_bytes_per_s(kv + qo))
    return OpCost(busy, 3.0, flops=flops, kv_bytes=kv, act_bytes=qo)


def routed_experts(rates: Rates, touched, pairs, hidden: int, width: int, wbpp: float, dtype: str,
                   shards: float, block_scaled: bool = False, kernel_rate=None) -> OpCost:
    """Grouped/fused MoE GEMMs on one GPU (5 kernels: align/sort, gate_up, SiLU-and-mul, down,
    combine). touched = distinct experts this GPU runs, pairs = token-expert pairs it computes,
    shards = how many GPUs split each expert's columns (tp / ep).
    FLOPs = pairs * 2 * 3 * H * W / shards; weight bytes = touched * 3 * H * W * wbpp / shards;
    activations per pair (2H + 6W/shards) * 2 bytes; the GEMM rate is taken at the per-expert
    token count pairs / touched; block-scaled fp8 experts run at most at the fused MoE kernel's
    measured rate at many tokens (perf.blockscale), where the GPU has one; kernel_rate(tokens per
    expert, shards) -> FLOP/s: the measured rate of the kernel the engine was told to run
    (perf.moe_kernels), a cap on the compute rate."""
    D = np.asarray(touched, dtype=float)
    P = np.asarray(pairs, dtype=float)
    w = width / shards
    expert_params = 3.0 * hidden * w
    flops = 2.0 * P * expert_params
    wb = D * expert_params * wbpp
    act = P * (2 * hidden + 6 * w) * ACT_BYTES
    run_dtype = rates.gemm_dtype(dtype)
    weight_only = wbpp < DTYPE_BYTES[run_dtype]
    m = P / np.maximum(D, 1e-12)
    busy = roofline_s(flops, rates.gemm_flop_per_s(run_dtype, m, weight_only), wb + act, rates.memory_bytes_per_s(wb + act))
    bs = rates.blockscale
    if block_scaled and run_dtype == "fp8" and bs is not None and bs.moe_flop_per_s is not None:
        busy = np.maximum(busy, flops / bs.moe_flop_per_s)  # the fused MoE kernel's measured rate at many tokens
    if kernel_rate is not None:
        busy = np.maximum(busy, flops / kernel_rate(m, shards))
    return OpCost(busy, 5.0, flops=flops, weight_bytes=wb, act_bytes=act)
