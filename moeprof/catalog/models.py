"""Model catalog: ModelSpec, built from a Hugging Face config.json.

Supported layouts (the `text_config` of multimodal configs is used for the language model):
- Llama 4 (`llama4`, `llama4_text`): routed experts + shared expert, MoE every
  `interleave_moe_layer_step` layers (`moe_layers`), chunked attention on RoPE layers
  (`no_rope_layers[i] == 1`), global attention on NoPE layers; vision encoder from `vision_config`.
- Mixtral (`mixtral`): every layer MoE, `num_local_experts`, top-k, no shared expert.
- DeepSeek-V3 (`deepseek_v3`): multi-head latent attention (MLA), `first_k_dense_replace` dense
  layers then MoE every `moe_layer_freq`, `n_routed_experts` + `n_shared_experts`.
- Qwen3-MoE (`qwen3_moe`): `num_experts`, `moe_intermediate_size`, `decoder_sparse_step`,
  `mlp_only_layers`, q/k norms.

Parameter counts are exact formulas over the config (no biases in these text models); the
vision encoder of Llama 4 is counted by the formula in `_llama4_vision_params`.
Shape legend: H hidden, V vocab, E routed experts, I expert width, L layers, hd head dim.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path

from ..errors import ConfigError, MoeprofError, UnknownNameError, one_line
from ..inputs import read_json_file
from . import bounds

COMPONENTS = (
    "embeddings",
    "lm_head",
    "attention",
    "norms",
    "router",
    "routed_experts",
    "shared_expert",
    "dense_ffn",
    "vision",
)


@dataclass(frozen=True)
class LayerKind:
    """A class of identical decoder layers: attention 'global' | 'chunked', ffn 'moe' | 'dense'."""

    attention: str
    ffn: str
    count: int

    @property
    def key(self) -> str:
        return f"{self.attention}-{self.ffn}"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str  # llama4 | mixtral | deepseek_v3 | qwen3_moe
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    vocab_size: int
    expert_intermediate_size: int  # width of one routed expert (SwiGLU)
    shared_intermediate_size: int  # total width of the shared expert(s); 0 if none
    dense_intermediate_size: int  # width of the dense FFN layers; 0 if none
    num_experts: int
    top_k: int
    moe_layers: tuple[int, ...]
    chunked_layers: tuple[int, ...]  # layers whose attention is limited to attention_chunk_size
    attention_chunk_size: int | None
    max_position_embeddings: int
    tie_word_embeddings: bool = False
    qk_norm_params_per_layer: int = 0
    # Multi-head latent attention (DeepSeek); 0 means standard GQA.
    mla_q_lora_rank: int = 0
    mla_kv_lora_rank: int = 0
    mla_qk_nope_head_dim: int = 0
    mla_qk_rope_head_dim: int = 0
    mla_v_head_dim: int = 0
    vision_params: int = 0
    hf_id: str | None = None
    card_total_params: float | None = None
    card_active_params: float | None = None
    estimated_fields: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    default_quant: str = "bf16"
    source_path: str = ""
    notes: tuple[str, ...] = field(default=())

    # ---- layer structure -------------------------------------------------------------
    @property
    def is_mla(self) -> bool:
        return self.mla_kv_lora_rank > 0

    @property
    def num_moe_layers(self) -> int:
        return len(self.moe_layers)

    @property
    def num_dense_layers(self) -> int:
        return self.num_layers - self.num_moe_layers

    @property
    def num_chunked_layers(self) -> int:
        return len(self.chunked_layers)

    @property
    def num_global_layers(self) -> int:
        return self.num_layers - self.num_chunked_layers

    @property
    def interleave_moe_layer_step(self) -> int:
        if len(self.moe_layers) < 2:
            return 1
        return self.moe_layers[1] - self.moe_layers[0]

    def layer_kinds(self) -> list[LayerKind]:
        """Distinct (attention, ffn) layer classes with their counts, in a stable order."""
        moe, chunked = set(self.moe_layers), set(self.chunked_layers)
        counts: dict[tuple[str, str], int] = {}
        for i in range(self.num_layers):
            k = ("chunked" if i in chunked else "global", "moe" if i in moe else "dense")
            counts[k] = counts.get(k, 0) + 1
        order = [("global", "moe"), ("chunked", "moe"), ("global", "dense"), ("chunked", "dense")]
        return [LayerKind(a, f, counts[(a, f)]) for a, f in order if (a, f) in counts]

    # ---- parameters ------------------------------------------------------------------
    @property
    def attention_params_per_layer(self) -> int:
        h = self.hidden_size
        if self.is_mla:
            qk_head = self.mla_qk_nope_head_dim + self.mla_qk_rope_head_dim
            if self.mla_q_lora_rank:
                q = h * self.mla_q_lora_rank + self.mla_q_lora_rank * self.num_heads * qk_head
                q += self.mla_q_lora_rank  # q_a_layernorm
            else:
                q = h * self.num_heads * qk_head
            kv_a = h * (self.mla_kv_lora_rank + self.mla_qk_rope_head_dim) + self.mla_kv_lora_rank
            kv_b = self.mla_kv_lora_rank * self.num_heads * (
                self.mla_qk_nope_head_dim + self.mla_v_head_dim
            )
            o = self.num_heads * self.mla_v_head_dim * h
            return q + kv_a + kv_b + o
        q = h * self.num_heads * self.head_dim
        kv = 2 * h * self.num_kv_heads * self.head_dim
        o = self.num_heads * self.head_dim * h
        return q + kv + o

    @property
    def expert_params(self) -> int:
        """One routed expert: gate, up [H, I] and down [I, H]."""
        return 3 * self.hidden_size * self.expert_intermediate_size

    @property
    def shared_expert_params_per_layer(self) -> int:
        return 3 * self.hidden_size * self.shared_intermediate_size

    @property
    def dense_ffn_params_per_layer(self) -> int:
        return 3 * self.hidden_size * self.dense_intermediate_size

    @cached_property
    def params_by_component(self) -> dict[str, int]:
        h, L = self.hidden_size, self.num_layers
        return {
            "embeddings": self.vocab_size * h,
            "lm_head": 0 if self.tie_word_embeddings else self.vocab_size * h,
            "attention": L * self.attention_params_per_layer,
            "norms": L * (2 * h + self.qk_norm_params_per_layer) + h,
            "router": self.num_moe_layers * h * self.num_experts,
            "routed_experts": self.num_moe_layers * self.num_experts * self.expert_params,
            "shared_expert": self.num_moe_layers * self.shared_expert_params_per_layer,
            "dense_ffn": self.num_dense_layers * self.dense_ffn_params_per_layer,
            "vision": self.vision_params,
        }

    @cached_property
    def active_params_by_component(self) -> dict[str, int]:
        """Parameters used per text token: every non-expert weight + top_k of E routed experts.
        Embeddings and lm_head are counted (the convention of Meta's, Mistral's and DeepSeek's
        'active' figures); the vision encoder is not (it runs only on images)."""
        p = dict(self.params_by_component)
        p["routed_experts"] = self.num_moe_layers * self.top_k * self.expert_params
        p["vision"] = 0
        return p

    @property
    def total_params(self) -> int:
        return sum(self.params_by_component.values())

    @property
    def active_params(self) -> int:
        return sum(self.active_params_by_component.values())

    # ---- KV cache --------------------------------------------------------------------
    @property
    def kv_elements_per_token_per_layer(self) -> int:
        """K and V elements one token adds to one layer's cache (MLA: the compressed latent
        plus the decoupled RoPE key, as vLLM caches it)."""
        if self.is_mla:
            return self.mla_kv_lora_rank + self.mla_qk_rope_head_dim
        return 2 * self.num_kv_heads * self.head_dim

    def kv_bytes_per_token(self, kv_bytes_per_element: float) -> dict[str, float]:
        """KV bytes per token per layer kind, summed over that kind's layers (whole model, one copy)."""
        per_layer = self.kv_elements_per_token_per_layer * kv_bytes_per_element
        return {
            "global": self.num_global_layers * per_layer,
            "chunked": self.num_chunked_layers * per_layer,
        }

    def kv_bytes_for_context(self, context_tokens: int, kv_bytes_per_element: float) -> float:
        """KV bytes one sequence of `context_tokens` holds when the engine caps chunked layers at
        the chunk (the whole model, one copy)."""
        per = self.kv_bytes_per_token(kv_bytes_per_element)
        chunked_tokens = context_tokens
        if self.attention_chunk_size:
            chunked_tokens = min(context_tokens, self.attention_chunk_size)
        return per["global"] * context_tokens + per["chunked"] * chunked_tokens

    # ---- GEMM shapes (K, N) per token, for the performance model and probes ------------
    def gemm_shapes(self) -> dict[str, tuple[int, int]]:
        """Weight shapes [K, N] of the model's GEMMs (one token row is [1, K])."""
        h = self.hidden_size
        shapes = {
            "qkv_proj": (h, (self.num_heads + 2 * self.num_kv_heads) * self.head_dim),
            "o_proj": (self.num_heads * self.head_dim, h),
            "expert_gate_up": (h, 2 * self.expert_intermediate_size),
            "expert_down": (self.expert_intermediate_size, h),
            "lm_head": (h, self.vocab_size),
        }
        if self.shared_intermediate_size:
            shapes["shared_gate_up"] = (h, 2 * self.shared_intermediate_size)
            shapes["shared_down"] = (self.shared_intermediate_size, h)
        if self.dense_intermediate_size and self.num_dense_layers:
            shapes["dense_gate_up"] = (h, 2 * self.dense_intermediate_size)
            shapes["dense_down"] = (self.dense_intermediate_size, h)
        return shapes

    def summary(self) -> dict:
        return {
            "name": self.name,
            "family": self.family,
            "hf_id": self.hf_id,
            "total_params": self.total_params,
            "active_params": self.active_params,
            "params_by_component": dict(self.params_by_component),
            "active_params_by_component": dict(self.active_params_by_component),
            "card_total_params": self.card_total_params,
            "card_active_params": self.card_active_params,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "num_kv_heads": self.num_kv_heads,
            "head_dim": self.head_dim,
            "vocab_size": self.vocab_size,
            "num_experts": self.num_experts,
            "top_k": self.top_k,
            "expert_intermediate_size": self.expert_intermediate_size,
            "shared_intermediate_size": self.shared_intermediate_size,
            "dense_intermediate_size": self.dense_intermediate_size,
            "num_moe_layers": self.num_moe_layers,
            "interleave_moe_layer_step": self.interleave_moe_layer_step,
            "num_chunked_layers": self.num_chunked_layers,
            "num_global_layers": self.num_global_layers,
            "attention_chunk_size": self.attention_chunk_size,
            "attention": "mla" if self.is_mla else "gqa",
            "layer_kinds": [
                {"attention": k.attention, "ffn": k.ffn, "count": k.count} for k in self.layer_kinds()
            ],
            "kv_bytes_per_token_bf16": self.kv_bytes_per_token(2),
            "max_position_embeddings": self.max_position_embeddings,
            "default_quant": self.default_quant,
            "estimated_fields": list(self.estimated_fields),
            "sources": list(self.sources),
        }


