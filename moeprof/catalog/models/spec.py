"""ModelSpec: the shape of a Mixture-of-Experts language model, as the memory and performance
models need it, with exact parameter counts by component.

Parameter counts are formulas over the config fields (see each property). Shape legend: H hidden,
V vocab, E routed experts, I expert width, L layers, hd head dim, kv KV heads.
Attention kinds of a layer: 'global' (full causal attention), 'chunked' (attends within
`attention_chunk_size`-token chunks, Llama 4), 'sliding' (attends to the last `sliding_window`
tokens, gpt-oss / Mistral). MLA (DeepSeek) is a property of every layer of the model (`is_mla`),
attention sinks (gpt-oss) add one learned scalar per head and layer.
A multi-token-prediction (MTP) module, when the checkpoint ships one, is a draft model for
speculative decoding: counted apart (`draft_params`), never in `total_params`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

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

ATTENTION_KINDS = ("global", "chunked", "sliding")


@dataclass(frozen=True)
class LayerKind:
    """A class of identical decoder layers: attention 'global' | 'chunked' | 'sliding',
    ffn 'moe' | 'dense'."""

    attention: str
    ffn: str
    count: int

    @property
    def key(self) -> str:
        return f"{self.attention}-{self.ffn}"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str  # the parser's family key, e.g. llama4 | mixtral | deepseek_v3 | gpt_oss
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
    # Sliding-window attention: layers attending to the last `sliding_window` tokens.
    sliding_layers: tuple[int, ...] = ()
    sliding_window: int | None = None
    # Multi-head latent attention (DeepSeek); 0 means standard GQA.
    mla_q_lora_rank: int = 0
    mla_kv_lora_rank: int = 0
    mla_qk_nope_head_dim: int = 0
    mla_qk_rope_head_dim: int = 0
    mla_v_head_dim: int = 0
    # Extra parameters some layouts carry.
    attention_qkv_bias: bool = False  # biases on q, k, v projections
    attention_o_bias: bool = False  # bias on the output projection
    attention_sinks: bool = False  # one learned sink logit per head and layer (gpt-oss)
    expert_bias: bool = False  # biases on each expert's gate/up and down projections (gpt-oss)
    router_bias: bool = False  # bias on the router linear (gpt-oss)
    router_score_bias: bool = False  # e_score_correction_bias, one per expert (noaux_tc routing)
    shared_expert_gate: bool = False  # sigmoid gate [H -> 1] on the shared expert (Qwen2-MoE)
    norm_bias: bool = False  # LayerNorm with bias (Phi-3.5-MoE): 2 x H per norm instead of H
    lm_head_bias: bool = False
    mtp_layers: int = 0  # multi-token-prediction modules shipped with the checkpoint
    vision_params: int = 0
    hf_id: str | None = None
    card_total_params: float | None = None
    card_active_params: float | None = None
    card_active_excludes: tuple[str, ...] = ()  # components the card's active figure leaves out
    estimated_fields: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    default_quant: str = "bf16"
    # QuantRecipe derived from the config's quantization_config (catalog/models/checkpoint_quant.py).
    checkpoint_quant: object = field(default=None, compare=False, hash=False)
    default_kv_dtype: str = "bf16"  # 'fp8' when the checkpoint ships a KV-cache scheme
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
    def num_sliding_layers(self) -> int:
        return len(self.sliding_layers)

    @property
    def num_global_layers(self) -> int:
        return self.num_layers - self.num_chunked_layers - self.num_sliding_layers

    @property
    def interleave_moe_layer_step(self) -> int:
        if len(self.moe_layers) < 2:
            return 1
        return self.moe_layers[1] - self.moe_layers[0]

    def attention_kind(self, layer: int) -> str:
        if layer in self.chunked_layers:
            return "chunked"
        if layer in self.sliding_layers:
            return "sliding"
        return "global"

    def attention_span(self, kind: str) -> int | None:
        """Most tokens one query of this attention kind attends to (None: the whole context)."""
        return {"chunked": self.attention_chunk_size, "sliding": self.sliding_window}.get(kind)

    def layer_kinds(self) -> list[LayerKind]:
        """Distinct (attention, ffn) layer classes with their counts, in a stable order."""
        moe, chunked, sliding = set(self.moe_layers), set(self.chunked_layers), set(self.sliding_layers)
        counts: dict[tuple[str, str], int] = {}
        for i in range(self.num_layers):
            a = "chunked" if i in chunked else "sliding" if i in sliding else "global"
            k = (a, "moe" if i in moe else "dense")
            counts[k] = counts.get(k, 0) + 1
        order = [(a, f) for f in ("moe", "dense") for a in ATTENTION_KINDS]
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
            return q + self.mla_kv_a_params_per_layer + self.mla_kv_b_params_per_layer + self.num_heads * self.mla_v_head_dim * h
        q_n, kv_n = self.num_heads * self.head_dim, 2 * self.num_kv_heads * self.head_dim
        p = h * (q_n + kv_n) + q_n * h
        if self.attention_qkv_bias:
            p += q_n + kv_n
        if self.attention_o_bias:
            p += h
        if self.attention_sinks:
            p += self.num_heads
        return p

    @property
    def mla_kv_a_params_per_layer(self) -> int:
        """kv_a_proj_with_mqa [H, kv_lora_rank + rope dim] and kv_a_layernorm."""
        return self.hidden_size * (self.mla_kv_lora_rank + self.mla_qk_rope_head_dim) + self.mla_kv_lora_rank

    @property
    def mla_kv_b_params_per_layer(self) -> int:
        return self.mla_kv_lora_rank * self.num_heads * (self.mla_qk_nope_head_dim + self.mla_v_head_dim)

    @property
    def mla_replicated_params_per_layer(self) -> int:
        """MLA weights every TP rank holds whole (vLLM ReplicatedLinear): q_a_proj and its norm,
        kv_a_proj_with_mqa and its norm. The rest (q_b / q_proj, kv_b, o) is head-sharded."""
        if not self.is_mla:
            return 0
        q_a = self.hidden_size * self.mla_q_lora_rank + self.mla_q_lora_rank if self.mla_q_lora_rank else 0
        return q_a + self.mla_kv_a_params_per_layer

    @property
    def expert_params(self) -> int:
        """One routed expert: gate, up [H, I] and down [I, H] (+ their biases when present)."""
        h, i = self.hidden_size, self.expert_intermediate_size
        return 3 * h * i + (2 * i + h if self.expert_bias else 0)

    @property
    def router_params_per_layer(self) -> int:
        e = self.num_experts
        return self.hidden_size * e + (e if self.router_bias else 0) + (e if self.router_score_bias else 0)

    @property
    def shared_expert_params_per_layer(self) -> int:
        p = 3 * self.hidden_size * self.shared_intermediate_size
        return p + (self.hidden_size if self.shared_expert_gate and self.shared_intermediate_size else 0)

    @property
    def dense_ffn_params_per_layer(self) -> int:
        return 3 * self.hidden_size * self.dense_intermediate_size

    @property
    def norm_params(self) -> int:
        """Parameters of one normalisation layer over H (RMSNorm H; LayerNorm with bias 2H)."""
        return (2 if self.norm_bias else 1) * self.hidden_size

    @cached_property
    def params_by_component(self) -> dict[str, int]:
        h, L = self.hidden_size, self.num_layers
        return {
            "embeddings": self.vocab_size * h,
            "lm_head": 0 if self.tie_word_embeddings else self.vocab_size * h + (self.vocab_size if self.lm_head_bias else 0),
            "attention": L * self.attention_params_per_layer,
            "norms": L * (2 * self.norm_params + self.qk_norm_params_per_layer) + self.norm_params,
            "router": self.num_moe_layers * self.router_params_per_layer,
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

    @property
    def active_params_card_convention(self) -> int:
        """Active parameters counted the way the model card counts them (`card_active_excludes`)."""
        return self.active_params - sum(self.active_params_by_component[c] for c in self.card_active_excludes)

    @property
    def draft_params(self) -> int:
        """The MTP module(s), as DeepSeek / GLM checkpoints ship and vLLM loads them for speculative
        decoding: per module one decoder layer of the MoE kind, two RMSNorms on the inputs
        (enorm, hnorm), eh_proj [2H, H] and the shared head's norm; plus the module's own copy of
        the embeddings and the lm_head. Not part of total_params."""
        if not self.mtp_layers:
            return 0
        h = self.hidden_size
        layer = self.attention_params_per_layer + 2 * self.norm_params + self.qk_norm_params_per_layer
        layer += self.router_params_per_layer + self.num_experts * self.expert_params + self.shared_expert_params_per_layer
        module = layer + 2 * h + 2 * h * h + h
        return self.mtp_layers * module + 2 * self.vocab_size * h

    # ---- KV cache --------------------------------------------------------------------
    @property
    def kv_elements_per_token_per_layer(self) -> int:
        """K and V elements one token adds to one layer's cache (MLA: the compressed latent
        plus the decoupled RoPE key, as vLLM caches it)."""
        if self.is_mla:
            return self.mla_kv_lora_rank + self.mla_qk_rope_head_dim
        return 2 * self.num_kv_heads * self.head_dim

    def kv_bytes_per_token(self, kv_bytes_per_element: float) -> dict[str, float]:
        """KV bytes per token per attention kind, summed over that kind's layers (whole model, one copy)."""
        per_layer = self.kv_elements_per_token_per_layer * kv_bytes_per_element
        return {
            "global": self.num_global_layers * per_layer,
            "chunked": self.num_chunked_layers * per_layer,
            "sliding": self.num_sliding_layers * per_layer,
        }

    def kv_bytes_for_context(self, context_tokens: int, kv_bytes_per_element: float,
                             capped: tuple[str, ...] = ("chunked", "sliding")) -> float:
        """KV bytes one sequence of `context_tokens` holds (the whole model, one copy) when the
        engine caps the attention kinds in `capped` at their span (chunk or window)."""
        per = self.kv_bytes_per_token(kv_bytes_per_element)
        total = 0.0
        for kind, b in per.items():
            span = self.attention_span(kind) if kind in capped else None
            total += b * (min(context_tokens, span) if span else context_tokens)
        return total

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
            "draft_params": self.draft_params,
            "params_by_component": dict(self.params_by_component),
            "active_params_by_component": dict(self.active_params_by_component),
            "card_total_params": self.card_total_params,
            "card_active_params": self.card_active_params,
            "card_active_excludes": list(self.card_active_excludes),
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
            "num_sliding_layers": self.num_sliding_layers,
            "num_global_layers": self.num_global_layers,
            "attention_chunk_size": self.attention_chunk_size,
            "sliding_window": self.sliding_window,
            "attention": "mla" if self.is_mla else "gqa",
            "attention_sinks": self.attention_sinks,
            "mtp_layers": self.mtp_layers,
            "layer_kinds": [
                {"attention": k.attention, "ffn": k.ffn, "count": k.count} for k in self.layer_kinds()
            ],
            "kv_bytes_per_token_bf16": self.kv_bytes_per_token(2),
            "max_position_embeddings": self.max_position_embeddings,
            "default_quant": self.default_quant,
            "default_kv_dtype": self.default_kv_dtype,
            "estimated_fields": list(self.estimated_fields),
            "sources": list(self.sources),
            "notes": list(self.notes),
        }
