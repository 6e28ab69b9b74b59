"""Memory model: what one GPU of a deployment holds, and how much KV cache is left.

Per GPU (the heaviest pipeline stage):
    weights   = sum over components of params on this rank x bytes/param (quant recipe)
    budget    = usable GPU memory x gpu_memory_utilization            (vLLM accounting)
    overhead  = activation peak + non-torch memory + CUDA-graph memory
    kv budget = budget - weights - overhead
    KV bytes per token per GPU = sum over this stage's layers of KV elements per token per rank
                                 x KV dtype bytes
Sharding rules (vLLM): TP splits attention heads, FFN / expert columns, embeddings and lm_head
(vocab-parallel); KV heads are split across TP and replicated when TP > KV heads (at least one KV
head per rank); MLA latent KV is replicated on every TP rank; EP (== TP when on) places whole
experts on ranks; the router and norms are replicated; PP gives each stage ceil(L / PP) layers,
the embeddings to the first stage and the lm_head to the last.
Wide EP (ep > tp, a multiple of it, pp = 1; vLLM --data-parallel-size with --enable-expert-parallel,
SGLang --enable-dp-attention with DeepEP): ep / tp attention data-parallel groups of tp GPUs
(each group holds the attention, shared expert, dense and embedding weights split over its tp
ranks, and the KV of its own sequences), the routed experts split whole over all ep GPUs.
MLA: q_a_proj and kv_a_proj_with_mqa (with their norms) are replicated on every TP rank
(vLLM ReplicatedLinear); the other MLA projections are head-sharded.
KV by attention kind: a sequence of C tokens needs
    sum over kinds of kind_bytes_per_token x (min(C, span) if the engine caps the kind else C)
where span is the chunk (chunked) or the window (sliding). Which kinds the engine caps is an
engine setting (engine.json `hybrid_kv_cache`): vLLM 0.11's hybrid KV cache manager frees
sliding-window blocks outside the window, but is disabled for chunked-local attention unless
VLLM_ALLOW_CHUNKED_LOCAL_ATTN_WITH_HYBRID_KV_CACHE=1, so by default chunked layers keep full KV.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .catalog.engine import EngineConfig, capped_kinds_from, default_capped_kinds, load_engine  # noqa: F401
from .catalog.hardware.vms import VmSpec
from .catalog.models import COMPONENTS, ModelSpec
from .catalog.models.quant import QuantRecipe, kv_bytes_per_element
from .errors import MoeprofError
from .units import GiB


@dataclass(frozen=True)
class Parallelism:
    tp: int = 1
    ep: int = 1
    pp: int = 1

    @property
    def dp(self) -> int:
        """Attention data-parallel groups of tp GPUs (wide EP: ep / tp; else 1)."""
        return max(self.ep // self.tp, 1)

    @property
    def gpus(self) -> int:
        return self.tp * self.dp * self.pp


def check_parallelism(model: ModelSpec, par: Parallelism) -> str | None:
    """Why this layout is impossible for the model, or None."""
    if par.tp < 1 or par.ep < 1 or par.pp < 1:
        return "tp, ep and pp must be >= 1"
    if par.ep > par.tp:
        if par.ep % par.tp:
            return f"wide EP needs ep a multiple of tp (attention data parallel over ep / tp groups), got ep={par.ep}, tp={par.tp}"
        if par.pp > 1:
            return f"wide EP (ep={par.ep} > tp={par.tp}) is planned without pipeline stages, got pp={par.pp}"
    elif par.ep not in (1, par.tp):
        return f"ep must be 1, equal to tp or a multiple of it (wide EP), got ep={par.ep}, tp={par.tp}"
    if model.num_heads % par.tp:
        return f"tp={par.tp} does not divide the {model.num_heads} attention heads"
    if par.ep > 1 and model.num_experts % par.ep:
        return f"ep={par.ep} does not divide the {model.num_experts} experts"
    if par.ep == 1 and model.expert_intermediate_size % par.tp:
        return f"tp={par.tp} does not divide the expert width {model.expert_intermediate_size}"
    if par.pp > model.num_layers:
        return f"pp={par.pp} exceeds the {model.num_layers} layers"
    return None


def kv_heads_per_rank(model: ModelSpec, tp: int) -> float:
    """KV heads one TP rank stores: split across ranks, at least one (replicated past that)."""
    return max(1.0, model.num_kv_heads / tp)


def stage_layer_fraction(model: ModelSpec, pp: int) -> float:
    """Fraction of the layers the heaviest pipeline stage holds: ceil(L / pp) / L."""
    return math.ceil(model.num_layers / pp) / model.num_layers


def weights_params_per_gpu(model: ModelSpec, par: Parallelism) -> dict[str, float]:
    """Parameters per GPU of the heaviest stage, by component."""
    p = model.params_by_component
    tp, pp = par.tp, par.pp
    frac = stage_layer_fraction(model, pp)
    if model.is_mla:
        rep = model.num_layers * model.mla_replicated_params_per_layer  # q_a, kv_a replicated
        attn = rep + (p["attention"] - rep) / tp
    else:
        # k, v (with biases) split by KV head, replicated past one head per rank; the o_proj bias
        # is held whole by every rank; q, o, q bias and sinks are split by query head.
        h, hd, L, kvh = model.hidden_size, model.head_dim, model.num_layers, model.num_kv_heads
        kv_w = 2 * kvh * hd * (h + (1 if model.attention_qkv_bias else 0))
        o_bias = h if model.attention_o_bias else 0
        rest = model.attention_params_per_layer - kv_w - o_bias
        attn = L * (rest / tp + kv_w * kv_heads_per_rank(model, tp) / kvh + o_bias)
    out = {
        "attention": attn * frac,
        "norms": p["norms"] * frac,
        "router": p["router"] * frac,
        "routed_experts": p["routed_experts"] / max(tp, par.ep) * frac,  # columns (ep=1) or whole experts over ep
        "shared_expert": p["shared_expert"] / tp * frac,
        "dense_ffn": p["dense_ffn"] / tp * frac,
    }
    if pp == 1:
        out["embeddings"] = p["embeddings"] / tp
        out["lm_head"] = p["lm_head"] / tp
        out["vision"] = p["vision"] / tp
    else:
        # First stage: embeddings + vision; last stage: lm_head. Report the heavier end stage.
        first = p["embeddings"] + p["vision"]
        last = p["lm_head"]
        if first >= last:
            out["embeddings"], out["vision"], out["lm_head"] = p["embeddings"] / tp, p["vision"] / tp, 0.0
        else:
            out["embeddings"], out["vision"], out["lm_head"] = 0.0, 0.0, p["lm_head"] / tp
    return {k: out[k] for k in COMPONENTS}


def kv_bytes_per_token_per_gpu(model: ModelSpec, par: Parallelism, kv_dtype: str) -> dict[str, float]:
    """KV bytes one token adds on one GPU of the heaviest stage, by layer kind."""
    b = kv_bytes_per_element(kv_dtype)
    frac = stage_layer_fraction(model, par.pp)
    if model.is_mla:
        per_layer = model.kv_elements_per_token_per_layer * b  # latent replicated on every TP rank
    else:
        per_layer = 2 * kv_heads_per_rank(model, par.tp) * model.head_dim * b
    return {
        "global": model.num_global_layers * frac * per_layer,
        "chunked": model.num_chunked_layers * frac * per_layer,
        "sliding": model.num_sliding_layers * frac * per_layer,
    }


@dataclass(frozen=True)
class MemoryResult:
    model: str
    sku: str
    gpu: str
    vms: int
    gpus: int
    tp: int
    ep: int
    pp: int
    replicas: int
    quant: str
    kv_dtype: str
    usable_memory_bytes_per_gpu: float
    budget_bytes_per_gpu: float
    weights_bytes_per_gpu: float
    weights_bytes_by_component: dict
    activation_peak_bytes_per_gpu: float
    non_torch_bytes_per_gpu: float
    cuda_graph_bytes_per_gpu: float
    overhead_bytes_per_gpu: float
    kv_budget_bytes_per_gpu: float
    kv_bytes_per_token_per_gpu: float
    kv_bytes_per_token_per_gpu_by_kind: dict
    kv_capacity_tokens: int
    max_context_tokens: int  # under the engine's hybrid-KV setting (kv_capped_kinds)
    max_context_tokens_full_kv: int  # if the engine kept every token's KV on every layer
    max_context_tokens_all_capped: int  # if the engine capped chunked and sliding layers at their span
    kv_capped_kinds: list
    model_max_context_tokens: int
    target_context_tokens: int | None
    max_concurrent_seqs_at_target: int | None
    fits: bool
    reason: str
    engine: dict

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MemoryVerdict:
    """Whether a deployment fits one GPU: kind '' (fits), 'weights' (weights + engine overhead
    exceed the budget), 'model' (the target is past the model's maximum context), 'context' (the
    longest sequence is shorter than the target), 'batch'
    (the KV cache holds fewer sequences than the max batch) or 'block' (not one KV block);
    reason: one line saying why ('' when it fits)."""

    kind: str
    reason: str


def _over_budget(weights: float, overhead: float, budget: float, utilization: float | None) -> str:
    share = f" ({utilization:g} of the usable memory)" if utilization else ""
    return (f"weights {weights / GiB:.1f} GiB + engine overhead {overhead / GiB:.1f} GiB exceed the "
            f"{budget / GiB:.1f} GiB budget per GPU{share}")


def _short_context(max_ctx: int, target: int, model_max: int, kv_budget: float) -> str:
    why = "the model maximum" if max_ctx == model_max else f"KV budget {max(kv_budget, 0.0) / GiB:.1f} GiB per GPU"
    return f"max context {max_ctx:,} tokens < target {target:,} ({why})"


def memory_verdict(weights, overhead, budget, kv_budget, max_ctx, target_ctx, model_max, block_tokens,
                   utilization=None) -> MemoryVerdict:
    """The verdict of one GPU holding weights + overhead within budget (bytes), its KV budget
    giving a longest sequence of max_ctx tokens, against an optional target context."""
    if weights + overhead > budget:
        return MemoryVerdict("weights", _over_budget(weights, overhead, budget, utilization))
    if target_ctx and max_ctx < target_ctx:
        return MemoryVerdict("context", _short_context(max_ctx, target_ctx, model_max, kv_budget))
    if max_ctx < block_tokens:
        return MemoryVerdict("block", f"KV budget {kv_budget / GiB:.2f} GiB per GPU holds less than one {block_tokens}-token block")
    return MemoryVerdict("", "")


def batch_memory_verdict(weights, overhead, budget, kv_budget, max_ctx, target_ctx, seqs_fit, seq_tokens, max_batch,
                         model_max=None) -> MemoryVerdict:
    """memory_verdict for a serving configuration: also 'batch' when the KV cache holds fewer
    than max_batch sequences of seq_tokens tokens."""
    if kv_budget <= 0:
        return MemoryVerdict("weights", _over_budget(weights, overhead, budget, None))
    if max_ctx < target_ctx:
        return MemoryVerdict("context", _short_context(max_ctx, target_ctx, model_max or -1, kv_budget))
    if seqs_fit < max_batch:
        return MemoryVerdict("batch", f"KV holds {seqs_fit} sequences of {seq_tokens:,} tokens < max batch {max_batch}")
    return MemoryVerdict("", "")


def activation_peak_bytes(model: ModelSpec, par: Parallelism, engine: EngineConfig) -> tuple[float, str]:
    """max(dummy-sampler peak, forward peak at max_num_batched_tokens) per GPU, and which one."""
    sampler = engine.sampler_bytes_per_seq_per_vocab * engine.max_num_seqs * model.vocab_size
    T, h, tp = engine.max_num_batched_tokens, model.hidden_size, par.tp
    i_r = model.expert_intermediate_size if par.ep > 1 else model.expert_intermediate_size / tp
    moe = model.top_k * (3 * i_r + h) if model.num_moe_layers else 0
    dense = 3 * model.dense_intermediate_size / tp if model.num_dense_layers else 0
    qkv = (model.num_heads / tp + 2 * kv_heads_per_rank(model, tp)) * model.head_dim
    forward = T * engine.activation_bytes_per_element * (engine.live_hidden_tensors * h + max(moe, dense, qkv))
    return (sampler, "sampler") if sampler >= forward else (forward, "forward")


def _spans(model: ModelSpec, per_kind: dict[str, float], capped) -> list[tuple[float, float]]:
    """(bytes per token, span or inf) per attention kind that holds KV."""
    capped = default_capped_kinds() if capped is None else capped
    out = []
    for kind, b in per_kind.items():
        if b:
            span = model.attention_span(kind) if kind in capped else None
            out.append((b, float(span) if span else math.inf))
    return out


def max_context_for_budget(model: ModelSpec, per_kind: dict[str, float], kv_budget_bytes: float,
                           capped: tuple[str, ...] | None = None) -> int:
    """Longest single sequence whose KV fits the budget; the attention kinds in `capped` (default:
    the engine setting) hold at most their span. 2**62 when the capped kinds alone bound the KV."""
    if kv_budget_bytes <= 0:
        return 0
    parts = _spans(model, per_kind, capped)
    if not parts:
        return 0
    # KV(C) = sum b x min(C, span) is piecewise linear and increasing: walk its breakpoints.
    used, start = 0.0, 0.0
    for cut in sorted({s for _, s in parts} | {math.inf}):
        slope = sum(b for b, s in parts if s > start)
        if slope == 0:
            return 2**62
        if used + slope * (cut - start) >= kv_budget_bytes:
            return int(start + (kv_budget_bytes - used) // slope)
        used += slope * (cut - start)
        start = cut
    return 2**62


def kv_bytes_for_sequence(model: ModelSpec, per_kind: dict[str, float], context_tokens: float,
                          capped: tuple[str, ...] | None = None) -> float:
    """KV bytes of one sequence of `context_tokens`, the kinds in `capped` (default: the engine
    setting) holding at most their span."""
    return sum(b * min(context_tokens, s) for b, s in _spans(model, per_kind, capped))


def memory_per_gpu(
    model: ModelSpec,
    vm: VmSpec,
    vms: int = 1,
    par: Parallelism | None = None,
    quant: QuantRecipe | None = None,
    kv_dtype: str = "bf16",
    engine: EngineConfig | None = None,
    target_context_tokens: int | None = None,
) -> MemoryResult:
    """Memory of one GPU for `model` on `vms` VMs of `vm` with parallelism `par` (default: TP over
    all GPUs of one VM; replicas fill the rest)."""
    from .catalog.models.quant import get_recipe

    engine = engine or load_engine()
    quant = quant or get_recipe(model.default_quant, model)
    total_gpus = vm.gpus_per_vm * vms
    par = par or Parallelism(tp=vm.gpus_per_vm)
    problem = check_parallelism(model, par)
    if problem:
        raise MoeprofError(problem)
    if par.gpus > total_gpus:
        raise MoeprofError(f"a replica of {par.gpus} GPUs (tp x pp, or ep x pp with wide EP) but {vms} x {vm.key} has only {total_gpus}")
    if total_gpus % par.gpus:
        raise MoeprofError(f"{total_gpus} GPUs cannot be split into replicas of {par.gpus} GPUs")
    if par.tp > vm.gpus_per_vm:
        raise MoeprofError(f"tp={par.tp} would span VMs; keep --tp <= {vm.gpus_per_vm} GPUs per VM and use --pp across VMs")
    gpu = vm.gpu
    if quant.uses_fp8 and not gpu.supports_fp8:
        raise MoeprofError(f"{gpu.name} has no FP8 tensor cores; recipe {quant.name} needs them")

    params = weights_params_per_gpu(model, par)
    weights_by = {k: params[k] * quant.weight_bytes_per_param[k] for k in COMPONENTS}
    weights = sum(weights_by.values())
    usable = gpu.usable_memory_bytes
    budget = usable * engine.gpu_memory_utilization
    act, _ = activation_peak_bytes(model, par, engine)
    non_torch = engine.non_torch_bytes_single_gpu if par.gpus == 1 else engine.non_torch_bytes_multi_gpu
    graphs = engine.cuda_graph_bytes
    overhead = act + non_torch + graphs
    kv_budget = budget - weights - overhead
    per_kind = kv_bytes_per_token_per_gpu(model, par, kv_dtype)
    per_token = sum(per_kind.values())
    capacity = int(max(0.0, kv_budget) // per_token) if per_token else 0
    model_max = model.max_position_embeddings
    capped = engine.kv_capped_kinds
    max_ctx = min(max_context_for_budget(model, per_kind, max(0.0, kv_budget), capped), model_max)
    all_capped = min(max_context_for_budget(model, per_kind, max(0.0, kv_budget), ("chunked", "sliding")), model_max)
    beyond_model = target_context_tokens is not None and 0 < target_context_tokens and target_context_tokens > model_max

    if beyond_model and weights + overhead <= budget:
        verdict = MemoryVerdict("model", f"target context {target_context_tokens:,} tokens exceeds the model maximum "
                                f"{model_max:,} (max_position_embeddings)")
    else:
        verdict = memory_verdict(weights, overhead, budget, kv_budget, max_ctx, target_context_tokens, model_max,
                                 engine.block_size_tokens, engine.gpu_memory_utilization)
    fits = verdict.kind == ""
    reason = verdict.reason or f"{kv_budget / GiB:.1f} GiB KV per GPU, {capacity:,} tokens"
    if fits and target_context_tokens:
        reason += f", max context {max_ctx:,} >= target {target_context_tokens:,}"

    concurrent = None
    if target_context_tokens and kv_budget > 0 and not beyond_model:
        concurrent = int(kv_budget // kv_bytes_for_sequence(model, per_kind, target_context_tokens, capped))

    return MemoryResult(
        model=model.name,
        sku=vm.key,
        gpu=gpu.key,
        vms=vms,
        gpus=total_gpus,
        tp=par.tp,
        ep=par.ep,
        pp=par.pp,
        replicas=total_gpus // par.gpus,
        quant=quant.name,
        kv_dtype=kv_dtype,
        usable_memory_bytes_per_gpu=usable,
        budget_bytes_per_gpu=budget,
        weights_bytes_per_gpu=weights,
        weights_bytes_by_component=weights_by,
        activation_peak_bytes_per_gpu=act,
        non_torch_bytes_per_gpu=non_torch,
        cuda_graph_bytes_per_gpu=graphs,
        overhead_bytes_per_gpu=overhead,
        kv_budget_bytes_per_gpu=kv_budget,
        kv_bytes_per_token_per_gpu=per_token,
        kv_bytes_per_token_per_gpu_by_kind=per_kind,
        kv_capacity_tokens=capacity,
        max_context_tokens=max_ctx,
        max_context_tokens_full_kv=min(capacity, model_max),
        max_context_tokens_all_capped=all_capped,
        kv_capped_kinds=list(capped),
        model_max_context_tokens=model_max,
        target_context_tokens=target_context_tokens,
        max_concurrent_seqs_at_target=concurrent,
        fits=fits,
        reason=reason,
        engine={
            "name": engine.engine,
            "version": engine.engine_version,
            "gpu_memory_utilization": engine.gpu_memory_utilization,
            "max_num_batched_tokens": engine.max_num_batched_tokens,
            "max_num_seqs": engine.max_num_seqs,
        },
    )
