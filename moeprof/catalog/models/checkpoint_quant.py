"""The released checkpoint's quantization, read from config.json `quantization_config`, as a
QuantRecipe named 'checkpoint' (the model's default recipe when the config has one).

Bytes per parameter (weights + their scales) by scheme:
    fp8 per-tensor                      1
    fp8 per-channel (fbgemm_fp8)        1 + 4 / H          (one fp32 scale per output row, K ~ H)
    fp8 block-wise [b0, b1]             1 + 4 / (b0 x b1)  (one fp32 scale per block)
    MXFP4 (gpt-oss)                     0.5 + 1 / 32       (one e8m0 byte per 32 values)
    NVFP4                               0.5 + 1 / 16       (one fp8 scale per 16 values)
    int4 / int8 with group g (GPTQ, AWQ, compressed-tensors)
                                        bits / 8 + 2 / g (+ bits / 8 / g zero points when asymmetric)
Which components a scheme quantizes: every linear layer (attention, routed experts, shared expert,
dense FFN, vision) unless the config leaves it out (`ignore`, `modules_to_not_convert`,
`ignored_layers`, `exclude_modules`); MXFP4 quantizes only the routed experts. Embeddings, norms and
the router never are (vLLM builds the router gate unquantized). A component some of whose layers are
left out gets the layer-weighted mean of the two byte rates.
GEMM dtype: fp8 weights with fp8 activations run fp8; 4-bit and 8-bit integer weights are
weight-only (dequantised to bf16): H100, H200 and MI300X have no native FP4 tensor cores.
"""

from __future__ import annotations

import re

from ...errors import ConfigError
from .quant import QuantRecipe
from .spec import COMPONENTS

LINEAR = ("attention", "routed_experts", "shared_expert", "dense_ffn", "vision")
IGNORE_KEYS = ("ignore", "modules_to_not_convert", "ignored_layers", "exclude_modules")


def component_of(module: str) -> tuple[str, ...]:
    """Model components a module name (or pattern) of a Hugging Face checkpoint covers."""
    m = module.lower()
    if "vision" in m or "multi_modal_projector" in m or "visual" in m:
        return ("vision",)
    if "embed_tokens" in m or m.endswith("wte"):
        return ("embeddings",)
    if "lm_head" in m:
        return ("lm_head",)
    if "shared_expert" in m:
        return ("shared_expert",)
    if "e_score_correction_bias" in m or "router" in m or re.search(r"(^|\.)gate$", m) or m.endswith(".gate.weight"):
        return ("router",)
    if "experts" in m:
        return ("routed_experts",)
    if "self_attn" in m or ".attn" in m or "attention" in m or m.endswith(("q_proj", "k_proj", "v_proj", "o_proj")):
        return ("attention",)
    if "feed_forward" in m or re.search(r"(^|\.)mlp($|\.)", m):
        return ("dense_ffn", "routed_experts", "shared_expert", "router")  # the whole FFN block of a layer
    if m in ("re:.*", "linear"):
        return LINEAR
    return ()


def _layer_index(module: str) -> int | None:
    hit = re.search(r"layers\.(\d+)\.", module + ".")
    return int(hit.group(1)) if hit else None


def ignored_fractions(ignore: list[str], model) -> dict[str, float]:
    """Fraction of each component's layers the ignore list leaves unquantized."""
    layers_of = {
        "attention": set(range(model.num_layers)),
        "routed_experts": set(model.moe_layers),
        "shared_expert": set(model.moe_layers) if model.shared_intermediate_size else set(),
        "router": set(model.moe_layers),
        "dense_ffn": set(range(model.num_layers)) - set(model.moe_layers),
    }
    whole: set[str] = set()
    per_layer: dict[str, set[int]] = {c: set() for c in layers_of}
    for name in ignore:
        comps = component_of(str(name))
        idx = _layer_index(str(name))
        for c in comps:
            if idx is None or c not in layers_of:
                whole.add(c)
            elif idx in layers_of[c]:
                per_layer[c].add(idx)
    out = {}
    for c in COMPONENTS:
        if c in whole:
            out[c] = 1.0
        elif c in layers_of and layers_of[c]:
            out[c] = len(per_layer[c]) / len(layers_of[c])
        else:
            out[c] = 0.0
    return out


def _int_bytes(bits: int, group: int | None, hidden: int, symmetric: bool) -> float:
    g = group if group and group > 0 else hidden  # per-channel: one scale per output row
    return bits / 8 + 2 / g + (0 if symmetric else bits / 8 / g)


