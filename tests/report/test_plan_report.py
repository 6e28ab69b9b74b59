import copy
import json
import re

import numpy as np
import pytest

from moeprof.errors import ConfigError
from moeprof.planner import PlanDocument
from moeprof.report import plan_data as D
from moeprof.report import plan_report_html, write_plan_report
from moeprof.report.html import esc

HOSTILE = "<script>alert(1)</script>"

SECTIONS = ("summary", "procurement", "breakeven", "buildbuy", "throughput", "pareto", "memory", "kv", "latency", "rejected", "sources")


def hostile_plan(doc: dict) -> dict:
    """The same plan with the model and one SKU renamed to markup (as a --vm-file or config path could)."""
    d = json.loads(json.dumps(doc).replace("nd-h100-v5", HOSTILE))
    d["inputs"]["model"] = HOSTILE
    d["warnings"].append(HOSTILE)
    return d


def test_all_sections_and_figures(plan_html):
    text = plan_html
    for s in SECTIONS:
        assert f'<section id="{s}">' in text
    assert text.count('class="moeprof-plot"') == 6  # breakeven, throughput, pareto, memory, kv, latency
    for s in ("breakeven", "buildbuy", "throughput", "pareto", "memory", "kv", "latency"):  # every chart of the plan is drawn
        section = text.split(f'<section id="{s}">', 1)[1].split("</section>", 1)[0]
        assert 'class="na"' not in section
    # units in axis titles, sources beside figures
    for label in ("TTFT at target QPS", "memory per GPU (GiB)", "context length (tokens", "output tokens/s",
                  "tokens/s per user (1000 / TPOT)", "output tokens/s per GPU", "$ per million tokens (blended)"):
        assert label in text
    assert text.count("<figcaption>") == 6 and text.count("<b>Source</b>") >= 5
    assert text.count("Calibration / error band") == 5
    # procurement table: one row per SKU, cheapest first
    for h in ("VMs", "GPUs", "$/month", "$/M tokens (blended)", "headroom", "TTFT p99 (ms)", "TPOT (ms)", "price ($/VM-h)",
              "price status"):
        assert f"<th>{esc(h)}</th>" in text
    proc = text.split('<section id="procurement">', 1)[1].split("</section>", 1)[0]
    skus = re.findall(r'<span class="swatch"[^>]*></span>([^<]+)', proc)
    assert sorted(s.strip() for s in skus) == ["nd-h100-v5", "nd-h200-v5", "nd-mi300x-v5"]


def test_pareto_uses_feasible_rows_or_falls_back(plan_doc):
    assert len(D.candidate_rows(PlanDocument.from_json(plan_doc))) == len(plan_doc["feasible"])
    d = copy.deepcopy(plan_doc)
    d["feasible"] = []
    assert len(D.candidate_rows(PlanDocument.from_json(d))) == 1 + len(d["alternatives"])
    assert plan_report_html(d).count('class="moeprof-plot"') == 6


def test_pareto_front():
    xs, ys = [1, 2, 3, 4, 2.5], [10, 8, 9, 3, 8]
    assert D.pareto_front(xs, ys) == [0, 1, 3]


def test_memory_bars_stack_to_gpu_capacity(plan_obj):
    bars = plan_obj.charts.memory
    assert plan_obj.charts.engine["name"] == "vllm" and bars
    assert bars[0].row_key == list(plan_obj.recommended.key())
    rows = {tuple(r.key()): r for r in [plan_obj.recommended, *plan_obj.alternatives, *plan_obj.feasible]}
    for b in bars:
        assert sum(b.parts_gib.values()) == pytest.approx(b.capacity_gib, rel=1e-9)
        planned = rows[tuple(b.row_key)]
        # the KV part is the plan's own KV budget for that row: the chart cannot disagree with the plan
        assert b.parts_gib["KV cache"] * 2**30 == pytest.approx(planned.kv_budget_bytes_per_gpu, rel=1e-9)


