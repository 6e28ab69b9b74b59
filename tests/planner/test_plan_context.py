"""A plan loads its inputs once (planner.search.context.PlanContext): the quantization recipes, the
priced VMs, the checkpoint table and the model, counted by wrapping the loaders wherever moeprof
bound them. Before the context a default plan called load_recipes 45-65 times (every layout
stage, every ranking, each recipe's step costs, the charts) and `moeprof plan --profile` read the
VMs twice."""

from __future__ import annotations

import sys
from collections import Counter

import pytest

from moeprof.catalog.hardware import vms as vms_module
from moeprof.catalog.models import load_model
from moeprof.catalog.models import loader as loader_module
from moeprof.catalog.models import quant as quant_module
from moeprof.planner import SearchSpace, Targets, plan
from moeprof.planner.search import checkpoints as checkpoints_module
from moeprof.planner.search.context import PlanContext, plan_context

WATCHED = {
    "load_recipes": quant_module.load_recipes,
    "load_priced_vms": vms_module.load_priced_vms,
    "checkpoint_table": checkpoints_module.checkpoint_table,
    "load_model": loader_module.load_model,
    "from_hf_config": loader_module.from_hf_config,  # a model parsed from its config (the built-ins: once per process)
}
NARROW = SearchSpace(skus=("nd-h100-v5",), quants=("fp8",))


@pytest.fixture
def calls(monkeypatch) -> Counter:
    """Calls of each watched loader, patched in every moeprof module bound to it. `load_model`
    counts only the calls outside the checkpoint table (catalog.deployable reads the model's
    published checkpoints by name, a cached lookup per recipe, inside the table's one build)."""
    counts: Counter = Counter()
    inside = []

    def wrap(name, fn):
        def counted(*a, **k):
            if not (name == "load_model" and inside):
                counts[name] += 1
            if name == "checkpoint_table":
                inside.append(1)
                try:
                    return fn(*a, **k)
                finally:
                    inside.pop()
            return fn(*a, **k)
        return counted

    for name, fn in WATCHED.items():
        wrapped = wrap(name, fn)
        for mod in list(sys.modules.values()):
            if getattr(mod, "__name__", "").startswith("moeprof") and getattr(mod, name, None) is fn:
                monkeypatch.setattr(mod, name, wrapped)
    return counts


def test_a_plan_loads_its_inputs_once(calls):
    m = load_model("scout")
    calls.clear()
    doc = plan(m, Targets.defaults(qps=1.0, context_tokens=32768), NARROW)
    assert doc.recommended is not None and doc.charts.throughput
    assert calls["load_priced_vms"] == 1, calls
    assert calls["checkpoint_table"] == 1, calls
    assert calls["load_recipes"] == 1, calls  # the context's: layouts, step costs, ranking and charts read it
    assert calls["load_model"] == 0 and calls["from_hf_config"] == 0, calls


def test_relaxing_the_targets_reuses_the_context(calls):
    """Nothing meets a 2 ms TPOT: the relaxations serve and search again, on the same context."""
    m = load_model("scout")
    calls.clear()
    doc = plan(m, Targets.defaults(qps=1.0, context_tokens=32768, tpot_ms=2.0), NARROW)
    assert doc.recommended is None and doc.relaxations
    assert calls["load_priced_vms"] == 1, calls
    assert calls["checkpoint_table"] == 1, calls
    assert calls["load_recipes"] == 1, calls
    assert calls["load_model"] == 0, calls


def test_plan_with_a_profile_reads_the_vms_once(calls):
    """`moeprof plan --profile`: the profile's GPU is checked against the context's VMs, not a second read."""
    from moeprof.api.workflows.plan import plan_document

    _, doc, _ = plan_document("scout", 32768, None, None, 1.0, 2000.0, 60.0, 99.0, 0.0, "nd-h100-v5", "fp8", None, 2, 0.0,
                              None, None, "payg", None, ["h100-sxm-80gb.aic-vllm"])
    assert "aic-vllm" in doc.inputs.profiles["h100-sxm-80gb"]["path"]
    assert calls["load_priced_vms"] == 1, calls
    assert calls["load_recipes"] == 1, calls


def test_the_context_is_frozen_and_checked_once():
    m = load_model("scout")
    ctx = plan_context(m, Targets.defaults(qps=1.0), SearchSpace(skus=("nd-h100-v5",)))
    assert isinstance(ctx, PlanContext) and list(ctx.vms) == ["nd-h100-v5"] and ctx.gpus == ["h100-sxm-80gb"]
    assert set(ctx.checkpoints) == set(ctx.recipes) and set(ctx.bands) == {"h100-sxm-80gb"}
    with pytest.raises(AttributeError):
        ctx.targets = Targets.defaults()  # type: ignore[misc]
    other = ctx.at(Targets.defaults(qps=2.0))
    assert other.vms is ctx.vms and other.checkpoints is ctx.checkpoints and other.targets.qps == 2.0
