"""The procurement table, its CSV, the short price captions and the one SKU palette (no browser)."""

import copy
import csv
import io
import json
import re
from urllib.parse import unquote

import pytest

from moeprof.planner import PlanDocument
from moeprof.report import figures as F
from moeprof.report import plan_report_html
from moeprof.report.procurement import csv_link, procurement_csv, procurement_rows


@pytest.fixture
def doc(plan_doc):
    return PlanDocument.from_json(plan_doc)


def test_rows_cheapest_first_with_headroom_and_price_status(doc):
    rows = procurement_rows(doc)
    assert [r["sku"] for r in rows] == [s for s, _ in sorted(((s.sku, s.row.usd_per_month) for s in doc.per_sku if s.row),
                                                             key=lambda t: t[1])]
    best = {s.sku: s.row for s in doc.per_sku if s.row}
    for r in rows:
        b = best[r["sku"]]
        assert r["headroom_fraction"] == pytest.approx(b.qps_capacity_low / doc.inputs.qps - 1) and r["headroom_fraction"] >= 0
        assert (r["vms"], r["gpus"], r["ttft_p99_ms"], r["tpot_ms"]) == (b.vms, b.gpus, b.ttft_ms, b.tpot_ms)
        assert r["price_status"] == "reported" and r["price_date"] in r["price_label"]
        assert r["price_source"] == doc.sources[r["sku"]]["price"]
    assert [r["recommended"] for r in rows].count(True) == 1


def test_a_sku_with_no_feasible_row_comes_last(plan_doc):
    d = copy.deepcopy(plan_doc)
    d["per_sku"][0]["row"], d["per_sku"][0]["reason"] = None, "memory: does not fit"
    rows = procurement_rows(PlanDocument.from_json(d))
    assert rows[-1]["sku"] == d["per_sku"][0]["sku"] and rows[-1]["usd_per_month"] is None
    assert rows[-1]["configuration"] == "memory: does not fit"


def test_csv_columns_carry_units_and_the_link_decodes(doc):
    text = procurement_csv(procurement_rows(doc))
    head = next(csv.reader(io.StringIO(text)))
    assert head[:9] == ["sku", "vm_count", "gpu_count", "configuration", "usd_per_month", "usd_per_million_tokens",
                        "headroom_fraction", "ttft_p99_ms", "tpot_ms"]
    assert {"price_usd_per_vm_hour", "price_date", "price_status", "usd_per_hour", "joules_per_token"} <= set(head)
    href = re.search(r'href="data:text/csv;charset=utf-8,([^"]+)"', csv_link(text)).group(1)
    assert unquote(href) == text and "," not in href and "\n" not in href


def test_price_captions_are_short_with_the_source_on_hover(doc, plan_doc, plan_html):
    text = plan_html
    full = doc.sources["nd-h100-v5"]["price"]
    cap = text.split('<section id="pareto">', 1)[1].split("</figcaption>", 1)[0].split("<b>Prices</b>", 1)[1]
    visible = re.sub(r"<[^>]+>", "", cap)  # tags (and the title attributes in them) removed
    assert len(visible) < 300 and full not in visible
    tag = {p.sku: p for p in doc.charts.prices}["nd-h100-v5"]
    assert f"${tag.usd_per_vm_hour:,.2f}/VM-h, {tag.label}, {tag.status}" in visible
    titles = [t for t in re.findall(r'title="([^"]*)"', cap)]
    assert len(titles) == 3 and all(len(t) > 60 for t in titles)
    # a plan written before price tags still reads: the estimate flag says the status
    d = copy.deepcopy(plan_doc)
    del d["charts"]["prices"]
    old = plan_report_html(d)
    assert "list price" in old.split('<section id="pareto">', 1)[1].split("</figcaption>", 1)[0]


def test_one_palette_keyed_by_sku_in_every_chart(doc, plan_html):
    assert F.sku_colors(["b", "a", "c"]) == F.sku_colors(["a", "c", "b"])
    colors = F.sku_colors([s.sku for s in doc.per_sku])
    text = plan_html
    seen = 0
    for block in re.findall(r'<script type="application/json" id="fig\d+-data">(.*?)</script>', text, re.S):
        for tr in json.loads(block)["data"]:
            name = tr.get("name") or ""
            sku = next((s for s in colors if name == s or name.startswith(s + ":") or name.startswith(s + " ")), None)
            if sku is None:
                continue
            col = (tr.get("line") or {}).get("color") or (tr.get("marker") or {}).get("color")
            assert col == colors[sku], (name, col)
            seen += 1
    assert seen >= 3 * 4  # pareto (2 panels), KV (curves), throughput (2 per SKU)


def test_the_pick_is_a_neutral_marker(plan_html):
    text = plan_html
    picks = [tr for block in re.findall(r'id="fig\d+-data">(.*?)</script>', text, re.S)
             for tr in json.loads(block)["data"] if (tr.get("name") or "").startswith("recommended")]
    assert len(picks) == 3  # pareto (two panels) and throughput
    assert all(t["marker"]["color"] == "#000" and t["marker"]["symbol"] == "circle-open" for t in picks)


def test_log_ticks_are_readable():
    t = F.log_ticks(19.0, 770.0)  # up to three decades: 1-2-5
    assert t["tickvals"] == [20, 50, 100, 200, 500] and t["ticktext"] == ["20", "50", "100", "200", "500"]
    assert F.log_ticks(0.47, 36.0, "$")["ticktext"] == ["$0.5", "$1", "$2", "$5", "$10", "$20"]
    wide = F.log_ticks(3.0, 2e9)  # wider: every decade, in k / M / G
    assert wide["ticktext"] == ["10", "100", "1k", "10k", "100k", "1M", "10M", "100M", "1G"]
