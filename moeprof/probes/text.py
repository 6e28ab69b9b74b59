"""Plain-text summaries of a probe run and of a validation, shared by the click CLI and the
dependency-free fallback entry point (python -m moeprof.probes). No torch, no click here."""

from __future__ import annotations

from ..profile import CURVE_KINDS, Profile
from .validate import Validation

UNITS = {"flop_per_s": "FLOP/s", "bytes_per_s": "B/s", "bus_bytes_per_s": "B/s bus"}


def fmt_rate(v: float, unit: str) -> str:
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= scale:
            return f"{v / scale:.4g} {prefix}{unit}"
    return f"{v:.4g} {unit}"


def error_counts(prof: Profile) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in prof.rows:
        if "error" in r:
            out[r["error"]] = out.get(r["error"], 0) + 1
    return out


def probe_summary(prof: Profile, path, elapsed_s: float) -> dict:
    return {
        "path": str(path),
        "gpu": prof.gpu,
        "device_name": prof.provenance.get("device_name"),
        "elapsed_s": elapsed_s,
        "rows": len(prof.rows),
        "errors": error_counts(prof),
        "curves": {k: {"x": list(c.x), "y": list(c.y)} for k, c in prof.curves.items()},
        "scalars": dict(prof.scalars),
    }


def probe_lines(prof: Profile, path, elapsed_s: float) -> list[str]:
    out = [f"wrote {path}: measured profile of {prof.provenance.get('device_name')} (gpu key {prof.gpu}), {len(prof.rows)} rows in {elapsed_s:.1f} s"]
    errors = error_counts(prof)
    if errors:
        out.append("  rows with errors: " + ", ".join(f"{k} {v}" for k, v in sorted(errors.items())))
    for name, c in prof.curves.items():
        xname, yname = CURVE_KINDS[name]
        unit = UNITS.get(yname, yname)
        out.append(f"  {name:<18} {len(c.x):>2} points  {xname} {c.x[0]:g}..{c.x[-1]:g}: {fmt_rate(min(c.y), unit)} .. {fmt_rate(max(c.y), unit)}")
    for k, v in prof.scalars.items():
        out.append(f"  {k:<20} {v:.4g}")
    out.append(f"next: moeprof validate --profile {path}")
    return out


def validation_lines(v: Validation, prof: Profile) -> list[str]:
    s = v.summary()
    out = [f"validate {v.profile}: {prof.label}, gpu {v.gpu} ({v.gpu_spec})", f"rates: {v.rates_from}"]
    who: dict[str, int] = {}
    for c in v.checks:
        who[c.predictor] = who.get(c.predictor, 0) + 1
    if who:
        out.append("predicted by: " + ", ".join(f"{k} ({n} rows)" for k, n in who.items()))
    if not v.checks:
        out.append("no row of this profile can be predicted (measure one with `moeprof probe`)")
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
                out.append(f"summary ({title}): {t['rows']} rows; median |error| {t['median_abs_pct']:.1f}%, worst {t['worst_abs_pct']:.1f}% ({t['worst_case']})")
        out.append("by probe: " + "; ".join(f"{p} n={t['rows']} median {t['median_abs_pct']:.1f}% worst {t['worst_abs_pct']:.1f}%" for p, t in s["by_probe"].items()))
    if s["not_predicted"]:
        out.append("not predicted: " + ", ".join(f"{p} ({n})" for p, n in s["not_predicted"].items()))
    return out
