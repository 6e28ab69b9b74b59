"""Break-even VM prices: how far each SKU's price may move before the recommendation changes.

    break_even_usd_per_vm_hour(row)  recommended $/h / row's VMs: the VM price at which that SKU's
                                     best configuration costs the same per month as the recommendation
    stays_pick_below(rec, per_sku)   cheapest other SKU's best $/h / recommended VMs: the recommended
                                     SKU's VM price below which it stays the cheapest
    price_sensitivity(rec, per_sku)  per SKU with a best row: its $/month (VMs x price x 730 h) over
                                     0.3x-2x its VM price (widened to take in the break-even price),
                                     against the $/month it must beat, and where the two meet

A SKU's best row does not depend on its price (every row of one SKU scales with the same price), so
all are exact; at exactly the break-even price the ranking's tie-breaks decide.
"""

from __future__ import annotations

import numpy as np

from ...units import HOURS_PER_MONTH
from ..document.procurement import PriceSensitivity
from ..document.rows import PlanRow, SkuBest

PRICE_RANGE = (0.3, 2.0)  # the sensitivity chart's x, as multiples of the SKU's own VM price
POINTS = 41


def add_break_even(per_sku: list[SkuBest], recommended: PlanRow | None) -> list[SkuBest]:
    for s in per_sku:
        s.break_even_usd_per_vm_hour = (
            recommended.usd_per_hour / s.row.vms if recommended is not None and s.row is not None else None
        )
    return per_sku


def stays_pick_below(recommended: PlanRow, per_sku: list[SkuBest]) -> float | None:
    """None when no other SKU has a feasible configuration."""
    others = [s.row.usd_per_hour for s in per_sku if s.row is not None and s.sku != recommended.sku]
    return min(others) / recommended.vms if others else None


def price_grid(usd_per_vm_hour: float, break_even: float | None, points: int = POINTS) -> list[float]:
    lo, hi = PRICE_RANGE[0] * usd_per_vm_hour, PRICE_RANGE[1] * usd_per_vm_hour
    if break_even is not None:
        lo, hi = min(lo, 0.8 * break_even), max(hi, 1.2 * break_even)
    g = np.linspace(lo, hi, points)
    extra = [usd_per_vm_hour] + ([break_even] if break_even is not None else [])
    return np.unique(np.append(g, extra)).tolist()


def price_sensitivity(recommended: PlanRow | None, per_sku: list[SkuBest]) -> list[PriceSensitivity]:
    """Empty without a recommendation (there is no pick to break even with)."""
    if recommended is None:
        return []
    others = sorted((s for s in per_sku if s.row is not None and s.sku != recommended.sku),
                    key=lambda s: s.row.usd_per_hour)
    out = []
    for s in per_sku:
        r = s.row
        if r is None:
            continue
        pick = s.sku == recommended.sku
        if pick:
            rival = others[0].row if others else None
        else:
            rival = recommended
        be = rival.usd_per_hour / r.vms if rival is not None else None
        price = r.usd_per_hour / r.vms
        xs = price_grid(price, be)
        out.append(PriceSensitivity(
            sku=s.sku, is_pick=pick, vms=int(r.vms), usd_per_vm_hour=price, usd_per_month=r.usd_per_month,
            rival=rival.sku if rival is not None else None,
            rival_usd_per_month=rival.usd_per_month if rival is not None else None, break_even_usd_per_vm_hour=be,
            price_usd_per_vm_hour=xs, cost_usd_per_month=[r.vms * x * HOURS_PER_MONTH for x in xs],
        ))
    return out
