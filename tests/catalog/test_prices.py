"""The dated VM price list: region choice, pricing kinds, staleness, and load_vms / plan wiring."""

import datetime as dt
import json
import re

import pytest

from moeprof.catalog.hardware.prices import PRICINGS, price_table, stale, vm_price
from moeprof.catalog.hardware.vms import load_priced_vms, load_vms
from moeprof.errors import MoeprofError

H100, H200, MI300X = "Standard_ND96isr_H100_v5", "Standard_ND96isr_H200_v5", "Standard_ND96isr_MI300X_v5"


def test_every_entry_has_a_value_date_source_and_quote():
    table = price_table()
    assert set(table) == {H100, H200, MI300X}
    for sku, kinds in table.items():
        assert set(kinds) == set(PRICINGS), sku
        for kind, rows in kinds.items():
            for r in rows:
                assert set(r) >= {"usd_per_hour", "region", "date", "source", "quote", "estimate"}, (sku, kind)
                assert r["usd_per_hour"] > 0 and r["source"] and r["quote"] and isinstance(r["estimate"], bool)
                assert not stale(r["date"], dt.date(2024, 12, 31)) or r["date"] == "2024-08"


def test_default_region_is_eastus_where_listed():
    p = vm_price(H100)
    assert (p.usd_per_hour, p.region, p.date, p.estimate) == (98.32, "eastus", "2026-09-16", False)
    assert "cheapest" not in p.source


def test_without_an_eastus_price_the_cheapest_region_is_used_and_said():
    p = vm_price(H200)
    assert (p.usd_per_hour, p.region) == (84.80, "eastus2")
    assert "no payg price listed for eastus" in p.source and "cheapest" in p.source


def test_explicit_region_and_kinds():
    assert vm_price(H200, region="polandcentral").usd_per_hour == 130.592
    assert vm_price(MI300X, "reserved-1y").usd_per_hour == 30.72
    assert vm_price(MI300X, "reserved-3y").usd_per_hour == 21.072
    assert vm_price(MI300X, "spot").usd_per_hour == 8.8704
    assert vm_price(H100, "spot").usd_per_hour == 18.169536


@pytest.mark.parametrize("args, msg", [
    ((H200, "spot"), "no spot price"),
    ((H100, "payg", "mars"), "no payg price for region 'mars'"),
    ((H100, "hourly"), "unknown pricing"),
    (("Standard_X", "payg"), "no dated price"),
])
def test_missing_prices_are_one_line_errors(args, msg):
    with pytest.raises(MoeprofError, match=msg) as e:
        vm_price(*args)
    assert "\n" not in str(e.value)


def test_stale():
    today = dt.date(2026, 11, 30)
    assert not stale("2026-09-16", today)
    assert not stale("2025-11-30", today)  # exactly 365 days
    assert stale("2025-11-29", today)
    assert stale("2024-08", today)
    assert not stale("2026-01", today)
    assert stale("unknown", today)


def test_load_vms_prices_builtins_and_overrides_win(tmp_path):
    vms = load_vms()
    assert vms["nd-h200-v5"].price.usd_per_hour == 84.80 and not vms["nd-h200-v5"].price.estimate
    assert vms["nd-mi300x-v5"].price.usd_per_hour == 48.00 and vms["nd-mi300x-v5"].price.region == "eastus2"
    assert load_vms(pricing="reserved-3y")["nd-h200-v5"].price.usd_per_hour == 42.2219
    assert load_vms(pricing="spot", prices={"nd-h200-v5": 50.0})["nd-h200-v5"].price.usd_per_hour == 50.0
    f = tmp_path / "vms.json"
    f.write_text(json.dumps({"nd-mi300x-v5": {"price": {"usd_per_hour": 40, "source": "quote"}}}))
    assert load_vms(str(f), pricing="reserved-1y")["nd-mi300x-v5"].price.usd_per_hour == 40
    spot, choice = load_priced_vms(pricing="spot")  # no region sells all three: the one selling the most, the cheapest
    assert set(spot) == {"nd-mi300x-v5"} and spot["nd-mi300x-v5"].price.region == "eastus2"
    assert "no spot price in eastus2" in choice.unpriced["nd-h100-v5"] and "--region eastus" in choice.unpriced["nd-h100-v5"]
    assert "listed nowhere" in choice.unpriced["nd-h200-v5"]
    assert load_vms(pricing="spot", skus=("nd-mi300x-v5",))["nd-mi300x-v5"].price.usd_per_hour == 8.8704


