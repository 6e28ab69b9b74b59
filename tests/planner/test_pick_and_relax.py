"""The pick: cheapest, then the released recipe, then headroom, then the (TTFT, TPOT) Pareto front at
its cost; and the advice when nothing is feasible."""

import json

import numpy as np
import pandas as pd
import pytest

from moeprof.catalog.engine import load_engine
from moeprof.catalog.hardware.vms import load_vms
from moeprof.catalog.models import load_model
from moeprof.planner import PlanDocument, SearchSpace, Targets, plan
from moeprof.planner.search.plan import default_profiles, evaluate_rows
from moeprof.planner.search.rank import cost_cents, dominated_at_equal_cost, rank_feasible


def test_dominated_at_equal_cost_marks_exactly_the_dominated_points():
    cost = np.array([1, 1, 1, 1, 2, 1])
    ttft = np.array([100.0, 90.0, 100.0, 80.0, 10.0, 90.0])
    tpot = np.array([30.0, 30.0, 25.0, 40.0, 1.0, 30.0])
    got = dominated_at_equal_cost(cost, ttft, tpot)
    # brute force: j dominates i when no worse on both and better on one, at the same cost
    want = [any(cost[j] == cost[i] and ttft[j] <= ttft[i] and tpot[j] <= tpot[i] and (ttft[j], tpot[j]) != (ttft[i], tpot[i])
                for j in range(len(cost))) for i in range(len(cost))]
    assert got.tolist() == want == [True, False, False, False, False, False]


def test_brute_force_agrees_on_random_points():
    rng = np.random.default_rng(0)
    cost = rng.integers(0, 4, 300)
    a, b = rng.integers(0, 20, 300).astype(float), rng.integers(0, 20, 300).astype(float)
    got = dominated_at_equal_cost(cost, a, b)
    for i in range(300):
        same = cost == cost[i]
        dom = same & (a <= a[i]) & (b <= b[i]) & ((a < a[i]) | (b < b[i]))
        assert got[i] == dom.any()


@pytest.fixture(scope="module")
def maverick():
    vms = load_vms()
    m = load_model("maverick")
    rows = evaluate_rows(m, Targets.defaults(), SearchSpace(), vms, default_profiles(vms), load_engine())
    return m, rows


def test_the_pick_is_cheapest_released_and_no_row_like_it_dominates_it(maverick):
    m, rows = maverick
    ranked = rank_feasible(rows, m)
    pick = ranked.iloc[0]
    feas = rows[rows.feasible]
    assert pick.usd_per_month == feas.usd_per_month.min()  # the cheapest
    assert pick.checkpoint and feas.checkpoint.astype(bool).all()  # by default every feasible row has a checkpoint
    cheap = feas[cost_cents(feas.usd_per_month) <= cost_cents([pick.usd_per_month])[0]]
    best_kind = cheap.checkpoint_kind.min()
    assert pick.checkpoint_kind == best_kind
    same = cheap[cheap.checkpoint_kind == best_kind]
    head = np.round(same.headroom * 100)
    assert round(pick.headroom * 100) == head.max()  # the most headroom (to the percent) among those
    like = same[head == head.max()]
    dom = (like.ttft_ms <= pick.ttft_ms) & (like.tpot_ms <= pick.tpot_ms) & (
        (like.ttft_ms < pick.ttft_ms) | (like.tpot_ms < pick.tpot_ms))
    assert not dom.any()


def _rows(*specs):
    return pd.DataFrame([dict(feasible=True, usd_per_month=c, ttft_ms=a, tpot_ms=b, quant=q, kv_dtype="fp8", gpus=8,
                              headroom=h, checkpoint_kind=k, checkpoint="org/x" if k < 3 else "")
                         for c, a, b, q, h, k in specs])


def test_at_equal_cost_the_released_recipe_then_headroom_then_latency():
    m = load_model("maverick")
    # the maker's release first, though the other is faster on both and has more headroom
    both = _rows((35040.0, 120.0, 30.0, "int4-experts", 0.40, 3), (35040.0, 100.0, 34.0, "fp8-experts", 0.05, 0),
                 (35040.0, 90.0, 20.0, "int4", 0.50, 1))
    assert rank_feasible(both, m).quant.tolist() == ["fp8-experts", "int4", "int4-experts"]
    # the same kind of checkpoint: more headroom first, though slower on both
    head = _rows((35040.0, 90.0, 20.0, "fp8", 0.10, 0), (35040.0, 120.0, 34.0, "fp8-experts", 0.20, 0))
    assert rank_feasible(head, m).quant.tolist() == ["fp8-experts", "fp8"]
    # headroom equal to the percent: the Pareto front decides (the dominating row first)
    front = _rows((35040.0, 120.0, 34.0, "fp8-experts", 0.101, 0), (35040.0, 100.0, 30.0, "fp8", 0.098, 0))
    assert rank_feasible(front, m).quant.tolist() == ["fp8", "fp8-experts"]
    # a cent cheaper wins whatever its checkpoint, headroom or latency
    cheaper = _rows((35040.0, 100.0, 30.0, "fp8-experts", 0.5, 0), (35039.99, 400.0, 39.0, "int4-experts", 0.0, 3))
    assert rank_feasible(cheaper, m).quant.tolist() == ["int4-experts", "fp8-experts"]


