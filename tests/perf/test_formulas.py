"""Hand-computed cases: the arithmetic is written out so a reader can check the model."""

import math

import numpy as np
import pytest

from moeprof.catalog.hardware.vms import get_gpu
from moeprof.perf import decode_step, prefill_step
from moeprof.perf import ops as O
from moeprof.perf.efficiency import load_efficiencies
from moeprof.perf.moe import busiest_rank_load, inclusion_probabilities, total_touched, uniform_touched_per_shard
from moeprof.perf.rates import tile_efficiency

# Uncalibrated H100 fallback: datasheet peaks (moeprof/data/gpus.json) x achieved fractions
# (moeprof/data/efficiency.json), read through their loaders, not copied.
_H100, _EFF = get_gpu("h100-sxm-80gb"), load_efficiencies("h100-sxm-80gb")
MEM_BYTES_PER_S = _H100.hbm_bytes_per_s * _EFF.memory_efficiency  # 3.35 TB/s x (2.97 / 3.35, Azure ND H100 v5 triad)
BF16_FLOP_PER_S = _H100.bf16_flop_per_s * _EFF.gemm_bf16_efficiency  # 989.4 TFLOP/s x (798 / 989.4)
KERNEL_S = _EFF.kernel_overhead_s
LATENCY_S = 6e-6
REL = 1e-9


def test_memory_bound_decode_gemm(ctx_of):
    """qkv_proj of Scout at batch 1: [1, 5120] x [5120, 7168] bf16."""
    r = ctx_of("scout").rates
    weights = 5120 * 7168 * 2  # 73,400,320 bytes
    acts = (1 * 5120 + 1 * 7168) * 2  # 24,576 bytes
    flops = 2 * 1 * 5120 * 7168  # 73,400,320
    compute_s = flops / (BF16_FLOP_PER_S * (1 / 64))  # M = 1 padded to a 64-row tile: 1/64 useful
    memory_s = (weights + acts) / MEM_BYTES_PER_S  # 24.72 us
    assert memory_s > compute_s  # memory-bound
    c = O.gemm(r, 1, 5120, 7168, 2.0, "bf16")
    assert float(c.time_s(r.kernel_overhead_s)) == pytest.approx(memory_s + KERNEL_S, rel=REL)
    assert float(c.time_s(r.kernel_overhead_s)) * 1e6 == pytest.approx(26.72, abs=0.01)


def test_compute_bound_gemm_and_tile_quantisation(ctx_of):
    r = ctx_of("scout").rates
    # M = 4096 tokens, K = N = 8192: 2 * 4096 * 8192^2 = 5.497e11 FLOP at 798.0 TFLOP/s = 0.6889 ms
    c = O.gemm(r, 4096, 8192, 8192, 2.0, "bf16")
    assert float(c.busy_s) == pytest.approx(2 * 4096 * 8192 * 8192 / BF16_FLOP_PER_S, rel=REL)
    # tile quantisation: 65 rows use two 64-row tiles -> 65 / 128 useful
    assert float(tile_efficiency(65, 64)) == pytest.approx(65 / 128)
    assert float(tile_efficiency(128, 64)) == 1.0


def test_int4_and_fp8_change_bytes_and_rate(ctx_of):
    r = ctx_of("scout").rates
    bf16 = float(O.gemm(r, 1, 5120, 16384, 2.0, "bf16").busy_s)
    int4 = float(O.gemm(r, 1, 5120, 16384, 0.515625, "bf16").busy_s)  # w4a16: dequantised to bf16
    fp8 = float(O.gemm(r, 1, 5120, 16384, 1.0, "fp8").busy_s)
    # decode is memory-bound: time follows weight bytes (activations 2 * (5120 + 16384) bytes)
    assert int4 == pytest.approx((5120 * 16384 * 0.515625 + 43008) / MEM_BYTES_PER_S, rel=REL)
    assert fp8 == pytest.approx((5120 * 16384 * 1.0 + 43008) / MEM_BYTES_PER_S, rel=REL)
    assert int4 < fp8 < bf16
    # compute-bound: fp8 runs at the fp8 rate 1978.9e12 x (1290.1 / 1978.9) = 1290.1 TFLOP/s
    big = O.gemm(r, 8192, 8192, 8192, 1.0, "fp8")
    assert float(big.busy_s) == pytest.approx(2 * 8192**3 / (1978.9e12 * 0.6519), rel=REL)


