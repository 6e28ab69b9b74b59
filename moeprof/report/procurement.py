"""The one-page procurement answer: each SKU's best configuration, cheapest first, with what a
buyer signs for (VMs, GPUs, $/month), what it serves (blended $/M tokens, headroom over the
target QPS, TTFT and TPOT) and how far to trust the price (a short label, its date and status;
the full source in a tooltip and in the CSV). The CSV is built here and carried in the page as a
data: URI, so the download needs no network."""

from __future__ import annotations

from urllib.parse import quote

from ..planner.document.plan import PlanDocument, PriceTag
from .html import esc
from .plan_data import best_per_sku, skus_of
from .tables import fmt, rows_to_csv

STATUS_WORDS = {
    "api": "imported from the Azure Retail Prices API with moeprof prices import (meter id known), read within a year",
    "reported": "a list price a third party quoted from the Azure Retail Prices API, read within a year: check it",
    "estimate": "an estimate, not a list price",
    "stale": "read over a year ago, or undated: check it",
    "user": "given with --price-per-hour",
}


def price_tags(doc: PlanDocument) -> dict[str, PriceTag]:
    return {p.sku: p for p in doc.charts.prices}


def headroom(capacity_qps, target_qps: float) -> float | None:
    """Capacity within the targets over the target QPS, minus 1 (0.25: a quarter more load fits)."""
    return None if capacity_qps is None else capacity_qps / target_qps - 1.0


def procurement_rows(doc: PlanDocument) -> list[dict]:
    """One dict per SKU the plan searched, the feasible ones by $/month, then those with none."""
    best, tags, inp = best_per_sku(doc), price_tags(doc), doc.inputs
    why = {s.sku: s.reason for s in doc.per_sku}
    ttft = f"ttft_p{inp.percentile:g}_ms"
    out = []
    for sku in skus_of(doc):
        r, tag = best.get(sku), tags.get(sku)
        src = doc.sources.get(sku) if isinstance(doc.sources.get(sku), dict) else {}
        d = {"sku": sku, "vms": None, "gpus": None, "configuration": why.get(sku) or "no configuration meets the targets",
             "usd_per_month": None, "usd_per_million_tokens": None, "headroom_fraction": None, ttft: None, "tpot_ms": None}
        if r is not None:
            d.update(vms=r.vms, gpus=r.gpus, usd_per_month=r.usd_per_month, usd_per_million_tokens=r.usd_per_million_tokens,
                     headroom_fraction=r.headroom if r.headroom is not None else headroom(r.qps_capacity, inp.qps),
                     tpot_ms=r.tpot_ms,
                     configuration=f"TP {r.tp} EP {r.ep} PP {r.pp}, {r.replicas} replica(s), {r.quant} / KV {r.kv_dtype}, "
                                   f"batch {r.max_batch}" + (f", {r.wide_ep_label()}" if r.wide_ep_label() else ""))
            d[ttft] = r.ttft_ms
        if r is not None:  # in the CSV only
            d.update(usd_per_hour=r.usd_per_hour, usd_per_million_input_tokens=r.usd_per_million_input_tokens,
                     usd_per_million_output_tokens=r.usd_per_million_output_tokens, joules_per_token=r.joules_per_token)
        d.update(
            price_usd_per_vm_hour=tag.usd_per_vm_hour if tag else None,
            price_label=tag.label if tag else "",
            price_date=tag.date if tag else "",
            price_status=tag.status if tag else ("estimate" if src.get("price_estimate") else "unknown"),
            price_source=str(src.get("price", "")),
            recommended=r is not None and doc.recommended is not None and r.key() == doc.recommended.key(),
        )
        out.append(d)
    return sorted(out, key=lambda d: (d["usd_per_month"] is None, d["usd_per_month"] or 0.0))


def procurement_csv(rows: list[dict]) -> str:
    return rows_to_csv(rows)


def csv_link(text: str, filename: str = "moeprof-procurement.csv") -> str:
    href = "data:text/csv;charset=utf-8," + quote(text, safe="")
    return f'<a class="csv noprint" id="procurement-csv" download="{esc(filename)}" href="{esc(href)}">Download CSV</a>'


def _nowrap(text: str, part: str) -> str:
    """Escaped text with `part` (a date) kept on one line."""
    if not part or part not in text:
        return esc(text)
    a, b = text.split(part, 1)
    return f'{esc(a)}<span style="white-space:nowrap">{esc(part)}</span>{esc(b)}'


def _pct(v) -> str:
    return "–" if v is None else f"{v:+.0%}"


def procurement_html(doc: PlanDocument, colors: dict[str, str]) -> str:
    rows = procurement_rows(doc)
    inp = doc.inputs
    heads = ["VM SKU and configuration", "VMs", "GPUs", "$/month", "$/M tokens (blended)", "headroom",
             f"TTFT p{inp.percentile:g} (ms)", "TPOT (ms)", "price ($/VM-h)", "price status"]
    ttft = f"ttft_p{inp.percentile:g}_ms"
    body = []
    for d in rows:
        sw = f'<span class="swatch" style="background:{esc(colors.get(d["sku"], "#999"))}"></span>'
        pick = ' <b class="pick">recommended</b>' if d["recommended"] else ""
        sku = f'<td>{sw}{esc(d["sku"])}{pick}<br><small>{esc(d["configuration"])}</small></td>'
        nums = [fmt("vms", d["vms"]), fmt("gpus", d["gpus"]), fmt("usd_per_month", d["usd_per_month"]),
                fmt("usd_per_million_tokens", d["usd_per_million_tokens"]), _pct(d["headroom_fraction"]),
                fmt("ttft_ms", d[ttft]), fmt("tpot_ms", d["tpot_ms"])]
        cells = "".join(f'<td class="num">{esc(v)}</td>' for v in nums)
        usd = "–" if d["price_usd_per_vm_hour"] is None else f"{d['price_usd_per_vm_hour']:,.2f}"
        price = (f'<td class="num">{esc(usd)}<br><small class="src" title="{esc(d["price_source"])}">'
                 f'{_nowrap(d["price_label"] or "see Sources", d["price_date"])}</small></td>')
        st = d["price_status"]
        status = f'<td><span class="status {esc(st)}" title="{esc(STATUS_WORDS.get(st, ""))}">{esc(st)}</span></td>'
        body.append(f"<tr>{sku}{cells}{price}{status}</tr>")
    head = "".join(f"<th>{esc(h)}</th>" for h in heads)
    table = f'<table class="procurement"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    note = (
        f"<p>Each VM SKU's cheapest configuration that meets the targets, cheapest first. $/month: the deployment "
        f"sized for {inp.qps:g} req/s, 730 h a month; $/M tokens: $/h over the input + output tokens served in an "
        f"hour at that rate; headroom: capacity within the targets at the pessimistic edge of the error band (as "
        f"predicted for a plan without a band) / {inp.qps:g} req/s - 1. Price source: where and "
        "when the price was read (hover for the full source; every source is under Sources and in the CSV); status: "
        + "; ".join(f"<b>{esc(k)}</b> {esc(v)}" for k, v in STATUS_WORDS.items()) + ".</p>"
    )
    return table + csv_link(procurement_csv(rows)) + note
