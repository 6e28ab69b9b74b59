"""Throughput per GPU against tokens/s per user, the chart buyers read in InferenceX and
aiconfigurator: each SKU's best configuration run through `moeprof evaluate` (closed loop, the
plan's prompt and output lengths) as the users per replica double from 1 up to the sequences its
KV cache holds, with the blended $/M tokens at each point ($/h / input + output tokens per hour);
and each SKU's price in a few words (where and when it was read, and its status)."""

from __future__ import annotations

from dataclasses import replace

from ...catalog.hardware.prices import stale
from ...deployment.evaluate import Deployment, deployment_slots, evaluate, tail_label
from ...deployment.steps import step_costs
from ...errors import MoeprofError
from ..document.plan import PriceTag, SkuBest, ThroughputCurve
from ..document.targets import Targets


def concurrency_grid(slots: float) -> list[int]:
    """Users per replica: 1, 2, 4, ... up to the KV-bounded slots, the slots themselves last."""
    top = max(1, int(slots))
    grid = [1 << k for k in range(top.bit_length()) if 1 << k <= top]
    return grid if grid[-1] == top else grid + [top]


def throughput_curve(model, vm, r, targets: Targets, routing_skew: float, profile, engine,
                     recommended: bool, steps=None, recipe=None) -> ThroughputCurve:
    """`steps`: the search's step costs of r's layout (deployment.steps columns), so the sweep
    reuses them; None computes them. `recipe`: the QuantRecipe of r.quant (None: looked up)."""
    dep = Deployment(model=model, vm=vm, vms=r.vms, tp=r.tp, ep=r.ep, pp=r.pp, quant=r.quant, kv_dtype=r.kv_dtype,
                     engine=replace(engine, max_num_seqs=int(r.max_batch)), profile=profile, routing_skew=routing_skew,
                     recipe=recipe)
    slots, _ = deployment_slots(dep, targets.input_tokens, targets.output_tokens)
    per_replica = concurrency_grid(slots)
    pts = evaluate(dep, "concurrency", [c * dep.groups for c in per_replica], targets.input_tokens,
                   targets.output_tokens, targets.percentile, breakdown=False,
                   costs=None if steps is None else step_costs(steps, dep.engine))
    keep = [(c, p) for c, p in zip(per_replica, pts) if p["stable"]]
    if not keep:
        raise MoeprofError(f"{r.label()}: no stable operating point")
    return ThroughputCurve(
        sku=r.sku, label=r.label(short=True), row_key=list(r.key()), recommended=recommended,
        usd_per_hour=float(r.usd_per_hour),
        concurrency_per_replica=[float(c * dep.parallelism.dp) for c, _ in keep],  # wide EP: per group x groups
        tokens_per_s_per_user=[p["tokens_per_s_per_user"] for _, p in keep],
        output_tokens_per_s_per_gpu=[p["output_throughput_per_gpu"] for _, p in keep],
        usd_per_million_tokens=[r.usd_per_hour / (p["total_token_throughput"] * 3600.0) * 1e6 for _, p in keep],
        ttft_ms=[p[f"{tail_label(targets.percentile)}_ttft_ms"] for _, p in keep],
    )


def throughput_curves(model, vms, per_sku: list[SkuBest], recommended, targets: Targets, routing_skew: float,
                      profiles, engine, steps_of=lambda r: None, recipes: dict | None = None) -> list[ThroughputCurve]:
    """One curve per SKU with a best row; a row `evaluate` cannot take (wide EP across VMs) is left
    out, and when no curve is left the first reason is raised."""
    rec_key = recommended.key() if recommended is not None else None
    out, why = [], []
    for s in per_sku:
        if s.row is None:
            continue
        vm = vms[s.sku]
        try:
            out.append(throughput_curve(model, vm, s.row, targets, routing_skew, profiles.get(vm.gpu.key), engine,
                                        s.row.key() == rec_key, steps_of(s.row), (recipes or {}).get(s.row.quant)))
        except MoeprofError as e:
            why.append(f"{s.sku}: {e}")
    if not out and why:
        raise MoeprofError(why[0])
    return out


def price_status(price) -> str:
    """user, estimate, stale (read over STALE_DAYS ago), api (imported from the Retail Prices API by
    moeprof) or reported (a third party quoting the API): one of PRICE_STATUSES."""
    if price.date == "user":
        return "user"
    if price.estimate:
        return "estimate"
    if stale(price.date):
        return "stale"
    return "api" if getattr(price, "status", "") == "api" else "reported"


def price_tags(vms, pricing: str) -> list[PriceTag]:
    """Each SKU's price: a short label (pricing kind where the source names it, region, read date);
    the full source stays in the plan's sources."""
    out = []
    for k, vm in vms.items():
        p = vm.price
        if p.date == "user":
            label = "--price-per-hour (user)"
        else:
            kind = f"{pricing} " if p.source.startswith(f"{pricing} ") else ""
            label = f"{kind}{p.region}, read {p.date}"
        status = getattr(p, "status", "")
        who = status[len("reported by "):] if status.startswith("reported by ") else ""
        listed = p.date != "user" and p.source.startswith(f"{pricing} ")  # read from the dated price list
        out.append(PriceTag(k, float(p.usd_per_hour), label, str(p.date), price_status(p), who,
                            pricing if listed else "", str(p.region) if p.date != "user" else ""))
    return out
