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
"""

from __future__ import annotations

import pandas as pd

from ...catalog.calibration.multi_vm_runs import evidence_text
from ...catalog.engine import load_engine
from ...catalog.hardware.prices import STALE_DAYS, stale
from ...catalog.hardware.serverless_tiers import serverless_price_for_region
from ...catalog.hardware.vms import load_priced_vms
from ...catalog.models import ModelSpec
from ...catalog.models.identity import model_ref
from ...catalog.models.quant import load_recipes
from ...deployment.evaluate import engine_for
from ...deployment.steps import LAYOUT_COLUMNS, layout_latency
from ...errors import MoeprofError, UnknownNameError
from ...profile import default_profile_for
from ..analyses.breakeven import add_break_even, price_sensitivity
from ..analyses.build_or_buy import build_or_buy
from ..analyses.charts import plan_charts
from ..analyses.throughput import price_tags
from ..analyses.verdict import attach_verdict
from ..document.plan import LAYOUT_KEYS, PlanDocument, PlanInputs, SkuBest
from ..document.targets import SearchSpace, Targets
from .bands import add_bands, band_sources, gpu_bands, latency_edges
from .checkpoints import add_checkpoints, checkpoint_table, requantize_saving
from .cost import add_costs
from .layouts import memory_rows
from .rank import RANKING_RULE, closest_misses, per_sku_best, plan_rows, rank_feasible, rejections
from .redundancy import redundancy
from .relax import relax_targets
from .serve import serve_rows
from .verdicts import add_verdicts


def default_profiles(vms) -> dict:
    """The shipped profile of each VM's GPU (measured preferred), where one exists."""
    out = {}
    for vm in vms.values():
        p = default_profile_for(vm.gpu.key)
        if p is not None:
            out[vm.gpu.key] = p
    return out


def _select_vms(space: SearchSpace, vm_file, prices, pricing: str = "payg", region: str | None = None, table=None):
    """(VMs of the search, the RegionChoice): a SKU with no price in the region is left out with
    its reason; an error only when no SKU is left."""
    all_vms, choice = load_priced_vms(vm_file, prices, pricing, region, space.skus, table)
    if space.skus:
        unknown = [s for s in space.skus if s not in all_vms and s not in choice.unpriced]
        if unknown:
            raise UnknownNameError("VM SKU", unknown[0], list(all_vms) + list(choice.unpriced))
        all_vms = {k: all_vms[k] for k in space.skus if k in all_vms}
    if not all_vms:
        raise MoeprofError("no VM SKU has a price: " + "; ".join(choice.reasons()))
    return all_vms, choice


def layout_stage(model: ModelSpec, targets: Targets, space: SearchSpace, vms: dict, profiles: dict, engine):
    """(memory rows, step costs of the layouts that fit): what does not depend on the TTFT, TPOT
    and QPS targets."""
    mem = pd.DataFrame(memory_rows(model, vms, targets, space, engine))
    if mem.empty:
        raise MoeprofError(f"no parallel layout of {model.name} is possible on {', '.join(vms)}")
    for col in ("sku", "gpu", "quant", "kv_dtype", "memory_kind"):  # few distinct names: categorical codes
        mem[col] = pd.Categorical(mem[col])
    fits = mem[mem.memory_kind == ""]
    layouts = fits.drop_duplicates(list(LAYOUT_KEYS))[LAYOUT_COLUMNS]
    lat = layout_latency(model, vms, layouts, targets, space.routing_skew, profiles, engine) if len(layouts) else None
    return mem, lat


def serve_stage(mem, lat, targets: Targets, space: SearchSpace, vms: dict, profiles: dict, engine,
                bands: dict | None = None) -> pd.DataFrame:
    """The layouts at the TTFT, TPOT and QPS targets: serving, costs, verdicts."""
    bands = bands if bands is not None else gpu_bands(vms, profiles)
    rows = serve_rows(mem, lat, vms, targets, space.max_vms, engine, latency_edges(bands))
    rows = add_bands(rows, vms, bands, targets)
    rows = add_costs(rows, vms, targets, profiles)
    return add_verdicts(rows, targets)


def evaluate_rows(model: ModelSpec, targets: Targets, space: SearchSpace, vms: dict, profiles: dict, engine,
                  bands: dict | None = None) -> pd.DataFrame:
    """Every configuration of the search space as one DataFrame row, with its verdict and checkpoint."""
    mem, lat = layout_stage(model, targets, space, vms, profiles, engine)
    rows = serve_stage(mem, lat, targets, space, vms, profiles, engine, bands)
    table = checkpoint_table(model, load_recipes(model), engine)
    return add_checkpoints(rows, table, model.name, space.allow_requantize)[0]


