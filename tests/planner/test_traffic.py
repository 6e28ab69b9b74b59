"""Traffic over a period on a plan's pick: units per hour and the three costs, worked by hand."""

import json

import numpy as np
import pytest

from moeprof.catalog.hardware.vms import load_vms
from moeprof.errors import MoeprofError
from moeprof.planner.analyses.traffic import VmRates, best_reserved, scaling_unit, traffic_plan, units_per_hour
from moeprof.planner.analyses.traffic_prices import vm_rates
from moeprof.planner.document.plan import TrafficPlan
from moeprof.planner.document.rows import BAND_FIELDS, ROW_SCHEMA, UNIT_FIELDS, PlanRow
from moeprof.planner.document.traffic_file import TrafficProfile

RATES = VmRates({"payg": 10.0, "reserved-1y": 6.0, "reserved-3y": 4.0}, {"payg": "p", "reserved-1y": "r1", "reserved-3y": "r3"})


def _row(vms=1, gpus=8, replicas=1, qps_capacity=10.0, usd_per_hour=10.0, **unit):
    vals = {f.name: (f.kind(1) if f.kind is not bool else False) for f in ROW_SCHEMA}
    vals.update({name: None for name in BAND_FIELDS})  # no error band unless a test sets one
    vals.update({name: None for name in UNIT_FIELDS})  # a plan made before the unit was stored, unless set
    vals.update(unit)
    vals.update(sku="sku-a", gpu="g", quant="fp8", kv_dtype="bf16", calibration="", vms=vms, gpus=gpus,
                replicas=replicas, qps_capacity=qps_capacity, usd_per_hour=usd_per_hour, usd_per_month=usd_per_hour * 730)
    return PlanRow(**vals)


def _profile(qps):
    return TrafficProfile(tuple(float(q) for q in qps), "test", "t.csv")


SQUARE = [5.0] * 12 + [35.0] * 12  # 1 unit of 10 req/s for 12 h, then 4 units for 12 h


def test_square_wave_by_hand():
    t = traffic_plan(_profile(SQUARE), _row(), 8, RATES, plan_qps=10.0)
    assert t.units_per_hour == [1] * 12 + [4] * 12
    assert (t.peak_units, t.trough_units, t.mean_units) == (4, 1, 2.5)
    got = {o.name: (o.reserved_units, o.usd_per_period) for o in t.options}
    # static: 4 units x $10 x 24 h; autoscaled: (12 x 1 + 12 x 4) unit-hours x $10
    # 1y at $6: B=0 600, B=1 144 + 360 = 504, B=2 288 + 240 = 528, B=3 552, B=4 576 -> B=1
    # 3y at $4: B=1 456, B=2 432, B=3 408, B=4 384 -> B=4 (the whole fleet reserved)
    assert got == {"static": (0, 960.0), "autoscaled": (0, 600.0), "reserved-1y + payg": (1, 504.0),
                   "reserved-3y + payg": (4, 384.0)}
    for o in t.options:
        assert o.usd_per_month == pytest.approx(o.usd_per_period * 730 / 24)
        assert o.saving_vs_static_fraction == pytest.approx(1 - o.usd_per_period / 960.0)
    assert t.cheapest.name == "reserved-3y + payg"
    assert any("above the 10 req/s the pick was sized for" in n for n in t.notes)


def test_reserved_dearer_than_payg_times_utilisation_reserves_nothing():
    units = np.array([0] * 12 + [4] * 12)  # each unit busy half the hours
    assert best_reserved(units, 10.0, 6.0) == (0, 480.0)  # $6 reserved > $10 x 0.5: pay as you go
    assert best_reserved(units, 10.0, 4.0) == (4, 384.0)  # $4 < $5: reserve the peak
    assert best_reserved(units, 10.0, 5.0)[0] == 0  # a tie keeps the smaller commitment


def test_mix_is_exact_and_never_dearer_than_static_or_autoscaled():
    rng = np.random.default_rng(7)
    for _ in range(40):
        units = rng.integers(0, 9, size=24 * int(rng.integers(1, 8)))
        payg, res = float(rng.uniform(1, 100)), float(rng.uniform(0.5, 120))
        b, cost = best_reserved(units, payg, res)
        brute = [k * res * len(units) + payg * np.maximum(units - k, 0).sum() for k in range(units.max() + 1)]
        assert cost == pytest.approx(min(brute)) and b == int(np.argmin(brute))
        assert cost <= payg * units.sum() + 1e-9 and cost <= payg * units.max() * len(units) + 1e-9


def test_min_units_and_float_slack():
    assert units_per_hour([0.0, 0.3, 0.31], 0.1, 1).tolist() == [1, 3, 4]  # 0.3 / 0.1 is 3.0000000000000004
    assert units_per_hour([0.0, 0.0], 0.1, 0).tolist() == [0, 0]
    assert units_per_hour([0.0], 0.1, 2).tolist() == [2]


def test_one_unit_all_week_says_autoscaling_saves_nothing():
    t = traffic_plan(_profile([3.0] * 168), _row(), 8, RATES, plan_qps=10.0)
    assert t.option("static").usd_per_period == t.option("autoscaled").usd_per_period == 10.0 * 168
    assert any("autoscaling saves nothing" in n for n in t.notes)
    assert not any("sized for" in n for n in t.notes)


