"""Stage 5 of the search: rank the feasible rows, explain the rejected layouts, and pick the
closest misses when nothing is feasible.

Ranking (RANKING_RULE, the one statement of it; the plan document carries it as `ranking_rule`):
  1. lowest $/month (equal: the same to the cent, i.e. the same VMs at the same price);
  2. at equal cost, the released recipe: the model maker's own checkpoint as released (the row's
     `checkpoint`, planner.search.checkpoints) first, then the maker's bf16 checkpoint the engine
     quantizes at load (--quantization fp8), then another publisher's build, then no published
     checkpoint (only searched with --allow-requantize): every row meets the targets,
     so what a team can deploy today, and how close to the maker's weights, decides before any
     latency difference;
  3. then more headroom at the error band's pessimistic edge (to the whole percent the plan
     prints): the row that keeps meeting the targets when the model errs the most;
  4. then the (TTFT, TPOT) Pareto front: a row another row of the same cost, checkpoint kind and
     headroom dominates (no worse on both, better on one) never ranks above it;
  5. then the recipe closest to the released weights (quality_rank in moeprof/data/quant.json),
     bf16 KV over fp8 KV, lower TPOT, lower TTFT, fewer GPUs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...catalog.models.quant import load_recipes
from ..document.plan import FIELD, LAYOUT_KEYS, ROW_FIELDS, PlanRow, Rejection, SkuBest
from ..document.rows import BAND_FIELDS
from ..document.targets import Targets
from .verdicts import headroom_reason

INT_BAND_FIELDS = tuple(k for k in BAND_FIELDS if FIELD[k].kind is int)


def plan_rows(df: pd.DataFrame) -> list[PlanRow]:
    """Rows of the search as PlanRows (plain Python values, in the frame's order)."""
    if not len(df):
        return []
    cols = {k: df[k].tolist() if k in df else [""] * len(df) for k in ROW_FIELDS}  # checkpoint: '' before its stage
    out = []
    for i in range(len(df)):
        d = {k: cols[k][i] for k in ROW_FIELDS}
        d["checkpoint"] = d["checkpoint"] if isinstance(d["checkpoint"], str) else ""
        if not isinstance(d["calibration"], str):
            d["calibration"] = float("nan")  # a row that never reached the performance model
        for k in INT_BAND_FIELDS:  # a float column (NaN where a row has no capacity to band)
            d[k] = int(d[k]) if d[k] is not None and np.isfinite(d[k]) else None
        out.append(PlanRow(**d))
    return out


RANKING_RULE = ("lowest $/month; at equal cost (to the cent) the released recipe: the model maker's checkpoint, then "
                "the maker's bf16 checkpoint the engine quantizes at load (--quantization fp8), then another "
                "publisher's build, then none (--allow-requantize only); then more headroom "
                "at the error band's pessimistic edge (to the percent); then the rows no other row beats on both TTFT "
                "and TPOT, the recipe closest to the released weights, bf16 KV over fp8 KV, lower TPOT, lower TTFT, "
                "fewer GPUs")


def cost_cents(usd_per_month) -> np.ndarray:
    """$/month to the cent: the key rows of equal cost share."""
    return np.round(np.asarray(usd_per_month, dtype=float) * 100.0).astype(np.int64)


def dominated_at_equal_cost(cost_key, ttft_ms, tpot_ms) -> np.ndarray:
    """True where another row of the same cost key is no worse on TTFT and TPOT and better on one.

    Sorted by cost, TTFT, TPOT, every earlier row of a cost that is not the same point has TTFT <=
    and differs: a point is dominated exactly when the least TPOT before its block of identical
    points (in its cost) is <= its own. O(n log n)."""
    c = np.asarray(cost_key)
    a = np.asarray(ttft_ms, dtype=float)
    b = np.asarray(tpot_ms, dtype=float)
    n = len(c)
    if not n:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((b, a, c))
    cs, as_, bs = c[order], a[order], b[order]
    new_group = np.r_[True, cs[1:] != cs[:-1]]
    new_block = new_group | np.r_[True, (as_[1:] != as_[:-1]) | (bs[1:] != bs[:-1])]
    gid = np.cumsum(new_group) - 1
    cm = pd.Series(bs).groupby(gid).cummin().to_numpy()  # least TPOT up to and including each row
    before = np.where(new_group, np.inf, np.r_[np.inf, cm[:-1]])  # strictly before, in its cost
    start = np.maximum.accumulate(np.where(new_block, np.arange(n), 0))  # its block's first row
    out = np.empty(n, dtype=bool)
    out[order] = before[start] <= bs
    return out


def checkpoint_kind(rows: pd.DataFrame) -> np.ndarray:
    """Per row: 0 the maker's checkpoint, 1 the maker's quantized by the engine at load, 2 another
    publisher's build, 3 no published checkpoint (planner.search.checkpoints.checkpoint_rank; a frame before that stage:
    0 where it names a checkpoint)."""
    if "checkpoint_kind" in rows:
        return rows.checkpoint_kind.to_numpy(dtype=np.int64)
    if "checkpoint" not in rows:
        return np.full(len(rows), 3, dtype=np.int64)
    return np.array([0 if isinstance(c, str) and c else 3 for c in rows.checkpoint.tolist()], dtype=np.int64)


def rank_feasible(rows: pd.DataFrame, model=None, recipes: dict | None = None) -> pd.DataFrame:
    """Feasible rows, best first (RANKING_RULE). `recipes`: the model's (their quality_rank; None:
    load_recipes(model))."""
    recipes = recipes if recipes is not None else load_recipes(model)
    pos = np.flatnonzero(rows.feasible.to_numpy())
    col = lambda k: rows[k].to_numpy()[pos]  # noqa: E731 - one column of the feasible rows, no frame copy
    quant = rows.quant if isinstance(rows.quant.dtype, pd.CategoricalDtype) else rows.quant.astype("category")
    cats = [str(c) for c in quant.cat.categories]
    codes = quant.cat.codes.to_numpy()[pos]
    q_rank = np.array([recipes[c].quality_rank if c in recipes else np.inf for c in cats] + [np.inf], dtype=float)[codes]
    kind = checkpoint_kind(rows)[pos]
    cents = cost_cents(col("usd_per_month"))
    head = np.asarray(col("headroom"), dtype=float) if "headroom" in rows else np.zeros(len(pos))
    head_pct = -np.round(np.nan_to_num(head, nan=-np.inf) * 100.0)  # more headroom first, to the printed percent
    ttft, tpot = col("ttft_ms").astype(float), col("tpot_ms").astype(float)
    group = np.lexsort((head_pct, kind, cents))  # rows of equal cost, checkpoint kind and headroom share a key
    key = np.empty(len(pos), dtype=np.int64)
    if len(pos):
        g = np.stack([cents[group], kind[group], head_pct[group]])
        new = np.r_[True, np.any(g[:, 1:] != g[:, :-1], axis=0)]
        key[group] = np.cumsum(new)
    dom = dominated_at_equal_cost(key, ttft, tpot)
    kv = np.asarray(col("kv_dtype")).astype(str) != "bf16"
    # np.lexsort: the last key is the primary one (stable)
    order = np.lexsort((col("gpus"), ttft, tpot, kv, q_rank, dom, head_pct, kind, cents))
    return rows.iloc[pos[order]]


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
    """When nothing is feasible: the best row of each distinct layout (SKU x TP x EP x PP; its
    best recipe, KV dtype, max batch and replica count), the layouts that miss the targets by the
    least first (the largest ratio of achieved to target; above capacity the latency a lone
    request sees and the capacity within the targets count), rows served at the target QPS ahead
    of those that cannot be; each with what it misses. When nothing fits in memory: the rows with
    the longest max context, one per layout."""
    keys = ["sku", "tp", "ep", "pp"]
    m = rows[(rows.memory_kind == "") & (rows.kind != "checkpoint")]  # a row with no published checkpoint is no miss
    need = (1.0 + targets.headroom) * targets.qps
    out = []
    if len(m):
        served = np.isfinite(m.ttft_ms.to_numpy()) & np.isfinite(m.tpot_ms.to_numpy())
        ttft = np.where(served, m.ttft_ms.to_numpy(), m.ttft_idle_ms.to_numpy())
        tpot = np.where(served, m.tpot_ms.to_numpy(), m.tpot_idle_ms.to_numpy())
        cap = m.qps_capacity.to_numpy()
        violation = np.maximum.reduce([ttft / targets.ttft_ms, tpot / targets.tpot_ms,
                                       targets.qps / np.maximum(cap, 1e-12),
                                       need / np.maximum(m.qps_capacity_low.to_numpy(dtype=float), 1e-12)])
        best = (m.assign(_unserved=~served, _v=violation, _ttft=ttft, _tpot=tpot)
                .sort_values(["_unserved", "_v", "usd_per_month"], kind="stable").drop_duplicates(keys).head(n))
        for r, a, b, live in zip(plan_rows(best), best._ttft.tolist(), best._tpot.tolist(), (~best._unserved).tolist()):
            load = f"at {targets.qps:g} req/s" if live else "even unloaded"
            r.misses = [
                s for s, bad in (
                    (f"TTFT {a:.0f} ms > {targets.ttft_ms:g} ms {load}", a > targets.ttft_ms),
                    (f"TPOT {b:.1f} ms > {targets.tpot_ms:g} ms {load}", b > targets.tpot_ms),
                    (f"QPS capacity {r.qps_capacity:.2f} < {targets.qps:g} req/s within the latency targets",
                     r.qps_capacity < targets.qps),
                    (headroom_reason(r.qps_capacity_low, targets),
                     r.qps_capacity >= targets.qps and r.qps_capacity_low is not None and r.qps_capacity_low < need),
                ) if bad
            ]
            out.append(r)
    else:
        best = rows.sort_values("max_context_tokens", ascending=False, kind="stable").drop_duplicates(keys).head(n)
        for r, why in zip(plan_rows(best), best.memory_reason.tolist()):
            r.misses = [f"memory: {why}"]
            out.append(r)
    return out


def per_sku_best(rows: pd.DataFrame, ranked: pd.DataFrame, rejected: list[Rejection]) -> list[SkuBest]:
    """The best feasible row of each SKU in the search, or the kinds of reason it has none."""
    out = []
    firsts = ranked.drop_duplicates("sku")  # each SKU's best, in ranking order
    best = dict(zip(firsts.sku.astype(str).tolist(), plan_rows(firsts)))
    for sku in dict.fromkeys(rows.sku.tolist()):
        if sku in best:
            out.append(SkuBest(sku, best[sku]))
        else:
            kinds = sorted({r.kind for r in rejected if r.sku == sku})
            out.append(SkuBest(sku, None, f"no configuration meets the targets ({', '.join(kinds)})"))
    return out
