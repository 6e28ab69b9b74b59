"""`moeprof compare`: the blended $/M tokens, the break-even VM price and the self-hosting volume
per SKU, in text, --json and --csv; and `plan`'s per-token line leading with the blended figure."""

import csv
import io
import json

import pytest


@pytest.fixture
def compared(plans):
    from moeprof.cli.compare_cmd import compare_rows

    # TTFT <= 2000 ms: a target every SKU's TTFT band high edge can meet (MI300X: +557 %), so each SKU has a row
    doc = plans("maverick", quants=("bf16", "fp8", "fp8-experts"), ttft_ms=2000.0)
    return doc, compare_rows(doc)


def test_rows_carry_blended_cost_break_even_and_volume(compared):
    doc, rows = compared
    rec = doc.recommended
    others = {s.sku: s.row for s in doc.per_sku if s.row is not None and s.sku != rec.sku}
    tin, tout = doc.inputs.input_tokens, doc.inputs.output_tokens
    for r in rows:
        assert r["usd_per_million_tokens"] == pytest.approx(r["usd_per_hour"] / (doc.inputs.qps * (tin + tout) * 3600) * 1e6)
        assert r["price_usd_per_vm_hour"] == pytest.approx(r["usd_per_hour"] / r["vms"])
        if r["sku"] == rec.sku:  # stays the pick below: the cheapest other SKU's $/h over its own VMs
            assert r["is_pick"] and r["break_even_usd_per_vm_hour"] == pytest.approx(
                min(o.usd_per_hour for o in others.values()) / rec.vms)
        else:  # becomes the pick below: the pick's $/h over its own VMs
            assert not r["is_pick"] and r["break_even_usd_per_vm_hour"] == pytest.approx(rec.usd_per_hour / r["vms"])
        # $0.25 in / $1.00 out at 2,048 + 512 tokens: $0.40/M blended; the self-hosted side is VMs + overhead (defaults)
        over = next(x.overhead_usd_per_month for x in doc.charts.build_or_buy.skus if x.sku == r["sku"])
        assert over > 0
        assert r["self_hosting_cheaper_above_tokens_per_month"] == pytest.approx((r["usd_per_month"] + over) / 0.40 * 1e6)
        assert r["self_hosting_cheaper_above_req_per_s"] == pytest.approx(
            r["self_hosting_cheaper_above_tokens_per_month"] / ((tin + tout) * 3600 * 730))


@pytest.mark.slow  # a full compare of its own
def test_compare_text_json_and_csv(cli_once):
    cli = cli_once
    out = cli("compare", "--model", "maverick", "--ttft-ms", "2000", check_rc=0).stdout
    head = next(line for line in out.splitlines() if line.startswith("sku "))
    assert "$/M tok blended" in head and "$/M out" not in head
    assert "break-even $/VM-h" in head and "self-host above" in head
    assert "stays pick <" in out and "becomes pick <" in out and "B tok/mo" in out
    assert "$0.400/M blended; read 2026-08-11" in out
    j = json.loads(cli("compare", "--model", "maverick", "--ttft-ms", "2000", "--json", check_rc=0).stdout)
    assert j["serverless_price"]["usd_per_million_output_tokens"] == 1.0 and "skus" not in j["serverless_price"]
    by = {r["sku"]: r for r in j["rows"]}
    rows = list(csv.DictReader(io.StringIO(cli("compare", "--model", "maverick", "--ttft-ms", "2000", "--csv", check_rc=0).stdout)))
    cols = ("usd_per_million_tokens", "price_usd_per_vm_hour", "break_even_usd_per_vm_hour",
            "self_hosting_cheaper_above_tokens_per_month", "self_hosting_cheaper_above_req_per_s")
    assert len(rows) == len(by)
    for r in rows:
        for c in cols:  # plain numbers, the JSON's values
            assert float(r[c]) == pytest.approx(by[r["sku"]][c], rel=1e-11)  # 12 significant digits in CSV
        assert r["is_pick"] in ("true", "false")
    picks = [r["sku"] for r in rows if r["is_pick"] == "true"]
    assert len(picks) == 1
    be = float(next(r for r in rows if r["is_pick"] == "true")["break_even_usd_per_vm_hour"])
    assert f"stays pick < {be:,.2f}" in out


def test_plan_per_token_line_leads_with_blended(cli_once):
    cli = cli_once
    d = json.loads(cli("plan", "--model", "maverick", "--json", check_rc=0).stdout)
    out = cli("plan", "--model", "maverick", check_rc=0).stdout
    line = next(x for x in out.splitlines() if x.startswith("  per token"))
    assert line.startswith(f"  per token   ${d['recommended']['usd_per_million_tokens']:.3f}/M tokens blended")
    assert line.index("blended") < line.index("/M input") and "a convention" in line


def test_token_price_overrides_the_serverless_price(cli, cli_once):
    d = json.loads(cli_once("plan", "--model", "maverick", "--sku", "nd-h200-v5", "--token-price", "0.5,2", "--json",
                       check_rc=0).stdout)
    b = d["charts"]["build_or_buy"]
    assert (b["usd_per_million_input_tokens"], b["usd_per_million_output_tokens"], b["date"]) == (0.5, 2.0, "user")
    # (2,048 x 0.5 + 512 x 2) / 2,560 = $0.80/M blended: the volume halves against the $0.40/M list price
    assert b["blended_usd_per_million_tokens"] == pytest.approx(0.80)
    # the self-hosted side carries its overheads (--overhead defaults)
    over = b["skus"][0]["overhead_usd_per_month"]
    assert over > 0 and b["skus"][0]["break_even_tokens_per_month"] == pytest.approx((d["recommended"]["usd_per_month"] + over) / 0.80 * 1e6)
    out = cli_once("plan", "--model", "maverick", "--sku", "nd-h200-v5", "--token-price", "0.5,2", check_rc=0).stdout
    assert "$0.5 in / $2 out per M tokens, given with --token-price" in out
    bad = cli("compare", "--model", "maverick", "--token-price", "0.5", check_rc=1)
    assert bad.stderr.count("\n") == 1 and "--token-price" in bad.stderr and "Traceback" not in bad.stderr
