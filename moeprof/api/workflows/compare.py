"""The procurement table of `moeprof compare` / `moeprof.compare()`: one row per SKU from a plan."""

from __future__ import annotations

from ...planner import PlanDocument


def compare_json(doc: PlanDocument, rows: list[dict], spot: str | None = None) -> dict:
    """What `compare --json` prints: the inputs, one row per SKU, notes, re-quantising, redundancy, bands,
    the serverless price, the verdict (and why a Spot pick is refused)."""
    b = doc.charts.build_or_buy
    return {"inputs": doc.inputs.to_json(), "rows": rows, "warnings": doc.warnings,
            "requantize": doc.requantize.to_json() if doc.requantize is not None else None,
            "redundancy": doc.redundancy.to_json() if doc.redundancy is not None else None,
            "error_band": doc.sources.get("error_band", {}),
            "serverless_price": {k: v for k, v in b.to_json().items() if k != "skus"} if b else None,
            "verdict": doc.verdict.to_json() if doc.verdict is not None else None,
            **({"spot": spot} if spot is not None else {})}


def compare_rows(doc: PlanDocument) -> list[dict]:
    """One row per SKU: its cheapest feasible configuration (with `notes` when its recipe needs
    weights no released checkpoint ships), its break-even VM price and build-or-buy volume; or why
    it has none."""
    sens = {p.sku: p for p in doc.charts.price_sensitivity}
    tags = {p.sku: p for p in doc.charts.prices}
    bob = {x.sku: x for x in doc.charts.build_or_buy.skus} if doc.charts.build_or_buy is not None else {}
    out = []
    for s in doc.per_sku:
        if s.row is None:
            out.append({"sku": s.sku, "reason": s.reason})
            continue
        note = None if s.row.checkpoint else (f"no published {s.row.quant} checkpoint of {doc.inputs.model_name}: "
                                              "the deployment needs weights of your own")
        p, b = sens.get(s.sku), bob.get(s.sku)
        out.append({
            **s.row.to_json(),
            "price_usd_per_vm_hour": s.row.usd_per_hour / s.row.vms,
            **{f"price_{k}": getattr(tags[s.sku], k) for k in ("label", "pricing", "region", "date", "status", "reported_by")
               if s.sku in tags},
            "is_pick": bool(p is not None and p.is_pick),
            "break_even_usd_per_vm_hour": p.break_even_usd_per_vm_hour if p is not None else None,
            "self_hosting_cheaper_above_tokens_per_month": b.break_even_tokens_per_month if b is not None else None,
            "self_hosting_cheaper_above_req_per_s": b.break_even_qps if b is not None else None,
            **({"notes": [note]} if note else {}),
            "wide_ep": doc.wide_ep_text(s.row) or None,
        })
    return out
