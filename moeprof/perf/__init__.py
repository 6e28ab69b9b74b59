"""Per-op performance model for MoE inference (no torch).

    ctx = make_context(model, gpu, quant, kv_dtype, profile=None, vm=None, routing_skew=0.0)
    decode_step(ctx, batch, context, tp=1, ep=1, pp=1, num_vms=1) -> StepResult
    prefill_step(ctx, tokens, context, tp=1, ep=1, pp=1, num_vms=1, sequences=1) -> StepResult
    estimate(ctx, phase, batch, context) -> dict (the `moeprof estimate` JSON)

Modules: rates (achieved FLOP/s and bytes/s), moe (routing statistics), collectives
(interconnect), ops (per-op roofline costs), probe_rows (predictions of probe rows), step (layers -> model),
estimate (report), energy (step energy), efficiency (published fallback efficiencies),
context (PerfContext, profile resolution, calibration labels).
"""

from .context import PerfContext, calibration_label, make_context, resolve_profile
from .energy import idle_power_w
from .estimate import estimate
from .probe_rows import predict_memory_row, predict_row
from .step import StepResult, decode_step, prefill_step

__all__ = [
    "PerfContext",
    "StepResult",
    "calibration_label",
    "idle_power_w",
    "decode_step",
    "estimate",
    "make_context",
    "predict_memory_row",
    "predict_row",
    "prefill_step",
    "resolve_profile",
]
