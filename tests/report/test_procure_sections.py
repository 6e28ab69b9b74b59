"""The report's break-even / price-sensitivity and build-or-buy sections, from the document only."""

import copy
import json
import re

from moeprof.planner import PlanDocument
from moeprof.report import plan_report_html


def _section(text: str, anchor: str) -> str:
    return text.split(f'<section id="{anchor}">', 1)[1].split("</section>", 1)[0]


def _figure(sec: str) -> dict:
    m = re.search(r'<script type="application/json" id="fig\d+-data">(.*?)</script>', sec, re.S)
    return json.loads(m.group(1))


def test_break_even_section_shows_prices_status_and_crossings(plan_doc, plan_html):
    doc = PlanDocument.from_json(plan_doc)
    sec = _section(plan_html, "breakeven")
    tags = {p.sku: p for p in doc.charts.prices}
    for s in doc.charts.price_sensitivity:
        verb = "stays" if s.is_pick else "becomes"
        assert f"{s.sku} {verb} the pick below ${s.break_even_usd_per_vm_hour:,.2f}/h" in sec
        assert f'<span class="status {tags[s.sku].status}"' in sec and tags[s.sku].label in sec
    fig = _figure(sec)
    diamonds = [t for t in fig["data"] if t.get("marker", {}).get("symbol") == "diamond" and t["x"] != [None]]
    assert sorted(round(t["x"][0], 6) for t in diamonds) == sorted(
        round(s.break_even_usd_per_vm_hour, 6) for s in doc.charts.price_sensitivity)
    # one colour per SKU, the report's palette: each SKU's line is in its colour
    from moeprof.report import figures as F

    colors = F.sku_colors(s.sku for s in doc.per_sku)
    for s in doc.charts.price_sensitivity:
        (line,) = [t for t in fig["data"] if t.get("name", "").startswith(f"{s.sku}: $/month")]
        assert line["line"]["color"] == colors[s.sku]


def test_an_estimated_price_is_flagged(plan_doc):
    d = copy.deepcopy(plan_doc)
    d["charts"]["prices"][0]["status"] = "estimate"
    sku = d["charts"]["prices"][0]["sku"]
    sec = _section(plan_report_html(d), "breakeven")
    assert '<span class="status estimate"' in sec and f"<b>Prices to check</b>: {sku}" in sec


def test_build_or_buy_section(plan_doc, plan_html):
    doc = PlanDocument.from_json(plan_doc)
    b = doc.charts.build_or_buy
    sec = _section(plan_html, "buildbuy")
    assert b.model in sec and "read 2026-08-11" in sec and "$0.400 per million tokens blended" in sec
    assert f"{b.plan_tokens_per_month / 1e9:,.1f} B tokens a month" in sec
    for s in b.skus:
        assert f">{s.break_even_tokens_per_month / 1e9:,.1f}</td>" in sec and f">{s.break_even_qps:,.1f}</td>" in sec
        assert f"{s.capacity_tokens_per_month / 1e9:,.1f} ({s.capacity_qps:,.1f} req/s)" in sec


def test_sections_say_why_when_there_is_no_data(plan_doc):
    d = copy.deepcopy(plan_doc)
    d["charts"]["build_or_buy"] = None
    d["charts"]["price_sensitivity"] = []
    text = plan_report_html(d)
    assert "No serverless per-token price of" in _section(text, "buildbuy") and "--token-price" in _section(text, "buildbuy")
    assert "price break-even and sensitivity: not available" in _section(text, "breakeven")
