"""Build or buy: the token volume where self-hosting meets the per-token price, worked by hand."""

import json

import pytest

from moeprof.catalog.hardware.serverless import azure_serverless_price
from moeprof.planner.analyses.build_or_buy import blended_usd_per_million, break_even_tokens_per_month, build_or_buy, qps_of_tokens_per_month, tokens_per_month
from moeprof.planner.document.plan import BuildOrBuy
from moeprof.planner.document.rows import SkuBest

from .test_breakeven import _row


def test_arithmetic_by_hand():
    # 2,048 in at $0.25/M + 512 out at $1.00/M: (512 + 512) / 2,560 = $0.40/M blended
    assert blended_usd_per_million(2048, 512, 0.25, 1.0) == pytest.approx(0.40)
    # $35,040 a month / $0.40 per M = 87,600 M tokens
    assert break_even_tokens_per_month(35040, 2048, 512, 0.25, 1.0) == pytest.approx(87.6e9)
    # 10 req/s x 2,560 tokens x 3,600 s x 730 h
    assert tokens_per_month(10, 2048, 512) == pytest.approx(67.2768e9)


def test_azure_price_of_a_model():
    p = azure_serverless_price("meta-llama/Llama-4-Maverick-17B-128E-Instruct")
    assert (p.usd_per_million_input, p.usd_per_million_output, p.tier) == (0.25, 1.0, "Global Standard")
    assert azure_serverless_price("meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8") == p
    # the known-wrong secondary row ($1.41 / $0.35) is never chosen, even alone
    rows = [{"provider": "Azure AI Foundry (via LiteLLM map) — KNOWN WRONG", "model": "Llama-4-Maverick-17B-128E-Instruct-FP8",
             "input_usd_per_million_tokens": 1.41, "output_usd_per_million_tokens": 0.35, "date": "d", "source": "s"}]
    assert azure_serverless_price("meta-llama/Llama-4-Maverick-17B-128E-Instruct", rows) is None
    assert azure_serverless_price("mistralai/Mixtral-8x7B-v0.1") is None
    assert azure_serverless_price(None) is None


def test_plan_prints_build_or_buy(cli_once):
    out = cli_once("plan", "--model", "maverick", "--sku", "nd-mi300x-v5", "--ttft-ms", "2000", "--overhead", "0",
                   check_rc=0).stdout
    # 2 VMs: one VM (capacity 10.3 req/s) has 5.7 req/s at the error band's pessimistic edge, below 10
    # 175.2e9 tokens / (2,560 tokens x 3,600 s x 730 h) = 26.0 req/s
    assert ("build/buy   self-hosting (VMs + $0/month overhead) is cheaper above 175.2 B tokens/month (26.0 req/s) than "
            "Azure AI Foundry Global Standard") in out
    assert "this plan serves 67.3 B" in out


def test_per_sku_volumes_by_hand_and_round_trip():
    p = azure_serverless_price("meta-llama/Llama-4-Maverick-17B-128E-Instruct")  # $0.25 in / $1.00 out
    a, b = _row("a", 1, 48.0), _row("b", 2, 96.0)  # $35,040 and $70,080 a month
    a.qps_capacity, b.qps_capacity = 5.0, None
    bb = build_or_buy(p, [SkuBest("a", a), SkuBest("b", b), SkuBest("c", None, "memory")], 10, 2048, 512)
    assert bb.blended_usd_per_million_tokens == pytest.approx(0.40)
    assert bb.plan_tokens_per_month == pytest.approx(67.2768e9)
    assert [s.sku for s in bb.skus] == ["a", "b"]
    assert bb.skus[0].break_even_tokens_per_month == pytest.approx(87.6e9)
    assert bb.skus[1].break_even_tokens_per_month == pytest.approx(175.2e9)
    # 87.6e9 / (2,560 x 3,600 x 730) = 13.02 req/s; capacity 5 req/s = 33.6 B tokens
    assert bb.skus[0].break_even_qps == pytest.approx(87.6e9 / (2560 * 3600 * 730))
    assert qps_of_tokens_per_month(tokens_per_month(7.5, 2048, 512), 2048, 512) == pytest.approx(7.5)
    assert bb.skus[0].capacity_tokens_per_month == pytest.approx(33.6384e9)
    assert bb.skus[1].capacity_tokens_per_month is None
    assert (bb.date, bb.tier) == ("2026-08-11", "Global Standard") and "azure-genai-prices" in bb.source
    assert BuildOrBuy.from_json(json.loads(json.dumps(bb.to_json())), "p") == bb
    with pytest.raises(Exception, match="break_even_qps"):
        d = bb.to_json()
        d["skus"][0]["break_even_qps"] = -1
        BuildOrBuy.from_json(d, "p")
    assert build_or_buy(None, [SkuBest("a", a)], 10, 2048, 512) is None
