"""`moeprof prices url | import | list`: Azure VM prices from the Retail Prices API.

    prices url --sku SKU [--region R]                      the API query (and a curl line) to fetch
    prices import PAGE... --out PATH [--date D] [--merge F] a dated price file from saved pages
    prices list [--sku] [--region] [--kind] [--file F]     prices with kind, region, date, status
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex

import click

from ..catalog.hardware.price_file import check_price_file, entries, price_file
from ..catalog.hardware.retail_api import KINDS, api_url, read_pages
from ..errors import MoeprofError
from ..fileio import json_safe, write_atomic
from ..inputs import parse_json_text, read_json_file
from .common import emit_json

_SHIPPED = "moeprof/data/prices/azure_vms.json"


def _azure_name(sku: str) -> str:
    """An Azure VM size name as given (Standard_...), or the one of a moeprof VM key (nd-h100-v5)."""
    if sku.lower().startswith("standard_"):
        return sku
    from ..catalog.hardware import get_vm

    return get_vm(sku).azure_name


def _iso_date(ctx, param, value):
    if value is None:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected a date YYYY-MM-DD") from None
    return value


@click.group()
def prices():
    """Azure VM prices: the Retail Prices API query to fetch, the import of saved pages into a dated
    price file, and the prices moeprof ships (with kind, region, date and status)."""


@prices.command("url")
@click.option("--sku", required=True, help="Azure VM size (Standard_ND96isr_H100_v5) or moeprof VM key (nd-h100-v5).")
@click.option("--region", default=None, help="Azure region (armRegionName, e.g. eastus2); all regions when left out.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def prices_url(sku, region, as_json):
    """Print the Retail Prices API query for one VM size's prices, and a curl line that saves it."""
    name = _azure_name(sku)
    url = api_url(name, region)
    out = f"{name.lower()}{'-' + region if region else ''}-1.json"
    curl = f"curl -sS --fail {shlex.quote(url)} -o {shlex.quote(out)}"
    if as_json:
        emit_json({"sku": name, "region": region, "url": url, "curl": curl})
        return
    click.echo(url)
    click.echo(curl)
    click.echo("A page holds at most 1,000 items: while a page's NextPageLink is not null, fetch that link too "
               "(-o ...-2.json), then `moeprof prices import PAGE... --out FILE`.")


@prices.command("import")
@click.argument("pages", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The price file to write (- for standard output).")
@click.option("--date", "read_date", default=None, callback=_iso_date,
              help="Date the pages were fetched, YYYY-MM-DD [default: each file's modification date].")
@click.option("--merge", "merge_path", default=None, type=click.Path(dir_okay=False),
              help="Start from this price file (e.g. moeprof/data/prices/azure_vms.json): its entries stay except "
                   "where a page gives the same SKU, kind and region.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def prices_import(pages, out, read_date, merge_path, as_json):
    """Write a dated price file (the layout of moeprof/data/prices/azure_vms.json) from saved pages of
    the Azure Retail Prices API: Linux meters only, each price with its meter id and status "api"."""
    read = read_pages(pages, read_date)
    if not read.rows:
        why = f" ({read.left_out[0]}{'; ...' if len(read.left_out) > 1 else ''})" if read.left_out else ""
        raise MoeprofError(f"no Linux VM price in {len(pages)} page(s){why}")
    base = None
    if merge_path:
        base = read_json_file(merge_path, "price file")
        check_price_file(base, merge_path)
    date = read_date or max(r.read_date for r in read.rows)
    doc = price_file(read.rows, date, read.files, read.left_out, base)
    text = json.dumps(json_safe(doc), indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    check_price_file(parse_json_text(text, out), out)  # what the price loader will read back
    write_atomic(out, text, "price file")
    kept = doc["_about"]["api_import"]
    summary = {"out": out, "date": date, "pages": len(read.files), "prices": kept["rows"],
               "left_out": len(kept["left_out"]),
               "rows": [{"sku": r.sku, "kind": r.kind, "region": r.region, "usd_per_hour": r.usd_per_hour,
                         "meter_id": r.meter_id} for r in read.rows]}
    if out == "-":
        return
    if as_json:
        emit_json(summary)
        return
    click.echo(f"wrote {out}: {kept['rows']} price(s) read {date} from {len(read.files)} page(s); "
               f"{len(kept['left_out'])} item(s) left out (listed in its _about.api_import)")
    for r in read.rows:
        click.echo(f"  {r.sku:<28}{r.kind:<17}{r.region:<18}{r.usd_per_hour:>12,.4f} $/h  meter {r.meter_id}")


@prices.command("list")
@click.option("--sku", default=None, help="Azure VM size or moeprof VM key.")
@click.option("--region", default=None, help="Azure region (armRegionName).")
@click.option("--kind", type=click.Choice(KINDS), default=None, help="Pricing kind.")
@click.option("--file", "path", default=None, type=click.Path(dir_okay=False),
              help=f"A price file (e.g. from `prices import`) instead of {_SHIPPED}.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def prices_list(sku, region, kind, path, as_json):
    """The VM prices moeprof ships (or those of --file): kind, region, read date and status (api:
    imported from the Retail Prices API; reported by WHO: a third party quoting it; estimate)."""
    from ..catalog.hardware.prices import STALE_DAYS, price_table, stale

    if path:
        table = check_price_file(read_json_file(path, "price file"), path)
    else:
        table = check_price_file({"skus": price_table()}, _SHIPPED)
    rows = entries(table, _azure_name(sku) if sku else None, region, kind)
    for r in rows:
        r["stale"] = stale(r["date"])
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo(f"no price in {path or _SHIPPED}"
                   + "".join(f" {w} {v}" for w, v in (("for", sku), ("in", region), ("of kind", kind)) if v))
        return
    click.echo(f"{'sku':<28}{'kind':<17}{'region':<16}{'$/h':>12}  {'read':<11} status")
    for r in rows:
        old = f"  STALE (over {STALE_DAYS} days)" if r["stale"] else ""
        click.echo(f"{r['sku']:<28}{r['kind']:<17}{r['region']:<16}{r['usd_per_hour']:>12,.4f}  {r['date']:<11} {r['status']}{old}")
