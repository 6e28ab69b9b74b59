"""PerfContext: everything fixed for one (model, GPU, quantization, KV dtype) evaluation."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..catalog.hardware.vms import GpuSpec, VmSpec
from ..catalog.models import ModelSpec
from ..catalog.models.quant import QuantRecipe, kv_bytes_per_element
from ..errors import MoeprofError
from ..profile import Profile, default_profile_for, load_profile_or_shipped
from .collectives import Interconnect
from .efficiency import Efficiencies, load_efficiencies
from .moe import inclusion_probabilities
from .moe_kernels import MXFP4_KERNELS
from .rates import Rates

DATASHEET = ("datasheet", "none", "published-efficiency")


@dataclass(frozen=True, eq=False)
class PerfContext:
    """model, gpu, quant, kv_dtype ('bf16' | 'fp8'); profile None -> datasheet x published
    efficiencies; vm for collective curves and InfiniBand bandwidth; routing_skew 0 = uniform,
    else the Zipf exponent s of expert popularity; mxfp4_moe_kernel: the fused MoE kernel MXFP4
    experts run ("": the engine's default; "marlin": perf.moe_kernels)."""

    model: ModelSpec
    gpu: GpuSpec
    quant: QuantRecipe
    kv_dtype: str
    profile: Profile | None = None
    vm: VmSpec | None = None
    routing_skew: float = 0.0
    mxfp4_moe_kernel: str = ""

    # ---- derived, computed once ---------------------------------------------------------
    @cached_property
    def efficiencies(self) -> Efficiencies:
        return load_efficiencies(self.gpu.key)

    @cached_property
    def rates(self) -> Rates:
        return Rates(self.gpu, self.profile, self.efficiencies)

    @cached_property
    def interconnect(self) -> Interconnect:
        return Interconnect(self.gpu, self.vm, self.profile, self.efficiencies, self.rates.collective_latency_s,
                            self.rates.table_use)

    @cached_property
    def kv_bytes_per_element(self) -> float:
        return kv_bytes_per_element(self.kv_dtype)

    @cached_property
    def expert_inclusion(self) -> np.ndarray:
        """[E] probability that expert i is in one token's top-k (popularity order)."""
        return inclusion_probabilities(self.model.num_experts, self.model.top_k, self.routing_skew)

    def calibration_label(self) -> str:
        """One line: where this context's rates come from."""
        if self.profile is None:
            return "uncalibrated: datasheet x published efficiencies"
        tail = "" if self._profile_complete() else " + datasheet fallback"
        return f"{self.profile.label}{tail}"

    def _profile_complete(self) -> bool:
        curves = ("gemm_bf16", "memory_copy", "attention_decode", "attention_prefill")
        curves += ("gemm_fp8",) if self.gpu.supports_fp8 and self.quant.uses_fp8 else ()
        return self.profile is not None and all(self.rates.uses_curve(c) for c in curves)

    def calibration(self) -> dict:
        """Which rates come from a profile and which from the datasheet fallback."""
        r, ic = self.rates, self.interconnect
        measured = self.profile is not None and self.profile.calibrated
        complete = self._profile_complete()
        if self.profile is None:
            status = "uncalibrated: datasheet peaks x published efficiencies (moeprof/data/efficiency.json)"
        elif measured:
            status = "calibrated: measured profile" + ("" if complete else " (some curves missing: datasheet fallback for those)")
        else:
            status = "published measurements profile (not measured on this deployment)" + (
                "" if complete else "; datasheet fallback for missing curves"
            )
        return {
            "label": self.calibration_label(),
            "calibrated": bool(measured and complete),
            "status": status,
            "profile": (self.profile.path or self.profile.gpu) if self.profile is not None else None,
            "profile_source": self.profile.source if self.profile is not None else None,
            "gpu": self.gpu.key,
            "efficiency_defaults_for": "default (GPU not listed)" if self.efficiencies.from_default else self.gpu.key,
            "rates": dict(r.sources),
            "interconnect": dict(ic.sources),
            "uncertain_defaults": [f for f in self.efficiencies.uncertain],
        }


def make_context(model, gpu, quant, kv_dtype="bf16", profile=None, vm=None, routing_skew=0.0,
                 mxfp4_moe_kernel: str = "") -> PerfContext:
    """Validate and build a PerfContext (the caller decides the profile; see resolve_profile)."""
    kv_bytes_per_element(kv_dtype)  # raises on an unknown KV dtype
    skew = float(routing_skew)
    if not math.isfinite(skew) or skew < 0:
        raise MoeprofError(f"routing skew must be a finite number >= 0 (0 = uniform), got {routing_skew!r}")
    if profile is not None and profile.gpu != gpu.key:
        raise MoeprofError(f"profile {profile.path or profile.gpu} is for GPU '{profile.gpu}', not '{gpu.key}'")
    if vm is not None and vm.gpu.key != gpu.key:
        raise MoeprofError(f"VM {vm.key} has GPU '{vm.gpu.key}', not '{gpu.key}'")
    if mxfp4_moe_kernel not in MXFP4_KERNELS:
        raise MoeprofError(f"unknown MXFP4 MoE kernel {mxfp4_moe_kernel!r} (known: {', '.join(k or 'default' for k in MXFP4_KERNELS)})")
    return PerfContext(model, gpu, quant, kv_dtype.strip().lower(), profile, vm, skew, mxfp4_moe_kernel)


def resolve_profile(gpu: GpuSpec, path_or_none: str | None) -> Profile | None:
    """None -> the shipped profile for this GPU if any (measured preferred), else None;
    'datasheet' / 'none' -> None (force the uncalibrated fallback); a path or a shipped profile's
    file stem (h100-sxm-80gb.aic-vllm) -> that profile, which must be for this GPU."""
    if path_or_none is None:
        return default_profile_for(gpu.key)
    if str(path_or_none).strip().lower() in DATASHEET:
        return None
    prof = load_profile_or_shipped(path_or_none)
    if prof.gpu != gpu.key:
        raise MoeprofError(f"profile {path_or_none} is for GPU '{prof.gpu}', not '{gpu.key}'")
    return prof


def calibration_label(ctx: PerfContext) -> str:
    return ctx.calibration_label()
