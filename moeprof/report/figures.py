"""Plotly figures of the reports. Every axis title carries its unit; every piece of text that
came from the user or a data file goes through `plot_text` (plotly renders some HTML tags)."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from ..planner.document.plan import KvCurve, LatencySweep, MemoryBar, PlanRow, ThroughputCurve
from .html import plot_text as T
from .plan_data import ValidationPoints, pareto_front

TEMPLATE = "plotly_white"
_SKU_COLORS = qualitative.D3
_OTHER_COLORS = qualitative.Dark2  # series that are not SKUs (validation quantities)
PICK = dict(symbol="circle-open", size=20, color="#000", line=dict(width=2.5, color="#000"))  # the recommendation


def sku_colors(skus) -> dict[str, str]:
    """The one palette of a report: a colour per SKU, by SKU name (sorted), for every chart and table."""
    return {s: _SKU_COLORS[i % len(_SKU_COLORS)] for i, s in enumerate(sorted(dict.fromkeys(skus)))}


def log_ticks(lo: float, hi: float, prefix: str = "") -> dict:
    """Axis settings of a log axis ticked at 1-2-5 (up to three decades shown) or at every decade,
    labelled in plain numbers (k, M, G, T for 1e3, 1e6, 1e9, 1e12)."""
    lo, hi = max(lo, 1e-12), max(hi, lo * 1.0001)
    d0, d1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    steps = (1, 2, 5) if d1 - d0 <= 3 else (1,)
    vals = [m * 10.0 ** d for d in range(d0, d1 + 1) for m in steps if lo / 1.2 <= m * 10.0 ** d <= hi * 1.2]
    if len(vals) < 2:
        vals = [10.0 ** d for d in range(d0, d1 + 1)]

    def text(v):
        for scale, sym in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
            if v >= scale:
                return f"{prefix}{v / scale:g}{sym}"
        return f"{prefix}{v:g}"

    return dict(type="log", tickmode="array", tickvals=vals, ticktext=[text(v) for v in vals],
                range=[math.log10(lo / 1.25), math.log10(hi * 1.25)])


def _base(fig, height: int, title: str | None = None):
    fig.update_layout(
        template=TEMPLATE,
        height=height,
        margin=dict(l=70, r=30, t=60 if title else 40, b=60),
        title=dict(text=T(title), x=0.01, font=dict(size=15)) if title else None,
        legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0),
        hoverlabel=dict(align="left"),
    )
    return fig


# Hover of a planner row: the values ride in customdata, the template is shared by a trace.
_ROW_HOVER = (
    "%{customdata[0]} VM(s), %{customdata[1]} GPUs<br>"
    "TP %{customdata[2]} · EP %{customdata[3]} · PP %{customdata[4]} · %{customdata[5]} replica(s)<br>"
    "quant %{customdata[6]} · KV %{customdata[7]} · max batch %{customdata[8]}<br>"
    "$%{customdata[9]:,.0f}/month · $%{customdata[10]:,.2f}/h<br>"
    "TTFT %{customdata[11]:,.0f} ms · TPOT %{customdata[12]:,.1f} ms<br>"
    "$%{customdata[13]:,.3f}/M tokens · %{customdata[14]:,.2f} J/token"
)


def _cells(values: list) -> np.ndarray:
    """Values of a large trace as an object array: plotly takes it without checking each cell (a list
    of thousands of points costs ~10x more to build) and writes it out as the same JSON list."""
    a = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        a[i] = v
    return a


def _row_data(r: PlanRow) -> list:
    return [r.vms, r.gpus, r.tp, r.ep, r.pp, r.replicas, T(r.quant), T(r.kv_dtype), r.max_batch, r.usd_per_month,
            r.usd_per_hour, r.ttft_ms, r.tpot_ms, r.usd_per_million_tokens, r.joules_per_token]


# ---------------------------------------------------------------------------------------
# Plan report
# ---------------------------------------------------------------------------------------
def pareto_figure(rows: list[PlanRow], recommended: PlanRow | None, ttft_target_ms: float, tpot_target_ms: float,
                  colors: dict[str, str], percentile: float = 99.0) -> go.Figure:
    """$/month vs TTFT and vs TPOT at the target QPS, one colour per SKU, Pareto front dashed."""
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=("cost vs TTFT", "cost vs TPOT"))
    for col, key, target in ((1, "ttft_ms", ttft_target_ms), (2, "tpot_ms", tpot_target_ms)):
        pts = [r for r in rows if getattr(r, key) is not None]
        for sku in colors:
            mine = [r for r in pts if r.sku == sku]
            if not mine:
                continue
            fig.add_trace(go.Scatter(
                x=_cells([getattr(r, key) for r in mine]), y=_cells([r.usd_per_month for r in mine]), mode="markers",
                name=T(sku), legendgroup=T(sku), showlegend=col == 1,
                marker=dict(color=colors[sku], size=7, opacity=0.7, line=dict(width=0.5, color="#fff")),
                customdata=_cells([_row_data(r) for r in mine]), hovertemplate=f"<b>{T(sku)}</b>: {_ROW_HOVER}<extra></extra>",
            ), row=1, col=col)
        if pts:
            front = pareto_front([getattr(r, key) for r in pts], [r.usd_per_month for r in pts])
            fig.add_trace(go.Scatter(
                x=[getattr(pts[i], key) for i in front], y=[pts[i].usd_per_month for i in front], mode="lines",
                line=dict(color="#444", dash="dash", width=1.2, shape="hv"), name="Pareto front",
                legendgroup="front", showlegend=col == 1, hoverinfo="skip",
            ), row=1, col=col)
        if recommended and getattr(recommended, key) is not None:
            fig.add_trace(go.Scatter(
                x=[getattr(recommended, key)], y=[recommended.usd_per_month], mode="markers", name="recommended",
                legendgroup="rec", showlegend=col == 1, marker=PICK,
                customdata=[_row_data(recommended)],
                hovertemplate=f"<b>recommended</b>, {T(recommended.sku)}: {_ROW_HOVER}<extra></extra>",
            ), row=1, col=col)
        y_at = recommended.usd_per_month if recommended else (pts[0].usd_per_month if pts else None)
        if y_at is not None:  # an invisible point, so the axis range includes the target and its label shows
            fig.add_trace(go.Scatter(x=[target * 1.15], y=[y_at], mode="markers", marker=dict(opacity=0), showlegend=False,
                                     hoverinfo="skip"), row=1, col=col)
        fig.add_vline(x=target, line=dict(color="#b33", dash="dot", width=1), row=1, col=col)
        # the label as an annotation of its own: on the log TTFT axis an annotation's x is log10 of the value
        # (plotly places add_vline's own annotation at 10^target there, off the chart)
        fig.add_annotation(x=math.log10(target) if col == 1 else target, y=1.0, xref=f"x{col if col > 1 else ''}",
                           yref=f"y{col if col > 1 else ''} domain", text=f"target {target:g} ms", showarrow=False,
                           xanchor="right", yanchor="top", font=dict(size=10, color="#b33"))
    fig.update_xaxes(title_text=f"TTFT at target QPS, p{percentile:g} (ms)", type="log", dtick=1, row=1, col=1)
    fig.update_xaxes(title_text="TPOT at target QPS (ms)", row=1, col=2)
    fig.update_yaxes(title_text="cost at target QPS ($/month, 730 h)", type="log", dtick=1, row=1, col=1)
    return _base(fig, 500)


def memory_figure(bars: list[MemoryBar]) -> go.Figure:
    """Stacked memory per GPU (GiB) against the usable GPU memory, one bar per configuration."""
    fig = go.Figure()
    names: list[str] = []
    for b in bars:
        for k in b.parts_gib:
            if k not in names:
                names.append(k)
    palette = _part_colors(names)
    x = ["<br>".join(T(line) for line in b.label) for b in bars]
    for k in names:
        fig.add_trace(go.Bar(
            x=x, y=[b.parts_gib.get(k, 0.0) for b in bars], name=T(k), marker_color=palette[k],
            hovertemplate="%{x}<br>" + T(k) + ": %{y:.2f} GiB<extra></extra>",
        ))
    fig.add_trace(go.Scatter(
        x=x, y=[b.capacity_gib for b in bars], mode="markers+text", name="GPU memory (usable, GiB)",
        marker=dict(symbol="line-ew-open", size=60, color="#000", line=dict(width=3, color="#000")),
        text=[f"{b.capacity_gib:.1f} GiB" for b in bars], textposition="top center",
        hovertemplate="%{x}<br>usable GPU memory: %{y:.2f} GiB<extra></extra>",
    ))
    fig.update_layout(barmode="stack", bargap=0.35)
    fig.update_yaxes(title_text="memory per GPU (GiB)")
    fig.update_xaxes(title_text="configuration (heaviest GPU of a replica)", tickangle=0, tickfont=dict(size=10))
    fig = _base(fig, 600)
    fig.update_layout(legend=dict(y=-0.42), margin=dict(b=40))
    return fig


def _part_colors(names: list[str]) -> dict[str, str]:
    weights = [n for n in names if n.startswith("weights")]
    blues = ["#08306b", "#08519c", "#2171b5", "#4292c6", "#6baed6", "#9ecae1", "#3182bd", "#1c6fb0", "#c6dbef"]
    out = {n: blues[i % len(blues)] for i, n in enumerate(weights)}
    fixed = {"activation peak": "#8c6d31", "non-torch": "#969696", "CUDA graphs": "#636363", "KV cache": "#fd8d3c",
             "reserved": "#e5e5e5"}
    for n in names:
        if n not in out:
            out[n] = next((c for k, c in fixed.items() if n.startswith(k)), "#bcbd22")
    return out


def kv_context_figure(curves: list[KvCurve], model_max: int, target_context: int, colors: dict[str, str]) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.09,
                        subplot_titles=("KV cache of one sequence, per GPU", "max batch that fits the KV budget"))
    for c in curves:
        col = colors.get(c.sku, "#333")
        name = T(c.label)
        fig.add_trace(go.Scatter(
            x=c.context_tokens, y=c.kv_gib_per_seq, mode="lines", name=name, legendgroup=name, line=dict(color=col),
            hovertemplate=name + "<br>context %{x:,} tokens<br>%{y:.3f} GiB per GPU<extra></extra>",
        ), row=1, col=1)
        fig.add_trace(go.Scatter(
            x=[c.context_tokens[0], c.context_tokens[-1]], y=[c.kv_budget_gib] * 2, mode="lines",
            name=name + " KV budget", legendgroup=name, showlegend=False, line=dict(color=col, dash="dot", width=1),
            hovertemplate=name + "<br>KV budget %{y:.1f} GiB per GPU<extra></extra>",
        ), row=1, col=1)
        ms = np.asarray(c.max_seqs, dtype=float)
        seqs = np.where(ms >= 1, ms, np.nan)
        fig.add_trace(go.Scatter(
            x=c.context_tokens, y=seqs, mode="lines", name=name, legendgroup=name, showlegend=False,
            line=dict(color=col), hovertemplate=name + "<br>context %{x:,} tokens<br>%{y:,.0f} sequences<extra></extra>",
        ), row=1, col=2)
    for col in (1, 2):
        fig.add_vline(x=model_max, line=dict(color="#666", dash="dash", width=1), row=1, col=col,
                      annotation_text="model maximum", annotation_font=dict(size=10, color="#666"), annotation_position="bottom left")
        fig.add_vline(x=target_context, line=dict(color="#b33", dash="dot", width=1), row=1, col=col,
                      annotation_text=f"target {target_context:,}", annotation_font=dict(size=10, color="#b33"),
                      annotation_position="top left")
    fig.update_xaxes(type="log", dtick=1, title_text="context length (tokens)")
    fig.update_yaxes(type="log", dtick=1, title_text="KV per sequence per GPU (GiB)", row=1, col=1)
    fig.update_yaxes(type="log", dtick=1, title_text="sequences per replica (seqs)", row=1, col=2)
    return _base(fig, 480)


def latency_figure(s: LatencySweep, ttft_target_ms: float, tpot_target_ms: float, operating_batch: float | None,
                   percentile: float, band_pct: float | None = None, color: str = "#333", groups: int = 1) -> go.Figure:
    """TTFT, TPOT and throughput vs running batch per replica in the configuration's SKU colour;
    targets dotted, the operating point dashed black, the calibration error band shaded when known.
    `groups`: attention groups of a wide-EP replica; the decode-step grid is per group, drawn at
    the replica's batch (groups x the group's)."""
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.08,
                        subplot_titles=(f"TTFT p{percentile:g}", "TPOT", "throughput (all replicas)"))
    x = np.asarray(s.running_batch, dtype=float)
    hover = "running batch %{x:.1f}<br>%{customdata:.2f} req/s<br>%{y:,.1f} "
    for col, ys, name in ((1, np.asarray(s.ttft_ms, dtype=float), "TTFT (ms)"),
                          (2, np.asarray(s.tpot_ms, dtype=float), "TPOT (ms)")):
        if band_pct:
            f = band_pct / 100.0
            fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([ys * (1 + f), (ys * (1 - f))[::-1]]),
                                     fill="toself", fillcolor=color, opacity=0.15, line=dict(width=0), hoverinfo="skip",
                                     name=f"error band +-{band_pct:.0f} %", legendgroup="band", showlegend=col == 1),
                          row=1, col=col)
        fig.add_trace(go.Scatter(x=x, y=ys, mode="lines", name=name, customdata=s.qps,
                                 line=dict(color=color, dash="solid" if col == 1 else "dash"),
                                 hovertemplate=hover + "ms<extra>" + name + "</extra>"), row=1, col=col)
    per_group = " per group" if groups > 1 else ""
    fig.add_trace(go.Scatter(x=[b * groups for b in s.decode_batch], y=s.decode_step_ms, mode="markers",
                             name="decode step, idle queue (ms)", marker=dict(color="#888", symbol="circle-open"),
                             customdata=s.decode_batch,
                             hovertemplate=f"batch %{{x:.0f}} per replica (%{{customdata:.0f}}{per_group})<br>"
                                           "decode step %{y:.2f} ms<extra></extra>"), row=1, col=2)
    fig.add_trace(go.Scatter(x=x, y=s.output_tokens_per_s, mode="lines", name="output tokens/s",
                             customdata=s.qps, hovertemplate=hover + "output tokens/s<extra></extra>",
                             line=dict(color=color, dash="dashdot")), row=1, col=3)
    ends = [float(np.nanmin(x)), float(np.nanmax(x))]
    for col, t in ((1, ttft_target_ms), (2, tpot_target_ms)):  # traces, so the axis range includes the target
        fig.add_trace(go.Scatter(x=ends, y=[t, t], mode="lines", line=dict(color="#b33", dash="dot", width=1),
                                 name="target", legendgroup="target", showlegend=col == 1,
                                 hovertemplate=f"target {t:g} ms<extra></extra>"), row=1, col=col)
    if operating_batch:
        for col in (1, 2, 3):
            fig.add_vline(x=operating_batch, line=dict(color="#000", dash="dash", width=1), row=1, col=col)
    fig.update_xaxes(title_text="running batch per replica (seqs)", type="log", dtick=1)
    fig.update_yaxes(title_text="TTFT (ms)", type="log", dtick=1, row=1, col=1)
    fig.update_yaxes(title_text="TPOT (ms)", row=1, col=2)
    fig.update_yaxes(title_text="output tokens/s (deployment)", row=1, col=3)
    return _base(fig, 440)


def total_per_gpu(output_per_gpu: list[float], input_tokens: int, output_tokens: int) -> list[float]:
    """Total (input + output) tokens/s per GPU, as InferenceX plots it, from output tokens/s per GPU:
    each request brings `input_tokens` prompt tokens with its `output_tokens` generated ones."""
    f = (input_tokens + output_tokens) / output_tokens
    return [v * f for v in output_per_gpu]


def on_curve(xs: list[float], ys: list[float], x: float) -> float | None:
    """y of the polyline (xs, ys) at x, interpolated in log-log (the chart's axes); None outside it."""
    pts = sorted((a, b) for a, b in zip(xs, ys) if a > 0 and b > 0)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if min(x0, x1) <= x <= max(x0, x1):
            if x1 == x0:
                return y0
            t = (math.log(x) - math.log(x0)) / (math.log(x1) - math.log(x0))
            return math.exp(math.log(y0) + t * (math.log(y1) - math.log(y0)))
    return None


def throughput_figure(curves: list[ThroughputCurve], colors: dict[str, str], pick_tokens_per_s_per_user: float | None,
                      percentile: float, input_tokens: int, output_tokens: int) -> go.Figure:
    """Total tokens/s per GPU (input + output, as InferenceX plots it; left, solid), output tokens/s
    per GPU (left, dashed) and blended $/M tokens (right, dotted) against tokens/s per user, one
    colour per SKU. The recommendation is a black ring on its own configuration's curve, at the
    tokens/s per user it serves at the target QPS (1000 / its TPOT)."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    xs, ys, cs = [], [], []
    for c in curves:
        col, name = colors.get(c.sku, "#333"), T(c.sku)
        total = total_per_gpu(c.output_tokens_per_s_per_gpu, input_tokens, output_tokens)
        data = [[u, t, usd, ttft, o] for u, t, usd, ttft, o in zip(c.concurrency_per_replica, total, c.usd_per_million_tokens,
                                                                    c.ttft_ms, c.output_tokens_per_s_per_gpu)]
        hover = (f"<b>{T(c.label)}</b><br>%{{customdata[0]:.0f}} users per replica<br>%{{x:,.1f}} tokens/s per user<br>"
                 f"%{{customdata[1]:,.0f}} total tokens/s per GPU (%{{customdata[4]:,.0f}} output)<br>"
                 f"$%{{customdata[2]:,.3f}}/M tokens<br>TTFT p{percentile:g} %{{customdata[3]:,.0f}} ms<extra></extra>")
        fig.add_trace(go.Scatter(x=c.tokens_per_s_per_user, y=total, mode="lines+markers",
                                 name=f"{name}: total tokens/s per GPU", legendgroup=name, customdata=data, hovertemplate=hover,
                                 line=dict(color=col, width=3 if c.recommended else 2), marker=dict(size=6, color=col)),
                      secondary_y=False)
        fig.add_trace(go.Scatter(x=c.tokens_per_s_per_user, y=c.output_tokens_per_s_per_gpu, mode="lines",
                                 name=f"{name}: output tokens/s per GPU", legendgroup=name, customdata=data,
                                 hovertemplate=hover, line=dict(color=col, width=1.5, dash="dash")), secondary_y=False)
        fig.add_trace(go.Scatter(x=c.tokens_per_s_per_user, y=c.usd_per_million_tokens, mode="lines",
                                 name=f"{name}: $/M tokens", legendgroup=name, customdata=data, hovertemplate=hover,
                                 line=dict(color=col, width=1.5, dash="dot")), secondary_y=True)
        xs += c.tokens_per_s_per_user
        ys += total + c.output_tokens_per_s_per_gpu
        cs += c.usd_per_million_tokens
    mine = next((c for c in curves if c.recommended), None)
    y_pick = None
    if mine is not None and pick_tokens_per_s_per_user:
        y_pick = on_curve(mine.tokens_per_s_per_user, total_per_gpu(mine.output_tokens_per_s_per_gpu, input_tokens,
                                                                      output_tokens), pick_tokens_per_s_per_user)
    if y_pick is not None:
        fig.add_trace(go.Scatter(x=[pick_tokens_per_s_per_user], y=[y_pick], mode="markers",
                                 name=f"recommended ({T(mine.sku)}), at its TPOT at the target QPS", marker=PICK,
                                 hovertemplate="<b>recommended</b> configuration at the tokens/s per user it serves at the "
                                 "target QPS<br>%{x:,.1f} tokens/s per user<br>%{y:,.0f} total tokens/s per GPU on its "
                                 "curve<extra></extra>"), secondary_y=False)
    if xs:
        fig.update_xaxes(title_text="tokens/s per user (1000 / TPOT)", **log_ticks(min(xs), max(xs)))
        fig.update_yaxes(title_text="tokens/s per GPU: total (input + output) solid, output dashed", secondary_y=False,
                         **log_ticks(min(ys), max(ys)))
        fig.update_yaxes(title_text="$ per million tokens (blended), dotted", secondary_y=True, showgrid=False,
                         **log_ticks(min(cs), max(cs), "$"))
    fig = _base(fig, 600)
    fig.update_layout(margin=dict(l=70, r=80, t=30, b=40), legend=dict(y=-0.16))
    return fig


def validation_figure(points: list[ValidationPoints]) -> go.Figure:
    """Predicted vs measured, log-log, with y = x and a +-20 % band."""
    fig = go.Figure()
    lo, hi = math.inf, 0.0
    for i, p in enumerate(points):
        lo = min(lo, *p.predicted, *p.measured)
        hi = max(hi, *p.predicted, *p.measured)
        err = [100.0 * (a - b) / b for a, b in zip(p.predicted, p.measured)]
        fig.add_trace(go.Scatter(
            x=p.measured, y=p.predicted, mode="markers", name=T(p.quantity),
            marker=dict(size=9, color=_OTHER_COLORS[i % len(_OTHER_COLORS)]),
            customdata=err, hovertext=[T(x) for x in p.labels],
            hovertemplate="%{hovertext}<br>measured %{x:.4g}<br>predicted %{y:.4g}<br>error %{customdata:+.1f} %<extra>"
            + T(p.quantity) + "</extra>",
        ))
    if hi > 0:
        xs = [lo / 1.5, hi * 1.5]
        fig.add_trace(go.Scatter(x=xs, y=xs, mode="lines", name="predicted = measured", line=dict(color="#333", width=1)))
        for f, nm in ((1.2, "+20 %"), (0.8, "-20 %")):
            fig.add_trace(go.Scatter(x=xs, y=[v * f for v in xs], mode="lines", name=nm, showlegend=nm == "+20 %",
                                     legendgroup="band", line=dict(color="#999", dash="dot", width=1)))
    fig.update_xaxes(type="log", dtick=1, title_text="measured (unit in the series name)")
    fig.update_yaxes(type="log", dtick=1, title_text="predicted by moeprof (same unit)")
    return _base(fig, 460)


# ---------------------------------------------------------------------------------------
# Probe report
# ---------------------------------------------------------------------------------------
def curve_figure(name: str, x, y, x_label: str, y_label: str) -> go.Figure:
    x, y = list(x), list(y)
    fig = go.Figure(go.Scatter(
        x=list(x), y=list(y), mode="lines+markers", name=T(name),
        hovertemplate=T(x_label) + " %{x:.4g}<br>" + T(y_label) + " %{y:.4g}<extra></extra>",
    ))
    fig.update_xaxes(title_text=T(x_label), **log_ticks(min(x), max(x)))
    fig.update_yaxes(title_text=T(y_label), **log_ticks(min(y), max(y)))
    return _base(fig, 360, name)


def timeseries_figure(title: str, t_s, series: dict[str, list], unit_of: dict[str, str],
                      phases: list[str] | None = None) -> go.Figure:
    """Telemetry vs time: one subplot per unit, a line per field; the probe phase in the hover."""
    units = list(dict.fromkeys(unit_of[k] for k in series))
    fig = make_subplots(rows=len(units), cols=1, shared_xaxes=True, vertical_spacing=0.06)
    for k, ys in series.items():
        row = units.index(unit_of[k]) + 1
        fig.add_trace(go.Scatter(x=list(t_s), y=ys, mode="lines+markers", name=T(k),
                                 text=[T(p) for p in phases] if phases else None,
                                 hovertemplate="t %{x:.2f} s" + ("<br>phase %{text}" if phases else "")
                                 + "<br>%{y:.4g}<extra>" + T(k) + "</extra>"), row=row, col=1)
        fig.update_yaxes(title_text=T(unit_of[k]), row=row, col=1)
    fig.update_xaxes(title_text="time since first sample (s)", row=len(units), col=1)
    return _base(fig, 220 + 170 * len(units), title)
