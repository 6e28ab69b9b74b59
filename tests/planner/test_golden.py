"""The decisions of a plan of each built-in model at the default targets, against reviewable files
(tests/golden/decisions_<model>.json, tests/planner/golden.py): the pick exactly, its key figures at
rel 1e-3, the runner-up layouts, each SKU's best, the rejected kinds, the closest misses. A
deliberate change to the model rewrites them with `python scripts/update_golden.py`, and its
commit says what moved and why.

One slow test keeps the whole plan JSON of Maverick (tests/golden/plan_maverick.json.gz) to 1e-9:
it catches a change anywhere in the document, even one that moves no decision. Fields new in
schema version 2 (schema, per_sku, charts, rejected[].kind) are additions it allows."""

import gzip
import json

import pytest

from moeprof.catalog.models import load_model
from moeprof.planner import Targets, plan

from . import golden


@pytest.mark.parametrize("name", golden.MODELS)
def test_plan_decisions_match_golden(name, plans):
    want = json.loads(golden.path(name).read_text(encoding="utf-8"))
    got = json.loads(json.dumps(golden.decisions(plans(name).to_json())))
    diffs = golden.differences(want, got)
    assert not diffs, "\n".join(diffs) + "\n(a deliberate change: python scripts/update_golden.py, and say why)"


def test_decisions_see_a_change_of_pick():
    """The comparison is not vacuous: another pick, a figure 1 % off and another count are each reported."""
    want = json.loads(golden.path("maverick").read_text(encoding="utf-8"))
    moved = json.loads(json.dumps(want))
    moved["pick"]["tp"] *= 2
    moved["pick_figures"]["usd_per_month"] *= 1.01
    moved["rejected_counts"]["memory"] = moved["rejected_counts"].get("memory", 0) + 1
    diffs = golden.differences(want, moved)
    assert len(diffs) == 3 and any(".pick.tp" in d for d in diffs) and any("usd_per_month" in d for d in diffs)
    same = json.loads(json.dumps(want))
    same["pick_figures"]["usd_per_month"] *= 1 + 1e-5  # below REL: not a decision
    assert golden.differences(want, same) == []


def _allowing_additions(old, new, where: str = "", out: list | None = None, limit: int = 20) -> list[str]:
    """Differences of `new` from `old` at rel 1e-9; keys only in `new` are additions, allowed."""
    out = [] if out is None else out
    if isinstance(old, dict) and isinstance(new, dict):
        for k, v in old.items():
            if len(out) >= limit:
                break
            if k not in new:
                out.append(f"{where}.{k}: missing")
            else:
                _allowing_additions(v, new[k], f"{where}.{k}", out, limit)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new)):
            _allowing_additions(a, b, f"{where}[{i}]", out, limit)
        return out
    return out + golden.differences(old, new, where, rel=1e-9)


@pytest.mark.slow
def test_whole_plan_json_of_maverick_matches_snapshot():
    with gzip.open(golden.GOLDEN / "plan_maverick.json.gz", "rt", encoding="utf-8") as f:
        want = json.load(f)
    doc = json.loads(json.dumps(plan(load_model("maverick"), Targets.defaults()).to_json()))
    diffs = _allowing_additions(want, doc)
    assert not diffs, "\n".join(diffs)
