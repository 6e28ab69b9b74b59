"""One Azure region for the built-in VMs' prices (moeprof/data/prices/azure_vms.json).

    choose_region(listed)                  without --region: the region that sells the most of the
                                           SKUs, the cheapest of those; "sells" = has a price of the kind
    price_builtins(vms, table, pricing, region, keys)
                                           each VM in `keys` priced in that one region; a VM with no price
                                           there is unpriced, with the reason (kept out of a plan, not an
                                           error for the whole command)

A plan compares SKUs at prices of one region, never eastus for one SKU and eastus2 for another.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ...errors import MoeprofError
from .prices import DEFAULT_REGION, PRICINGS, vm_price


@dataclass(frozen=True)
class RegionChoice:
    """Where the built-in VMs' prices were read, and the VMs left without one."""

    region: str | None  # None: no VM was priced from the list (all user-priced, or none in scope)
    chosen: bool  # True: moeprof chose it (no --region)
    pricing: str = "payg"
    note: str = ""  # one sentence for the plan's warnings
    unpriced: dict[str, str] = field(default_factory=dict)  # VM key -> why it has no price

    def reasons(self) -> list[str]:
        return [f"{k}: {why}" for k, why in self.unpriced.items()]


def listed_regions(table: dict, azure_name: str, pricing: str) -> dict[str, float]:
    """{region: USD per hour} of one SKU's `pricing` prices in the table."""
    return {r["region"]: float(r["usd_per_hour"]) for r in (table.get(azure_name, {}).get(pricing) or [])}


def choose_region(listed: dict[str, dict[str, float]]) -> str | None:
    """`listed`: {SKU: {region: USD/h}}. The region selling the most of the SKUs; among those, the
    lowest sum of their prices; then DEFAULT_REGION; then by name. None when none is listed."""
    regions = sorted({r for prices in listed.values() for r in prices})
    if not regions:
        return None

    def rank(region: str):
        sold = [p[region] for p in listed.values() if region in p]
        return (-len(sold), round(sum(sold), 6), region != DEFAULT_REGION, region)

    return min(regions, key=rank)


def _why(pricing: str, region: str, where: dict[str, float], key: str) -> str:
    """Why VM `key` has no price in `region`, and what to give instead (its cheapest listed region)."""
    if not where:
        return f"no {pricing} price in {region} (listed nowhere); give --price-per-hour {key}=USD"
    cheapest = min(where, key=lambda r: (where[r], r))
    return (f"no {pricing} price in {region} (listed: {', '.join(sorted(where))}); give --price-per-hour {key}=USD "
            f"or --region {cheapest}")


def price_builtins(vms: dict, table: dict, pricing: str, region: str | None, keys) -> tuple[dict, RegionChoice]:
    """`vms` with each VM in `keys` (those the dated list prices) priced in one region: `region`,
    or the one choose_region picks. A VM with no price there keeps its old price in the returned
    dict and is named in RegionChoice.unpriced (the caller drops it unless a user price replaces it)."""
    if pricing not in PRICINGS:
        raise MoeprofError(f"unknown pricing {pricing!r} (known: {', '.join(PRICINGS)})")
    keys = [k for k in keys if vms[k].azure_name in table]
    listed = {k: listed_regions(table, vms[k].azure_name, pricing) for k in keys}
    chosen = region is None
    if chosen:
        region = choose_region({vms[k].azure_name: listed[k] for k in keys})
    if region is None:
        unpriced = {k: f"no {pricing} price listed in any region; give --price-per-hour {k}=USD" for k in keys}
        return vms, RegionChoice(None, chosen, pricing, f"no built-in VM has a {pricing} price" if keys else "", unpriced)
    out, unpriced = dict(vms), {}
    for k in keys:
        if region in listed[k]:
            out[k] = replace(vms[k], price=vm_price(vms[k].azure_name, pricing, region, table))
        else:
            unpriced[k] = _why(pricing, region, listed[k], k)
    priced = [k for k in keys if k not in unpriced]
    if chosen:
        note = (f"prices: {pricing} in {region} for every SKU, the cheapest region that sells "
                + (f"{'it' if len(priced) == 1 else 'all of them'} ({', '.join(priced)})" if not unpriced else
                   f"the most of them ({', '.join(priced) or 'none'}); left out: {'; '.join(f'{k}: {w}' for k, w in unpriced.items())}"))
    else:
        note = f"prices: {pricing} in {region} (--region)" + (
            f"; left out: {'; '.join(f'{k}: {w}' for k, w in unpriced.items())}" if unpriced else "")
    return out, RegionChoice(region, chosen, pricing, note, unpriced)
