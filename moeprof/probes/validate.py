"""`moeprof validate`: predicted vs measured for every row of a profile the model can predict.

Predictions come from moeprof.perf.ops.predict_row (the performance model) when it exists and
covers the row, else from moeprof.probes.predict (a roofline x the profile's curves, same
signature). The rates used are chosen by `calibration`:
    self     the profile's own curves. For a measured profile each row is held out: it is
             predicted from curves refit without it (fit.fit_curves), so a curve point measured
             by that row alone is not "predicted" from itself; the error shows interpolation
             between sizes, aggregation over shapes and the MoE composition. A published profile
             has no rows to refit from: its rows are in-sample (marked so).
    shipped  the shipped profile for the same GPU (how far the uncalibrated planner is off)
    none     no curves: datasheet ceilings x published efficiencies
KV-cache rows compare the memory model's bytes with what the allocator holds. No torch here."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field, replace

from ..catalog.hardware import GpuSpec, load_gpus
from ..errors import MoeprofError
from ..profile import Profile, default_profile_for
from . import predict as local
from .fit import fit_curves

CALIBRATIONS = ("self", "shipped", "none")
MiB = 1024**2


@dataclass
class RowCheck:
    index: int
    probe: str
    case: str
    quantity: str  # ms | bytes
    predicted: float
    measured: float
    error_pct: float  # (predicted - measured) / measured x 100
    predictor: str
    held_out: bool = False  # predicted from curves fitted without this row


@dataclass
class Validation:
    profile: str
    gpu: str
    gpu_spec: str
    calibration: str
    rates_from: str
    checks: list[RowCheck] = field(default_factory=list)
    not_predicted: dict = field(default_factory=dict)  # probe -> count
    note: str = ""

    def summary(self) -> dict:
        def stats(cs):
            errs = [abs(c.error_pct) for c in cs]
            worst = max(cs, key=lambda c: abs(c.error_pct))
            return {"rows": len(cs), "median_abs_pct": statistics.median(errs), "worst_abs_pct": abs(worst.error_pct), "worst_case": f"{worst.probe} {worst.case}"}

        out: dict = {"rows": len(self.checks)}
        timed = [c for c in self.checks if c.quantity == "ms"]
        if timed:
            out["time"] = stats(timed)
        held = [c for c in timed if c.held_out]
        if held and len(held) < len(timed):
            out["time_held_out"] = stats(held)
        mem = [c for c in self.checks if c.quantity == "bytes"]
        if mem:
            out["memory"] = stats(mem)
        out["by_probe"] = {p: stats([c for c in self.checks if c.probe == p]) for p in dict.fromkeys(c.probe for c in self.checks)}
        out["not_predicted"] = dict(self.not_predicted)
        return out

    def to_json(self) -> dict:
        return {
            "profile": self.profile,
            "gpu": self.gpu,
            "gpu_spec": self.gpu_spec,
            "calibration": self.calibration,
            "rates_from": self.rates_from,
            "note": self.note,
            "rows": [asdict(c) for c in self.checks],
            "summary": self.summary(),
        }


def case_label(row: dict) -> str:
    p = row.get("probe")
    if p in ("gemm", "gemm_peak"):
        return f"{row.get('dtype')} {row.get('shape', 'square')} m={row.get('m_tokens')} k={row.get('k')} n={row.get('n')}"
    if p == "copy":
        return f"{row.get('buffer_bytes', 0) / MiB:g} MiB"
    if p == "attention_decode":
        return f"B={row.get('batch')} L={row.get('kv_len')}"
    if p == "attention_prefill":
        return f"L={row.get('seq_tokens')}"
    if p == "moe_layer":
        return f"{row.get('impl')} T={row.get('t_tokens')} E={row.get('num_experts')}"
    if p in ("allreduce", "alltoall"):
        return f"{row.get('message_bytes')} B x{row.get('world_size')}"
    if p == "kv_cache":
        return f"{row.get('tokens')} tokens x {row.get('layers')} layers"
    return ""


def gpu_for_profile(profile: Profile) -> tuple[GpuSpec, str]:
    """The catalog GPU for the profile, else ceilings taken from its own probe rows (a CPU or a
    GPU the catalog does not list): (spec, description)."""
    gpus = load_gpus()
    if profile.gpu in gpus:
        return gpus[profile.gpu], f"catalog {profile.gpu}"

    def best(probe, key, **match):
        vals = [r[key] for r in profile.rows if r.get("probe") == probe and "error" not in r and r.get(key) and all(r.get(k) == v for k, v in match.items())]
        return max(vals) if vals else None

    bf16 = best("gemm_peak", "flop_per_s", dtype="bf16") or best("gemm", "flop_per_s", dtype="bf16")
    fp8 = best("gemm_peak", "flop_per_s", dtype="fp8") or best("gemm", "flop_per_s", dtype="fp8")
    hbm = best("copy", "bytes_per_s")
    if not bf16 or not hbm:
        raise MoeprofError(f"{profile.path or profile.gpu}: GPU '{profile.gpu}' is not in the catalog and the profile has no ceiling rows (gemm_peak, copy) to stand in")
    mem = (profile.provenance.get("device") or {}).get("memory_total_bytes") or 0.0
    spec = GpuSpec(
        key=profile.gpu,
        name=str(profile.provenance.get("device_name", profile.gpu)),
        vendor="",
        arch="",
        memory_bytes=float(mem),
        usable_memory_bytes=float(mem),
        hbm_bytes_per_s=float(hbm),
        bf16_flop_per_s=float(bf16),
        fp8_flop_per_s=float(fp8 or bf16),
        tdp_w=0.0,
        scale_up="",
        scale_up_bytes_per_s=0.0,
        supports_fp8=bool(fp8),
    )
    return spec, f"ceilings probed in the profile ({profile.gpu} is not in the GPU catalog)"


def _perf_predictor():
    try:
        from ..perf.ops import predict_row  # the performance model, when it provides per-op costs
    except ImportError:
        return None
    return predict_row


def validate_profile(profile: Profile, calibration: str = "self") -> Validation:
    if calibration not in CALIBRATIONS:
        raise MoeprofError(f"unknown calibration {calibration!r} (known: {', '.join(CALIBRATIONS)})")
    gpu, gpu_desc = gpu_for_profile(profile)
    if calibration == "self":
        rates, rates_from = profile, f"this profile's curves ({profile.label})"
    elif calibration == "shipped":
        rates = default_profile_for(profile.gpu)
        if rates is None:
            raise MoeprofError(f"no shipped profile for GPU '{profile.gpu}' (use --calibration self or none)")
        rates_from = f"shipped {rates.label}"
    else:
        rates, rates_from = None, "datasheet ceilings x published efficiencies (no curves)"
    perf = _perf_predictor()
    hold_out = calibration == "self" and profile.source == "measured"
    full = fit_curves(profile.rows) if hold_out else {}
    fitted_kinds = set(full)
    if hold_out:
        note = "each row is predicted from curves refit without it; rows marked in-sample alone gave a curve its end point (holding them out would extrapolate)"
    elif rates is profile:
        note = "a published profile's rows are the points its curves were built from: in-sample, not a test of the model (try --calibration none)"
    else:
        note = ("the rates do not come from this profile's curves (the performance model's own efficiencies may "
                "come from the same publications as a shipped profile's rows)")
    v = Validation(profile=profile.path or profile.gpu, gpu=profile.gpu, gpu_spec=gpu_desc, calibration=calibration, rates_from=rates_from, note=note)
    for i, row in enumerate(profile.rows):
        if "error" in row:
            continue
        probe = row.get("probe", "?")
        if probe == "kv_cache":
            pred, meas, qty, who = local.predict_memory_row(row), row.get("measured_bytes"), "bytes", "memory model"
            held = False
        else:
            meas, qty = row.get("ms"), "ms"
            if hold_out:
                use, held = _held_out(profile, i, fitted_kinds, full)
            else:  # rates from elsewhere are out of sample; a published profile's own are not
                use, held = rates, rates is not profile
            pred, who = None, ""
            if perf is not None:
                try:
                    pred, who = perf(row, gpu, use), "moeprof.perf.ops.predict_row"
                except Exception:  # a row kind the performance model does not take
                    pred = None
            if pred is None:
                pred, who = local.predict_row(row, gpu, use), "moeprof.probes.predict (roofline)"
        if pred is None or not meas or meas <= 0:
            if probe not in ("moe_weights", "energy", "kernel_overhead", "telemetry"):
                v.not_predicted[probe] = v.not_predicted.get(probe, 0) + 1
            continue
        v.checks.append(RowCheck(i, probe, case_label(row), qty, float(pred), float(meas), (pred - meas) / meas * 100.0, who, qty == "ms" and held))
    return v


def _held_out(profile: Profile, i: int, fitted_kinds: set, full: dict) -> tuple[Profile, bool]:
    """(profile with its curves refit without row i, True), or (profile, False) when row i alone
    gives a curve its first or last point: holding it out would turn the prediction into an
    extrapolation past the measured range, which the model never does (curves clamp)."""
    loo = fit_curves(profile.rows[:i] + profile.rows[i + 1 :])
    for k in fitted_kinds:
        if k not in loo or loo[k].x[0] > full[k].x[0] or loo[k].x[-1] < full[k].x[-1]:
            return profile, False
    curves = {k: c for k, c in profile.curves.items() if k not in fitted_kinds}
    curves.update({k: c for k, c in loo.items() if k in fitted_kinds})
    return replace(profile, curves=curves), True
