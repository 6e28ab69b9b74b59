"""Mixtral (`MixtralForCausalLM`, `mixtral`): every layer MoE over `num_local_experts`, top-k,
no shared expert; sliding-window attention on every layer when `sliding_window` is set."""

from __future__ import annotations

from ..fields import Fields
from .common import base_fields, layer_types_windows

FAMILY = "mixtral"
ARCHITECTURES = ("MixtralForCausalLM",)
MODEL_TYPES = ("mixtral",)


def parse(text: dict, full: dict, path) -> dict:
    f = Fields(text, path)
    out = base_fields(f)
    L = out["num_layers"]
    out.update(layer_types_windows(f, L))
    out.update(
        expert_intermediate_size=f.int("intermediate_size"),
        shared_intermediate_size=0,
        dense_intermediate_size=0,
        num_experts=f.int("num_local_experts"),
        top_k=f.int("num_experts_per_tok"),
        moe_layers=tuple(range(L)),
    )
    return out
