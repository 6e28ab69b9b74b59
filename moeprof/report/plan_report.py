"""The plan report: one HTML page from a PlanDocument; it computes no model, every chart's
numbers come from the document (PlanDocument.charts).

Sections: summary (recommendation, inputs with their sources, warnings), the procurement table
(report.procurement: each SKU's best, cheapest first, with a CSV download), each SKU's break-even
VM price with the price-sensitivity chart and build or buy against the serverless per-token price
(report.procure_sections), throughput per GPU
vs tokens/s per user per SKU with $/M tokens, cost vs latency of every feasible configuration,
memory per GPU of the top configurations, KV cache and max batch vs context per SKU, latency and
throughput vs batch of the recommendation, the traffic plan
(with `plan --traffic`: units per hour and the cost of each way to buy them), rejected configurations by reason, predicted vs
measured (when a validation is given), and the sources of every number. The first section is the
build-or-buy verdict (report.verdict_section). Printed, the page keeps the verdict, the summary,
the procurement table and the throughput chart (two A4 pages, the verdict on the first).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..planner.document.plan import PlanDocument, PlanRow
from . import figures as F
from . import plan_data as D
from .html import Page, esc, not_available, table
from .plan_lists import rejected_section as _rejected
from .plan_lists import sources_section as _sources
from .procure_sections import build_or_buy_section, price_section
from .procurement import price_tags, procurement_html
from .tables import fmt
from .traffic_section import traffic_section
from .verdict_section import verdict_section


@dataclass
class _Band:
    """The calibration error band: from `moeprof validate` points when given, else the plan's own
    band of the recommended GPU (planner.search.bands), else unknown."""

    points: list | None = None
    problem: str = ""
    pct: float | None = None
    n: int = 0
    note: str = ""
    plan_text: str | None = None

    def text(self) -> str:
        if self.pct is not None:
            note = f"; {self.note}" if self.note else ""
            return (f"+-{self.pct:.0f} % (90th percentile of |predicted - measured| over {self.n} `moeprof validate` "
                    f"cases, shaded on the latency chart{note})")
        if self.plan_text:
            return (f"{self.plan_text}; a measured comparison can be added with "
                    "`moeprof report PLAN.json --validation FILE`")
        return ("not quantified: no `moeprof validate` comparison was given for this plan, so the prediction error is "
                "unknown (add one with `moeprof report PLAN.json --validation FILE`)")


def _band(validation, doc: PlanDocument) -> _Band:
    rec = doc.recommended or (doc.closest[0] if doc.closest else None)
    plan_text = D.plan_band_text(doc, rec.gpu) if rec else None
    if validation is None:
        return _Band(plan_text=plan_text)
    try:
        pts = D.validation_points(validation)
    except D.ReportDataError as e:
        return _Band(problem=str(e))
    pct, n = D.error_band_pct(pts)
    note = validation.get("note") if isinstance(validation, dict) else None
    return _Band(pts, "", pct, n, str(note or ""), plan_text)


def build_plan_page(doc: PlanDocument, validation=None) -> Page:
    inp = doc.inputs
    page = Page(
        title=f"moeprof plan: {inp.model}",
        subtitle=(
            f"{inp.qps:g} req/s of {inp.input_tokens:,} input + {inp.output_tokens:,} output tokens, "
            f"context {inp.context_tokens:,} tokens; targets p{inp.percentile:g} TTFT <= {inp.ttft_ms:g} ms, "
            f"TPOT <= {inp.tpot_ms:g} ms"
        ),
        print_sections=("verdict", "summary", "procurement", "throughput"),  # the one-page answer
    )
    band = _band(validation, doc)
    skus = D.skus_of(doc)
    colors = F.sku_colors(skus)
    page.add("verdict", "Build or buy", verdict_section(doc))
    page.add("summary", "Summary", _summary(doc, band))
    page.add("procurement", "Procurement: the best configuration of each VM SKU, cheapest first",
             procurement_html(doc, colors))
    page.add("breakeven", "Price break-even and sensitivity", price_section(page, doc, colors))
    page.add("buildbuy", "Build or buy: self-hosting vs the per-token price", build_or_buy_section(doc, colors))
    page.add("throughput", "Throughput per GPU vs tokens/s per user, and $/M tokens", _throughput(page, doc, colors, band))
    page.add("pareto", "Cost vs latency of feasible configurations", _pareto(page, doc, colors, band))
    page.add("memory", "Memory per GPU of the top configurations", _memory(page, doc))
    page.add("kv", "KV cache and max batch vs context length", _kv(page, doc, colors))
    page.add("latency", "Latency and throughput vs batch (recommended configuration)", _latency(page, doc, band, colors))
    if doc.traffic is not None:
        page.add("traffic", "Traffic over the period: autoscaled vs static vs reserved", traffic_section(page, doc.traffic))
    page.add("rejected", "Rejected configurations", _rejected(doc))
    if validation is not None:
        page.add("validation", "Predicted vs measured", _validation(page, doc, validation, band))
    page.add("sources", "Sources", _sources(doc))
    return page


# ---------------------------------------------------------------------------------------
def _perf_source(doc, sku) -> str:
    s = doc.sources.get(sku)
    return str(s.get("performance", "unknown")) if isinstance(s, dict) else "unknown"


def _measured_skus(doc) -> list[str]:
    return [k for k in D.skus_of(doc) if _perf_source(doc, k).startswith("measured")]


def _latency_caption(doc, rows, skus, band: _Band) -> str:
    """Where the latency numbers come from per SKU (the calibration label of its rows) and the error band."""
    parts = []
    for s in skus:
        labels = list(dict.fromkeys(str(r.calibration) for r in rows if r.sku == s and r.calibration))
        parts.append(f"{esc(s)}: {esc('; '.join(labels) or _perf_source(doc, s))}")
    return (
        "<b>Source</b>: moeprof performance model (per-op roofline x efficiency) and serving model, rates from "
        + "; ".join(parts) + f". <b>Calibration / error band</b>: {esc(band.text())}."
    )


def _price_caption(doc, skus) -> str:
    """Each SKU's price in a few words (where, when, status); the full source in a tooltip and under Sources."""
    tags, parts = price_tags(doc), []
    for s in skus:
        src = doc.sources.get(s)
        full = str(src.get("price", "unknown")) if isinstance(src, dict) else "unknown"
        t = tags.get(s)
        if t is not None:
            short = f"${t.usd_per_vm_hour:,.2f}/VM-h, {t.label}, {t.status}"
        else:  # a plan written before price tags: the status from the estimate flag only
            short = "ESTIMATE" if isinstance(src, dict) and src.get("price_estimate") else "list price"
        parts.append(f'{esc(s)} <span class="src" title="{esc(full)}">{esc(short)}</span>')
    return ("<b>Prices</b>: " + ("; ".join(parts) or "not stated in the plan")
            + ' (full sources: hover, or see <a href="#sources">Sources</a>).')


