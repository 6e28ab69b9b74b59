"""The probe report: one HTML page of a GPU profile (`moeprof probe` output, schema moeprof.profile):
provenance as a table, every efficiency curve with its source, the scalars, telemetry over time
(series named in words, in the unit of their axis), the validation of the profile's rows against
the performance model (report.profile_validation), and the raw probe rows."""

from __future__ import annotations

import json
import math

from . import figures as F
from .html import Page, esc, not_available, table
from .profile_validation import validation_section

# curve axis meaning (moeprof.profile.CURVE_KINDS) -> (axis title with unit, scale from base units)
AXES = {
    "m_tokens": ("GEMM rows M (tokens)", 1.0),
    "t_tokens": ("tokens per MoE layer call", 1.0),
    "seq_tokens": ("sequence length (tokens)", 1.0),
    "bytes": ("bytes moved, read + write (bytes)", 1.0),
    "kv_bytes": ("KV bytes read per step (bytes)", 1.0),
    "message_bytes": ("message size (bytes)", 1.0),
    "flop_per_s": ("achieved TFLOP/s", 1e-12),
    "bytes_per_s": ("achieved GB/s", 1e-9),
    "bus_bytes_per_s": ("bus bandwidth (GB/s)", 1e-9),
}

TIME_FIELDS = ("timestamp_s", "time_s", "t_s", "elapsed_s")
# field suffix -> (axis title, scale)
SERIES_UNITS = {
    "_w": ("power (W)", 1.0),
    "_pct": ("utilisation (%)", 1.0),
    "_mhz": ("clock (MHz)", 1.0),
    "_bytes": ("memory (GiB)", 1.0 / 2**30),
    "_j": ("energy since first sample (J)", 1.0),
    "_c": ("temperature (°C)", 1.0),
}


def build_profile_page(doc: dict, path_label: str = "<profile>") -> Page:
    from ..profile import CURVE_KINDS, SCALAR_KINDS, from_json

    prof = from_json(doc, path_label)  # names the file and field of anything malformed
    prov = prof.provenance
    date = prov.get("date", "undated")
    page = Page(
        title=f"moeprof profile: {prof.gpu}",
        subtitle=f"{prof.source} profile, {prov.get('device_name') or prof.gpu}, {date}",
    )
    kind = "measured by moeprof probe" if prof.source == "measured" else "derived from published measurements"
    summary = [f"<p>GPU <b>{esc(prof.gpu)}</b>: {esc(kind)}, dated {esc(date)}.</p>"]
    if prof.note:
        summary.append(f"<p>{esc(prof.note)}</p>")
    prov_rows = provenance_rows(prov)
    summary.append("<h3>Provenance</h3>" + (table(["field", "value"], prov_rows) if prov_rows else "<p>none</p>"))
    if prof.scalars:
        summary.append("<h3>Scalars</h3>" + table(
            ["scalar", "value", "meaning"],
            [[k, f"{v:.4g}", SCALAR_KINDS.get(k, "")] for k, v in prof.scalars.items()], {1}))
    page.add("summary", "Summary", "".join(summary))

    parts = []
    for name, c in prof.curves.items():
        xk, yk = CURVE_KINDS[name]
        (xl, xs), (yl, ys) = AXES.get(xk, (xk, 1.0)), AXES.get(yk, (yk, 1.0))
        fig = F.curve_figure(name, [v * xs for v in c.x], [v * ys for v in c.y], xl, yl)
        cap = f"<b>Source</b>: {esc(c.source or prof.source)} ({esc(kind)}, {esc(date)}); {len(c.x)} points."
        parts.append(page.figure(fig, cap))
    page.add("curves", "Efficiency curves", "".join(parts) or not_available("curves", "the profile has none"))

    page.add("telemetry", "Telemetry over time", _telemetry(page, prof.rows, kind, date))
    page.add("validation", "Validation: predicted vs measured", validation_section(page, prof))
    page.add("rows", "Probe rows", _rows(prof.rows))
    return page


