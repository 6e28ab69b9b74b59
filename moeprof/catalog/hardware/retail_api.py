"""Pages of Azure's public Retail Prices API (https://prices.azure.com/api/retail/prices), read
from files saved with curl: the query URL of one VM SKU, and the parse of its pages into typed
rows of USD per VM-hour.

    api_url(sku, region, currency)   the documented $filter query (serviceName, armSkuName, armRegionName)
    parse_pages(paths, read_date)    every Linux VM price in the pages, one row per (SKU, region, kind)
    read_pages(paths, read_date)     the same, with what was left out and why

The API (learn.microsoft.com, "Azure Retail Prices overview"): a page is {"BillingCurrency",
"CustomerEntityId", "CustomerEntityType", "Items": [...], "NextPageLink", "Count"}, at most 1,000
items; a non-null NextPageLink is the next page. Each item has currencyCode, retailPrice, unitPrice,
armRegionName, location, effectiveStartDate, meterId, meterName, productId, skuId, productName,
skuName, serviceName, serviceId, serviceFamily, unitOfMeasure, type (Consumption, Reservation,
DevTestConsumption), isPrimaryMeterRegion, armSkuName; a Reservation item has reservationTerm
("1 Year", "3 Years"); with api-version 2023-01-01-preview a Consumption item may carry
savingsPlan: [{"unitPrice", "retailPrice", "term"}], hourly rates. Filter values are case-sensitive.

Kinds: Consumption meters are pay-as-you-go, or Spot / Low Priority when the meter name says so;
Windows meters (productName or meterName naming Windows) and DevTestConsumption are left out.
A reservation's retailPrice is the price of the whole term: the documentation's own sample labels
it unitOfMeasure "1 Hour" (an E64 v4 1-year reservation at 25,007 USD), other readings label it
"1 Year" / "3 Years"; both are divided by the term's hours (8,760 or 26,280). A "1 Hour"
reservation at or below the same meter's pay-as-you-go price is read as already hourly (the
row's unit_note says which).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from ...errors import ConfigError
from ...inputs import is_number, parse_json_text, read_text_file, short
from ..bounds import MAX_USD_PER_HOUR

API = "https://prices.azure.com/api/retail/prices"
API_VERSION = "2023-01-01-preview"  # the version with savings plan rates
KINDS = ("payg", "spot", "low-priority", "reserved-1y", "reserved-3y", "savings-plan-1y", "savings-plan-3y")
TERM_HOURS = {"1 Year": 8760, "3 Years": 26280}
_TERM_SUFFIX = {"1 Year": "1y", "3 Years": "3y"}
_TYPES = ("Consumption", "Reservation", "DevTestConsumption")
_SKU = re.compile(r"[A-Za-z0-9_-]{1,100}")
_REGION = re.compile(r"[a-z0-9]{1,60}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(T[0-9:.]+(Z|[+-]\d{2}:\d{2})?)?")
_WHAT = "Retail Prices API page"


@dataclass(frozen=True)
class PriceRow:
    """One Linux VM price from the API, in USD per VM-hour."""

    sku: str  # armSkuName, e.g. Standard_ND96isr_H100_v5
    region: str  # armRegionName, e.g. eastus2
    kind: str  # one of KINDS
    usd_per_hour: float
    os: str  # linux (Windows meters are left out)
    meter_id: str
    meter_name: str
    product_name: str
    effective_start: str  # ISO date the API says the price took effect
    read_date: str  # ISO date the page was read (the file's date, or the one given)
    source: str  # the API query that returns this row
    unit_of_measure: str
    term_usd: float | None = None  # a reservation: the price of the whole term, as the API gives it
    unit_note: str = ""  # how the API's figure became USD per hour
    primary_meter_region: bool = True
    quote: str = field(default="", compare=False)  # the API item, verbatim (compact JSON)
    file: str = field(default="", compare=False)


@dataclass(frozen=True)
class PageRead:
    rows: list[PriceRow]
    left_out: list[str]  # "<file> Items[i] (<meter>): <why>"
    files: list[str]


def _check_sku(sku: str, what: str = "--sku") -> str:
    if not isinstance(sku, str) or not _SKU.fullmatch(sku):
        raise ConfigError(what, "sku", f"{short(sku)} is not an Azure VM size name (letters, digits, _ and -)")
    return sku


def api_url(sku: str, region: str | None = None, currency: str = "USD") -> str:
    """The Retail Prices API query for every meter of the VM size `sku` (an armSkuName such as
    Standard_ND96isr_H100_v5), in `region` only when given. Quotes are percent-encoded (%27), so the
    URL can be pasted between single quotes in a shell."""
    _check_sku(sku)
    if region is not None and not _REGION.fullmatch(region):
        raise ConfigError("--region", "region", f"{short(region)} is not an Azure region name (lower-case letters and digits, e.g. eastus2)")
    if not _CURRENCY.fullmatch(currency):
        raise ConfigError("--currency", "currency", f"{short(currency)} is not a three-letter currency code")
    filt = f"serviceName eq 'Virtual Machines' and armSkuName eq '{sku}'"
    if region is not None:
        filt += f" and armRegionName eq '{region}'"
    enc = lambda s: quote(s, safe="")
    return f"{API}?api-version={API_VERSION}&currencyCode={enc(repr(currency))}&$filter={enc(filt)}"


# ---- validation helpers: one ConfigError line naming the file and the item --------------------
def _str(item: dict, key: str, path, where: str, required: bool = True) -> str:
    v = item.get(key)
    if v is None and not required:
        return ""
    if not isinstance(v, str) or (required and not v.strip()):
        raise ConfigError(path, f"{where}.{key}", f"expected a non-empty string, got {short(v)}")
    if re.search(r"[\x00-\x1f\x7f]", v) or len(v) > 300:
        raise ConfigError(path, f"{where}.{key}", f"{short(v)}: control characters or over 300 characters")
    return v


def _price(v, path, field_: str, hi: float) -> float:
    if not is_number(v) or v < 0 or v > hi:
        raise ConfigError(path, field_, f"expected a price from 0 to {hi:,.0f} USD, got {short(v)}")
    return float(v)


def _date(v, path, field_: str) -> str:
    m = _DATE.fullmatch(v) if isinstance(v, str) else None
    if not m:
        raise ConfigError(path, field_, f"expected an ISO date such as 2025-06-01T00:00:00Z, got {short(v)}")
    try:
        dt.date.fromisoformat(m.group(1))
    except ValueError:
        raise ConfigError(path, field_, f"{short(v)} is not a calendar date") from None
    return m.group(1)


def _read_date(path: str, given: str | None) -> str:
    if given is not None:
        return given
    return dt.datetime.fromtimestamp(os.stat(path).st_mtime, dt.timezone.utc).date().isoformat()


def _envelope(d, path) -> list:
    if not isinstance(d, dict):
        raise ConfigError(path, "<root>", "expected the API's JSON object {\"Items\": [...], \"NextPageLink\": ...}")
    if "Items" not in d:
        err = d.get("Error") or d.get("error")
        why = f"an API error ({short(err, 120)})" if err is not None else "no Items list: not a Retail Prices API page"
        raise ConfigError(path, "Items", why)
    items = d["Items"]
    if not isinstance(items, list):
        raise ConfigError(path, "Items", f"expected a list, got {short(items)}")
    cur = d.get("BillingCurrency")
    if cur is not None and cur != "USD":
        raise ConfigError(path, "BillingCurrency", f"{short(cur)}: moeprof keeps USD prices; fetch with currencyCode='USD'")
    count = d.get("Count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count != len(items)):
        raise ConfigError(path, "Count", f"{short(count)} but the page holds {len(items)} items: a cut-off download?")
    nxt = d.get("NextPageLink")
    if nxt is not None and (not isinstance(nxt, str) or not nxt.startswith("https://prices.azure.com")):
        raise ConfigError(path, "NextPageLink", f"expected null or a prices.azure.com link, got {short(nxt)}")
    return items


def _kind_of(item_type: str, meter: str) -> str:
    m = meter.lower()
    if item_type == "Reservation":
        return "reserved"
    return "low-priority" if "low priority" in m else "spot" if "spot" in m else "payg"


def _item(item, i: int, path: str, read_date: str, left_out: list[str]) -> list[tuple[PriceRow, bool]]:
    """The rows of one API item (a payg item also yields its savings plan rows), each with whether
    its unit is still to be settled (a "1 Hour" reservation); [] when the item is left out."""
    where = f"Items[{i}]"
    if not isinstance(item, dict):
        raise ConfigError(path, where, f"expected an object, got {short(item)}")
    service = _str(item, "serviceName", path, where)
    meter = _str(item, "meterName", path, where)
    tag = f"{path} {where} ({meter})"
    if service != "Virtual Machines":
        left_out.append(f"{tag}: service {service!r}, not Virtual Machines")
        return []
    typ = _str(item, "type", path, where)
    if typ not in _TYPES:
        raise ConfigError(path, f"{where}.type", f"{short(typ)} is not one of {', '.join(_TYPES)}")
    sku = _str(item, "armSkuName", path, where)
    if not _SKU.fullmatch(sku):
        raise ConfigError(path, f"{where}.armSkuName", f"{short(sku)} is not an Azure VM size name")
    region = _str(item, "armRegionName", path, where)
    if not _REGION.fullmatch(region):
        raise ConfigError(path, f"{where}.armRegionName", f"{short(region)} is not an Azure region name")
    currency = _str(item, "currencyCode", path, where)
    if currency != "USD":
        raise ConfigError(path, f"{where}.currencyCode", f"{short(currency)}: moeprof keeps USD prices; fetch with currencyCode='USD'")
    product = _str(item, "productName", path, where)
    meter_id = _str(item, "meterId", path, where)
    _str(item, "skuName", path, where, required=False)
    _str(item, "location", path, where, required=False)
    uom = _str(item, "unitOfMeasure", path, where)
    start = _date(item.get("effectiveStartDate"), path, f"{where}.effectiveStartDate")
    primary = item.get("isPrimaryMeterRegion", True)
    if not isinstance(primary, bool):
        raise ConfigError(path, f"{where}.isPrimaryMeterRegion", f"expected true/false, got {short(primary)}")
    hi = MAX_USD_PER_HOUR * (TERM_HOURS["3 Years"] if typ == "Reservation" else 1)
    price = _price(item.get("retailPrice"), path, f"{where}.retailPrice", hi)
    if item.get("unitPrice") is not None:
        _price(item["unitPrice"], path, f"{where}.unitPrice", hi)
    if typ == "DevTestConsumption":
        left_out.append(f"{tag}: DevTestConsumption (Dev/Test subscriptions only)")
        return []
    if "windows" in product.lower() or "windows" in meter.lower():
        left_out.append(f"{tag}: a Windows meter ({product})")
        return []
    if price == 0:
        left_out.append(f"{tag}: price 0")
        return []
    base: dict[str, Any] = {"sku": sku, "region": region, "os": "linux", "meter_id": meter_id, "meter_name": meter, "product_name": product,
            "effective_start": start, "read_date": read_date, "source": api_url(sku, region), "unit_of_measure": uom,
            "primary_meter_region": primary, "quote": json.dumps(item, sort_keys=True, separators=(",", ":")), "file": path}
    kind = _kind_of(typ, meter)
    if kind != "reserved":
        if uom != "1 Hour":
            raise ConfigError(path, f"{where}.unitOfMeasure", f"{short(uom)}: a Consumption VM meter is priced per '1 Hour'")
        rows = [(PriceRow(kind=kind, usd_per_hour=price, **base), False)]
        if kind == "payg":
            rows += [(r, False) for r in _savings_plans(item, path, where, base)]
        return rows
    term = _str(item, "reservationTerm", path, where)
    if term not in TERM_HOURS:
        left_out.append(f"{tag}: reservation term {term!r} (moeprof prices 1 and 3 years)")
        return []
    if uom in TERM_HOURS and uom != term:
        raise ConfigError(path, f"{where}.unitOfMeasure", f"{short(uom)} disagrees with reservationTerm {term!r}")
    if uom not in TERM_HOURS and uom != "1 Hour":
        raise ConfigError(path, f"{where}.unitOfMeasure", f"{short(uom)}: expected '1 Hour', '1 Year' or '3 Years' for a reservation")
    hours = TERM_HOURS[term]
    row = PriceRow(kind=f"reserved-{_TERM_SUFFIX[term]}", usd_per_hour=price / hours, term_usd=price,
                   unit_note=f"{term} term total {price:,.2f} USD / {hours:,} h", **base)
    return [(row, uom == "1 Hour")]


def _savings_plans(item: dict, path: str, where: str, base: dict) -> list[PriceRow]:
    plans = item.get("savingsPlan")
    if plans is None:
        return []
    if not isinstance(plans, list):
        raise ConfigError(path, f"{where}.savingsPlan", f"expected a list, got {short(plans)}")
    out = []
    for j, sp in enumerate(plans):
        w = f"{where}.savingsPlan[{j}]"
        if not isinstance(sp, dict):
            raise ConfigError(path, w, f"expected an object, got {short(sp)}")
        term = sp.get("term")
        if term not in TERM_HOURS:
            if isinstance(term, str) and re.fullmatch(r"\d+ Years?", term):
                continue  # a term moeprof has no kind for
            raise ConfigError(path, f"{w}.term", f"expected '1 Year' or '3 Years', got {short(term)}")
        raw = sp.get("retailPrice", sp.get("unitPrice"))
        usd = _price(raw, path, f"{w}.retailPrice", MAX_USD_PER_HOUR)
        if sp.get("unitPrice") is not None:
            _price(sp["unitPrice"], path, f"{w}.unitPrice", MAX_USD_PER_HOUR)
        if usd > 0:
            out.append(PriceRow(kind=f"savings-plan-{_TERM_SUFFIX[term]}", usd_per_hour=usd,
                                unit_note="savings plan rate, USD per hour", **base))
    return out


def _settle_units(pending: list[tuple[PriceRow, bool]]) -> list[PriceRow]:
    """A '1 Hour' reservation is a term total (the documented sample) unless it is no more than
    the same SKU and region's pay-as-you-go price, which only an hourly rate can be."""
    payg = {(r.sku, r.region): r.usd_per_hour for r, _ in pending if r.kind == "payg"}
    out = []
    for r, unsettled in pending:
        if unsettled and r.term_usd is not None and r.term_usd <= payg.get((r.sku, r.region), 0.0):
            r = replace(r, usd_per_hour=r.term_usd, term_usd=None,
                        unit_note=f"'1 Hour' reservation at or below pay-as-you-go ({payg[(r.sku, r.region)]:g}): read as USD per hour")
        out.append(r)
    return out


