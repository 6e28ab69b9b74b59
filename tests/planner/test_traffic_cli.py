"""`moeprof plan --traffic FILE`: the text section, the plan document's "traffic" object, exit codes."""

import json
from importlib import resources

import pytest

from moeprof.planner import PlanDocument
from moeprof.planner.document.plan import SCHEMA_VERSION

WEEK = str(resources.files("moeprof") / "data" / "traffic" / "diurnal_week.csv")
# the default pick's layout, quickly; a TTFT target the MI300X band's high edge (TTFT residuals up to
# +557 % on its held-out runs) can meet: these tests are about traffic, not latency
FAST = ("--model", "maverick", "--sku", "nd-mi300x-v5", "--quant", "int4-experts", "--allow-requantize", "--ttft-ms", "2000")


@pytest.fixture(scope="module")
def week_json():
    from tests.conftest import run_cli

    res = run_cli("plan", *FAST, "--traffic", WEEK, "--json", check_rc=0)
    return json.loads(res.stdout)


def test_text_section(cli):
    res = cli("plan", *FAST, "--traffic", WEEK, check_rc=0)
    out = res.stdout.split("\nTRAFFIC", 1)[1]
    for needle in ("168 hours (week)", "peak 10 req/s", "static (peak, payg)", "autoscaled (payg)",
                   "reserved-1y + payg", "reserved-3y + payg", "$/week", "$/month", "cheapest"):
        assert needle in out


def test_json_traffic_object(week_json):
    t = week_json["traffic"]
    assert week_json["schema_version"] == SCHEMA_VERSION and t["hours"] == 168 and len(t["units_per_hour"]) == 168
    rec = week_json["recommended"]
    static = next(o for o in t["options"] if o["name"] == "static")
    # the static fleet on pay-as-you-go for a whole month costs what the plan's pick costs a month at payg
    assert static["usd_per_month"] == pytest.approx(t["peak_units"] * t["unit_vms"] * rec["usd_per_hour"] / rec["vms"] * 730)
    best = min(o["usd_per_period"] for o in t["options"])
    assert best <= min(o["usd_per_period"] for o in t["options"] if o["name"] in ("static", "autoscaled"))
    doc = PlanDocument.from_json(week_json)
    assert doc.traffic is not None and doc.to_json()["traffic"] == t


def test_without_traffic_the_document_has_no_traffic_key(cli_once):
    d = json.loads(cli_once("plan", *FAST, "--json", check_rc=0).stdout)
    assert "traffic" not in d and PlanDocument.from_json(d).traffic is None


def test_peak_above_the_plan_qps_is_said(cli, tmp_path):
    p = tmp_path / "busy.csv"
    p.write_text("hour,qps\n" + "".join(f"{h},{25 if h == 12 else 4}\n" for h in range(24)))
    res = cli("plan", *FAST, "--traffic", p, check_rc=0)
    assert "above the 10 req/s the pick was sized for" in res.stdout and "$/day" in res.stdout


@pytest.mark.parametrize("content,needle", [
    ("hour,qps\n0,-1\n", "out of range"),
    ("hour,qps\n0,nan\n", "is not a number"),
    ("not,a traffic file\n", "header 'hour,qps'"),
])
def test_bad_traffic_file_exits_1_in_one_line(cli, tmp_path, content, needle):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    res = cli("plan", *FAST, "--traffic", p)
    assert res.returncode == 1 and res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in res.stderr


def test_missing_file_and_bad_min_units(cli, tmp_path):
    res = cli("plan", *FAST, "--traffic", tmp_path / "none.csv")
    assert res.returncode == 1 and "cannot read traffic file" in res.stderr
    res = cli("plan", *FAST, "--traffic", WEEK, "--min-units", "-1")
    assert res.returncode != 0 and "--min-units" in res.stderr and "Traceback" not in res.stderr


def test_min_units_zero_scales_to_nothing(cli, tmp_path):
    p = tmp_path / "night.csv"
    p.write_text("hour,qps\n" + "".join(f"{h},{0 if h < 12 else 5}\n" for h in range(24)))
    d = json.loads(cli("plan", *FAST, "--traffic", p, "--min-units", "0", "--json", check_rc=0).stdout)
    assert d["traffic"]["units_per_hour"] == [0] * 12 + [1] * 12 and d["traffic"]["min_units"] == 0