def test_moe_layer_t1_scout(ctx_of):
    """Scout MoE layer, one token, one H100: router + shared expert + 1 routed expert."""
    ctx = ctx_of("scout")
    res = decode_step(ctx, 1, 1)
    d = res.moe["global-moe"]
    # E = 16, k = 1, T = 1: touched = 16 * (1 - (1 - 1/16)^1) = 1, one token-expert pair
    assert float(d["experts_touched"]) == pytest.approx(1.0)
    # routed: weights 3 * 5120 * 8192 * 2 = 251,658,240 B; activations (2*5120 + 6*8192) * 2 = 118,784 B
    routed = (3 * 5120 * 8192 * 2 + (2 * 5120 + 6 * 8192) * 2) / MEM_BYTES_PER_S + 5 * KERNEL_S
    assert float(d["routed_experts_s"]) == pytest.approx(routed, rel=REL)
    assert float(d["routed_experts_s"]) * 1e6 == pytest.approx(94.77, abs=0.01)
    # shared expert: gate_up [5120, 16384] + SiLU-mul + down [8192, 5120], 3 kernels
    gate_up = (5120 * 16384 * 2 + (5120 + 16384) * 2) / MEM_BYTES_PER_S
    act = (3 * 8192 * 2) / MEM_BYTES_PER_S
    down = (8192 * 5120 * 2 + (8192 + 5120) * 2) / MEM_BYTES_PER_S
    assert float(d["shared_expert_s"]) == pytest.approx(gate_up + act + down + 3 * KERNEL_S, rel=REL)
    # router [1, 5120] x [5120, 16] + top-k over fp32 logits (2 kernels)
    router = (5120 * 16 * 2 + (5120 + 16) * 2) / MEM_BYTES_PER_S + (16 * 4 * 2) / MEM_BYTES_PER_S + 2 * KERNEL_S
    assert float(d["router_s"]) == pytest.approx(router, rel=REL)
    assert float(res.ops["global-moe"]["moe"]) == pytest.approx(router + float(d["shared_expert_s"]) + routed, rel=REL)


def test_moe_layer_t1024(ctx_of):
    """T = 1024 tokens: Scout touches all 16 experts (64 tokens each), Maverick 127.96 of 128."""
    res = decode_step(ctx_of("scout"), 1024, 1)
    d = res.moe["global-moe"]
    touched = 16 * (1 - (15 / 16) ** 1024)  # = 16 - 2.4e-28
    assert float(d["experts_touched"]) == pytest.approx(touched)
    assert float(d["tokens_per_expert"]) == pytest.approx(64.0)
    weights = touched * 3 * 5120 * 8192 * 2  # 4.027 GB
    acts = 1024 * (2 * 5120 + 6 * 8192) * 2  # 121.6 MB
    flops = 2 * 1024 * 3 * 5120 * 8192  # 2.577e11: 0.323 ms at 798 TFLOP/s (64 = one full tile)
    memory_s = (weights + acts) / MEM_BYTES_PER_S  # 1.3966 ms
    assert memory_s > flops / BF16_FLOP_PER_S
    assert float(d["routed_experts_s"]) == pytest.approx(memory_s + 5 * KERNEL_S, rel=REL)

    mav = decode_step(ctx_of("maverick"), 1024, 1).moe["global-moe"]
    assert float(mav["experts_touched"]) == pytest.approx(128 * (1 - (127 / 128) ** 1024))
    assert float(mav["experts_touched"]) == pytest.approx(127.958, abs=1e-3)


def test_uniform_touched_matches_issue_formula_for_top_k_2():
    """E = 8, k = 2, ep = 2 (E_s = 4): E_s * (1 - (1 - k/E)^T) for every T."""
    q = inclusion_probabilities(8, 2, 0.0)
    assert np.allclose(q, 2 / 8)
    T = np.array([1, 2, 5, 40])
    touched, pairs = busiest_rank_load(q, T, 4)
    assert np.allclose(touched, 4 * (1 - (1 - 2 / 8) ** T))
    assert np.allclose(touched, uniform_touched_per_shard(8, 2, T, ep=2))
    assert np.allclose(pairs, T * 2 * 4 / 8)


