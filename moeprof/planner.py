"""Planner: enumerate deployments, keep those that fit memory and meet the targets, rank by cost.

Search space (one row each, evaluated with numpy in bulk):
    VM SKU x TP x EP x PP x quantization x KV dtype x max batch (vLLM max_num_seqs) x replicas
VM count follows from the replicas (replicas share a VM when tp x pp < GPUs per VM).
Stages:
 1. memory   (moeprof.memory) per parallel layout; per max batch the activation peak and the KV
             needed by `max_batch` sequences of input + output tokens, and one of `context` tokens.
 2. latency  (moeprof.perf) decode step on a batch grid and one prefill, per parallel layout.
 3. serving  (moeprof.serving) per-replica QPS capacity at the TTFT / TPOT targets; the latency
             and utilisation at the target QPS split over the replicas.
 4. cost     VMs x $/h; $/month at 730 h; $/M tokens; J/token.
Each rejected row keeps the first reason it failed: memory, TTFT, TPOT or QPS.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from importlib import resources

import numpy as np
import pandas as pd

from . import serving
from .catalog.hardware import VmSpec, load_vms
from .catalog.identity import model_ref
from .catalog.models import ModelSpec
from .catalog.quant import KV_DTYPES, get_recipe, load_recipes
from .errors import MoeprofError
from .fileio import json_safe
from .perf import idle_power_w
from .memory import (
    Parallelism,
    activation_peak_bytes,
    check_parallelism,
    kv_bytes_for_sequence,
    load_engine,
    max_context_for_budget,
    memory_per_gpu,
)
from .units import HOURS_PER_MONTH

MAX_BATCH_OPTIONS = (16, 32, 64, 128, 256, 512, 1024)
# One deployment layout: everything but the max batch and the replica count.
LAYOUT_KEYS = ["sku", "tp", "ep", "pp", "quant", "kv_dtype"]
TP_OPTIONS = (1, 2, 4, 8)
PP_OPTIONS = (1, 2, 4)


def load_target_defaults() -> dict:
    return json.loads((resources.files("moeprof") / "data" / "targets.json").read_text())


@dataclass(frozen=True)
class Targets:
    input_tokens: int
    output_tokens: int
    context_tokens: int
    qps: float
    ttft_ms: float
    tpot_ms: float
    percentile: float

    @classmethod
    def defaults(cls, **over) -> "Targets":
        d = {k: v["value"] for k, v in load_target_defaults().items() if not k.startswith("_")}
        d.update({k: v for k, v in over.items() if v is not None})
        t = cls(**d)
        if t.input_tokens + t.output_tokens > t.context_tokens:
            raise MoeprofError(
                f"--input-tokens + --output-tokens = {t.input_tokens + t.output_tokens:,} exceeds --context {t.context_tokens:,}"
            )
        if not 50 <= t.percentile < 100:
            raise MoeprofError(f"--percentile must be in [50, 100), got {t.percentile:g}")
        return t


@dataclass(frozen=True)
class SearchSpace:
    skus: tuple[str, ...] | None = None
    quants: tuple[str, ...] | None = None
    kv_dtypes: tuple[str, ...] = tuple(KV_DTYPES)
    max_vms: int = 32
    routing_skew: float = 0.0


@dataclass
class PlanResult:
    model: str
    targets: Targets
    space: SearchSpace
    rows: pd.DataFrame  # every evaluated row
    recommended: dict | None
    alternatives: list[dict]
    rejected: list[dict]
    rejected_counts: dict
    closest: list[dict]
    sources: dict
    feasible: list[dict] = field(default_factory=list)
    profiles_used: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    configs_evaluated: int = 0
    model_name: str = ""  # display name; `model` is what loads it again (name or config path)
    hf_id: str | None = None

    def to_json(self) -> dict:
        return {
            "inputs": {"model": self.model, "model_name": self.model_name or self.model, "hf_id": self.hf_id, **asdict(self.targets), **asdict(self.space), "profiles": self.profiles_used},
            "recommended": self.recommended,
            "alternatives": self.alternatives,
            "rejected": self.rejected,
            "rejected_counts": self.rejected_counts,
            "closest": self.closest,
            "feasible": self.feasible,
            "configs_evaluated": self.configs_evaluated,
            "warnings": self.warnings,
            "sources": self.sources,
        }


# ----------------------------------------------------------------------------------------
# Stage 1: layouts and memory
# ----------------------------------------------------------------------------------------
def _layouts(model: ModelSpec, vm: VmSpec, max_vms: int):
    for tp in TP_OPTIONS:
        if tp > vm.gpus_per_vm:
            continue
        for pp in PP_OPTIONS:
            if tp * pp > vm.gpus_per_vm * max_vms:
                continue
            if tp * pp > vm.gpus_per_vm and (tp * pp) % vm.gpus_per_vm:
                continue
            for ep in sorted({1, tp}):
                par = Parallelism(tp=tp, ep=ep, pp=pp)
                if check_parallelism(model, par) is None:
                    yield par


def _memory_rows(model, vms, targets, space, engine) -> list[dict]:
    """One row per (sku, layout, quant, kv dtype, max batch) with its memory verdict."""
    recipes = load_recipes()
    quants = space.quants or tuple(recipes)
    engines = {b: replace(engine, max_num_seqs=b) for b in MAX_BATCH_OPTIONS}
    rows = []
    seq_tokens = targets.input_tokens + targets.output_tokens
    for sku, vm in vms.items():
        for par in _layouts(model, vm, space.max_vms):
            vms_per_replica = max(1, math.ceil(par.gpus / vm.gpus_per_vm))
            for qn in quants:
                q = recipes[qn]
                if q.uses_fp8 and not vm.gpu.supports_fp8:
                    continue
                for kv in space.kv_dtypes:
                    m = memory_per_gpu(model, vm, vms_per_replica, par, q, kv, engine, None)
                    base_act, _ = activation_peak_bytes(model, par, engine)
                    per_kind = m.kv_bytes_per_token_per_gpu_by_kind
                    seq_bytes = kv_bytes_for_sequence(model, per_kind, seq_tokens)
                    for b in MAX_BATCH_OPTIONS:
                        act, _ = activation_peak_bytes(model, par, engines[b])
                        kv_budget = m.kv_budget_bytes_per_gpu + base_act - act
                        max_ctx = min(max_context_for_budget(model, per_kind, max(kv_budget, 0.0)), model.max_position_embeddings)
                        # microbatches of max_batch / pp sequences are resident on each stage at once
                        seqs_fit = int(max(kv_budget, 0.0) // seq_bytes) if seq_bytes else 0
                        reason = ""
                        if kv_budget <= 0:
                            reason = (
                                f"memory: weights {m.weights_bytes_per_gpu / 2**30:.1f} GiB + overhead "
                                f"{(m.overhead_bytes_per_gpu - base_act + act) / 2**30:.1f} GiB exceed "
                                f"{m.budget_bytes_per_gpu / 2**30:.1f} GiB per GPU"
                            )
                        elif max_ctx < targets.context_tokens:
                            reason = f"memory: max context {max_ctx:,} < {targets.context_tokens:,} tokens"
                        elif seqs_fit < b:
                            reason = f"memory: KV holds {seqs_fit} sequences of {seq_tokens:,} tokens < max batch {b}"
                        rows.append(
                            dict(
                                sku=sku,
                                gpu=vm.gpu.key,
                                tp=par.tp,
                                ep=par.ep,
                                pp=par.pp,
                                quant=qn,
                                kv_dtype=kv,
                                max_batch=b,
                                gpus_per_replica=par.gpus,
                                vms_per_replica=vms_per_replica,
                                weights_bytes_per_gpu=m.weights_bytes_per_gpu,
                                kv_budget_bytes_per_gpu=kv_budget,
                                overhead_bytes_per_gpu=m.overhead_bytes_per_gpu - base_act + act,
                                kv_bytes_per_token_per_gpu=m.kv_bytes_per_token_per_gpu,
                                max_context_tokens=max_ctx,
                                memory_reason=reason,
                            )
                        )
    return rows


# ----------------------------------------------------------------------------------------
# Stage 2: latency from the performance model
# ----------------------------------------------------------------------------------------
def layout_latency(model, vms, layouts: pd.DataFrame, targets, space, profiles) -> pd.DataFrame:
    """Per distinct (sku, layout, quant, kv): decode step on BATCH_GRID, prefill, energies."""
    from . import perf

    out = []
    ctx_tokens = targets.input_tokens + targets.output_tokens / 2.0  # mean KV length while decoding
    grid = serving.BATCH_GRID
    for (sku, qn, kv), g in layouts.groupby(["sku", "quant", "kv_dtype"], sort=False):
        vm = vms[sku]
        ctx = perf.make_context(model, vm.gpu, get_recipe(qn), kv, profiles.get(vm.gpu.key), vm, space.routing_skew)
        n = len(g)
        tp = np.repeat(g.tp.to_numpy(), len(grid))
        ep = np.repeat(g.ep.to_numpy(), len(grid))
        pp = np.repeat(g.pp.to_numpy(), len(grid))
        nv = np.repeat(g.vms_per_replica.to_numpy(), len(grid))
        b = np.tile(grid, n)
        micro = np.maximum(b / pp, 1.0)  # pp microbatches in flight, b / pp sequences each
        d = perf.decode_step(ctx, micro, np.full_like(b, ctx_tokens), tp=tp, ep=ep, pp=pp, num_vms=nv)
        # A sequence waits for its microbatch to pass all pp stages: pp x the slowest stage.
        step_s = np.where(pp > 1, pp * np.asarray(d.stage_s, dtype=float), np.asarray(d.total_s, dtype=float))
        step_j = np.asarray(d.energy_j, dtype=float) * pp  # every stage's GPUs draw for each microbatch
        p = perf.prefill_step(
            ctx,
            np.full(n, float(targets.input_tokens)),
            np.full(n, float(targets.input_tokens)),
            tp=g.tp.to_numpy(),
            ep=g.ep.to_numpy(),
            pp=g.pp.to_numpy(),
            num_vms=g.vms_per_replica.to_numpy(),
        )
        h = g.copy()
        h["prefill_s"] = np.asarray(p.total_s, dtype=float)
        h["prefill_j"] = np.asarray(p.energy_j, dtype=float)
        h["decode_s_grid"] = list(step_s.reshape(n, len(grid)))
        h["decode_j_grid"] = list((step_j * micro / b).reshape(n, len(grid)))  # per microbatch-step -> per step of b
        h["calibration"] = perf.calibration_label(ctx)
        out.append(h)
    return pd.concat(out, ignore_index=True) if out else layouts.assign(prefill_s=[])


# ----------------------------------------------------------------------------------------
# Stages 3-4: serving, cost, ranking
# ----------------------------------------------------------------------------------------
def plan(
    model: ModelSpec,
    targets: Targets,
    space: SearchSpace | None = None,
    vm_file: str | None = None,
    prices: dict | None = None,
    profiles: dict | None = None,
    engine=None,
) -> PlanResult:
    space = space or SearchSpace()
    engine = engine or load_engine()
    all_vms = load_vms(vm_file, prices)
    if space.skus:
        unknown = [s for s in space.skus if s not in all_vms]
        if unknown:
            from .errors import UnknownNameError

            raise UnknownNameError("VM SKU", unknown[0], all_vms)
        vms = {k: all_vms[k] for k in space.skus}
    else:
        vms = all_vms
    if space.quants:
        recipes = load_recipes()
        for q in space.quants:
            if q not in recipes:
                from .errors import UnknownNameError

                raise UnknownNameError("quantization recipe", q, recipes)
    profiles = profiles if profiles is not None else default_profiles(vms)

    mem = pd.DataFrame(_memory_rows(model, vms, targets, space, engine))
    if mem.empty:
        raise MoeprofError(f"no parallel layout of {model.name} is possible on {', '.join(vms)}")
    fits = mem[mem.memory_reason == ""]
    layouts = fits.drop_duplicates(LAYOUT_KEYS)[
        ["sku", "gpu", "tp", "ep", "pp", "quant", "kv_dtype", "gpus_per_replica", "vms_per_replica"]
    ]
    lat = layout_latency(model, vms, layouts, targets, space, profiles) if len(layouts) else None

    rows = _serve_and_cost(mem, lat, vms, targets, space)
    result = _rank(model, targets, space, rows, vms, profiles, engine)
    result.profiles_used = {
        g: {"path": p.path, "source": p.source, "label": p.label} for g, p in profiles.items()
    }
    return result


def default_profiles(vms) -> dict:
    from .profile import default_profile_for

    out = {}
    for vm in vms.values():
        p = default_profile_for(vm.gpu.key)
        if p is not None:
            out[vm.gpu.key] = p
    return out


def _serve_and_cost(mem: pd.DataFrame, lat, vms, targets: Targets, space: SearchSpace) -> pd.DataFrame:
    keys = LAYOUT_KEYS
    if lat is not None and len(lat):
        df = mem.merge(lat[keys + ["prefill_s", "prefill_j", "decode_s_grid", "decode_j_grid", "calibration"]], on=keys, how="left")
    else:
        df = mem.assign(prefill_s=np.nan, prefill_j=np.nan, decode_s_grid=None, decode_j_grid=None, calibration="")
    ok = df.memory_reason == ""
    n_grid = len(serving.BATCH_GRID)
    s_grid = np.ones((len(df), n_grid))
    j_grid = np.zeros((len(df), n_grid))
    if ok.any():
        s_grid[ok.to_numpy()] = np.stack(df.loc[ok, "decode_s_grid"].to_list())
        j_grid[ok.to_numpy()] = np.stack(df.loc[ok, "decode_j_grid"].to_list())
    prefill = np.where(ok, df.prefill_s.fillna(1.0).to_numpy(), 1.0)
    B = df.max_batch.to_numpy(dtype=float)
    O = float(targets.output_tokens)
    cap_r = serving.capacity_qps(
        prefill, O, s_grid, B, targets.ttft_ms / 1e3, targets.tpot_ms / 1e3, targets.percentile
    )
    cap_r = np.where(ok, cap_r, 0.0)
    # Idle latency: what a lone request sees (tells TTFT / TPOT misses from QPS misses).
    ttft0, tpot0, _, _ = serving.latency_at(np.full(len(df), 1e-9), prefill, O, s_grid, B, targets.percentile)

    # Replicas: every count from 1 to what max_vms allows.
    gpv = df.sku.map({k: v.gpus_per_vm for k, v in vms.items()}).to_numpy()
    per_vm = np.where(df.gpus_per_replica <= gpv, gpv // np.maximum(df.gpus_per_replica, 1), 0)
    r_max = np.where(per_vm > 0, per_vm * space.max_vms, space.max_vms // df.vms_per_replica.clip(lower=1))
    r_max = np.maximum(r_max, 1)
    idx = np.repeat(np.arange(len(df)), r_max)
    starts = np.repeat(np.cumsum(r_max) - r_max, r_max)
    r = np.arange(len(idx)) - starts + 1  # 1..r_max for each row
    rows = df.iloc[idx].reset_index(drop=True)
    rows["replicas"] = r
    per_vm_r = per_vm[idx]
    rows["vms"] = np.where(per_vm_r > 0, np.ceil(r / np.maximum(per_vm_r, 1)), r * rows.vms_per_replica).astype(int)
    rows["gpus"] = rows.replicas * rows.gpus_per_replica
    price = rows.sku.map({k: v.price.usd_per_hour for k, v in vms.items()}).to_numpy()
    rows["usd_per_hour"] = rows.vms * price
    rows["usd_per_month"] = rows.usd_per_hour * HOURS_PER_MONTH
    rows["price_estimate"] = rows.sku.map({k: v.price.estimate for k, v in vms.items()})
    rows["qps_capacity"] = cap_r[idx] * r

    lam = targets.qps / r
    # Latency at the target load, computed for the rows that fit in memory (the rest stay inf).
    live = ok.to_numpy()[idx]
    ttft, tpot = np.full(len(idx), np.inf), np.full(len(idx), np.inf)
    b, rho = np.ones(len(idx)), np.full(len(idx), np.inf)
    if live.any():
        li = idx[live]
        # The uncapped running batch depends on the layout and the replica count, not on the
        # max batch: solve it once per (layout, replicas) and share it across max batches.
        layout_id = df.groupby(LAYOUT_KEYS, sort=False).ngroup().to_numpy()
        pair = layout_id[li].astype(np.int64) * (int(r.max()) + 1) + r[live]
        uniq, first, inv = np.unique(pair, return_index=True, return_inverse=True)
        bf = serving.free_batch(lam[live][first], O, prefill[li][first], s_grid[li][first])
        ttft[live], tpot[live], b[live], rho[live] = serving.latency_at(
            lam[live], prefill[li], O, s_grid[li], B[li], targets.percentile, b_free=bf[inv]
        )
    rho_p = lam * prefill[idx]
    rows["ttft_ms"] = ttft * 1e3
    rows["tpot_ms"] = tpot * 1e3
    rows["running_batch"] = b
    rows["utilization"] = rho
    rows["ttft_idle_ms"] = ttft0[idx] * 1e3
    rows["tpot_idle_ms"] = tpot0[idx] * 1e3
    rows["tokens_per_s"] = targets.qps * (targets.input_tokens + O) * (rho < 1)
    rows["output_tokens_per_s"] = targets.qps * O * (rho < 1)

    # Energy per output token: prefill + decode share + idle draw of the unused time.
    j_step = serving.interp_step(j_grid[idx], b)
    idle_w = rows.gpus_per_replica.to_numpy() * rows.sku.map({k: idle_power_w(v.gpu) for k, v in vms.items()}).to_numpy()
    e_req = rows.prefill_j.fillna(0).to_numpy() + O * j_step / np.maximum(b, 1) + np.clip(1 - rho, 0, 1) * idle_w / np.maximum(lam, 1e-12)
    rows["joules_per_token"] = e_req / O

    # Cost per million tokens; input / output split by their share of GPU time.
    tok_in_h = targets.qps * targets.input_tokens * 3600
    tok_out_h = targets.qps * O * 3600
    share_p = np.where(rho > 0, rho_p / np.maximum(rho, 1e-12), 0.5)
    rows["usd_per_million_tokens"] = rows.usd_per_hour / (tok_in_h + tok_out_h) * 1e6
    rows["usd_per_million_input_tokens"] = rows.usd_per_hour * share_p / tok_in_h * 1e6
    rows["usd_per_million_output_tokens"] = rows.usd_per_hour * (1 - share_p) / tok_out_h * 1e6

    reason = rows.memory_reason.to_numpy(dtype=object).copy()
    t_ttft, t_tpot = targets.ttft_ms, targets.tpot_ms
    mem_ok = reason == ""
    miss_ttft0 = mem_ok & (rows.ttft_idle_ms.to_numpy() > t_ttft)
    miss_tpot0 = mem_ok & ~miss_ttft0 & (rows.tpot_idle_ms.to_numpy() > t_tpot)
    reason[miss_ttft0] = [f"TTFT: {v:.0f} ms > {t_ttft:g} ms even unloaded" for v in rows.ttft_idle_ms[miss_ttft0]]
    reason[miss_tpot0] = [f"TPOT: {v:.1f} ms > {t_tpot:g} ms even at batch 1" for v in rows.tpot_idle_ms[miss_tpot0]]
    rest = mem_ok & ~miss_ttft0 & ~miss_tpot0
    short = rest & (rows.qps_capacity.to_numpy() < targets.qps)
    reason[short] = [
        f"QPS: capacity {c:.2f} < {targets.qps:g} req/s at the latency targets" for c in rows.qps_capacity[short]
    ]
    stage = np.where(mem_ok, 3, 0)  # how far a row got: memory 0 < TTFT 1 < TPOT 2 < QPS 3
    stage[miss_ttft0] = 1
    stage[miss_tpot0] = 2
    rows["reason"] = reason
    rows["stage"] = stage
    rows["feasible"] = reason == ""
    return rows.drop(columns=["decode_s_grid", "decode_j_grid"])


ROW_FIELDS = (
    "sku", "gpu", "vms", "gpus", "tp", "ep", "pp", "replicas", "quant", "kv_dtype", "max_batch",
    "max_context_tokens", "ttft_ms", "tpot_ms", "tokens_per_s", "output_tokens_per_s", "qps_capacity",
    "running_batch", "utilization", "usd_per_hour", "usd_per_month", "usd_per_million_tokens",
    "usd_per_million_input_tokens", "usd_per_million_output_tokens", "joules_per_token",
    "weights_bytes_per_gpu", "kv_budget_bytes_per_gpu", "overhead_bytes_per_gpu", "kv_bytes_per_token_per_gpu",
    "price_estimate", "calibration",
)


def _row_dict(r) -> dict:
    """One planner row (a pandas Series) as a JSON-ready dict of ROW_FIELDS."""
    return json_safe({k: r[k] for k in ROW_FIELDS})


def _records(df: pd.DataFrame) -> list[dict]:
    """Planner rows as JSON-ready dicts of ROW_FIELDS."""
    return [json_safe(rec) for rec in df[list(ROW_FIELDS)].to_dict("records")] if len(df) else []


def rank_feasible(rows: pd.DataFrame) -> pd.DataFrame:
    """Feasible rows, best first: cost; at equal cost the recipe closest to the released
    weights (quality_rank), then bf16 KV over fp8 KV, then lower TPOT, TTFT and fewer GPUs."""
    ranks = {k: r.quality_rank for k, r in load_recipes().items()}
    feas = rows[rows.feasible]
    keys = feas.assign(_q=feas.quant.map(ranks), _kv=(feas.kv_dtype != "bf16").astype(int))
    order = keys.sort_values(["usd_per_month", "_q", "_kv", "tpot_ms", "ttft_ms", "gpus"], kind="stable").index
    return feas.loc[order]


def _rank(model, targets, space, rows: pd.DataFrame, vms, profiles, engine) -> PlanResult:
    feas = rank_feasible(rows)
    sources = _sources(model, vms, profiles, engine)
    warnings = [
        f"{k}: price is an ESTIMATE ({v.price.source})" for k, v in vms.items() if v.price.estimate
    ]
    uncal = sorted({vm.gpu.key for vm in vms.values() if vm.gpu.key not in profiles or not profiles[vm.gpu.key].calibrated})
    if uncal:
        warnings.append(f"latency for {', '.join(uncal)} is not calibrated by a measured moeprof profile (published / datasheet figures)")
    if model.estimated_fields:
        warnings.append(f"{model.name}: config fields are estimates ({len(model.estimated_fields)} fields); see `moeprof models show {model.name}`")

    recommended, alternatives = None, []
    if len(feas):
        best = feas.iloc[0]
        recommended = _row_dict(best)
        recommended["sources"] = sources
        # alternatives: the best row of each other layout
        alternatives = _records(feas.drop_duplicates(LAYOUT_KEYS).iloc[1:11])

    # Rejected: each (sku, layout, quant, kv dtype) none of whose rows is feasible, with the
    # reason of its most promising row (memory < TTFT < TPOT < QPS in how far it got).
    keys = LAYOUT_KEYS
    rej = rows.loc[~rows.feasible, keys + ["reason", "qps_capacity", "stage", "kv_budget_bytes_per_gpu"]]
    # the most promising row of each layout: furthest stage, then most capacity, then most KV room
    rej = rej.sort_values(
        ["stage", "qps_capacity", "kv_budget_bytes_per_gpu"], ascending=[False, False, False], kind="stable"
    ).drop_duplicates(keys)
    if len(feas):
        ok_keys = feas[keys].drop_duplicates().assign(_ok=True)
        rej = rej.merge(ok_keys, on=keys, how="left")
        rej = rej[rej._ok.isna()]
    rejected = [json_safe(rec) for rec in rej[keys + ["reason"]].to_dict("records")]
    counts: dict[str, int] = {}
    for item in rejected:
        k = item["reason"].split(":")[0]
        counts[k] = counts.get(k, 0) + 1

    closest = []
    if recommended is None:
        m = rows[rows.memory_reason == ""].copy()
        if len(m):
            m["violation"] = np.maximum.reduce(
                [m.ttft_ms / targets.ttft_ms, m.tpot_ms / targets.tpot_ms, targets.qps / np.maximum(m.qps_capacity, 1e-12)]
            )
            for _, r in m.sort_values(["violation", "usd_per_month"]).head(5).iterrows():
                d = _row_dict(r)
                d["misses"] = [
                    s
                    for s, bad in (
                        (f"TTFT {r.ttft_ms:.0f} ms > {targets.ttft_ms:g} ms", r.ttft_ms > targets.ttft_ms),
                        (f"TPOT {r.tpot_ms:.1f} ms > {targets.tpot_ms:g} ms", r.tpot_ms > targets.tpot_ms),
                        (f"QPS capacity {r.qps_capacity:.2f} < {targets.qps:g}", r.qps_capacity < targets.qps),
                    )
                    if bad
                ]
                closest.append(d)
        else:
            for _, r in rows.sort_values("max_context_tokens", ascending=False).head(5).iterrows():
                d = _row_dict(r)
                d["misses"] = [r.memory_reason]
                closest.append(d)

    frontier = feas.drop_duplicates(LAYOUT_KEYS + ["max_batch"])
    return PlanResult(
        feasible=_records(frontier),
        model=model_ref(model),
        model_name=model.name,
        hf_id=model.hf_id,
        targets=targets,
        space=space,
        rows=rows,
        recommended=recommended,
        alternatives=alternatives,
        rejected=rejected,
        rejected_counts=counts,
        closest=closest,
        sources=sources,
        warnings=warnings,
        configs_evaluated=len(rows),
    )


def _sources(model, vms, profiles, engine) -> dict:
    out = {
        "model": list(model.sources) or [model.source_path],
        "engine": engine.sources,
        "targets": {k: v.get("source") for k, v in load_target_defaults().items() if not k.startswith("_")},
    }
    for k, vm in vms.items():
        p = profiles.get(vm.gpu.key)
        out[k] = {
            "price": vm.price.source,
            "price_estimate": vm.price.estimate,
            "gpu": vm.gpu.sources,
            "performance": p.label if p is not None else "datasheet ceilings x published efficiencies (moeprof/data/efficiency.json)",
        }
    return out
