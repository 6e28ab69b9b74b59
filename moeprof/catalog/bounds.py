"""Bounds on model, GPU and VM specs, checked once when a spec is loaded.

Each bound is what real hardware or a real model can be, with room to spare; the error names
the file, the field and the reason, so an impossible config (top-k 16 of 8 experts, 10^9
layers, a GPU of 1e-300 FLOP/s) stops at load instead of producing nonsense or unbounded work.
"""

from __future__ import annotations

from ..errors import ConfigError
from ..inputs import require_ident, require_int, require_model_id, require_number, require_object

# ---- models --------------------------------------------------------------------------------
# config.json field -> (upper bound, reason). Checked on the raw config before any loop over
# layers runs, so 10^9 layers never allocates anything.
MODEL_SIZE_BOUNDS = {
    "num_hidden_layers": (1024, "the deepest published LLMs have under 200 layers"),
    "hidden_size": (65536, "the widest published LLMs are under 32k"),
    "num_attention_heads": (1024, "published LLMs have at most 128 heads"),
    "num_key_value_heads": (1024, "at most the number of attention heads"),
    "head_dim": (1024, "published head sizes are 64 to 256"),
    "vocab_size": (4 * 2**20, "published vocabularies are under 300k tokens"),
    "intermediate_size": (262144, "published FFN widths are under 64k"),
    "intermediate_size_mlp": (262144, "published FFN widths are under 64k"),
    "moe_intermediate_size": (262144, "published expert widths are under 64k"),
    "num_local_experts": (4096, "published MoE models have at most a few hundred experts"),
    "n_routed_experts": (4096, "published MoE models have at most a few hundred experts"),
    "num_experts": (4096, "published MoE models have at most a few hundred experts"),
    "num_experts_per_tok": (4096, "at most the number of experts"),
    "n_shared_experts": (64, "published MoE models have at most a few shared experts"),
    "max_position_embeddings": (2**27, "128M tokens, far past any published context window"),
    "attention_chunk_size": (2**27, "at most a context window"),
    "sliding_window": (2**27, "at most a context window"),
    "interleave_moe_layer_step": (1024, "at most the number of layers"),
    "moe_layer_freq": (1024, "at most the number of layers"),
    "decoder_sparse_step": (1024, "at most the number of layers"),
    "first_k_dense_replace": (1024, "at most the number of layers"),
    "nope_layer_interval": (1024, "at most the number of layers"),
    "q_lora_rank": (65536, "at most the hidden size"),
    "kv_lora_rank": (65536, "at most the hidden size"),
    "qk_nope_head_dim": (1024, "published head sizes are 64 to 256"),
    "qk_rope_head_dim": (1024, "published head sizes are 64 to 256"),
    "v_head_dim": (1024, "published head sizes are 64 to 256"),
}
VISION_SIZE_BOUNDS = {
    "hidden_size": (65536, "published vision encoders are under 8k wide"),
    "num_hidden_layers": (1024, "published vision encoders have under 100 layers"),
    "intermediate_size": (262144, "published vision encoders are under 32k wide"),
    "image_size": (65536, "pixels per side"),
    "patch_size": (65536, "at most the image size"),
    "num_channels": (64, "images have 1 to 4 channels"),
    "projector_input_dim": (262144, "published projectors are under 64k wide"),
    "projector_output_dim": (262144, "published projectors are under 64k wide"),
    "vision_output_dim": (262144, "published projectors are under 64k wide"),
}
_LIST_FIELDS = {"moe_layers", "no_rope_layers", "mlp_only_layers"}


def _check_sizes(d: dict, bounds: dict, path, prefix: str) -> None:
    for key, (hi, why) in bounds.items():
        v = d.get(key)
        if v is None or isinstance(v, bool) or not isinstance(v, int):
            continue  # missing or mistyped: the parser names it
        require_int(v, path, prefix + key, 0, hi, why)
    for key in _LIST_FIELDS:
        v = d.get(key)
        if isinstance(v, list) and len(v) > 1024:
            raise ConfigError(path, prefix + key, f"{len(v):,} entries, at most 1,024 (one per layer)")


def check_config_sizes(cfg: dict, path) -> None:
    """Bound the sizes in a raw config.json before it is parsed (the parser loops over layers)."""
    text = cfg.get("text_config", cfg)
    if isinstance(text, dict):
        _check_sizes(text, MODEL_SIZE_BOUNDS, path, "text_config." if text is not cfg else "")
    vision = cfg.get("vision_config")
    if isinstance(vision, dict):
        _check_sizes(vision, VISION_SIZE_BOUNDS, path, "vision_config.")


def model_meta(cfg: dict, path) -> dict:
    """The `_moeprof` block of a config: an object whose names are identifiers (no control or
    line-break characters, at most 200 characters) and whose numbers are numbers."""
    meta = cfg.get("_moeprof")
    if meta is None:
        return {}
    require_object(meta, path, "_moeprof")
    for key in ("name", "hf_id", "default_quant"):
        if meta.get(key) is not None:
            require_ident(meta[key], path, f"_moeprof.{key}")
    if meta.get("hf_id") is not None:
        require_model_id(meta["hf_id"], path, "_moeprof.hf_id")
    for key in ("card_total_params", "card_active_params"):
        if meta.get(key) is not None:
            require_number(meta[key], path, f"_moeprof.{key}", 0, 1e15, "a quadrillion parameters", lo_open=True)
    for key in ("estimated_fields", "sources"):
        v = meta.get(key)
        if v is not None and (not isinstance(v, list) or not all(isinstance(x, str) and len(x) <= 2000 for x in v)):
            raise ConfigError(path, f"_moeprof.{key}", "expected a list of strings (at most 2,000 characters each)")
    if meta.get("estimate_method") is not None and not isinstance(meta["estimate_method"], str):
        raise ConfigError(path, "_moeprof.estimate_method", "expected a string")
    if meta.get("default_quant") is not None:
        from .models.quant import load_recipes

        if meta["default_quant"] not in load_recipes():
            raise ConfigError(path, "_moeprof.default_quant", f"unknown quantization recipe (known: {', '.join(load_recipes())})")
    return meta


