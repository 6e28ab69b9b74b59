"""Block-scaled fp8 GEMMs (published small-M kernel times, the activation-quantization kernel) and
MLA's projections as the engines run them."""

import numpy as np
import pytest

from moeprof.catalog.hardware.vms import get_gpu
from moeprof.catalog.models import load_model
from moeprof.catalog.models.quant import get_recipe
from moeprof.perf import make_context
from moeprof.perf import ops as O
from moeprof.perf.blockscale import blockscale_gemm
from moeprof.perf.step import _mla_projections


def test_deepseek_checkpoint_is_block_scaled_llama_fp8_is_not():
    ds = load_model("deepseek-r1")
    assert {"attention", "shared_expert", "routed_experts"} <= set(get_recipe(ds.default_quant, ds).block_scaled)
    assert get_recipe("fp8", ds).block_scaled == ()


@pytest.mark.parametrize("gpu", ["h200-sxm-141gb", "mi300x-192gb"])
def test_block_scaled_gemm_takes_the_published_kernel_time_at_small_m(gpu):
    ctx = make_context(load_model("deepseek-r1"), get_gpu(gpu), get_recipe("fp8", load_model("deepseek-r1")))
    r = ctx.rates
    floor = blockscale_gemm(gpu).floor_s(1536)
    plain = O.gemm(r, np.array([4.0, 4096.0]), 1536, 3072, 1.0, "fp8")
    blocked = O.gemm(r, np.array([4.0, 4096.0]), 1536, 3072, 1.0 + 4 / 128**2, "fp8", block_scaled=True)
    assert plain.busy_s[0] < floor and blocked.busy_s[0] == pytest.approx(floor)
    assert blocked.busy_s[1] >= plain.busy_s[1]  # at large M the roofline is the time
    assert blocked.kernels == plain.kernels + 1  # per-group activation quantization
    assert "gemm_fp8_blockscale" in r.sources


def test_mla_projections_replicate_the_down_projections():
    m = load_model("deepseek-r1")
    ctx = make_context(m, get_gpu("h200-sxm-141gb"), get_recipe("bf16", m))
    per_gpu = {tp: float(_mla_projections(ctx, np.array(1.0), np.array(float(tp))).weight_bytes) for tp in (1, 8)}
    down = m.hidden_size * (m.mla_q_lora_rank + m.mla_kv_lora_rank + m.mla_qk_rope_head_dim) * 2.0
    split = (m.mla_q_lora_rank * m.num_heads * (m.mla_qk_nope_head_dim + m.mla_qk_rope_head_dim)
             + m.mla_kv_lora_rank * m.num_heads * (m.mla_qk_nope_head_dim + m.mla_v_head_dim)) * 2.0
    assert per_gpu[1] == pytest.approx(down + split)
    assert per_gpu[8] == pytest.approx(down + split / 8)


def test_block_scaled_kernels_run_at_their_measured_rate_at_many_tokens():
    """On gfx942 the block-scaled GEMM and fused-MoE kernels stay below the per-tensor fp8 GEMM rate
    at many tokens (aiter's tuned tables): their compute is capped at the measured rates, the
    per-tensor GEMMs and the GPUs without such data keep the roofline."""
    m = load_model("deepseek-r1")
    ctx = make_context(m, get_gpu("mi300x-192gb"), get_recipe("fp8", m))
    r, bs = ctx.rates, blockscale_gemm("mi300x-192gb")
    assert bs.gemm_flop_per_s < r.gemm_flop_per_s("fp8", np.array([8192.0]), False)[0]
    M, K, N = np.array([1.0, 16384.0]), 7168, 2112
    plain = O.gemm(r, M, K, N, 1.0, "fp8")
    blocked = O.gemm(r, M, K, N, 1.0 + 4 / 128**2, "fp8", block_scaled=True)
    assert blocked.busy_s[1] == pytest.approx(2 * 16384.0 * K * N / bs.gemm_flop_per_s)
    assert blocked.busy_s[1] > 1.3 * plain.busy_s[1]
    pairs, touched = np.array([8.0, 16384.0 * 8]), np.array([8.0, 256.0])
    moe_plain = O.routed_experts(r, touched, pairs, 7168, 2048, 1.0, "fp8", 8.0)
    moe_blocked = O.routed_experts(r, touched, pairs, 7168, 2048, 1.0, "fp8", 8.0, block_scaled=True)
    assert moe_blocked.busy_s[0] == pytest.approx(moe_plain.busy_s[0])  # few tokens: the weights' bytes
    assert moe_blocked.busy_s[1] == pytest.approx(moe_plain.flops[1] / bs.moe_flop_per_s)
    h200 = make_context(m, get_gpu("h200-sxm-141gb"), get_recipe("fp8", m)).rates
    assert blockscale_gemm("h200-sxm-141gb").gemm_flop_per_s is None
    assert O.gemm(h200, M, K, N, 1.0, "fp8", block_scaled=True).busy_s[1] == pytest.approx(O.gemm(h200, M, K, N, 1.0, "fp8").busy_s[1])
