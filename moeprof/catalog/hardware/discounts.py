"""Reservation discounts against pay-as-you-go in one region (moeprof/data/prices/azure_vms.json),
and the note when one SKU's discount breaks the pattern of the others.

    discount = 1 - reserved $/h / pay-as-you-go $/h (same SKU, same region)

A SKU whose discount is more than OUTLIER_POINTS percentage points from every other SKU's is named,
with the advice to check its price against the API (the shipped reservation prices are a third
party's quotes, and none of them says why the discounts differ).
"""

from __future__ import annotations

from .prices import price_table

OUTLIER_POINTS = 5.0


def reservation_discounts(reserved: dict[str, tuple[str, float]], region: str, table: dict | None = None) -> dict[str, float]:
    """`reserved`: {SKU key: (Azure SKU name, reserved $/h in `region`)} -> {SKU key: discount (0-1)}
    for the SKUs with a pay-as-you-go price in `region`."""
    table = price_table() if table is None else table
    out = {}
    for key, (azure, usd) in reserved.items():
        payg = {r["region"]: float(r["usd_per_hour"]) for r in table.get(azure, {}).get("payg") or []}.get(region)
        if payg:
            out[key] = 1 - usd / payg
    return out


def discount_note(pricing: str, region: str, discounts: dict[str, float]) -> str | None:
    """One sentence when some SKU's discount is an outlier (needs at least three SKUs to say so)."""
    if len(discounts) < 3:
        return None
    odd = [k for k, d in discounts.items()
           if all(abs(d - e) * 100 > OUTLIER_POINTS for j, e in discounts.items() if j != k)]
    if not odd:
        return None
    each = ", ".join(f"{k} {d:.0%}" for k, d in discounts.items())
    return (f"{pricing} discounts from pay-as-you-go in {region}: {each}; {', '.join(odd)} differ{'s' if len(odd) == 1 else ''} "
            f"from the other SKUs by more than {OUTLIER_POINTS:g} points and its source does not say why: check it with "
            f"`moeprof prices url --sku ... --region {region}` and `moeprof prices import`")