def check_model(spec, path) -> None:
    """Relations between a parsed model's sizes (each size is already bounded)."""
    if spec.top_k > spec.num_experts:
        raise ConfigError(path, "num_experts_per_tok", f"top-k {spec.top_k} of {spec.num_experts} experts: a token cannot use more experts than exist")
    if spec.num_kv_heads > spec.num_heads:
        raise ConfigError(path, "num_key_value_heads",
                          f"{spec.num_kv_heads} KV heads for {spec.num_heads} attention heads: at most one KV head per attention head")
    if spec.num_heads % spec.num_kv_heads:
        raise ConfigError(path, "num_key_value_heads",
                          f"{spec.num_kv_heads} KV heads do not divide {spec.num_heads} attention heads: grouped-query attention needs equal groups")
    if spec.num_heads > spec.hidden_size:
        raise ConfigError(path, "num_attention_heads", f"{spec.num_heads} heads for a hidden size of {spec.hidden_size}: a head needs at least one dimension")
    if spec.vision_params > 10**13:
        raise ConfigError(path, "vision_config", f"{spec.vision_params:.3g} vision parameters (at most 1e13)")
    require_ident(spec.name, path, "_moeprof.name")


# ---- hardware ------------------------------------------------------------------------------
# GPU field -> (low, high, reason): today's GPUs sit well inside each range.
GPU_BOUNDS = {
    "memory_bytes": (2**30, 2**42, "1 GiB to 4 TiB of device memory"),
    "usable_memory_bytes": (2**30, 2**42, "1 GiB to 4 TiB of device memory"),
    "hbm_bytes_per_s": (1e9, 1e15, "1 GB/s to 1 PB/s of memory bandwidth"),
    "bf16_flop_per_s": (1e12, 1e18, "1 TFLOP/s to 1 EFLOP/s"),
    "fp8_flop_per_s": (1e12, 1e18, "1 TFLOP/s to 1 EFLOP/s"),
    "tdp_w": (1, 1e5, "1 W to 100 kW per GPU"),
    "scale_up_bytes_per_s": (1e6, 1e15, "1 MB/s to 1 PB/s per GPU"),
}
VM_BOUNDS = {
    "gpus_per_vm": (1, 16, "the largest GPU VMs have 8 GPUs"),
    "vcpus": (1, 4096, "the largest VMs have under 1,000 vCPUs"),
    "ram_bytes": (2**30, 2**46, "1 GiB to 64 TiB of host memory"),
    "scale_out_bytes_per_s_per_gpu": (1e6, 1e15, "1 MB/s to 1 PB/s per GPU"),
}
MAX_USD_PER_HOUR = 1e6  # a VM price above a million dollars an hour is a typo
MAX_CURVE_POINTS = 1000


def check_gpu_value(field: str, value, path, where: str) -> None:
    if field in GPU_BOUNDS:
        lo, hi, why = GPU_BOUNDS[field]
        require_number(value, path, f"{where}.{field}", lo, hi, why)


def check_vm_value(field: str, value, path, where: str) -> None:
    if field in VM_BOUNDS:
        lo, hi, why = VM_BOUNDS[field]
        require_number(value, path, f"{where}.{field}", lo, hi, why)


def check_price(usd, path, field: str) -> float:
    return require_number(usd, path, field, 0, MAX_USD_PER_HOUR, "a million dollars an hour at most", lo_open=True)


def check_curve(curve, path, field: str):
    """An all-reduce curve {"x": message bytes, "y": bus bytes/s, "source"}: positive finite
    numbers, x strictly increasing, at most MAX_CURVE_POINTS points."""
    if curve is None:
        return None
    require_object(curve, path, field)
    xs, ys = curve.get("x"), curve.get("y")
    if not isinstance(xs, list) or not isinstance(ys, list) or not xs or len(xs) != len(ys) or len(xs) > MAX_CURVE_POINTS:
        raise ConfigError(path, field, f"x and y must be non-empty lists of equal length (at most {MAX_CURVE_POINTS} points)")
    for i, (x, y) in enumerate(zip(xs, ys)):
        require_number(x, path, f"{field}.x[{i}]", 0, 2**50, "message bytes", lo_open=True)
        require_number(y, path, f"{field}.y[{i}]", 0, 1e15, "bus bytes/s per GPU", lo_open=True)
    if any(b <= a for a, b in zip(xs, xs[1:])):
        raise ConfigError(path, f"{field}.x", "must be strictly increasing")
    return curve


def check_key(key, path) -> str:
    """A catalog key (GPU or VM SKU): an identifier, compared case-insensitively (stored lower case)."""
    return require_ident(key, path, str(key)[:60] if isinstance(key, str) else "<key>").lower()
