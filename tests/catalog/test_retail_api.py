"""Azure Retail Prices API pages: the query URL, the parse (kinds, $/h, what is left out), one-line
errors on bad pages, and `moeprof prices url | import | list` (an imported file the price loader reads).

The pages in tests/fixtures/retail_api are synthetic (meter ids `synthetic-...`): the documented
schema filled with publicly reported prices; see the README there."""

import copy
import json
import os
from pathlib import Path

import pytest

from moeprof.catalog.hardware.price_file import check_price_file, entry_status
from moeprof.catalog.hardware.prices import vm_price
from moeprof.catalog.hardware.retail_api import KINDS, api_url, parse_pages, read_pages
from moeprof.errors import ConfigError, MoeprofError

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "retail_api"
PAGES = [FIX / n for n in ("h100-page-1.json", "h100-page-2.json", "h200.json", "mi300x.json")]
H100, H200, MI300X = "Standard_ND96isr_H100_v5", "Standard_ND96isr_H200_v5", "Standard_ND96isr_MI300X_v5"


@pytest.fixture(scope="module")
def rows():
    return {(r.sku, r.region, r.kind): r for r in parse_pages(PAGES, "2026-12-01")}


# ---- the URL -----------------------------------------------------------------------------------
def test_api_url_is_the_documented_filter():
    u = api_url(H100, "eastus")
    assert u.startswith("https://prices.azure.com/api/retail/prices?api-version=2023-01-01-preview&currencyCode=%27USD%27&$filter=")
    assert ("serviceName%20eq%20%27Virtual%20Machines%27%20and%20armSkuName%20eq%20%27Standard_ND96isr_H100_v5%27"
            "%20and%20armRegionName%20eq%20%27eastus%27") in u
    assert "'" not in u and " " not in u  # pastes between single quotes in a shell
    assert "armRegionName" not in api_url(H100)


@pytest.mark.parametrize("sku, region", [("Standard_X' or 1 eq 1", None), (H100, "East US"), (H100, "eastus' or 'x"), ("", None)])
def test_api_url_refuses_what_would_change_the_filter(sku, region):
    with pytest.raises(ConfigError) as e:
        api_url(sku, region)
    assert "\n" not in str(e.value)


# ---- the parse ---------------------------------------------------------------------------------
def test_every_region_the_pages_give(rows):
    regions = {}
    for sku, region, kind in rows:
        if kind == "payg":
            regions.setdefault(sku, set()).add(region)
    assert regions == {H100: {"canadacentral", "eastus", "eastus2", "uksouth", "westus"},
                       H200: {"eastus2", "polandcentral"}, MI300X: {"eastus2", "westus3"}}
    assert all(r.os == "linux" and r.read_date == "2026-12-01" and r.meter_id.startswith("synthetic-") for r in rows.values())
    assert all(r.kind in KINDS for r in rows.values())


def test_kinds_from_type_and_meter_name(rows):
    assert rows[(H100, "eastus", "payg")].usd_per_hour == 98.32
    assert rows[(H100, "eastus", "spot")].usd_per_hour == 18.169536
    assert rows[(H100, "uksouth", "low-priority")].usd_per_hour == 24.58
    assert rows[(H100, "uksouth", "spot")].usd_per_hour == 22.7119
    assert rows[(MI300X, "eastus2", "spot")].usd_per_hour == 8.8704


def test_reservation_term_totals_become_usd_per_hour(rows):
    r = rows[(H100, "eastus", "reserved-1y")]  # unitOfMeasure "1 Hour", the term total (the documented sample)
    assert r.usd_per_hour == pytest.approx(551221.0 / 8760) and r.term_usd == 551221.0 and "8,760 h" in r.unit_note
    assert rows[(H100, "eastus", "reserved-3y")].usd_per_hour == pytest.approx(1134310.0 / 26280)
    h200 = rows[(H200, "eastus2", "reserved-1y")]  # unitOfMeasure "1 Year"
    assert h200.unit_of_measure == "1 Year" and h200.usd_per_hour == pytest.approx(46.5205, abs=1e-4)
    assert rows[(H200, "eastus2", "reserved-3y")].usd_per_hour == pytest.approx(42.2219, abs=1e-4)
    assert rows[(MI300X, "eastus2", "reserved-1y")].usd_per_hour == pytest.approx(30.72, abs=1e-4)
    assert rows[(MI300X, "eastus2", "reserved-3y")].usd_per_hour == pytest.approx(21.072, abs=1e-4)


