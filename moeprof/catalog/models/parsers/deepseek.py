"""DeepSeek V2 / V3 / R1 and Kimi-K2 (`DeepseekV2ForCausalLM`, `DeepseekV3ForCausalLM`;
model_type `deepseek_v2`, `deepseek_v3`, `kimi_k2`): multi-head latent attention (MLA),
`first_k_dense_replace` dense layers then MoE every `moe_layer_freq`, `n_routed_experts` +
`n_shared_experts` of `moe_intermediate_size`; noaux_tc routing adds `e_score_correction_bias`
(one per expert); `num_nextn_predict_layers` MTP modules counted apart as a draft model."""

from __future__ import annotations

from ..fields import Fields
from .common import no_windows

FAMILY = "deepseek"
ARCHITECTURES = ("DeepseekV2ForCausalLM", "DeepseekV3ForCausalLM")
MODEL_TYPES = ("deepseek_v2", "deepseek_v3", "kimi_k2")


def parse(text: dict, full: dict, path) -> dict:
    f = Fields(text, path)
    L, hidden, heads = f.int("num_hidden_layers"), f.int("hidden_size"), f.int("num_attention_heads")
    first_dense = f.int("first_k_dense_replace", 0, minimum=0)
    freq = f.int("moe_layer_freq", 1)
    moe = [i for i in range(L) if i >= first_dense and i % freq == 0]
    n_shared = f.int("n_shared_experts", 0, minimum=0)
    moe_inter = f.int("moe_intermediate_size")
    out = no_windows()
    out.update(
        family=str(text.get("model_type") or "deepseek_v3"),
        hidden_size=hidden,
        num_layers=L,
        num_heads=heads,
        num_kv_heads=heads,
        head_dim=f.int("v_head_dim"),
        vocab_size=f.int("vocab_size"),
        expert_intermediate_size=moe_inter,
        shared_intermediate_size=n_shared * moe_inter,
        dense_intermediate_size=f.int("intermediate_size"),
        num_experts=f.int("n_routed_experts"),
        top_k=f.int("num_experts_per_tok"),
        moe_layers=tuple(moe),
        max_position_embeddings=f.int("max_position_embeddings"),
        tie_word_embeddings=f.bool("tie_word_embeddings", False),
        mla_q_lora_rank=f.int("q_lora_rank", 0, minimum=0),
        mla_kv_lora_rank=f.int("kv_lora_rank"),
        mla_qk_nope_head_dim=f.int("qk_nope_head_dim"),
        mla_qk_rope_head_dim=f.int("qk_rope_head_dim"),
        mla_v_head_dim=f.int("v_head_dim"),
        router_score_bias=text.get("topk_method") == "noaux_tc",
        mtp_layers=f.int("num_nextn_predict_layers", 0, minimum=0),
    )
    return out
