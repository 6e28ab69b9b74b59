"""gpt-oss (`GptOssForCausalLM`, `gpt_oss`): alternating sliding-window (`sliding_window`, 128)
and full attention from `layer_types`, attention sinks (one learned scalar per head), biases on
q/k/v/o and on every expert's projections, a router with bias; every layer MoE over
`num_local_experts` of width `intermediate_size`."""

from __future__ import annotations

from ..fields import Fields
from .common import base_fields, layer_types_windows

FAMILY = "gpt_oss"
ARCHITECTURES = ("GptOssForCausalLM",)
MODEL_TYPES = ("gpt_oss",)


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
        top_k=f.first_int(("num_experts_per_tok", "experts_per_token")),
        moe_layers=tuple(range(L)),
        attention_qkv_bias=f.bool("attention_bias", True),
        attention_o_bias=f.bool("attention_bias", True),
        attention_sinks=True,
        expert_bias=True,
        router_bias=True,
    )
    return out