def series_name(field: str, axis: str) -> str:
    """A telemetry field in words with the unit of its axis: memory_used_bytes on a GiB axis ->
    'memory used (GiB)'."""
    suffix = next((suf for suf in SERIES_UNITS if field.endswith(suf)), "")
    words = field[: len(field) - len(suffix)].replace("_", " ").strip()
    words = {"sm clock": "SM clock", "gpu util": "GPU utilisation", "memory util": "memory utilisation"}.get(words, words)
    unit = axis[axis.rfind("(") + 1 : axis.rfind(")")] if "(" in axis else ""
    if field.endswith("_j"):
        words += " since first sample"
    return f"{words} ({unit})" if unit else words


def provenance_rows(prov: dict, prefix: str = "") -> list[list[str]]:
    """Provenance as (field, value) rows: nested objects flattened to dotted names, lists joined,
    bytes in GiB (MiB below one GiB)."""
    out = []
    for k, v in prov.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out += provenance_rows(v, name + ".") if v else [[name, "–"]]
        else:
            out.append([name, _prov_value(k, v)])
    return out


def _prov_value(key: str, v) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, float)) and key.endswith("_bytes"):
        big = abs(v) >= 2**30
        return f"{v / 2**(30 if big else 20):,.2f} {'GiB' if big else 'MiB'} ({v:,.0f} bytes)"
    if isinstance(v, list):
        if v and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v) and len(v) <= 4:
            return " x ".join(f"{x:g}" for x in v)
        return ", ".join(_prov_value(key, x) if not isinstance(x, (dict, list)) else json.dumps(x, default=str) for x in v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _telemetry(page: Page, rows: list[dict], kind: str, date: str) -> str:
    timed = [r for r in rows if any(_num(r.get(t)) for t in TIME_FIELDS)]
    if not timed:
        return not_available("telemetry", "the profile has no timestamped rows")
    tf = next(t for t in TIME_FIELDS if any(_num(r.get(t)) for r in timed))
    timed = sorted((r for r in timed if _num(r.get(tf))), key=lambda r: r[tf])
    t0 = timed[0][tf]
    groups: dict[str, list[dict]] = {}
    for r in timed:
        dev = r.get("index")
        groups.setdefault(f"{r['probe']}" + (f" GPU {dev}" if dev is not None else ""), []).append(r)
    out = []
    for gname, g in groups.items():
        series, unit_of = {}, {}
        first = {}
        for k in dict.fromkeys(k for r in g for k in r):
            if k in TIME_FIELDS or k in ("index", "phase"):
                continue
            unit = next((u for suf, u in SERIES_UNITS.items() if k.endswith(suf)), None)
            if unit is None or not any(_num(r.get(k)) for r in g):
                continue
            label, scale = unit
            ys = []
            for r in g:
                v = r.get(k)
                if not _num(v):
                    ys.append(None)
                    continue
                if k.endswith("_j"):  # cumulative counters: energy since the first sample
                    first.setdefault(k, v)
                    v = v - first[k]
                ys.append(v * scale)
            name = series_name(k, label)
            series[name] = ys
            unit_of[name] = label
        if not series:
            continue
        phases = [str(r.get("phase", "")) for r in g] if any("phase" in r for r in g) else None
        fig = F.timeseries_figure(gname, [r[tf] - t0 for r in g], series, unit_of, phases)
        out.append(page.figure(fig, f"<b>Source</b>: device telemetry read by moeprof ({esc(kind)}, {esc(date)}); "
                                    f"{len(g)} samples."))
    return "".join(out) or not_available("telemetry", "no numeric telemetry fields with a known unit")


def _rows(rows: list[dict], limit: int = 200) -> str:
    if not rows:
        return "<p>The profile has no raw rows.</p>"
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(str(r.get("probe")), []).append(r)
    out = [table(["probe", "rows"], [[k, len(v)] for k, v in groups.items()], {1})]
    for k, g in groups.items():
        cols = list(dict.fromkeys(c for r in g for c in r if c != "probe"))
        body = [[_cell(r.get(c)) for c in cols] for r in g[:limit]]
        nums = {i for i, c in enumerate(cols) if all(_num(r.get(c)) or r.get(c) is None for r in g)}
        more = f"<p>... and {len(g) - limit:,} more rows.</p>" if len(g) > limit else ""
        out.append(f"<details><summary>{esc(k)} ({len(g):,})</summary>{table(cols, body, nums)}{more}</details>")
    return "".join(out)


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (dict, list)):
        return json.dumps(v, default=str)
    return str(v)
