"""The planning policy of `moeprof plan` / `compare` and `moeprof.plan()` / `compare()`: the target
context from the model, the search space from the options, the profiles given, the engine version,
the notes said about each default, then the search (planner.plan) and the traffic plan of the pick."""

from __future__ import annotations

import time

from ...catalog.engine import load_engine
from ...catalog.hardware.overheads import parse_overhead
from ...catalog.hardware.price_file import check_price_file
from ...catalog.hardware.vms import load_vms
from ...catalog.models import load_model
from ...catalog.models.identity import model_ref
from ...catalog.models.quant import KV_DTYPES
from ...catalog.targets import model_target_defaults, target_defaults, workload_kind
from ...deployment.evaluate import engine_for
from ...errors import ConfigError, FlagError, MoeprofError
from ...fileio import json_safe
from ...planner import PlanDocument, SearchSpace, Targets, plan_context
from ...planner import plan_with as search_plan
from ...planner.analyses.traffic import traffic_plan
from ...planner.analyses.traffic_prices import vm_rates
from ...planner.document.traffic_file import TrafficProfile
from ...profile import load_profile_or_shipped
from .options import comma_list, price_overrides
from .options import token_price as parse_token_price
from .pricing import reservation_notes


def read_price_file(path: str) -> dict:
    """--price-file: a price file's {SKU: {kind: [entry, ...]}}, every entry checked (one-line error otherwise)."""
    from ...inputs import read_json_file

    return check_price_file(read_json_file(path, "price file"), path)


def plan_document(model_name, context, input_tokens, output_tokens, qps, ttft_ms, tpot_ms, percentile, headroom, skus,
                  quants, kv_dtypes, max_vms, routing_skew, prices, vm_file, pricing, region, profile_paths,
                  token_price=None, engine_version=None, allow_requantize=False, redundancy: int = 0, overhead=None,
                  price_file=None):
    """(model, PlanDocument, search seconds) for the options of `moeprof plan` (converted and bounded);
    input and output tokens None: the model's workload (a reasoning model's long output)."""
    defaults = target_defaults()
    model = load_model(model_name)
    table = read_price_file(price_file) if price_file else None
    user_price = parse_token_price(token_price, model)
    overhead_spec = parse_overhead(overhead)
    notes = []
    mine = model_target_defaults(model_ref(model), model.name)[0]
    if workload_kind(model_ref(model)) and (input_tokens is None or output_tokens is None):
        notes.append(f"workload {mine['input_tokens']:,} in + {mine['output_tokens']:,} out tokens per request: {model.name} is a "
                     "reasoning model, planned with a long-output workload (moeprof/data/targets.json; --input-tokens, --output-tokens)")
    input_tokens = mine["input_tokens"] if input_tokens is None else input_tokens
    output_tokens = mine["output_tokens"] if output_tokens is None else output_tokens
    if context is None:
        context = min(defaults["context_tokens"], model.max_position_embeddings)
        if context < defaults["context_tokens"]:
            notes.append(f"target context {context:,} tokens: {model.name}'s maximum (max_position_embeddings), below the "
                         f"default {defaults['context_tokens']:,}")
    elif context > model.max_position_embeddings:
        raise FlagError("--context", f"{context:,} tokens exceeds {model.name}'s maximum context "
                                     f"{model.max_position_embeddings:,}")
    targets = Targets.defaults(
        input_tokens=input_tokens, output_tokens=output_tokens, context_tokens=context, qps=qps,
        ttft_ms=ttft_ms, tpot_ms=tpot_ms, percentile=percentile, headroom=headroom, redundancy=redundancy,
    )
    kv = comma_list(kv_dtypes) or tuple(KV_DTYPES)
    bad = [k for k in kv if k not in KV_DTYPES]
    if bad:
        raise FlagError("--kv-dtype", f"unknown KV dtype {bad[0]!r} (known: {', '.join(KV_DTYPES)})")
    space = SearchSpace(skus=comma_list(skus), quants=comma_list(quants), kv_dtypes=kv, max_vms=max_vms,
                        routing_skew=routing_skew, allow_requantize=allow_requantize)
    t0 = time.perf_counter()
    engine = engine_for(load_engine(), "vllm", 0.0, engine_version)
    ctx = plan_context(model, targets, space, vm_file, price_overrides(prices), None, engine, pricing, region, table)
    if profile_paths:  # the VMs the plan searches, loaded once (planner.search.context)
        mine = {}
        for p in profile_paths:
            prof = load_profile_or_shipped(p)
            if prof.gpu not in ctx.gpus:
                raise FlagError("--profile", f"{p} is a profile of GPU {prof.gpu!r}, which no VM SKU has "
                                             f"(GPUs: {', '.join(ctx.gpus)})")
            mine[prof.gpu] = prof
        ctx = ctx.with_profiles(mine)
    doc = search_plan(ctx, token_price=user_price, overhead=overhead_spec)
    if engine_version is None:
        notes.append(f"engine {engine.engine} {engine.engine_version}: the newest version the data covers (--engine-version)")
    doc.warnings[:0] = notes
    doc.warnings += reservation_notes(doc, pricing, table)
    return model, doc, time.perf_counter() - t0


def add_traffic(doc: PlanDocument, profile: TrafficProfile, min_units: int, vm_file, prices, pricing: str, region,
                skus) -> None:
    """doc.traffic for the recommended row (nothing when no row met the targets)."""
    r = doc.recommended
    if r is None:
        doc.warnings.append(f"--traffic {profile.path}: no configuration met the targets, so there is no pick to scale")
        return
    vm = load_vms(vm_file, price_overrides(prices), pricing, region, comma_list(skus))[r.sku]
    doc.traffic = traffic_plan(profile, r, vm.gpus_per_vm, vm_rates(vm, pricing), doc.inputs.qps, min_units)


def check_readable(doc: PlanDocument) -> None:
    """A plan moeprof writes, moeprof can read: the document goes through its own reader (finite
    values within its bounds) before it is printed or saved, else the command refuses its inputs.
    json_safe's output is what json.loads gives back for its json.dumps (str keys, lists, finite
    floats or None), so the text round trip itself is not repeated here."""
    try:
        PlanDocument.from_json(json_safe(doc.to_json()), "<plan>")
    except ConfigError as e:
        raise MoeprofError(f"these inputs give a plan outside what a plan can hold ({e.field}: {e.problem}); "
                           "check --token-price, --price-per-hour, --vm-file and the targets") from None