# ---------------------------------------------------------------------------------------
def _config_sentence(r: PlanRow) -> str:
    return (
        f"<b>{esc(r.vms)} x {esc(r.sku)}</b> ({esc(r.gpus)} x {esc(r.gpu)}): TP {esc(r.tp)}, "
        f"EP {esc(r.ep)}, PP {esc(r.pp)}, {esc(r.replicas)} replica(s), weights {esc(r.quant)}, "
        f"KV cache {esc(r.kv_dtype)}, max batch {esc(r.max_batch)} sequences"
        + (f", <b>{esc(r.wide_ep_label())}</b>" if r.wide_ep_label() else "")
    )


def _range(field: str, lo, hi) -> str:
    """' (lo-hi)' of a figure's error band in its report format, '' where the row has none."""
    return f" ({fmt(field, lo)}-{fmt(field, hi)})" if lo is not None and hi is not None else ""


def _kpi(value: str, what: str) -> str:
    return f'<div class="kpi"><b>{esc(value)}</b><span>{esc(what)}</span></div>'


def _summary(doc: PlanDocument, band: _Band) -> str:
    inp, rec = doc.inputs, doc.recommended
    out = []
    if rec:
        est = " (price is an ESTIMATE)" if rec.price_estimate else ""
        out.append(f'<p class="rec">Recommended: {_config_sentence(rec)}.{esc(est)}</p>')
        ck = rec.checkpoint or f"none published for {rec.quant}: the deployment needs weights of your own"
        out.append(f"<p><b>Checkpoint</b>: {esc(ck)}</p>")
        for n in rec.notes or []:  # e.g. a recipe no released checkpoint ships
            out.append(f'<div class="warn">{esc(n)}</div>')
        if doc.requantize is not None:
            out.append(f'<p class="noprint"><b>Re-quantising</b>: {esc(doc.requantize.text)}</p>')
        if doc.wide_ep_text(rec):
            out.append(f'<div class="warn">The plan depends on {esc(doc.wide_ep_text(rec))}</div>')
        k = [
            (f"${fmt('usd_per_month', rec.usd_per_month)}", "per month (730 h)"),
            (f"${fmt('usd_per_hour', rec.usd_per_hour)}", "per hour"),
            (f"${fmt('usd_per_million_tokens', rec.usd_per_million_tokens)}", "per million tokens (blended)"),
            (f"{fmt('ttft_ms', rec.ttft_ms)} ms{_range('ttft_ms', rec.ttft_low_ms, rec.ttft_high_ms)}",
             f"TTFT p{inp.percentile:g} at {inp.qps:g} req/s"),
            (f"{fmt('tpot_ms', rec.tpot_ms)} ms{_range('tpot_ms', rec.tpot_low_ms, rec.tpot_high_ms)}", "TPOT at the target QPS"),
            (f"{fmt('qps_capacity', rec.qps_capacity)} req/s{_range('qps_capacity', rec.qps_capacity_low, rec.qps_capacity_high)}",
             "capacity within the targets"),
            (fmt("headroom", rec.headroom), f"headroom at the error band's pessimistic edge (required {inp.headroom:.0%})"),
            (f"{rec.vms_low}-{rec.vms_high}" if rec.vms_low is not None else "–", f"VMs for {inp.qps:g} req/s across the error band"),
            (f"{fmt('joules_per_token', rec.joules_per_token)} J", "per output token"),
            (f"{fmt('max_context_tokens', rec.max_context_tokens)}", "max context (tokens)"),
        ]
        out.append('<div class="kpis">' + "".join(_kpi(v, w) for v, w in k) + "</div>")
        if rec.unit_text():
            out.append(f"<p class=\"noprint\"><b>Capacity per replica and per unit</b> (the unit: a VM with every replica that fits on "
                       f"it, or the VMs one replica spans): {esc(rec.unit_text())}.</p>")
        if doc.redundancy is not None:
            out.append(f"<p><b>Failure domains</b>: {esc(doc.redundancy.risk_text())}. "
                       f"{esc(doc.redundancy.next_text())}.</p>")
        out.append(
            f"<p class=\"noprint\"><b>Calibration</b>: {esc(rec.calibration or 'not stated in the plan')}; "
            f"<b>error band</b>: {esc(band.text())}.</p>"
        )
        if doc.ranking_rule:
            out.append(f'<p class="noprint"><b>Ranking</b>: {esc(doc.ranking_rule)}.</p>')
    else:
        out.append('<p class="bad">No configuration meets the targets.</p>')
        if doc.requantize is not None:
            out.append(f"<p><b>Re-quantising</b>: {esc(doc.requantize.text)}</p>")
        if doc.relaxations:  # the least relaxation of each target alone that admits a plan
            out.append("<p>The least relaxation of each target alone that admits a plan:</p><ul>"
                       + "".join(f"<li>{esc(x.text)}</li>" for x in doc.relaxations) + "</ul>")
        out.append("<p>The closest configurations (best of each layout) and what they miss:</p>")
        rows = [[c.label(), "; ".join(c.misses or [])] for c in doc.closest]
        out.append(table(["configuration", "misses"], rows) if rows else "<p>None fits in memory.</p>")
    srcs = doc.sources.get("targets") or {}
    rows = [
        ["model", inp.model, "; ".join(map(str, doc.sources.get("model") or []))],
        ["input tokens per request", f"{inp.input_tokens:,}", srcs.get("input_tokens", "")],
        ["output tokens per request", f"{inp.output_tokens:,}", srcs.get("output_tokens", "")],
        ["context the deployment admits (tokens)", f"{inp.context_tokens:,}", srcs.get("context_tokens", "")],
        ["target QPS (req/s)", f"{inp.qps:g}", srcs.get("qps", "")],
        [f"TTFT target, p{inp.percentile:g} (ms)", f"{inp.ttft_ms:g}", srcs.get("ttft_ms", "")],
        ["TPOT target (ms)", f"{inp.tpot_ms:g}", srcs.get("tpot_ms", "")],
        ["capacity headroom at the error band's pessimistic edge", f"{inp.headroom:.0%}", srcs.get("headroom", "")],
        ["VM SKUs searched", ", ".join(inp.skus or D.skus_of(doc)), ""],
        ["quantization recipes", ", ".join(inp.quants or ["all"]), ""],
        ["KV dtypes", ", ".join(inp.kv_dtypes), ""],
        ["max VMs", inp.max_vms, ""],
        ["routing skew (Zipf exponent)", inp.routing_skew, "0 = uniform expert routing"],
    ]
    out.append('<div class="noprint"><h3>Inputs</h3>' + table(["input", "value", "source"], rows) + "</div>")
    if doc.configs_evaluated:
        out.append(f"<p class=\"noprint\">{esc(f'{doc.configs_evaluated:,}')} configurations evaluated.</p>")
    for w in doc.warnings:
        out.append(f'<div class="warn noprint">{esc(w)}</div>')  # on screen, in the terminal and the JSON
    return "".join(out)


