"""Numbers behind the plan report's charts, recomputed from the library for the configurations a
plan names: memory per GPU by component (moeprof.memory), KV cache and max batch vs context,
and latency / throughput vs running batch (moeprof.perf through the planner's latency stage and
moeprof.serving). Each function raises ReportDataError with a short reason when its inputs are
not available (a model path that no longer exists, a SKU from a --vm-file, the performance
model failing); the report then says "not available" for that chart alone.
"""

from __future__ import annotations

import math
from pathlib import Path
from dataclasses import dataclass, replace

import numpy as np

from ..planner import LAYOUT_KEYS

GIB = float(2**30)


class ReportDataError(Exception):
    """A chart's inputs are not available; the message says why."""


# ---------------------------------------------------------------------------------------
# Rows of the plan
# ---------------------------------------------------------------------------------------
def candidate_rows(doc: dict) -> list[dict]:
    """Feasible rows for the cost / latency chart: `feasible` when the plan has it, else the
    recommendation and its alternatives."""
    rows = doc.get("feasible") or []
    if not rows:
        rows = ([doc["recommended"]] if doc.get("recommended") else []) + list(doc.get("alternatives") or [])
    return [r for r in rows if r.get("usd_per_month") is not None]


def top_configs(doc: dict, n: int = 4) -> list[dict]:
    """The recommendation, the next alternatives (distinct layouts), then the best row of each
    SKU not shown yet: at most n + the number of SKUs."""
    out, seen = [], set()

    def add(r):
        key = tuple(r.get(k) for k in LAYOUT_KEYS) + (r.get("max_batch"),)
        if key not in seen:
            seen.add(key)
            out.append(r)

    ranked = ([doc["recommended"]] if doc.get("recommended") else []) + list(doc.get("alternatives") or [])
    for r in ranked or list(doc.get("closest") or []):
        if len(out) < n:
            add(r)
    shown = {r["sku"] for r in out}
    for sku, r in best_per_sku(doc).items():
        if sku not in shown:
            add(r)
    return out


def skus_of(doc: dict) -> list[str]:
    """SKUs the plan evaluated, in the order the plan lists them."""
    src = doc.get("sources") or {}
    skus = [k for k, v in src.items() if isinstance(v, dict) and "price" in v]
    for r in candidate_rows(doc) + list(doc.get("rejected") or []):
        if r.get("sku") not in skus and isinstance(r.get("sku"), str):
            skus.append(r["sku"])
    return skus


def best_per_sku(doc: dict) -> dict[str, dict]:
    """The best feasible row of each SKU: the first in the plan's ranking (cost, then quality)."""
    best: dict[str, dict] = {}
    for r in ([doc["recommended"]] if doc.get("recommended") else []) + candidate_rows(doc):
        best.setdefault(r["sku"], r)
    return best


def config_label(r: dict, short: bool = False) -> str:
    base = f"tp{r['tp']} ep{r['ep']} pp{r['pp']} {r['quant']}/KV {r['kv_dtype']}"
    if short:
        return f"{r['sku']} {base}"
    return f"{r['vms']}x {r['sku']} {base} x{r['replicas']} b{r['max_batch']}"


def pareto_front(xs, ys) -> list[int]:
    """Indices of points no other point beats on both x and y (lower is better), by x."""
    order = sorted(range(len(xs)), key=lambda i: (xs[i], ys[i]))
    out, best = [], math.inf
    for i in order:
        if ys[i] < best:
            out.append(i)
            best = ys[i]
    return out


# ---------------------------------------------------------------------------------------
# Catalog look-ups
# ---------------------------------------------------------------------------------------
def load_model_for(doc: dict):
    from ..catalog.models import load_model
    from ..errors import MoeprofError

    try:
        return load_model(doc["inputs"]["model"])
    except MoeprofError as e:
        raise ReportDataError(f"model {doc['inputs']['model']!r} cannot be loaded: {e}") from None


def vm_for(sku: str):
    from ..catalog.hardware import load_vms

    vms = load_vms()
    if sku not in vms:
        raise ReportDataError(f"VM SKU {sku!r} is not in the built-in catalog (was it from a --vm-file?)")
    return vms[sku]


