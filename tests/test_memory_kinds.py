"""KV by attention kind (full, chunked, sliding, MLA), the engine's hybrid-KV setting, the model's
context limit, MLA weights replicated per TP rank. Expected values computed by hand here."""

from dataclasses import replace

import pytest

from moeprof.catalog.hardware.vms import get_vm
from moeprof.catalog.models import load_model
from moeprof.catalog.models.quant import get_recipe
from moeprof.memory import (
    Parallelism,
    kv_bytes_for_sequence,
    kv_bytes_per_token_per_gpu,
    load_engine,
    max_context_for_budget,
    memory_per_gpu,
    weights_params_per_gpu,
)


def test_kv_bytes_per_token_by_kind_bf16():
    # gpt-oss-120b: 8 KV heads x 64 dims x K,V x 2 bytes = 2,048 bytes per layer; 18 sliding, 18 full
    kv = load_model("gpt-oss-120b").kv_bytes_per_token(2)
    assert kv == {"global": 18 * 2048, "chunked": 0, "sliding": 18 * 2048}
    # Scout: 8 KV heads x 128 x 2 x 2 = 4,096 bytes per layer; 12 global (NoPE), 36 chunked
    kv = load_model("scout").kv_bytes_per_token(2)
    assert kv == {"global": 12 * 4096, "chunked": 36 * 4096, "sliding": 0}
    # DeepSeek-V3 MLA: latent 512 + RoPE key 64 = 576 elements x 2 bytes = 1,152 bytes x 61 layers
    kv = load_model("deepseek-v3").kv_bytes_per_token(2)
    assert kv == {"global": 61 * 1152, "chunked": 0, "sliding": 0}
    # Mixtral-8x7B: 8 x 128 x 2 x 2 = 4,096 bytes x 32 full layers
    assert load_model("mixtral-8x7b").kv_bytes_per_token(2)["global"] == 32 * 4096
    # Qwen3-235B: 4 KV heads x 128 x 2 x 2 = 2,048 bytes x 94 layers
    assert load_model("qwen3-235b-a22b").kv_bytes_per_token(2)["global"] == 94 * 2048


def test_engine_setting_defaults_to_vllm_0_11():
    e = load_engine()
    assert e.kv_capped_kinds == ("sliding",)  # hybrid KV manager: windows yes, chunked-local no


def test_sliding_layers_capped_at_the_window_by_default():
    m = load_model("gpt-oss-120b")
    per = kv_bytes_per_token_per_gpu(m, Parallelism(tp=1), "bf16")
    # 100,000 tokens: full layers hold 100,000, sliding layers 128 tokens
    assert kv_bytes_for_sequence(m, per, 100_000) == 18 * 2048 * 100_000 + 18 * 2048 * 128
    assert kv_bytes_for_sequence(m, per, 100_000, capped=()) == 36 * 2048 * 100_000
    # budget for 1,000,000 tokens of full layers plus the window: (18 x 2048) x (1e6 + 128)
    budget = 18 * 2048 * (1_000_000 + 128)
    assert max_context_for_budget(m, per, budget) == 1_000_000
    assert max_context_for_budget(m, per, budget, capped=()) == (1_000_000 + 128) // 2


def test_llama4_chunked_layers_keep_full_kv_by_default():
    m, vm = load_model("scout"), get_vm("nd-h200-v5")
    r = memory_per_gpu(m, vm, quant=get_recipe("bf16"))
    assert r.kv_capped_kinds == ["sliding"]
    per = r.kv_bytes_per_token_per_gpu
    # full KV on all 48 layers: the context is the capacity (below the model's 10M maximum)
    assert r.max_context_tokens == r.max_context_tokens_full_kv == int(r.kv_budget_bytes_per_gpu // per)
    # with the hybrid allocator on chunked layers: 8,192 tokens there, the rest on the 12 global ones
    g = r.kv_bytes_per_token_per_gpu_by_kind["global"]
    c = r.kv_bytes_per_token_per_gpu_by_kind["chunked"]
    assert r.max_context_tokens_all_capped == min(int((r.kv_budget_bytes_per_gpu - c * m.attention_chunk_size) // g),
                                                  m.max_position_embeddings)
    capped = memory_per_gpu(m, vm, quant=get_recipe("bf16"), engine=replace(load_engine(), kv_capped_kinds=("sliding", "chunked")))
    assert capped.max_context_tokens == r.max_context_tokens_all_capped


def test_no_figure_beyond_the_model_maximum():
    m = load_model("mixtral-8x7b")  # 32,768-token maximum
    r = memory_per_gpu(m, get_vm("nd-h200-v5"), target_context_tokens=131_072)
    assert not r.fits and "exceeds the model maximum 32,768" in r.reason
    assert r.max_concurrent_seqs_at_target is None
    assert r.max_context_tokens <= 32_768 and r.max_context_tokens_full_kv <= 32_768


def test_mla_down_projections_replicated_per_rank():
    m = load_model("deepseek-v3")
    H, L = 7168, 61
    # q_a_proj [H, 1536] + q_a_layernorm 1536 + kv_a_proj_with_mqa [H, 512 + 64] + kv_a_layernorm 512
    rep = H * 1536 + 1536 + H * (512 + 64) + 512
    assert m.mla_replicated_params_per_layer == rep
    w = weights_params_per_gpu(m, Parallelism(tp=8))
    assert w["attention"] == pytest.approx(L * rep + (m.params_by_component["attention"] - L * rep) / 8)
    # about 0.8B more parameters per GPU than an 8-way split of everything: 61 x rep x 7/8
    assert 61 * rep * 7 / 8 == pytest.approx(0.81e9, rel=0.01)


def test_deepseek_v3_fits_one_h200_vm_at_its_fp8_checkpoint():
    m = load_model("deepseek-v3")
    r = memory_per_gpu(m, get_vm("nd-h200-v5"))
    assert r.quant == "checkpoint" and r.fits
    bf16 = memory_per_gpu(m, get_vm("nd-h200-v5"), quant=get_recipe("bf16"))
    assert not bf16.fits


def test_gpt_oss_mxfp4_weights():
    m = load_model("gpt-oss-120b")
    r = memory_per_gpu(m, get_vm("nd-h100-v5"), par=Parallelism(tp=1))
    p = m.params_by_component
    # experts at 0.53125 bytes, everything else bf16
    expect = p["routed_experts"] * 0.53125 + 2 * (m.total_params - p["routed_experts"])
    assert r.weights_bytes_per_gpu == pytest.approx(expect)
    assert r.weights_bytes_per_gpu / 2**30 == pytest.approx(60.8, abs=1.0)  # the card's 60.8 GiB checkpoint
