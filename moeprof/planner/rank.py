"""Stage 5 of the search: rank the feasible rows, explain the rejected layouts, and pick the
closest misses when nothing is feasible.

Ranking (RANKING_RULE, the one statement of it; the plan document carries it as `ranking_rule`):
  1. lowest $/month (equal: the same to the cent, i.e. the same VMs at the same price);
  2. at equal cost, the (TTFT, TPOT) Pareto front first: a row another row of the same cost
     dominates (no worse on both, better on one) never ranks above it, so nothing as cheap is
     better on both latencies than the pick;
  3. on the front, a recipe that loads from a released checkpoint (catalog.checkpoints) before
     one that needs weights of your own: latency decides first because both rows meet the targets
     and a dominated pick is the worse deployment by the plan's own figures; the released
     checkpoint then breaks the remaining ties, ahead of any latency difference along the front;
  4. then the recipe closest to the released weights (quality_rank in moeprof/data/quant.json),
     bf16 KV over fp8 KV, lower TPOT, lower TTFT, fewer GPUs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..catalog.checkpoints import loads_from_release, shipped_checkpoints
from ..catalog.identity import model_ref
from ..catalog.quant import load_recipes
from .document import LAYOUT_KEYS, ROW_FIELDS, PlanRow, Rejection, SkuBest
from .targets import Targets


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
        out.append(PlanRow(**d))
    return out


RANKING_RULE = ("lowest $/month; at equal cost (to the cent) the rows no other row of that cost beats on both TTFT "
                "and TPOT, then a recipe with a released checkpoint over one without, then the recipe closest to the "
                "released weights, bf16 KV over fp8 KV, lower TPOT, lower TTFT, fewer GPUs")


def cost_cents(usd_per_month) -> np.ndarray:
    """$/month to the cent: the key rows of equal cost share."""
    return np.round(np.asarray(usd_per_month, dtype=float) * 100.0).astype(np.int64)


def dominated_at_equal_cost(cost_key, ttft_ms, tpot_ms) -> np.ndarray:
    """True where another row of the same cost key is no worse on TTFT and TPOT and better on one.

    Over the distinct (cost, TTFT, TPOT) points sorted by cost, TTFT, TPOT, a point is dominated
    exactly when some earlier point of its cost has TPOT <= its own (an earlier point has TTFT <= and
    differs from it); O(n log n)."""
    c = np.asarray(cost_key)
    a = np.asarray(ttft_ms, dtype=float)
    b = np.asarray(tpot_ms, dtype=float)
    if not len(c):
        return np.zeros(0, dtype=bool)
    pts = pd.DataFrame({"c": c, "a": a, "b": b})
    u = pts.drop_duplicates().sort_values(["c", "a", "b"], kind="stable")
    cm = u.groupby("c", sort=False).b.cummin().to_numpy()
    uc = u.c.to_numpy()
    first = np.r_[True, uc[1:] != uc[:-1]]
    prev_min = np.where(first, np.inf, np.r_[np.inf, cm[:-1]])
    dom = prev_min <= u.b.to_numpy()
    flags = pd.Series(dom, index=pd.MultiIndex.from_frame(u[["c", "a", "b"]]))
    return flags.reindex(pd.MultiIndex.from_frame(pts)).to_numpy(dtype=bool)


def released_recipes(model) -> dict[str, bool]:
    """{recipe: whether it loads from a released checkpoint of the model}."""
    recipes = load_recipes(model)
    if model is None:
        return {k: True for k in recipes}
    shipped = shipped_checkpoints(model_ref(model))
    return {k: loads_from_release(k, shipped) for k in recipes}


def rank_feasible(rows: pd.DataFrame, model=None) -> pd.DataFrame:
    """Feasible rows, best first (RANKING_RULE)."""
    recipes = load_recipes(model)
    released = released_recipes(model)
    feas = rows[rows.feasible]
    quant = feas.quant.astype("category") if not isinstance(feas.quant.dtype, pd.CategoricalDtype) else feas.quant
    cats = [str(c) for c in quant.cat.categories]
    codes = quant.cat.codes.to_numpy()
    q_rank = np.array([recipes[c].quality_rank if c in recipes else np.inf for c in cats] + [np.inf], dtype=float)[codes]
    own = np.array([not released.get(c, False) for c in cats] + [True])[codes]
    cents = cost_cents(feas.usd_per_month.to_numpy())
    ttft, tpot = feas.ttft_ms.to_numpy(dtype=float), feas.tpot_ms.to_numpy(dtype=float)
    dom = dominated_at_equal_cost(cents, ttft, tpot)
    kv = (feas.kv_dtype != "bf16").to_numpy()
    # np.lexsort: the last key is the primary one (stable)
    order = np.lexsort((feas.gpus.to_numpy(), ttft, tpot, kv, q_rank, own, dom, cents))
    return feas.iloc[order]


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
    m = rows[rows.memory_kind == ""]
    out = []
    if len(m):
        served = np.isfinite(m.ttft_ms.to_numpy()) & np.isfinite(m.tpot_ms.to_numpy())
        ttft = np.where(served, m.ttft_ms.to_numpy(), m.ttft_idle_ms.to_numpy())
        tpot = np.where(served, m.tpot_ms.to_numpy(), m.tpot_idle_ms.to_numpy())
        cap = m.qps_capacity.to_numpy()
        violation = np.maximum.reduce([ttft / targets.ttft_ms, tpot / targets.tpot_ms,
                                       targets.qps / np.maximum(cap, 1e-12)])
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