def _memory(model, r: dict):
    from ..catalog.quant import get_recipe
    from ..errors import MoeprofError
    from ..memory import Parallelism, load_engine, memory_per_gpu

    vm = vm_for(r["sku"])
    par = Parallelism(tp=r["tp"], ep=r["ep"], pp=r["pp"])
    engine = replace(load_engine(), max_num_seqs=int(r["max_batch"]))
    vms_per_replica = max(1, math.ceil(par.gpus / vm.gpus_per_vm))
    try:
        return vm, engine, memory_per_gpu(model, vm, vms_per_replica, par, get_recipe(r["quant"], model), r["kv_dtype"], engine)
    except MoeprofError as e:
        raise ReportDataError(str(e)) from None


# ---------------------------------------------------------------------------------------
# Memory per GPU by component
# ---------------------------------------------------------------------------------------
@dataclass
class MemoryBar:
    label: tuple[str, ...]  # lines of the axis label
    row: dict
    parts_gib: dict  # stack name -> GiB, bottom to top
    capacity_gib: float  # usable GPU memory
    note: str = ""


def memory_bars(doc: dict, rows: list[dict]) -> tuple[list[MemoryBar], dict]:
    """Stacked memory per GPU for each row; and the engine settings behind them."""
    model = load_model_for(doc)
    bars, engine_info = [], {}
    for r in rows:
        vm, engine, m = _memory(model, r)
        parts = {f"weights: {k.replace('_', ' ')}": v / GIB for k, v in m.weights_bytes_by_component.items() if v > 0}
        parts["activation peak"] = m.activation_peak_bytes_per_gpu / GIB
        parts["non-torch (NCCL, CUDA context)"] = m.non_torch_bytes_per_gpu / GIB
        parts["CUDA graphs"] = m.cuda_graph_bytes_per_gpu / GIB
        parts["KV cache"] = max(m.kv_budget_bytes_per_gpu, 0.0) / GIB
        parts[f"reserved (1 - gpu_memory_utilization {engine.gpu_memory_utilization:g})"] = (
            m.usable_memory_bytes_per_gpu - m.budget_bytes_per_gpu
        ) / GIB
        note = ""
        planned = r.get("kv_budget_bytes_per_gpu")
        if planned and abs(planned - m.kv_budget_bytes_per_gpu) > 0.01 * abs(planned):
            note = (
                f"the plan recorded {planned / GIB:.1f} GiB KV per GPU, this catalog gives "
                f"{m.kv_budget_bytes_per_gpu / GIB:.1f} GiB (catalog changed since the plan?)"
            )
        alts = [id(a) for a in doc.get("alternatives") or []]
        closest = [id(a) for a in doc.get("closest") or []]
        if r is doc.get("recommended"):
            tag = "recommended"
        elif id(r) in alts:
            tag = f"alternative {alts.index(id(r)) + 1}"
        elif id(r) in closest:
            tag = f"closest miss {closest.index(id(r)) + 1}"
        else:
            tag = "best of SKU"
        lines = (f"{tag}: {r['sku']}", f"tp{r['tp']} ep{r['ep']} pp{r['pp']} b{r['max_batch']}", f"{r['quant']} / KV {r['kv_dtype']}")
        bars.append(MemoryBar(lines, r, parts, m.usable_memory_bytes_per_gpu / GIB, note))
        engine_info = m.engine
    return bars, engine_info


# ---------------------------------------------------------------------------------------
# KV cache and max batch vs context
# ---------------------------------------------------------------------------------------
@dataclass
class KvCurve:
    sku: str
    label: str
    context_tokens: np.ndarray
    kv_gib_per_seq: np.ndarray  # per GPU
    max_seqs: np.ndarray  # sequences of that context that fit the KV budget per GPU
    kv_budget_gib: float
    max_context_tokens: int


