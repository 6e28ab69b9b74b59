"""When nothing meets the targets: per target, the least relaxation of it alone (the others as
asked) that admits a plan, and the cheapest plan it then admits.

    TTFT, TPOT  the layouts served again with that target lifted (memory and step costs reused):
                the least p-quantile TTFT (or TPOT) at the target QPS among the rows that then meet
                every other target, rounded up (1 ms, 0.1 ms)
    QPS         the most capacity within the latency targets of any row that fits (the rows carry
                it), rounded down to 0.01 req/s
    context     only when some layout misses on context: the search again at the shortest context
                (input + output tokens); the longest max context among the rows that then meet
                every target
Every relaxed value is checked by serving the layouts at it (or, for the context, by the rows'
own max context). The capacity search and the latency at a load are two solutions of the serving
model that may disagree near the capacity; a value that does not check out is moved by RETRY_STEP
(up for a latency target, down for the QPS) at most RETRIES times, then reported as none.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from ..document.plan import PlanRow, Relaxation
from ..document.targets import Targets
from .rank import plan_rows, rank_feasible

_LIFTED_MS = 1e7  # a latency target nothing misses (the CLI's upper bound on --ttft-ms / --tpot-ms)
RETRY_STEP = 0.03  # relative move of a relaxed value that did not check out
RETRIES = 6


def _describe(r: PlanRow) -> str:
    return (f"{r.vms} x {r.sku} ({r.gpus} GPUs), tp={r.tp} ep={r.ep} pp={r.pp} x {r.replicas}, {r.quant} / KV {r.kv_dtype}"
            f" at ${r.usd_per_month:,.0f}/month")


def _best(rows: pd.DataFrame, recipes: dict) -> PlanRow | None:
    ranked = rank_feasible(rows, recipes=recipes)
    return plan_rows(ranked.head(1))[0] if len(ranked) else None


def _latency(rows, targets: Targets, recipes: dict, serve, key: str, step: float, name: str, unit: str) -> Relaxation:
    asked = getattr(targets, key)
    lifted = serve(replace(targets, **{key: _LIFTED_MS}))
    feas = lifted[lifted.feasible]
    if not len(feas):
        return Relaxation(key, asked, None, f"no {name} target alone admits a plan: the other targets stay unmet")
    # the targets are checked at the error band's high edge (planner.search.bands); never tighter than asked
    least = max(float(feas[key.replace("_ms", "_high_ms")].min()), asked)
    for i in range(RETRIES + 1):
        value = round(math.ceil(least * (1 + RETRY_STEP) ** i / step - 1e-9) * step, 6)
        best = _best(serve(replace(targets, **{key: value})), recipes)
        if best is not None:
            break
    if best is None:
        return Relaxation(key, asked, None, f"no {name} target alone admits a plan: the other targets stay unmet")
    fmt = f"{value:,.0f}" if step >= 1 else f"{value:,.1f}"
    return Relaxation(key, asked, value, f"{name} <= {fmt} {unit} (asked {asked:g}) admits {_describe(best)}", best)


def _qps(rows: pd.DataFrame, targets: Targets, recipes: dict, serve) -> Relaxation:
    fits = rows[(rows.memory_kind == "") & (rows.stage == 3)]
    cap = min(float(fits.qps_capacity.max()) if len(fits) else 0.0, targets.qps)  # never more than asked
    best = None
    for i in range(RETRIES + 1):
        value = math.floor(cap * (1 - RETRY_STEP) ** i * 100.0 + 1e-9) / 100.0
        if value <= 0:
            break
        best = _best(serve(replace(targets, qps=value)), recipes)
        if best is not None:
            break
    if best is None:
        return Relaxation("qps", targets.qps, None, "no QPS admits a plan: the latency targets or memory stay unmet")
    return Relaxation("qps", targets.qps, value, f"QPS <= {value:,.2f} req/s (asked {targets.qps:g}) admits {_describe(best)}",
                      best)


def _context(rows: pd.DataFrame, targets: Targets, recipes: dict, search) -> Relaxation:
    asked = targets.context_tokens
    if not (rows.memory_kind == "context").any():
        return Relaxation("context_tokens", asked, None, "a shorter context admits no plan: no layout misses on context")
    shortest = targets.input_tokens + targets.output_tokens
    again = search(replace(targets, context_tokens=shortest))
    feas = again[again.feasible]
    if not len(feas):
        return Relaxation("context_tokens", asked, None, "no context alone admits a plan: the other targets stay unmet")
    value = int(min(feas.max_context_tokens.max(), asked))
    best = _best(again[again.feasible & (again.max_context_tokens >= value)], recipes)
    return Relaxation("context_tokens", asked, float(value),
                      f"context <= {value:,} tokens (asked {asked:,}) admits {_describe(best)}", best)


def relax_targets(rows: pd.DataFrame, targets: Targets, recipes: dict, serve: Callable[[Targets], pd.DataFrame],
                  search: Callable[[Targets], pd.DataFrame]) -> list[Relaxation]:
    """One Relaxation per target (TTFT, TPOT, QPS, context). `recipes`: the model's (the ranking's
    quality_rank); `serve(targets)`: the rows at other latency / QPS targets (same layouts: the
    plan's LayoutStage, planner.search.plan); `search(targets)`: the whole search at other targets."""
    if not np.any(rows.memory_kind == ""):
        fits = [Relaxation(k, getattr(targets, k), None, f"no {n} admits a plan: no layout fits in memory at this context")
                for k, n in (("ttft_ms", "TTFT"), ("tpot_ms", "TPOT"), ("qps", "QPS"))]
    else:
        fits = [
            _latency(rows, targets, recipes, serve, "ttft_ms", 1.0, "TTFT", "ms"),
            _latency(rows, targets, recipes, serve, "tpot_ms", 0.1, "TPOT", "ms"),
            _qps(rows, targets, recipes, serve),
        ]
    return fits + [_context(rows, targets, recipes, search)]
