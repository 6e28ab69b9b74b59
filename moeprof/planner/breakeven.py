"""Break-even VM prices: how far each SKU's price may move before the recommendation changes.

    break_even_usd_per_vm_hour(row)  recommended $/h / row's VMs: the VM price at which that SKU's
                                     best configuration costs the same per month as the recommendation
    stays_pick_below(rec, per_sku)   cheapest other SKU's best $/h / recommended VMs: the recommended
                                     SKU's VM price below which it stays the cheapest

A SKU's best row does not depend on its price (every row of one SKU scales with the same price), so
both are exact; at exactly the break-even price the ranking's tie-breaks decide.
"""

from __future__ import annotations

from .schema import PlanRow, SkuBest


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