def test_skewed_inclusion_probabilities():
    q1 = inclusion_probabilities(16, 1, 1.0)
    p = 1 / np.arange(1, 17)
    assert np.allclose(q1, p / p.sum())  # k = 1: q = Zipf popularity exactly
    q4 = inclusion_probabilities(16, 4, 2.0)
    assert q4.sum() == pytest.approx(4.0) and q4.max() == pytest.approx(1.0) and np.all(np.diff(q4) <= 1e-15)


def test_skewed_touched_monte_carlo():
    """k = 1, Zipf(1.0) over 16 experts, 4 ranks of 4: the formula against simulation."""
    q = inclusion_probabilities(16, 1, 1.0)
    touched, pairs = busiest_rank_load(q, 32, 4)
    rng = np.random.default_rng(7)
    picks = rng.choice(16, size=(20000, 32), p=q)
    on_rank0 = picks < 4
    distinct = np.array([len(set(row[m])) for row, m in zip(picks, on_rank0)])
    assert float(touched) == pytest.approx(distinct.mean(), rel=0.01)
    assert float(pairs) == pytest.approx(on_rank0.sum(axis=1).mean(), rel=0.01)
    assert float(total_touched(q, 32)) < 16 * (1 - (15 / 16) ** 32)  # skew touches fewer experts overall


def test_causal_pairs():
    # global: L(L+1)/2 for a whole prompt
    assert float(O.causal_pairs(1000, 1000, None)) == 1000 * 1001 / 2
    # chunked C = 8192, L = 20000: two full chunks and 3616 tokens
    assert float(O.causal_pairs(20000, 20000, 8192)) == 2 * 8192 * 8193 / 2 + 3616 * 3617 / 2
    # brute force: 7 new tokens at the end of a 23-token sequence, chunk 5
    brute = sum(p % 5 + 1 for p in range(16, 23))
    assert float(O.causal_pairs(7, 23, 5)) == brute


def test_decode_attention_bytes(ctx_of):
    """Scout decode, batch 2, context 20000: chunked layers read min(20000, 8192) tokens."""
    res = decode_step(ctx_of("scout"), 2, 20000)
    per_token = 2 * 8 * 128 * 2  # K and V, 8 KV heads x 128, bf16 = 4096 B per layer
    kv_global = 2 * 20000 * per_token
    kv_chunked = 2 * 8192 * per_token
    assert float(res.kv_bytes) == pytest.approx(12 * kv_global + 36 * kv_chunked)
    att = res.ops["global-moe"]["attention"]
    q_o = 2 * 40 * 256 * 2 + 2 * 2048 * 2  # Q in / O out, plus the new token's KV written
    assert float(att) == pytest.approx(kv_global / MEM_BYTES_PER_S + q_o / MEM_BYTES_PER_S + 3 * KERNEL_S, rel=REL)


def _bandwidth_part(x, y, factor=2 * 7 / 8):
    """A published point (x bytes, y busBW at 8 GPUs) without the 6 us latency its time contains."""
    t = x * factor / y
    return x * factor / (t - LATENCY_S)


