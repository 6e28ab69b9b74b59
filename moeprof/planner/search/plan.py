"""`plan()`: the whole search, from a model and targets to a PlanDocument.

    layouts   memory rows per (SKU, TP x EP x PP, quant, KV dtype, max batch)   planner.search.layouts
    latency   the performance model per distinct layout                           deployment.steps
    serve     capacity and latency at the target QPS per count of units              planner.search.serve
    bands     the error band of each figure, VMs at both edges, headroom          planner.search.bands
    costs     $/h, $/month, $/M tokens, J/token                                   planner.search.cost
    verdicts  why each row is not feasible (typed kind)                           planner.search.verdicts
    checkpoint the published checkpoint of each row; none: rejected (kind checkpoint)  planner.search.checkpoints
    rank      best first, rejected layouts, closest misses, best per SKU          planner.search.rank
    relax     when nothing is feasible: the least change of each target that is   planner.search.relax
    redundancy the pick's failure domains and the cheapest N + (K + 1)            planner.search.redundancy
    charts    the report's chart data                                             planner.analyses.charts, throughput
    procure   break-even VM prices, price sensitivity, build or buy per SKU      planner.analyses.breakeven, build_or_buy

Every stage reads one PlanContext (planner.search.context: the VMs, profiles, engine, error bands,
recipes and checkpoint table, loaded once by plan_context) and hands the next a named result:
layout_stage -> LayoutStage (layouts, latency), serve_stage -> ServeStage (serve to checkpoint).
"""

from __future__ import annotations

import pandas as pd

from ...catalog.calibration.multi_vm_runs import evidence_text
from ...catalog.hardware.prices import STALE_DAYS, stale
from ...catalog.hardware.serverless_tiers import serverless_price_for_region
from ...catalog.models import ModelSpec
from ...catalog.models.identity import model_ref
from ...deployment.steps import LAYOUT_COLUMNS, layout_latency
from ...errors import MoeprofError
from ..analyses.breakeven import add_break_even, price_sensitivity
from ..analyses.build_or_buy import build_or_buy
from ..analyses.charts import plan_charts
from ..analyses.throughput import price_tags
from ..analyses.verdict import attach_verdict
from ..document.plan import LAYOUT_KEYS, PlanDocument, PlanInputs, SkuBest
from ..document.targets import SearchSpace, Targets
from .bands import add_bands, band_sources, latency_edges
from .checkpoints import add_checkpoints, requantize_saving
from .context import LayoutStage, PlanContext, ServeStage, default_profiles, plan_context
from .cost import add_costs
from .layouts import memory_rows
from .rank import RANKING_RULE, closest_misses, per_sku_best, plan_rows, rank_feasible, rejections
from .redundancy import redundancy
from .relax import relax_targets
from .serve import serve_rows
from .verdicts import add_verdicts

__all__ = ["LayoutStage", "PlanContext", "ServeStage", "default_profiles", "evaluate", "evaluate_rows", "layout_stage",
           "plan", "plan_context", "plan_with", "serve_stage"]


def layout_stage(ctx: PlanContext) -> LayoutStage:
    """The memory rows and the step costs of the layouts that fit at the context's targets: what
    does not depend on the TTFT, TPOT and QPS targets."""
    t = ctx.targets
    mem = pd.DataFrame(memory_rows(ctx.model, ctx.vms, t, ctx.space, ctx.engine, ctx.recipes))
    if mem.empty:
        raise MoeprofError(f"no parallel layout of {ctx.model.name} is possible on {', '.join(ctx.vms)}")
    for col in ("sku", "gpu", "quant", "kv_dtype", "memory_kind"):  # few distinct names: categorical codes
        mem[col] = pd.Categorical(mem[col])
    fits = mem[mem.memory_kind == ""]
    layouts = fits.drop_duplicates(list(LAYOUT_KEYS))[LAYOUT_COLUMNS]
    lat = (layout_latency(ctx.model, ctx.vms, layouts, t, ctx.space.routing_skew, ctx.profiles, ctx.engine, ctx.recipes)
           if len(layouts) else None)
    return LayoutStage(mem, lat)


