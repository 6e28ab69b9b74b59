"""The document codec: every record decoded against its field types and specs, one error naming
the field, non-finite numbers written as null, and what it writes it reads back."""

import json
import math

import pytest

from moeprof.errors import ConfigError
from moeprof.planner.document.codec import decode, encode
from moeprof.planner.document.plan import Charts, KvCurve, MemoryBar, PriceTag


def _charts() -> Charts:
    return Charts(
        memory=[MemoryBar(label=["a", "b"], row_key=["sku", 1], parts_gib={"weights": 10.0}, capacity_gib=80.0)],
        kv=[KvCurve(sku="nd-h100-v5", label="x", context_tokens=[1, 2], kv_gib_per_seq=[0.1, 0.2], max_seqs=[3.0, 2.0],
                    kv_budget_gib=12.0, max_context_tokens=2)],
        prices=[PriceTag(sku="nd-h100-v5", usd_per_vm_hour=98.32, label="payg eastus", date="2026-09-16", status="estimate")],
        unavailable={"latency": "no recommendation"},
    )


def test_round_trip():
    ch = _charts()
    d = json.loads(json.dumps(ch.to_json()))
    assert Charts.from_json(d, "p") == ch


@pytest.mark.parametrize("mutate,field", [
    (lambda d: d["memory"][0].update(parts_gib="x"), "charts.memory[0].parts_gib"),
    (lambda d: d["memory"][0]["parts_gib"].update(weights=-1), "charts.memory[0].parts_gib.weights"),
    (lambda d: d["kv"][0].update(max_seqs=[1, "2"]), "charts.kv[0].max_seqs[1]"),
    (lambda d: d["kv"][0].pop("sku"), "charts.kv[0].sku"),
    (lambda d: d.update(unavailable=["a"]), "charts.unavailable"),
    (lambda d: d["prices"][0].update(status="verified!"), "charts.prices[0].status"),
    (lambda d: d["prices"][0].update(usd_per_vm_hour=1e300), "charts.prices[0].usd_per_vm_hour"),
    (lambda d: d["prices"][0].update(label="a\x1b]0;title\x07"), "charts.prices[0].label"),
    (lambda d: d.update(model_max_context_tokens=1.5), "charts.model_max_context_tokens"),
    (lambda d: d.update(latency=[]), "charts.latency"),
    (lambda d: d.update(build_or_buy={"provider": 1}), "charts.build_or_buy.provider"),
])
def test_a_malformed_field_is_named(mutate, field):
    d = json.loads(json.dumps(_charts().to_json()))
    mutate(d)
    with pytest.raises(ConfigError) as e:
        Charts.from_json(d, "p")
    assert e.value.field == field


def test_null_takes_the_default_of_a_field_that_has_one():
    d = json.loads(json.dumps(_charts().to_json()))
    d["throughput"] = None
    assert Charts.from_json(d, "p").throughput == []


def test_non_finite_numbers_are_written_as_null_and_refused_when_read():
    ch = _charts()
    ch.kv[0].kv_budget_gib = math.inf
    d = encode(ch)
    assert d["kv"][0]["kv_budget_gib"] is None
    with pytest.raises(ConfigError, match="kv_budget_gib"):
        decode(Charts, d, "p", "charts")