# ---------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------
class _Fields:
    """Typed access to a config dict that names the file and field on error."""

    def __init__(self, d: dict, path, prefix: str = ""):
        self.d, self.path, self.prefix = d, path, prefix

    def _name(self, key):
        return f"{self.prefix}{key}"

    def int(self, key, default=None, minimum=1):
        if key not in self.d or self.d[key] is None:
            if default is None:
                raise ConfigError(self.path, self._name(key), "missing")
            return default
        v = self.d[key]
        if isinstance(v, bool) or not isinstance(v, int):
            raise ConfigError(self.path, self._name(key), f"expected an integer, got {v!r}")
        if v < minimum:
            raise ConfigError(self.path, self._name(key), f"must be >= {minimum}, got {v}")
        return v

    def bool(self, key, default=False):
        v = self.d.get(key, default)
        if v is None:
            return default
        if not isinstance(v, bool):
            raise ConfigError(self.path, self._name(key), f"expected true/false, got {v!r}")
        return v

    def int_list(self, key, length=None):
        v = self.d.get(key)
        if v is None:
            return None
        if not isinstance(v, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
            raise ConfigError(self.path, self._name(key), "expected a list of integers")
        if length is not None and len(v) != length:
            raise ConfigError(self.path, self._name(key), f"expected {length} entries, got {len(v)}")
        return v


def _llama4_vision_params(vc: dict, text_hidden: int, path) -> int:
    """Llama 4 vision encoder + pixel-shuffle adapter + projector (transformers modeling_llama4):
    unfold patch embedding (no bias), class + positional embedding, pre/post LayerNorm,
    ViT layers (q,k,v,o and fc1/fc2 with biases, two LayerNorms), adapter fc1 [I, P_in] and
    fc2 [P_out, P_out] without bias, projector [vision_output_dim, text hidden] without bias."""
    f = _Fields(vc, path, "vision_config.")
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


def _from_llama4(text: dict, full: dict, path) -> dict:
    f = _Fields(text, path, "text_config." if "text_config" in full else "")
    L = f.int("num_hidden_layers")
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
    chunk = text.get("attention_chunk_size")
    if chunk is not None:
        chunk = f.int("attention_chunk_size")
    # RoPE layers (no_rope_layers[i] == 1) use chunked attention when a chunk size is set.
    chunked = [i for i in range(L) if no_rope[i] == 1] if chunk else []
    hidden = f.int("hidden_size")
    heads = f.int("num_attention_heads")
    inter = f.int("intermediate_size")
    vision = full.get("vision_config")
    return dict(
        family="llama4",
        hidden_size=hidden,
        num_layers=L,
        num_heads=heads,
        num_kv_heads=f.int("num_key_value_heads", heads),
        head_dim=f.int("head_dim", hidden // heads),
        vocab_size=f.int("vocab_size"),
        expert_intermediate_size=inter,
        shared_intermediate_size=inter,  # one shared expert of the routed expert's width
        dense_intermediate_size=f.int("intermediate_size_mlp", inter) if len(moe) < L else 0,
        num_experts=f.int("num_local_experts"),
        top_k=f.int("num_experts_per_tok", 1),
        moe_layers=tuple(sorted(moe)),
        chunked_layers=tuple(chunked),
        attention_chunk_size=chunk,
        max_position_embeddings=f.int("max_position_embeddings"),
        tie_word_embeddings=f.bool("tie_word_embeddings", False),
        vision_params=_llama4_vision_params(vision, hidden, path) if vision else 0,
    )


def _from_mixtral(text: dict, path) -> dict:
    f = _Fields(text, path)
    L, hidden, heads = f.int("num_hidden_layers"), f.int("hidden_size"), f.int("num_attention_heads")
    window = text.get("sliding_window")
    chunked = list(range(L)) if window else []
    return dict(
        family="mixtral",
        hidden_size=hidden,
        num_layers=L,
        num_heads=heads,
        num_kv_heads=f.int("num_key_value_heads", heads),
        head_dim=f.int("head_dim", hidden // heads),
        vocab_size=f.int("vocab_size"),
        expert_intermediate_size=f.int("intermediate_size"),
        shared_intermediate_size=0,
        dense_intermediate_size=0,
        num_experts=f.int("num_local_experts"),
        top_k=f.int("num_experts_per_tok"),
        moe_layers=tuple(range(L)),
        chunked_layers=tuple(chunked),
        attention_chunk_size=f.int("sliding_window") if window else None,
        max_position_embeddings=f.int("max_position_embeddings"),
        tie_word_embeddings=f.bool("tie_word_embeddings", False),
    )


def _from_deepseek_v3(text: dict, path) -> dict:
    f = _Fields(text, path)
    L, hidden, heads = f.int("num_hidden_layers"), f.int("hidden_size"), f.int("num_attention_heads")
    first_dense = f.int("first_k_dense_replace", 0, minimum=0)
    freq = f.int("moe_layer_freq", 1)
    moe = [i for i in range(L) if i >= first_dense and i % freq == 0]
    n_shared = f.int("n_shared_experts", 0, minimum=0)
    moe_inter = f.int("moe_intermediate_size")
    return dict(
        family="deepseek_v3",
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
        chunked_layers=(),
        attention_chunk_size=None,
        max_position_embeddings=f.int("max_position_embeddings"),
        tie_word_embeddings=f.bool("tie_word_embeddings", False),
        mla_q_lora_rank=f.int("q_lora_rank", 0, minimum=0),
        mla_kv_lora_rank=f.int("kv_lora_rank"),
        mla_qk_nope_head_dim=f.int("qk_nope_head_dim"),
        mla_qk_rope_head_dim=f.int("qk_rope_head_dim"),
        mla_v_head_dim=f.int("v_head_dim"),
        # kv_a_layernorm counted in attention; two RMSNorms per layer in norms.
    )


def _from_qwen3_moe(text: dict, path) -> dict:
    f = _Fields(text, path)
    L, hidden, heads = f.int("num_hidden_layers"), f.int("hidden_size"), f.int("num_attention_heads")
    step = f.int("decoder_sparse_step", 1)
    mlp_only = set(f.int_list("mlp_only_layers") or [])
    n_exp = f.int("num_experts")
    moe = [i for i in range(L) if i not in mlp_only and n_exp > 0 and (i + 1) % step == 0]
    head_dim = f.int("head_dim", hidden // heads)
    window = text.get("sliding_window") if text.get("use_sliding_window") else None
    return dict(
        family="qwen3_moe",
        hidden_size=hidden,
        num_layers=L,
        num_heads=heads,
        num_kv_heads=f.int("num_key_value_heads", heads),
        head_dim=head_dim,
        vocab_size=f.int("vocab_size"),
        expert_intermediate_size=f.int("moe_intermediate_size"),
        shared_intermediate_size=0,
        dense_intermediate_size=f.int("intermediate_size") if len(moe) < L else 0,
        num_experts=n_exp,
        top_k=f.int("num_experts_per_tok"),
        moe_layers=tuple(moe),
        chunked_layers=tuple(range(L)) if window else (),
        attention_chunk_size=window,
        max_position_embeddings=f.int("max_position_embeddings"),
        tie_word_embeddings=f.bool("tie_word_embeddings", False),
        qk_norm_params_per_layer=2 * head_dim,  # q_norm and k_norm over head_dim
    )


def from_hf_config(cfg: dict, name: str, path="<config>") -> ModelSpec:
    """Build a ModelSpec from a parsed Hugging Face config.json."""
    if not isinstance(cfg, dict):
        raise ConfigError(path, "<root>", "expected a JSON object")
    text = cfg.get("text_config", cfg)
    if not isinstance(text, dict):
        raise ConfigError(path, "text_config", "expected a JSON object")
    bounds.check_config_sizes(cfg, path)
    meta = bounds.model_meta(cfg, path)
    model_type = str(text.get("model_type") or cfg.get("model_type") or "")
    if model_type.startswith("llama4"):
        fields = _from_llama4(text, cfg, path)
    elif model_type == "mixtral":
        fields = _from_mixtral(text, path)
    elif model_type in ("deepseek_v3", "deepseek_v2"):
        fields = _from_deepseek_v3(text, path)
    elif model_type == "qwen3_moe":
        fields = _from_qwen3_moe(text, path)
    else:
        raise ConfigError(
            path,
            "model_type",
            f"unsupported model_type {model_type!r} "
            "(supported: llama4, llama4_text, mixtral, deepseek_v3, qwen3_moe)",
        )
    spec = ModelSpec(
        name=name,
        hf_id=meta.get("hf_id"),
        card_total_params=meta.get("card_total_params"),
        card_active_params=meta.get("card_active_params"),
        estimated_fields=tuple(meta.get("estimated_fields", ())),
        sources=tuple(meta.get("sources", ())),
        default_quant=meta.get("default_quant", "bf16"),
        source_path=str(path),
        notes=tuple(x for x in (meta.get("estimate_method"),) if x),
        **fields,
    )
    bounds.check_model(spec, path)
    return spec


# ---------------------------------------------------------------------------------------
# Catalog lookup
# ---------------------------------------------------------------------------------------
def _builtin_dir():
    return resources.files("moeprof") / "data" / "models"


def builtin_model_files() -> dict[str, object]:
    return {
        p.name[: -len(".json")]: p
        for p in _builtin_dir().iterdir()
        if p.name.endswith(".json") and not p.name.startswith("_")
    }


def _variants() -> dict[str, dict]:
    """Short names that are a built-in model plus a quantization recipe (e.g. maverick-fp8)."""
    out = {}
    for base, p in builtin_model_files().items():
        meta = json.loads(p.read_text()).get("_moeprof", {})
        for vname, v in (meta.get("variants") or {}).items():
            out[vname] = {"base": base, **v}
    return out


def model_names() -> list[str]:
    return sorted(list(builtin_model_files()) + list(_variants()))


def load_config_file(path) -> dict:
    return read_json_file(path, "model config")


def load_model(name_or_path: str) -> ModelSpec:
    """A built-in short name (scout, maverick, maverick-fp8, behemoth) or a path to a config.json."""
    key = str(name_or_path).strip()
    files = builtin_model_files()
    if key.lower() in files:
        p = files[key.lower()]
        return from_hf_config(json.loads(p.read_text()), key.lower(), path=f"moeprof/data/models/{p.name}")
    variants = _variants()
    if key.lower() in variants:
        v = variants[key.lower()]
        base = load_model(v["base"])
        import dataclasses

        return dataclasses.replace(
            base,
            name=key.lower(),
            hf_id=v.get("hf_id", base.hf_id),
            default_quant=v["quant"],
            sources=base.sources + tuple(v.get("sources", ())),
        )
    p = Path(key)
    if p.suffix == ".json" or p.exists():
        if p.is_dir():
            p = p / "config.json"
        if not p.exists():
            raise MoeprofError(f"{p}: no such file")
        cfg = load_config_file(p)
        name = bounds.model_meta(cfg, p).get("name") if isinstance(cfg, dict) else None
        return from_hf_config(cfg, name or one_line(p.parent.name or p.stem)[:200], path=p)
    raise UnknownNameError("model", key, model_names())