def serve_stage(ctx: PlanContext, layout: LayoutStage) -> ServeStage:
    """The layouts at the context's TTFT, TPOT and QPS targets: serving, error bands, costs,
    verdicts, then the checkpoint gate (planner.search.checkpoints)."""
    t = ctx.targets
    rows, load = serve_rows(layout.memory, layout.latency, ctx.vms, t, ctx.space.max_vms, ctx.engine, latency_edges(ctx.bands))
    rows = add_bands(rows, ctx.vms, ctx.bands, t)
    rows = add_costs(rows, ctx.vms, t, ctx.profiles, load)
    rows = add_verdicts(rows, t)
    rows, requantize = add_checkpoints(rows, ctx.checkpoints, ctx.model.name, ctx.space.allow_requantize)
    return ServeStage(rows, requantize)


def evaluate(ctx: PlanContext) -> pd.DataFrame:
    """Every configuration of the context's search space as one DataFrame row, with its verdict and checkpoint."""
    return serve_stage(ctx, layout_stage(ctx)).rows


def evaluate_rows(model: ModelSpec, targets: Targets, space: SearchSpace, vms: dict, profiles: dict, engine,
                  bands: dict | None = None) -> pd.DataFrame:
    """evaluate() of the context of these VMs as given (no price list read), profiles and engine;
    `bands` None: each GPU's own."""
    return evaluate(plan_context(model, targets, space, profiles=profiles, engine=engine, vms=vms).with_bands(bands))


def plan(model: ModelSpec, targets: Targets, space: SearchSpace | None = None, vm_file: str | None = None,
         prices: dict | None = None, profiles: dict | None = None, engine=None, pricing: str = "payg",
         region: str | None = None, token_price=None, overhead=None, price_table: dict | None = None) -> PlanDocument:
    """`token_price`: the serverless per-token price build-or-buy compares with (catalog.hardware.serverless.TokenPrice);
    None: Azure AI Foundry's price of the model, where the price list has one. `overhead`: the costs beside the VMs
    (catalog.hardware.overheads.OverheadSpec; None: the shipped defaults) in the verdict and build or buy.
    `price_table`: a price file's table (`--price-file`) instead of the shipped VM prices. The rest builds the
    PlanContext (planner.search.context.plan_context)."""
    ctx = plan_context(model, targets, space, vm_file, prices, profiles, engine, pricing, region, price_table)
    return plan_with(ctx, token_price, overhead)


