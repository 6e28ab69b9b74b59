"""One test per layout family, each parsing a real Hugging Face config.json (shipped in
moeprof/data/models or kept in tests/data), with expected figures computed by hand here."""

import json
from pathlib import Path

import pytest

from moeprof.catalog.models import from_hf_config, load_model, model_names
from moeprof.errors import ConfigError

DATA = Path(__file__).parent / "data"
MODELS = Path(__file__).parents[1] / "moeprof" / "data" / "models"


def within(x, ref, pct):
    return abs(x - ref) / ref <= pct / 100


def test_gpt_oss_120b_layout_and_parameters():
    m = load_model("gpt-oss-120b")
    assert m.family == "gpt_oss"
    # layer_types alternates sliding, full over 36 layers: 18 of each, window 128.
    assert m.num_sliding_layers == 18 and m.num_global_layers == 18 and m.sliding_window == 128
    assert m.sliding_layers[:3] == (0, 2, 4)
    H, hd, heads, kv, E, I, L, V = 2880, 64, 64, 8, 128, 2880, 36, 201088
    # attention: q [H, 64x64] + k, v [H, 8x64] + o [64x64, H], biases on q, k, v, o, one sink per head
    attn = H * heads * hd + 2 * H * kv * hd + heads * hd * H + (heads * hd + 2 * kv * hd) + H + heads
    assert m.attention_params_per_layer == attn
    # expert: gate_up [H, 2I] + bias 2I, down [I, H] + bias H
    expert = H * 2 * I + 2 * I + I * H + H
    assert m.expert_params == expert
    p = m.params_by_component
    assert p["routed_experts"] == L * E * expert
    assert p["router"] == L * (H * E + E)  # router linear with bias
    # expert = 16,588,800 + 5,760 + 8,294,400 + 2,880 = 24,891,840; x 128 x 36 = 114,701,598,720
    assert expert == 24_891_840 and L * E * expert == 114_701_598_720
    assert within(m.total_params, 116.83e9, 0.5)
    # the card's 5.13B active counts the unembedding, not the embedding
    assert m.card_active_excludes == ("embeddings",)
    assert within(m.active_params - V * H, 5.13e9, 1.0)


def test_gpt_oss_20b_uses_mxfp4_checkpoint_recipe():
    m = load_model("gpt-oss-20b")
    q = m.checkpoint_quant
    assert m.default_quant == "checkpoint" and q.name == "checkpoint"
    # MXFP4: 4 bits + one e8m0 scale byte per 32 values = 0.5 + 1/32 = 0.53125 bytes
    assert q.weight_bytes_per_param["routed_experts"] == 0.53125
    assert q.gemm_dtype["routed_experts"] == "bf16"  # weight-only: no native FP4 on H100/H200/MI300X
    for c in ("attention", "router", "embeddings", "lm_head"):
        assert q.weight_bytes_per_param[c] == 2.0


def test_deepseek_v3_mla_mtp_and_fp8_checkpoint():
    m = load_model("deepseek-v3")
    assert m.family == "deepseek_v3" and m.is_mla and m.router_score_bias
    H, E, L_moe = 7168, 256, 58
    # noaux_tc: router [H, E] + e_score_correction_bias [E] per MoE layer
    assert m.params_by_component["router"] == L_moe * (H * E + E)
    assert within(m.total_params, 671e9, 0.5) and within(m.active_params, 37e9, 2.0)
    # MTP module: one MoE decoder layer + enorm, hnorm, eh_proj [2H, H], shared-head norm,
    # + its own embedding and lm_head copies (vLLM DeepSeekMTP): about 14B, not in the total.
    layer = m.attention_params_per_layer + 2 * H + (H * E + E) + E * 3 * H * 2048 + 3 * H * 2048
    assert m.draft_params == layer + 2 * H + 2 * H * H + H + 2 * 129280 * H
    assert within(m.draft_params, 14e9, 5.0)
    assert m.total_params + m.draft_params == pytest.approx(684.5e9, rel=0.01)  # the Hub page's 685B
    # block-wise FP8: 1 byte + one fp32 scale per 128 x 128 block = 1 + 4 / 16384 bytes
    q = m.checkpoint_quant
    assert m.default_quant == "checkpoint"
    assert q.weight_bytes_per_param["routed_experts"] == 1 + 4 / 16384
    assert q.weight_bytes_per_param["attention"] == 1 + 4 / 16384 and q.gemm_dtype["attention"] == "fp8"
    assert q.weight_bytes_per_param["router"] == 2.0 and q.weight_bytes_per_param["lm_head"] == 2.0


def test_deepseek_v2_parses():
    m = load_model(str(DATA / "deepseek-v2.json"))
    assert m.family == "deepseek_v2" and not m.router_score_bias and m.mtp_layers == 0
    assert m.num_moe_layers == 59 and m.shared_intermediate_size == 2 * 1536
    assert within(m.total_params, 236e9, 0.5) and within(m.active_params, 21e9, 2.0)


def test_kimi_k2_is_chosen_by_architectures():
    cfg = json.loads((MODELS / "kimi-k2.json").read_text())
    assert cfg["model_type"] == "kimi_k2" and cfg["architectures"] == ["DeepseekV3ForCausalLM"]
    m = from_hf_config(cfg, "k2")
    assert m.is_mla and m.num_experts == 384 and m.num_moe_layers == 60 and m.num_heads == 64
    assert m.mtp_layers == 0 and m.draft_params == 0
    assert within(m.total_params, 1.04e12, 2.0)
    assert within(m.active_params_card_convention, 32e9, 2.0)


