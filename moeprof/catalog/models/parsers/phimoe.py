"""Phi-3.5-MoE (`PhiMoEForCausalLM`, `phimoe`): every layer MoE over `num_local_experts` of width
`intermediate_size`, top `num_experts_per_tok`; biases on q/k/v/o (`attention_bias`), LayerNorm
with bias, lm_head with bias (`lm_head_bias`); sliding window on every layer when set."""

from __future__ import annotations

from ..fields import Fields
from .common import base_fields, layer_types_windows

FAMILY = "phimoe"
ARCHITECTURES = ("PhiMoEForCausalLM",)
MODEL_TYPES = ("phimoe",)


def parse(text: dict, full: dict, path) -> dict:
    f = Fields(text, path)
    out = base_fields(f)
    L = out["num_layers"]
    out.update(layer_types_windows(f, L))
    bias = f.bool("attention_bias", False)
    out.update(
        expert_intermediate_size=f.int("intermediate_size"),
        shared_intermediate_size=0,
        dense_intermediate_size=0,
        num_experts=f.int("num_local_experts"),
        top_k=f.int("num_experts_per_tok"),
        moe_layers=tuple(range(L)),
        attention_qkv_bias=bias,
        attention_o_bias=bias,
        norm_bias=True,
        lm_head_bias=f.bool("lm_head_bias", False),
    )
    return out
