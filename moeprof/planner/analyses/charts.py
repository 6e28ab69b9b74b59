"""Chart data of the plan report, computed once when the plan is made (so a report never runs
the model again): memory per GPU by part for the top configurations, KV per sequence and max
batch vs context for each SKU's best, latency / throughput vs load for the recommendation, and
throughput per GPU vs tokens/s per user for each SKU's best (planner.analyses.throughput).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ... import serving
from ...catalog.models.quant import get_recipe
from ...deployment.replicas import vms_per_replica
from ...deployment.steps import layout_latency, step_costs, workload
from ...errors import MoeprofError
from ...memory import Parallelism, kv_bytes_for_sequence, max_context_for_budget, memory_per_gpu
from ...units import GiB
from ..document.plan import Charts, KvCurve, LatencySweep, MemoryBar, PlanRow, SkuBest
from ..document.targets import Targets
from .throughput import throughput_curves


def top_configs(recommended, alternatives, closest, per_sku: list[SkuBest], n: int = 4) -> list[tuple[str, PlanRow]]:
    """(tag, row): the recommendation, the next alternatives (distinct layouts), then the best
    row of each SKU not shown yet; the closest misses when nothing is feasible."""
    out, seen = [], set()

    def add(tag, r):
        key = r.layout() + (r.max_batch,)
        if key not in seen:
            seen.add(key)
            out.append((tag, r))

    if recommended is not None:
        add("recommended", recommended)
        for i, r in enumerate(alternatives):
            if len(out) < n:
                add(f"alternative {i + 1}", r)
    else:
        for i, r in enumerate(closest):
            if len(out) < n:
                add(f"closest miss {i + 1}", r)
    shown = {r.sku for _, r in out}
    for s in per_sku:
        if s.row is not None and s.sku not in shown:
            add("best of SKU", s.row)
    return out


def _memory(model, vms, r: PlanRow, engine, recipes: dict | None = None):
    vm = vms[r.sku]
    recipe = get_recipe(r.quant, model, recipes)
    par = Parallelism(tp=r.tp, ep=r.ep, pp=r.pp)
    eng = replace(engine, max_num_seqs=int(r.max_batch))
    return memory_per_gpu(model, vm, vms_per_replica(par.gpus, vm.gpus_per_vm), par, recipe, r.kv_dtype, eng)


def memory_bars(model, vms, tagged: list[tuple[str, PlanRow]], engine, recipes: dict | None = None) -> tuple[list[MemoryBar], dict]:
    bars, info = [], {}
    for tag, r in tagged:
        m = _memory(model, vms, r, engine, recipes)
        parts = {f"weights: {k.replace('_', ' ')}": v / GiB for k, v in m.weights_bytes_by_component.items() if v > 0}
        parts["activation peak"] = m.activation_peak_bytes_per_gpu / GiB
        parts["non-torch (NCCL, CUDA context)"] = m.non_torch_bytes_per_gpu / GiB
        parts["CUDA graphs"] = m.cuda_graph_bytes_per_gpu / GiB
        parts["KV cache"] = max(m.kv_budget_bytes_per_gpu, 0.0) / GiB
        parts[f"reserved (1 - gpu_memory_utilization {engine.gpu_memory_utilization:g})"] = (
            m.usable_memory_bytes_per_gpu - m.budget_bytes_per_gpu) / GiB
        label = [tag, r.sku, f"tp{r.tp} ep{r.ep} pp{r.pp} b{r.max_batch}", r.quant, f"KV {r.kv_dtype}"]  # short lines: no overlap at 900 px
        bars.append(MemoryBar(label, list(r.key()), parts, m.usable_memory_bytes_per_gpu / GiB))
        info = m.engine
    return bars, info


def context_grid(model_max: int, target: int | None = None, points: int = 64) -> np.ndarray:
    lo = 1024 if model_max > 1024 else max(1, model_max // 8)
    g = np.unique(np.geomspace(lo, model_max, points).astype(np.int64))
    if target and lo < target < model_max:
        g = np.unique(np.append(g, target))
    return g


def kv_curves(model, vms, rows: dict[str, PlanRow], target_context: int, engine, recipes: dict | None = None) -> list[KvCurve]:
    grid = context_grid(model.max_position_embeddings, target_context)
    out = []
    for sku, r in rows.items():
        m = _memory(model, vms, r, engine, recipes)
        per_kind = m.kv_bytes_per_token_per_gpu_by_kind
        seq = np.array([kv_bytes_for_sequence(model, per_kind, float(c), engine.kv_capped_kinds) for c in grid])
        budget = max(m.kv_budget_bytes_per_gpu, 0.0)
        seqs = np.floor(budget / np.maximum(seq, 1e-9))
        max_ctx = min(max_context_for_budget(model, per_kind, budget, engine.kv_capped_kinds), model.max_position_embeddings)
        out.append(KvCurve(sku, r.label(short=True), [int(c) for c in grid], (seq / GiB).tolist(),
                           seqs.tolist(), budget / GiB, int(max_ctx)))
    return out


def layout_row(steps: pd.DataFrame | None, r: PlanRow) -> pd.DataFrame | None:
    """The search's step costs (deployment.steps) of r's layout, as a one-row frame; None when absent."""
    if steps is None or not len(steps):
        return None
    hit = steps[(steps.sku == r.sku) & (steps.tp == r.tp) & (steps.ep == r.ep) & (steps.pp == r.pp)
                & (steps.quant == r.quant) & (steps.kv_dtype == r.kv_dtype)]
    return hit.head(1).reset_index(drop=True) if len(hit) else None


def latency_sweep(model, vms, r: PlanRow, targets: Targets, routing_skew: float, profiles, engine,
                  points: int = 48, steps: pd.DataFrame | None = None, recipes: dict | None = None) -> LatencySweep:
    """TTFT, TPOT and throughput of one configuration as its load rises from idle to 98.5 % of
    saturation (the planner's own latency stage, reused from the search when given, then
    moeprof.serving along the arrival rate)."""
    vm = vms[r.sku]
    par = Parallelism(tp=r.tp, ep=r.ep, pp=r.pp)
    gpus, dp = par.gpus, par.dp  # a wide-EP replica: dp attention groups, each at 1 / dp of its load
    lat = layout_row(steps, r)
    if lat is None:
        layout = pd.DataFrame([{
            "sku": r.sku, "gpu": vm.gpu.key, "tp": r.tp, "ep": r.ep, "pp": r.pp, "quant": r.quant, "kv_dtype": r.kv_dtype,
            "gpus_per_replica": gpus, "vms_per_replica": vms_per_replica(gpus, vm.gpus_per_vm),
        }])
        lat = layout_latency(model, {r.sku: vm}, layout, targets, routing_skew, profiles, recipes=recipes)
    c1 = step_costs(lat, engine)
    w1 = workload(1, targets.input_tokens, targets.output_tokens, engine, [r.max_batch])
    sat = float(serving.saturation_qps(c1, w1)[0])
    lam = sat * np.linspace(0.002, 0.985, points)  # per attention group
    at = targets.qps / r.replicas / dp  # the plan's own operating point, exactly (TPOT steps where CUDA-graph sizes do)
    lam = np.unique(np.append(lam, at)) if at < lam[-1] else lam
    n = len(lam)
    idx = np.zeros(n, dtype=int)
    # The running batch solved as the serve stage solves it (without the max batch, then evaluated
    # at it), so the sweep and the plan's row agree where TPOT steps (CUDA-graph sizes).
    b = serving.running_batch(c1.take(idx), workload(n, targets.input_tokens, targets.output_tokens, engine, np.full(n, np.inf)), lam)
    pt = serving.point_at(c1.take(idx), w1.take(idx), b, lam, targets.percentile)
    keep = serving.BATCH_GRID <= r.max_batch
    ok = np.isfinite(pt.ttft_q_s) & np.isfinite(pt.tpot_s)  # near saturation the queue may not settle: no point
    lam = lam[ok]
    return LatencySweep(
        running_batch=(pt.b[ok] * dp).tolist(),
        ttft_ms=(pt.ttft_q_s[ok] * 1e3).tolist(),
        tpot_ms=(pt.tpot_s[ok] * 1e3).tolist(),
        output_tokens_per_s=(lam * dp * targets.output_tokens * r.replicas).tolist(),
        qps=(lam * dp * r.replicas).tolist(),
        decode_batch=serving.BATCH_GRID[keep].tolist(),
        decode_step_ms=(c1.s_dec[0][keep] * 1e3).tolist(),
        prefill_ms=float(lat.prefill_s.iloc[0]) * 1e3,
        calibration=str(lat["calibration"].iloc[0]),
    )


def plan_charts(model, vms, targets: Targets, routing_skew: float, profiles, engine, recommended, alternatives,
                closest, per_sku: list[SkuBest], steps: pd.DataFrame | None = None, recipes: dict | None = None) -> Charts:
    """The chart data; `steps` are the search's step costs per layout (deployment.steps), reused;
    `recipes` the model's quantization recipes (None: loaded where needed)."""
    ch = Charts(model_max_context_tokens=int(model.max_position_embeddings))
    tagged = top_configs(recommended, alternatives, closest, per_sku)
    try:
        if not tagged:
            raise MoeprofError("no configuration in the plan")
        ch.memory, ch.engine = memory_bars(model, vms, tagged, engine, recipes)
    except MoeprofError as e:
        ch.unavailable["memory"] = str(e)
    best = {s.sku: s.row for s in per_sku if s.row is not None}
    if not best:
        for r in closest:  # nothing feasible: the closest misses that fit in memory
            if (r.kv_budget_bytes_per_gpu or 0) > 0:
                best.setdefault(r.sku, r)
    try:
        if not best:
            raise MoeprofError("no configuration in the plan fits in memory")
        ch.kv = kv_curves(model, vms, best, targets.context_tokens, engine, recipes)
    except MoeprofError as e:
        ch.unavailable["kv"] = str(e)
    if recommended is None:
        ch.unavailable["latency"] = "no configuration meets the targets"
    else:
        try:
            ch.latency = latency_sweep(model, vms, recommended, targets, routing_skew, profiles, engine, steps=steps, recipes=recipes)
        except MoeprofError as e:
            ch.unavailable["latency"] = str(e)
    try:
        ch.throughput = throughput_curves(model, vms, per_sku, recommended, targets, routing_skew, profiles, engine,
                                          lambda r: layout_row(steps, r), recipes)
        if not ch.throughput:
            ch.unavailable["throughput"] = "no SKU has a configuration that meets the targets"
    except MoeprofError as e:
        ch.unavailable["throughput"] = str(e)
    return ch
