"""The plan report's two list sections: the rejected layouts by reason, and the sources of every number."""

from __future__ import annotations

from ..planner.document.plan import PlanDocument
from . import plan_data as D
from .html import esc, table


def rejected_section(doc: PlanDocument) -> str:
    if not doc.rejected:
        return "<p>No configuration was rejected.</p>"
    groups: dict[str, list] = {}
    for r in doc.rejected:
        groups.setdefault(r.kind, []).append(r)
    counts = doc.rejected_counts or {k: len(v) for k, v in groups.items()}
    out = [
        "<p>Each parallel layout (SKU, TP, EP, PP, quantization, KV dtype) with no feasible row, with the reason of "
        "its most promising row (memory, then TTFT, TPOT, QPS, headroom: how far it got).</p>",
        table(["reason", "layouts"], [[k, counts.get(k, len(v))] for k, v in groups.items()], {1}),
    ]
    limit = 200
    for k, items in groups.items():
        body = [[r.sku, r.tp, r.ep, r.pp, r.quant, r.kv_dtype, r.reason] for r in items[:limit]]
        more = f"<p>... and {len(items) - limit:,} more (see the plan JSON).</p>" if len(items) > limit else ""
        out.append(
            f"<details><summary>{esc(k)} ({len(items):,})</summary>"
            + table(["VM SKU", "TP", "EP", "PP", "quantization", "KV dtype", "reason"], body, {1, 2, 3})
            + more + "</details>"
        )
    return "".join(out)


def sources_section(doc: PlanDocument) -> str:
    src = doc.sources
    out = []
    model = src.get("model")
    if model:
        out.append("<h3>Model</h3><ul>" + "".join(f"<li>{esc(m)}</li>" for m in model) + "</ul>")
    engine = src.get("engine")
    if isinstance(engine, dict):
        out.append("<h3>Serving engine accounting</h3>" + table(["setting", "source"], [[k, v] for k, v in engine.items()]))
    for k, v in src.items():
        if not (isinstance(v, dict) and "price" in v):
            continue
        rows = [["price", str(v.get("price", "")) + (" (ESTIMATE)" if v.get("price_estimate") else "")],
                ["performance", v.get("performance", "")]]
        gpu = v.get("gpu")
        if isinstance(gpu, dict):
            rows += [[f"GPU {f}", s] for f, s in gpu.items()]
        out.append(f"<h3>{esc(k)}</h3>" + table(["value", "source"], rows))
    bands = [[g, D.plan_band_text(doc, g)] for g in (src.get("error_band") or {})]
    if bands:
        out.append("<h3>Error bands</h3>" + table(["GPU", "band"], bands))
    return "".join(out) or "<p>The plan lists no sources.</p>"
