"""Error bands on the plan's figures and the headroom target (planner.search.bands), the band lookup
(catalog.calibration.error_band_for), and the band data script (scripts/error_bands.py)."""

import csv
import io
import json
import math
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from moeprof.catalog.calibration.error_band import from_residuals
from moeprof.catalog.calibration.serving import ServingCalibration, catalog_error_band, error_band_for
from moeprof.catalog.models import load_model
from moeprof.deployment.replicas import units_for
from moeprof.planner import PlanDocument, SearchSpace, Targets, plan
from moeprof.planner.search.bands import evaluate_bands

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
H200 = dict(skus=("nd-h200-v5",), quants=("fp8",), kv_dtypes=("fp8",))


@pytest.fixture
def h200_plan(plans):
    return plans("maverick", **H200, max_vms=4)


def _band(doc, gpu, metric):
    m = doc.sources["error_band"][gpu]["metrics"][metric]
    return m["lo"], m["hi"]


def test_every_feasible_row_carries_its_gpus_band(h200_plan):
    doc = h200_plan
    lo, hi = _band(doc, "h200-sxm-141gb", "throughput")
    assert lo < 0  # the shipped H200 band: measured runs serve less than predicted at the 10th percentile
    t_lo, t_hi = _band(doc, "h200-sxm-141gb", "tpot_ms")
    assert doc.feasible
    for r in doc.feasible:
        assert r.qps_capacity_low < r.qps_capacity <= r.qps_capacity_high
        assert r.qps_capacity_low == pytest.approx(r.qps_capacity * (1 + lo))
        assert r.qps_capacity_high == pytest.approx(r.qps_capacity * (1 + hi))
        assert r.tpot_low_ms == pytest.approx(r.tpot_ms * (1 + t_lo)) and r.tpot_high_ms == pytest.approx(r.tpot_ms * (1 + t_hi))
        f_lo, f_hi = _band(doc, "h200-sxm-141gb", "ttft_ms")
        # the band as the residuals are: on H200 every decile is above the point (the model's TTFT is low)
        assert r.ttft_low_ms == pytest.approx(r.ttft_ms * (1 + f_lo)) and r.ttft_high_ms == pytest.approx(r.ttft_ms * (1 + f_hi))
        # the latency targets hold at the band's pessimistic edge
        assert r.ttft_high_ms <= doc.inputs.ttft_ms * (1 + 1e-6) and r.tpot_high_ms <= doc.inputs.tpot_ms * (1 + 1e-6)
        assert r.headroom == pytest.approx(r.qps_capacity_low / doc.inputs.qps - 1)
        assert r.headroom >= 0  # the default headroom target
        assert r.vms_low <= r.vms_high <= r.vms


def test_vm_range_by_hand(h200_plan):
    r, qps = h200_plan.recommended, h200_plan.inputs.qps
    per_replica = r.qps_capacity / r.replicas
    per_vm = 8 // (r.tp * r.pp)  # replicas one 8-GPU VM holds
    for vms, cap in ((r.vms_low, r.qps_capacity_high), (r.vms_high, r.qps_capacity_low)):
        replicas = math.ceil(qps / (per_replica * cap / r.qps_capacity))
        assert vms == math.ceil(replicas / per_vm)


def test_units_for():
    got = units_for(10.0, np.array([5.0, 3.0, 20.0, 0.0, np.inf]))
    assert got[:3].tolist() == [2.0, 4.0, 1.0]  # an exact multiple needs no extra unit
    assert np.isnan(got[3:]).all()
    assert units_for(10.0, np.array([5.0, 20.0]), spare_units=1).tolist() == [3.0, 2.0]  # N + 1


def test_headroom_rejects_what_passes_without_it(plans):
    model, space = load_model("maverick"), SearchSpace(**H200, max_vms=1)
    ok = plans("maverick", **H200, max_vms=1, headroom=0.0)
    assert ok.recommended is not None and ok.recommended.vms == 1
    thin = plan(model, Targets.defaults(headroom=1.0), space)  # capacity for 20 req/s on one VM: no
    assert thin.recommended is None
    assert thin.rejected_counts.get("headroom", 0) >= 1
    why = [x.reason for x in thin.rejected if x.kind == "headroom"]
    assert why and all(w.startswith("headroom: capacity") and "< 20 req/s ((1 + 1) x 10)" in w for w in why)
    assert any(m.startswith("headroom:") for c in thin.closest for m in c.misses)
    # and with room for more VMs the same headroom buys a second one
    two = plans("maverick", **H200, max_vms=4, headroom=1.0)
    assert two.recommended.vms > ok.recommended.vms
    assert two.recommended.qps_capacity_low >= 20.0


def test_json_carries_the_bands_and_round_trips(cli_once):
    out = cli_once("plan", "--model", "maverick", "--sku", "nd-h200-v5", "--quant", "fp8", "--headroom", "0.05", "--json",
              check_rc=0).stdout
    doc = json.loads(out)
    rec = doc["recommended"]
    for k in ("ttft_low_ms", "ttft_high_ms", "tpot_low_ms", "tpot_high_ms", "qps_capacity_low", "qps_capacity_high",
              "vms_low", "vms_high", "headroom"):
        assert rec[k] is not None, k
    assert isinstance(rec["vms_low"], int) and rec["headroom"] >= 0.05
    assert doc["inputs"]["headroom"] == 0.05
    band = doc["sources"]["error_band"]["h200-sxm-141gb"]
    assert band["metrics"]["throughput"]["n"] >= 10 and "held-out" in band["source"]
    assert PlanDocument.from_json(doc).to_json() == doc
    # a plan saved before the bands still loads, its bands null
    for k in ("qps_capacity_low", "vms_low", "headroom"):
        del doc["recommended"][k]
    del doc["inputs"]["headroom"]
    old = PlanDocument.from_json(doc)
    assert old.recommended.vms_low is None and old.inputs.headroom == 0.0


