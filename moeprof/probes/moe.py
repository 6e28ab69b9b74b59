"""MoE layer forward at the model's shapes (Llama 4 style), across T tokens.

Shape legend: T tokens, H hidden, E experts, k top-k, I expert width, Is shared width.
    logits = x @ router^T                      [T, E]
    top-k over raw logits; score = sigmoid(chosen logit), applied to the expert's INPUT
    shared expert (SwiGLU, width Is) on every token, added to the routed output
    routed: (token, slot) pairs sorted by expert, then one grouped GEMM per projection
            (torch.nn.functional.grouped_mm where the device has it), else a loop over the
            sorted token groups of each expert (one GEMM per touched expert)
FLOPs = 2 T (E H + k 3 H I + 3 H Is). Weight bytes read = (touched x 3 H I + 3 H Is + E H) x 2.
Decode-size cases (T <= 256) replay a captured CUDA/HIP graph on GPUs, as serving engines do."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .context import ProbeContext
from .tensors import ProbeCheckError, check_close, generator, rand_nonzero
from .timing import capture_graph

GRAPH_MAX_TOKENS = 256
CHECK_TOKENS = 4


@dataclass
class MoeWeights:
    router: torch.Tensor  # [E, H]
    w13: torch.Tensor  # [E, 2I, H]: gate rows then up rows (nn.Linear layout)
    w2: torch.Tensor  # [E, H, I]
    shared_w13: torch.Tensor | None  # [2Is, H]
    shared_w2: torch.Tensor | None  # [H, Is]
    top_k: int

    @property
    def num_experts(self) -> int:
        return self.w13.shape[0]

    @property
    def hidden(self) -> int:
        return self.w13.shape[2]


def make_weights(hidden: int, inter: int, shared_inter: int, experts: int, top_k: int, device, gen) -> MoeWeights:
    """bf16 weights, std 1/sqrt(fan_in); filled one expert at a time to bound temporary memory."""
    bf = torch.bfloat16
    w13 = torch.empty(experts, 2 * inter, hidden, dtype=bf, device=device)
    w2 = torch.empty(experts, hidden, inter, dtype=bf, device=device)
    for e in range(experts):
        w13[e] = rand_nonzero((2 * inter, hidden), bf, device, gen, std=1 / math.sqrt(hidden))
        w2[e] = rand_nonzero((hidden, inter), bf, device, gen, std=1 / math.sqrt(inter))
    sw13 = sw2 = None
    if shared_inter:
        sw13 = rand_nonzero((2 * shared_inter, hidden), bf, device, gen, std=1 / math.sqrt(hidden))
        sw2 = rand_nonzero((hidden, shared_inter), bf, device, gen, std=1 / math.sqrt(shared_inter))
    router = rand_nonzero((experts, hidden), bf, device, gen, std=1 / math.sqrt(hidden))
    return MoeWeights(router, w13, w2, sw13, sw2, top_k)


def _swiglu(h: torch.Tensor) -> torch.Tensor:
    gate, up = h.chunk(2, dim=-1)
    return F.silu(gate) * up


def route(x: torch.Tensor, w: MoeWeights) -> tuple[torch.Tensor, torch.Tensor]:
    """(expert ids [T, k], scores [T, k]): top-k of the raw logits, sigmoid of the chosen."""
    logits = x @ w.router.t()  # [T, E]
    top_logit, top_idx = logits.topk(w.top_k, dim=-1)
    return top_idx, torch.sigmoid(top_logit.float()).to(x.dtype)


def moe_forward(x: torch.Tensor, w: MoeWeights, impl: str = "grouped") -> torch.Tensor:
    """One MoE layer: x [T, H] -> [T, H]. impl 'grouped' needs no host sync (graph-capturable)."""
    T, H = x.shape
    E, k = w.num_experts, w.top_k
    top_idx, score = route(x, w)
    flat_e = top_idx.reshape(-1)  # [T k]
    order = torch.argsort(flat_e, stable=True)  # slots sorted by expert
    tok = order // k  # source token of each sorted slot
    xs = x.index_select(0, tok) * score.reshape(-1).index_select(0, order).unsqueeze(1)  # [T k, H]
    if impl == "grouped":
        counts = torch.zeros(E, dtype=torch.int64, device=x.device).scatter_add_(0, flat_e, torch.ones_like(flat_e))
        offs = counts.cumsum(0).to(torch.int32)  # end row of each expert's group
        a = _swiglu(F.grouped_mm(xs, w.w13.transpose(-2, -1), offs=offs))  # [T k, I]
        y = F.grouped_mm(a, w.w2.transpose(-2, -1), offs=offs)  # [T k, H]
    elif impl == "loop":
        counts = torch.bincount(flat_e, minlength=E).tolist()  # host sync: not capturable
        y = torch.empty_like(xs)
        start = 0
        for e, c in enumerate(counts):
            if c:
                a = _swiglu(xs[start : start + c] @ w.w13[e].t())
                y[start : start + c] = a @ w.w2[e].t()
                start += c
    else:
        raise ValueError(f"unknown MoE impl {impl!r}")
    if w.shared_w13 is not None:
        out = _swiglu(x @ w.shared_w13.t()) @ w.shared_w2.t()
    else:
        out = torch.zeros_like(x)
    return out.index_add_(0, tok, y)


def moe_reference_check(x: torch.Tensor, w: MoeWeights, out: torch.Tensor, tokens: int = CHECK_TOKENS) -> int:
    """Naive per-token loop in float64 (its own routing) against `out`; returns tokens checked.
    A token whose top-k is a near tie (gap < 1e-3 of the logit scale) may route differently
    in bf16 and is skipped; any other routing difference fails the check."""
    checked = 0
    impl_idx, _ = route(x, w)
    r64 = w.router.double()
    for t in range(min(tokens, x.shape[0])):
        x64 = x[t].double()
        logits = r64 @ x64  # [E]
        top_logit, top_idx = logits.topk(min(w.top_k + 1, w.num_experts))
        if set(top_idx[: w.top_k].tolist()) != set(impl_idx[t].tolist()):
            gap = float(top_logit[w.top_k - 1] - top_logit[w.top_k]) if len(top_logit) > w.top_k else 0.0
            if gap < 1e-3 * float(logits.abs().max()) + 1e-2:
                continue
            raise ProbeCheckError(f"MoE routing of token {t} differs from the float64 reference")
        ref = torch.zeros_like(x64)
        if w.shared_w13 is not None:
            h = w.shared_w13.double() @ x64
            g, u = h.chunk(2)
            ref += w.shared_w2.double() @ (F.silu(g) * u)
        for j in range(w.top_k):
            e = int(top_idx[j])
            xe = x64 * torch.sigmoid(top_logit[j])
            h = w.w13[e].double() @ xe
            g, u = h.chunk(2)
            ref += w.w2[e].double() @ (F.silu(g) * u)
        check_close(out[t], ref, ref.abs().max(), rtol=5e-2, what=f"MoE layer token {t}")
        checked += 1
    return checked


def t_values(ctx: ProbeContext) -> list[int]:
    if ctx.dev.is_gpu:
        if ctx.settings.quick:
            return [1, 8, 64, 512, 4096]
        return [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192]
    return [1, 8, 64, 256] if ctx.settings.quick else [1, 4, 16, 64, 256]


def expected_touched(experts: int, top_k: int, tokens: int) -> float:
    """E (1 - (1 - k/E)^T): distinct experts T tokens touch under uniform routing."""
    return experts * (1 - (1 - top_k / experts) ** tokens)


def moe_case(ctx: ProbeContext, w: MoeWeights, t_tokens: int, impl: str) -> dict:
    d = ctx.dev
    g = generator(d.device, ctx.next_seed())
    x = rand_nonzero((t_tokens, w.hidden), torch.bfloat16, d.device, g)
    out = moe_forward(x, w, impl)
    checked = moe_reference_check(x, w, out)
    del out
    top_idx, _ = route(x, w)
    touched = int(torch.unique(top_idx).numel())
    graph = None
    fn = lambda: moe_forward(x, w, impl)  # noqa: E731
    use_graph = d.is_gpu and d.graphs and impl == "grouped" and t_tokens <= GRAPH_MAX_TOKENS
    graph_error = None
    if use_graph:
        try:
            fn, graph = capture_graph(fn, d)
        except Exception as e:  # capture unsupported for this kernel mix: time eagerly
            graph_error = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
            use_graph = False
            fn = lambda: moe_forward(x, w, impl)  # noqa: E731
    t = ctx.time(fn)
    del graph
    H, E, k = w.hidden, w.num_experts, w.top_k
    inter = w.w2.shape[2]
    shared = w.shared_w2.shape[1] if w.shared_w2 is not None else 0
    flop = 2.0 * t_tokens * (E * H + k * 3 * H * inter + 3 * H * shared)
    weight_bytes = (touched * 3 * H * inter + 3 * H * shared + E * H) * 2
    s = t.median_ms / 1e3
    row = {
        **t.to_row(),
        "cuda_graph": use_graph,
        "flop": flop,
        "flop_per_s": flop / s,
        "experts_touched": touched,
        "experts_touched_uniform": expected_touched(E, k, t_tokens),
        "weight_bytes_read": weight_bytes,
        "weight_bytes_per_s": weight_bytes / s,
        "tokens_checked": checked,
    }
    if graph_error:
        row["graph_error"] = graph_error
    return row


def run(ctx: ProbeContext) -> None:
    sh, d = ctx.shapes, ctx.dev
    impl = "grouped" if d.grouped_mm else "loop"
    params = {
        "hidden": sh.hidden,
        "num_experts": sh.num_experts,
        "num_experts_model": sh.num_experts_model,
        "top_k": sh.top_k,
        "expert_intermediate": sh.expert_intermediate,
        "shared_intermediate": sh.shared_intermediate,
        "dtype": "bf16",
        "impl": impl,
    }
    holder: dict = {}

    def build(experts):
        g = generator(d.device, ctx.next_seed())
        holder["w"] = make_weights(sh.hidden, sh.expert_intermediate, sh.shared_intermediate, experts, sh.top_k, d.device, g)
        per_expert = 3 * sh.hidden * sh.expert_intermediate
        return {"weight_bytes": (experts * (per_expert + sh.hidden) + 3 * sh.hidden * sh.shared_intermediate) * 2}

    experts = sh.num_experts
    while True:  # out of memory: halve the routed experts (top_k kept) and try again
        params["num_experts"] = experts
        row = ctx.case("moe_weights", dict(params), lambda: build(experts), label=f"{experts} experts H={sh.hidden} I={sh.expert_intermediate}",
                       summary=lambda r: f"{r['weight_bytes'] / 2**30:.3g} GiB of bf16 weights")
        if "error" not in row:
            break
        holder.clear()
        if row["error"] != "oom" or experts <= 2 * sh.top_k:
            return
        experts = max(2 * sh.top_k, experts // 2)
    w = holder.pop("w")
    try:
        for T in t_values(ctx):
            ctx.case("moe_layer", {**params, "t_tokens": T}, lambda: moe_case(ctx, w, T, impl), label=f"{impl} T={T}")
        if impl == "grouped" and not d.is_gpu:
            # the sorted-token loop too, so both paths run for real on every device
            T = t_values(ctx)[-1]
            ctx.case("moe_layer", {**params, "impl": "loop", "t_tokens": T}, lambda: moe_case(ctx, w, T, "loop"), label=f"loop T={T}")
    finally:
        d.empty_cache()