def test_windows_devtest_five_years_and_other_services_are_left_out():
    read = read_pages(PAGES + [FIX / "cases.json"], "2026-12-01")
    got = {(r.sku, r.region, r.kind): r for r in read.rows}
    assert not any("windows" in r.product_name.lower() or "windows" in r.meter_name.lower() for r in read.rows)
    assert (H100, "westeurope", "payg") not in got  # the only westeurope meter is a Windows one
    assert (H100, "eastus", "low-priority") not in got  # its meter is a Windows product
    why = "\n".join(read.left_out)
    for needle in ("DevTestConsumption", "a Windows meter", "reservation term '5 Years'", "service 'Azure Machine Learning'"):
        assert needle in why
    assert got[("Standard_Example8_v1", "testregion", "payg")].usd_per_hour == 10.0


def test_savings_plans_hourly_reservations_and_two_spot_meters():
    got = {r.kind: r for r in parse_pages([FIX / "cases.json"], "2026-01-02")}
    assert set(got) == {"payg", "spot", "low-priority", "reserved-1y", "reserved-3y", "savings-plan-1y", "savings-plan-3y"}
    assert (got["savings-plan-1y"].usd_per_hour, got["savings-plan-3y"].usd_per_hour) == (7.0, 5.0)
    assert got["reserved-1y"].usd_per_hour == 6.0 and "read as USD per hour" in got["reserved-1y"].unit_note  # "1 Hour", below payg
    assert got["reserved-3y"].usd_per_hour == pytest.approx(105120.0 / 26280)
    assert got["spot"].usd_per_hour == 3.5  # two Spot meters: the higher


def test_read_date_is_the_files_date_unless_given(tmp_path):
    p = tmp_path / "page.json"
    p.write_text((FIX / "mi300x.json").read_text())
    os.utime(p, (1_790_000_000, 1_790_000_000))  # 2026-09-21 UTC
    assert {r.read_date for r in parse_pages([p])} == {"2026-09-21"}
    assert {r.read_date for r in parse_pages([p], "2026-12-01")} == {"2026-12-01"}


def _page(**changes):
    d = json.loads((FIX / "h200.json").read_text())
    for k, v in changes.items():
        if k.startswith("item_"):
            d["Items"][0][k[5:]] = v
        else:
            d[k] = v
    return d


@pytest.mark.parametrize("doc, needle", [
    ("not json", "<json>"),
    ([1, 2], "<root>"),
    ({"Error": {"Code": "BadRequest", "Message": "Invalid OData parameters"}}, "an API error"),
    (_page(Items={"a": 1}), "Items"),
    (_page(Count=99), "cut-off download"),
    (_page(BillingCurrency="EUR"), "USD"),
    (_page(item_currencyCode="EUR"), "Items[0].currencyCode"),
    (_page(item_retailPrice="84.8"), "Items[0].retailPrice"),
    (_page(item_retailPrice=-1), "Items[0].retailPrice"),
    (_page(item_type="Hourly"), "Items[0].type"),
    (_page(item_armRegionName="East US"), "Items[0].armRegionName"),
    (_page(item_armSkuName=None), "Items[0].armSkuName"),
    (_page(item_meterId=""), "Items[0].meterId"),
    (_page(item_unitOfMeasure="1 GB/Month"), "Items[0].unitOfMeasure"),
    (_page(item_effectiveStartDate="June 2025"), "Items[0].effectiveStartDate"),
    (_page(item_isPrimaryMeterRegion="yes"), "Items[0].isPrimaryMeterRegion"),
    (_page(item_savingsPlan=[{"term": "1 Year", "retailPrice": "x"}]), "Items[0].savingsPlan[0].retailPrice"),
    (_page(item_meterName="ND96isrH200v5\nforged line"), "Items[0].meterName"),
])
def test_a_bad_page_fails_in_one_line_naming_file_and_item(tmp_path, doc, needle):
    p = tmp_path / "bad.json"
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    with pytest.raises(MoeprofError) as e:
        parse_pages([p], "2026-12-01")
    msg = str(e.value)
    assert "\n" not in msg and str(p) in msg and needle in msg, msg


def test_a_reservation_without_its_term_and_a_disagreeing_unit_fail(tmp_path):
    d = json.loads((FIX / "h200.json").read_text())
    bad = copy.deepcopy(d)
    del bad["Items"][1]["reservationTerm"]
    p = tmp_path / "a.json"
    p.write_text(json.dumps(bad))
    with pytest.raises(ConfigError, match=r"Items\[1\]\.reservationTerm"):
        parse_pages([p], "2026-12-01")
    bad = copy.deepcopy(d)
    bad["Items"][1]["unitOfMeasure"] = "3 Years"
    p.write_text(json.dumps(bad))
    with pytest.raises(ConfigError, match="disagrees with reservationTerm"):
        parse_pages([p], "2026-12-01")