def _throughput(page: Page, doc: PlanDocument, colors, band: _Band) -> str:
    curves = doc.charts.throughput
    if not curves:
        return not_available("throughput per GPU vs tokens/s per user",
                             doc.charts.unavailable.get("throughput", "the plan stores no sweep (run the plan again)"))
    inp, rec = doc.inputs, doc.recommended
    pick = 1000.0 / rec.tpot_ms if rec is not None and rec.tpot_ms else None
    skus = [c.sku for c in curves]
    cap = (
        f"Per SKU, its best configuration with 1, 2, 4, ... concurrent users per replica up to the sequences its KV "
        f"cache holds ({inp.input_tokens:,} input + {inp.output_tokens:,} output tokens each; `moeprof evaluate "
        "--sweep max_concurrency=...`): up and to the right is better. Solid: total (input + output) tokens/s per GPU, "
        "as InferenceX plots it; dashed: output tokens/s per GPU (left axis); dotted: $ per million input + output "
        "tokens at that load (right axis). The black ring is the recommendation on its own curve, at the tokens/s per "
        "user it serves at the target QPS. " + _latency_caption(doc, [r for r in [rec] if r] + list(D.best_per_sku(doc).values()), skus, band)
        + " " + _price_caption(doc, skus)
    )
    fig = F.throughput_figure(curves, colors, pick, inp.percentile, inp.input_tokens, inp.output_tokens)
    return page.figure(fig, cap, printed=True)


