"""DBRX (`DbrxForCausalLM`, `dbrx`): fields nest under `attn_config` and `ffn_config`; every layer
MoE over `moe_num_experts` of width `ffn_hidden_size`, top `moe_top_k`; LayerNorm without bias."""

from __future__ import annotations

from ..fields import Fields
from .common import no_windows

FAMILY = "dbrx"
ARCHITECTURES = ("DbrxForCausalLM",)
MODEL_TYPES = ("dbrx",)


def parse(text: dict, full: dict, path) -> dict:
    f = Fields(text, path)
    attn, ffn = f.sub("attn_config"), f.sub("ffn_config")
    hidden, heads, L = f.int("d_model"), f.int("n_heads"), f.int("n_layers")
    out = no_windows()
    out.update(
        hidden_size=hidden,
        num_layers=L,
        num_heads=heads,
        num_kv_heads=attn.int("kv_n_heads", heads),
        head_dim=hidden // heads,
        vocab_size=f.int("vocab_size"),
        max_position_embeddings=f.int("max_seq_len"),
        tie_word_embeddings=f.bool("tie_word_embeddings", False),
        expert_intermediate_size=ffn.int("ffn_hidden_size"),
        shared_intermediate_size=0,
        dense_intermediate_size=0,
        num_experts=ffn.int("moe_num_experts"),
        top_k=ffn.int("moe_top_k"),
        moe_layers=tuple(range(L)),
    )
    return out
