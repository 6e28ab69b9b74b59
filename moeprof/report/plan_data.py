"""What the plan report derives from a plan document without running any model: which rows
each chart shows, labels, the Pareto front, and the validation points and error band of a
`moeprof validate --json` file. The chart numbers themselves are in the document
(PlanDocument.charts), computed when the plan was made."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..planner.document.plan import PlanDocument, PlanRow


class ReportDataError(Exception):
    """A chart's inputs are not available; the message says why."""


# ---------------------------------------------------------------------------------------
# Rows of the plan
# ---------------------------------------------------------------------------------------
def candidate_rows(doc: PlanDocument) -> list[PlanRow]:
    """Feasible rows for the cost / latency chart: `feasible` when the plan has it, else the
    recommendation and its alternatives."""
    rows = list(doc.feasible)
    if not rows:
        rows = ([doc.recommended] if doc.recommended else []) + list(doc.alternatives)
    return rows


def skus_of(doc: PlanDocument) -> list[str]:
    """SKUs the plan evaluated, in the order the plan lists them."""
    skus = [s.sku for s in doc.per_sku]
    for r in candidate_rows(doc) + list(doc.rejected):
        if r.sku not in skus:
            skus.append(r.sku)
    return skus


def best_per_sku(doc: PlanDocument) -> dict[str, PlanRow]:
    """The best feasible row of each SKU (the plan's per-SKU ranking)."""
    return {s.sku: s.row for s in doc.per_sku if s.row is not None}


def pareto_front(xs, ys) -> list[int]:
    """Indices of points no other point beats on both x and y (lower is better), by x."""
    order = sorted(range(len(xs)), key=lambda i: (xs[i], ys[i]))
    out, best = [], math.inf
    for i in order:
        if ys[i] < best:
            out.append(i)
            best = ys[i]
    return out


# ---------------------------------------------------------------------------------------
# Predicted vs measured (moeprof validate)
# ---------------------------------------------------------------------------------------
@dataclass
class ValidationPoints:
    quantity: str  # series name, unit in parentheses or as a suffix
    unit: str  # ms | bytes | ...
    labels: list[str]
    predicted: list[float]
    measured: list[float]


TIME_UNITS = ("ms", "s", "us")


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


def validation_points(validation) -> list[ValidationPoints]:
    """Pairs from `moeprof validate --json`: rows with predicted / measured / quantity / probe /
    case (one series per probe and quantity); `validate --bench` rows with figures {name:
    {predicted, measured}} (one series per figure); also rows with predicted_<q> and measured_<q>
    fields (one series per <q>, the unit its suffix)."""
    rows = validation.get("rows") if isinstance(validation, dict) else validation
    if not isinstance(rows, list):
        raise ReportDataError("the validation document has no 'rows' list")
    by_q: dict[str, ValidationPoints] = {}

    def add(series, unit, label, v, w):
        if _positive(v) and _positive(w):
            vp = by_q.setdefault(series, ValidationPoints(series, unit, [], [], []))
            vp.labels.append(label)
            vp.predicted.append(float(v))
            vp.measured.append(float(w))

    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            continue
        name = next((str(row[n]) for n in ("case", "name", "op", "config") if n in row), f"row {i}")
        figures = row.get("figures")
        if isinstance(figures, dict):  # `validate --bench`: one record, several figures
            label = str(row.get("id") or name)
            for q, f in figures.items():
                if isinstance(f, dict):
                    add(str(q), str(q).rsplit("_", 1)[-1], label, f.get("predicted"), f.get("measured"))
            continue
        if "predicted" in row and "measured" in row:
            unit = str(row.get("quantity") or "value")
            probe = str(row.get("probe") or "row")
            add(f"{probe} ({unit})", unit, f"{probe} {name}", row["predicted"], row["measured"])
            continue
        for k, v in row.items():
            if k.startswith("predicted_"):
                q = k[len("predicted_"):]
                add(q, q.rsplit("_", 1)[-1], name, v, row.get(f"measured_{q}"))
    if not by_q:
        raise ReportDataError("no predicted / measured pairs in the validation rows")
    return list(by_q.values())


def error_band_pct(points: list[ValidationPoints], quantile: float = 0.9) -> tuple[float, int]:
    """The quantile of |predicted - measured| / measured (%) over the timed validation points (all
    points when none is timed), and how many points that is."""
    timed = [p for p in points if p.unit in TIME_UNITS] or points
    errs = sorted(abs(a - b) / b * 100.0 for p in timed for a, b in zip(p.predicted, p.measured))
    k = min(len(errs) - 1, max(0, math.ceil(quantile * len(errs)) - 1))
    return errs[k], len(errs)


# ---------------------------------------------------------------------------------------
# The plan's own error band (planner.search.bands, stored per GPU in the plan's sources)
# ---------------------------------------------------------------------------------------
BAND_NAMES = {"ttft_ms": "TTFT", "tpot_ms": "TPOT", "throughput": "throughput and capacity"}


def plan_band(doc: PlanDocument, gpu: str) -> dict | None:
    """The stored band of a GPU (catalog.calibration.error_band's JSON form), or None (a plan made before bands)."""
    b = (doc.sources.get("error_band") or {}).get(gpu)
    return b if isinstance(b, dict) else None


def plan_band_text(doc: PlanDocument, gpu: str) -> str | None:
    """'TPOT -8/+29 %, ...' of a GPU's band, then its source; None when the plan stores none."""
    b = plan_band(doc, gpu)
    if b is None:
        return None
    parts = []
    for k, m in (b.get("metrics") or {}).items():
        if isinstance(m, dict) and _number(m.get("lo")) and _number(m.get("hi")):
            parts.append(f"{BAND_NAMES.get(k, k)} {100 * m['lo']:+.0f} / {100 * m['hi']:+.0f} %")
    if not parts:
        return f"not quantified ({b.get('source', 'no source')})"
    return f"{', '.join(parts)} ({b.get('source', 'no source')})"


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
