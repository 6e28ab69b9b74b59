"""The plan report's traffic section (`plan --traffic FILE`): units per hour of the pick, split
into the cheapest option's reserved base and the pay-as-you-go units above it, against the QPS
per hour; and the cost of each option. Every number comes from PlanDocument.traffic."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .figures import _base
from .html import Page, esc, table
from .html import plot_text as T

STATIC, AUTOSCALED = "static", "autoscaled"  # the option names of planner.document.traffic
_LABEL = {STATIC: "static fleet sized for the peak hour, pay-as-you-go",
          AUTOSCALED: "autoscaled, pay-as-you-go every hour"}


def _period(hours: int) -> str:
    return "week" if hours == 168 else "day" if hours == 24 else f"{hours} h"


def traffic_figure(t) -> go.Figure:
    """Stacked units per hour (reserved base, pay-as-you-go above) and QPS per hour on a second axis."""
    best = t.cheapest
    b = best.reserved_units
    hours = list(range(t.hours))
    reserved = [min(u, b) for u in t.units_per_hour]
    payg = [u - r for u, r in zip(t.units_per_hour, reserved)]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    if b:
        fig.add_trace(go.Bar(x=hours, y=reserved, name=T(f"reserved units ({best.name.split(' ')[0]})"),
                             marker_color="#1f3a5f", hovertemplate="hour %{x}<br>%{y} reserved unit(s)<extra></extra>"))
    if any(payg) or not b:
        fig.add_trace(go.Bar(x=hours, y=payg, name="pay-as-you-go units", marker_color="#8fb3d9",
                             hovertemplate="hour %{x}<br>%{y} pay-as-you-go unit(s)<extra></extra>"))
    fig.add_trace(go.Scatter(x=hours, y=t.qps_per_hour, mode="lines", name="traffic (req/s)",
                             line=dict(color="#d62728", width=1.5), hovertemplate="hour %{x}<br>%{y:.2f} req/s<extra></extra>"),
                  secondary_y=True)
    fig.update_layout(barmode="stack", bargap=0.05)
    fig.update_xaxes(title_text="hour of the profile (h)", dtick=24 if t.hours > 48 else 6)
    top = max(t.peak_units, 1)
    fig.update_yaxes(title_text="units running (count)", range=[0, top * 1.08], dtick=max(1, -(-top // 6)),
                     tickformat=",d", secondary_y=False)  # whole units
    # the right axis at the units' capacity: a unit on the left is its req/s on the right, so the
    # line stays under the top of the bars wherever the units cover the traffic
    fig.update_yaxes(title_text="traffic (req/s)", range=[0, top * 1.08 * t.unit_qps_capacity], tickmode="auto",
                     nticks=7, showgrid=False, secondary_y=True)
    fig = _base(fig, 420)
    fig.update_layout(margin=dict(l=70, r=70, t=30, b=60), legend=dict(y=-0.25))
    return fig


def traffic_section(page: Page, t) -> str:
    per = _period(t.hours)
    unit = (f"{t.unit_vms} VM{'s' if t.unit_vms > 1 else ''} of {t.sku} running {t.unit_replicas} "
            f"replica{'s' if t.unit_replicas > 1 else ''}")
    out = [
        f"<p>{esc(t.hours)} hours ({esc(per)}) from <code>{esc(t.path)}</code>"
        + (f": {esc(t.source)}" if t.source else "") + ". "
        f"Peak {esc(f'{t.peak_qps:g}')} req/s, trough {esc(f'{t.trough_qps:g}')} req/s; the pick was sized for "
        f"{esc(f'{t.plan_qps:g}')} req/s. One autoscaling unit is {esc(unit)}, serving "
        f"{esc(f'{t.unit_qps_capacity:.2f}')} req/s within the latency targets "
        "(at the error band's pessimistic edge where the plan has a band); units per hour = "
        f"max({esc(t.min_units)}, ceil(req/s / {esc(f'{t.unit_qps_capacity:.2f}')})): peak {esc(t.peak_units)}, "
        f"trough {esc(t.trough_units)}, mean {esc(f'{t.mean_units:.2f}')}.</p>"
    ]
    for n in t.notes:
        out.append(f'<div class="warn">{esc(n)}</div>')
    prices = "; ".join(f"{k} ${v:,.2f} per unit-hour ({t.price_sources.get(k, 'source not stated')})"
                       for k, v in t.usd_per_unit_hour.items())
    cap = (f"Bars: units running each hour under the cheapest option ({esc(t.cheapest.name)}), its reserved base "
           f"dark; line: the traffic file's req/s, on an axis where one unit is its {esc(f'{t.unit_qps_capacity:.2f}')} "
           "req/s (the line stays under the top of the bars while the units cover the traffic). <b>Source</b>: the "
           "traffic file; the unit's capacity from the moeprof serving model"
           f" at the plan's targets. <b>Prices</b>: {esc(prices)}.")
    out.append(page.figure(traffic_figure(t), cap))
    rows = []
    for o in t.options:
        rows.append([_LABEL.get(o.name, f"{o.name}: reserved base billed every hour, pay-as-you-go above it"),
                     o.reserved_units if o.name not in _LABEL else "–", f"{o.usd_per_period:,.0f}",
                     f"{o.usd_per_month:,.0f}", f"{o.saving_vs_static_fraction:.1%}"])
    out.append(table(["option", "reserved units", f"$/{per}", "$/month", "saving vs static"], rows, {1, 2, 3, 4}))
    out.append(f"<p>$/month = $/{esc(per)} x {esc(f'{t.hours_per_month:g}')} h / {esc(t.hours)} h. The reserved base "
               "is the count B from 0 to the peak that costs least (every B tried). Cheapest: "
               f"<b>{esc(t.cheapest.name)}</b>.</p>")
    for k, why in t.unpriced.items():
        out.append(f'<p class="na">{esc(k)}: no price ({esc(why)}); option left out.</p>')
    return "".join(out)