# ---- the command line --------------------------------------------------------------------------
def test_prices_url(cli):
    r = cli("prices", "url", "--sku", "nd-h200-v5", "--region", "polandcentral", check_rc=0)
    url, curl = r.stdout.splitlines()[:2]
    assert url == api_url(H200, "polandcentral") and curl.startswith(f"curl -sS --fail '{url}' -o ") and "NextPageLink" in r.stdout
    d = json.loads(cli("prices", "url", "--sku", MI300X, "--json", check_rc=0).stdout)
    assert d["url"] == api_url(MI300X) and d["region"] is None
    bad = cli("prices", "url", "--sku", "nd-x100")
    assert bad.returncode == 1 and "unknown VM SKU" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_prices_import_round_trip_reads_back_with_the_price_loader(cli, tmp_path):
    out = tmp_path / "prices.json"
    r = cli("prices", "import", *PAGES, "--out", out, "--date", "2026-12-01", check_rc=0)
    assert f"wrote {out}" in r.stdout
    doc = json.loads(out.read_text())
    table = check_price_file(doc, out)
    assert set(table) == {H100, H200, MI300X}
    p = vm_price(H200, "payg", "polandcentral", table)  # the existing loader's lookup
    assert (p.usd_per_hour, p.date, p.status) == (130.592, "2026-12-01", "api")
    assert vm_price(H100, "reserved-1y", "eastus", table).usd_per_hour == pytest.approx(551221.0 / 8760, abs=1e-6)
    assert vm_price(MI300X, "spot", None, table).usd_per_hour == 8.8704
    for kinds in table.values():
        for rows in kinds.values():
            for e in rows:
                assert e["status"] == "api" and e["meter_id"].startswith("synthetic-") and entry_status(e) == "api"
                assert e["meter_id"] in e["source"] and "prices.azure.com" in e["source"]
    assert table[H200]["spot"] == [] and table[H100]["spot"][-1]["region"] == "uksouth"  # no-discount Spot left out
    left = "\n".join(doc["_about"]["api_import"]["left_out"])
    assert "polandcentral spot 130.592" in left and "westus spot 127.816" in left and "a Windows meter" in left
    assert not list(tmp_path.glob(".*"))  # written atomically: no temporary file left


def test_prices_import_merge_keeps_reported_prices(cli, tmp_path):
    out = tmp_path / "merged.json"
    shipped = Path(__import__("moeprof").__path__[0]) / "data" / "prices" / "azure_vms.json"
    cli("prices", "import", FIX / "mi300x.json", "--out", out, "--date", "2026-12-01", "--merge", shipped, check_rc=0)
    table = check_price_file(json.loads(out.read_text()), out)
    assert entry_status(table[MI300X]["payg"][0]) == "api"
    assert entry_status(table[H100]["payg"][0]).startswith("reported by ")
    listed = json.loads(cli("prices", "list", "--file", out, "--sku", "nd-mi300x-v5", "--json", check_rc=0).stdout)
    assert {r["status"] for r in listed} == {"api"} and {r["region"] for r in listed} == {"eastus2", "westus3"}


@pytest.mark.parametrize("args, needle", [
    (["--date", "2026-13-01"], "YYYY-MM-DD"),
    (["--date", "yesterday"], "YYYY-MM-DD"),
])
def test_prices_import_bad_options_are_one_line(cli, tmp_path, args, needle):
    r = cli("prices", "import", FIX / "h200.json", "--out", tmp_path / "o.json", *args)
    assert r.returncode in (1, 2) and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "o.json").exists()


def test_prices_import_of_nothing_usable_is_one_line(cli, tmp_path):
    p = tmp_path / "windows.json"
    d = json.loads((FIX / "h100-page-2.json").read_text())
    d["Items"] = [d["Items"][-1]]  # westeurope, Windows only
    d["Count"] = 1
    p.write_text(json.dumps(d))
    r = cli("prices", "import", p, "--out", tmp_path / "o.json")
    assert r.returncode == 1 and "no Linux VM price" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = cli("prices", "import", tmp_path / "missing.json", "--out", tmp_path / "o.json")
    assert r.returncode == 1 and "cannot read" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o.json").exists()


def test_prices_list_shows_kind_region_date_and_status(cli):
    r = cli("prices", "list", "--sku", "nd-h100-v5", "--kind", "payg", check_rc=0)
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["sku", "kind", "region", "$/h", "read", "status"]
    east = next(x for x in lines if " eastus2 " in x)
    assert "98.3200" in east and "2026-10-07" in east and "reported by" in east
    assert "STALE" in next(x for x in lines if " westus " in x)
    d = json.loads(cli("prices", "list", "--region", "polandcentral", "--json", check_rc=0).stdout)
    assert [(x["sku"], x["kind"], x["usd_per_hour"]) for x in d] == [(H200, "payg", 130.592)]
    assert all(x["status"].startswith("reported by ") for x in json.loads(cli("prices", "list", "--json", check_rc=0).stdout))
    assert "no price" in cli("prices", "list", "--region", "swedencentral", check_rc=0).stdout
