"""The VM is the unit: a deployment is a whole number of units (one VM with every replica that fits
on it, or the VMs one replica spans); capacity, VM counts and the traffic units use the unit's."""

import json
import math

import numpy as np
import pytest

from moeprof.deployment.replicas import max_units, unit_shape, units_for


@pytest.mark.parametrize("gpus_per_replica,gpus_per_vm,unit", [
    (1, 8, (1, 8)),  # eight 1-GPU replicas on a VM
    (2, 8, (1, 4)),  # TP 2 on an 8-GPU VM: 4 replicas per unit
    (8, 8, (1, 1)),
    (16, 8, (2, 1)),  # wide EP / PP over 2 VMs: one replica spans the unit
    (32, 8, (4, 1)),
    (3, 8, (1, 2)),  # floor(8 / 3)
])
def test_unit_shape(gpus_per_replica, gpus_per_vm, unit):
    assert unit_shape(gpus_per_replica, gpus_per_vm) == unit
    vms, reps = unit_shape(np.array([gpus_per_replica]), np.array([gpus_per_vm]))
    assert (int(vms[0]), int(reps[0])) == unit


def test_units_worked_example():
    """TP 2 replicas of 7.5 req/s on an 8-GPU VM: a unit carries 4 x 7.5 = 30 req/s; 50 req/s needs
    ceil(50 / 30) = 2 units = 2 VMs (not ceil(50 / 7.5) = 7 replicas as a count of its own)."""
    vms, reps = unit_shape(2, 8)
    per_unit = reps * 7.5
    assert per_unit == 30.0
    assert units_for(50.0, np.array([per_unit])).tolist() == [2.0]
    assert units_for(50.0, np.array([per_unit]), spare_units=1).tolist() == [3.0]  # N + 1
    assert max_units(np.array([1, 2, 4, 64]), 32).tolist() == [32, 16, 8, 1]


H200 = dict(skus=("nd-h200-v5",), quants=("fp8",), kv_dtypes=("fp8",))


def test_every_row_is_whole_units(plans):
    doc = plans("maverick", **H200)
    rows = [doc.recommended, *doc.alternatives, *doc.feasible]
    assert rows
    for r in rows:
        vms, reps = r.unit()
        assert (r.tp * r.pp * reps <= 8) if vms == 1 else reps == 1
        assert r.vms % vms == 0 and r.replicas == r.units() * reps  # never a VM half used
        assert r.qps_capacity_per_unit == pytest.approx(r.qps_capacity_per_replica * reps)
        assert r.qps_capacity == pytest.approx(r.qps_capacity_per_unit * r.units())


def test_vm_range_counts_whole_units(plans):
    doc = plans("maverick", **H200)
    r, qps = doc.recommended, doc.inputs.qps
    vms, _ = r.unit()
    for got, cap in ((r.vms_low, r.qps_capacity_high), (r.vms_high, r.qps_capacity_low)):
        per_unit_at_edge = r.qps_capacity_per_unit * cap / r.qps_capacity
        assert got == max(1, math.ceil(qps / per_unit_at_edge - 1e-9)) * vms


def test_plan_text_and_json_show_the_unit(cli_once):
    p = cli_once("plan", "--model", "maverick", "--sku", "nd-h200-v5", "--quant", "fp8", "--kv-dtype", "fp8", check_rc=0)
    line = next(x for x in p.stdout.splitlines() if x.startswith("  unit "))
    assert "per replica" in line and "per unit (1 VM running" in line
    j = cli_once("plan", "--model", "maverick", "--sku", "nd-h200-v5", "--quant", "fp8", "--kv-dtype", "fp8", "--json",
                 check_rc=0)
    rec = json.loads(j.stdout)["recommended"]
    assert rec["unit_vms"] == 1 and rec["unit_replicas"] >= 1
    assert rec["qps_capacity_per_unit"] == pytest.approx(rec["qps_capacity_per_replica"] * rec["unit_replicas"])
