"""Dense Llama 2 / 3 (`LlamaForCausalLM`, `llama`): every layer a SwiGLU FFN of
`intermediate_size`, grouped-query attention, no experts. Used for the dense serving runs the
performance model is calibrated on (Llama 3.3 70B, Llama 3.1 405B); the planner's MoE options
(expert parallelism, routing) do not apply to it."""

from __future__ import annotations

from ..fields import Fields
from .common import base_fields, layer_types_windows

FAMILY = "llama"
ARCHITECTURES = ("LlamaForCausalLM",)
MODEL_TYPES = ("llama",)


def parse(text: dict, full: dict, path) -> dict:
    f = Fields(text, path)
    out = base_fields(f)
    L = out["num_layers"]
    out.update(layer_types_windows(f, L))
    inter = f.int("intermediate_size")
    out.update(
        expert_intermediate_size=inter,  # no experts: the width the spec's checks divide by TP
        shared_intermediate_size=0,
        dense_intermediate_size=inter,
        num_experts=1,
        top_k=1,
        moe_layers=(),
    )
    return out
