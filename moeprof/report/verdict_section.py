"""The first section of the plan report: build or buy, read from the plan document's verdict
(planner.analyses.verdict); it computes nothing. The answer with both monthly costs, the cheapest
self-hosted option with its overheads (each with its basis and source), where the answer flips (the
volume and the VM price), the other per-token tiers of the region and the options without a public
price; the price kind, region and read dates in its caption. Printed on the first A4 page."""

from __future__ import annotations

from ..planner.document.plan import PlanDocument
from ..planner.document.verdict import Verdict
from .html import esc


def _kpi(value: str, what: str) -> str:
    return f'<div class="kpi"><b>{esc(value)}</b><span>{esc(what)}</span></div>'


def _b(tokens: float) -> str:
    return f"{tokens / 1e9:,.1f} B tokens/month"


def flip_sentences(v: Verdict) -> list[str]:
    """Where the answer flips: the volume (with this configuration's capacity) and the VM price."""
    vol = f"{_b(v.flip_tokens_per_month)} ({v.flip_qps:,.1f} req/s)"
    cap = v.capacity_tokens_per_month
    if v.decision == "buy" and cap is not None and cap < v.flip_tokens_per_month:
        at = (f" (self-hosted ${v.self_hosted_usd_per_million_at_capacity:,.3f}/M at capacity against "
              f"${v.blended_usd_per_million_tokens:,.3f}/M per token)" if v.self_hosted_usd_per_million_at_capacity else "")
        out = [f"Volume: this configuration breaks even at {vol}, beyond its capacity of {_b(cap)} ({v.capacity_qps:,.1f} req/s): "
               f"per token costs less for any traffic it carries{at}."]
    elif v.decision == "buy":
        out = [f"Volume: self-hosting costs less above {vol}."]
    else:
        out = [f"Volume: per token costs less below {vol}."]
    if v.flip_usd_per_vm_hour is None:
        out.append("VM price: none makes self-hosting cheaper (the overheads alone cost more than the per-token service).")
    else:
        side, who = ("below", "self-hosting wins") if v.decision == "buy" else ("above", "per token wins")
        out.append(f"VM price: {who} {side} ${v.flip_usd_per_vm_hour:,.2f}/h per VM (now ${v.usd_per_vm_hour:,.2f}/h, {v.pricing}).")
    return out


def short_source(text: str) -> str:
    """The source's first words (up to its first colon or parenthesis), the whole of it in the tooltip."""
    if text.startswith("assumption"):
        head = "assumption"
    else:
        cut = [i for i in (text.find(":"), text.find(" (")) if i > 0]
        head = text[: min(cut)] if cut else text
        head = head if len(head) <= 70 else head[:67] + "..."
    return f'<span class="src" title="{esc(text)}">{esc(head)}</span>'


def _table(rows: list[list[str]]) -> str:
    """The cost table: what, $/month, how it was worked out, its source (short; whole in the tooltip)."""
    body = "".join(f"<tr><td>{esc(a)}</td><td class=\"num\">{esc(b)}</td><td>{esc(c)}</td><td>{short_source(d)}</td></tr>"
                   for a, b, c, d in rows)
    return ("<table class=\"verdict\"><thead><tr><th></th><th>$/month</th><th>how</th><th>source</th></tr></thead>"
            f"<tbody>{body}</tbody></table>")


def caption(v: Verdict) -> str:
    return (f"<b>Prices</b>: VMs {esc(v.pricing)} in {esc(v.region)}, read {esc(v.price_date)} ({esc(v.price_status)}); "
            f"per token {esc(v.serverless_provider)} {esc(v.serverless_tier)}, read {esc(v.serverless_date)} "
            f"(<span class=\"src\" title=\"{esc(v.serverless_source)}\">source</span>).")


def verdict_section(doc: PlanDocument) -> str:
    v = doc.verdict
    if v is None:
        why = ("no configuration meets the targets" if doc.recommended is None else
               "no per-token price of this model is known (give one with --token-price)" if doc.charts.build_or_buy is None
               else "Spot prices give no pick (a plan needs its VMs up; Spot VMs are evictable)")
        return f'<p class="bad">No build-or-buy verdict: {esc(why)}.</p>'
    cls = "rec" if v.decision == "buy" else "rec build"
    out = [f'<p class="{cls}" id="verdict-line"><b>{esc(v.text)}</b></p>']
    flip = v.flip_usd_per_vm_hour
    k = [
        (f"${v.buy_usd_per_month:,.0f}", f"per month per token ({v.serverless_tier}) at {_b(v.plan_tokens_per_month)}"),
        (f"${v.build_usd_per_month:,.0f}", f"per month self-hosted: ${v.compute_usd_per_month:,.0f} VMs + "
                                           f"${v.overhead_usd_per_month:,.0f} overhead"),
        (f"{v.flip_qps:,.1f} req/s", f"break-even volume ({_b(v.flip_tokens_per_month)})"),
        ("none" if flip is None else f"${flip:,.2f}/h", f"break-even VM price (now ${v.usd_per_vm_hour:,.2f}/h)"),
    ]
    out.append('<div class="kpis">' + "".join(_kpi(a, b) for a, b in k) + "</div>")
    out.append(f"<p><b>Cheapest self-hosted option</b>: {esc(v.config)}.</p>")
    out.append("<p><b>Where the answer flips</b>: " + " ".join(esc(s) for s in flip_sentences(v)) + "</p>")
    rows = [[f"per token: {v.serverless_tier}", f"${v.buy_usd_per_month:,.0f}",
             f"${v.blended_usd_per_million_tokens:,.3f}/M blended x {_b(v.plan_tokens_per_month)}", f"read {v.serverless_date}"]]
    rows.append([f"self-hosted: VMs ({v.sku})", f"${v.compute_usd_per_month:,.0f}",
                 f"{v.vms} VM x ${v.usd_per_vm_hour:,.2f}/h x 730 h", f"{v.pricing} {v.region}, read {v.price_date} ({v.price_status})"])
    for o in v.overheads:
        rows.append([f"self-hosted: {o.name}", f"${o.usd_per_month:,.0f}", o.basis, o.source])
    for o in v.options:
        if o.applies and not v.serverless_tier.startswith(o.tier):
            rows.append([f"other tier: {o.tier}", f"${o.usd_per_month:,.0f}", f"${o.blended_usd_per_million_tokens:,.3f}/M blended; "
                         f"{o.note}", f"read {o.date}"])
    out.append(_table(rows))
    if v.not_published:
        out.append("<p><small><b>Left out</b> (no public price): " + esc("; ".join(v.not_published)) + "</small></p>")
    if not v.overhead_given:
        out.append("<p><small>Overheads: the defaults of moeprof/data/prices/overheads.json (sources above; an "
                   "\"assumption\" is one); change them with <code>--overhead 15%</code> or <code>--overhead 4000</code>."
                   "</small></p>")
    out.append(f"<p>{caption(v)}</p>")
    return "".join(out)
