"""The validation section of the profile report: every probe row the performance model can
predict, predicted against measured (moeprof.validation, the profile's own curves with each row
held out where that is not an extrapolation), as a summary (median and worst |error|) and the
per-row table."""

from __future__ import annotations

from ..errors import MoeprofError
from ..validation import validate_profile
from . import figures as F
from .html import Page, esc, not_available, table
from .plan_data import ValidationPoints

ROW_LIMIT = 300


def _stats_rows(summary: dict) -> list[list]:
    out = []
    for key, what in (("time", "time, all rows"), ("time_held_out", "time, held-out rows"), ("memory", "KV-cache memory")):
        s = summary.get(key)
        if s:
            out.append([what, s["rows"], f"{s['median_abs_pct']:.1f}", f"{s['worst_abs_pct']:.1f}", s["worst_case"]])
    for probe, s in summary.get("by_probe", {}).items():
        out.append([f"probe {probe}", s["rows"], f"{s['median_abs_pct']:.1f}", f"{s['worst_abs_pct']:.1f}", s["worst_case"]])
    return out


def _points(checks) -> list[ValidationPoints]:
    by: dict[str, ValidationPoints] = {}
    for c in checks:
        unit, scale = ("ms", 1.0) if c.quantity == "ms" else ("MiB", 2.0 ** -20)
        vp = by.setdefault(f"{c.probe} ({unit})", ValidationPoints(f"{c.probe} ({unit})", unit, [], [], []))
        vp.labels.append(f"{c.probe} {c.case}")
        vp.predicted.append(c.predicted * scale)
        vp.measured.append(c.measured * scale)
    return list(by.values())


def validation_section(page: Page, profile) -> str:
    try:
        v = validate_profile(profile, "self")
    except MoeprofError as e:
        return not_available("validation", str(e))
    if not v.checks:
        left = ", ".join(f"{p} ({n})" for p, n in v.not_predicted.items()) or "none"
        return not_available("validation", f"no row of this profile can be predicted by the performance model "
                                           f"(rows not predicted: {left})")
    s = v.summary()
    out = [
        f"<p>Each probe row the performance model predicts, against what the probe measured. Rates: "
        f"{esc(v.rates_from)}; GPU: {esc(v.gpu_spec)}. {esc(v.note[:1].upper() + v.note[1:])}. Error = (predicted - "
        "measured) / measured. Run it yourself with <code>moeprof validate --profile FILE</code>.</p>",
        table(["rows", "count", "median |error| (%)", "worst |error| (%)", "worst case"], _stats_rows(s), {1, 2, 3}),
    ]
    if s.get("not_predicted"):
        out.append("<p><small>Not predicted: " + esc(", ".join(f"{p} ({n})" for p, n in s["not_predicted"].items()))
                   + ".</small></p>")
    out.append(page.figure(F.validation_figure(_points(v.checks)),
                           "<b>Source</b>: moeprof validate on this profile (calibration self). Dotted: +-20 %."))
    body = []
    for c in v.checks[:ROW_LIMIT]:
        unit, scale = ("ms", 1.0) if c.quantity == "ms" else ("MiB", 2.0 ** -20)
        held = ("held out" if c.held_out else "in-sample") if c.quantity == "ms" else "memory model"
        body.append([c.probe, c.case, f"{c.predicted * scale:.4g} {unit}", f"{c.measured * scale:.4g} {unit}",
                     f"{c.error_pct:+.1f}", held])
    more = f"<p>... and {len(v.checks) - ROW_LIMIT:,} more rows.</p>" if len(v.checks) > ROW_LIMIT else ""
    out.append(f"<details><summary>Per row ({len(v.checks):,})</summary>"
               + table(["probe", "case", "predicted", "measured", "error (%)", "how"], body, {2, 3, 4}) + more
               + "</details>")
    return "".join(out)
