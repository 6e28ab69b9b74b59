"""--redundancy N+K: units sized so that losing K still meets the QPS at the error band's pessimistic
edge; the plan always states the pick's failure-domain risk and what N+1 costs."""

import json

import pandas as pd
import pytest

from moeprof.errors import MoeprofError
from moeprof.planner.document.targets import parse_redundancy

H200 = dict(skus=("nd-h200-v5",), quants=("fp8",), kv_dtypes=("fp8",))
ARGS = ("--model", "maverick", "--sku", "nd-h200-v5", "--quant", "fp8", "--kv-dtype", "fp8")


@pytest.mark.parametrize("text,k", [("N+0", 0), ("N+1", 1), ("n+2", 2), (" N + 8 ", 8)])
def test_parse_redundancy(text, k):
    assert parse_redundancy(text) == k


@pytest.mark.parametrize("text", ["2", "N+", "N+-1", "N+1.5", "N+9", "M+1", "N+١", ""])
def test_parse_redundancy_refuses(text):
    with pytest.raises(MoeprofError, match="expected N\\+K"):
        parse_redundancy(text)


def test_capacity_after_loss_worked_example():
    """Units of 30 req/s at the pessimistic edge (1 VM each), 50 req/s: 2 units carry it (60), but losing one
    leaves 30 < 50; 3 units lose one and keep 60 >= 50 (N+1); a 2-VM unit counts VMs / 2 units."""
    from moeprof.planner.search.verdicts import capacity_after_loss, units_of

    rows = pd.DataFrame({"vms": [2, 3, 4], "unit_vms": [1, 1, 2], "qps_capacity_low": [60.0, 90.0, 60.0]})
    assert units_of(rows).tolist() == [2.0, 3.0, 2.0]
    assert capacity_after_loss(rows, 1).tolist() == [30.0, 60.0, 30.0]
    assert capacity_after_loss(rows, 3).tolist() == [0.0, 0.0, 0.0]


def test_n_plus_1_survives_losing_a_unit(plans):
    n0, n1 = plans("maverick", **H200), plans("maverick", **H200, redundancy=1)
    a, b = n0.recommended, n1.recommended
    assert n1.inputs.redundancy == 1 and n0.inputs.redundancy == 0
    assert b.units() >= 2 and b.usd_per_month > a.usd_per_month
    # losing one of its units leaves, at the pessimistic edge, at least the target
    assert b.qps_capacity_low * (b.units() - 1) / b.units() >= n1.inputs.qps
    assert b.vms_low >= 2 * b.unit()[0]  # the VM range counts the spare unit (N+0 needs 1 unit here)
    # the N+0 plan's "N+1" line is the N+1 plan's pick, at the same cost
    nxt = n0.redundancy.next
    assert nxt.spare_units == 1 and nxt.vms == b.vms and nxt.usd_per_month == pytest.approx(b.usd_per_month)
    assert nxt.extra_usd_per_month == pytest.approx(b.usd_per_month - a.usd_per_month)
    # and nothing cheaper in the N+0 plan's feasible rows survives losing a unit
    cheaper = [r for r in n0.feasible if r.usd_per_month < b.usd_per_month - 0.01]
    assert all(r.qps_capacity_low * (r.units() - 1) / r.units() < n0.inputs.qps for r in cheaper)


def test_risk_of_a_single_unit_pick(plans):
    r = plans("maverick", **H200).redundancy
    assert r.spare_units == 0 and r.units == 1
    assert r.left_after_next_loss_qps == 0.0
    assert r.risk_text().startswith("N+0: a single failure domain per unit")


def test_text_json_report_and_compare(cli_once, tmp_path):
    p = cli_once("plan", *ARGS, check_rc=0)
    lines = p.stdout.splitlines()
    i = next(i for i, x in enumerate(lines) if x.startswith("  redundancy  "))
    assert "single failure domain" in lines[i] and lines[i + 1].strip().startswith("N+1: ")
    assert "/month (+$" in lines[i + 1]
    j = json.loads(cli_once("plan", *ARGS, "--redundancy", "N+1", "--json", check_rc=0).stdout)
    assert j["inputs"]["redundancy"] == 1 and j["redundancy"]["spare_units"] == 1 and j["redundancy"]["next"]["spare_units"] == 2
    c = cli_once("compare", *ARGS, check_rc=0)
    assert "redundancy (the pick): N+0" in c.stdout and "N+1 on nd-h200-v5:" in c.stdout


def test_report_states_the_failure_domain(cli, tmp_path):
    out = tmp_path / "r.html"
    p = cli("plan", *ARGS, "--report", str(out))
    assert p.returncode == 0, p.stderr
    html = out.read_text(encoding="utf-8")
    assert "Failure domains" in html and "N+1: " in html


@pytest.mark.parametrize("value", ["2", "N+x", "N+99"])
def test_malformed_redundancy_is_one_line(cli, value):
    p = cli("plan", *ARGS, "--redundancy", value)
    assert p.returncode != 0
    err = p.stderr.strip().splitlines()
    assert len(err) == 1 and "--redundancy" in err[0] and "N+K" in err[0]