def test_ranking_rule_is_in_the_document():
    doc = plan(load_model("scout"), Targets.defaults(qps=1.0, context_tokens=32768),
               SearchSpace(skus=("nd-h100-v5",), quants=("fp8",)))
    d = json.loads(json.dumps(doc.to_json()))
    assert "TTFT and TPOT" in d["ranking_rule"] and "released recipe" in d["ranking_rule"]
    assert "headroom" in d["ranking_rule"]
    assert PlanDocument.from_json(d).ranking_rule == doc.ranking_rule


@pytest.fixture(scope="module")
def too_fast():
    """Scout on one SKU and recipe with a TPOT target no layout meets even unloaded."""
    t = Targets.defaults(qps=1.0, context_tokens=32768, tpot_ms=2.0)
    return t, plan(load_model("scout"), t, SearchSpace(skus=("nd-h100-v5",), quants=("fp8",)))


def test_relaxations_each_admit_a_plan(too_fast):
    t, doc = too_fast
    assert doc.recommended is None
    by = {x.target: x for x in doc.relaxations}
    assert set(by) == {"ttft_ms", "tpot_ms", "qps", "context_tokens"}
    x = by["tpot_ms"]
    assert x.relaxed_to is not None and x.relaxed_to > t.tpot_ms and x.row is not None
    assert x.row.tpot_high_ms <= x.relaxed_to  # the target holds at the error band's high edge
    again = plan(load_model("scout"), Targets.defaults(qps=1.0, context_tokens=32768, tpot_ms=x.relaxed_to),
                 SearchSpace(skus=("nd-h100-v5",), quants=("fp8",)))
    assert again.recommended is not None
    # the least: a tenth of a millisecond less admits nothing
    tighter = plan(load_model("scout"), Targets.defaults(qps=1.0, context_tokens=32768, tpot_ms=x.relaxed_to - 0.1),
                   SearchSpace(skus=("nd-h100-v5",), quants=("fp8",)))
    assert tighter.recommended is None
    # TTFT, QPS, context alone cannot fix a TPOT no layout reaches unloaded
    assert by["ttft_ms"].relaxed_to is None and by["qps"].relaxed_to is None
    d = json.loads(json.dumps(doc.to_json()))
    assert [r["target"] for r in d["relaxations"]] == [x.target for x in doc.relaxations]
    assert PlanDocument.from_json(d).relaxations[1].relaxed_to == x.relaxed_to


def test_above_capacity_the_closest_are_distinct_layouts_best_capacity_first():
    t = Targets.defaults(qps=500.0, context_tokens=32768)
    doc = plan(load_model("scout"), t, SearchSpace(skus=("nd-h100-v5",), quants=("fp8",), max_vms=2))
    assert doc.recommended is None
    layouts = [(c.sku, c.tp, c.ep, c.pp) for c in doc.closest]
    assert len(layouts) == len(set(layouts)) >= 2
    caps = [c.qps_capacity for c in doc.closest]
    assert caps == sorted(caps, reverse=True)
    assert all("QPS capacity" in m for c in doc.closest for m in c.misses)
    q = {x.target: x for x in doc.relaxations}["qps"]
    assert q.relaxed_to is not None and q.relaxed_to <= caps[0] + 1e-9
    assert q.row is not None and q.row.qps_capacity >= q.relaxed_to


def test_the_report_shows_the_relaxations(too_fast):
    from moeprof.report import plan_report_html

    _, doc = too_fast
    text = plan_report_html(json.loads(json.dumps(doc.to_json())))
    tpot = {x.target: x for x in doc.relaxations}["tpot_ms"]
    assert "least relaxation of each target" in text
    assert tpot.text.split(" admits")[0].replace("<", "&lt;") in text


def test_compare_flags_a_recipe_no_release_ships():
    from moeprof.cli.compare_cmd import compare_rows

    space = SearchSpace(skus=("nd-h200-v5",), quants=("int4-experts",))
    doc = plan(load_model("maverick"), Targets.defaults(qps=1.0, context_tokens=32768), space)
    assert doc.recommended is None and doc.requantize is not None  # no published build: not searched by default
    assert "re-quantising to int4-experts" in doc.requantize.text and doc.rejected_counts.get("checkpoint")
    doc = plan(load_model("maverick"), Targets.defaults(qps=1.0, context_tokens=32768),
               SearchSpace(skus=("nd-h200-v5",), quants=("int4-experts",), allow_requantize=True))
    (row,) = compare_rows(doc)
    assert row["quant"] == "int4-experts" and "no published int4-experts checkpoint" in row["notes"][0]
