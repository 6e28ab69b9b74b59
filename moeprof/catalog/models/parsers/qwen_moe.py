"""Qwen2-MoE and Qwen3-MoE (`qwen2_moe`, `qwen3_moe`): `num_experts` of `moe_intermediate_size`,
MoE on layers with (i + 1) % `decoder_sparse_step` == 0 outside `mlp_only_layers`.
Qwen2-MoE: q/k/v biases and a shared expert (`shared_expert_intermediate_size`) behind a
sigmoid gate [H -> 1]. Qwen3-MoE: no biases, RMSNorm over head_dim on q and k."""

from __future__ import annotations

from ..fields import Fields
from .common import base_fields, no_windows

FAMILY = "qwen_moe"
ARCHITECTURES = ("Qwen2MoeForCausalLM", "Qwen3MoeForCausalLM")
MODEL_TYPES = ("qwen2_moe", "qwen3_moe")


def parse(text: dict, full: dict, path) -> dict:
    f = Fields(text, path)
    out = base_fields(f)
    L = out["num_layers"]
    qwen3 = str(text.get("model_type")) == "qwen3_moe" or "Qwen3MoeForCausalLM" in (full.get("architectures") or [])
    step = f.int("decoder_sparse_step", 1)
    mlp_only = set(f.int_list("mlp_only_layers") or [])
    n_exp = f.int("num_experts")
    moe = [i for i in range(L) if i not in mlp_only and (i + 1) % step == 0]
    out.update(no_windows())
    if f.bool("use_sliding_window", False) and f.has("sliding_window"):
        # max_window_layers: the first that many layers use full attention (transformers Qwen2).
        first_sliding = f.int("max_window_layers", L, minimum=0)
        sliding = tuple(range(first_sliding, L))
        out.update(sliding_layers=sliding, sliding_window=f.int("sliding_window") if sliding else None)
    shared = 0 if qwen3 else f.int("shared_expert_intermediate_size", 0, minimum=0)
    out.update(
        family="qwen3_moe" if qwen3 else "qwen2_moe",
        expert_intermediate_size=f.int("moe_intermediate_size"),
        shared_intermediate_size=shared,
        shared_expert_gate=bool(shared),
        dense_intermediate_size=f.int("intermediate_size") if len(moe) < L else 0,
        num_experts=n_exp,
        top_k=f.int("num_experts_per_tok"),
        moe_layers=tuple(moe),
        attention_qkv_bias=not qwen3,
        qk_norm_params_per_layer=2 * out["head_dim"] if qwen3 else 0,  # q_norm and k_norm over head_dim
    )
    return out
