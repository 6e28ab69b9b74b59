"""The model shapes the probes run at, scaled down on a CPU or a small GPU. No torch here.

Scaling multiplies every GEMM dimension (hidden, expert / shared / dense width, vocab) by
`scale`, rounded to a multiple of 16 (tensor-core and fp8 kernels need it). Attention keeps
the model's real heads and head_dim; only batch and context lengths shrink. The routed-expert
count is capped so one MoE layer's weights fit the given byte budget (top_k is kept)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..catalog.models import ModelSpec

GiB = 1024**3


def round16(x: float) -> int:
    return max(16, int(round(x / 16.0)) * 16)


@dataclass(frozen=True)
class ProbeShapes:
    model: str
    scale: float
    hidden: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    vocab: int
    num_experts: int  # probed (possibly capped)
    num_experts_model: int
    top_k: int
    expert_intermediate: int
    shared_intermediate: int  # 0: no shared expert
    dense_intermediate: int
    num_layers_model: int
    gemm: dict  # name -> [K, N] (weight of one GEMM; one token row is [1, K])

    def to_json(self) -> dict:
        d = asdict(self)
        d["gemm"] = {k: list(v) for k, v in self.gemm.items()}
        return d

    @property
    def kv_bytes_per_token_per_layer_bf16(self) -> int:
        return 2 * self.num_kv_heads * self.head_dim * 2

    def moe_weight_bytes(self, bytes_per_param: float = 2) -> float:
        per_expert = 3 * self.hidden * self.expert_intermediate
        shared = 3 * self.hidden * self.shared_intermediate
        return (self.num_experts * per_expert + shared + self.num_experts * self.hidden) * bytes_per_param


def auto_scale(device_kind: str, memory_total_bytes: float | None, quick: bool) -> float:
    """1 on a GPU with >= 60 GiB; halved per halving of memory below that; 1/16 (quick) or
    1/8 on a CPU."""
    if device_kind == "cpu":
        return 1 / 16 if quick else 1 / 8
    mem = memory_total_bytes or 0
    s = 1.0
    while s > 1 / 16 and mem < 60 * GiB * s:
        s /= 2
    return s


def probe_shapes(spec: ModelSpec, scale: float, moe_budget_bytes: float | None = None) -> ProbeShapes:
    s = float(scale)
    gemm = {name: (round16(k * s), round16(n * s)) for name, (k, n) in spec.gemm_shapes().items()}
    hidden = round16(spec.hidden_size * s)
    shapes = ProbeShapes(
        model=spec.name,
        scale=s,
        hidden=hidden,
        num_heads=spec.num_heads,
        num_kv_heads=spec.num_kv_heads,
        head_dim=spec.head_dim,
        vocab=round16(spec.vocab_size * s),
        num_experts=spec.num_experts,
        num_experts_model=spec.num_experts,
        top_k=spec.top_k,
        expert_intermediate=round16(spec.expert_intermediate_size * s),
        shared_intermediate=round16(spec.shared_intermediate_size * s) if spec.shared_intermediate_size else 0,
        dense_intermediate=round16(spec.dense_intermediate_size * s) if spec.dense_intermediate_size else 0,
        num_layers_model=spec.num_layers,
        gemm=gemm,
    )
    if moe_budget_bytes is not None:
        per_expert = 3 * hidden * shapes.expert_intermediate * 2
        fixed = 3 * hidden * shapes.shared_intermediate * 2
        cap = int((moe_budget_bytes - fixed) // per_expert)
        e = max(min(spec.num_experts, max(cap, 2 * spec.top_k)), 1)
        if e < spec.num_experts:
            shapes = ProbeShapes(**{**asdict(shapes), "num_experts": e, "gemm": gemm})
    return shapes
