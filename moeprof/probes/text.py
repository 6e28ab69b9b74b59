"""Plain-text summaries of a probe run, shared by the click CLI and the
dependency-free fallback entry point (python -m moeprof.probes). No torch, no click here."""

from __future__ import annotations

from ..profile import CURVE_KINDS, Profile

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