def test_qwen2_moe_shared_expert_with_sigmoid_gate():
    m = load_model(str(DATA / "qwen1.5-moe-a2.7b.json"))
    assert m.family == "qwen2_moe" and m.shared_expert_gate and m.attention_qkv_bias
    H = 2048
    # shared expert 3 x H x 5632 plus its gate [H -> 1]
    assert m.shared_expert_params_per_layer == 3 * H * 5632 + H
    # attention 4 x H x H + q, k, v biases 3 x H
    assert m.attention_params_per_layer == 4 * H * H + 3 * H
    assert within(m.total_params, 14.3e9, 0.5) and within(m.active_params, 2.7e9, 1.0)


def test_qwen3_moe_catalog():
    m = load_model("qwen3-235b-a22b")
    assert m.family == "qwen3_moe" and m.qk_norm_params_per_layer == 2 * 128
    assert within(m.total_params, 235e9, 0.5) and within(m.active_params, 22e9, 1.5)
    assert m.default_quant == "bf16"
    f = load_model("qwen3-235b-a22b-fp8")
    assert f.default_quant == "checkpoint" and f.params_by_component == m.params_by_component


def test_glm4_moe():
    m = load_model("glm-4.5")
    assert m.family == "glm4_moe" and m.attention_qkv_bias and m.router_score_bias and m.mtp_layers == 1
    H, hd, heads, kv = 5120, 128, 96, 8
    # attention with q, k, v biases; partial RoPE holds no parameters
    assert m.attention_params_per_layer == H * heads * hd + 2 * H * kv * hd + heads * hd * H + (heads + 2 * kv) * hd
    assert m.num_dense_layers == 3 and m.shared_intermediate_size == 1536
    assert within(m.total_params, 355e9, 1.0)
    assert within(m.active_params_card_convention, 32e9, 1.0)


def test_minimax_m2():
    m = load_model("minimax-m2")
    assert m.family == "minimax_m2" and m.router_score_bias and m.default_quant == "checkpoint"
    # per-layer q/k RMSNorm over all heads: (48 + 8) x 128
    assert m.qk_norm_params_per_layer == 56 * 128
    assert within(m.total_params, 230e9, 1.0) and within(m.active_params_card_convention, 10e9, 2.0)
    assert any("MTP" in n for n in m.notes)
    # modules_to_not_convert names the router gate: bf16
    assert m.checkpoint_quant.weight_bytes_per_param["router"] == 2.0


def test_mixtral_8x22b():
    m = load_model("mixtral-8x22b")
    assert within(m.total_params, 141e9, 0.5) and within(m.active_params, 39e9, 1.0)
    assert m.max_position_embeddings == 65536 and m.num_sliding_layers == 0


@pytest.mark.parametrize(
    "fname,family,total,active",
    [
        ("olmoe-1b-7b.json", "olmoe", 6.9e9, 1.3e9),  # OLMoE card: 6.9B total, 1.3B active
        ("phi-3.5-moe.json", "phimoe", 41.9e9, 6.6e9),  # Phi-3.5-MoE card: 42B total, 6.6B active
        ("dbrx.json", "dbrx", 132e9, 36e9),  # DBRX card: 132B total, 36B active
    ],
)
def test_smaller_families(fname, family, total, active):
    m = load_model(str(DATA / fname))
    assert m.family == family
    assert within(m.total_params, total, 1.0) and within(m.active_params, active, 2.0)


def test_dbrx_reads_nested_fields():
    m = load_model(str(DATA / "dbrx.json"))
    # 16 experts of [6144 -> 10752] SwiGLU, 40 layers: 40 x 16 x 3 x 6144 x 10752
    assert m.params_by_component["routed_experts"] == 40 * 16 * 3 * 6144 * 10752
    assert m.num_kv_heads == 8 and m.top_k == 4


def test_phimoe_layernorm_and_lm_head_bias():
    m = load_model(str(DATA / "phi-3.5-moe.json"))
    H, L, V = 4096, 32, 32064
    assert m.params_by_component["norms"] == L * 2 * (2 * H) + 2 * H  # LayerNorm weight + bias
    assert m.params_by_component["lm_head"] == V * H + V


def test_every_shipped_model_within_2pct_of_its_card():
    for name in model_names():
        m = load_model(name)
        if m.card_total_params is None:
            continue
        assert within(m.total_params, m.card_total_params, 2.0), name
        assert within(m.active_params_card_convention, m.card_active_params, 2.0), name


def test_unknown_layout_names_what_is_supported():
    with pytest.raises(ConfigError) as e:
        from_hf_config({"architectures": ["FooForCausalLM"], "model_type": "foo"}, "x")
    msg = str(e.value)
    assert "FooForCausalLM" in msg and "'foo'" in msg and "gpt_oss" in msg and "deepseek_v2" in msg
    assert "\n" not in msg
    with pytest.raises(ConfigError, match="neither architectures nor model_type"):
        from_hf_config({"hidden_size": 1}, "x")


def test_missing_field_is_named():
    cfg = json.loads((MODELS / "gpt-oss-20b.json").read_text())
    del cfg["num_local_experts"]
    with pytest.raises(ConfigError, match="num_local_experts.*missing"):
        from_hf_config(cfg, "x")
