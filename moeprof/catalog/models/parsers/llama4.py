"""Llama 4 (`Llama4ForConditionalGeneration`, `llama4` / `llama4_text`): routed experts + one
shared expert of the same width, MoE every `interleave_moe_layer_step` layers (`moe_layers`),
chunked attention on RoPE layers (`no_rope_layers[i] == 1`), global attention on NoPE layers;
the vision encoder from `vision_config`."""

from __future__ import annotations

from ....errors import ConfigError
from ..fields import Fields
from .common import base_fields, no_windows

FAMILY = "llama4"
ARCHITECTURES = ("Llama4ForConditionalGeneration", "Llama4ForCausalLM")
MODEL_TYPES = ("llama4", "llama4_text")


def vision_params(vc: dict, text_hidden: int, path) -> int:
    """Vision encoder + pixel-shuffle adapter + projector (transformers modeling_llama4):
    unfold patch embedding (no bias), class + positional embedding, pre/post LayerNorm,
    ViT layers (q,k,v,o and fc1/fc2 with biases, two LayerNorms), adapter fc1 [I, P_in] and
    fc2 [P_out, P_out] without bias, projector [vision_output_dim, text hidden] without bias."""
    f = Fields(vc, path, "vision_config.")
    d, L, i = f.int("hidden_size"), f.int("num_hidden_layers"), f.int("intermediate_size")
    img, patch, ch = f.int("image_size"), f.int("patch_size"), f.int("num_channels", 3)
    p_in, p_out = f.int("projector_input_dim"), f.int("projector_output_dim")
    out_dim = f.int("vision_output_dim")
    n_pos = (img // patch) ** 2 + 1
    patch_embed = ch * patch * patch * d
    embeds = d + n_pos * d
    pre_post_ln = 2 * 2 * d
    layer = 4 * (d * d + d) + (d * i + i) + (i * d + d) + 2 * 2 * d
    adapter = i * p_in + p_out * p_out
    projector = out_dim * text_hidden
    return patch_embed + embeds + pre_post_ln + L * layer + adapter + projector


def parse(text: dict, full: dict, path) -> dict:
    f = Fields(text, path, "text_config." if "text_config" in full else "")
    out = base_fields(f)
    L = out["num_layers"]
    step = f.int("interleave_moe_layer_step", 1)
    moe = f.int_list("moe_layers")
    if moe is None:
        moe = list(range(step - 1, L, step))
    if any(not 0 <= m < L for m in moe):
        raise ConfigError(path, f.prefix + "moe_layers", f"layer index out of range 0..{L - 1}")
    no_rope = f.int_list("no_rope_layers", length=L) if text.get("no_rope_layers") else None
    if no_rope is None:
        interval = f.int("nope_layer_interval", 4)
        no_rope = [int((i + 1) % interval != 0) for i in range(L)]
    chunk = f.int("attention_chunk_size") if f.has("attention_chunk_size") else None
    # RoPE layers (no_rope_layers[i] == 1) use chunked attention when a chunk size is set.
    chunked = [i for i in range(L) if no_rope[i] == 1] if chunk else []
    inter = f.int("intermediate_size")
    vision = full.get("vision_config")
    out.update(no_windows())
    out.update(
        expert_intermediate_size=inter,
        shared_intermediate_size=inter,  # one shared expert of the routed expert's width
        dense_intermediate_size=f.int("intermediate_size_mlp", inter) if len(moe) < L else 0,
        num_experts=f.int("num_local_experts"),
        top_k=f.int("num_experts_per_tok", 1),
        moe_layers=tuple(sorted(moe)),
        chunked_layers=tuple(chunked),
        attention_chunk_size=chunk,
        vision_params=vision_params(vision, out["hidden_size"], path) if vision else 0,
    )
    return out
