"""Dated VM price files in the layout of moeprof/data/prices/azure_vms.json: built from Retail
Prices API rows (catalog.retail_api), checked when read, listed, and each price's status.

    price_file(rows, date, files, base)  {"_about": ..., "skus": {sku: {kind: [entry, ...]}}}
    check_price_file(d, label)           the "skus" table, every entry checked (one-line ConfigError)
    entries(table)                       flat rows for `moeprof prices list`
    entry_status(entry)                  "api" | "reported by <who>" | "estimate"

Status: "api" is a price this tool imported from the Retail Prices API (its meter id is in the
entry); "reported by <who>" is a third party's file quoting the API; "estimate" is no list price.
Nothing is "verified": moeprof has no way to check a price it did not read from the API itself.
"""

from __future__ import annotations

from ...errors import ConfigError
from ...inputs import is_number, require_ident, short
from ..bounds import MAX_USD_PER_HOUR
from .retail_api import API, KINDS, PriceRow

PLAN_KINDS = ("payg", "reserved-1y", "reserved-3y", "spot")  # the kinds a plan prices (catalog.prices.PRICINGS)
STATUSES = ("api", "reported", "estimate")
_ALL_KINDS = tuple(dict.fromkeys(PLAN_KINDS + KINDS))


def entry_status(e: dict) -> str:
    """'api' (imported from the Retail Prices API, meter id known), 'estimate', or 'reported by
    <who>' (a third party quoting the API; <who> from the entry's reported_by)."""
    if e.get("estimate"):
        return "estimate"
    if e.get("status") == "api" and e.get("meter_id"):
        return "api"
    return f"reported by {e.get('reported_by') or 'a third party (see the source)'}"


def _entry(r: PriceRow) -> dict:
    e = {
        "usd_per_hour": round(r.usd_per_hour, 6),
        "region": r.region,
        "date": r.read_date,
        "source": f"Azure Retail Prices API, meter {r.meter_id} ({r.meter_name}, {r.product_name}; "
                  f"effective {r.effective_start}). Query: {r.source}",
        "quote": r.quote,
        "estimate": False,
        "status": "api",
        "meter_id": r.meter_id,
        "effective_start": r.effective_start,
        "unit_of_measure": r.unit_of_measure,
    }
    if r.term_usd is not None:
        e["term_usd"] = r.term_usd
    if r.unit_note:
        e["note"] = r.unit_note
    return e


def _discountless(rows: list[PriceRow]) -> tuple[list[PriceRow], list[str]]:
    """Spot and Low Priority meters priced at or above pay-as-you-go in the same region are left
    out (no discount: such a meter is a placeholder, seen for ND H200 v5 in polandcentral)."""
    payg = {(r.sku, r.region): r.usd_per_hour for r in rows if r.kind == "payg"}
    keep, out = [], []
    for r in rows:
        p = payg.get((r.sku, r.region))
        if r.kind in ("spot", "low-priority") and p is not None and r.usd_per_hour >= p:
            out.append(f"{r.sku} {r.region} {r.kind} {r.usd_per_hour:g} (meter {r.meter_id}): not below pay-as-you-go {p:g}")
        else:
            keep.append(r)
    return keep, out