def test_csv_has_the_band_columns(cli_once):
    out = cli_once("plan", "--model", "maverick", "--sku", "nd-h200-v5", "--quant", "fp8", "--csv", check_rc=0).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    for col in ("ttft_low_ms", "tpot_high_ms", "qps_capacity_low_req_per_s", "qps_capacity_high_req_per_s",
                "vm_count_low", "vm_count_high", "headroom_fraction"):
        assert col in rows[0], col
    rec = rows[0]
    assert float(rec["qps_capacity_low_req_per_s"]) < float(rec["qps_capacity_req_per_s"])


def test_plan_text_shows_ranges_and_headroom(cli, cli_once):
    out = cli_once("plan", "--model", "maverick", "--sku", "nd-h200-v5", "--quant", "fp8", check_rc=0).stdout
    assert "; headroom +" in next(line for line in out.split("\n") if line.startswith("RECOMMENDED"))
    assert "req/s (" in out and "TPOT " in out and "across the error band" in out
    help_text = cli("plan", "-h", check_rc=0).stdout
    assert "--headroom" in help_text and "Default 0" in help_text and "autoscaling lag" in help_text
    bad = cli("plan", "--model", "maverick", "--headroom=-1")
    assert bad.returncode != 0 and "--headroom" in bad.stderr and bad.stderr.count("\n") == 1
    table = cli_once("compare", "--model", "maverick", "--sku", "nd-h200-v5", "--quant", "fp8", "--headroom", "0.1", check_rc=0).stdout
    row = next(line for line in table.splitlines() if line.startswith("nd-h200-v5"))
    assert row.count("(") == 3 and "%" in row  # TTFT, TPOT and capacity ranges, the headroom
    assert "required >= +10%" in table
    d = json.loads(cli_once("compare", "--model", "maverick", "--sku", "nd-h200-v5", "--quant", "fp8", "--json", check_rc=0).stdout)
    assert d["rows"][0]["qps_capacity_low"] < d["rows"][0]["qps_capacity"] and "h200-sxm-141gb" in d["error_band"]


def test_evaluate_json_bands(cli):
    out = cli("evaluate", "--model", "maverick", "--sku", "nd-h200-v5", "--tp", "8", "--ep", "8", "--quant", "fp8",
              "--concurrency", "64", "--input-tokens", "2048", "--output-tokens", "512", "--json", check_rc=0).stdout
    d = json.loads(out)
    m = d["error_band"]["metrics"]
    b = d["bands"]
    assert b["median_tpot_ms"] == pytest.approx([d["median_tpot_ms"] * (1 + m["tpot_ms"]["lo"]),
                                                 d["median_tpot_ms"] * (1 + m["tpot_ms"]["hi"])])
    assert b["output_throughput_per_gpu"][0] < d["output_throughput_per_gpu"]
    assert b["p99_ttft_ms"][1] > d["p99_ttft_ms"]
    lo, hi = b["tokens_per_s_per_user"]  # 1000 / TPOT: the TPOT band inverted
    assert lo == pytest.approx(1000 / b["median_tpot_ms"][1]) and hi == pytest.approx(1000 / b["median_tpot_ms"][0])


def test_evaluate_bands_skip_saturated_figures():
    band = from_residuals({"throughput": [-0.2, 0.1], "tpot_ms": [-0.1, 0.3]}, "s")
    got = evaluate_bands({"request_throughput": None, "median_tpot_ms": float("inf"), "tokens_per_s_per_user": None}, band)
    assert got["request_throughput"] is None and got["median_tpot_ms"] is None and got["tokens_per_s_per_user"] is None


def test_band_lookup_profile_first_then_catalog_then_vendor():
    own = from_residuals({"tpot_ms": [-0.05, 0.05]}, "measured by moeprof calibrate")
    cal = ServingCalibration("h200-sxm-141gb", 1.0, 0.002, "fitted", error_band=own)
    prof = SimpleNamespace(serving_calibration=cal, path="p.json")
    assert error_band_for("h200-sxm-141gb", "nvidia", prof).source == "measured by moeprof calibrate"
    shipped = error_band_for("h200-sxm-141gb", "nvidia", SimpleNamespace())
    assert shipped == catalog_error_band("h200-sxm-141gb", "nvidia") and shipped.quantified
    pooled = error_band_for("b300-sxm", "nvidia")
    assert pooled.quantified and pooled.source.startswith("no published runs on b300-sxm: the pooled band of its vendor (nvidia)")
    none = error_band_for("x1", "acme")
    assert not none.quantified and none.source.startswith("not quantified: no published serving runs on x1")


def test_band_script_rule(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import error_bands

    held = [0.01 * i for i in range(12)]
    res = {("g", "validation", "tpot_ms"): held, ("g", "fit", "tpot_ms"): [5.0] * 40,
           ("g", "validation", "throughput"): [-0.1, 0.1], ("g", "fit", "throughput"): [-0.2, 0.0, 0.2]}
    b = error_bands.band_json(res, ["g"], "g")
    assert b["metrics"]["tpot_ms"]["n"] == 12 and b["metrics"]["tpot_ms"]["hi"] < 1  # held out only: fit never read
    assert b["metrics"]["throughput"]["n"] == 5  # too few held out: both splits
    assert "throughput: 5 runs, IN-SAMPLE (only 2 held out; optimistic)" in b["source"]
    assert "ttft_ms" not in b["metrics"]
    sys.modules.pop("error_bands", None)
