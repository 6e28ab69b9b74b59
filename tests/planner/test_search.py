import json

import numpy as np
import pytest

from moeprof.catalog.engine import load_engine
from moeprof.catalog.hardware.vms import load_vms
from moeprof.catalog.models import load_model
from moeprof.planner import RejectKind, SearchSpace, Targets, plan
from moeprof.planner.search.plan import default_profiles, evaluate_rows

REC_KEYS = {
    "sku", "vms", "gpus", "tp", "ep", "pp", "replicas", "quant", "kv_dtype", "max_batch", "max_context_tokens",
    "ttft_ms", "tpot_ms", "tokens_per_s", "qps_capacity", "usd_per_hour", "usd_per_million_tokens",
    "usd_per_month", "joules_per_token", "sources",
}


@pytest.fixture
def maverick_plan(plans):
    return plans("maverick")


@pytest.fixture(scope="module")
def maverick_rows():
    vms = load_vms()
    return evaluate_rows(load_model("maverick"), Targets.defaults(), SearchSpace(), vms, default_profiles(vms), load_engine())


def test_recommendation_meets_every_target_it_claims(maverick_plan, maverick_rows):
    r, t = maverick_plan.recommended, maverick_plan.inputs
    assert r is not None
    assert REC_KEYS <= set(r.to_json())
    assert r.ttft_ms <= t.ttft_ms and r.tpot_ms <= t.tpot_ms
    assert r.qps_capacity >= t.qps
    assert r.max_context_tokens >= t.context_tokens
    assert r.gpus == r.replicas * max(r.tp, r.ep) * r.pp
    assert r.usd_per_month == pytest.approx(r.usd_per_hour * 730)
    # it is the cheapest feasible row
    feas = maverick_rows[maverick_rows.feasible]
    assert r.usd_per_month == pytest.approx(feas.usd_per_month.min())
    for a in maverick_plan.alternatives:
        assert a.usd_per_month >= r.usd_per_month
        assert a.ttft_ms <= t.ttft_ms and a.tpot_ms <= t.tpot_ms


def test_every_rejection_has_a_typed_reason(maverick_plan, maverick_rows):
    rows = maverick_rows
    assert (rows.reason[~rows.feasible] != "").all()
    kinds = set(rows.kind[~rows.feasible])
    assert kinds <= {k.value for k in RejectKind}
    assert RejectKind.MEMORY.value in kinds  # bf16 Maverick does not fit one H100 VM
    # the text starts with the kind it was filed under
    for k, reason in zip(rows.kind[~rows.feasible], rows.reason[~rows.feasible]):
        assert reason.startswith(k + ": ")
    assert maverick_plan.configs_evaluated == len(rows) >= 10_000
    assert sum(maverick_plan.rejected_counts.values()) == len(maverick_plan.rejected)


def test_more_replicas_never_lower_qps_capacity(maverick_rows):
    keys = ["sku", "tp", "ep", "pp", "quant", "kv_dtype", "max_batch"]
    rows = maverick_rows.sort_values(keys + ["replicas"], kind="stable")
    same = (rows[keys].shift() == rows[keys]).all(axis=1).to_numpy()[1:]  # the next row is the same configuration
    assert same.sum() > 1000  # every configuration with more than one replica count, not a sample
    assert np.all(np.diff(rows.replicas.to_numpy())[same] > 0)
    assert np.all(np.diff(rows.qps_capacity.to_numpy())[same] >= -1e-9)
    assert np.all(np.diff(rows.usd_per_hour.to_numpy())[same] >= 0)


def test_price_override_changes_the_ranking():
    m = load_model("scout")
    t = Targets.defaults(qps=2.0, context_tokens=32768)
    space = SearchSpace(quants=("fp8",))  # one recipe on every SKU: the ranking across SKUs is what moves
    base = plan(m, t, space)
    sku = base.recommended.sku
    dear = plan(m, t, space, prices={sku: 1e5})
    assert dear.recommended.sku != sku


def test_impossible_targets_give_closest(cli_once):
    p = cli_once("plan", "--model", "scout", "--sku", "nd-h200-v5", "--quant", "fp8", "--tpot-ms", "0.01", "--json")
    assert p.returncode == 1
    d = json.loads(p.stdout)
    assert d["recommended"] is None and d["closest"]
    assert any("TPOT" in m for m in d["closest"][0]["misses"])
    assert len([l for l in p.stderr.splitlines() if l.strip()]) == 1


def test_plan_cli_text(cli_once):
    p = cli_once("plan", "--model", "maverick", check_rc=0)
    assert "RECOMMENDED" in p.stdout and "$" in p.stdout and "REJECTED" in p.stdout
    assert "configurations evaluated" in p.stdout


def test_compare_one_row_per_sku(cli_once):
    p = cli_once("compare", "--model", "maverick", "--json", check_rc=0)
    d = json.loads(p.stdout)
    assert [r["sku"] for r in d["rows"]] == ["nd-h100-v5", "nd-h200-v5", "nd-mi300x-v5"]


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--qps", "0"], "--qps"),
        (["--qps", "-1"], "--qps"),
        (["--context", "100", "--input-tokens", "2048"], "exceeds --context"),
        (["--sku", "nd-a100-v4"], "unknown VM SKU"),
        (["--quant", "fp3"], "quantization recipe"),
        (["--kv-dtype", "int2"], "KV dtype"),
        (["--price-per-hour", "nd-h100-v5"], "SKU=USD"),
        (["--price-per-hour", "nd-h100-v5=-4"], "out of range"),
        (["--profile", "no-such-profile.json"], "cannot read profile"),
    ],
)
def test_plan_bad_values_exit_1(cli, args, needle):
    p = cli("plan", "--model", "scout", *args)
    assert p.returncode == 1, p.stderr
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in p.stderr


def test_plan_rejects_a_profile_of_another_gpu(cli, tmp_path):
    import json as _json

    from moeprof.profile import shipped_profiles

    doc = next(iter(shipped_profiles().values())).to_json()
    doc["gpu"] = "cpu"
    p = tmp_path / "cpu.json"
    p.write_text(_json.dumps(doc))
    r = cli("plan", "--model", "scout", "--profile", str(p))
    assert r.returncode == 1 and "no VM SKU has" in r.stderr


def test_plan_uses_a_given_profile(tmp_path):
    """A measured profile for a GPU replaces the shipped one and the plan says so."""
    from moeprof.profile import Profile, load_profile, save_profile, shipped_profiles

    pub = next(p for p in shipped_profiles().values() if p.gpu == "h100-sxm-80gb")
    measured = Profile(gpu=pub.gpu, source="measured", provenance={"date": "2026-11-27"}, curves=dict(pub.curves), scalars=dict(pub.scalars))
    path = save_profile(measured, tmp_path / "h100.measured.json")
    measured = load_profile(path)
    res = plan(load_model("scout"), Targets.defaults(qps=1.0, context_tokens=32768), SearchSpace(skus=("nd-h100-v5",)),
               profiles={pub.gpu: measured})
    assert res.to_json()["inputs"]["profiles"]["h100-sxm-80gb"]["source"] == "measured"
    assert res.feasible and all("measured profile" in r.calibration for r in res.feasible)
    assert path.name in res.inputs.profiles["h100-sxm-80gb"]["path"]
