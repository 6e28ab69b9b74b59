"""Two procurement sections of the plan report, read from the plan document (no model runs):

    price_section        each SKU's break-even VM price against the pick (for the pick: the price
                         up to which it stays the pick), the price the plan used with its status, and
                         the price-sensitivity chart: $/month of the SKU's best configuration
                         (VMs x price x 730 h) against its VM price, with the $/month it must beat
    build_or_buy_section the serverless per-token price of the model (source, date) and, per SKU, the
                         monthly token volume and req/s above which self-hosting it costs less
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..catalog.hardware.prices import STALE_DAYS, stale
from ..planner.document.plan import BuildOrBuy, PlanDocument, PriceSensitivity
from . import figures as F
from .html import Page, esc, not_available
from .html import plot_text as T
from .procurement import STATUS_WORDS, price_tags


def sensitivity_figure(sens: list[PriceSensitivity], colors: dict[str, str], per_row: int = 3) -> go.Figure:
    """A panel per SKU (its own x: its VM price): $/month of its best configuration, solid; the $/month
    it must beat, dashed in that SKU's colour; a diamond where they cross (the break-even price), a ring
    at the price the plan used. The panels share the $/month axis."""
    n = max(len(sens), 1)
    cols = min(n, per_row)
    rows = -(-n // cols)
    titles = [f"{T(s.sku)}{' (pick)' if s.is_pick else ''}: {s.vms} VM" for s in sens]
    fig = make_subplots(rows=rows, cols=cols, shared_yaxes=True, subplot_titles=titles, horizontal_spacing=0.06,
                        vertical_spacing=0.18 if rows > 1 else 0.1)
    legend = set()
    for k, s in enumerate(sens):
        at = dict(row=k // cols + 1, col=k % cols + 1)
        col, name = colors.get(s.sku, "#333"), T(s.sku)
        xs = s.price_usd_per_vm_hour
        fig.add_trace(go.Scatter(
            x=xs, y=s.cost_usd_per_month, mode="lines", name=f"{name}: $/month at that price", legendgroup=name,
            line=dict(color=col, width=2.5),
            hovertemplate=f"<b>{name}</b> at $%{{x:,.2f}}/VM-h<br>$%{{y:,.0f}}/month ({s.vms} VM)<extra></extra>"), **at)
        if s.rival_usd_per_month is not None:
            rc, what = colors.get(s.rival, "#333"), ("the cheapest other SKU" if s.is_pick else "the pick")
            show = s.rival not in legend
            legend.add(s.rival)
            fig.add_trace(go.Scatter(
                x=[xs[0], xs[-1]], y=[s.rival_usd_per_month] * 2, mode="lines", name=f"{T(s.rival)}'s $/month (dashed)",
                showlegend=show, legendgroup=f"rival {s.rival}", line=dict(color=rc, dash="dash", width=1.5),
                hovertemplate=f"{T(s.rival)} ({what}): $%{{y:,.0f}}/month<extra></extra>"), **at)
        if s.break_even_usd_per_vm_hour is not None:
            verb = "stays" if s.is_pick else "becomes"
            fig.add_trace(go.Scatter(
                x=[s.break_even_usd_per_vm_hour], y=[s.rival_usd_per_month], mode="markers", showlegend=False,
                legendgroup=name, marker=dict(symbol="diamond", size=11, color=col, line=dict(width=1, color="#000")),
                hovertemplate=f"<b>{name}</b> {verb} the pick below $%{{x:,.2f}}/VM-h<extra></extra>"), **at)
        fig.add_trace(go.Scatter(
            x=[s.usd_per_vm_hour], y=[s.usd_per_month], mode="markers", showlegend=False, legendgroup=name,
            marker=dict(symbol="circle-open", size=12, color="#000", line=dict(width=2, color="#000")),
            hovertemplate=f"<b>{name}</b>: the plan's price $%{{x:,.2f}}/VM-h, $%{{y:,.0f}}/month<extra></extra>"), **at)
        fig.update_xaxes(title_text="$/VM-h", tickprefix="$", nticks=5, **at)
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="break-even (crossing)",
                             marker=dict(symbol="diamond", size=11, color="#fff", line=dict(width=1, color="#000"))))
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="the plan's price",
                             marker=dict(symbol="circle-open", size=12, color="#000", line=dict(width=2, color="#000"))))
    fig.update_yaxes(tickprefix="$", separatethousands=True)
    fig.update_yaxes(title_text="$/month of its best configuration", col=1)
    fig = F._base(fig, 300 + 260 * rows)
    fig.update_layout(legend=dict(y=-0.28 / rows), margin=dict(l=90, r=30, t=50, b=60))
    fig.update_annotations(font=dict(size=12))
    return fig


def _move(be: float, price: float) -> str:
    return f"{be / price - 1:+.0%}"


def price_section(page: Page, doc: PlanDocument, colors: dict[str, str]) -> str:
    sens = doc.charts.price_sensitivity
    if not sens:
        why = "no configuration meets the targets" if doc.recommended is None else "the plan stores none (run it again)"
        return not_available("price break-even and sensitivity", why)
    tags = price_tags(doc)
    body = []
    for s in sens:
        tag = tags.get(s.sku)
        st = tag.status if tag else "unknown"
        sw = f'<span class="swatch" style="background:{esc(colors.get(s.sku, "#999"))}"></span>'
        pick = ' <b class="pick">recommended</b>' if s.is_pick else ""
        if s.break_even_usd_per_vm_hour is None:
            be, text = "–", "the only SKU with a configuration that meets the targets"
        else:
            b = s.break_even_usd_per_vm_hour
            be = f"{b:,.2f}"
            text = (f"{s.sku} stays the pick below ${b:,.2f}/h ({_move(b, s.usd_per_vm_hour)}), where {s.rival} "
                    f"becomes cheaper" if s.is_pick else
                    f"{s.sku} becomes the pick below ${b:,.2f}/h ({_move(b, s.usd_per_vm_hour)})")
        label = f'<br><small>{esc(tag.label)}</small>' if tag else ""
        body.append(
            f"<tr><td>{sw}{esc(s.sku)}{pick}</td><td class=\"num\">{s.vms}</td>"
            f"<td class=\"num\">{s.usd_per_vm_hour:,.2f}{label}</td>"
            f'<td><span class="status {esc(st)}" title="{esc(STATUS_WORDS.get(st, ""))}">{esc(st)}</span></td>'
            f"<td class=\"num\">{s.usd_per_month:,.0f}</td><td class=\"num\">{esc(be)}</td><td>{esc(text)}</td></tr>")
    heads = ["VM SKU", "VMs", "price used ($/VM-h)", "price status", "$/month", "break-even ($/VM-h)", "what it means"]
    table = ('<table class="breakeven"><thead><tr>' + "".join(f"<th>{esc(h)}</th>" for h in heads)
             + f'</tr></thead><tbody>{"".join(body)}</tbody></table>')
    est = [s.sku for s in sens if tags.get(s.sku) is not None and tags[s.sku].status != "api"]
    warn = (f"<p><b>Prices to check</b>: {esc(', '.join(est))} (not read from the Azure Retail Prices API by moeprof: "
            "see the status; <code>moeprof prices url</code> gives the query). "
            "The break-even price is what a quote has to beat.</p>" if est else "")
    cap = (
        "A panel per SKU, x its own VM price. Its best configuration costs VMs x that price x 730 h a month (a line; "
        "the best configuration does not "
        "change with the SKU's own price, since every configuration of one SKU scales with it). Dashed: the $/month it has to "
        "beat, the pick's, or for the pick the cheapest other SKU's; the diamond, where the two meet, is the break-even "
        "price; the ring is the price the plan used. x: 0.3x to 2x each SKU's price, widened to show the break-even. "
        "Other SKUs' prices stay as the plan has them."
    )
    fig = page.figure(sensitivity_figure(sens, colors), cap)
    return table + warn + fig


def _b(tokens: float) -> str:
    return f"{tokens / 1e9:,.1f}"


def build_or_buy_section(doc: PlanDocument, colors: dict[str, str]) -> str:
    b: BuildOrBuy | None = doc.charts.build_or_buy
    inp = doc.inputs
    if b is None:
        return (f"<p>No serverless per-token price of {esc(inp.model_name or inp.model)} is in "
                "moeprof/data/prices/serverless.json, so there is nothing to weigh self-hosting against: give one with "
                "<code>moeprof plan ... --token-price IN,OUT</code> (USD per million input, output tokens).</p>")
    user = b.date == "user"
    old = not user and stale(b.date)
    status = "user" if user else "stale" if old else "reported"  # serverless prices: third-party files quoting the API
    words = "given with --token-price" if user else STATUS_WORDS[status]
    when = "given on the command line" if user else f"read {b.date}"
    tier = f" {b.tier}" if b.tier else ""
    intro = (
        f"<p><b>Buy</b>: {esc(b.provider.split(' (')[0])}{esc(tier)} {'for' if user else 'sells'} {esc(b.model)} {'is' if user else 'at'} "
        f"${b.usd_per_million_input_tokens:g} per million input and ${b.usd_per_million_output_tokens:g} per million output "
        f'tokens ({esc(when)}, <span class="status {status}" title="{esc(words)}">{status}</span>; '
        f'<span class="src" title="{esc(b.source)}">source</span>). At this plan\'s {inp.input_tokens:,} input + '
        f"{inp.output_tokens:,} output tokens per request that is <b>${b.blended_usd_per_million_tokens:.3f} per million "
        f"tokens blended</b>. <b>This plan</b>: {inp.qps:g} req/s, {_b(b.plan_tokens_per_month)} B tokens a month.</p>"
        + (f"<p><b>Check the price</b>: read over {STALE_DAYS} days ago.</p>" if old else "")
        + ("<p>A secondary source (a price map, not the provider's own list): check it.</p>" if "via" in b.provider else "")
    )
    body = []
    for s in b.skus:
        sw = f'<span class="swatch" style="background:{esc(colors.get(s.sku, "#999"))}"></span>'
        pick = ' <b class="pick">recommended</b>' if doc.recommended is not None and doc.recommended.sku == s.sku else ""
        cap = s.capacity_tokens_per_month
        if cap is not None and cap < s.break_even_tokens_per_month:
            full = (s.usd_per_month + s.overhead_usd_per_month) / cap * 1e6
            verdict = (f"beyond its capacity: fully loaded it costs ${full:.3f}/M tokens, more than "
                       f"${b.blended_usd_per_million_tokens:.3f}/M, so at these prices buying per token costs less")
        elif b.plan_tokens_per_month >= s.break_even_tokens_per_month:
            verdict = "self-hosting costs less at this plan's volume"
        else:
            verdict = (f"buying per token costs less at this plan's volume; self-hosting from "
                       f"{s.break_even_tokens_per_month / b.plan_tokens_per_month:.1f}x it")
        capt = "–" if cap is None else f"{_b(cap)} ({s.capacity_qps:,.1f} req/s)"
        body.append(
            f"<tr><td>{sw}{esc(s.sku)}{pick}</td><td class=\"num\">{s.usd_per_month:,.0f} + {s.overhead_usd_per_month:,.0f}</td>"
            f"<td class=\"num\">{_b(s.break_even_tokens_per_month)}</td><td class=\"num\">{s.break_even_qps:,.1f}</td>"
            f"<td class=\"num\">{esc(capt)}</td><td>{esc(verdict)}</td></tr>")
    heads = ["VM SKU", "$/month (VMs + overhead)", "self-hosting cheaper above (B tokens/month)", "the same in req/s",
             "capacity (B tokens/month)", "at this plan's volume"]
    table = ('<table class="buildbuy"><thead><tr>' + "".join(f"<th>{esc(h)}</th>" for h in heads)
             + f'</tr></thead><tbody>{"".join(body)}</tbody></table>')
    note = ("<p>Per SKU, its best configuration (sized for the plan's req/s, as in the procurement table): "
            "self-hosting is cheaper above (VMs + overhead) $/month / blended $/M x 1e6 tokens a month (overheads: storage, "
            "egress and operations, see Build or buy; --overhead); req/s: that volume over "
            "(input + output tokens per request) x 3,600 s x 730 h. Above the configuration's capacity more VMs are "
            "needed, which the volume does not include. Another per-token price: `moeprof plan ... --token-price IN,OUT` "
            "(USD per million input, output tokens), or edit moeprof/data/prices/serverless.json.</p>")
    return intro + table + note