def test_kv_curves_reach_model_maximum(plan_obj):
    curves, model_max = plan_obj.charts.kv, plan_obj.charts.model_max_context_tokens
    assert model_max == 1048576
    assert {c.sku for c in curves} == {s.sku for s in plan_obj.per_sku if s.row is not None}
    for c in curves:
        ctx, seqs = np.asarray(c.context_tokens), np.asarray(c.max_seqs)
        assert ctx[-1] == model_max and 131072 in ctx
        fits = ctx[seqs >= 1]
        assert fits[-1] <= c.max_context_tokens
        assert (seqs[:-1] >= seqs[1:]).all()  # longer sequences, fewer of them


def test_latency_sweep_rises_with_load(plan_obj):
    s = plan_obj.charts.latency
    b, tpot = np.asarray(s.running_batch), np.asarray(s.tpot_ms)
    assert (b[1:] >= b[:-1] - 1e-9).all()
    assert tpot[-1] > tpot[0] > 0
    assert b.max() <= plan_obj.recommended.max_batch + 1e-9
    # the sweep passes through the plan's own operating point: at the target QPS the TPOT matches
    q = np.asarray(s.qps)
    assert np.interp(plan_obj.inputs.qps, q, tpot) == pytest.approx(plan_obj.recommended.tpot_ms, rel=0.02)


def test_old_plan_files_are_refused_with_their_version(plan_doc):
    old = {k: v for k, v in plan_doc.items() if k not in ("schema", "schema_version")}
    with pytest.raises(ConfigError) as e:
        PlanDocument.from_json(old, "OLD.json")
    assert "schema version 1" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(ConfigError) as e:
        PlanDocument.from_json(dict(plan_doc, schema_version=7), "NEW.json")
    assert "schema version 7" in str(e.value)


def test_json_round_trip(plan_obj):
    doc = plan_obj.to_json()
    assert PlanDocument.from_json(json.loads(json.dumps(doc))).to_json() == json.loads(json.dumps(doc))


def test_no_recommendation_says_so(plan_doc):
    d = copy.deepcopy(plan_doc)
    d["closest"] = [dict(d["recommended"], misses=["TTFT 900 ms > 450 ms"])]
    d["closest"][0].pop("sources")
    d["recommended"], d["alternatives"], d["feasible"] = None, [], []
    d["charts"]["latency"] = None
    text = plan_report_html(d)
    assert "No configuration meets the targets" in text and "TTFT 900 ms &gt; 450 ms" in text
    assert text.count('class="na"') >= 2  # pareto and latency say "not available"


def test_hostile_strings_are_escaped(plan_doc):
    text = plan_report_html(hostile_plan(plan_doc))
    assert HOSTILE not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    # inside the figure JSON the markup is entity-escaped for plotly and \u003c-escaped for <script>
    assert re.search(r"\\u0026lt;script\\u0026gt;alert\(1\)", text)


@pytest.mark.slow  # a plan report with its validation
def test_validation_section(plan_doc):
    v = {"source": "moeprof validate on h100 (2026-01-02)", "rows": [
        {"case": "decode b=64", "predicted_step_ms": 11.0, "measured_step_ms": 12.0},
        {"case": "prefill 2048", "predicted_step_ms": 95.0, "measured_step_ms": 90.0, "predicted_j": 3.0, "measured_j": 2.5},
        {"case": "bad", "predicted_step_ms": None, "measured_step_ms": 1.0},
    ]}
    text = plan_report_html(plan_doc, v)
    assert '<section id="validation">' in text and text.count('class="moeprof-plot"') == 7
    pts = D.validation_points(v)
    assert {p.quantity: len(p.measured) for p in pts} == {"step_ms": 2, "j": 1}
    assert "moeprof validate on h100 (2026-01-02)" in text
    # the band comes from the timed points only: 90th percentile of |error| (8.3 %, 5.6 %) = 8 %
    assert text.count("+-8 % (90th percentile") >= 3 and "error band +-8 %" in text
    assert "not quantified" not in text


