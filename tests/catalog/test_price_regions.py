"""One region for every SKU's price: --region R prices each SKU there and leaves out (with the
reason) a SKU with no price in R; without --region, the cheapest region that sells all the SKUs.
And the serverless tier of a region (EU regions: Data Zone EU)."""

import json

import pytest

from moeprof.catalog.hardware.prices import price_table
from moeprof.catalog.hardware.serverless_tiers import is_eu, serverless_price_for_region
from moeprof.catalog.hardware.vm_regions import choose_region
from moeprof.catalog.hardware.vms import load_priced_vms, load_vms
from moeprof.errors import MoeprofError

MAVERICK = "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8"
# payg regions of the shipped price list, per VM
PAYG = {"nd-h100-v5": {"canadacentral", "eastus", "eastus2", "uksouth", "westus"},
        "nd-h200-v5": {"eastus2", "polandcentral"}, "nd-mi300x-v5": {"eastus2", "westus3"}}


def test_choose_region_most_skus_then_cheapest_then_eastus():
    assert choose_region({"a": {"x": 1.0, "y": 5.0}, "b": {"y": 1.0}}) == "y"  # the only one selling both
    assert choose_region({"a": {"x": 2.0, "y": 1.0}}) == "y"
    assert choose_region({"a": {"eastus2": 1.0, "eastus": 1.0}}) == "eastus"  # a tie: the default region
    assert choose_region({"a": {"p": 1.0}, "b": {"q": 0.5}}) == "q"  # none sells both: the cheapest of the best covered
    assert choose_region({"a": {}}) is None


def test_without_a_region_every_sku_is_priced_in_one_region():
    vms, choice = load_priced_vms()
    assert {v.price.region for v in vms.values()} == {"eastus2"} and set(vms) == set(PAYG)
    assert choice.chosen and choice.region == "eastus2" and not choice.unpriced
    assert "cheapest region that sells all of them" in choice.note
    vms, choice = load_priced_vms(skus=("nd-h100-v5",))
    assert vms["nd-h100-v5"].price.region == "eastus"  # eastus and eastus2 tie at 98.32
    vms, choice = load_priced_vms(pricing="reserved-3y")
    assert {vms[k].price.region for k in PAYG} == {"eastus2"}


@pytest.mark.parametrize("region", sorted(set().union(*PAYG.values())))
def test_every_listed_region_prices_what_it_sells_and_leaves_out_the_rest(region):
    vms, choice = load_priced_vms(region=region)
    sold = {k for k, regions in PAYG.items() if region in regions}
    assert set(vms) == sold and set(choice.unpriced) == set(PAYG) - sold
    assert all(v.price.region == region for v in vms.values())
    for k, why in choice.unpriced.items():
        assert why.startswith(f"no payg price in {region} (listed: ") and f"--price-per-hour {k}=USD" in why


def test_a_user_price_keeps_a_sku_the_region_lacks(tmp_path):
    vms, choice = load_priced_vms(region="eastus", prices={"nd-h200-v5": 90.0})
    assert vms["nd-h200-v5"].price.usd_per_hour == 90.0 and "nd-h200-v5" not in choice.unpriced
    f = tmp_path / "vms.json"
    f.write_text(json.dumps({"nd-mi300x-v5": {"price": {"usd_per_hour": 40, "source": "quote"}}}))
    vms, choice = load_priced_vms(str(f), region="eastus")
    assert vms["nd-mi300x-v5"].price.usd_per_hour == 40 and set(choice.unpriced) == {"nd-h200-v5"}
    assert set(load_vms(region="westeurope")) == set()


# a compare per region: the fast loop checks two, the full suite all four
@pytest.mark.parametrize("region, priced", [("eastus", {"nd-h100-v5"}), pytest.param("westus3", {"nd-mi300x-v5"}, marks=pytest.mark.slow),
                                            pytest.param("uksouth", {"nd-h100-v5"}, marks=pytest.mark.slow), ("polandcentral", {"nd-h200-v5"})])
