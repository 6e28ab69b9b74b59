import json
from pathlib import Path

import pytest

from moeprof.catalog.models import from_hf_config, load_model, model_names
from moeprof.errors import ConfigError, MoeprofError, UnknownNameError

DATA = Path(__file__).parent / "data"


def within(x, ref, pct):
    return abs(x - ref) / ref <= pct / 100


def test_scout_matches_model_card():
    m = load_model("scout")
    assert within(m.total_params, 109e9, 1.0)
    # The card rounds to whole billions: 17.17B active is "17B" (1.02 % above the rounded figure).
    assert round(m.active_params / 1e9) == 17 and within(m.active_params, 17e9, 1.1)
    assert m.num_moe_layers == 48 and m.num_dense_layers == 0
    assert m.num_global_layers == 12 and m.num_chunked_layers == 36
    assert m.chunked_layers[:4] == (0, 1, 2, 4)  # layer 3 is a NoPE/global layer


def test_maverick_matches_model_card():
    m = load_model("maverick")
    assert within(m.total_params, 400e9, 1.0)
    assert round(m.active_params / 1e9) == 17 and within(m.active_params, 17e9, 1.1)
    assert m.moe_layers == tuple(range(1, 48, 2))
    kinds = {(k.attention, k.ffn): k.count for k in m.layer_kinds()}
    assert kinds == {("global", "moe"): 12, ("chunked", "moe"): 12, ("chunked", "dense"): 24}


def test_params_by_component_hand_computed_for_maverick():
    m = load_model("maverick")
    p = m.params_by_component
    h, i, i_mlp, v = 5120, 8192, 16384, 202048
    attn = 5120 * 40 * 128 * 2 + 2 * 5120 * 8 * 128
    assert p["attention"] == 48 * attn
    assert p["routed_experts"] == 24 * 128 * 3 * h * i
    assert p["shared_expert"] == 24 * 3 * h * i
    assert p["dense_ffn"] == 24 * 3 * h * i_mlp
    assert p["embeddings"] == p["lm_head"] == v * h
    assert p["router"] == 24 * h * 128
    assert m.active_params_by_component["routed_experts"] == 24 * 1 * 3 * h * i


def test_kv_bytes_per_token_llama4():
    m = load_model("scout")
    # 2 (K,V) x 48 layers x 8 KV heads x 128 = 98,304 elements = 192 KiB in bf16.
    kv = m.kv_bytes_per_token(2)
    assert kv["global"] + kv["chunked"] == 98304 * 2 == 192 * 1024
    assert kv["global"] == 12 * 2 * 8 * 128 * 2
    # 100k-token sequence: global layers hold 100k, chunked layers at most 8192.
    assert m.kv_bytes_for_context(100_000, 2) == kv["global"] * 100_000 + kv["chunked"] * 8192


def test_behemoth_is_marked_estimated():
    m = load_model("behemoth")
    assert m.estimated_fields and "text_config.hidden_size" in m.estimated_fields
    assert within(m.active_params, 288e9, 1.0)
    assert within(m.total_params, 2e12, 1.0)
    assert m.num_experts == 16


def test_maverick_fp8_is_a_recipe_not_a_new_model():
    a, b = load_model("maverick"), load_model("maverick-fp8")
    assert a.params_by_component == b.params_by_component
    assert b.default_quant == "fp8-experts" and a.default_quant == "bf16"
    assert "FP8" in b.hf_id


@pytest.mark.parametrize(
    "fname,total,active,pct",
    [
        ("mixtral-8x7b.json", 46.7e9, 12.9e9, 1.0),  # Mistral: 46.7B total, 12.9B active
        ("deepseek-v3.json", 671e9, 37e9, 1.5),  # DeepSeek-V3 report: 671B total, 37B active (no MTP)
        ("qwen3-30b-a3b.json", 30.5e9, 3.3e9, 2.0),  # Qwen3 card: 30.5B total, 3.3B active
    ],
)
def test_other_layouts_from_config_json(fname, total, active, pct):
    m = load_model(str(DATA / fname))
    assert within(m.total_params, total, pct), m.total_params
    assert within(m.active_params, active, pct), m.active_params


def test_deepseek_mla_kv_is_latent():
    m = load_model(str(DATA / "deepseek-v3.json"))
    assert m.is_mla and m.kv_elements_per_token_per_layer == 512 + 64
    assert m.num_moe_layers == 58


def test_unknown_model_suggests_close_names():
    with pytest.raises(UnknownNameError, match="did you mean scout"):
        load_model("scoutt")
    assert "maverick-fp8" in model_names()


def test_malformed_config_names_the_field(tmp_path):
    cfg = json.loads((DATA / "mixtral-8x7b.json").read_text())
    cfg["num_local_experts"] = "eight"
    p = tmp_path / "config.json"
    p.write_text(json.dumps(cfg))
    with pytest.raises(ConfigError, match="num_local_experts"):
        load_model(str(p))
    del cfg["num_local_experts"]
    p.write_text(json.dumps(cfg))
    with pytest.raises(ConfigError, match="num_local_experts.*missing"):
        load_model(str(p))
    p.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_model(str(p))
    with pytest.raises(MoeprofError, match="no such file"):
        load_model(str(tmp_path / "missing.json"))


def test_unsupported_model_type():
    with pytest.raises(ConfigError, match="model_type"):
        from_hf_config({"model_type": "gpt2"}, "x")


def test_gemm_shapes():
    s = load_model("maverick").gemm_shapes()
    assert s["qkv_proj"] == (5120, (40 + 16) * 128)
    assert s["expert_gate_up"] == (5120, 16384) and s["dense_down"] == (16384, 5120)
    assert "dense_gate_up" not in load_model("scout").gemm_shapes()