def test_validate_json_format(plan_doc):
    """`moeprof validate --json` rows: predicted, measured, quantity, probe, case."""
    v = {"profile": "profiles/h100.json", "gpu": "h100-sxm-80gb", "calibration": "none", "note": "datasheet only",
         "rows": [
             {"probe": "gemm", "case": "bf16 m=16", "quantity": "ms", "predicted": 0.012, "measured": 0.010, "error_pct": 20.0},
             {"probe": "gemm", "case": "bf16 m=4096", "quantity": "ms", "predicted": 1.0, "measured": 1.1, "error_pct": -9.1},
             {"probe": "kv_cache", "case": "L=8192", "quantity": "bytes", "predicted": 2.0e9, "measured": 1.0e9},
         ]}
    pts = D.validation_points(v)
    assert [(p.quantity, p.unit, len(p.measured)) for p in pts] == [("gemm (ms)", "ms", 2), ("kv_cache (bytes)", "bytes", 1)]
    assert D.error_band_pct(pts) == (pytest.approx(20.0), 2)  # memory rows do not widen the latency band
    text = plan_report_html(plan_doc, v)
    assert "+-20 % (90th percentile" in text and "datasheet only" in text and "calibration: none" in text


def test_without_validation_the_band_is_the_plans_own(plan_doc, plan_html):
    text = plan_html
    assert "not quantified" not in text
    gpu = plan_doc["recommended"]["gpu"]
    tpot = plan_doc["sources"]["error_band"][gpu]["metrics"]["tpot_ms"]
    assert text.count(f"TPOT {100 * tpot['lo']:+.0f} / {100 * tpot['hi']:+.0f} %") >= 3  # summary, pareto, latency
    rec = plan_doc["recommended"]
    assert f"{rec['qps_capacity']:,.2f} req/s ({rec['qps_capacity_low']:,.2f}-{rec['qps_capacity_high']:,.2f})" in text


def test_a_plan_without_bands_says_not_quantified(plan_doc):
    d = copy.deepcopy(plan_doc)
    del d["sources"]["error_band"]
    text = plan_report_html(d)
    assert text.count("not quantified: no `moeprof validate` comparison") == 4  # summary, throughput, pareto, latency


def test_without_validation_no_section_but_how_to_add_one(plan_doc):
    d = copy.deepcopy(plan_doc)
    d["sources"]["nd-h100-v5"]["performance"] = "measured profile h100.json (2026-01-02)"
    text = plan_report_html(d)
    assert '<section id="validation">' not in text
    assert "moeprof report PLAN.json --validation FILE" in text


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda d: d.pop("inputs"), "inputs"),
        (lambda d: d["rejected"][0].pop("kind"), "rejected[0].kind"),
        (lambda d: d["inputs"].update(qps="ten"), "inputs.qps"),
        (lambda d: d["recommended"].update(tp=0), "recommended.tp"),
        (lambda d: d["recommended"].pop("sku"), "recommended.sku"),
        (lambda d: d["alternatives"][1].update(usd_per_month="cheap"), "alternatives[1].usd_per_month"),
        (lambda d: d["feasible"].__setitem__(2, 7), "feasible[2]"),
        (lambda d: d.update(rejected=[{"sku": "x"}]), "rejected[0].tp"),  # the first missing field
        (lambda d: d.pop("recommended"), "recommended"),
    ],
)
def test_malformed_plan_names_the_field(plan_doc, edit, field):
    d = copy.deepcopy(plan_doc)
    edit(d)
    with pytest.raises(ConfigError) as e:
        PlanDocument.from_json(d, "PLAN.json")
    assert e.value.field == field and str(e.value).startswith("PLAN.json: field")
    assert "\n" not in str(e.value)


def test_write_plan_report(tmp_path, plan_doc):
    p = tmp_path / "r.html"
    write_plan_report(plan_doc, p)
    assert p.read_text().startswith("<!DOCTYPE html>")
    assert [x.name for x in tmp_path.iterdir()] == ["r.html"]


def test_recommendation_notes_show_in_the_summary(plan_doc):
    d = copy.deepcopy(plan_doc)
    d["recommended"]["notes"] = ["no released int4-experts checkpoint of maverick <b>"]
    text = plan_report_html(d)
    summary = text.split('<section id="summary">', 1)[1].split("</section>", 1)[0]
    assert "no released int4-experts checkpoint of maverick &lt;b&gt;" in summary