def price_file(rows: list[PriceRow], date: str, files: list[str], left_out: list[str] | None = None,
               base: dict | None = None) -> dict:
    """A price file of `rows` read on `date` from the pages `files`. With `base` (a price file),
    its entries stay except where an imported row gives the same SKU, kind and region."""
    rows, dropped = _discountless(rows)
    skus: dict[str, dict[str, list[dict]]] = {}
    if base is not None:
        for sku, kinds in base["skus"].items():
            skus[sku] = {k: list(v) for k, v in kinds.items()}
    for r in rows:
        kinds = skus.setdefault(r.sku, {})
        lst = [e for e in kinds.get(r.kind, []) if e.get("region") != r.region]
        kinds[r.kind] = sorted(lst + [_entry(r)], key=lambda e: e["region"])
    for kinds in skus.values():
        for k in _ALL_KINDS:
            kinds.setdefault(k, [])
    left = (left_out or []) + dropped
    imported = {
        "tool": "moeprof prices import",
        "date": date,
        "pages": len(files),
        "rows": len(rows),
        "source": API,
        "left_out": left[:500] + ([f"... and {len(left) - 500} more"] if len(left) > 500 else []),
    }
    about = dict(base.get("_about", {})) if base is not None else {
        "what": "Azure VM list prices, USD per hour for the whole VM (Linux), per pricing kind and region. Each entry: "
                "usd_per_hour, region, date (ISO date the API page was read), source (meter and query), quote (the API "
                "item, verbatim), estimate, status, meter_id.",
        "kinds": "payg = pay-as-you-go; spot and low-priority = the Spot / Low Priority meters (point-in-time readings); "
                 "reserved-1y / reserved-3y = reservation, the term total / 8,760 or / 26,280 h; savings-plan-1y / "
                 "savings-plan-3y = the savings plan hourly rate of the pay-as-you-go meter.",
        "selection": "Imported with `moeprof prices import` from saved pages of the Azure Retail Prices API: Linux meters "
                     "only (Windows and DevTestConsumption left out), one row per (SKU, kind, region), the newest; Spot "
                     "and Low Priority meters not below pay-as-you-go left out.",
        "statuses": "api = imported from the Retail Prices API by moeprof (meter id known); reported = a third party "
                    "quoting the API (reported_by); estimate = not a list price.",
        "collected": date,
    }
    about["api_import"] = imported
    return {"_about": about, "skus": dict(sorted(skus.items()))}


def check_price_file(d, label) -> dict:
    """The {sku: {kind: [entry, ...]}} table of a price file; every entry checked."""
    if not isinstance(d, dict) or not isinstance(d.get("skus"), dict):
        raise ConfigError(label, "skus", "expected a price file: {\"_about\": ..., \"skus\": {SKU: {kind: [entry, ...]}}}")
    for sku, kinds in d["skus"].items():
        require_ident(sku, label, "skus.<key>")
        if not isinstance(kinds, dict):
            raise ConfigError(label, f"skus.{sku}", f"expected an object of pricing kinds, got {short(kinds)}")
        for kind, lst in kinds.items():
            if kind not in _ALL_KINDS:
                raise ConfigError(label, f"skus.{sku}.{kind}", f"unknown pricing kind (known: {', '.join(_ALL_KINDS)})")
            if not isinstance(lst, list):
                raise ConfigError(label, f"skus.{sku}.{kind}", f"expected a list of prices, got {short(lst)}")
            for i, e in enumerate(lst):
                w = f"skus.{sku}.{kind}[{i}]"
                if not isinstance(e, dict):
                    raise ConfigError(label, w, f"expected an object, got {short(e)}")
                usd = e.get("usd_per_hour")
                if usd is None or not is_number(usd) or not 0 < usd <= MAX_USD_PER_HOUR:
                    raise ConfigError(label, f"{w}.usd_per_hour", f"expected a positive number of USD, got {short(usd)}")
                for f in ("region", "date", "source"):
                    require_ident(e.get(f), label, f"{w}.{f}", max_chars=4000)
                if not isinstance(e.get("estimate", False), bool):
                    raise ConfigError(label, f"{w}.estimate", f"expected true/false, got {short(e.get('estimate'))}")
                if e.get("status") not in (None, *STATUSES):
                    raise ConfigError(label, f"{w}.status", f"{short(e.get('status'))} is not one of {', '.join(STATUSES)}")
                if e.get("status") == "api" and not e.get("meter_id"):
                    raise ConfigError(label, f"{w}.meter_id", "an 'api' price needs the meter id it was read from")
    return d["skus"]


def entries(table: dict, sku: str | None = None, region: str | None = None, kind: str | None = None) -> list[dict]:
    """One dict per price (SKU, kind, region, USD/h, date, status, meter id), filtered."""
    out = []
    for s, kinds in sorted(table.items()):
        if sku is not None and s.lower() != sku.lower():
            continue
        for k in _ALL_KINDS:
            if kind is not None and k != kind:
                continue
            for e in kinds.get(k) or []:
                if region is not None and e["region"] != region:
                    continue
                out.append({"sku": s, "kind": k, "region": e["region"], "usd_per_hour": float(e["usd_per_hour"]),
                            "date": str(e["date"]), "status": entry_status(e), "meter_id": e.get("meter_id"),
                            "source": str(e["source"])})
    return out