def _newest(rows: list[PriceRow], left_out: list[str]) -> list[PriceRow]:
    """One row per (SKU, region, kind): the newest effective date, then the higher price (two
    Spot meters of one SKU bill at the market price: plan with the higher)."""
    best: dict[tuple[str, str, str], PriceRow] = {}
    for r in rows:
        k = (r.sku, r.region, r.kind)
        old = best.get(k)
        if old is None:
            best[k] = r
            continue
        keep, drop = (r, old) if (r.primary_meter_region, r.effective_start, r.usd_per_hour) > (
            old.primary_meter_region, old.effective_start, old.usd_per_hour) else (old, r)
        best[k] = keep
        left_out.append(f"{drop.file} ({drop.meter_name}, {drop.kind} {drop.region} {drop.usd_per_hour:g}): "
                        f"another meter of the same kind kept ({keep.meter_id}, {keep.usd_per_hour:g}, from {keep.effective_start})")
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(best.values(), key=lambda r: (r.sku, r.region, order[r.kind]))


def read_pages(paths, read_date: str | None = None) -> PageRead:
    """Every Linux VM price in the saved API pages `paths`. `read_date` (YYYY-MM-DD) is when the
    pages were fetched; without it, each file's modification date (UTC)."""
    if read_date is not None:
        _date(read_date, "--date", "date")
    pending: list[tuple[PriceRow, bool]] = []
    left_out: list[str] = []
    files = []
    for p in paths:
        path = os.fspath(p)
        d = parse_json_text(read_text_file(path, _WHAT), path)
        items = _envelope(d, path)
        date = _read_date(path, read_date)
        for i, item in enumerate(items):
            pending += _item(item, i, path, date, left_out)
        files.append(path)
    return PageRead(_newest(_settle_units(pending), left_out), left_out, files)


def parse_pages(paths, read_date: str | None = None) -> list[PriceRow]:
    """The rows of read_pages (what was left out is in read_pages(...).left_out)."""
    return read_pages(paths, read_date).rows
