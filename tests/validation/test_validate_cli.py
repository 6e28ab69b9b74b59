"""`moeprof validate` on the shipped measured H200 profile, in process: text, JSON, --fail-above."""

import json
import statistics

import pytest


def test_validate_measured_profile_text_json_and_threshold(cli):
    p = cli("validate", "--profile", "h200", check_rc=0)
    assert "median |error|" in p.stdout and "worst" in p.stdout and "held-out rows" in p.stdout
    vj = json.loads(cli("validate", "--profile", "h200", "--json", check_rc=0).stdout)
    s = vj["summary"]
    # every timed row of the profile that is not an error row is predicted
    assert s["time"]["rows"] >= 200 and not s["not_predicted"]
    assert {"gemm", "moe_layer", "attention_decode", "attention_prefill", "copy"} <= set(s["by_probe"])
    assert all(r["predicted"] > 0 and r["measured"] > 0 for r in vj["rows"])
    errs = sorted(abs(r["error_pct"]) for r in vj["rows"] if r["quantity"] == "ms")
    assert s["time"]["median_abs_pct"] == pytest.approx(statistics.median(errs))
    f = cli("validate", "--profile", "h200", "--fail-above", "0.0001")
    assert f.returncode == 1 and f.stderr.startswith("moeprof: error: median |error|")
