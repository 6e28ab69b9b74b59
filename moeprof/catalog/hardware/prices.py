"""Dated Azure VM list prices (moeprof/data/prices/azure_vms.json): one SKU's price per pricing kind
and region, with its read date and source.

    vm_price(sku, pricing, region)   the given region; else DEFAULT_REGION; else the cheapest listed
    stale(date, today)               older than STALE_DAYS (a price list a year old is a guess)
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from importlib import resources

from ...errors import MoeprofError
from ...inputs import parse_json_text
from .price import Price
from .price_file import entry_status

PRICINGS = ("payg", "reserved-1y", "reserved-3y", "spot")
DEFAULT_REGION = "eastus"  # the region of moeprof/data/vms.json's prices
STALE_DAYS = 365
_LABEL = "moeprof/data/prices/azure_vms.json"


def price_table() -> dict:
    """{azure SKU name: {pricing: [entry, ...]}} from the shipped file (parsed once per process:
    package data; read it, do not change it)."""
    return _price_table()


@cache
def _price_table() -> dict:
    text = (resources.files("moeprof") / "data" / "prices" / "azure_vms.json").read_text(encoding="utf-8")
    return parse_json_text(text, _LABEL)["skus"]


def vm_price(sku: str, pricing: str = "payg", region: str | None = None, table: dict | None = None) -> Price:
    """The `pricing` price of the Azure SKU `sku` (e.g. Standard_ND96isr_H200_v5) in `region`; without a
    region, DEFAULT_REGION where listed, else the cheapest region listed (the source says so)."""
    if pricing not in PRICINGS:
        raise MoeprofError(f"unknown pricing {pricing!r} (known: {', '.join(PRICINGS)})")
    table = price_table() if table is None else table
    if sku not in table:
        raise MoeprofError(f"no dated price for VM SKU {sku!r} (priced: {', '.join(sorted(table))})")
    rows = table[sku].get(pricing) or []
    if not rows:
        raise MoeprofError(f"{sku}: no {pricing} price found in {_LABEL}")
    by_region = {r["region"]: r for r in rows}
    note = ""
    if region is not None:
        if region not in by_region:
            raise MoeprofError(f"{sku}: no {pricing} price for region {region!r} (listed: {', '.join(sorted(by_region))})")
        row = by_region[region]
    elif DEFAULT_REGION in by_region:
        row = by_region[DEFAULT_REGION]
    else:
        row = min(rows, key=lambda r: (r["usd_per_hour"], r["region"]))
        note = f"; no {pricing} price listed for {DEFAULT_REGION}, so the cheapest listed region, {row['region']}"
    return Price(
        float(row["usd_per_hour"]), row["region"], row["date"], bool(row["estimate"]),
        f"{pricing} {row['region']} read {row['date']}: {row['source']}{note}", entry_status(row),
    )


def _parse_date(date: str) -> dt.date | None:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", date or ""):
        return dt.date.fromisoformat(date)
    if re.fullmatch(r"\d{4}-\d{2}", date or ""):  # month only: its last day, the latest it can be
        y, m = map(int, date.split("-"))
        return dt.date(y + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1)
    return None


def stale(date: str, today: dt.date | None = None) -> bool:
    """True when `date` is more than STALE_DAYS before `today`, or is not a date at all."""
    d = _parse_date(date)
    today = today or dt.date.today()
    return d is None or (today - d).days > STALE_DAYS
