"""MiniMax-M2 (`MiniMaxM2ForCausalLM`, `minimax_m2`): every layer MoE over `num_local_experts`
of width `intermediate_size`, no shared expert, sigmoid routing with `e_score_correction_bias`
(`use_routing_bias`), RMSNorm over all heads on q and k (`qk_norm_type` 'per_layer'), partial
RoPE (`rotary_dim`: no parameters). The MTP modules the config declares (`use_mtp`,
`num_mtp_modules`) are not modelled (not in the totals, see the model's notes)."""

from __future__ import annotations

from ..fields import Fields
from .common import base_fields, no_windows

FAMILY = "minimax_m2"
ARCHITECTURES = ("MiniMaxM2ForCausalLM",)
MODEL_TYPES = ("minimax_m2",)


def parse(text: dict, full: dict, path) -> dict:
    f = Fields(text, path)
    out = base_fields(f)
    L, hd = out["num_layers"], out["head_dim"]
    if f.bool("use_qk_norm", False):
        per_layer = text.get("qk_norm_type", "per_layer") == "per_layer"
        qk = (out["num_heads"] + out["num_kv_heads"]) * hd if per_layer else 2 * hd
    else:
        qk = 0
    out.update(no_windows())
    out.update(
        expert_intermediate_size=f.int("intermediate_size"),
        shared_intermediate_size=f.int("shared_intermediate_size", 0, minimum=0),
        dense_intermediate_size=0,
        num_experts=f.int("num_local_experts"),
        top_k=f.int("num_experts_per_tok"),
        moe_layers=tuple(range(L)),
        qk_norm_params_per_layer=qk,
        router_score_bias=f.bool("use_routing_bias", False),
        attention_qkv_bias=f.bool("attention_bias", False),
    )
    return out
