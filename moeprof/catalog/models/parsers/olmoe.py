"""OLMoE (`OlmoeForCausalLM`, `olmoe`): every layer MoE over `num_experts` of width
`intermediate_size`, RMSNorm on the whole q and k projections (q_norm [heads x hd],
k_norm [kv heads x hd])."""

from __future__ import annotations

from ..fields import Fields
from .common import base_fields, no_windows

FAMILY = "olmoe"
ARCHITECTURES = ("OlmoeForCausalLM",)
MODEL_TYPES = ("olmoe",)


def parse(text: dict, full: dict, path) -> dict:
    f = Fields(text, path)
    out = base_fields(f)
    L = out["num_layers"]
    out.update(no_windows())
    out.update(
        expert_intermediate_size=f.int("intermediate_size"),
        shared_intermediate_size=0,
        dense_intermediate_size=0,
        num_experts=f.int("num_experts"),
        top_k=f.int("num_experts_per_tok"),
        moe_layers=tuple(range(L)),
        qk_norm_params_per_layer=(out["num_heads"] + out["num_kv_heads"]) * out["head_dim"],
        attention_qkv_bias=f.bool("attention_bias", False),
        attention_o_bias=f.bool("attention_bias", False),
    )
    return out