def _pareto(page: Page, doc: PlanDocument, colors, band: _Band) -> str:
    rows = D.candidate_rows(doc)
    if not rows:
        return not_available("cost vs latency chart", "no feasible configuration")
    inp = doc.inputs
    skus = list(dict.fromkeys(r.sku for r in rows))
    fig = F.pareto_figure(rows, doc.recommended, inp.ttft_ms, inp.tpot_ms, colors, inp.percentile)
    which = ("the cheapest row of every feasible (SKU, TP, EP, PP, quantization, KV dtype, max batch)" if doc.feasible
             else "the recommendation and its alternatives (the plan lists no other feasible rows)")
    cap = (
        f"{len(rows):,} points: {which}; the black ring is the recommendation, dashed the Pareto front (no point is both "
        f"cheaper and faster). Cost is for enough replicas to serve {inp.qps:g} req/s. "
        + _latency_caption(doc, rows, skus, band) + " " + _price_caption(doc, skus)
    )
    return page.figure(fig, cap)


def _memory(page: Page, doc: PlanDocument) -> str:
    bars, engine = doc.charts.memory, doc.charts.engine
    if not bars:
        return not_available("memory chart", doc.charts.unavailable.get("memory", "no configuration in the plan"))
    skus = list(dict.fromkeys(b.row_key[0] for b in bars))  # row_key starts with the SKU (PlanRow.key)
    gpu_src = []
    for s in skus:
        src = (doc.sources.get(s) or {}).get("gpu") or {}
        if isinstance(src, dict) and src.get("memory_bytes"):
            gpu_src.append(f"{esc(s)}: {esc(src['memory_bytes'])}")
    cap = (
        "Heaviest GPU of one replica (the pipeline stage holding the embeddings or lm_head). "
        f"<b>Source</b>: moeprof memory model: parameters by component from the model config x the quantization "
        f"recipe's bytes per parameter, sharded by TP / EP / PP; engine accounting of {esc(engine.get('name', 'vLLM'))} "
        f"{esc(engine.get('version', ''))} (gpu_memory_utilization {esc(engine.get('gpu_memory_utilization'))}, "
        f"max_num_batched_tokens {esc(engine.get('max_num_batched_tokens'))}, max_num_seqs = the configuration's max batch). "
        f"GPU memory: {'; '.join(gpu_src) or 'datasheet (moeprof hardware)'}. "
        "<b>Calibration / error band</b>: weights and KV are exact arithmetic; the engine's non-torch and CUDA-graph "
        "memory come from published vLLM logs (about +-0.5 GiB per GPU; see Sources)."
    )
    return page.figure(F.memory_figure(bars), cap)


