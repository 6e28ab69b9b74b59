"""Break-even VM prices against the recommendation, worked by hand."""

import json

import pytest

from moeprof.planner.breakeven import add_break_even, stays_pick_below
from moeprof.planner.schema import ROW_SCHEMA, PlanRow, SkuBest


def _row(sku, vms, usd_per_hour):
    vals = {f.name: (f.kind(1) if f.kind is not bool else False) for f in ROW_SCHEMA}
    vals.update(sku=sku, gpu="g", quant="fp8", kv_dtype="bf16", calibration="", vms=vms, gpus=8 * vms,
                usd_per_hour=usd_per_hour, usd_per_month=usd_per_hour * 730)
    return PlanRow(**vals)


def test_break_even_by_hand():
    rec = _row("a", 2, 96.0)  # 2 VMs at $48/h
    per_sku = [SkuBest("a", rec), SkuBest("b", _row("b", 3, 300.0)), SkuBest("c", _row("c", 1, 120.0)),
               SkuBest("d", None, "no configuration meets the targets (memory)")]
    add_break_even(per_sku, rec)
    # b needs 3 VMs: 3 x p = $96/h at p = $32/h; c needs 1 VM: p = $96/h; a is priced at its own $48/h
    assert [s.break_even_usd_per_vm_hour for s in per_sku] == [48.0, 32.0, 96.0, None]
    # a stays cheapest while 2 x p < min($300, $120)/h, i.e. p < $60/h
    assert stays_pick_below(rec, per_sku) == 60.0
    assert stays_pick_below(rec, per_sku[:1]) is None


def test_without_a_recommendation_there_is_no_break_even():
    per_sku = add_break_even([SkuBest("b", _row("b", 3, 300.0))], None)
    assert per_sku[0].break_even_usd_per_vm_hour is None


def test_json_round_trip_and_validation():
    s = SkuBest("b", _row("b", 3, 300.0), "", 32.0)
    d = s.to_json()
    assert d["break_even_usd_per_vm_hour"] == 32.0
    assert SkuBest.from_json(json.loads(json.dumps(d)), "p", "w").break_even_usd_per_vm_hour == 32.0
    assert SkuBest.from_json({"sku": "b", "row": None}, "p", "w").break_even_usd_per_vm_hour is None
    with pytest.raises(Exception, match="break_even_usd_per_vm_hour"):
        SkuBest.from_json({**d, "break_even_usd_per_vm_hour": -1}, "p", "w")


def test_plan_prints_and_stores_break_even(cli):
    d = json.loads(cli("plan", "--model", "maverick", "--json", check_rc=0).stdout)
    rec = d["recommended"]
    for s in d["per_sku"]:
        assert s["break_even_usd_per_vm_hour"] == pytest.approx(rec["usd_per_hour"] / s["row"]["vms"])
    out = cli("plan", "--model", "maverick", check_rc=0).stdout
    others = [s["row"]["usd_per_hour"] for s in d["per_sku"] if s["sku"] != rec["sku"]]
    assert f"{rec['sku']} stays the pick below ${min(others) / rec['vms']:,.2f}/h per VM" in out