def context_grid(model_max: int, target: int | None = None, points: int = 64) -> np.ndarray:
    lo = 1024 if model_max > 1024 else max(1, model_max // 8)
    g = np.unique(np.geomspace(lo, model_max, points).astype(np.int64))
    if target and lo < target < model_max:
        g = np.unique(np.append(g, target))
    return g


def kv_curves(doc: dict) -> tuple[list[KvCurve], int]:
    """Per SKU (its best feasible configuration, else its closest miss): KV per sequence and max batch vs context,
    up to the model's maximum context. Returns the curves and the model maximum."""
    from ..memory import kv_bytes_for_sequence, max_context_for_budget

    model = load_model_for(doc)
    best = best_per_sku(doc)
    for r in [] if best else doc.get("closest") or []:  # nothing feasible: the closest misses
        if (r.get("kv_budget_bytes_per_gpu") or 0) > 0:
            best.setdefault(r["sku"], r)
    if not best:
        raise ReportDataError("no configuration in the plan fits in memory")
    grid = context_grid(model.max_position_embeddings, int(doc["inputs"]["context_tokens"]))
    out = []
    for sku, r in best.items():
        _, _, m = _memory(model, r)
        per_kind = m.kv_bytes_per_token_per_gpu_by_kind
        seq = np.array([kv_bytes_for_sequence(model, per_kind, float(c)) for c in grid])
        budget = max(m.kv_budget_bytes_per_gpu, 0.0)
        seqs = np.floor(budget / np.maximum(seq, 1e-9))
        max_ctx = min(max_context_for_budget(model, per_kind, budget), model.max_position_embeddings)
        out.append(KvCurve(sku, config_label(r, short=True), grid, seq / GIB, seqs, budget / GIB, max_ctx))
    return out, model.max_position_embeddings


# ---------------------------------------------------------------------------------------
# Latency and throughput vs running batch (recommended configuration)
# ---------------------------------------------------------------------------------------
@dataclass
class LatencySweep:
    running_batch: np.ndarray  # sequences per replica
    ttft_ms: np.ndarray  # at the plan's percentile
    tpot_ms: np.ndarray
    output_tokens_per_s: np.ndarray  # whole deployment (all replicas)
    qps: np.ndarray  # whole deployment
    decode_batch: np.ndarray  # BATCH_GRID up to max batch
    decode_step_ms: np.ndarray  # decode step time at that batch (idle queue)
    prefill_ms: float
    calibration: str


def latency_sweep(doc: dict, r: dict | None = None, points: int = 48) -> LatencySweep:
    """TTFT, TPOT and throughput of one configuration as its load rises from idle to saturation
    (the planner's own latency stage, then moeprof.serving along the arrival rate)."""
    import pandas as pd

    from .. import serving

    r = r or doc.get("recommended")
    if not r:
        raise ReportDataError("the plan has no recommended configuration")
    try:
        from ..planner import SearchSpace, Targets, default_profiles, layout_latency
    except ImportError as e:  # pragma: no cover - planner without the latency stage
        raise ReportDataError(f"the planner's latency stage is not importable ({e})") from None
    model = load_model_for(doc)
    vm = vm_for(r["sku"])
    inp = doc["inputs"]
    targets = Targets(
        input_tokens=int(inp["input_tokens"]), output_tokens=int(inp["output_tokens"]),
        context_tokens=int(inp["context_tokens"]), qps=float(inp["qps"]), ttft_ms=float(inp["ttft_ms"]),
        tpot_ms=float(inp["tpot_ms"]), percentile=float(inp["percentile"]),
    )
    space = SearchSpace(routing_skew=float(inp.get("routing_skew") or 0.0))
    gpus = r["tp"] * r["pp"]
    layout = pd.DataFrame([{
        "sku": r["sku"], "gpu": vm.gpu.key, "tp": r["tp"], "ep": r["ep"], "pp": r["pp"], "quant": r["quant"],
        "kv_dtype": r["kv_dtype"], "gpus_per_replica": gpus, "vms_per_replica": max(1, math.ceil(gpus / vm.gpus_per_vm)),
    }])
    profiles = default_profiles({r["sku"]: vm})
    used = ((inp.get("profiles") or {}).get(vm.gpu.key) or {}).get("path")
    if used and Path(used).is_file():  # the plan ran with a user profile: use it again
        from ..profile import load_profile

        profiles[vm.gpu.key] = load_profile(used)
    try:
        lat = layout_latency(model, {r["sku"]: vm}, layout, targets, space, profiles)
    except Exception as e:  # the performance model is another package: report, do not crash
        raise ReportDataError(f"the performance model failed: {type(e).__name__}: {e}") from None
    prefill = float(lat.prefill_s.iloc[0])
    s_grid = np.asarray(lat.decode_s_grid.iloc[0], dtype=float)[None, :]
    B = float(r["max_batch"])
    O = float(targets.output_tokens)
    sat = 1.0 / float(serving.saturated_service_s(prefill, O, s_grid, np.array([B]))[0])
    lam = sat * np.linspace(0.002, 0.985, points)
    n = len(lam)
    S = np.repeat(s_grid, n, axis=0)
    res = serving.latency_at(lam, np.full(n, prefill), O, S, np.full(n, B), targets.percentile)
    ttft, tpot, b = (np.asarray(v, dtype=float) for v in res[:3])
    replicas = int(r["replicas"])
    keep = serving.BATCH_GRID <= B
    return LatencySweep(
        running_batch=b,
        ttft_ms=ttft * 1e3,
        tpot_ms=tpot * 1e3,
        output_tokens_per_s=lam * O * replicas,
        qps=lam * replicas,
        decode_batch=serving.BATCH_GRID[keep],
        decode_step_ms=s_grid[0][keep] * 1e3,
        prefill_ms=prefill * 1e3,
        calibration=str(lat["calibration"].iloc[0]) if "calibration" in lat else "",
    )


# ---------------------------------------------------------------------------------------
# Predicted vs measured (moeprof validate)
# ---------------------------------------------------------------------------------------
@dataclass
class ValidationPoints:
    quantity: str  # series name, unit in parentheses or as a suffix
    unit: str  # ms | bytes | ...
    labels: list[str]
    predicted: list[float]
    measured: list[float]


TIME_UNITS = ("ms", "s", "us")


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


def validation_points(validation) -> list[ValidationPoints]:
    """Pairs from `moeprof validate --json`: rows with predicted / measured / quantity / probe /
    case (one series per probe and quantity); also rows with predicted_<q> and measured_<q>
    fields (one series per <q>, the unit its suffix)."""
    rows = validation.get("rows") if isinstance(validation, dict) else validation
    if not isinstance(rows, list):
        raise ReportDataError("the validation document has no 'rows' list")
    by_q: dict[str, ValidationPoints] = {}

    def add(series, unit, label, v, w):
        if _positive(v) and _positive(w):
            vp = by_q.setdefault(series, ValidationPoints(series, unit, [], [], []))
            vp.labels.append(label)
            vp.predicted.append(float(v))
            vp.measured.append(float(w))

    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            continue
        name = next((str(row[n]) for n in ("case", "name", "op", "config") if n in row), f"row {i}")
        if "predicted" in row and "measured" in row:
            unit = str(row.get("quantity") or "value")
            probe = str(row.get("probe") or "row")
            add(f"{probe} ({unit})", unit, f"{probe} {name}", row["predicted"], row["measured"])
            continue
        for k, v in row.items():
            if k.startswith("predicted_"):
                q = k[len("predicted_"):]
                add(q, q.rsplit("_", 1)[-1], name, v, row.get(f"measured_{q}"))
    if not by_q:
        raise ReportDataError("no predicted / measured pairs in the validation rows")
    return list(by_q.values())


def error_band_pct(points: list[ValidationPoints], quantile: float = 0.9) -> tuple[float, int]:
    """The quantile of |predicted - measured| / measured (%) over the timed validation points (all
    points when none is timed), and how many points that is."""
    timed = [p for p in points if p.unit in TIME_UNITS] or points
    errs = sorted(abs(a - b) / b * 100.0 for p in timed for a, b in zip(p.predicted, p.measured))
    k = min(len(errs) - 1, max(0, math.ceil(quantile * len(errs)) - 1))
    return errs[k], len(errs)
