"""The build-or-buy verdict on the terminal (the plan document's verdict, planner.analyses.verdict),
printed as the first lines of `plan` and `compare`; the one-line refusal of a Spot pick; the price
kind, region and read date of a table's prices."""

from __future__ import annotations

import click

from ..planner import PlanDocument
from ..planner.document.verdict import Verdict

OVERHEAD_HELP = ("Costs beside the VMs in build-or-buy and break-even (self-hosted side): a share of the VM bill (15%) or "
                 "USD per month (4000) [default: storage for the weights, egress of the output tokens and a 10% operations "
                 "share, each from moeprof/data/prices/overheads.json with its source or marked an assumption].")


def _b(tokens: float) -> str:
    return f"{tokens / 1e9:,.1f} B tokens/month"


def _overhead_text(v: Verdict) -> str:
    parts = ", ".join(f"{o.name} ${o.usd_per_month:,.0f}" for o in v.overheads)
    if v.overhead_given:
        return f"{parts} (--overhead {v.overhead_given})"
    assumed = [o.name for o in v.overheads if o.source.startswith("assumption")]
    return (f"{parts}; defaults from moeprof/data/prices/overheads.json"
            + (f", {' and '.join(assumed)} an assumption" if assumed else "") + "; --overhead to change")


def _flip_text(v: Verdict) -> str:
    vol = f"{_b(v.flip_tokens_per_month)} ({v.flip_qps:,.1f} req/s)"
    cap = v.capacity_tokens_per_month
    if v.decision == "buy":
        if cap is not None and cap < v.flip_tokens_per_month:
            at = (f" (self-hosted ${v.self_hosted_usd_per_million_at_capacity:,.3f}/M at capacity vs "
                  f"${v.blended_usd_per_million_tokens:,.3f}/M per token)" if v.self_hosted_usd_per_million_at_capacity else "")
            head = (f"self-hosting this configuration breaks even at {vol}, beyond its capacity of {_b(cap)} "
                    f"({v.capacity_qps:,.1f} req/s): per token costs less for any traffic it carries{at}")
        else:
            head = f"self-hosting costs less above {vol}"
    else:
        head = f"per token costs less below {vol}"
    if v.flip_usd_per_vm_hour is None:
        price = "no VM price makes self-hosting cheaper (the overheads alone cost more than the per-token service)"
    else:
        side = "below" if v.decision == "buy" else "above"
        who = "self-hosting wins" if v.decision == "buy" else "per token wins"
        price = (f"{who} at a VM price {side} ${v.flip_usd_per_vm_hour:,.2f}/h (now ${v.usd_per_vm_hour:,.2f}/h {v.pricing})")
    return f"{head}; {price}"


def verdict_lines(doc: PlanDocument) -> list[str]:
    v = doc.verdict
    if v is None:
        return []
    lines = [
        f"VERDICT     {v.text}",
        f"  buy         {v.serverless_provider} {v.serverless_tier} {v.serverless_model}: ${v.blended_usd_per_million_tokens:,.3f}/M "
        f"blended x {_b(v.plan_tokens_per_month)} ({v.plan_qps:g} req/s), read {v.serverless_date}",
        f"  self-host   cheapest: {v.config}: ${v.compute_usd_per_month:,.0f}/month VMs + ${v.overhead_usd_per_month:,.0f}/month "
        f"overhead ({_overhead_text(v)})",
        f"  flips       {_flip_text(v)}",
        f"  prices      VMs {v.pricing} in {v.region}, read {v.price_date} ({v.price_status}); per token {v.serverless_tier}, "
        f"read {v.serverless_date}",
    ]
    others = [f"{o.tier} ${o.usd_per_month:,.0f}/month ({o.note})" for o in v.options
              if o.applies and not v.serverless_tier.startswith(o.tier)]
    if others:
        lines.append(f"  other tiers {'; '.join(others)}")
    if v.not_published:
        lines.append(f"  left out    {'; '.join(v.not_published)}")
    return lines


def print_verdict(doc: PlanDocument) -> None:
    lines = verdict_lines(doc)
    if lines:
        click.echo("")
        for line in lines:
            click.echo(line)


def table_caption(doc: PlanDocument) -> str:
    """The prices a table rests on: kind, region and read date of each SKU's VM price."""
    seen = {}
    for p in doc.charts.prices:
        key = f"{p.pricing or 'given'} in {p.region or 'no region'}, read {p.date}" if p.date != "user" else "--price-per-hour"
        seen.setdefault(key, []).append(p.sku)
    return "prices: " + ("; ".join(f"{k} ({', '.join(v)})" for k, v in seen.items()) or "none stated")


def price_columns(doc: PlanDocument, sku: str) -> dict:
    """A CSV row's price kind, region and read date (the plan's price tag of its SKU)."""
    t = next((p for p in doc.charts.prices if p.sku == sku), None)
    return {"price_pricing": t.pricing if t else "", "price_region": t.region if t else "", "price_date": t.date if t else ""}