@pytest.mark.parametrize("row,gpv,unit", [
    (_row(vms=1, gpus=8, replicas=1, qps_capacity=10.0), 8, (1, 1, 10.0)),  # one replica fills a VM
    (_row(vms=1, gpus=8, replicas=4, qps_capacity=12.0), 8, (1, 4, 12.0)),  # four 2-GPU replicas share a VM
    (_row(vms=1, gpus=6, replicas=3, qps_capacity=9.0), 8, (1, 4, 12.0)),  # a VM holds 4 such replicas; the plan ran 3
    (_row(vms=4, gpus=32, replicas=2, qps_capacity=20.0), 8, (2, 1, 10.0)),  # a replica spans 2 VMs
])
def test_scaling_unit(row, gpv, unit):
    """Plans made before the unit was stored: the unit from the layout."""
    u = scaling_unit(row, gpv)
    assert (u.vms, u.replicas) == unit[:2] and u.qps_capacity == pytest.approx(unit[2])


def test_scaling_unit_of_a_stored_unit():
    """A plan's row names its unit (planner.search.serve): 2 VMs of 4 replicas, 12 req/s each at the
    pessimistic edge (60 of 8 replicas is 7.5 each) -> 30 req/s per unit."""
    row = _row(vms=4, gpus=32, replicas=8, qps_capacity=80.0, unit_vms=2, unit_replicas=4)
    row.qps_capacity_low = 60.0
    u = scaling_unit(row, 8)
    assert (u.vms, u.replicas) == (2, 4) and u.qps_capacity == pytest.approx(30.0)


def test_a_multi_vm_unit_costs_its_vms():
    t = traffic_plan(_profile([5.0] * 24), _row(vms=4, gpus=32, replicas=2, qps_capacity=20.0), 8, RATES, 10.0)
    assert t.unit_vms == 2 and t.usd_per_unit_hour["payg"] == 20.0 and t.option("static").usd_per_period == 20.0 * 24


def test_missing_prices():
    rates = VmRates({"payg": 10.0}, {"payg": "p"}, {"reserved-1y": "none listed", "reserved-3y": "none listed"})
    t = traffic_plan(_profile(SQUARE), _row(), 8, rates, 10.0)
    assert [o.name for o in t.options] == ["static", "autoscaled"] and set(t.unpriced) == {"reserved-1y", "reserved-3y"}
    with pytest.raises(MoeprofError, match="no pay-as-you-go price"):
        traffic_plan(_profile(SQUARE), _row(), 8, VmRates({"reserved-1y": 6.0}, unpriced={"payg": "x"}), 10.0)


def test_vm_rates_from_the_price_list():
    vm = load_vms()["nd-mi300x-v5"]  # pay-as-you-go read in eastus2, where the reservations are listed
    r = vm_rates(vm, "payg")
    assert r.usd_per_vm_hour == {"payg": 48.0, "reserved-1y": 30.72, "reserved-3y": 21.072} and not r.unpriced
    assert all("eastus2" in s for s in r.sources.values())
    h100 = load_vms(region="eastus")["nd-h100-v5"]  # eastus: no reservation listed there
    r = vm_rates(h100, "payg")
    assert set(r.usd_per_vm_hour) == {"payg"} and "region 'eastus'" in r.unpriced["reserved-1y"]
    r = vm_rates(load_vms(region="eastus2")["nd-h100-v5"], "payg")
    assert r.usd_per_vm_hour["reserved-3y"] == pytest.approx(43.163)
    r = vm_rates(load_vms(pricing="reserved-1y")["nd-mi300x-v5"], "reserved-1y")
    assert r.usd_per_vm_hour["payg"] == 48.0 and r.usd_per_vm_hour["reserved-1y"] == 30.72
    r = vm_rates(load_vms(prices={"nd-mi300x-v5": 40.0})["nd-mi300x-v5"], "payg")
    assert r.usd_per_vm_hour["payg"] == 40.0 and "user-supplied" in r.sources["reserved-1y"]


def test_json_round_trip_and_bounds():
    t = traffic_plan(_profile(SQUARE), _row(), 8, RATES, 10.0)
    d = json.loads(json.dumps(t.to_json()))
    assert d["peak_units"] == 4 and d["cheapest"] == "reserved-3y + payg" and d["hours"] == 24
    assert TrafficPlan.from_json(d, "p").to_json() == d
    for key, bad in (("units_per_hour", [1] * 23), ("qps_per_hour", [-1.0] * 24), ("min_units", -1),
                     ("usd_per_unit_hour", {"spot": 1.0}), ("options", [])):
        with pytest.raises(MoeprofError, match=key):
            TrafficPlan.from_json({**d, key: bad}, "p")


def test_unit_capacity_is_the_pessimistic_edge_when_the_row_has_a_band():
    from dataclasses import replace

    row = replace(_row(vms=1, gpus=8, replicas=1, qps_capacity=10.0), qps_capacity_low=7.5)
    assert scaling_unit(row, 8).qps_capacity == pytest.approx(7.5)
    t = traffic_plan(_profile([15.0] * 24), row, 8, RATES, 10.0)
    assert max(t.units_per_hour) == 2  # 15 / 7.5; the predicted 10 req/s would also give 2, so check 7.6
    t = traffic_plan(_profile([7.6] * 24), row, 8, RATES, 10.0)
    assert max(t.units_per_hour) == 2  # one unit at the predicted 10 req/s would do
