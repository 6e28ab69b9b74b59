"""The build-or-buy verdict (planner.document.verdict.Verdict) of a plan with a pick and a
per-token price.

    buy      the per-token service at the plan's volume: tokens/month x blended $/M / 1e6
    build    the pick's VM bill + overheads (storage, egress, operations; or --overhead)
    flip     volume: build / blended $/M x 1e6 tokens/month (this configuration's cost, fixed; above
             its capacity more VMs are needed, so the service then costs less at any volume this
             configuration carries); VM price: the $/VM-h at which build = buy at the plan's volume,
             (buy - fixed overheads) / ((1 + share of compute) x VMs x 730 h)

Overheads by default (catalog.hardware.overheads, each with its source or marked an assumption):
    storage     ceil(one replica's weights / disk size) disks on every VM x $/disk-month
    egress      max(0, output tokens/month x bytes per token / 1e9 - free GB) x $/GB
    operations  share of the VM bill
"""

from __future__ import annotations

import math

from ...catalog.hardware.overheads import OverheadDefaults, OverheadSpec, overhead_defaults
from ...catalog.hardware.serverless_options import not_published, tier_options
from ...units import HOURS_PER_MONTH, GiB
from ..document.plan import PlanDocument
from ..document.rows import PlanRow
from ..document.verdict import OverheadItem, ServerlessOption, Verdict
from .build_or_buy import blended_usd_per_million, break_even_tokens_per_month, qps_of_tokens_per_month, tokens_per_month


def replica_weights_bytes(r: PlanRow) -> float:
    """Weights of one replica: weights per GPU x GPUs per replica (experts replicated over attention groups count once per GPU)."""
    return float(r.weights_bytes_per_gpu) * r.gpus / max(1, r.replicas)


def default_overheads(r: PlanRow, output_tokens_per_month: float, d: OverheadDefaults) -> list[OverheadItem]:
    disks = max(1, math.ceil(replica_weights_bytes(r) / (d.disk_gib * GiB)))
    storage = r.vms * disks * d.usd_per_disk_month
    gb = output_tokens_per_month * d.bytes_per_output_token / 1e9
    egress = max(0.0, gb - d.egress_free_gb_per_month) * d.egress_usd_per_gb
    ops = d.operations_share_of_compute * r.usd_per_month
    return [
        OverheadItem("storage", storage, f"{r.vms} VM x {disks} {d.disk_name} ({d.disk_gib:,.0f} GiB) for "
                     f"{replica_weights_bytes(r) / GiB:,.0f} GiB of weights x ${d.usd_per_disk_month:,.2f}/month", d.disk_source),
        OverheadItem("egress", egress, f"{output_tokens_per_month / 1e9:,.1f} B output tokens x {d.bytes_per_output_token:g} B "
                     f"= {gb:,.0f} GB, less {d.egress_free_gb_per_month:g} GB free, x ${d.egress_usd_per_gb:g}/GB",
                     f"{d.egress_source}; bytes per token: {d.bytes_per_output_token_source}"),
        OverheadItem("operations", ops, f"{d.operations_share_of_compute:.0%} of the VM bill", d.operations_source),
    ]


def overheads(r: PlanRow, output_tokens_per_month: float, spec: OverheadSpec, d: OverheadDefaults) -> tuple[list[OverheadItem], float, float]:
    """(items, fixed $/month, share of the VM bill) for the pick `r`."""
    if spec.share_of_compute is not None:
        return ([OverheadItem("given", spec.share_of_compute * r.usd_per_month, f"{spec.share_of_compute:.0%} of the VM bill",
                              "given with --overhead")], 0.0, spec.share_of_compute)
    if spec.usd_per_month is not None:
        return [OverheadItem("given", spec.usd_per_month, "USD per month", "given with --overhead")], spec.usd_per_month, 0.0
    items = default_overheads(r, output_tokens_per_month, d)
    fixed = sum(i.usd_per_month for i in items if i.name != "operations")
    return items, fixed, d.operations_share_of_compute


def add_overheads(doc: PlanDocument, spec: OverheadSpec, d: OverheadDefaults) -> None:
    """Each SKU's build-or-buy break-even volume with its overheads on the self-hosted side."""
    b, t = doc.charts.build_or_buy, doc.inputs
    if b is None:
        return
    rows = {s.sku: s.row for s in doc.per_sku if s.row is not None}
    out_tokens = t.qps * t.output_tokens * 3600 * HOURS_PER_MONTH
    for x in b.skus:
        r = rows.get(x.sku)
        if r is None:
            continue
        x.overhead_usd_per_month = sum(i.usd_per_month for i in overheads(r, out_tokens, spec, d)[0])
        x.break_even_tokens_per_month = break_even_tokens_per_month(
            x.usd_per_month + x.overhead_usd_per_month, t.input_tokens, t.output_tokens,
            b.usd_per_million_input_tokens, b.usd_per_million_output_tokens)
        x.break_even_qps = qps_of_tokens_per_month(x.break_even_tokens_per_month, t.input_tokens, t.output_tokens)


