"""`plan --traffic FILE`: the traffic plan of the pick (planner.analyses.traffic) and its text section."""

from __future__ import annotations

import click

from ..planner.document.traffic import AUTOSCALED, STATIC, TrafficPlan


def _unit_text(t: TrafficPlan) -> str:
    vms = f"{t.unit_vms} VM{'s' if t.unit_vms > 1 else ''}"
    return f"{vms} of {t.sku} running {t.unit_replicas} replica{'s' if t.unit_replicas > 1 else ''}"


def print_traffic(t: TrafficPlan) -> None:
    echo = click.echo
    period = "week" if t.hours == 168 else "day" if t.hours == 24 else f"{t.hours} h"
    echo(f"\nTRAFFIC  {t.path}: {t.hours} hours ({period})" + (f"; {t.source}" if t.source else ""))
    peak_h = t.qps_per_hour.index(t.peak_qps)
    trough_h = t.qps_per_hour.index(t.trough_qps)
    echo(f"  load        peak {t.peak_qps:g} req/s (hour {peak_h}), trough {t.trough_qps:g} req/s (hour {trough_h}), "
         f"mean {sum(t.qps_per_hour) / t.hours:.2f} req/s; the pick was sized for {t.plan_qps:g} req/s")
    echo(f"  unit        {_unit_text(t)}: {t.unit_qps_capacity:.2f} req/s within the targets (pessimistic edge of the band), "
         f"${t.usd_per_unit_hour['payg']:,.2f}/h pay-as-you-go")
    counts = {}
    for u in t.units_per_hour:
        counts[u] = counts.get(u, 0) + 1
    spread = ", ".join(f"{u} unit{'s' if u != 1 else ''} {n} h" for u, n in sorted(counts.items()))
    if len(counts) > 10:
        spread = f"{len(counts)} different counts (every hour in --json: traffic.units_per_hour)"
    echo(f"  units/hour  peak {t.peak_units}, trough {t.trough_units}, mean {t.mean_units:.2f} "
         f"(at least {t.min_units}; units = ceil(qps / {t.unit_qps_capacity:.2f})); {spread}")
    echo(f"  {'option':<22}{'reserved':>9}{f'$/{period}':>14}{'$/month':>13}{'saving':>9}")
    for o in t.options:
        what = {STATIC: "static (peak, payg)", AUTOSCALED: "autoscaled (payg)"}.get(o.name, o.name)
        res = f"{o.reserved_units}" if o.name not in (STATIC, AUTOSCALED) else "-"
        echo(f"  {what:<22}{res:>9}{o.usd_per_period:>14,.0f}{o.usd_per_month:>13,.0f}{o.saving_vs_static_fraction:>9.1%}")
    best = t.cheapest
    echo(f"  cheapest    {best.name}" + (f": {best.reserved_units} unit(s) reserved, pay-as-you-go above"
                                         if best.name not in (STATIC, AUTOSCALED) else "")
         + f"; $/month = $/{period} x {t.hours_per_month:g} / {t.hours} h; savings vs the static fleet")
    for k, why in t.unpriced.items():
        echo(f"  no {k} price: {why} (option left out)")
    prices = ", ".join(f"{k} ${v:,.2f} ({t.price_sources.get(k, '').split(': ', 1)[0]})" for k, v in t.usd_per_unit_hour.items())
    echo(f"  prices      per unit-hour: {prices}; sources in --json (traffic.price_sources)")
    for n in t.notes:
        echo(f"  note        {n}")
