"""One model step (a decode iteration or a prefill chunk) on one replica of tp x pp GPUs.

Every numeric argument may be a Python scalar or a numpy array; all are broadcast together and
every result is an array of the broadcast shape (0-d for scalars). Nothing loops over
configurations: loops run only over the few layer kinds and ops.

Parallelism (per replica):
- TP splits attention heads (KV heads too, replicated once tp > KV heads), FFN and shared-expert
  columns, and the vocabulary of lm_head; one all-reduce of T x H bf16 after attention and one
  after the FFN.
- EP (ep divides tp; ep = tp as vLLM --enable-expert-parallel, ep = 1 column-sharded experts):
  whole experts on ep ranks, each expert split over tp / ep ranks. An MoE layer with ep > 1
  replaces the FFN all-reduce by a dispatch and a combine all-to-all, each rank sending its
  T / ep tokens x top_k x H bf16 (the shared expert's partial sums ride on the combine); the
  busiest EP rank sets the time.
- Wide EP (ep > tp, a multiple of it, pp = 1): the replica is ep / tp = dp attention data-parallel
  groups of tp GPUs stepping together (DP attention, as vLLM / SGLang with DeepEP); a step here is
  one group's: its own T tokens through attention, dense parts and the head, while the MoE layer
  takes the T x dp tokens of all groups (the groups' batches taken equal) over ep ranks of whole
  experts. Dispatch / combine send each rank's T / tp tokens x top_k x H; the share bound for
  other VMs, (ep - ep per VM) / ep, goes over InfiniBand (collectives.alltoall_s).
- PP splits layers; total_s sums the stages (the latency one token sees); stage_s is the slowest
  stage (ceil(L / pp) layers plus the output head), which sets pipelined throughput. Each
  stage boundary sends the hidden state and residual (2 x T x H bf16).
- num_vms > 1: stages are placed per VM when pp >= num_vms (boundary hops between VMs use
  InfiniBand); otherwise each TP group spans num_vms / pp VMs and its collectives use
  InfiniBand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import MoeprofError
from . import ops as O
from .context import PerfContext
from .energy import step_energy_j
from .moe_layer import blocked as _blocked
from .moe_layer import moe_op as _moe_op
from .moe_layer import weights as _weights

OP_NAMES = ("qkv_proj", "attention", "o_proj", "moe", "dense_mlp", "norms", "collectives")
HEAD_KEY = "head"


@dataclass
class StepResult:
    """Seconds, FLOPs, bytes, joules; arrays of the broadcast input shape.

    total_s: the whole step as one sequence sees it (sum over PP stages, incl. communication)
    stage_s: the slowest PP stage (= total_s when pp = 1)
    comm_s: the part of total_s spent in collectives and stage-to-stage sends
    flops: FLOPs summed over the replica's GPUs (replicated work counted on every GPU)
    weight_bytes / kv_bytes / act_bytes: HBM bytes read (activations: read + written) summed over
        the replica; *_per_gpu: on the busiest GPU (the slowest stage's busiest rank)
    energy_j: the replica's energy for this step (see energy_model)
    ops: {layer kind key | 'head': {op: seconds per layer}}; layer_counts: {key: layers}
    moe: {layer kind key: {'router_s', 'shared_expert_s', 'routed_experts_s',
        'experts_touched', 'tokens_per_expert'}} on the busiest EP rank
    """

    total_s: np.ndarray
    stage_s: np.ndarray
    comm_s: np.ndarray
    flops: np.ndarray
    weight_bytes: np.ndarray
    weight_bytes_per_gpu: np.ndarray
    kv_bytes: np.ndarray
    kv_bytes_per_gpu: np.ndarray
    act_bytes: np.ndarray
    energy_j: np.ndarray
    ops: dict = field(default_factory=dict)
    layer_counts: dict = field(default_factory=dict)
    moe: dict = field(default_factory=dict)
    energy_model: str = ""


# ---------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------
def _as_arrays(**kw) -> dict[str, np.ndarray]:
    arrs = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in kw.values()))
    return dict(zip(kw, arrs))


def _check(name: str, arr: np.ndarray, lo: float = 1.0, integer: bool = False) -> None:
    if not np.all(np.isfinite(arr)) or np.any(arr < lo):
        raise MoeprofError(f"{name} must be finite and >= {lo:g}")
    if integer and np.any(arr != np.round(arr)):
        raise MoeprofError(f"{name} must be a whole number")


def _check_parallel(tp, ep, pp, nv) -> None:
    for name, a in (("tp", tp), ("ep", ep), ("pp", pp), ("num_vms", nv)):
        _check(name, a, 1, integer=True)
    wide = (ep > tp) & (np.mod(ep, tp) == 0) & (pp == 1)
    if np.any((np.mod(tp, ep) != 0) & ~wide):
        raise MoeprofError("ep must divide tp (ep = 1: experts split by columns; ep = tp: whole experts per rank) "
                           "or be a multiple of it with pp = 1 (wide EP)")
    if np.any(np.mod(np.maximum(tp, ep) * pp, nv) != 0):
        raise MoeprofError("the replica's GPUs (tp x pp, ep with wide EP) must split evenly over num_vms VMs")


# ---------------------------------------------------------------------------------------
# Layer assembly
# ---------------------------------------------------------------------------------------
class _Shapes:
    """Per-GPU attention shapes for a TP degree (arrays)."""

    def __init__(self, ctx: PerfContext, tp: np.ndarray, phase: str):
        m = ctx.model
        self.q_heads = m.num_heads / tp
        if m.is_mla:
            o_params = m.num_heads * m.mla_v_head_dim * m.hidden_size
            self.qkv_n = (m.attention_params_per_layer - o_params) / m.hidden_size / tp
            self.o_k = m.num_heads * m.mla_v_head_dim / tp
            self.kv_elems = np.full(tp.shape, float(m.kv_elements_per_token_per_layer))  # latent replicated
            if phase == "decode":  # weight-absorbed MLA: scores and values in the latent space
                self.qk_dim, self.v_dim = m.mla_kv_lora_rank + m.mla_qk_rope_head_dim, m.mla_kv_lora_rank
            else:
                self.qk_dim = m.mla_qk_nope_head_dim + m.mla_qk_rope_head_dim
                self.v_dim = m.mla_v_head_dim
            self.group = self.q_heads
        else:
            kv_heads = np.maximum(m.num_kv_heads / tp, 1.0)
            self.qkv_n = (self.q_heads + 2 * kv_heads) * m.head_dim
            self.o_k = self.q_heads * m.head_dim
            self.kv_elems = 2 * kv_heads * m.head_dim
            self.qk_dim = self.v_dim = m.head_dim
            self.group = np.full(tp.shape, m.num_heads / m.num_kv_heads)


class _Placement:
    """Where the replica's collectives run: inside a VM or across VMs (arrays)."""

    def __init__(self, ctx: PerfContext, tp, ep, pp, nv):
        wide = ep > tp  # a tp group stays in its VM; the ep ranks span the nv VMs
        vms_per_stage = np.maximum(nv / pp, 1.0)
        self.tp_cross = ~wide & (vms_per_stage > 1)
        self.tp_gpus_per_vm = np.where(wide, tp, tp / vms_per_stage)
        self.ep_cross = np.where(wide, nv > 1, self.tp_cross & (ep > self.tp_gpus_per_vm))
        self.ep_gpus_per_vm = np.where(wide, ep / nv, np.minimum(ep, self.tp_gpus_per_vm))
        self.cross_hops = np.minimum(pp, nv) - 1
        self.intra_hops = pp - 1 - self.cross_hops


def _mla_projections(ctx, T, tp) -> O.OpCost:
    """MLA's projections into attention as the engines run them (vLLM / SGLang DeepSeek-V2/V3):
    the down-projections of q and of the KV latent fused into one GEMM replicated on every TP rank
    (fused_qkv_a_proj_with_mqa), q_b_proj and kv_b_proj split by heads (in decode kv_b is absorbed
    into two batched products with the same FLOPs and weight bytes), and the q_a / kv_a RMSNorms."""
    m, r = ctx.model, ctx.rates
    H, heads = m.hidden_size, m.num_heads / tp
    wb, dt = _weights(ctx, "attention")
    bs = _blocked(ctx, "attention")
    qk_head = m.mla_qk_nope_head_dim + m.mla_qk_rope_head_dim
    q_lora, kv_lora = m.mla_q_lora_rank, m.mla_kv_lora_rank
    down_n = q_lora + kv_lora + m.mla_qk_rope_head_dim
    if q_lora:
        out = O.gemm(r, T, H, down_n, wb, dt, block_scaled=bs) + O.gemm(r, T, q_lora, heads * qk_head, wb, dt, block_scaled=bs)
    else:
        out = O.gemm(r, T, H, down_n - q_lora, wb, dt, block_scaled=bs) + O.gemm(r, T, H, heads * qk_head, wb, dt, block_scaled=bs)
    out = out + O.gemm(r, T, kv_lora, heads * (m.mla_qk_nope_head_dim + m.mla_v_head_dim), wb, dt, block_scaled=bs)
    return out + O.rmsnorm(r, T, (q_lora + kv_lora) / 2 if q_lora else kv_lora / 2, count=2 if q_lora else 1)


def _attention_ops(ctx, shapes, T, tp, phase, kind, decode_batch, context, seqs) -> dict:
    """qkv_proj, attention, o_proj, norms for one attention kind (per GPU)."""
    m, r = ctx.model, ctx.rates
    H = m.hidden_size
    wb, dt = _weights(ctx, "attention")
    chunk = m.attention_chunk_size if kind == "chunked" else None
    window = m.sliding_window if kind == "sliding" else None
    bs = _blocked(ctx, "attention")
    qkv = _mla_projections(ctx, T, tp) if m.is_mla else O.gemm(r, T, H, shapes.qkv_n, wb, dt, block_scaled=bs)
    out = {
        "qkv_proj": qkv.scaled_group(tp),
        "o_proj": O.gemm(r, T, shapes.o_k, H, wb, dt, block_scaled=bs).scaled_group(tp),
        "norms": O.rmsnorm(r, T, H, count=2).scaled_group(tp),
    }
    if phase == "decode":
        span = chunk or window
        attended = np.minimum(context, span) if span else context
        att = O.attention_decode(r, decode_batch, attended, shapes.q_heads, shapes.kv_elems,
                                 ctx.kv_bytes_per_element, shapes.qk_dim, shapes.v_dim, shapes.group)
    else:
        att = O.attention_prefill(r, T / seqs, context, seqs, shapes.q_heads, shapes.kv_elems,
                                  ctx.kv_bytes_per_element, shapes.qk_dim, shapes.v_dim, chunk, window=window)
    out["attention"] = att.scaled_group(tp)
    return out


def _dense_op(ctx, T, tp) -> O.OpCost:
    m = ctx.model
    wd, dd = _weights(ctx, "dense_ffn")
    return O.swiglu_mlp(ctx.rates, T, m.hidden_size, m.dense_intermediate_size / tp, wd, dd, _blocked(ctx, "dense_ffn")).scaled_group(tp)


def _collectives(ctx, T, tp, ep, dp, place, ffn: str) -> O.OpCost:
    """TP all-reduces and EP all-to-alls of one layer."""
    ic, m = ctx.interconnect, ctx.model
    msg = T * m.hidden_size * O.ACT_BYTES
    ar = ic.allreduce_s(msg, tp, place.tp_cross, place.tp_gpus_per_vm)
    if ffn == "dense":
        return O.OpCost(np.zeros_like(T), comm_s=2 * ar)
    a2a_msg = T * dp / ep * m.top_k * m.hidden_size * O.ACT_BYTES
    a2a = ic.alltoall_s(a2a_msg, ep, place.ep_cross, place.ep_gpus_per_vm)
    sub = ic.allreduce_s(msg, tp / ep, place.tp_cross & (tp / ep > place.tp_gpus_per_vm), np.minimum(tp / ep, place.tp_gpus_per_vm))
    ffn_comm = np.where(ep > 1, 2 * a2a + sub, ar)
    return O.OpCost(np.zeros_like(T), comm_s=ar + ffn_comm)


def _head_ops(ctx, T, rows, tp, place) -> dict:
    """Embedding gather, final norm, lm_head (+ sampling), logits gather over TP."""
    m, r, ic = ctx.model, ctx.rates, ctx.interconnect
    H, V = m.hidden_size, m.vocab_size
    wl, dl = _weights(ctx, "lm_head")
    lm = O.gemm(r, rows, H, V / tp, wl, dl) + O.elementwise(r, rows * V / tp * 4.0 * 2, kernels=2)
    gather = ic.alltoall_s(rows * V * O.ACT_BYTES, tp, place.tp_cross, place.tp_gpus_per_vm)
    return {
        "embedding": O.elementwise(r, T * H * O.ACT_BYTES * 2).scaled_group(tp),
        "norms": O.rmsnorm(r, T, H, count=1).scaled_group(tp),
        "lm_head": lm.scaled_group(tp),
        "collectives": O.OpCost(np.zeros_like(T), comm_s=gather),
    }


def _step(ctx: PerfContext, phase: str, T, context, seqs, tp, ep, pp, nv) -> StepResult:
    m, r = ctx.model, ctx.rates
    ovh = r.kernel_overhead_s
    shapes = _Shapes(ctx, tp, phase)
    place = _Placement(ctx, tp, ep, pp, nv)
    dp = np.maximum(ep / tp, 1.0)
    decode_batch = T if phase == "decode" else None
    rows = T if phase == "decode" else seqs  # tokens that need logits

    kinds = m.layer_kinds()
    att = {a: _attention_ops(ctx, shapes, T, tp, phase, a, decode_batch, context, seqs) for a in {k.attention for k in kinds}}
    ffn: dict[str, O.OpCost] = {}
    moe_detail = None
    if any(k.ffn == "moe" for k in kinds):
        ffn["moe"], moe_detail = _moe_op(ctx, T, tp, ep, dp)
    if any(k.ffn == "dense" for k in kinds):
        ffn["dense"] = _dense_op(ctx, T, tp)
    comm = {f: _collectives(ctx, T, tp, ep, dp, place, f) for f in ffn}

    ops_s: dict[str, dict] = {}
    counts: dict[str, int] = {}
    moe_out: dict[str, dict] = {}
    layers_s = np.zeros_like(T)
    layers_comm = np.zeros_like(T)
    sums = {f: np.zeros_like(T) for f in ("flops", "weight_bytes", "kv_bytes", "act_bytes", "active")}
    per_gpu = {"weight_bytes": np.zeros_like(T), "kv_bytes": np.zeros_like(T)}
    for k in kinds:
        parts = dict(att[k.attention])
        parts["moe" if k.ffn == "moe" else "dense_mlp"] = ffn[k.ffn]
        parts["collectives"] = comm[k.ffn]
        ops_s[k.key] = {name: c.time_s(ovh) for name, c in parts.items()}
        counts[k.key] = k.count
        layer = sum(ops_s[k.key].values())
        layers_s = layers_s + k.count * layer
        layers_comm = layers_comm + k.count * parts["collectives"].comm_s
        for c in parts.values():
            sums["flops"] = sums["flops"] + k.count * c.flops_group
            sums["weight_bytes"] = sums["weight_bytes"] + k.count * c.weight_bytes_group
            sums["kv_bytes"] = sums["kv_bytes"] + k.count * c.kv_bytes_group
            sums["act_bytes"] = sums["act_bytes"] + k.count * c.act_bytes_group
            sums["active"] = sums["active"] + k.count * tp * (c.busy_s + c.kernels * ovh)
            per_gpu["weight_bytes"] = per_gpu["weight_bytes"] + k.count * c.weight_bytes
            per_gpu["kv_bytes"] = per_gpu["kv_bytes"] + k.count * c.kv_bytes
        if k.ffn == "moe":
            moe_out[k.key] = moe_detail

    head = _head_ops(ctx, T, rows, tp, place)
    ops_s[HEAD_KEY] = {name: c.time_s(ovh) for name, c in head.items()}
    counts[HEAD_KEY] = 1
    head_s = sum(ops_s[HEAD_KEY].values())
    head_comm = head["collectives"].comm_s
    for c in head.values():
        sums["flops"] = sums["flops"] + c.flops_group
        sums["weight_bytes"] = sums["weight_bytes"] + c.weight_bytes_group
        sums["kv_bytes"] = sums["kv_bytes"] + c.kv_bytes_group
        sums["act_bytes"] = sums["act_bytes"] + c.act_bytes_group
        sums["active"] = sums["active"] + tp * (c.busy_s + c.kernels * ovh)

    ic = ctx.interconnect
    hop_msg = 2 * T * m.hidden_size * O.ACT_BYTES  # hidden state + residual
    hop_in, hop_x = ic.p2p_s(hop_msg, False), ic.p2p_s(hop_msg, True)
    p2p_total = place.cross_hops * hop_x + place.intra_hops * hop_in
    stage_frac = np.ceil(m.num_layers / pp) / m.num_layers
    total_s = layers_s + head_s + p2p_total
    stage_s = layers_s * stage_frac + head_s + np.where(pp > 1, np.where(place.cross_hops > 0, hop_x, hop_in), 0.0)
    comm_s = layers_comm + head_comm + p2p_total

    head_wb = head["lm_head"].weight_bytes + head["embedding"].weight_bytes
    wb_gpu = per_gpu["weight_bytes"] * stage_frac + head_wb
    kv_gpu = per_gpu["kv_bytes"] * stage_frac
    gpus = tp * pp
    bytes_total = sums["weight_bytes"] + sums["kv_bytes"] + sums["act_bytes"]
    energy, energy_model = step_energy_j(ctx.gpu, ctx.profile, total_s, gpus, sums["active"], sums["flops"], bytes_total)
    return StepResult(
        total_s=total_s,
        stage_s=stage_s,
        comm_s=comm_s,
        flops=sums["flops"],
        weight_bytes=sums["weight_bytes"],
        weight_bytes_per_gpu=wb_gpu,
        kv_bytes=sums["kv_bytes"],
        kv_bytes_per_gpu=kv_gpu,
        act_bytes=sums["act_bytes"],
        energy_j=energy,
        ops=ops_s,
        layer_counts=counts,
        moe=moe_out,
        energy_model=energy_model,
    )


# ---------------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------------
def decode_step(ctx: PerfContext, batch, context, tp=1, ep=1, pp=1, num_vms=1) -> StepResult:
    """One decode iteration: `batch` running sequences, each with `context` tokens of KV.
    Chunked-attention layers read at most attention_chunk_size tokens of KV per sequence
    (min(context, chunk): the cost at the chunk's last position, an upper bound); sliding-window
    layers read min(context, window). Attention sinks (one logit per head) cost nothing measurable."""
    a = _as_arrays(batch=batch, context=context, tp=tp, ep=ep, pp=pp, nv=num_vms)
    _check("batch", a["batch"])
    _check("context", a["context"])
    _check_parallel(a["tp"], a["ep"], a["pp"], a["nv"])
    return _step(ctx, "decode", a["batch"], a["context"], None, a["tp"], a["ep"], a["pp"], a["nv"])


def prefill_step(ctx: PerfContext, tokens, context, tp=1, ep=1, pp=1, num_vms=1, sequences=1) -> StepResult:
    """A prefill chunk of `tokens` new tokens (summed over `sequences` equal sequences), each
    sequence's new tokens being the last of its `context` tokens (causal within the chunk; a
    whole prompt of length L is tokens = context = L). Logits are computed for one token per
    sequence. Chunked layers count exactly the pairs inside each chunk, so for a fixed chunk size
    a later chunk of a long prompt can cost less attention than an earlier one."""
    a = _as_arrays(tokens=tokens, context=context, tp=tp, ep=ep, pp=pp, nv=num_vms, seqs=sequences)
    _check("tokens", a["tokens"])
    _check("sequences", a["seqs"], integer=True)
    _check("context", a["context"])
    if np.any(a["tokens"] / a["seqs"] > a["context"] + 1e-9):
        raise MoeprofError("context must be >= the new tokens per sequence (tokens / sequences)")
    _check_parallel(a["tp"], a["ep"], a["pp"], a["nv"])
    return _step(ctx, "prefill", a["tokens"], a["context"], a["seqs"], a["tp"], a["ep"], a["pp"], a["nv"])
