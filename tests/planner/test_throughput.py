"""Throughput per GPU vs tokens/s per user of each SKU's best configuration, and the price tags,
as the plan carries them (planner.analyses.throughput)."""

import datetime as dt
import json

import pytest

from moeprof.catalog.hardware.vms import Price
from moeprof.catalog.models import load_model
from moeprof.errors import ConfigError
from moeprof.planner import PlanDocument, SearchSpace, Targets, plan
from moeprof.planner.analyses.throughput import concurrency_grid, price_status


@pytest.fixture(scope="module")
def doc():
    return plan(load_model("maverick"), Targets.defaults(), SearchSpace(quants=("bf16", "fp8-experts", "int4-experts")))


def test_concurrency_grid_doubles_up_to_the_slots():
    assert concurrency_grid(256) == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert concurrency_grid(100.7) == [1, 2, 4, 8, 16, 32, 64, 100]
    assert concurrency_grid(0.3) == [1]


def test_one_curve_per_sku_with_a_feasible_row(doc):
    best = {s.sku: s.row for s in doc.per_sku if s.row is not None}
    curves = doc.charts.throughput
    assert [c.sku for c in curves] == list(best)
    assert [c.recommended for c in curves].count(True) == 1
    rec = next(c for c in curves if c.recommended)
    assert rec.row_key == list(doc.recommended.key())
    t = doc.inputs
    for c in curves:
        r = best[c.sku]
        assert c.row_key == list(r.key()) and c.usd_per_hour == r.usd_per_hour
        groups = r.ep // r.tp if r.ep > r.tp else 1  # wide EP: the sweep's users per group x the attention groups
        assert c.concurrency_per_replica[0] == groups and c.concurrency_per_replica[-1] <= r.max_batch * groups
        tput, user = c.output_tokens_per_s_per_gpu, c.tokens_per_s_per_user
        assert all(b > a for a, b in zip(tput, tput[1:]))  # more users, more tokens per GPU
        assert all(b < a for a, b in zip(user, user[1:]))  # and fewer for each user
        for g, usd in zip(tput, c.usd_per_million_tokens):  # $/h over the input + output tokens of an hour
            tokens_h = g * r.gpus * (t.input_tokens + t.output_tokens) / t.output_tokens * 3600
            assert usd == pytest.approx(r.usd_per_hour / tokens_h * 1e6)


def test_the_recommendation_runs_near_its_curve(doc):
    """The plan's operating point (open loop at the target QPS) and the closed-loop sweep come from
    the same step costs: at the plan's TPOT the sweep's throughput per GPU is about the plan's."""
    rec = doc.recommended
    c = next(c for c in doc.charts.throughput if c.recommended)
    x = 1000.0 / rec.tpot_ms
    pts = sorted(zip(c.tokens_per_s_per_user, c.output_tokens_per_s_per_gpu))
    assert pts[0][0] <= x <= pts[-1][0]
    lo = max(p for p in pts if p[0] <= x)
    hi = min(p for p in pts if p[0] >= x)
    y = rec.output_tokens_per_s / rec.gpus
    assert min(lo[1], hi[1]) * 0.85 <= y <= max(lo[1], hi[1]) * 1.15


def test_price_tags_are_short_and_dated(doc):
    tags = {p.sku: p for p in doc.charts.prices}
    assert set(tags) == set(doc.inputs.skus or [s.sku for s in doc.per_sku])
    for sku, p in tags.items():
        full = doc.sources[sku]["price"]
        assert len(p.label) < 40 < len(full) and p.date in p.label and p.date in full
        assert p.status in ("api", "reported", "stale", "estimate")
        assert p.status != "reported" or p.reported_by  # who quoted it


def test_price_status():
    today = dt.date.today()
    fresh, old = (today - dt.timedelta(days=10)).isoformat(), (today - dt.timedelta(days=400)).isoformat()
    assert price_status(Price(1.0, "eastus", fresh, False, "x")) == "reported"  # not read from the API by moeprof
    assert price_status(Price(1.0, "eastus", fresh, False, "x", "reported by someone")) == "reported"
    assert price_status(Price(1.0, "eastus", fresh, False, "x", "api")) == "api"
    assert price_status(Price(1.0, "eastus", old, False, "x", "api")) == "stale"
    assert price_status(Price(1.0, "eastus", old, False, "x")) == "stale"
    assert price_status(Price(1.0, "eastus", fresh, True, "x")) == "estimate"
    assert price_status(Price(1.0, "user", "user", False, "x")) == "user"


def test_round_trip_and_refusal(doc):
    j = json.loads(json.dumps(doc.to_json()))
    assert PlanDocument.from_json(j).to_json() == j
    j["charts"]["prices"][0]["status"] = "trust me"
    with pytest.raises(ConfigError, match="charts.prices"):
        PlanDocument.from_json(j, "p.json")
    del j["charts"]["prices"], j["charts"]["throughput"]  # a plan written before these fields still reads
    assert PlanDocument.from_json(j).charts.throughput == []


def test_reusing_the_search_step_costs_changes_nothing(doc):
    """The plan's sweep reuses the search's step costs per layout; computed afresh they are the same."""
    from moeprof.catalog.engine import load_engine
    from moeprof.catalog.hardware.vms import load_vms
    from moeprof.planner.analyses.throughput import throughput_curves
    from moeprof.planner.search.plan import default_profiles

    vms = load_vms()
    from moeprof.deployment.evaluate import engine_for

    fresh = throughput_curves(load_model("maverick"), vms, doc.per_sku, doc.recommended, Targets.defaults(), 0.0,
                              default_profiles(vms), engine_for(load_engine(), "vllm", 0.0))
    assert len(fresh) == len(doc.charts.throughput)
    for a, b in zip(fresh, doc.charts.throughput):
        assert a.usd_per_million_tokens == pytest.approx(b.usd_per_million_tokens, rel=1e-12)
        assert a.tokens_per_s_per_user == pytest.approx(b.tokens_per_s_per_user, rel=1e-12)
