"""Fields every decoder-only layout shares (names as in Hugging Face configs)."""

from __future__ import annotations

from ..fields import Fields


def base_fields(f: Fields) -> dict:
    """hidden, layers, heads, KV heads, head dim, vocab, context and embedding tying."""
    layers, hidden, heads = f.int("num_hidden_layers"), f.int("hidden_size"), f.int("num_attention_heads")
    return dict(
        hidden_size=hidden,
        num_layers=layers,
        num_heads=heads,
        num_kv_heads=f.int("num_key_value_heads", heads),
        head_dim=f.int("head_dim", hidden // heads),
        vocab_size=f.int("vocab_size"),
        max_position_embeddings=f.int("max_position_embeddings"),
        tie_word_embeddings=f.bool("tie_word_embeddings", False),
    )


def no_windows() -> dict:
    return dict(chunked_layers=(), attention_chunk_size=None, sliding_layers=(), sliding_window=None)


def layer_types_windows(f: Fields, L: int) -> dict:
    """Sliding-window layers from `layer_types` ('sliding_attention' | 'full_attention'); without
    `layer_types`, every layer slides when `sliding_window` is set."""
    window = f.int("sliding_window") if f.has("sliding_window") else None
    types = f.str_list("layer_types", length=L)
    if types is not None:
        bad = sorted(set(types) - {"sliding_attention", "full_attention"})
        if bad:
            raise f.error("layer_types", f"unknown layer types {bad}")
        sliding = [i for i, t in enumerate(types) if t == "sliding_attention"]
        if sliding and window is None:
            raise f.error("sliding_window", "missing (layer_types names sliding_attention layers)")
    else:
        sliding = list(range(L)) if window else []
    out = no_windows()
    out.update(sliding_layers=tuple(sliding), sliding_window=window if sliding else None)
    return out
