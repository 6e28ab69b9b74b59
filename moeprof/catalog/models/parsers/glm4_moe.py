"""GLM-4.5 / 4.6 (`Glm4MoeForCausalLM`, `glm4_moe`): GQA with q/k/v biases (`attention_bias`),
optional RMSNorm over head_dim on q and k (`use_qk_norm`), partial RoPE (`partial_rotary_factor`:
no parameters), `first_k_dense_replace` dense layers then MoE with `n_shared_experts` shared
experts, sigmoid routing with `e_score_correction_bias`, `num_nextn_predict_layers` MTP modules
counted apart as a draft model."""

from __future__ import annotations

from ..fields import Fields
from .common import base_fields, no_windows

FAMILY = "glm4_moe"
ARCHITECTURES = ("Glm4MoeForCausalLM",)
MODEL_TYPES = ("glm4_moe",)


def parse(text: dict, full: dict, path) -> dict:
    f = Fields(text, path)
    out = base_fields(f)
    L = out["num_layers"]
    first_dense = f.int("first_k_dense_replace", 0, minimum=0)
    moe = tuple(range(first_dense, L))
    moe_inter = f.int("moe_intermediate_size")
    out.update(no_windows())
    out.update(
        expert_intermediate_size=moe_inter,
        shared_intermediate_size=f.int("n_shared_experts", 0, minimum=0) * moe_inter,
        dense_intermediate_size=f.int("intermediate_size") if first_dense else 0,
        num_experts=f.int("n_routed_experts"),
        top_k=f.int("num_experts_per_tok"),
        moe_layers=moe,
        attention_qkv_bias=f.bool("attention_bias", False),
        qk_norm_params_per_layer=2 * out["head_dim"] if f.bool("use_qk_norm", False) else 0,
        router_score_bias=True,  # Glm4MoeTopkRouter always holds e_score_correction_bias
        mtp_layers=f.int("num_nextn_predict_layers", 0, minimum=0),
    )
    return out
