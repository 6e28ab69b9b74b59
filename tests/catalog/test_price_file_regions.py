"""`plan` / `compare --price-file`: VM prices from a price file `moeprof prices import` wrote from
Retail Prices API pages (the fixture pages in tests/fixtures/retail_api), in every region the pages
give for the three SKUs; a SKU without a price there is shown as such, never mixed in from another
region; the prices are status "api" (imported), the only status that is not "reported", "estimate",
"stale" or "user"."""

import json
from pathlib import Path

import pytest

PAGES = sorted(str(p) for p in (Path(__file__).resolve().parent.parent / "fixtures" / "retail_api").glob("*.json")
               if p.name != "cases.json")


@pytest.fixture(scope="module")
def price_file(tmp_path_factory):
    from tests.conftest import run_cli

    out = tmp_path_factory.mktemp("prices") / "imported.json"
    r = run_cli("prices", "import", *PAGES, "--out", str(out), "--date", "2026-12-01")
    assert r.returncode == 0, r.stderr
    return out


def _payg_regions(path) -> dict[str, set[str]]:
    from moeprof.catalog.hardware.vms import load_vms

    names = {v.azure_name: k for k, v in load_vms().items()}
    skus = json.loads(Path(path).read_text())["skus"]
    return {names[s]: {r["region"] for r in kinds.get("payg", [])} for s, kinds in skus.items() if s in names}


def test_the_pages_give_the_regions_the_tests_assume(price_file):
    regions = _payg_regions(price_file)
    assert regions == {"nd-h100-v5": {"canadacentral", "eastus", "eastus2", "uksouth", "westus"},
                       "nd-h200-v5": {"eastus2", "polandcentral"}, "nd-mi300x-v5": {"eastus2", "westus3"}}


# a plan per region: the fast loop checks the region that sells every SKU and one that sells only one of them,
# the full suite every region of the pages
@pytest.mark.parametrize("region", [r if r in ("eastus2", "polandcentral") else pytest.param(r, marks=pytest.mark.slow)
                                    for r in ["canadacentral", "eastus", "eastus2", "uksouth", "westus", "polandcentral", "westus3"]])
@pytest.mark.slow  # full plans of their own
def test_every_region_of_the_pages_plans_what_it_prices(cli_once, price_file, region):
    sold = {k for k, rs in _payg_regions(price_file).items() if region in rs}
    r = cli_once("compare", "--model", "maverick", "--ttft-ms", "2000", "--price-file", price_file, "--region", region, "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    for row in d["rows"]:
        if row["sku"] in sold:
            assert (row["price_region"], row["price_status"], row["price_pricing"]) == (region, "api", "payg")
        else:
            assert row["reason"].startswith(f"no payg price in {region}")
    assert "verified" not in r.stdout
    if d["verdict"] is not None:
        assert d["verdict"]["region"] == region and d["verdict"]["price_status"] == "api"


@pytest.mark.slow  # full plans of their own
def test_without_a_region_one_region_for_all(cli_once, price_file):
    d = json.loads(cli_once("plan", "--model", "maverick", "--price-file", price_file, "--json", check_rc=0).stdout)
    assert {(p["region"], p["status"]) for p in d["charts"]["prices"]} == {("eastus2", "api")}
    assert d["verdict"]["text"].startswith("buy per token: $26,911/month vs $")


def test_a_bad_price_file_is_one_line(cli, tmp_path):
    f = tmp_path / "bad.json"
    f.write_text(json.dumps({"skus": {"Standard_ND96isr_H100_v5": {"someday": []}}}))
    r = cli("plan", "--model", "maverick", "--price-file", f)
    assert r.returncode != 0 and r.stderr.count("\n") == 1 and "unknown pricing kind" in r.stderr