def test_compare_in_a_region_plans_what_it_prices(cli_once, region, priced):
    r = cli_once("compare", "--model", "maverick", "--region", region, "--json", check_rc=0)
    d = json.loads(r.stdout)
    rows = {x["sku"]: x for x in d["rows"]}
    assert {k for k, x in rows.items() if "reason" not in x} <= priced
    for k in set(PAYG) - priced:
        assert rows[k]["reason"].startswith(f"no payg price in {region}")
    assert any(w.startswith(f"prices: payg in {region} (--region)") for w in d["warnings"])
    for k in priced & set(rows):
        if "price_label" in rows[k]:
            assert region in rows[k]["price_label"] and rows[k]["price_status"] in ("reported", "stale")


def test_plan_without_a_region_says_which_region(cli_once):
    d = json.loads(cli_once("plan", "--model", "maverick", "--json", check_rc=0).stdout)
    assert any("payg in eastus2 for every SKU" in w for w in d["warnings"])
    assert {p["label"].split(",")[0] for p in d["charts"]["prices"]} == {"payg eastus2"}
    text = cli_once("plan", "--model", "maverick", check_rc=0).stdout
    assert "  price       $" in text and "payg eastus2, read " in text and "reported by " in text


@pytest.mark.parametrize("region", ["westeurope", pytest.param("swedencentral", marks=pytest.mark.slow)])
def test_a_region_with_no_price_at_all_is_one_line(cli_once, region):
    r = cli_once("plan", "--model", "maverick", "--region", region)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1
    assert "no VM SKU has a price" in r.stderr and f"no payg price in {region}" in r.stderr
    r = cli_once("plan", "--model", "maverick", "--region", region, "--price-per-hour", "nd-h200-v5=110", "--json", check_rc=0)
    assert json.loads(r.stdout)["recommended"]["sku"] == "nd-h200-v5"


def test_a_named_sku_without_a_price_in_the_region_is_left_out_not_an_error(cli_once):
    r = cli_once("plan", "--model", "maverick", "--sku", "nd-h100-v5,nd-h200-v5", "--region", "uksouth", "--json", check_rc=0)
    d = json.loads(r.stdout)
    assert d["recommended"]["sku"] == "nd-h100-v5"
    assert any(s["sku"] == "nd-h200-v5" and "no payg price in uksouth" in s["reason"] for s in d["per_sku"])
    with pytest.raises(MoeprofError):
        load_priced_vms(pricing="hourly")


# ---- the serverless tier -------------------------------------------------------------------------
def test_serverless_default_is_global_and_eu_regions_get_the_data_zone():
    assert serverless_price_for_region(MAVERICK, None).tier == "Global Standard"
    eu = serverless_price_for_region(MAVERICK, "westeurope")
    assert eu.tier == "Data Zone EU (for westeurope)" and (eu.usd_per_million_input, eu.usd_per_million_output) == (0.275, 1.1)
    us = serverless_price_for_region(MAVERICK, "eastus")
    assert us.tier.startswith("Global Standard") and us.usd_per_million_input == 0.25
    assert serverless_price_for_region(MAVERICK, "uksouth").tier.startswith("Global Standard")  # the UK is not in the EU zone
    no_zone = serverless_price_for_region("deepseek-ai/DeepSeek-V3", "swedencentral")
    assert no_zone.tier.startswith("Global Standard") and "may leave the EU" in no_zone.tier
    assert serverless_price_for_region(None, "westeurope") is None
    assert is_eu("polandcentral") and not is_eu("uksouth") and not is_eu("norwayeast")


def test_plan_in_an_eu_region_weighs_the_data_zone_price(cli_once):
    d = json.loads(cli_once("plan", "--model", "maverick", "--region", "polandcentral", "--json", check_rc=0).stdout)
    b = d["charts"]["build_or_buy"]
    assert b["tier"] == "Data Zone EU (for polandcentral)" and b["usd_per_million_input_tokens"] == 0.275
    d = json.loads(cli_once("plan", "--model", "maverick", "--json", check_rc=0).stdout)
    assert d["charts"]["build_or_buy"]["tier"] == "Global Standard"


def test_price_table_regions_are_what_the_tests_assume():
    t = price_table()
    names = {"nd-h100-v5": "Standard_ND96isr_H100_v5", "nd-h200-v5": "Standard_ND96isr_H200_v5",
             "nd-mi300x-v5": "Standard_ND96isr_MI300X_v5"}
    assert {k: {r["region"] for r in t[n]["payg"]} for k, n in names.items()} == PAYG