def test_builtin_vms_json_prices_match_the_price_list():
    with open(__import__("moeprof").__path__[0] + "/data/vms.json") as fh:
        d = json.load(fh)
    for key, vm in load_vms().items():
        assert d[key]["price"]["usd_per_hour"] == vm.price.usd_per_hour, key
        assert d[key]["price"]["region"] == vm.price.region, key


@pytest.mark.slow  # full plans of their own
def test_plan_pricing_and_region_options(cli_once):
    vms = load_vms()
    # --ttft-ms 2000: a target the MI300X TTFT band's high edge can meet (these tests are about prices)
    r = cli_once("plan", "--model", "maverick", "--sku", "nd-mi300x-v5", "--ttft-ms", "2000", "--pricing", "reserved-3y", "--json", check_rc=0)
    rec = json.loads(r.stdout)["recommended"]
    reserved = vm_price(vms["nd-mi300x-v5"].azure_name, "reserved-3y").usd_per_hour  # the price list's, not a copy
    assert reserved < vms["nd-mi300x-v5"].price.usd_per_hour and rec["usd_per_hour"] == pytest.approx(reserved * rec["vms"])
    r = cli_once("compare", "--model", "maverick", "--sku", "nd-h100-v5", "--region", "uksouth", "--json", check_rc=0)
    row = json.loads(r.stdout)["rows"][0]
    assert row["usd_per_hour"] == pytest.approx(122.9 * row["vm_count" if "vm_count" in row else "vms"])
    # Spot is never a plan's pick: the cheapest Spot configuration (two MI300X VMs, $12,951/month) needs one or both
    # up, and Spot VMs are evictable, any or all at once; one line says so, with where the eviction rates are
    r = cli_once("plan", "--model", "maverick", "--pricing", "spot", "--ttft-ms", "2000", "--json")
    assert r.returncode == 1 and r.stdout == "" and len(r.stderr.strip().splitlines()) == 1
    assert "no Spot pick" in r.stderr and "(2 x nd-mi300x-v5, $12,951/month)" in r.stderr and re.search(r"only with [12] of its 2 VMs up", r.stderr)
    assert "evictable with 30 s notice" in r.stderr and "SpotResources" in r.stderr and "Traceback" not in r.stderr
    # compare shows Spot prices, labelled evictable; SKUs with no spot price there are left out
    d = json.loads(cli_once("compare", "--model", "maverick", "--pricing", "spot", "--ttft-ms", "2000", "--json", check_rc=0).stdout)
    assert {s["sku"] for s in d["rows"] if s.get("reason", "").startswith("no spot price in eastus2")} == {"nd-h100-v5", "nd-h200-v5"}
    mi = next(s for s in d["rows"] if s["sku"] == "nd-mi300x-v5")
    assert (mi["price_pricing"], mi["price_region"]) == ("spot", "eastus2")
    assert d["verdict"] is None and "no Spot pick" in d["spot"]
    text = cli_once("compare", "--model", "maverick", "--pricing", "spot", "--ttft-ms", "2000", check_rc=0).stdout
    assert "Spot: evictable" in text and "SPOT        --pricing spot: no Spot pick" in text
    r = cli_once("plan", "--model", "maverick", "--pricing", "spot", "--sku", "nd-h200-v5")
    assert r.returncode == 1 and "no spot price" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_old_price_is_warned(cli, tmp_path):
    f = tmp_path / "vms.json"
    f.write_text(json.dumps({"nd-mi300x-v5": {"price": {"usd_per_hour": 40, "date": "2024-01-02", "source": "q"}}}))
    r = cli("plan", "--model", "maverick", "--sku", "nd-mi300x-v5", "--ttft-ms", "2000", "--vm-file", f, "--json", check_rc=0)
    assert any("2024-01-02" in w and "older than 365 days" in w for w in json.loads(r.stdout)["warnings"])
