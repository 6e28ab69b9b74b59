"""Break-even VM prices against the recommendation, worked by hand."""

import json

import pytest

from moeprof.planner.analyses.breakeven import add_break_even, price_sensitivity, stays_pick_below
from moeprof.planner.document.plan import Charts
from moeprof.planner.document.rows import ROW_SCHEMA, PlanRow, SkuBest


def _row(sku, vms, usd_per_hour):
    vals = {f.name: (f.kind(1) if f.kind is not bool else False) for f in ROW_SCHEMA}
    vals.update(sku=sku, gpu="g", quant="fp8", kv_dtype="bf16", calibration="", checkpoint="org/name", vms=vms, gpus=8 * vms,
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


@pytest.mark.slow  # a full plan of its own
def test_plan_prints_and_stores_break_even(cli_once):
    cli = cli_once
    d = json.loads(cli("plan", "--model", "maverick", "--json", check_rc=0).stdout)
    rec = d["recommended"]
    served = [s for s in d["per_sku"] if s["row"] is not None]  # a SKU may have no row meeting the targets at the band's edge
    assert len(served) >= 2
    for s in served:
        assert s["break_even_usd_per_vm_hour"] == pytest.approx(rec["usd_per_hour"] / s["row"]["vms"])
    out = cli("plan", "--model", "maverick", check_rc=0).stdout
    others = [s["row"]["usd_per_hour"] for s in served if s["sku"] != rec["sku"]]
    assert f"{rec['sku']} stays the pick below ${min(others) / rec['vms']:,.2f}/h per VM" in out


def _crossing(xs, ys, level):
    """Where the polyline (xs, ys) reaches `level`, by linear interpolation between its points."""
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        if (y0 - level) * (y1 - level) <= 0 and y1 != y0:
            return x0 + (level - y0) * (x1 - x0) / (y1 - y0)
    return None


def test_sensitivity_crosses_at_the_break_even_price():
    rec = _row("a", 2, 96.0)
    per_sku = [SkuBest("a", rec), SkuBest("b", _row("b", 3, 300.0)), SkuBest("c", _row("c", 1, 120.0)),
               SkuBest("d", None, "memory")]
    sens = {s.sku: s for s in price_sensitivity(rec, per_sku)}
    assert set(sens) == {"a", "b", "c"}
    # the pick a: 2 x p x 730 meets c's $120/h x 730 at p = $60/h; b: 3 x p meets a's $96/h at $32/h
    assert (sens["a"].is_pick, sens["a"].rival, sens["a"].break_even_usd_per_vm_hour) == (True, "c", 60.0)
    assert (sens["b"].rival, sens["b"].break_even_usd_per_vm_hour, sens["c"].break_even_usd_per_vm_hour) == ("a", 32.0, 96.0)
    for s in sens.values():
        assert s.rival_usd_per_month == pytest.approx(dict(a=120.0, b=96.0, c=96.0)[s.sku] * 730)
        xs, ys = s.price_usd_per_vm_hour, s.cost_usd_per_month
        assert ys == pytest.approx([s.vms * x * 730 for x in xs])  # linear in the price
        assert xs[0] <= 0.3 * s.usd_per_vm_hour + 1e-9 and xs[-1] >= 2.0 * s.usd_per_vm_hour - 1e-9
        assert _crossing(xs, ys, s.rival_usd_per_month) == pytest.approx(s.break_even_usd_per_vm_hour)
    # c's break-even ($96/h) is 0.8x its $120/h; b's ($32/h) is 0.32x its $100/h: both inside the range
    assert price_sensitivity(None, per_sku) == []
    alone = price_sensitivity(rec, per_sku[:1])
    assert alone[0].break_even_usd_per_vm_hour is None and alone[0].rival is None


def test_sensitivity_range_widens_to_show_the_break_even():
    rec = _row("a", 1, 10.0)
    (s,) = [x for x in price_sensitivity(rec, [SkuBest("a", rec), SkuBest("b", _row("b", 4, 400.0))]) if x.sku == "b"]
    assert s.break_even_usd_per_vm_hour == 2.5  # 0.025x its $100/h: below the 0.3x the range starts at
    assert s.price_usd_per_vm_hour[0] <= 2.5 and _crossing(s.price_usd_per_vm_hour, s.cost_usd_per_month,
                                                             s.rival_usd_per_month) == pytest.approx(2.5)


def test_sensitivity_round_trips_through_the_document():
    rec = _row("a", 2, 96.0)
    ch = Charts(price_sensitivity=price_sensitivity(rec, [SkuBest("a", rec), SkuBest("b", _row("b", 3, 300.0))]))
    d = json.loads(json.dumps(ch.to_json()))
    assert Charts.from_json(d, "p").price_sensitivity == ch.price_sensitivity
    assert Charts.from_json({**d, "price_sensitivity": None}, "p").price_sensitivity == []  # a plan made before
    bad = json.loads(json.dumps(d))
    bad["price_sensitivity"][0]["cost_usd_per_month"].pop()
    with pytest.raises(Exception, match="one length"):
        Charts.from_json(bad, "p")
    bad = json.loads(json.dumps(d))
    bad["price_sensitivity"][1]["break_even_usd_per_vm_hour"] = float("nan")
    with pytest.raises(Exception, match="break_even_usd_per_vm_hour"):
        Charts.from_json(bad, "p")


def test_plan_document_carries_sensitivity_and_build_or_buy(cli_once):
    cli = cli_once
    from moeprof.planner.document.plan import PlanDocument

    d = json.loads(cli("plan", "--model", "maverick", "--json", check_rc=0).stdout)
    doc = PlanDocument.from_json(d, "p")
    assert doc.to_json() == d
    rec = doc.recommended
    sens = {s.sku: s for s in doc.charts.price_sensitivity}
    assert sens[rec.sku].is_pick and sens[rec.sku].break_even_usd_per_vm_hour == pytest.approx(
        stays_pick_below(rec, doc.per_sku))
    for s in doc.per_sku:
        if s.sku != rec.sku and s.row is not None:  # a SKU with no row at the targets has no break-even
            assert sens[s.sku].break_even_usd_per_vm_hour == pytest.approx(s.break_even_usd_per_vm_hour)
    assert {x.sku for x in doc.charts.build_or_buy.skus} == set(sens)