def _kv(page: Page, doc: PlanDocument, colors) -> str:
    curves, model_max = doc.charts.kv, doc.charts.model_max_context_tokens
    if not curves:
        return not_available("KV cache vs context chart", doc.charts.unavailable.get("kv", "no chart data in the plan"))
    target = doc.inputs.context_tokens
    rows = [[c.sku, c.label, f"{c.kv_budget_gib:,.1f}", f"{c.max_context_tokens:,}"] for c in curves]
    cap = (
        ("Per SKU, its best feasible configuration. " if doc.recommended else
         "Nothing met the targets: per SKU, its closest configuration that fits in memory. ")
        + "Left: KV cache one sequence of that length holds on one GPU "
        "(chunked-attention layers keep at most the attention chunk), dotted the KV budget per GPU; right: how many "
        "such sequences fit the budget. <b>Source</b>: moeprof memory model (model config, KV dtype bytes, vLLM "
        "accounting). <b>Calibration / error band</b>: exact arithmetic on the KV budget above."
    )
    return page.figure(F.kv_context_figure(curves, model_max, target, colors), cap) + table(
        ["VM SKU", "configuration", "KV budget per GPU (GiB)", "max context (tokens)"], rows, {2, 3})


def _latency(page: Page, doc: PlanDocument, band: _Band, colors) -> str:
    rec, s = doc.recommended, doc.charts.latency
    if not rec or s is None:
        return not_available("latency vs batch chart", doc.charts.unavailable.get("latency", "no chart data in the plan"))
    inp = doc.inputs
    groups = rec.ep // rec.tp if rec.ep > rec.tp else 1  # wide EP: attention groups of a replica
    fig = F.latency_figure(s, inp.ttft_ms, inp.tpot_ms, rec.running_batch, inp.percentile, band.pct,
                           colors.get(rec.sku, "#333"), groups)
    cap = (
        f"{esc(rec.label())}: load rising from idle to 98.5 % of saturation (Poisson arrivals, continuous "
        f"batching, max batch {esc(rec.max_batch)}); prefill of one {inp.input_tokens:,}-token prompt "
        f"{s.prefill_ms:,.1f} ms. Lines in the SKU's colour (TTFT solid, TPOT dashed, throughput dash-dot); "
        "black dashed: the running batch at the target QPS. "
        + _latency_caption(doc, [rec], [rec.sku], band)
    )
    return page.figure(fig, cap)


def _validation(page: Page, doc: PlanDocument, validation, band: _Band) -> str:
    if validation is None:
        return not_available(
            "predicted vs measured",
            f"measured profiles were used for {', '.join(_measured_skus(doc))}, but no `moeprof validate --json` "
            "output was given (pass it with `moeprof report PLAN.json --validation FILE`)",
        )
    if band.points is None:
        return not_available("predicted vs measured", band.problem)
    rows = []
    for p in band.points:
        errs = sorted(abs(a - b) / b * 100 for a, b in zip(p.predicted, p.measured))
        rows.append([p.quantity, len(errs), f"{errs[len(errs) // 2]:.1f}", f"{errs[-1]:.1f}"])
    src = None
    if isinstance(validation, dict):
        src = "; ".join(f"{k}: {validation[k]}" for k in ("source", "profile", "gpu", "calibration", "rates_from")
                        if validation.get(k))
    cap = (
        "Each point is one case `moeprof validate` ran: x measured on the GPU, y predicted by moeprof's performance "
        f"model; dotted lines are +-20 %. Error band used in this report: {esc(band.text())}. "
        + (f"<b>Source</b>: {esc(src)}." if src else "<b>Source</b>: moeprof validate output.")
    )
    return page.figure(F.validation_figure(band.points), cap) + table(
        ["quantity", "cases", "median |error| (%)", "max |error| (%)"], rows, {1, 2, 3})