def plan(model: ModelSpec, targets: Targets, space: SearchSpace | None = None, vm_file: str | None = None,
         prices: dict | None = None, profiles: dict | None = None, engine=None, pricing: str = "payg",
         region: str | None = None, token_price=None, overhead=None, price_table: dict | None = None) -> PlanDocument:
    """`token_price`: the serverless per-token price build-or-buy compares with (catalog.hardware.serverless.TokenPrice);
    None: Azure AI Foundry's price of the model, where the price list has one. `overhead`: the costs beside the VMs
    (catalog.hardware.overheads.OverheadSpec; None: the shipped defaults) in the verdict and build or buy.
    `price_table`: a price file's table (`--price-file`) instead of the shipped VM prices."""
    space = space or SearchSpace()
    engine = engine or engine_for(load_engine(), "vllm", 0.0)
    vms, choice = _select_vms(space, vm_file, prices, pricing, region, price_table)
    if space.quants:
        recipes = load_recipes(model)
        for q in space.quants:
            if q not in recipes:
                raise UnknownNameError("quantization recipe", q, recipes)
    profiles = profiles if profiles is not None else default_profiles(vms)

    bands = gpu_bands(vms, profiles)
    table = checkpoint_table(model, load_recipes(model), engine)

    def gate(r: pd.DataFrame) -> pd.DataFrame:
        return add_checkpoints(r, table, model.name, space.allow_requantize)[0]

    mem, lat = layout_stage(model, targets, space, vms, profiles, engine)
    rows, requant = add_checkpoints(serve_stage(mem, lat, targets, space, vms, profiles, engine, bands), table, model.name,
                                    space.allow_requantize)
    ranked = rank_feasible(rows, model)
    sources = _sources(model, vms, profiles, engine, targets)
    sources["error_band"] = band_sources(bands)
    recommended, alternatives = None, []
    if len(ranked):
        recommended = plan_rows(ranked.head(1))[0]
        recommended.sources = sources
        recommended.notes = [] if table.get(recommended.quant) is not None else [
            f"no published {recommended.quant} checkpoint of {model.name}: the deployment needs weights of your own"]
        alternatives = plan_rows(ranked.drop_duplicates(list(LAYOUT_KEYS)).iloc[1:11])
    rejected, counts = rejections(rows, ranked)
    closest = closest_misses(rows, targets) if recommended is None else []
    relaxations = []
    if recommended is None:
        fits = mem[mem.memory_kind == ""]  # the rest is never feasible: the relaxations serve only these

        def search_fits(t: Targets) -> pd.DataFrame:
            m, la = layout_stage(model, t, space, vms, profiles, engine)
            return gate(serve_stage(m[m.memory_kind == ""], la, t, space, vms, profiles, engine, bands))

        relaxations = relax_targets(
            rows, targets, model, serve=lambda t: gate(serve_stage(fits, lat, t, space, vms, profiles, engine, bands)),
            search=search_fits,
        )
    per_sku = add_break_even(per_sku_best(rows, ranked, rejected), recommended)
    per_sku += [SkuBest(k, None, why) for k, why in choice.unpriced.items()]
    charts = plan_charts(model, vms, targets, space.routing_skew, profiles, engine, recommended, alternatives,
                         closest, per_sku, lat)
    charts.prices = price_tags(vms, pricing)
    charts.price_sensitivity = price_sensitivity(recommended, per_sku)
    charts.build_or_buy = build_or_buy(token_price or serverless_price_for_region(model.hf_id, region), per_sku, targets.qps, targets.input_tokens,
                                       targets.output_tokens)
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
        warnings=([choice.note] if choice.note else []) + _warnings(model, vms, profiles) + (
            [f"{model.name} has no published checkpoint that loads as any recipe (moeprof/data/checkpoints): nothing is "
             "deployable without weights of your own; --allow-requantize plans it as if you had them"]
            if not space.allow_requantize and all(c is None for c in table.values()) else []),
        sources=sources,
        per_sku=per_sku,
        charts=charts,
        ranking_rule=RANKING_RULE,
        relaxations=relaxations,
        requantize=_requantize(requant, model, recommended),
        redundancy=redundancy(ranked, recommended, targets) if recommended is not None else None,
    )
    attach_verdict(doc, overhead, pricing, model.hf_id)  # planner.analyses.verdict: build or buy, with the overheads
    return doc


def _requantize(candidates: pd.DataFrame, model: ModelSpec, recommended):
    """The cheapest row rejected only for its missing checkpoint, against the pick (a line of the plan)."""
    if not len(candidates):
        return None
    best = plan_rows(rank_feasible(candidates.assign(feasible=True), model).head(1))[0]
    return requantize_saving(best, recommended, best.label())


def _warnings(model, vms, profiles) -> list[str]:
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


def _sources(model, vms, profiles, engine, targets: Targets) -> dict:
    out = {
        "model": list(model.sources) or [model.source_path],
        "engine": engine.sources,
        "targets": targets.sources(model),
    }
    for k, vm in vms.items():
        p = profiles.get(vm.gpu.key)
        out[k] = {
            "price": vm.price.source,
            "price_estimate": vm.price.estimate,
            "gpu": vm.gpu.sources,
            "performance": p.label if p is not None else "datasheet ceilings x published efficiencies (moeprof/data/efficiency.json)",
            "wide_ep_evidence": evidence_text(vm.gpu.key, vm.gpus_per_vm),  # behind a wide-EP row's speed
        }
    return out
