"""`moeprof validate`: predicted vs measured for every row of a profile the model can predict.

Predictions come from the performance model (moeprof.perf.probe_rows: the planner's own op
costs at the probe's shapes); rows it does not cover are counted as not predicted. It sits
above both moeprof.perf and moeprof.probes (it refits the probes' curves without each row),
and neither imports it. The rates used are chosen by `calibration`:
    self     the profile's own curves. For a measured profile each row is held out: it is
             predicted from curves refit without it (fit.fit_curves), so a curve point measured
             by that row alone is not "predicted" from itself; the error shows interpolation
             between sizes, aggregation over shapes and the MoE composition. A published profile
             has no rows to refit from: its rows are in-sample (marked so).
    shipped  the shipped profile for the same GPU (how far the uncalibrated planner is off)
    none     no curves: datasheet ceilings x published efficiencies
KV-cache rows compare the memory model's bytes with what the allocator holds. No torch here.

`python -m moeprof.validation --profile P [--calibration C] [--json]` runs it without click."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import asdict, dataclass, field, replace

from .catalog.hardware.vms import GpuSpec, load_gpus
from .errors import MoeprofError
from .kernel_tables.heldout import score_tables
from .perf.probe_rows import predict_memory_row, predict_row
from .probes.fit import fit_curves
from .profile import Profile, default_profile_for, resolve_profile
from .units import MiB

CALIBRATIONS = ("self", "shipped", "none")
PREDICTOR = "moeprof.perf.probe_rows"


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
    kernel_tables: dict = field(default_factory=dict)  # held-out check of the kernel tables (see kernel_table_check)

    def summary(self) -> dict:
        def stats(cs):
            errs = [abs(c.error_pct) for c in cs]
            worst = max(cs, key=lambda c: abs(c.error_pct))
            return {
                "rows": len(cs),
                "median_abs_pct": statistics.median(errs),
                "worst_abs_pct": abs(worst.error_pct),
                "worst_case": f"{worst.probe} {worst.case}",
            }

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
        if self.kernel_tables:
            out["kernel_tables"] = {"all": self.kernel_tables["all"], "by_op": self.kernel_tables["by_op"]}
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
            "kernel_tables": self.kernel_tables,
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
        raise MoeprofError(
            f"{profile.path or profile.gpu}: GPU '{profile.gpu}' is not in the catalog and the profile has no ceiling rows (gemm_peak, copy) to stand in"
        )
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
            pred, meas, qty, who = predict_memory_row(row), row.get("measured_bytes"), "bytes", "memory model"
            held = False
        else:
            meas, qty = row.get("ms"), "ms"
            if hold_out:
                use, held = _held_out(profile, i, fitted_kinds, full)
            else:  # rates from elsewhere are out of sample; a published profile's own are not
                use, held = rates, rates is not profile
            pred, who = predict_row(row, gpu, use), PREDICTOR
        if pred is None or not meas or meas <= 0:
            if probe not in ("moe_weights", "energy", "kernel_overhead", "telemetry"):
                v.not_predicted[probe] = v.not_predicted.get(probe, 0) + 1
            continue
        v.checks.append(RowCheck(i, probe, case_label(row), qty, float(pred), float(meas), (pred - meas) / meas * 100.0, who, qty == "ms" and held))
    v.kernel_tables = kernel_table_check(profile)
    return v


def kernel_table_check(profile: Profile) -> dict:
    """The profile's kernel tables scored on held-out grid cells (moeprof.kernel_tables.heldout):
    `all` and `by_op` hold one value out along one axis at a time, `all_axes` every other value of
    every axis at once."""
    tables = profile.kernel_tables
    if tables is None:
        return {}
    per, by_op, pooled = score_tables(tables.tables, "one_axis")
    per2, by_op2, pooled2 = score_tables(tables.tables, "all_axes")
    return {"method": "every other grid value held out, along one axis at a time (and along all axes at once)",
            "all": pooled, "by_op": by_op, "all_axes": {"all": pooled2, "by_op": by_op2},
            "tables": [t.to_json() for t in per + per2]}


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


def validation_lines(v: Validation, prof: Profile) -> list[str]:
    s = v.summary()
    out = [f"validate {v.profile}: {prof.label}, gpu {v.gpu} ({v.gpu_spec})", f"rates: {v.rates_from}"]
    who: dict[str, int] = {}
    for c in v.checks:
        who[c.predictor] = who.get(c.predictor, 0) + 1
    if who:
        out.append("predicted by: " + ", ".join(f"{k} ({n} rows)" for k, n in who.items()))
    if not v.checks and not v.kernel_tables:
        out.append("no row of this profile can be predicted (measure one with `moeprof probe`)")
    elif not v.checks:
        out.append("no probe rows in this profile")
    else:
        out.append(f"{'probe':<18}{'case':<44}{'predicted':>12}{'measured':>12}{'error':>9}")
        for c in v.checks:
            unit, scale = ("ms", 1.0) if c.quantity == "ms" else ("MiB", 2**20)
            mark = "  (in-sample)" if c.quantity == "ms" and not c.held_out else ""
            out.append(f"{c.probe:<18}{c.case[:43]:<44}{c.predicted / scale:>9.4g} {unit:<3}{c.measured / scale:>8.4g} {unit:<3}{c.error_pct:>+8.1f}%{mark}")
        out.append(f"note: {v.note}")
        for key, title in (("time", "time, all rows"), ("time_held_out", "time, held-out rows"), ("memory", "memory")):
            if key in s:
                t = s[key]
                out.append(
                    f"summary ({title}): {t['rows']} rows; median |error| {t['median_abs_pct']:.1f}%, worst {t['worst_abs_pct']:.1f}% ({t['worst_case']})"
                )
        out.append(
            "by probe: " + "; ".join(f"{p} n={t['rows']} median {t['median_abs_pct']:.1f}% worst {t['worst_abs_pct']:.1f}%" for p, t in s["by_probe"].items())
        )
    if s["not_predicted"]:
        out.append("not predicted: " + ", ".join(f"{p} ({n})" for p, n in s["not_predicted"].items()))
    if v.kernel_tables:
        kt = v.kernel_tables
        out.append(f"kernel tables ({kt['method']}):")
        out.append(f"  {'op':<22}{'tables':>7}{'cells':>8}{'median |err|':>14}{'p90':>8}{'worst':>9}"
                   f"   all axes: {'median':>7}{'p90':>8}")
        rows = list(kt["by_op"].items()) + [("all", dict(kt["all"], tables=sum(t["tables"] for t in kt["by_op"].values())))]
        two = dict(kt["all_axes"]["by_op"], all=kt["all_axes"]["all"])
        for op, t in rows:
            b = two.get(op, {})
            tail = f"{b['median_abs_pct']:>16.1f}%{b['p90_abs_pct']:>7.1f}%" if b else ""
            out.append(f"  {op:<22}{t['tables']:>7}{t['cells']:>8}{t['median_abs_pct']:>13.1f}%{t['p90_abs_pct']:>7.1f}%"
                       f"{t['worst_abs_pct']:>8.1f}%{tail}")
    return out


def main(argv=None) -> int:
    """`moeprof validate` without click (for a bare GPU image with torch but not click)."""
    ap = argparse.ArgumentParser(prog="python -m moeprof.validation")
    ap.add_argument("--profile", required=True)
    ap.add_argument("--calibration", choices=CALIBRATIONS, default="self")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    try:
        prof = resolve_profile(args.profile)
        val = validate_profile(prof, args.calibration)
        print(json.dumps(val.to_json(), indent=2) if args.json else "\n".join(validation_lines(val, prof)))
    except MoeprofError as e:
        print(f"moeprof: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