def plan_with(ctx: PlanContext, token_price=None, overhead=None) -> PlanDocument:
    """The plan of a PlanContext (plan()'s `token_price` and `overhead`)."""
    model, targets, space, vms, profiles, engine = ctx.model, ctx.targets, ctx.space, ctx.vms, ctx.profiles, ctx.engine
    layout = layout_stage(ctx)
    served = serve_stage(ctx, layout)
    rows = served.rows
    ranked = rank_feasible(rows, recipes=ctx.recipes)
    sources = _sources(ctx)
    sources["error_band"] = band_sources(ctx.bands)
    recommended, alternatives = None, []
    if len(ranked):
        recommended = plan_rows(ranked.head(1))[0]
        recommended.sources = sources
        recommended.notes = [] if ctx.checkpoints.get(recommended.quant) is not None else [
            f"no published {recommended.quant} checkpoint of {model.name}: the deployment needs weights of your own"]
        alternatives = plan_rows(ranked.drop_duplicates(list(LAYOUT_KEYS)).iloc[1:11])
    rejected, counts = rejections(rows, ranked)
    closest = closest_misses(rows, targets) if recommended is None else []
    relaxations = []
    if recommended is None:
        fits = layout.fitting()  # the rest is never feasible: the relaxations serve only these
        relaxations = relax_targets(
            rows, targets, ctx.recipes, serve=lambda t: serve_stage(ctx.at(t), fits).rows,
            search=lambda t: serve_stage(ctx.at(t), layout_stage(ctx.at(t)).fitting()).rows,
        )
    per_sku = add_break_even(per_sku_best(rows, ranked, rejected), recommended)
    per_sku += [SkuBest(k, None, why) for k, why in ctx.choice.unpriced.items()]
    charts = plan_charts(model, vms, targets, space.routing_skew, profiles, engine, recommended, alternatives,
                         closest, per_sku, layout.latency, recipes=ctx.recipes)
    charts.prices = price_tags(vms, ctx.pricing)
    charts.price_sensitivity = price_sensitivity(recommended, per_sku)
    charts.build_or_buy = build_or_buy(token_price or serverless_price_for_region(model.hf_id, ctx.region), per_sku, targets.qps,
                                       targets.input_tokens, targets.output_tokens)
    inputs = PlanInputs(
        model=model_ref(model), model_name=model.name, hf_id=model.hf_id, input_tokens=targets.input_tokens, output_tokens=targets.output_tokens,
        context_tokens=targets.context_tokens, qps=targets.qps, ttft_ms=targets.ttft_ms, tpot_ms=targets.tpot_ms,
        percentile=targets.percentile, skus=list(space.skus) if space.skus else None,
        quants=list(space.quants) if space.quants else None, allow_requantize=space.allow_requantize, kv_dtypes=list(space.kv_dtypes),
        max_vms=space.max_vms, routing_skew=space.routing_skew, headroom=targets.headroom, redundancy=targets.redundancy,
        engine=f"{engine.engine} {engine.engine_version}",
        profiles={g: {"path": p.path, "source": p.source, "label": p.label} for g, p in profiles.items()},
    )
    doc = PlanDocument(
        inputs=inputs,
        recommended=recommended,
        alternatives=alternatives,
        rejected=rejected,
        rejected_counts=counts,
        closest=closest,
        feasible=plan_rows(ranked.drop_duplicates(list(LAYOUT_KEYS) + ["max_batch"])),
        configs_evaluated=len(rows),
        warnings=([ctx.choice.note] if ctx.choice.note else []) + _warnings(ctx) + (
            [f"{model.name} has no published checkpoint that loads as any recipe (moeprof/data/checkpoints): nothing is "
             "deployable without weights of your own; --allow-requantize plans it as if you had them"]
            if not space.allow_requantize and all(c is None for c in ctx.checkpoints.values()) else []),
        sources=sources,
        per_sku=per_sku,
        charts=charts,
        ranking_rule=RANKING_RULE,
        relaxations=relaxations,
        requantize=_requantize(served.requantize, ctx.recipes, recommended),
        redundancy=redundancy(ranked, recommended, targets) if recommended is not None else None,
    )
    attach_verdict(doc, overhead, ctx.pricing, model.hf_id)  # planner.analyses.verdict: build or buy, with the overheads
    return doc


def _requantize(candidates: pd.DataFrame, recipes: dict, recommended):
    """The cheapest row rejected only for its missing checkpoint, against the pick (a line of the plan)."""
    if not len(candidates):
        return None
    best = plan_rows(rank_feasible(candidates.assign(feasible=True), recipes=recipes).head(1))[0]
    return requantize_saving(best, recommended, best.label())


def _warnings(ctx: PlanContext) -> list[str]:
    model, vms, profiles = ctx.model, ctx.vms, ctx.profiles
    out = [f"{k}: price is an ESTIMATE ({v.price.source})" for k, v in vms.items() if v.price.estimate]
    out += [f"{k}: price ${v.price.usd_per_hour:,.2f}/h ({v.price.region}) is dated {v.price.date!r}: undated or "
            f"older than {STALE_DAYS} days; check it or give --price-per-hour"
            for k, v in vms.items() if v.price.date != "user" and stale(v.price.date)]
    uncal = sorted({vm.gpu.key for vm in vms.values() if vm.gpu.key not in profiles or not profiles[vm.gpu.key].calibrated})
    if uncal:
        out.append(f"latency for {', '.join(uncal)} is not calibrated by a measured moeprof profile (published / datasheet figures)")
    if model.estimated_fields:
        out.append(f"{model.name}: config fields are estimates ({len(model.estimated_fields)} fields); see `moeprof models show {model.name}`")
    return out


def _sources(ctx: PlanContext) -> dict:
    model = ctx.model
    out = {
        "model": list(model.sources) or [model.source_path],
        "engine": ctx.engine.sources,
        "targets": ctx.targets.sources(model),
    }
    for k, vm in ctx.vms.items():
        p = ctx.profiles.get(vm.gpu.key)
        out[k] = {
            "price": vm.price.source,
            "price_estimate": vm.price.estimate,
            "gpu": vm.gpu.sources,
            "performance": p.label if p is not None else "datasheet ceilings x published efficiencies (moeprof/data/efficiency.json)",
            "wide_ep_evidence": evidence_text(vm.gpu.key, vm.gpus_per_vm),  # behind a wide-EP row's speed
        }
    return out
