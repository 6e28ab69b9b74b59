"""Report pages of `evaluate`, `compare` and `validate` JSON (`moeprof report FILE`): each draws
what a reader of that output looks at, from the numbers the file holds (no model is run)."""

from __future__ import annotations

from .html import Page, esc, table
from .plan_data import ReportDataError, validation_points
from .result_figures import evaluate_curve_figure
from .result_kinds import evaluate_rows, load_of


def _n(v, spec: str = ",.1f") -> str:
    return "-" if v is None else format(v, spec)


def build_evaluate_page(doc: dict) -> Page:
    rows = evaluate_rows(doc)
    label = (f"{doc.get('model')} on {doc.get('gpus')} x {doc.get('gpu')}, TP {doc.get('tp')} EP {doc.get('ep')} "
             f"PP {doc.get('pp')}, {doc.get('quant')} / KV {doc.get('kv_dtype')}")
    page = Page(title=f"moeprof evaluate: {doc.get('model')}",
                subtitle=f"{label}; {doc.get('engine')}; {doc.get('input_tokens')} in + {doc.get('output_tokens')} out tokens")
    band = doc.get("error_band") or {}
    cap = (f"{esc(label)}: one point per load value. Solid: total (input + output) tokens/s per GPU, as InferenceX "
           "plots it; dashed: output tokens/s per GPU; bars: the error band "
           f"({esc(band.get('source', 'none stated'))}). Rates: {esc(doc.get('calibration', ''))}.")
    page.add("curve", "Throughput per GPU vs tokens/s per user", page.figure(evaluate_curve_figure(rows, label), cap))
    tail = f"p{doc.get('percentile', 99):g}".replace(".", "")
    body = []
    for r in rows:
        name, value = load_of(r)
        body.append([f"{name} {value:g}", _n(r.get("request_throughput"), ".3f"), _n(r.get("total_token_throughput_per_gpu"), ",.0f"),
                     _n(r.get("output_throughput_per_gpu"), ",.0f"), _n(r.get("tokens_per_s_per_user")),
                     _n(r.get("median_ttft_ms"), ",.0f"), _n(r.get(f"{tail}_ttft_ms"), ",.0f"), _n(r.get("median_tpot_ms"), ",.2f"),
                     _n(r.get("running_batch")), "yes" if r.get("stable", True) else "saturated"])
    page.add("rows", "Figures per load value", table(
        ["load", "req/s", "total tok/s/GPU", "output tok/s/GPU", "tok/s/user", "TTFT p50 ms", f"TTFT {tail} ms", "TPOT ms",
         "running batch", "stable"], body, set(range(1, 9))))
    return page


def build_compare_page(doc: dict) -> Page:
    from .result_figures import compare_bars_figure

    inp = doc.get("inputs") or {}
    rows = doc.get("rows") or []
    page = Page(title=f"moeprof compare: {inp.get('model', '')}",
                subtitle=f"{inp.get('qps')} req/s of {inp.get('input_tokens')} in + {inp.get('output_tokens')} out tokens; "
                         f"targets TTFT <= {inp.get('ttft_ms')} ms, TPOT <= {inp.get('tpot_ms')} ms")
    cap = ("Each SKU's best configuration at the same targets, in its colour; the pick outlined black. Error bars: "
           "the calibration's error band (10th-90th percentile of its residuals on published runs); $/M tokens has none "
           "of its own (it follows capacity).")
    page.add("bars", "The best configuration of each SKU", page.figure(compare_bars_figure(rows), cap))
    body = [[r["sku"], r.get("reason") or f"{r.get('vms')} VM, tp{r.get('tp')} ep{r.get('ep')} pp{r.get('pp')} x"
             f"{r.get('replicas')}, {r.get('quant')}/{r.get('kv_dtype')}", _n(r.get("usd_per_month"), ",.0f"),
             _n(r.get("usd_per_million_tokens"), ".3f"), _n(r.get("qps_capacity")), "pick" if r.get("is_pick") else ""]
            for r in rows]
    page.add("table", "Procurement table", table(["sku", "configuration", "$/month", "$/M tokens", "capacity req/s", ""],
                                                 body, {2, 3, 4}))
    return page


def build_validation_page(doc: dict, label: str) -> Page:
    from .figures import validation_figure

    try:
        points = validation_points(doc)
    except ReportDataError as e:
        raise ReportDataError(f"{label}: {e}") from None
    page = Page(title="moeprof validate: predicted vs measured", subtitle=str(doc.get("profile") or label))
    cap = ("Each point a probe row or benchmark figure: measured (x) against predicted (y), log-log; on the line the "
           "prediction is exact, dotted +-20 %.")
    page.add("scatter", "Predicted vs measured", page.figure(validation_figure(points), cap))
    rows = []
    for p in points:
        err = sorted(abs(a - b) / b * 100.0 for a, b in zip(p.predicted, p.measured))
        rows.append([p.quantity, len(err), f"{err[len(err) // 2]:.1f}", f"{err[-1]:.1f}"])
    page.add("summary", "Error by quantity", table(["quantity", "cases", "median |error| (%)", "max |error| (%)"], rows, {1, 2, 3}))
    return page
