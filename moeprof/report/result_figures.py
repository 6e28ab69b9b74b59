"""Figures of the evaluate, compare and validate reports (figures.py holds the plan's and the
profile's): throughput vs interactivity with total and output tokens/s per GPU, the per-SKU
comparison as bars with their error bands."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .figures import PICK, _base, log_ticks, sku_colors
from .html import plot_text as T
from .result_kinds import load_of

SERIES = (("total_token_throughput_per_gpu", "total tokens/s per GPU (input + output)", "solid"),
          ("output_throughput_per_gpu", "output tokens/s per GPU", "dash"))


def _band(rows: list[dict], key: str) -> dict | None:
    """Plotly error bars of a figure from each row's band [low, high]; None when no row has one."""
    lo, hi, any_band = [], [], False
    for r in rows:
        b = (r.get("bands") or {}).get(key)
        v = r.get(key)
        if b and v is not None and b[0] is not None and b[1] is not None:
            lo.append(max(0.0, v - b[0]))
            hi.append(max(0.0, b[1] - v))
            any_band = True
        else:
            lo.append(0.0)
            hi.append(0.0)
    return dict(type="data", symmetric=False, array=hi, arrayminus=lo, thickness=1, width=3) if any_band else None


def evaluate_curve_figure(rows: list[dict], label: str, color: str = "#1f77b4") -> go.Figure:
    """Throughput per GPU against tokens/s per user (1000 / TPOT), one point per load value: total
    (input + output, as InferenceX plots it) solid and output dashed, each with its error band."""
    fig = go.Figure()
    xs = [r["tokens_per_s_per_user"] for r in rows]
    ys: list[float] = []
    for key, name, dash in SERIES:
        y = [r[key] for r in rows]
        ys += [v for v in y if v]
        loads = [load_of(r) for r in rows]
        fig.add_trace(go.Scatter(
            x=xs, y=y, mode="lines+markers", name=T(name), line=dict(color=color, dash=dash, width=2.5 if dash == "solid" else 1.5),
            marker=dict(size=7, color=color), error_y=_band(rows, key),
            customdata=[[n, v] for n, v in loads],
            hovertemplate=f"<b>{T(label)}</b><br>%{{customdata[0]}} %{{customdata[1]:g}}<br>%{{x:,.1f}} tokens/s per user<br>"
                          f"%{{y:,.0f}} {T(name)}<extra></extra>",
        ))
    pos = [v for v in xs if v and v > 0]
    if pos and ys:
        fig.update_xaxes(title_text="tokens/s per user (1000 / TPOT)", **log_ticks(min(pos), max(pos)))
        fig.update_yaxes(title_text="tokens/s per GPU", **log_ticks(min(ys), max(ys)))
    return _base(fig, 520)


# (row key, low key, high key, axis title)
COMPARE_BARS = (
    ("usd_per_million_tokens", None, None, "$ per million tokens, blended (what ranks)"),
    ("qps_capacity", "qps_capacity_low", "qps_capacity_high", "capacity within the targets (req/s)"),
    ("tpot_ms", "tpot_low_ms", "tpot_high_ms", "TPOT at the target QPS (ms)"),
    ("ttft_ms", "ttft_low_ms", "ttft_high_ms", "TTFT at the target QPS (ms)"),
)


def compare_bars_figure(rows: list[dict]) -> go.Figure:
    """One bar per SKU with a configuration (colour per SKU, the pick outlined black) for each of
    $/M tokens, capacity, TPOT and TTFT; the error band as the bar's error bar."""
    mine = [r for r in rows if r.get("usd_per_million_tokens") is not None]
    colors = sku_colors(r["sku"] for r in mine)
    fig = make_subplots(rows=1, cols=len(COMPARE_BARS), subplot_titles=[t for *_, t in COMPARE_BARS],
                        horizontal_spacing=0.07)
    for col, (key, lo_k, hi_k, title) in enumerate(COMPARE_BARS, start=1):
        x = [T(r["sku"]) for r in mine]
        y = [r.get(key) for r in mine]
        err = None
        if lo_k and any(r.get(lo_k) is not None for r in mine):
            err = dict(type="data", symmetric=False, thickness=1.2, width=6, color="#333",
                       array=[max(0.0, (r.get(hi_k) or v) - v) if v is not None else 0 for r, v in zip(mine, y)],
                       arrayminus=[max(0.0, v - (r.get(lo_k) or v)) if v is not None else 0 for r, v in zip(mine, y)])
        fig.add_trace(go.Bar(
            x=x, y=y, error_y=err, showlegend=False, name=T(title),
            marker=dict(color=[colors[r["sku"]] for r in mine],
                        line=dict(color=["#000" if r.get("is_pick") else "rgba(0,0,0,0)" for r in mine],
                                  width=[PICK["line"]["width"] if r.get("is_pick") else 0 for r in mine])),
            hovertemplate="<b>%{x}</b><br>%{y:,.3g} " + T(title) + "<extra></extra>",
        ), row=1, col=col)
    return _base(fig, 460)