def _scheme(q: dict, model, path) -> tuple[str, float, str, tuple[str, ...]]:
    """(label, bytes/param, gemm dtype, components the scheme targets) of a quantization_config."""
    method = str(q.get("quant_method") or "").lower()
    h = model.hidden_size
    if method == "fp8":
        block = q.get("weight_block_size")
        if block:
            if not (isinstance(block, list) and len(block) == 2 and all(isinstance(b, int) and b > 0 for b in block)):
                raise ConfigError(path, "quantization_config.weight_block_size", f"expected two positive integers, got {block!r}")
            return f"fp8 block-wise {block[0]}x{block[1]}", 1 + 4 / (block[0] * block[1]), "fp8", LINEAR
        return "fp8 per-tensor", 1.0, "fp8", LINEAR
    if method == "fbgemm_fp8":
        return "fp8 per-channel (fbgemm)", 1 + 4 / h, "fp8", LINEAR
    if method == "mxfp4":
        return "MXFP4", 0.5 + 1 / 32, "bf16", ("routed_experts",)
    if method in ("gptq", "awq"):
        bits = int(q.get("bits") or q.get("w_bit") or 4)
        group = q.get("group_size", q.get("q_group_size", 128))
        sym = bool(q.get("sym", method == "gptq")) and method != "awq"
        return f"{method} int{bits} group {group}", _int_bytes(bits, group, h, sym), "bf16", LINEAR
    if method == "modelopt":
        algo = str(q.get("quant_algo") or "").upper()
        if algo.startswith("NVFP4"):
            return "NVFP4", 0.5 + 1 / 16, "bf16", LINEAR
        if algo.startswith("FP8"):
            return "fp8 per-tensor (modelopt)", 1.0, "fp8", LINEAR
        raise ConfigError(path, "quantization_config.quant_algo", f"unsupported modelopt algorithm {algo!r} (supported: FP8, NVFP4)")
    if method == "compressed-tensors":
        return _compressed_tensors(q, model, path)
    raise ConfigError(
        path, "quantization_config.quant_method",
        f"unsupported {method!r} (supported: fp8, fbgemm_fp8, mxfp4, gptq, awq, modelopt, compressed-tensors)",
    )


def _compressed_tensors(q: dict, model, path) -> tuple[str, float, str, tuple[str, ...]]:
    groups = q.get("config_groups") or {}
    if not isinstance(groups, dict) or not groups:
        raise ConfigError(path, "quantization_config.config_groups", "missing")
    # One scheme per checkpoint is modelled: the first group's weights; its targets name the components.
    g = next(iter(groups.values()))
    w = g.get("weights") or {}
    bits, kind = int(w.get("num_bits", 8)), str(w.get("type", "int"))
    strategy, group = str(w.get("strategy", "tensor")), w.get("group_size")
    targets: set[str] = set()
    for t in g.get("targets") or ["Linear"]:
        targets.update(LINEAR if str(t) == "Linear" else component_of(str(t).removeprefix("re:")))
    comps = tuple(c for c in LINEAR if c in targets)
    acts = g.get("input_activations") or {}
    if kind == "float" and bits == 8:
        if strategy == "block":
            b = w.get("block_structure") or [128, 128]
            per = 1 + 4 / (b[0] * b[1])
        elif strategy == "channel":
            per = 1 + 4 / model.hidden_size
        else:
            per = 1.0
        dtype = "fp8" if acts and int(acts.get("num_bits", 16)) == 8 else "bf16"
        return f"fp8 {strategy} (compressed-tensors)", per, dtype, comps
    if kind == "float" and bits == 4:
        return "NVFP4 (compressed-tensors)", 0.5 + 1 / int(group or 16), "bf16", comps
    if kind == "int":
        sym = bool(w.get("symmetric", True))
        return f"int{bits} group {group} (compressed-tensors)", _int_bytes(bits, group, model.hidden_size, sym), "bf16", comps
    raise ConfigError(path, "quantization_config.config_groups", f"unsupported weights {w!r}")


def kv_dtype_hint(q: dict | None) -> str:
    """'fp8' when the checkpoint ships an 8-bit float KV-cache scheme (`kv_cache_scheme`), else 'bf16'."""
    kv = (q or {}).get("kv_cache_scheme") or {}
    return "fp8" if kv and int(kv.get("num_bits", 16)) == 8 and kv.get("type", "float") == "float" else "bf16"


def checkpoint_recipe(q: dict, model, source: str, path) -> QuantRecipe:
    """The recipe of a config's `quantization_config` for `model` (a ModelSpec)."""
    if not isinstance(q, dict):
        raise ConfigError(path, "quantization_config", "expected a JSON object")
    label, per, dtype, targeted = _scheme(q, model, path)
    ignore: list[str] = []
    for k in IGNORE_KEYS:
        v = q.get(k)
        if isinstance(v, list):
            ignore += [str(x) for x in v]
    kept = ignored_fractions(ignore, model)
    wb, gd = {}, {}
    for c in COMPONENTS:
        if c in targeted:
            f = kept[c]
            wb[c] = f * 2.0 + (1 - f) * per
            gd[c] = dtype if f < 0.5 else "bf16"
        else:
            wb[c], gd[c] = 2.0, "bf16"
    quantized = [c for c in targeted if kept[c] < 1.0 and model.params_by_component[c]]
    return QuantRecipe(
        name="checkpoint",
        description=f"as released: {label} on {', '.join(quantized) or 'nothing'}; the rest bf16",
        weight_bytes_per_param=wb,
        gemm_dtype=gd,
        sources=(f"{source} config.json quantization_config",),
        quality_rank=0,
        quality_note="the released weights",
        block_scaled=tuple(c for c in COMPONENTS if gd[c] == "fp8") if label.startswith("fp8 block-wise") else (),
        format=format_name(label),
    )


def format_name(label: str) -> str:
    """A checkpoint format as printed: 'MXFP4' -> 'mxfp4', 'fp8 block-wise 128x128' -> 'fp8 block 128x128'."""
    return label.replace("block-wise", "block").lower()