def test_allreduce_and_alltoall_hand_computed(ctx_of):
    """ND H100 v5 published all-reduce curve: 43.7 GB/s at 1 MiB, 234.5 at 16 MiB (busBW)."""
    ic = ctx_of("scout").interconnect
    # 1 MiB took 1048576 x 1.75 / 43.7e9 = 41.99 us, of which 6 us latency: bandwidth part 51.0 GB/s
    bw_1m = _bandwidth_part(1048576, 43.7e9)
    assert bw_1m == pytest.approx(50.99e9, rel=1e-3)
    assert float(ic.allreduce_s(1048576, 8)) == pytest.approx(1048576 * 1.75 / 43.7e9, rel=REL)  # the point itself
    # decode all-reduce at batch 1: 1 x 5120 x 2 B = 10,240 B over 8 GPUs (below the curve: clamped)
    assert float(ic.allreduce_s(10240, 8)) == pytest.approx(LATENCY_S + 10240 * 2 * 7 / 8 / bw_1m, rel=REL)
    # EP dispatch of T = 1024 tokens over ep = 8, top-1: each rank sends 128 x 5120 x 2 = 1,310,720 B
    m = 1024 / 8 * 1 * 5120 * 2
    bw_16m = _bandwidth_part(16777216, 234.5e9, 2 * 7 / 8)  # 246.3 GB/s
    t = math.log(m / 1048576) / math.log(16)  # position between 1 MiB and 16 MiB in log(size)
    busbw = math.exp(math.log(bw_1m) + t * math.log(bw_16m / bw_1m))  # log-log: 57.9 GB/s (< 450 cap)
    expected = LATENCY_S + m * 7 / 8 / busbw  # 25.8 us
    assert float(ic.alltoall_s(m, 8)) == pytest.approx(expected, rel=REL)
    assert float(ic.alltoall_s(m, 8)) * 1e6 == pytest.approx(25.82, abs=0.01)
    # the layer's collectives with tp = ep = 8: attention all-reduce + dispatch + combine
    res = decode_step(ctx_of("scout"), 1024, 1, tp=8, ep=8)
    ar = LATENCY_S + 1024 * 5120 * 2 * 7 / 4 / ic.intra_busbw(1024 * 5120 * 2, 8)
    assert float(res.ops["global-moe"]["collectives"]) == pytest.approx(float(ar) + 2 * expected, rel=REL)
    # one GPU: no collectives
    assert float(ic.allreduce_s(10240, 1)) == 0.0


def test_cross_vm_collectives(ctx_of):
    ic = ctx_of("scout").interconnect
    nic = 50e9 * 0.94  # 400 Gb/s NDR per GPU x 0.94 (46-48 GB/s per NIC, nccl-tests #290)
    m = 1 << 30  # 1 GiB all-reduce over 16 GPUs, 8 per VM: min(curve, 8 x 47 GB/s = 376 GB/s)
    t = float(ic.allreduce_s(m, 16, cross_vm=True, gpus_per_vm_in_group=8))
    assert t == pytest.approx(2e-5 + m * 2 * 15 / 16 / min(_bandwidth_part(m, 466.4e9), 8 * nic), rel=REL)
    assert float(ic.p2p_s(1e6, True)) == pytest.approx(2e-5 + 1e6 / nic, rel=REL)


def test_prefill_attention_flops(ctx_of):
    """Maverick global layer prefill of one 4096-token prompt: 2 x 40 heads x (128 + 128) x 4096 x 4097 / 2."""
    res = prefill_step(ctx_of("maverick"), 4096, 4096)
    pairs = 4096 * 4097 / 2
    att_flops = 2 * 40 * 256 * pairs
    fa_rate = 989.4e12 * 0.3314  # FlashAttention-2 327.9 TFLOP/s published for ND H100 v5
    assert float(res.ops["global-moe"]["attention"]) == pytest.approx(att_flops / fa_rate + 3 * KERNEL_S, rel=1e-6)


def test_invalid_layouts_are_one_line_errors(ctx_of):
    from moeprof.errors import MoeprofError

    ctx = ctx_of("scout")
    for kw in ({"tp": 8, "ep": 3}, {"tp": 3, "pp": 1, "num_vms": 2}, {"tp": 0}):
        with pytest.raises(MoeprofError):
            decode_step(ctx, 1, 128, **kw)
    with pytest.raises(MoeprofError):
        decode_step(ctx, 0, 128)
    with pytest.raises(MoeprofError):
        prefill_step(ctx, 4096, 1024)  # more new tokens than the sequence holds


def test_sliding_window_pairs():
    # window 4, tokens at positions 0..9 (whole prompt of 10): keys seen 1,2,3,4,4,4,4,4,4,4 = 34
    assert float(O.causal_pairs(10, 10, None, window=4)) == 1 + 2 + 3 + 4 * 7
    # the last 3 tokens of a 10-token context: positions 7, 8, 9 see 4 keys each
    assert float(O.causal_pairs(3, 10, None, window=4)) == 12
    # a window wider than the context is global attention
    assert float(O.causal_pairs(10, 10, None, window=64)) == 10 * 11 / 2