def verdict_text(decision: str, buy: float, build: float) -> str:
    ratio = max(buy, build) / max(min(buy, build), 1e-9)
    r = f"{ratio:.2f}x" if ratio < 1.1 else f"{ratio:.1f}x"  # a near tie keeps its second digit (1.02x, not 1.0x)
    if decision == "buy":
        return f"buy per token: ${buy:,.0f}/month vs ${build:,.0f}/month self-hosted ({r})"
    return f"self-host: ${build:,.0f}/month vs ${buy:,.0f}/month per token ({r})"


def make_verdict(doc: PlanDocument, spec: OverheadSpec, defaults: OverheadDefaults, pricing: str,
                 options: list | None = None, not_published: list[str] | None = None) -> Verdict | None:
    """Spot prices give none: a plan needs all its VMs up and a Spot VM may be evicted at any time (the CLI refuses a Spot pick).
    `options`: [(catalog TokenPrice, note)] for every per-token tier of the model (serverless_options.tier_options).
    None when the plan has no pick or no per-token price."""
    r, b = doc.recommended, doc.charts.build_or_buy
    if r is None or b is None or pricing == "spot":
        return None
    t = doc.inputs
    tag = next((p for p in doc.charts.prices if p.sku == r.sku), None)
    volume = tokens_per_month(t.qps, t.input_tokens, t.output_tokens)
    out_tokens = t.qps * t.output_tokens * 3600 * HOURS_PER_MONTH
    blended = b.blended_usd_per_million_tokens
    buy = volume * blended / 1e6
    items, fixed, share = overheads(r, out_tokens, spec, defaults)
    over = sum(i.usd_per_month for i in items)
    build = r.usd_per_month + over
    decision = "buy" if buy < build else "build"
    flip_vol = build / blended * 1e6
    cap = r.qps_capacity
    cap_tok = tokens_per_month(cap, t.input_tokens, t.output_tokens) if cap else None
    at_cap = build / cap_tok * 1e6 if cap_tok else None
    flip_price = (buy - fixed) / ((1 + share) * r.vms * HOURS_PER_MONTH)
    opts = []
    for p, note, applies in options or []:
        bl = blended_usd_per_million(t.input_tokens, t.output_tokens, p.usd_per_million_input, p.usd_per_million_output)
        opts.append(ServerlessOption(p.tier, p.usd_per_million_input, p.usd_per_million_output, bl, volume * bl / 1e6, p.date, note, applies))
    cfg = f"{r.vms} x {r.sku} ({r.gpus} GPUs): tp={r.tp} ep={r.ep} pp={r.pp} x {r.replicas} replicas, {r.quant} / KV {r.kv_dtype}"
    return Verdict(
        decision=decision, text=verdict_text(decision, buy, build), buy_usd_per_month=buy, build_usd_per_month=build,
        compute_usd_per_month=r.usd_per_month, overhead_usd_per_month=over, overhead_given=spec.text, overheads=items,
        ratio=max(buy, build) / max(min(buy, build), 1e-9), sku=r.sku, vms=int(r.vms), config=cfg,
        usd_per_vm_hour=r.usd_per_hour / r.vms, plan_qps=t.qps, plan_tokens_per_month=volume, blended_usd_per_million_tokens=blended,
        flip_tokens_per_month=flip_vol, flip_qps=qps_of_tokens_per_month(flip_vol, t.input_tokens, t.output_tokens),
        capacity_tokens_per_month=cap_tok, capacity_qps=float(cap) if cap else None, self_hosted_usd_per_million_at_capacity=at_cap,
        flip_usd_per_vm_hour=flip_price if flip_price > 0 else None,
        pricing=(tag.pricing if tag is not None and tag.pricing else ("user" if tag is not None and tag.date == "user" else pricing)),
        region=(tag.region if tag is not None and tag.region else "not stated"),
        price_date=tag.date if tag is not None else "not stated", price_status=tag.status if tag is not None else "not stated",
        serverless_provider=b.provider.split(" (")[0], serverless_tier=b.tier or "tier not stated", serverless_model=b.model,
        serverless_date=b.date, serverless_source=b.source, options=opts, not_published=list(not_published or []),
    )


def attach_verdict(doc: PlanDocument, spec: OverheadSpec | None, pricing: str, hf_id: str | None) -> None:
    """doc.verdict from the plan's pick and per-token price (None without them, or under spot), and each SKU's
    build-or-buy break-even with its overheads; `spec` None: the shipped defaults."""
    spec = spec or OverheadSpec()
    d = overhead_defaults()
    add_overheads(doc, spec, d)
    r = doc.recommended
    tag = next((p for p in doc.charts.prices if r is not None and p.sku == r.sku), None)
    region = tag.region if tag is not None and tag.region else None
    doc.verdict = make_verdict(doc, spec, d, pricing, tier_options(hf_id, region), not_published(hf_id))
