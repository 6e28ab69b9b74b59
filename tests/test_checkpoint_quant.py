"""quantization_config -> the 'checkpoint' recipe: bytes per parameter by scheme (computed by
hand here), modules left unquantized, KV-cache dtype hints."""

import json
from pathlib import Path

import pytest

from moeprof.catalog.models import from_hf_config, load_model
from moeprof.catalog.models.checkpoint_quant import component_of, kv_dtype_hint
from moeprof.catalog.models.quant import get_recipe, load_recipes
from moeprof.errors import ConfigError, UnknownNameError

MIXTRAL = json.loads((Path(__file__).parent / "data" / "mixtral-8x7b.json").read_text())


def with_quant(q, base=MIXTRAL):
    return from_hf_config({**base, "quantization_config": q}, "m")


def test_fp8_per_tensor_and_block():
    r = with_quant({"quant_method": "fp8", "activation_scheme": "dynamic"}).checkpoint_quant
    assert r.weight_bytes_per_param["routed_experts"] == 1.0 and r.gemm_dtype["routed_experts"] == "fp8"
    assert r.weight_bytes_per_param["embeddings"] == 2.0 and r.weight_bytes_per_param["router"] == 2.0
    b = with_quant({"quant_method": "fp8", "weight_block_size": [64, 128]}).checkpoint_quant
    assert b.weight_bytes_per_param["attention"] == 1 + 4 / (64 * 128)  # fp32 scale per block


def test_gptq_and_awq_int4_are_weight_only():
    # GPTQ int4, group 128, symmetric: 0.5 + 2/128 (fp16 scale per group)
    g = with_quant({"quant_method": "gptq", "bits": 4, "group_size": 128, "sym": True}).checkpoint_quant
    assert g.weight_bytes_per_param["routed_experts"] == 0.5 + 2 / 128 and g.gemm_dtype["routed_experts"] == "bf16"
    # AWQ int4, group 128, zero points: 0.5 + 2/128 + 0.5/128
    a = with_quant({"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": True}).checkpoint_quant
    assert a.weight_bytes_per_param["attention"] == 0.5 + 2 / 128 + 0.5 / 128


def test_compressed_tensors_int4_group32_with_ignore():
    q = {
        "quant_method": "compressed-tensors",
        "config_groups": {
            "group_0": {"targets": ["Linear"], "weights": {"num_bits": 4, "type": "int", "group_size": 32, "symmetric": True, "strategy": "group"}}
        },
        "ignore": ["lm_head", "re:.*self_attn.*"],
    }
    r = with_quant(q).checkpoint_quant
    assert r.weight_bytes_per_param["routed_experts"] == 0.5 + 2 / 32  # 0.5625
    assert r.weight_bytes_per_param["attention"] == 2.0


def test_nvfp4_and_compressed_fp8():
    n = with_quant({"quant_method": "modelopt", "quant_algo": "NVFP4", "exclude_modules": ["lm_head"]}).checkpoint_quant
    assert n.weight_bytes_per_param["routed_experts"] == 0.5 + 1 / 16 and n.gemm_dtype["routed_experts"] == "bf16"
    q = {
        "quant_method": "compressed-tensors",
        "config_groups": {"g": {"targets": ["Linear"], "weights": {"num_bits": 8, "type": "float", "strategy": "channel"},
                                "input_activations": {"num_bits": 8, "type": "float", "dynamic": True}}},
        "kv_cache_scheme": {"num_bits": 8, "type": "float"},
    }
    m = with_quant(q)
    # per-channel fp8: one fp32 scale per output row of K = H = 4096 inputs
    assert m.checkpoint_quant.weight_bytes_per_param["attention"] == 1 + 4 / 4096
    assert m.checkpoint_quant.weight_bytes_per_param["routed_experts"] == 1 + 4 / 4096
    assert m.checkpoint_quant.gemm_dtype["routed_experts"] == "fp8"
    assert m.default_kv_dtype == "fp8" and kv_dtype_hint({}) == "bf16"


def test_ignore_list_of_some_layers_gives_a_layer_weighted_rate():
    # 32 Mixtral layers; leaving 8 layers' experts unquantized: 8/32 x 2 + 24/32 x 1 = 1.25
    ignore = [f"model.layers.{i}.block_sparse_moe.experts" for i in range(8)]
    r = with_quant({"quant_method": "fp8", "modules_to_not_convert": ignore}).checkpoint_quant
    assert r.weight_bytes_per_param["routed_experts"] == pytest.approx(1.25)
    assert r.weight_bytes_per_param["attention"] == 1.0


def test_module_names_map_to_components():
    assert component_of("model.layers.*.self_attn") == ("attention",)
    assert component_of("model.layers.*.mlp.router") == ("router",)
    assert component_of("gate") == ("router",)
    assert component_of("model.layers.3.mlp.gate_proj") != ("router",)
    assert component_of("language_model.model.layers.1.feed_forward.shared_expert") == ("shared_expert",)
    assert component_of("vision_model") == ("vision",)


def test_unsupported_method_is_named():
    with pytest.raises(ConfigError, match="quant_method.*bitsandbytes"):
        with_quant({"quant_method": "bitsandbytes"})


def test_checkpoint_recipe_is_listed_only_with_its_model():
    m = load_model("deepseek-v3")
    assert "checkpoint" in load_recipes(m) and "checkpoint" not in load_recipes()
    assert get_recipe("checkpoint", m) is m.checkpoint_quant
    with pytest.raises(UnknownNameError):
        get_recipe("checkpoint")
