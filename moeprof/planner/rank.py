"""Stage 5 of the search: rank the feasible rows, explain the rejected layouts, and pick the
closest misses when nothing is feasible.

Ranking: cost ($/month); at equal cost the recipe closest to the released weights
(quality_rank in moeprof/data/quant.json), then bf16 KV over fp8 KV, then lower TPOT, TTFT and
fewer GPUs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..catalog.quant import load_recipes
from .document import FIELD, LAYOUT_KEYS, ROW_FIELDS, PlanRow, Rejection, SkuBest
from .schema import BAND_FIELDS

INT_BAND_FIELDS = tuple(k for k in BAND_FIELDS if FIELD[k].kind is int)
from .targets import Targets
from .verdicts import headroom_reason


def plan_rows(df: pd.DataFrame) -> list[PlanRow]:
    """Rows of the search as PlanRows (plain Python values, in the frame's order)."""
    if not len(df):
        return []
    cols = {k: df[k].tolist() for k in ROW_FIELDS}
    out = []
    for i in range(len(df)):
        d = {k: cols[k][i] for k in ROW_FIELDS}
        if not isinstance(d["calibration"], str):
            d["calibration"] = float("nan")  # a row that never reached the performance model
        for k in INT_BAND_FIELDS:  # a float column (NaN where a row has no capacity to band)
            d[k] = int(d[k]) if d[k] is not None and np.isfinite(d[k]) else None
        out.append(PlanRow(**d))
    return out


def rank_feasible(rows: pd.DataFrame, model=None) -> pd.DataFrame:
    """Feasible rows, best first (RANKING_RULE)."""
    ranks = {k: r.quality_rank for k, r in load_recipes(model).items()}
    feas = rows[rows.feasible]
    keys = feas.assign(_q=feas.quant.map(ranks).to_numpy(dtype=float), _kv=(feas.kv_dtype != "bf16").astype(int))
    order = keys.sort_values(["usd_per_month", "_q", "_kv", "tpot_ms", "ttft_ms", "gpus"], kind="stable").index
    return feas.loc[order]


def rejections(rows: pd.DataFrame, feas: pd.DataFrame) -> tuple[list[Rejection], dict[str, int]]:
    """Each (sku, layout, quant, kv dtype) none of whose rows is feasible, with the reason of its
    most promising row (furthest stage, then most capacity, then most KV room); counts by kind."""
    keys = list(LAYOUT_KEYS)
    rej = rows.loc[~rows.feasible, keys + ["kind", "reason", "qps_capacity", "stage", "kv_budget_bytes_per_gpu"]]
    rej = rej.sort_values(
        ["stage", "qps_capacity", "kv_budget_bytes_per_gpu"], ascending=[False, False, False], kind="stable"
    ).drop_duplicates(keys)
    if len(feas):
        ok_keys = feas[keys].drop_duplicates().assign(_ok=True)
        rej = rej.merge(ok_keys, on=keys, how="left")
        rej = rej[rej._ok.isna()]
    cols = {k: rej[k].tolist() for k in keys + ["kind", "reason"]}
    out = [Rejection(**{k: cols[k][i] for k in cols}) for i in range(len(rej))]
    counts: dict[str, int] = {}
    for r in out:
        counts[r.kind] = counts.get(r.kind, 0) + 1
    return out, counts


def closest_misses(rows: pd.DataFrame, targets: Targets, n: int = 5) -> list[PlanRow]:
    """When nothing is feasible: the rows that miss the targets by the least (the largest ratio
    of achieved to target), each with what it misses; or, when nothing fits in memory, the rows
    with the longest max context."""
    m = rows[rows.memory_kind == ""]
    need = (1.0 + targets.headroom) * targets.qps
    out = []
    if len(m):
        violation = np.maximum.reduce([
            m.ttft_ms.to_numpy() / targets.ttft_ms,
            m.tpot_ms.to_numpy() / targets.tpot_ms,
            targets.qps / np.maximum(m.qps_capacity.to_numpy(), 1e-12),
            need / np.maximum(m.qps_capacity_low.to_numpy(), 1e-12),
        ])
        best = m.assign(violation=violation).sort_values(["violation", "usd_per_month"]).head(n)
        for r in plan_rows(best):
            r.misses = [
                s for s, bad in (
                    (f"TTFT {r.ttft_ms:.0f} ms > {targets.ttft_ms:g} ms", r.ttft_ms > targets.ttft_ms),
                    (f"TPOT {r.tpot_ms:.1f} ms > {targets.tpot_ms:g} ms", r.tpot_ms > targets.tpot_ms),
                    (f"QPS capacity {r.qps_capacity:.2f} < {targets.qps:g}", r.qps_capacity < targets.qps),
                    (headroom_reason(r.qps_capacity_low, targets),
                     r.qps_capacity >= targets.qps and r.qps_capacity_low is not None and r.qps_capacity_low < need),
                ) if bad
            ]
            out.append(r)
    else:
        best = rows.sort_values("max_context_tokens", ascending=False).head(n)
        for r, why in zip(plan_rows(best), best.memory_reason.tolist()):
            r.misses = [f"memory: {why}"]
            out.append(r)
    return out


def per_sku_best(rows: pd.DataFrame, ranked: pd.DataFrame, rejected: list[Rejection]) -> list[SkuBest]:
    """The best feasible row of each SKU in the search, or the kinds of reason it has none."""
    out = []
    for sku in dict.fromkeys(rows.sku.tolist()):
        g = ranked[ranked.sku == sku]
        if len(g):
            out.append(SkuBest(sku, plan_rows(g.head(1))[0]))
        else:
            kinds = sorted({r.kind for r in rejected if r.sku == sku})
            out.append(SkuBest(sku, None, f"no configuration meets the targets ({', '.join(kinds)})"))
    return out
